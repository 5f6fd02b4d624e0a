//! Server functions behind the UI's forms. Thin: find the caller, call a service,
//! turn its error into a message in the caller's language.

use crate::domain::account::{IssuedToken, TokenInfo, UserRecord};
use crate::domain::release_model::AuditRow;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use ssr_support as ssr;

/// Shared by the server functions: the caller, their language, error mapping.
#[cfg(feature = "ssr")]
pub(crate) mod ssr_support {
    use crate::auth::CurrentUser;
    use crate::i18n::{request_lang, Lang};
    use crate::services::{Actor, ServiceError};
    use crate::state::AppState;
    use leptos::prelude::*;

    pub fn state() -> AppState {
        expect_context::<AppState>()
    }

    fn parts() -> Option<http::request::Parts> {
        use_context::<http::request::Parts>()
    }

    pub fn lang() -> Lang {
        parts()
            .map(|p| request_lang(&p.headers))
            .unwrap_or_default()
    }

    pub fn current_user() -> Result<CurrentUser, ServerFnError> {
        parts()
            .and_then(|p| p.extensions.get::<CurrentUser>().cloned())
            .ok_or_else(|| {
                refuse(
                    http::StatusCode::UNAUTHORIZED,
                    lang().pick(
                        "Your session has ended. Please sign in again.",
                        "Ihre Sitzung ist abgelaufen. Bitte erneut anmelden.",
                    ),
                )
            })
    }

    /// A refusal answered with its own status (never 500), as the REST API answers it.
    /// Refusals are the user's business, not the operator's: logged at debug only.
    pub fn refuse(status: http::StatusCode, message: impl Into<String>) -> ServerFnError {
        let message = message.into();
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(status);
        }
        tracing::debug!(status = status.as_u16(), %message, "server function refused");
        ServerFnError::new(message)
    }

    /// An argument the browser sent that names no known value (a phase, a role, ...).
    pub fn unknown(field: &'static str) -> ServerFnError {
        fail(ServiceError::invalid(
            field,
            "This value is not one of the allowed ones.",
            "Dieser Wert ist nicht zulässig.",
        ))
    }

    /// For what only the person at the keyboard may do (password, new tokens): a stolen
    /// API token must not be able to lock its owner out or mint itself successors.
    pub fn session_user() -> Result<CurrentUser, ServerFnError> {
        let me = current_user()?;
        if me.via != crate::auth::Credential::Session {
            return Err(refuse(
                http::StatusCode::FORBIDDEN,
                lang().pick(
                    "This needs a signed-in browser session; API tokens cannot do it.",
                    "Dafür ist eine angemeldete Browser-Sitzung nötig; API-Tokens können das nicht.",
                ),
            ));
        }
        Ok(me)
    }

    pub fn actor() -> Result<Actor, ServerFnError> {
        current_user().map(|c| Actor::User(c.user))
    }

    /// A date and time entered in Europe/Berlin (`datetime-local`), as UTC; a refusal
    /// naming the field when it is missing or unreadable.
    pub fn berlin_time(
        field: &'static str,
        value: &str,
    ) -> Result<chrono::DateTime<chrono::Utc>, ServerFnError> {
        crate::domain::time::parse_berlin_local(value).ok_or_else(|| {
            fail(ServiceError::invalid(
                field,
                "Enter a date and time.",
                "Bitte Datum und Uhrzeit angeben.",
            ))
        })
    }

    pub fn fail(e: ServiceError) -> ServerFnError {
        let status = e.status();
        if status.is_server_error() {
            tracing::error!(error = %e, "server function failed");
        }
        let lang = lang();
        let message = e.user_message(lang);
        let message = match &e {
            ServiceError::Invalid { field, .. } => match crate::i18n::field_label(lang, field) {
                Some(label) => format!("{label}: {message}"),
                None => message,
            },
            _ => message,
        };
        refuse(status, message)
    }
}

/// The message to show for a failed server function.
pub fn error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
    }
}

#[server]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), ServerFnError> {
    use crate::services::{accounts, ServiceError};
    let me = ssr::session_user()?;
    if new_password != confirm_password {
        return Err(ssr::fail(ServiceError::invalid(
            "confirm_password",
            "The two new passwords differ.",
            "Die beiden neuen Passwörter stimmen nicht überein.",
        )));
    }
    let state = ssr::state();
    let epoch = accounts::change_password(
        &state.pool,
        &state.throttle,
        &me.user,
        &current_password,
        &new_password,
    )
    .await
    .map_err(ssr::fail)?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    crate::auth::adopt_epoch(&session, epoch)
        .await
        .map_err(ssr::fail)?;
    Ok(())
}

