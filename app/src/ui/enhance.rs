//! Progressive enhancement of the server-rendered forms. Every page is plain HTML whose
//! forms post to server functions; without JavaScript the browser posts and the server
//! redirects back (a refusal travels in the URL). In the browser this one island sends such
//! forms in the background instead: a refusal is shown at the form and nothing typed is
//! lost; on success the page loads again (or follows the server's redirect), so it shows
//! the new state and empty forms.
//!
//! A form may ask for a note after success that survives the reload: `data-ok` (the text,
//! rendered in the reader's language), `data-ok-field` (an input whose value is appended)
//! and `data-ok-secret` (a field of the JSON answer shown once, e.g. a new token's secret;
//! `data-ok-secret-id` names its `data-testid`).
//! A form with `data-stay` is not reloaded: its note shows at once and the form is reset,
//! so a secret is never kept in the browser's storage.

use leptos::prelude::*;

/// Placed last in the page: when it hydrates, every island before it has.
#[island]
pub fn Enhancer() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    browser::install();
}

#[cfg(feature = "hydrate")]
mod browser {
    use crate::i18n::Lang;
    use crate::server_fns::Refusal;
    use crate::ui::use_lang;
    use serde::{Deserialize, Serialize};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{Document, Element, HtmlFormElement, SubmitEvent, XmlHttpRequest};

    const FLASH_KEY: &str = "shipgate-flash";

    /// What a successful form leaves for the next page load.
    #[derive(Serialize, Deserialize, Default)]
    struct Flash {
        text: String,
        secret: Option<String>,
        /// The secret's `data-testid` (`data-ok-secret-id`; `new-token` when unnamed).
        #[serde(default)]
        secret_id: Option<String>,
    }

    fn document() -> Option<Document> {
        web_sys::window().and_then(|w| w.document())
    }

    pub fn install() {
        let Some(doc) = document() else { return };
        let on_submit = Closure::<dyn FnMut(SubmitEvent)>::new(on_submit);
        let _ = doc.add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        on_submit.forget();
        show_flash(&doc);
        if let Some(root) = doc.document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    }

    /// Server-function forms only: not uploads (their own island), not the plain
    /// `/auth/*` and `/lang` endpoints, and not forms that opt out.
    fn action_of(form: &HtmlFormElement) -> Option<String> {
        if !form.method().eq_ignore_ascii_case("post")
            || form.enctype().eq_ignore_ascii_case("multipart/form-data")
            || form.has_attribute("data-native")
        {
            return None;
        }
        let url = web_sys::Url::new(&form.action()).ok()?;
        let path = url.pathname();
        (path.starts_with("/api/") && !path.starts_with("/api/v1/"))
            .then(|| format!("{path}{}", url.search()))
    }

