//! `/api/v1/…/evidence`: attach files to a release (multipart or a raw body), list them,
//! download them (with Range), thumbnails of images, and retracting. Uploads are read in
//! `upload`, bytes are served from `serve`; the rules live in `app::services::evidence`.

mod serve;
mod upload;

pub use serve::{parse_range, Unsatisfiable};

use super::{ApiError, ApiJson, ApiUser};
use app::domain::evidence::Evidence;
use app::services::evidence;
use app::state::AppState;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/releases/{id}/evidence",
            get(list)
                .post(upload::upload)
                // The upload checks its own (much larger) limit while streaming.
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/releases/{id}/evidence/{evidence}",
            get(serve::download_in_release),
        )
        .route(
            "/releases/{id}/evidence/{evidence}/thumbnail",
            get(serve::thumbnail),
        )
        .route("/releases/{id}/evidence/{evidence}/retract", post(retract))
        .route("/evidence/{evidence}", get(serve::download))
}

/// Whether a request is an evidence upload, which streams past the general body limit.
pub fn is_upload(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST
        && path
            .strip_prefix("/api/v1/releases/")
            .and_then(|rest| rest.strip_suffix("/evidence"))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
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
        evidence::retract(&state.pool, &user.actor(), id, evidence_id, &body.reason).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
