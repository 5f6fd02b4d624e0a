#![recursion_limit = "256"]
//! Shipgate's Leptos crate: the UI, the shared domain, server functions and, on the
//! server, the services they call.

pub mod domain;
pub mod i18n;
pub mod server_fns;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod state;

#[cfg(feature = "ssr")]
pub use ui::shell;
pub use ui::App;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    use leptos::prelude::*;
    console_error_panic_hook::set_once();
    let boot = ui::Boot::from_document();
    leptos::mount::hydrate_body(move || {
        provide_context(boot);
        view! { <App/> }
    });
    // Lets browser tests (and curious operators) see that the page is interactive.
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
