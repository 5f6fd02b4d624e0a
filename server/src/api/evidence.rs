//! `/api/v1/…/evidence`: attach files to a release (multipart or a raw body), list them,
//! download them (with Range), thumbnails of images, and retracting.

use super::{ApiError, ApiJson, ApiUser};
use app::domain::evidence::{recorded_name, sanitize_filename, Evidence, Kind, OCTET_STREAM};
use app::i18n::Lang;
use app::services::evidence::{self, NewEvidence, Target};
use app::services::storage::{Storage, UploadError, UPLOADS_PER_USER};
use app::services::{Actor, ServiceError};
use app::state::AppState;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/releases/{id}/evidence",
            get(list)
                .post(upload)
                // The upload checks its own (much larger) limit while streaming.
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/releases/{id}/evidence/{evidence}",
            get(download_in_release),
        )
        .route(
            "/releases/{id}/evidence/{evidence}/thumbnail",
            get(thumbnail),
        )
        .route("/releases/{id}/evidence/{evidence}/retract", post(retract))
        .route("/evidence/{evidence}", get(download))
}

/// Whether a request is an evidence upload, which streams past the general body limit.
pub fn is_upload(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST
        && path
            .strip_prefix("/api/v1/releases/")
            .and_then(|rest| rest.strip_suffix("/evidence"))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

fn actor(u: &ApiUser) -> Actor {
    Actor::User(u.0.user.clone())
}

/// What an upload answers, per file.
#[derive(Serialize)]
struct Uploaded {
    id: i64,
    sha256: String,
    size: i64,
    content_type: String,
    filename: String,
    kind: Kind,
    attached_to: app::domain::evidence::AttachedTo,
    item: Option<String>,
}

impl From<Evidence> for Uploaded {
    fn from(e: Evidence) -> Self {
        Uploaded {
            id: e.id,
            sha256: e.sha256,
            size: e.size,
            content_type: e.content_type,
            filename: e.filename,
            kind: e.kind,
            attached_to: e.attached_to,
            item: e.item_key,
        }
    }
}

#[derive(Deserialize)]
struct UploadQuery {
    filename: Option<String>,
    item: Option<String>,
    section: Option<String>,
    /// A page to go back to after a plain HTML form upload (no JavaScript).
    #[serde(rename = "return")]
    return_to: Option<String>,
}

fn upload_error(e: UploadError) -> ApiError {
    match e {
        UploadError::TooLarge { max } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "The file is larger than the limit of {} MB.",
                max / 1_000_000
            ),
        ),
        UploadError::Body(why) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "upload_incomplete",
            format!("The upload did not arrive completely ({why}); nothing was stored."),
        ),
        UploadError::Store(e) => {
            tracing::error!(error = %e, "evidence storage failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "The evidence storage is not available right now; nothing was stored.",
            )
        }
    }
}

fn too_large(storage: &Storage) -> ApiError {
    upload_error(UploadError::TooLarge {
        max: storage.max_bytes,
    })
}

/// Streams one file into storage (at most `budget` bytes) and describes it; nothing is
/// recorded yet. A failed upload leaves no object.
async fn store_one<S, E>(
    state: &AppState,
    target: &Target,
    filename: &str,
    claimed: Option<String>,
    body: S,
    budget: u64,
) -> Result<NewEvidence, ApiError>
where
    S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let key = Storage::new_key(target.release_id);
    let stored = state
        .storage
        .put_stream(&key, body, budget)
        .await
        .map_err(upload_error)?;
    let new = NewEvidence {
        target: target.clone(),
        storage_key: stored.key.clone(),
        filename: sanitize_filename(filename),
        original_name: recorded_name(filename),
        size: stored.size as i64,
        content_type: stored.sniffed.content_type.to_string(),
        kind: stored.sniffed.kind,
        claimed_type: claimed.map(|c| c.chars().take(200).collect()),
        sha256: stored.sha256,
    };
    if stored.size == 0 {
        discard(state, std::slice::from_ref(&new)).await;
        return Err(ApiError {
            field: Some("file"),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "The file is empty; an empty file proves nothing.",
            )
        });
    }
    Ok(new)
}

