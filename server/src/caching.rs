//! Cache-Control for everything Shipgate serves. The browser bundle of a release build
//! carries a content hash in its names, so browsers keep it for a year and never ask
//! again; pages and API answers carry a person's data and are never stored.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// Whether the bundle under `/pkg/` is named by content hash (a release build).
#[derive(Clone, Copy)]
pub struct Bundle {
    pub hashed: bool,
}

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const NO_STORE: &str = "no-store";
/// An unhashed bundle (a development build) may change under the same name.
pub const REVALIDATE: &str = "no-cache";
/// Other static files (the icon): kept an hour.
pub const STATIC: &str = "public, max-age=3600";

/// The policy for a response to `path`, or `None` to keep what the handler said.
pub fn policy(path: &str, status: StatusCode, content_type: &str, bundle: Bundle) -> &'static str {
    let ok = status.is_success() || status == StatusCode::NOT_MODIFIED;
    if path.starts_with("/pkg/") && ok {
        if bundle.hashed {
            IMMUTABLE
        } else {
            REVALIDATE
        }
    } else if ok
        && !path.starts_with("/api/")
        && !content_type.starts_with("text/html")
        && path.rsplit('/').next().is_some_and(|f| f.contains('.'))
    {
        STATIC
    } else {
        NO_STORE
    }
}

pub async fn cache_control(State(bundle): State<Bundle>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    if resp.headers().contains_key(header::CACHE_CONTROL) {
        return resp;
    }
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let value = policy(&path, resp.status(), &content_type, bundle);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASHED: Bundle = Bundle { hashed: true };
    const DEV: Bundle = Bundle { hashed: false };

    #[test]
    fn the_hashed_bundle_is_kept_a_year_and_pages_never() {
        let ok = StatusCode::OK;
        assert_eq!(
            policy("/pkg/shipgate.abc.wasm", ok, "application/wasm", HASHED),
            IMMUTABLE
        );
        assert_eq!(
            policy("/pkg/shipgate.wasm", ok, "application/wasm", DEV),
            REVALIDATE
        );
        assert_eq!(
            policy("/releases/5", ok, "text/html; charset=utf-8", HASHED),
            NO_STORE
        );
        assert_eq!(
            policy("/api/v1/releases", ok, "application/json", HASHED),
            NO_STORE
        );
        assert_eq!(policy("/favicon.svg", ok, "image/svg+xml", HASHED), STATIC);
        // A missing bundle file is a 404 page: not kept.
        assert_eq!(
            policy(
                "/pkg/shipgate.old.wasm",
                StatusCode::NOT_FOUND,
                "text/html",
                HASHED
            ),
            NO_STORE
        );
    }
}
