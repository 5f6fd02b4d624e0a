//! Serving evidence bytes: downloads (whole or a `Range`), with headers that keep browsers
//! from guessing, and the PNG thumbnails of images.

use crate::api::{ApiError, ApiUser};
use app::domain::evidence::{Evidence, OCTET_STREAM};
use app::services::evidence;
use app::services::evidence::thumbnails::{self, ThumbnailError};
use app::services::storage::Storage;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub(super) async fn download_in_release(
    State(state): State<AppState>,
    _: ApiUser,
    Path((id, evidence_id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (e, key) = evidence::locate(&state.pool, Some(id), evidence_id).await?;
    serve(&state.storage, &e, &key, &headers).await
}

pub(super) async fn download(
    State(state): State<AppState>,
    _: ApiUser,
    Path(evidence_id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (e, key) = evidence::locate(&state.pool, None, evidence_id).await?;
    serve(&state.storage, &e, &key, &headers).await
}

/// A `Range` header that no part of the file satisfies (416).
#[derive(Debug, PartialEq, Eq)]
pub struct Unsatisfiable;

/// A single `bytes=` range against a size: `Ok(None)` for no (or an ignored multi-)range,
/// `Err(Unsatisfiable)` when it cannot be satisfied. End exclusive.
pub fn parse_range(
    value: Option<&str>,
    size: u64,
) -> Result<Option<std::ops::Range<u64>>, Unsatisfiable> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(Unsatisfiable)?;
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.is_empty(), b.is_empty()) {
        (true, false) => {
            let n: u64 = b.parse().map_err(|_| Unsatisfiable)?;
            if n == 0 {
                return Err(Unsatisfiable);
            }
            size.saturating_sub(n)..size
        }
        (false, _) => {
            let start: u64 = a.parse().map_err(|_| Unsatisfiable)?;
            let end = if b.is_empty() {
                size
            } else {
                let last: u64 = b.parse().map_err(|_| Unsatisfiable)?;
                if last < start {
                    return Err(Unsatisfiable);
                }
                last.saturating_add(1).min(size)
            };
            start..end
        }
        (true, true) => return Err(Unsatisfiable),
    };
    if range.start >= size || range.is_empty() {
        return Err(Unsatisfiable);
    }
    Ok(Some(range))
}

/// `attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback and the real name.
fn disposition(inline: bool, filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let kind = if inline { "inline" } else { "attachment" };
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// The stored bytes, exactly, with headers that keep browsers from guessing: only images
/// and plain text are shown inline, everything else is a download.
async fn serve(
    storage: &Storage,
    e: &Evidence,
    key: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let size = e.size.max(0) as u64;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = match parse_range(range, size) {
        Ok(r) => r,
        Err(Unsatisfiable) => {
            let mut resp = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("The file is {size} bytes long."),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
    };
    let body = if size == 0 {
        Body::empty()
    } else {
        let got = storage.get(key, range.clone()).await.map_err(|err| {
            tracing::error!(error = %err, key, "evidence object unreadable");
            ApiError::storage_unavailable("The stored file cannot be read right now.")
        })?;
        Body::from_stream(got.into_stream())
    };
    let inline = e.inline();
    let content_type = if inline {
        e.content_type.as_str()
    } else {
        OCTET_STREAM
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, content_type);
    h.insert(
        header::CONTENT_DISPOSITION,
        disposition(inline, &e.filename),
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; img-src 'self'; sandbox",
    );
    set(h, header::ACCEPT_RANGES, "bytes");
    set(h, header::ETAG, &format!("\"{}\"", e.sha256));
    set(h, header::CACHE_CONTROL, "private, max-age=86400");
    match range {
        Some(r) => {
            *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
            let h = resp.headers_mut();
            set(
                h,
                header::CONTENT_RANGE,
                &format!("bytes {}-{}/{size}", r.start, r.end - 1),
            );
            set(h, header::CONTENT_LENGTH, &(r.end - r.start).to_string());
        }
        None => {
            set(
                resp.headers_mut(),
                header::CONTENT_LENGTH,
                &size.to_string(),
            );
        }
    }
    Ok(resp)
}

/// A 320-pixel PNG of an image, made on first request and kept in storage beside it.
pub(super) async fn thumbnail(
    State(state): State<AppState>,
    _: ApiUser,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    match thumbnails::thumbnail(&state.pool, &state.storage, id, evidence_id).await {
        Ok(png) => Ok(png_response(png)),
        Err(ThumbnailError::NoThumbnail) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_thumbnail",
            "This evidence has no thumbnail.",
        )),
        Err(ThumbnailError::Unreadable) => Err(ApiError::storage_unavailable(
            "The stored file cannot be read right now.",
        )),
        Err(ThumbnailError::NotAnImage(why)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_image",
            format!("The image cannot be decoded: {why}"),
        )),
        Err(ThumbnailError::Service(e)) => Err(e.into()),
    }
}

fn png_response(png: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "private, max-age=86400"),
        ],
        png,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Ok(Some(0..4)));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Ok(Some(5..10)));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some(7..10)));
        assert_eq!(parse_range(Some("bytes=8-100"), 10), Ok(Some(8..10)));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=4-2"), 10), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 10), Ok(None));
    }

    #[test]
    fn dispositions_keep_names_but_not_quotes() {
        let v = disposition(false, "a\"b ü.log");
        let s = v.to_str().unwrap();
        assert!(s.starts_with("attachment; filename=\"a_b _.log\""), "{s}");
        assert!(s.ends_with("filename*=UTF-8''a%22b%20%C3%BC.log"), "{s}");
    }
}