/// Removes stored objects that will not be recorded.
async fn discard(state: &AppState, stored: &[NewEvidence]) {
    for n in stored {
        if let Err(e) = state.storage.delete(&n.storage_key).await {
            tracing::error!(error = %e, key = %n.storage_key, "could not remove an unrecorded upload");
        }
    }
}

/// Records everything stored in one transaction; if that fails, the objects go.
async fn record(
    state: &AppState,
    actor: &Actor,
    stored: Vec<NewEvidence>,
) -> Result<Vec<Evidence>, ApiError> {
    match evidence::record_all(&state.pool, actor, stored.clone()).await {
        Ok(list) => Ok(list),
        Err(err) => {
            discard(state, &stored).await;
            Err(err.into())
        }
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn invalid(field: &'static str, message: &str) -> ApiError {
    ApiError {
        field: Some(field),
        ..ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message.to_string(),
        )
    }
}

/// The longest `item` or `section` form field read.
const MAX_FIELD_BYTES: usize = 1024;

/// A short text field of a multipart form, read with a cap.
async fn short_field(mut field: axum::extract::multipart::Field<'_>) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "upload_incomplete", e.body_text()))?
    {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_FIELD_BYTES {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_multipart",
                "A form field other than a file is too long.",
            ));
        }
    }
    String::from_utf8(buf).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_multipart",
            "A form field is not UTF-8.",
        )
    })
}

/// `POST /releases/{id}/evidence`: `multipart/form-data` with one or more files (and
/// optional `item` / `section` fields before them), or a raw body with `?filename=` and
/// optional `&item=` / `&section=`. One file answers 201 with it; several with a list.
/// All files of a request are recorded together or not at all, and the size limit holds
/// for the request as a whole. The work runs in its own task, so a client that hangs up
/// after sending does not leave a stored object without its record.
async fn upload(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let Some(slot) = state.storage.upload_slot(user.0.user.id) else {
        return Err(too_many_uploads(app::i18n::request_lang(req.headers())));
    };
    let actor = actor(&user);
    // The slot is held until the stored files are recorded or discarded, even if the
    // client has gone.
    tokio::spawn(async move {
        let _slot = slot;
        upload_task(state, actor, id, q, req).await
    })
    .await
    .map_err(|_| ApiError::from(ServiceError::Internal("upload task".into())))?
}

/// The answer to one upload more than [`UPLOADS_PER_USER`] at once: a refusal, not a fault.
fn too_many_uploads(lang: Lang) -> ApiError {
    let message = match lang {
        Lang::En => format!(
            "You already have {UPLOADS_PER_USER} uploads running. Wait until one has finished, then send this file again."
        ),
        Lang::De => format!(
            "Sie haben bereits {UPLOADS_PER_USER} laufende Uploads. Bitte warten, bis einer fertig ist, und diese Datei dann erneut senden."
        ),
    };
    ApiError {
        retry_after: Some(5),
        ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
    }
}

