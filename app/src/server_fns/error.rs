//! The one error every server function answers with: a refusal carrying its HTTP status, a
//! stable code, the field it is about (if any) and its message in both languages. The
//! browser shows it in the reader's language ([`Refusal::text`]); the server sets its
//! status on the response and logs it ([`Refusal::answer`]) wherever one is made from a
//! service error or the server function machinery.

use crate::i18n::Lang;
use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{en}")]
pub struct Refusal {
    /// The HTTP status the server answered with (as the REST API answers the same refusal).
    pub status: u16,
    /// A stable, machine-readable code (`validation_failed`, `forbidden`, `conflict`, …).
    pub code: String,
    /// The form field the refusal is about, if it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub en: String,
    pub de: String,
}

impl Refusal {
    pub fn new(status: u16, code: &str, en: impl Into<String>, de: impl Into<String>) -> Self {
        Refusal {
            status,
            code: code.to_string(),
            field: None,
            en: en.into(),
            de: de.into(),
        }
    }

    /// The message alone, in `lang`.
    pub fn message(&self, lang: Lang) -> &str {
        lang.pick(&self.en, &self.de)
    }

    /// The refusal as a person reads it: in their language, after the label of the field it
    /// is about, so the message says where to look. The one place the UI renders refusals.
    pub fn text(&self, lang: Lang) -> String {
        let message = self.message(lang);
        match self
            .field
            .as_deref()
            .and_then(|f| crate::i18n::field_label(lang, f))
        {
            Some(label) => format!("{label}: {message}"),
            None => message.to_string(),
        }
    }

    /// What the server function machinery itself reports (arguments it cannot read, a
    /// server that cannot be reached, an answer that cannot be read).
    fn of_server_fn(e: &ServerFnErrorErr) -> Self {
        match e {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => Self::bad_request(),
            // On the server: a request body that cannot be read.
            ServerFnErrorErr::Deserialization(_) if cfg!(feature = "ssr") => Self::bad_request(),
            ServerFnErrorErr::Request(_) => Refusal::new(
                503,
                "unreachable",
                "Shipgate could not be reached. Check the connection and try again.",
                "Shipgate ist nicht erreichbar. Bitte die Verbindung prüfen und erneut versuchen.",
            ),
            _ => Refusal::new(
                500,
                "internal",
                "Something went wrong. Please reload the page and try again.",
                "Etwas ist schiefgelaufen. Bitte die Seite neu laden und erneut versuchen.",
            ),
        }
    }

    fn bad_request() -> Self {
        Refusal::new(
            400,
            "bad_request",
            "The form could not be read. Please reload the page and try again.",
            "Das Formular konnte nicht gelesen werden. Bitte die Seite neu laden und erneut versuchen.",
        )
    }
}

impl FromServerFnError for Refusal {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let refusal = Refusal::of_server_fn(&value);
        #[cfg(feature = "ssr")]
        refusal.answer(&value);
        refusal
    }
}

/// For `?` on what the server function machinery returns (e.g. `leptos_axum::extract`).
impl From<ServerFnErrorErr> for Refusal {
    fn from(value: ServerFnErrorErr) -> Self {
        Refusal::from_server_fn_error(value)
    }
}

#[cfg(feature = "ssr")]
impl Refusal {
    /// Answers the request with this refusal's status (never 500 for a refusal), as the
    /// REST API answers it, and logs it: failures at error (with `detail`, which may be
    /// internal), refusals at debug only, since they are the user's business.
    ///
    /// A form the browser posted itself (no JavaScript: it accepts HTML) is answered with
    /// the redirect back to its page that carries the refusal, so the status stays a 302.
    pub fn answer(&self, detail: &dyn std::fmt::Display) {
        let plain_form = leptos::prelude::use_context::<http::request::Parts>().is_some_and(|p| {
            p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        });
        let resp = leptos::prelude::use_context::<leptos_axum::ResponseOptions>();
        if let (false, Some(resp)) = (plain_form, resp) {
            if let Ok(status) = http::StatusCode::from_u16(self.status) {
                resp.set_status(status);
            }
        }
        if self.status >= 500 {
            tracing::error!(status = self.status, code = %self.code, error = %detail, "server function failed");
        } else {
            tracing::debug!(status = self.status, code = %self.code, message = ?detail.to_string(), "server function refused");
        }
    }
}

/// A use case's refusal or failure, with the status, code and texts the REST API gives it.
#[cfg(feature = "ssr")]
impl From<crate::services::ServiceError> for Refusal {
    fn from(e: crate::services::ServiceError) -> Self {
        use crate::services::ServiceError;
        let refusal = Refusal {
            status: e.status().as_u16(),
            code: e.code().to_string(),
            field: match &e {
                ServiceError::Invalid { field, .. } => Some(field.to_string()),
                _ => None,
            },
            en: e.user_message(Lang::En),
            de: e.user_message(Lang::De),
        };
        refusal.answer(&e);
        refusal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_names_the_field_in_the_readers_language() {
        let r = Refusal {
            field: Some("title".into()),
            ..Refusal::new(422, "validation_failed", "Required.", "Erforderlich.")
        };
        assert_eq!(r.text(Lang::En), "Title: Required.");
        assert_eq!(r.text(Lang::De), "Titel: Erforderlich.");
        let plain = Refusal::new(409, "conflict", "Not yet.", "Noch nicht.");
        assert_eq!(plain.text(Lang::De), "Noch nicht.");
    }

    #[test]
    fn unreadable_arguments_are_the_callers_mistake() {
        let r = Refusal::from_server_fn_error(ServerFnErrorErr::Args("x".into()));
        assert_eq!(r.status, 400);
        assert_eq!(r.code, "bad_request");
    }

    #[test]
    fn travels_as_json() {
        let r = Refusal::new(403, "forbidden", "No.", "Nein.");
        let back: Refusal = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