    fn on_submit(ev: SubmitEvent) {
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
        else {
            return;
        };
        let Some(action) = action_of(&form) else {
            return;
        };
        if ev.default_prevented() {
            return;
        }
        ev.prevent_default();
        if form.get_attribute("aria-busy").as_deref() == Some("true") {
            return;
        }
        let Ok(data) = web_sys::FormData::new_with_form(&form) else {
            return;
        };
        // The button that was pressed carries a value too (Sign GO / Sign NO-GO).
        if let Some(button) = ev.submitter() {
            if let Some(name) = button.get_attribute("name").filter(|n| !n.is_empty()) {
                let value = button.get_attribute("value").unwrap_or_default();
                let _ = data.append_with_str(&name, &value);
            }
        }
        let Ok(params) = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data) else {
            return;
        };
        let body: String = params.to_string().into();
        send(form, &action, &body);
    }

    fn send(form: HtmlFormElement, action: &str, body: &str) {
        let lang = use_lang();
        let Ok(xhr) = XmlHttpRequest::new() else {
            return;
        };
        if xhr.open_with_async("POST", action, true).is_err() {
            return;
        }
        let _ = xhr.set_request_header("Content-Type", "application/x-www-form-urlencoded");
        let _ = xhr.set_request_header("Accept", "application/json");
        busy(&form, true);
        let x = xhr.clone();
        let sent = form.clone();
        let done = Closure::<dyn FnMut()>::new(move || {
            let status = x.status().unwrap_or(0);
            let text = x.response_text().ok().flatten();
            if (200..300).contains(&status) {
                let flash = flash_of(&form, text.as_deref());
                if form.has_attribute("data-stay") {
                    busy(&form, false);
                    form.reset();
                    if let (Some(doc), Some(f)) = (document(), flash) {
                        display(&doc, f);
                    }
                    return;
                }
                if let (Some(s), Some(json)) = (
                    storage(),
                    flash.and_then(|f| serde_json::to_string(&f).ok()),
                ) {
                    let _ = s.set_item(FLASH_KEY, &json);
                }
                let Some(location) = web_sys::window().map(|w| w.location()) else {
                    return;
                };
                match x.get_response_header("Location").ok().flatten() {
                    Some(to) if to.starts_with('/') && !to.starts_with("//") => {
                        let _ = location.assign(&to);
                    }
                    _ => {
                        let _ = location.reload();
                    }
                }
            } else {
                busy(&form, false);
                show_error(&form, &message(text.as_deref(), status, lang));
            }
        });
        xhr.set_onloadend(Some(done.as_ref().unchecked_ref()));
        done.forget();
        if xhr.send_with_opt_str(Some(body)).is_err() {
            busy(&sent, false);
        }
    }

    fn message(text: Option<&str>, status: u16, lang: Lang) -> String {
        if let Some(refusal) = text.and_then(|t| serde_json::from_str::<Refusal>(t).ok()) {
            return refusal.text(lang);
        }
        match status {
            0 => lang
                .pick(
                    "The connection was lost; nothing was saved. Please try again.",
                    "Die Verbindung ist abgerissen; nichts wurde gespeichert. Bitte erneut versuchen.",
                )
                .to_string(),
            _ => format!(
                "{} (HTTP {status})",
                lang.pick(
                    "That did not work; please try again.",
                    "Das hat nicht geklappt; bitte erneut versuchen."
                )
            ),
        }
    }

    /// Marks the form as in flight and disables its buttons (those the page enabled).
    fn busy(form: &HtmlFormElement, on: bool) {
        let _ = form.set_attribute("aria-busy", if on { "true" } else { "false" });
        let Ok(buttons) = form.query_selector_all("button") else {
            return;
        };
        for i in 0..buttons.length() {
            let Some(b) = buttons.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            if on && !b.has_attribute("disabled") {
                let _ = b.set_attribute("disabled", "");
                let _ = b.set_attribute("data-busy", "");
            } else if !on && b.has_attribute("data-busy") {
                let _ = b.remove_attribute("disabled");
                let _ = b.remove_attribute("data-busy");
            }
        }
    }

    /// One refusal on the page at a time, at the top of the form that caused it.
    fn show_error(form: &HtmlFormElement, text: &str) {
        let Some(doc) = document() else { return };
        if let Ok(old) = doc.query_selector_all("[data-form-error]") {
            for i in 0..old.length() {
                if let Some(n) = old.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                    n.remove();
                }
            }
        }
        let Ok(p) = doc.create_element("p") else {
            return;
        };
        p.set_class_name("alert error");
        let _ = p.set_attribute("role", "alert");
        let _ = p.set_attribute("data-form-error", "");
        p.set_text_content(Some(text));
        let _ = form.prepend_with_node_1(&p);
    }

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window().and_then(|w| w.session_storage().ok().flatten())
    }

    fn flash_of(form: &HtmlFormElement, answer: Option<&str>) -> Option<Flash> {
        let mut flash = Flash {
            text: form.get_attribute("data-ok")?,
            secret: None,
            secret_id: form.get_attribute("data-ok-secret-id"),
        };
        if let Some(field) = form.get_attribute("data-ok-field") {
            if let Ok(Some(input)) = form.query_selector(&format!("[name=\"{field}\"]")) {
                if let Some(v) = input
                    .dyn_ref::<web_sys::HtmlInputElement>()
                    .map(|i| i.value())
                {
                    flash.text.push_str(&v);
                }
            }
        }
        if let Some(key) = form.get_attribute("data-ok-secret") {
            flash.secret = answer
                .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
                .and_then(|v| v.get(&key).and_then(|s| s.as_str()).map(str::to_string));
        }
        Some(flash)
    }

    /// Shows (once) what the form before the reload left, at the top of the page.
    fn show_flash(doc: &Document) {
        let Some(s) = storage() else { return };
        let Some(flash) = s
            .get_item(FLASH_KEY)
            .ok()
            .flatten()
            .and_then(|j| serde_json::from_str::<Flash>(&j).ok())
        else {
            return;
        };
        let _ = s.remove_item(FLASH_KEY);
        display(doc, flash);
    }

    fn display(doc: &Document, flash: Flash) {
        if let Ok(Some(old)) = doc.query_selector("[data-testid=flash]") {
            old.remove();
        }
        let (Ok(Some(main)), Ok(div)) = (doc.query_selector("main"), doc.create_element("div"))
        else {
            return;
        };
        div.set_class_name("alert ok");
        let _ = div.set_attribute("role", "status");
        let _ = div.set_attribute("data-testid", "flash");
        if let Ok(p) = doc.create_element("p") {
            p.set_text_content(Some(&flash.text));
            let _ = div.append_child(&p);
        }
        if let (Some(secret), Ok(code)) = (flash.secret, doc.create_element("code")) {
            code.set_class_name("secret");
            let id = flash.secret_id.as_deref().unwrap_or("new-token");
            let _ = code.set_attribute("data-testid", id);
            code.set_text_content(Some(&secret));
            let _ = div.append_child(&code);
        }
        let _ = main.prepend_with_node_1(&div);
    }
}