async fn upload_task(
    state: AppState,
    actor: Actor,
    id: i64,
    q: UploadQuery,
    req: Request,
) -> Result<Response, ApiError> {
    // Who may, where, and whether the way back is sane: all before a byte is read.
    let return_to = match q.return_to.as_deref() {
        None => None,
        Some(p)
            if p.starts_with("/releases/")
                && !p.contains("//")
                && p.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Some(p.to_string())
        }
        Some(_) => return Err(invalid("return", "Not a page of Shipgate.")),
    };
    let upfront = evidence::check_target(
        &state.pool,
        &actor,
        id,
        q.section.as_deref(),
        q.item.as_deref(),
    )
    .await?;
    let headers = req.headers().clone();
    let max = state.storage.max_bytes;
    if content_length(&headers).is_some_and(|n| n > max + 64 * 1024) {
        return Err(too_large(&state.storage));
    }
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let mut stored: Vec<NewEvidence> = Vec::new();
    let outcome: Result<(), ApiError> = async {
        if is_multipart {
            let mut form = Multipart::from_request(req, &state).await.map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_multipart", e.body_text())
            })?;
            let (mut item, mut section) = (q.item.clone(), q.section.clone());
            let mut target: Option<Target> = None;
            while let Some(field) = form.next_field().await.map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "upload_incomplete",
                    format!("The upload did not arrive completely ({e}); nothing was stored."),
                )
            })? {
                let filename = field.file_name().map(str::to_string);
                let Some(filename) = filename else {
                    let name = field.name().unwrap_or_default().to_string();
                    if target.is_some() && (name == "item" || name == "section") {
                        return Err(invalid("item", "Send item and section before the files."));
                    }
                    let value = short_field(field).await?;
                    match name.as_str() {
                        "item" => item = Some(value),
                        "section" => section = Some(value),
                        _ => {}
                    }
                    continue;
                };
                // A form sent without choosing a file has an empty, nameless file part.
                if filename.is_empty() {
                    continue;
                }
                let t = match &target {
                    Some(t) => t.clone(),
                    // No form fields changed where the files go: checked already.
                    None if (&item, &section) == (&q.item, &q.section) => {
                        target = Some(upfront.clone());
                        upfront.clone()
                    }
                    None => {
                        let t = evidence::check_target(
                            &state.pool,
                            &actor,
                            id,
                            section.as_deref(),
                            item.as_deref(),
                        )
                        .await?;
                        target = Some(t.clone());
                        t
                    }
                };
                let claimed = field.content_type().map(str::to_string);
                let used: u64 = stored.iter().map(|n| n.size as u64).sum();
                let budget = max.saturating_sub(used);
                stored.push(
                    store_one(&state, &t, &filename, claimed, Box::pin(field), budget).await?,
                );
            }
            if stored.is_empty() {
                return Err(invalid("file", "Choose at least one file."));
            }
        } else {
            let Some(filename) = q.filename.as_deref().filter(|f| !f.trim().is_empty()) else {
                return Err(invalid(
                    "filename",
                    "Name the file: ?filename=… (or send multipart/form-data).",
                ));
            };
            let target = upfront.clone();
            let claimed = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = Box::pin(req.into_body().into_data_stream());
            stored.push(store_one(&state, &target, filename, claimed, body, max).await?);
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        discard(&state, &stored).await;
        return Err(e);
    }
    let mut recorded = record(&state, &actor, stored).await?;
    // A plain HTML form goes back to the page it came from.
    if let Some(to) = return_to {
        return Ok(Redirect::to(&to).into_response());
    }
    let body = if recorded.len() == 1 {
        serde_json::to_value(Uploaded::from(recorded.remove(0)))
    } else {
        serde_json::to_value(recorded.into_iter().map(Uploaded::from).collect::<Vec<_>>())
    };
    Ok((StatusCode::CREATED, Json(body.unwrap_or_default())).into_response())
}

