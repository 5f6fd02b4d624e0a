//! The browser UI: shell, layout and pages. Rendered on the server, hydrated in the browser.

mod account;
mod admin;
mod archive;
mod audit_page;
mod auth_pages;
mod blockers;
mod calendar_feeds;
pub mod charts;
mod dossier_page;
pub(crate) mod enhance;
mod environments;
mod evidence;
mod golive;
mod layout;
mod log_viewer;
mod notifications_page;
mod outbox_page;
mod release_page;
pub(crate) mod releases;
mod sign_page;
mod status;
mod templates;

use crate::domain::account::UserInfo;
use crate::i18n::Lang;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};
use serde::{Deserialize, Serialize};

/// What the server knows about the request that the page needs from its first render:
/// who is signed in and in which language to speak. The server writes it into the page,
/// the browser reads it back before hydrating, so both render the same thing.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Boot {
    pub user: Option<UserInfo>,
    pub lang: Lang,
}

#[cfg(any(feature = "ssr", feature = "hydrate"))]
const BOOT_META: &str = "shipgate-boot";

impl Boot {
    #[cfg(feature = "ssr")]
    fn from_request() -> Boot {
        let parts = use_context::<http::request::Parts>();
        let lang = parts
            .as_ref()
            .map(|p| crate::i18n::request_lang(&p.headers))
            .unwrap_or_default();
        let user = parts
            .as_ref()
            .and_then(|p| p.extensions.get::<crate::domain::account::CurrentUser>())
            .map(|c| c.user.clone());
        Boot { user, lang }
    }

    #[cfg(feature = "hydrate")]
    pub fn from_document() -> Boot {
        document()
            .query_selector(&format!("meta[name={BOOT_META}]"))
            .ok()
            .flatten()
            .and_then(|m| m.get_attribute("content"))
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }
}

/// The request's person and language: from the context the server provides, or (inside an
/// island in the browser, which has no such context) from the page the server wrote.
fn use_boot() -> Boot {
    use_context::<Boot>().unwrap_or_else(boot_of_page)
}

#[cfg(feature = "hydrate")]
fn boot_of_page() -> Boot {
    Boot::from_document()
}

#[cfg(not(feature = "hydrate"))]
fn boot_of_page() -> Boot {
    Boot::default()
}

pub fn use_lang() -> Lang {
    use_boot().lang
}

pub fn use_user() -> Option<UserInfo> {
    use_boot().user
}

#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let boot = Boot::from_request();
    let boot_json = serde_json::to_string(&boot).unwrap_or_default();
    let lang = boot.lang.code();
    provide_context(boot);
    set_page_csp();
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name=BOOT_META content=boot_json/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" id="leptos" href=stylesheet_href(&options)/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The bundle's stylesheet. Release builds name it by its content hash (cargo-leptos
/// `hash-files`, listed in `hash.txt` beside the server binary) so browsers may keep it.
#[cfg(feature = "ssr")]
fn stylesheet_href(options: &LeptosOptions) -> String {
    static HREF: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HREF.get_or_init(|| {
        let name = options.output_name.to_string();
        let hash = options
            .hash_files
            .then(|| bundle_hash("css", &options.hash_file))
            .flatten();
        match hash {
            Some(h) => format!("/{}/{name}.{h}.css", options.site_pkg_dir),
            None => format!("/{}/{name}.css", options.site_pkg_dir),
        }
    })
    .clone()
}

/// One entry (`js`, `wasm`, `css`) of the hash file beside the running binary.
#[cfg(feature = "ssr")]
pub fn bundle_hash(kind: &str, hash_file: &str) -> Option<String> {
    let dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let text = std::fs::read_to_string(dir.join(hash_file)).ok()?;
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == kind).then(|| v.trim().to_string())
    })
}

/// The Content-Security-Policy of a page: scripts only from Shipgate itself, the one inline
/// hydration script by this response's nonce, WebAssembly compiled by the browser
/// (`wasm-unsafe-eval`, nothing else eval-like), no framing, no plugins, no foreign forms.
#[cfg(feature = "ssr")]
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; \
         report-uri /csp-report"
    )
}

/// Every page is rendered through the shell, so the policy naming this response's nonce
/// is set here (routes, the not-found fallback and error pages alike).
#[cfg(feature = "ssr")]
fn set_page_csp() {
    let (Some(nonce), Some(resp)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&page_csp(&nonce)) {
        resp.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = use_lang();
    view! {
        <Title formatter=page_title/>
        <Router>
            <layout::Shell>
                <Routes fallback=move || view! { <NotFound lang/> }>
                    <Route path=path!("/") view=releases::ReleasesPage ssr=SsrMode::Async/>
                    <Route path=path!("/releases") view=releases::ReleasesPage ssr=SsrMode::Async/>
                    <Route path=path!("/releases/new") view=releases::NewReleasePage/>
                    <Route path=path!("/releases/:id") view=release_page::ReleasePage ssr=SsrMode::Async/>
                    <Route path=path!("/releases/:id/sign") view=sign_page::SignPage ssr=SsrMode::Async/>
                    <Route path=path!("/releases/:id/dossier") view=dossier_page::DossierPage ssr=SsrMode::Async/>
                    <Route path=path!("/releases/:id/evidence/:evidence") view=log_viewer::LogViewerPage ssr=SsrMode::Async/>
                    <Route path=path!("/status") view=status::StatusPage ssr=SsrMode::Async/>
                    <Route path=path!("/status/public") view=status::PublicStatusPage ssr=SsrMode::Async/>
                    <Route path=path!("/archive") view=archive::ArchivePage ssr=SsrMode::Async/>
                    <Route path=path!("/delivery") view=archive::DeliveryPage ssr=SsrMode::Async/>
                    <Route path=path!("/environments") view=environments::EnvironmentsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=admin::AdminUsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/templates") view=templates::TemplatesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=audit_page::AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/outbox") view=outbox_page::OutboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=account::AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/notifications") view=notifications_page::NotificationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=auth_pages::LoginPage/>
                    <Route path=path!("/register") view=auth_pages::RegisterPage/>
                </Routes>
            </layout::Shell>
        </Router>
    }
}

/// The document title for a page's own title. leptos_meta writes the title into the
/// server-rendered `<head>` without escaping it, and page titles carry release titles and
/// file names people typed, so the server escapes here. In the browser the title is set as
/// `document.title`, which is text already.
fn page_title(page: String) -> String {
    let title = if page.is_empty() {
        "Shipgate".to_string()
    } else {
        format!("{page} · Shipgate")
    };
    if cfg!(feature = "ssr") {
        escape_html_text(&title)
    } else {
        title
    }
}

/// Escapes text for an HTML text or double-quoted attribute position.
pub fn escape_html_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[component]
fn NotFound(lang: Lang) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=lang.pick("Not found", "Nicht gefunden")/>
        <section class="card">
            <h1>{lang.pick("Page not found", "Seite nicht gefunden")}</h1>
            <p><a href="/releases">{lang.pick("Back to the releases", "Zurück zu den Releases")}</a></p>
        </section>
    }
}
