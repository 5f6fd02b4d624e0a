//! The REST API for machines under `/api/v1`: bearer tokens (or a browser session), JSON in
//! and out, every error as `{"error":{"code","message"}}`.

mod accounts;
mod archive;
mod audit;
pub mod error;
pub mod evidence;
mod golive;
mod monitoring;
mod openapi;
mod releases;
mod templates;

use app::domain::account::CurrentUser;
use app::services::Actor;
use app::state::AppState;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
pub use error::{ApiError, ApiJson};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(accounts::router())
        .merge(releases::router())
        .merge(evidence::router())
        .merge(golive::router())
        .merge(archive::router())
        .merge(audit::router())
        .merge(monitoring::router())
        .merge(templates::router())
        .route("/openapi.json", axum::routing::get(openapi::document))
        .fallback(|| async { ApiError::not_found() })
}

/// The authenticated caller of an API endpoint; 401 JSON without one.
pub struct ApiUser(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .map(ApiUser)
            .ok_or_else(ApiError::unauthorized)
    }
}

impl ApiUser {
    /// The caller as the one acting in a use case.
    pub fn actor(&self) -> Actor {
        self.0.actor()
    }

    /// For what an API token must never do: change the password, mint more tokens.
    pub fn require_session(&self) -> Result<&CurrentUser, ApiError> {
        self.0.require_browser_session()?;
        Ok(&self.0)
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        Ok(self.0.actor().require_admin()?)
    }
}

/// Whatever answers an `/api/` request with an error (a body limit, a wrong method, an
/// extractor) answers in the API's JSON shape.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/v1");
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = status.canonical_reason().unwrap_or("error").to_string();
    let mut json = ApiError::new(status, code, message).into_response();
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        json.headers_mut().insert(header::ALLOW, allow.clone());
    }
    json
}
