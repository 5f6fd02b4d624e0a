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

/// The browser entry: pages are rendered on the server; only the islands (`#[island]`
/// components: the form enhancer, uploads, countdowns, the live status, the lightbox) are
/// hydrated, each from its own serialized props. The enhancer, last in the page, marks the
/// document `data-hydrated` once every island before it is interactive.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
