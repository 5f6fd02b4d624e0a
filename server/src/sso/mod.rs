//! Single sign-on through an OpenID provider (authorization code flow with PKCE, `state`
//! and `nonce`): `/auth/oidc/login` sends the browser to the provider, `/auth/oidc/callback`
//! signs it in with a fresh session, `/auth/logout` signs out and `/auth/oidc/logout` signs
//! out at the provider too. Every refusal lands on `/login?error=sso_…` with a short,
//! translated message; the reason goes to the log.

pub mod provider;
pub mod settings;

use crate::web::safe_next;
use app::auth;
use app::domain::sso::SsoRefusal;
use app::services::{sso, ServiceError};
use app::state::AppState;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use provider::{Failure, Pending, Provider};
use serde::Deserialize;
use std::sync::Arc;
use tower_sessions::Session;

/// The session key of the sign-ins under way in this browser.
const PENDING_KEY: &str = "sso_pending";
/// A few tabs may start a sign-in at once; older ones are forgotten.
const PENDING_MAX: usize = 4;
/// A sign-in not finished within this long has to start again.
const PENDING_MAX_AGE_MS: i64 = 10 * 60 * 1000;

#[derive(Clone)]
pub struct SsoState {
    app: AppState,
    provider: Option<Arc<Provider>>,
}

/// The sign-in and sign-out routes; the provider ones answer 404 without SSO configured.
pub fn router(app: AppState, provider: Option<Arc<Provider>>) -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/login", get(login))
        .route("/auth/oidc/callback", get(callback))
        .route("/auth/oidc/logout", get(provider_logout))
        .route("/auth/logout", post(logout))
        .with_state(SsoState { app, provider })
}

fn no_store(to: &str) -> Response {
    let mut resp = Redirect::to(to).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
    resp
}

fn refused(failure: Failure) -> Response {
    tracing::warn!(
        reason = failure.refusal.code(),
        detail = %failure.detail,
        "single sign-on refused"
    );
    no_store(&format!("/login?error={}", failure.refusal.code()))
}

fn session_failed(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "single sign-on: session store failed");
    no_store("/login?error=internal")
}

#[derive(Deserialize)]
struct LoginQuery {
    #[serde(default)]
    next: String,
}

async fn login(
    State(s): State<SsoState>,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> Response {
    let Some(provider) = s.provider else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (url, pending) = match provider.start(safe_next(&q.next)).await {
        Ok(v) => v,
        Err(f) => return refused(f),
    };
    let now = Utc::now().timestamp_millis();
    let mut all: Vec<Pending> = session
        .get(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    all.retain(|p| now - p.started_at_ms < PENDING_MAX_AGE_MS);
    all.push(pending);
    let excess = all.len().saturating_sub(PENDING_MAX);
    all.drain(..excess);
    if let Err(e) = session.insert(PENDING_KEY, all).await {
        return session_failed(e);
    }
    no_store(&url)
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The sign-in this browser started with `state`, taken out so it is used only once.
async fn take_pending(session: &Session, state: &str) -> Result<Option<Pending>, ServiceError> {
    let mut all: Vec<Pending> = session
        .get(PENDING_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let Some(at) = all.iter().position(|p| p.state == state) else {
        return Ok(None);
    };
    let pending = all.remove(at);
    session
        .insert(PENDING_KEY, all)
        .await
        .map_err(|e| ServiceError::Internal(format!("session store: {e}")))?;
    let fresh = Utc::now().timestamp_millis() - pending.started_at_ms < PENDING_MAX_AGE_MS;
    Ok(fresh.then_some(pending))
}

fn failure(refusal: SsoRefusal, detail: impl Into<String>) -> Failure {
    Failure {
        refusal,
        detail: detail.into(),
    }
}

async fn callback(
    State(s): State<SsoState>,
    session: Session,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let Some(provider) = s.provider else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let pending = match take_pending(&session, q.state.as_deref().unwrap_or_default()).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return refused(failure(
                SsoRefusal::State,
                "no sign-in with this state was started in this browser (or it expired)",
            ))
        }
        Err(e) => return session_failed(e),
    };
    if let Some(error) = q.error {
        return refused(failure(
            SsoRefusal::Provider,
            format!(
                "the provider answered {error}: {}",
                q.error_description.unwrap_or_default()
            ),
        ));
    }
    let Some(code) = q.code.filter(|c| !c.is_empty()) else {
        return refused(failure(
            SsoRefusal::Provider,
            "the callback carries no code",
        ));
    };
    let verified = match provider.finish(&pending, &code).await {
        Ok(v) => v,
        Err(f) => return refused(f),
    };
    let policy = provider.settings.policy();
    match sso::sign_in(&s.app.pool, &policy, &verified.identity).await {
        Ok(Ok(signed_in)) => {
            if let Err(e) =
                auth::start_sso_session(&session, &signed_in, verified.id_token.clone()).await
            {
                return session_failed(e);
            }
            tracing::info!(
                user_id = signed_in.user.id,
                groups = ?verified.identity.groups,
                "signed in through single sign-on"
            );
            no_store(safe_next(&pending.next))
        }
        Ok(Err(refusal)) => refused(failure(
            refusal,
            format!(
                "subject {} ({}), groups {:?}",
                verified.identity.subject,
                verified.identity.email.as_deref().unwrap_or("no e-mail"),
                verified.identity.groups
            ),
        )),
        Err(e) if e.is_internal() => {
            tracing::error!(error = %e, "single sign-on: could not record the sign-in");
            no_store("/login?error=internal")
        }
        Err(e) => refused(failure(SsoRefusal::Provider, e.to_string())),
    }
}

async fn logout(State(s): State<SsoState>, session: Session) -> Response {
    match auth::end_session_for_sign_out(&session).await {
        Ok(true) if s.provider.is_some() => no_store("/login?signed_out=sso"),
        Ok(_) => no_store("/login"),
        Err(e) => {
            tracing::error!(error = %e, "sign-out failed");
            no_store("/login")
        }
    }
}

/// Signs out at the provider too (a link on the page after sign-out: the pages' CSP lets
/// forms post only to Shipgate, and browsers apply that to a form's redirects as well).
async fn provider_logout(State(s): State<SsoState>, session: Session) -> Response {
    let Some(provider) = s.provider else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let hint = auth::take_sso_logout_hint(&session).await.ok().flatten();
    match provider.logout_url(hint.as_deref()).await {
        Ok(Some(url)) => no_store(&url),
        Ok(None) => no_store("/login"),
        Err(f) => refused(f),
    }
}