async fn list(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Evidence>>, ApiError> {
    Ok(Json(evidence::list_for(&state.pool, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetractRequest {
    reason: String,
}

async fn retract(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, evidence_id)): Path<(i64, i64)>,
    ApiJson(body): ApiJson<RetractRequest>,
) -> Result<Json<Evidence>, ApiError> {
    Ok(Json(
        evidence::retract(&state.pool, &actor(&user), id, evidence_id, &body.reason).await?,
    ))
}

async fn download_in_release(
    State(state): State<AppState>,
    _: ApiUser,
    Path((id, evidence_id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (e, key) = evidence::locate(&state.pool, Some(id), evidence_id).await?;
    serve(&state.storage, &e, &key, &headers).await
}

async fn download(
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
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "The stored file cannot be read right now.",
            )
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

/// Images larger than this get no thumbnail (a download icon instead).
const MAX_THUMBNAIL_SOURCE: i64 = 40_000_000;
const THUMBNAIL_PX: u32 = 320;

/// A 320-pixel PNG of an image, made on first request and kept in storage beside it.
async fn thumbnail(
    State(state): State<AppState>,
    _: ApiUser,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let (e, key) = evidence::locate(&state.pool, Some(id), evidence_id).await?;
    if e.kind != Kind::Image || e.size > MAX_THUMBNAIL_SOURCE {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_thumbnail",
            "This evidence has no thumbnail.",
        ));
    }
    let thumb_key = format!("thumbnails/{key}.png");
    if let Ok(bytes) = state.storage.read(&thumb_key).await {
        return Ok(png_response(bytes.to_vec()));
    }
    // Decoding is heavy: a couple at a time, whatever the gallery asks for. The source
    // (up to 40 MB) is read only once a decoder is free, so waiting requests hold no bytes.
    static DECODERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let _permit = DECODERS
        .acquire()
        .await
        .map_err(|_| ApiError::from(ServiceError::Internal("thumbnail decoders closed".into())))?;
    let png = match state.storage.read(&thumb_key).await {
        // Made while this request waited for a decoder.
        Ok(bytes) => bytes.to_vec(),
        Err(_) => {
            let source = state.storage.read(&key).await.map_err(|err| {
                tracing::error!(error = %err, key, "evidence image unreadable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "The stored file cannot be read right now.",
                )
            })?;
            let png = tokio::task::spawn_blocking(move || make_thumbnail(&source))
                .await
                .map_err(|_| ApiError::from(ServiceError::Internal("thumbnail task".into())))?
                .map_err(|why| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "not_an_image",
                        format!("The image cannot be decoded: {why}"),
                    )
                })?;
            if let Err(err) = state.storage.put_small(&thumb_key, png.clone()).await {
                tracing::warn!(error = %err, "thumbnail not cached");
            }
            png
        }
    };
    Ok(png_response(png))
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

fn make_thumbnail(source: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(source))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(128 * 1024 * 1024);
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| e.to_string())?;
    // Small images stay as they are; `thumbnail` alone would blow them up.
    let img = if img.width() > THUMBNAIL_PX || img.height() > THUMBNAIL_PX {
        img.thumbnail(THUMBNAIL_PX, THUMBNAIL_PX)
    } else {
        img
    };
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
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
    fn thumbnails_shrink_large_images_and_leave_small_ones() {
        let encode = |w, h| {
            let mut out = std::io::Cursor::new(Vec::new());
            image::RgbImage::new(w, h)
                .write_to(&mut out, image::ImageFormat::Png)
                .unwrap();
            out.into_inner()
        };
        let size = |png: Vec<u8>| {
            let img = image::load_from_memory(&png).unwrap();
            (img.width(), img.height())
        };
        assert_eq!(
            size(make_thumbnail(&encode(1000, 500)).unwrap()),
            (320, 160)
        );
        assert_eq!(size(make_thumbnail(&encode(24, 16)).unwrap()), (24, 16));
        assert!(make_thumbnail(b"not an image").is_err());
    }

    #[test]
    fn uploads_are_recognised_by_path() {
        let post = axum::http::Method::POST;
        assert!(is_upload(&post, "/api/v1/releases/12/evidence"));
        assert!(!is_upload(&post, "/api/v1/releases/12/evidence/3/retract"));
        assert!(!is_upload(
            &axum::http::Method::GET,
            "/api/v1/releases/12/evidence"
        ));
        assert!(!is_upload(&post, "/api/v1/releases//evidence"));
    }

    #[test]
    fn dispositions_keep_names_but_not_quotes() {
        let v = disposition(false, "a\"b ü.log");
        let s = v.to_str().unwrap();
        assert!(s.starts_with("attachment; filename=\"a_b _.log\""), "{s}");
        assert!(s.ends_with("filename*=UTF-8''a%22b%20%C3%BC.log"), "{s}");
    }
}
