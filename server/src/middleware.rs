//! Cross-cutting request handling: cross-site request refusal, who is asking, and which
//! pages need a signed-in user.

use crate::api::ApiError;
use crate::web::bearer_token;
use app::auth;
use app::domain::account::{Credential, CurrentUser};
use app::services::tokens;
use app::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// Refuses state-changing requests that a browser marks as coming from another site.
/// Browsers send `Sec-Fetch-Site` (modern) or at least `Origin` on cross-site POSTs; clients
/// that send neither (curl, CI) are not browsers and carry no ambient cookies of a victim.
pub async fn refuse_cross_site(
    State(public_base_url): State<String>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let allowed = match (header("sec-fetch-site"), header("origin")) {
        (Some(site), _) => matches!(site, "same-origin" | "none"),
        (None, Some(origin)) => {
            let host = header("host").unwrap_or_default();
            origin == public_base_url
                || origin
                    .split_once("://")
                    .is_some_and(|(_, h)| !host.is_empty() && h == host)
        }
        (None, None) => true,
    };
    if allowed {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            "Cross-site requests are refused.",
        )
        .into_response()
    }
}

fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path == "/health"
        || path == "/readiness"
        || path.starts_with("/favicon")
}

/// Finds the caller from a bearer token or the session and puts a [`CurrentUser`] into the
/// request. A bearer token that is not valid is an error, never a silent anonymous request.
pub async fn resolve_user(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    if is_static(req.uri().path()) {
        return next.run(req).await;
    }
    let current = if let Some(token) = bearer_token(req.headers()) {
        match tokens::authenticate(&state.pool, &state.auth_cache, token).await {
            Ok(Some(user)) => Some(CurrentUser {
                user,
                via: Credential::Token,
            }),
            Ok(None) => return ApiError::unauthorized().into_response(),
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else {
        match auth::session_user(&state, &session).await {
            Ok(user) => user.map(|user| CurrentUser {
                user,
                via: Credential::Session,
            }),
            Err(e) => return unavailable(e),
        }
    };
    if let Some(c) = current {
        req.extensions_mut().insert(c);
    }
    next.run(req).await
}

fn unavailable(e: app::services::ServiceError) -> Response {
    tracing::error!(error = %e, "could not resolve the caller");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "Shipgate cannot reach its database right now; please try again shortly.",
    )
    .into_response()
}

fn is_page(req: &Request) -> bool {
    let path = req.uri().path();
    matches!(*req.method(), Method::GET | Method::HEAD)
        && !is_static(path)
        && !path.starts_with("/api/")
        && !path.starts_with("/auth/")
        && path != "/lang"
        // The calendar feed's token is its credential; calendar apps have no session.
        && path != "/calendar.ics"
}

/// Sends people where they belong: a fresh instance to first-admin registration, anyone not
/// signed in to the login page (remembering where they wanted to go).
pub async fn gate_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !is_page(&req) {
        return next.run(req).await;
    }
    let set_up = match state.is_set_up().await {
        Ok(v) => v,
        Err(e) => return unavailable(e),
    };
    let signed_in = req.extensions().get::<CurrentUser>().is_some();
    let path = req.uri().path();
    let target = match (set_up, signed_in, path) {
        (false, _, "/register") => None,
        (false, _, _) => Some("/register".to_string()),
        (true, true, "/login" | "/register") => Some("/".to_string()),
        (true, false, "/register") => Some("/login".to_string()),
        (true, false, "/login") => None,
        // The public status page answers for itself (it may be switched off).
        (true, false, "/status/public") => None,
        (true, false, _) => {
            let wanted = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let query = serde_urlencoded::to_string([("next", wanted)]).unwrap_or_default();
            Some(format!("/login?{query}"))
        }
        (true, true, _) => None,
    };
    match target {
        Some(to) => {
            let mut resp = Redirect::to(&to).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
            resp
        }
        None => next.run(req).await,
    }
}

/// Refuses bodies over [`crate::startup::BODY_LIMIT_BYTES`] (413) everywhere but evidence
/// uploads, which stream to storage and check their own, larger limit.
pub async fn limit_body(req: Request, next: Next) -> Response {
    if crate::api::evidence::is_upload(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let limit = crate::startup::BODY_LIMIT_BYTES;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let req = req.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    next.run(req).await
}

/// Serves a signed-in reader's release page again, as rendered a moment ago, while the
/// release has not changed (see [`app::services::page_cache::RenderedPages`]). Only plain
/// `GET /releases/{id}` answered 200 without setting cookies is kept.
pub async fn reuse_release_pages(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    use app::services::page_cache::{self, PageKey, RenderedPage};
    let release_id = (req.method() == Method::GET && req.uri().query().is_none())
        .then(|| req.uri().path().strip_prefix("/releases/"))
        .flatten()
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|id| id.parse::<i64>().ok());
    let user = req.extensions().get::<CurrentUser>().map(|c| c.user.id);
    let (Some(release_id), Some(user_id)) = (release_id, user) else {
        return next.run(req).await;
    };
    let Ok(version) = page_cache::version(&state.pool, release_id).await else {
        return next.run(req).await;
    };
    let key = PageKey {
        release_id,
        version,
        user_id,
        lang: app::i18n::request_lang(req.headers()).code(),
    };
    if let Some(page) = state.rendered_pages.get(&key) {
        let mut headers = header::HeaderMap::new();
        for (name, value) in &page.headers {
            if let (Ok(n), Ok(v)) = (
                header::HeaderName::from_bytes(name.as_bytes()),
                header::HeaderValue::from_bytes(value),
            ) {
                headers.append(n, v);
            }
        }
        let body =
            crate::security::renonce(&mut headers, &page.body).unwrap_or_else(|| page.body.clone());
        let mut resp = Response::new(axum::body::Body::from(body));
        *resp.headers_mut() = headers;
        return resp;
    }
    let resp = next.run(req).await;
    if resp.status() != StatusCode::OK || resp.headers().contains_key(header::SET_COOKIE) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 8 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    state.rendered_pages.put(
        key,
        RenderedPage {
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
                .collect(),
            body: bytes.clone(),
        },
    );
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
