//! The browser's plain-form endpoints: sign in, sign out, first-admin registration and the
//! language switch. Each answers with a redirect (post/redirect/get), so they work without
//! JavaScript and the next page load starts from the new session.

use app::auth;
use app::i18n::{Lang, LANG_COOKIE};
use app::services::{accounts, ServiceError};
use app::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use tower_sessions::Session;

/// The client's address, when the server knows it (it does when served with connect info).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Only same-site paths are followed after sign-in, never another host.
pub fn safe_next(next: &str) -> &str {
    // Browsers drop tabs and newlines from a Location, so `/\t/evil` would become `//evil`.
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_whitespace() || c.is_control());
    if local && !next.starts_with("/login") && !next.starts_with("/register") {
        next
    } else {
        "/"
    }
}

fn back_to(path: &str, params: &[(&str, &str)]) -> Redirect {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    Redirect::to(&format!("{path}?{query}"))
}

fn internal(e: &ServiceError) {
    if e.is_internal() {
        tracing::error!(error = %e, "form request failed");
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    session: Session,
    Form(f): Form<LoginForm>,
) -> Response {
    let result = match accounts::authenticate(
        &state.pool,
        &state.throttle,
        state.auth.local_login,
        &f.email,
        &f.password,
        addr,
    )
    .await
    {
        Ok(signed_in) => auth::start_session(&session, &signed_in).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to(safe_next(&f.next)).into_response(),
        Err(e) => {
            internal(&e);
            back_to(
                "/login",
                &[
                    ("error", e.code()),
                    ("email", f.email.trim()),
                    ("next", &f.next),
                ],
            )
            .into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct RegisterForm {
    email: String,
    #[serde(default)]
    name: String,
    password: String,
    confirm: String,
}

pub async fn register(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    session: Session,
    Form(f): Form<RegisterForm>,
) -> Response {
    let keep = |code: &'static str| {
        back_to(
            "/register",
            &[
                ("error", code),
                ("email", f.email.trim()),
                ("name", f.name.trim()),
            ],
        )
        .into_response()
    };
    if f.password != f.confirm {
        return keep("confirm");
    }
    let signed_in = match accounts::register_first_admin(
        &state.pool,
        &state.throttle,
        addr,
        &f.email,
        &f.name,
        &f.password,
    )
    .await
    {
        Ok(s) => s,
        Err(e) => {
            internal(&e);
            return match e {
                ServiceError::Invalid { field, .. } => keep(field),
                // A set-up instance (409) and a throttled address (429 with Retry-After) are
                // refused before any hashing, with a status a script can see.
                e @ (ServiceError::Conflict { .. } | ServiceError::Throttled { .. }) => {
                    crate::api::ApiError::from(e).into_response()
                }
                other => keep(other.code()),
            };
        }
    };
    state.set_up.store(true, Ordering::Relaxed);
    match auth::start_session(&session, &signed_in).await {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => {
            internal(&e);
            Redirect::to("/login").into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

/// Remembers the chosen language for a year.
pub async fn set_lang(State(state): State<AppState>, Form(f): Form<LangForm>) -> Response {
    let lang = Lang::from_code(&f.lang).unwrap_or_default();
    let secure = if state.auth.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        lang.code()
    );
    let mut resp = Redirect::to(safe_next(&f.back)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// The `Authorization: Bearer …` token, if the request carries one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/admin?x=1"), "/admin?x=1");
        for bad in [
            "",
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/login",
            "admin",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }
}