#[server]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, ServerFnError> {
    let me = ssr::current_user()?;
    crate::services::tokens::list(&ssr::state().pool, me.user.id)
        .await
        .map_err(ssr::fail)
}

#[server]
pub async fn issue_token(name: String) -> Result<IssuedToken, ServerFnError> {
    let me = ssr::session_user()?;
    crate::services::tokens::issue(&ssr::state().pool, me.user.id, &name)
        .await
        .map_err(ssr::fail)
}

#[server]
pub async fn revoke_token(token_id: i64) -> Result<(), ServerFnError> {
    let me = ssr::current_user()?;
    crate::services::tokens::revoke(&ssr::state().pool, me.user.id, token_id)
        .await
        .map_err(ssr::fail)
}

#[server]
pub async fn list_users() -> Result<Vec<UserRecord>, ServerFnError> {
    let actor = ssr::actor()?;
    crate::services::accounts::list_users(&ssr::state().pool, &actor)
        .await
        .map_err(ssr::fail)
}

/// Role checkboxes arrive as one optional field each, so the form works without JavaScript.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn create_user(
    email: String,
    name: String,
    password: String,
    role_admin: Option<String>,
    role_release_captain: Option<String>,
    role_product_owner: Option<String>,
    role_engineer: Option<String>,
    role_viewer: Option<String>,
) -> Result<UserRecord, ServerFnError> {
    use crate::services::accounts::{create_user, NewUser};
    let actor = ssr::actor()?;
    let roles = checked_roles([
        role_admin,
        role_release_captain,
        role_product_owner,
        role_engineer,
        role_viewer,
    ]);
    create_user(
        &ssr::state().pool,
        &actor,
        NewUser {
            email,
            name,
            password,
            roles,
        },
    )
    .await
    .map_err(ssr::fail)
}

#[server]
pub async fn update_user_roles(
    user_id: i64,
    role_admin: Option<String>,
    role_release_captain: Option<String>,
    role_product_owner: Option<String>,
    role_engineer: Option<String>,
    role_viewer: Option<String>,
) -> Result<UserRecord, ServerFnError> {
    use crate::services::accounts::{update_user, UserChange};
    let actor = ssr::actor()?;
    let roles = checked_roles([
        role_admin,
        role_release_captain,
        role_product_owner,
        role_engineer,
        role_viewer,
    ]);
    update_user(
        &ssr::state().pool,
        &actor,
        user_id,
        UserChange {
            roles: Some(roles),
            disabled: None,
        },
    )
    .await
    .map_err(ssr::fail)
}

#[server]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<UserRecord, ServerFnError> {
    use crate::services::accounts::{update_user, UserChange};
    let actor = ssr::actor()?;
    update_user(
        &ssr::state().pool,
        &actor,
        user_id,
        UserChange {
            roles: None,
            disabled: Some(disabled),
        },
    )
    .await
    .map_err(ssr::fail)
}

/// A page of the whole audit trail for the admin page: rows newest first, and the cursor for
/// the next, older page. The filters arrive as the page's query string has them; the service
/// reads them exactly as it reads the API's.
#[server]
pub async fn audit_trail(
    actor: String,
    action: String,
    since: String,
    until: String,
    before: String,
) -> Result<(Vec<AuditRow>, Option<i64>), ServerFnError> {
    use crate::services::audit::{trail, TrailQuery};
    let me = ssr::actor()?;
    let query = TrailQuery::from_params(|k| {
        match k {
            "actor" => Some(&actor),
            "action" => Some(&action),
            "since" => Some(&since),
            "until" => Some(&until),
            "before" => Some(&before),
            _ => None,
        }
        .cloned()
    })
    .map_err(ssr::fail)?;
    let page = trail(&ssr::state().pool, &me, &query)
        .await
        .map_err(ssr::fail)?;
    Ok((
        page.entries.into_iter().map(|e| e.row).collect(),
        page.next_before,
    ))
}

/// Maps the five role checkboxes, in `Role::ALL` order, to role names.
#[cfg(feature = "ssr")]
fn checked_roles(boxes: [Option<String>; 5]) -> Vec<String> {
    use crate::domain::account::Role;
    Role::ALL
        .iter()
        .zip(boxes)
        .filter(|(_, checked)| checked.is_some())
        .map(|(role, _)| role.as_str().to_string())
        .collect()
}
