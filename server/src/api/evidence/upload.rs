//! `POST /releases/{id}/evidence`: reads the upload (a multipart form or a raw body) and
//! hands each file to the attach use case, which stores, checks and records them.

use crate::api::{ApiError, ApiUser};
use app::domain::evidence::{Evidence, Kind};
use app::i18n::Lang;
use app::services::evidence::attach::{AttachError, Batch};
use app::services::evidence::{self, Place};
use app::services::storage::{Storage, UploadError, UPLOADS_PER_USER};
use app::services::{Actor, ServiceError};
use app::state::AppState;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

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
pub(super) struct UploadQuery {
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
            ApiError::storage_unavailable(
                "The evidence storage is not available right now; nothing was stored.",
            )
        }
    }
}

impl From<AttachError> for ApiError {
    fn from(e: AttachError) -> Self {
        match e {
            AttachError::Upload(e) => upload_error(e),
            AttachError::Service(e) => e.into(),
        }
    }
}

fn too_large(storage: &Storage) -> ApiError {
    upload_error(UploadError::TooLarge {
        max: storage.max_bytes,
    })
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
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
pub(super) async fn upload(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let Some(slot) = state.storage.upload_slot(user.0.user.id) else {
        return Err(too_many_uploads(app::i18n::request_lang(req.headers())));
    };
    let actor = user.actor();
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
        Some(_) => return Err(ApiError::invalid("return", "Not a page of Shipgate.")),
    };
    let upfront = evidence::check_place(
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
    let mut batch = Batch::new(&state.storage);
    let outcome: Result<(), ApiError> = async {
        if is_multipart {
            let mut form = Multipart::from_request(req, &state).await.map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_multipart", e.body_text())
            })?;
            let (mut item, mut section) = (q.item.clone(), q.section.clone());
            let mut place: Option<Place> = None;
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
                    if place.is_some() && (name == "item" || name == "section") {
                        return Err(ApiError::invalid(
                            "item",
                            "Send item and section before the files.",
                        ));
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
                let t = match &place {
                    Some(t) => t.clone(),
                    // No form fields changed where the files go: checked already.
                    None if (&item, &section) == (&q.item, &q.section) => {
                        place = Some(upfront.clone());
                        upfront.clone()
                    }
                    None => {
                        let t = evidence::check_place(
                            &state.pool,
                            &actor,
                            id,
                            section.as_deref(),
                            item.as_deref(),
                        )
                        .await?;
                        place = Some(t.clone());
                        t
                    }
                };
                let claimed = field.content_type().map(str::to_string);
                batch.store(&t, &filename, claimed, Box::pin(field)).await?;
            }
        } else {
            let Some(filename) = q.filename.as_deref().filter(|f| !f.trim().is_empty()) else {
                return Err(ApiError::invalid(
                    "filename",
                    "Name the file: ?filename=… (or send multipart/form-data).",
                ));
            };
            let place = upfront.clone();
            let claimed = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = Box::pin(req.into_body().into_data_stream());
            batch.store(&place, filename, claimed, body).await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        batch.discard().await;
        return Err(e);
    }
    // Nothing chosen at all is refused here ("Choose at least one file.").
    let mut recorded = batch.record(&state.pool, &actor).await?;
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
