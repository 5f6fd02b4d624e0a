//! Server functions behind the UI's pages and forms, one file per feature, named like the
//! service each calls. Thin: find the caller, call a service; every refusal is a
//! [`Refusal`] (status, code, field, English and German), made from the service's error
//! with `?`.

pub mod accounts;
pub mod archive;
pub mod audit;
pub mod calendar;
pub mod checklists;
pub mod dossier;
pub mod environments;
pub mod error;
pub mod evidence;
pub mod freezes;
pub mod golive;
pub mod lifecycle;
pub mod logs;
pub mod metrics;
pub mod notifications;
pub mod releases;
pub mod signoffs;
pub mod status;
pub mod templates;
pub mod tokens;
pub mod webhooks;

pub use error::Refusal;

/// Shared by the server functions: the caller and their refusals.
#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::Refusal;
    use crate::domain::account::CurrentUser;
    use crate::services::{Actor, ServiceError};
    use crate::state::AppState;
    use leptos::prelude::*;

    pub fn state() -> AppState {
        expect_context::<AppState>()
    }

    pub fn current_user() -> Result<CurrentUser, Refusal> {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<CurrentUser>().cloned())
            .ok_or_else(|| {
                refuse(
                    http::StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "Your session has ended. Please sign in again.",
                    "Ihre Sitzung ist abgelaufen. Bitte erneut anmelden.",
                )
            })
    }

    /// For what only the person at the keyboard may do (see
    /// [`ServiceError::SessionRequired`]), refused as the REST API refuses it.
    pub fn session_user() -> Result<CurrentUser, Refusal> {
        let me = current_user()?;
        me.require_browser_session()?;
        Ok(me)
    }

    pub fn actor() -> Result<Actor, Refusal> {
        current_user().map(|c| c.actor())
    }

    /// A refusal with its own status (never 500), answered as the REST API answers it.
    pub fn refuse(status: http::StatusCode, code: &str, en: &str, de: &str) -> Refusal {
        let refusal = Refusal::new(status.as_u16(), code, en, de);
        refusal.answer(&en);
        refusal
    }

    /// A refusal naming what blocks the action, in both languages (409 with the REST API's
    /// code for the same refusal); `Ok` when nothing blocks it.
    pub fn blocked(
        code: &str,
        blockers: &[crate::domain::release::Blocker],
    ) -> Result<(), Refusal> {
        use crate::i18n::{Label, Lang};
        if blockers.is_empty() {
            return Ok(());
        }
        let why = |lang: Lang| {
            let list: Vec<String> = blockers
                .iter()
                .map(|b| b.label(lang).into_owned())
                .collect();
            format!(
                "{} {}",
                lang.pick("Not yet:", "Noch nicht:"),
                list.join("; ")
            )
        };
        Err(refuse(
            http::StatusCode::CONFLICT,
            code,
            &why(Lang::En),
            &why(Lang::De),
        ))
    }

    /// A value the use case would refuse as invalid, refused before calling it.
    pub fn invalid(field: &'static str, en: &'static str, de: &'static str) -> Refusal {
        ServiceError::invalid(field, en, de).into()
    }

    /// A date and time entered in Europe/Berlin (`datetime-local`), as UTC; a refusal
    /// naming the field when it is missing or unreadable.
    pub fn berlin_time(
        field: &'static str,
        value: &str,
    ) -> Result<chrono::DateTime<chrono::Utc>, Refusal> {
        crate::domain::time::parse_berlin_local(value).ok_or_else(|| {
            invalid(
                field,
                "Enter a date and time.",
                "Bitte Datum und Uhrzeit angeben.",
            )
        })
    }
}
