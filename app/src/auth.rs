//! Sessions and credentials on the server: what a session stores, and who is asking.

use crate::domain::account::UserInfo;
use crate::services::accounts::{self, SignedIn};
use crate::services::ServiceError;
use crate::state::AppState;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const SESSION_KEY: &str = "auth";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SessionAuth {
    user_id: i64,
    session_epoch: i32,
    /// Unix milliseconds; the absolute session lifetime counts from here.
    signed_in_at_ms: i64,
    /// Unix milliseconds of the last renewal of the inactivity deadline.
    #[serde(default)]
    renewed_at_ms: i64,
}

fn session_err(e: tower_sessions::session::Error) -> ServiceError {
    ServiceError::Internal(format!("session store: {e}"))
}

/// Signs the session in. The session id is cycled so an id known before sign-in
/// (session fixation) is worthless afterwards.
pub async fn start_session(session: &Session, signed_in: &SignedIn) -> Result<(), ServiceError> {
    session.cycle_id().await.map_err(session_err)?;
    session
        .insert(
            SESSION_KEY,
            SessionAuth {
                user_id: signed_in.user.id,
                session_epoch: signed_in.session_epoch,
                signed_in_at_ms: Utc::now().timestamp_millis(),
                renewed_at_ms: Utc::now().timestamp_millis(),
            },
        )
        .await
        .map_err(session_err)
}

/// Keeps the current session valid after the user's session epoch moved on
/// (their own password change), while every other session of theirs ends.
pub async fn adopt_epoch(session: &Session, session_epoch: i32) -> Result<(), ServiceError> {
    let Some(mut auth) = session
        .get::<SessionAuth>(SESSION_KEY)
        .await
        .map_err(session_err)?
    else {
        return Ok(());
    };
    auth.session_epoch = session_epoch;
    session.cycle_id().await.map_err(session_err)?;
    session.insert(SESSION_KEY, auth).await.map_err(session_err)
}

pub async fn end_session(session: &Session) -> Result<(), ServiceError> {
    session.flush().await.map_err(session_err)
}

/// The user signed in to this session, if the session is still good: not past its
/// absolute lifetime, the account not disabled, and no password change since.
/// A session that is no longer good is ended on the spot.
pub async fn session_user(
    state: &AppState,
    session: &Session,
) -> Result<Option<UserInfo>, ServiceError> {
    let auth = match session.get::<SessionAuth>(SESSION_KEY).await {
        Ok(Some(auth)) => auth,
        Ok(None) => return Ok(None),
        // Data this version cannot read (an older layout) is no sign-in: start afresh.
        Err(tower_sessions::session::Error::SerdeJson(_)) => {
            end_session(session).await?;
            return Ok(None);
        }
        Err(e) => return Err(session_err(e)),
    };
    let now_ms = Utc::now().timestamp_millis();
    let age_ms = now_ms - auth.signed_in_at_ms;
    let user = if age_ms >= 0 && (age_ms as u128) < state.auth.absolute_timeout.as_millis() {
        accounts::session_user(
            &state.pool,
            &state.auth_cache,
            auth.user_id,
            auth.session_epoch,
        )
        .await?
    } else {
        None
    };
    if user.is_none() {
        end_session(session).await?;
        return Ok(None);
    }
    // A session is saved (and its inactivity deadline moved) only when it changes. Renewing
    // at most every quarter of the idle timeout, and at most once a minute, keeps the
    // deadline right without a write on every request.
    let renew_every = (state.auth.idle_timeout / 4).min(std::time::Duration::from_secs(60));
    if ((now_ms - auth.renewed_at_ms).max(0) as u128) >= renew_every.as_millis() {
        let mut renewed = auth;
        renewed.renewed_at_ms = now_ms;
        session
            .insert(SESSION_KEY, renewed)
            .await
            .map_err(session_err)?;
    }
    Ok(user)
}

/// The ID token of a session signed in through the provider: the hint for signing out there.
const SSO_ID_TOKEN_KEY: &str = "sso_id_token";
/// After sign-out, the same hint in the browser's fresh session, for the "also sign out at the
/// provider" link.
const SSO_LOGOUT_KEY: &str = "sso_logout_hint";

/// Signs the session in after a sign-in through the provider.
pub async fn start_sso_session(
    session: &Session,
    signed_in: &SignedIn,
    id_token: String,
) -> Result<(), ServiceError> {
    start_session(session, signed_in).await?;
    session
        .insert(SSO_ID_TOKEN_KEY, id_token)
        .await
        .map_err(session_err)
}

/// Ends the session. Answers whether it was signed in through the provider; if so, the
/// browser keeps (in a new, signed-out session) the hint for signing out there too.
pub async fn end_session_for_sign_out(session: &Session) -> Result<bool, ServiceError> {
    let id_token = session.get::<String>(SSO_ID_TOKEN_KEY).await.ok().flatten();
    end_session(session).await?;
    match id_token {
        Some(t) => {
            session
                .insert(SSO_LOGOUT_KEY, t)
                .await
                .map_err(session_err)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// The sign-out hint kept by [`end_session_for_sign_out`], once.
pub async fn take_sso_logout_hint(session: &Session) -> Result<Option<String>, ServiceError> {
    session
        .remove::<String>(SSO_LOGOUT_KEY)
        .await
        .map_err(session_err)
}
