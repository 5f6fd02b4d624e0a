//! `/api/v1/releases/{id}/go-live…`, `…/rollback`, `…/dossier` and `/api/v1/freezes`: the
//! go-live recorded step by step, the rollback, the sealed dossier, freeze windows.

use super::releases::blocked;
use super::{ApiError, ApiJson, ApiUser};
use app::domain::golive::{Freeze, GoLiveOverview, StepKind};
use app::i18n::Lang;
use app::services::dossier;
use app::services::freezes::{self, FreezeInput};
use app::services::golive::{self, RollbackInput};
use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/releases/{id}/go-live", get(overview))
        .route("/releases/{id}/go-live/start", post(start))
        .route("/releases/{id}/go-live/steps", post(step))
        .route("/releases/{id}/go-live/complete", post(complete))
        .route("/releases/{id}/rollback", post(rollback))
        .route("/releases/{id}/dossier", get(export))
        .route("/freezes", get(list_freezes).post(add_freeze))
        .route("/freezes/{id}", delete(remove_freeze))
}

async fn overview(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<GoLiveOverview>, ApiError> {
    Ok(Json(
        golive::overview(&state.pool, &state.status, id, Utc::now()).await?,
    ))
}

/// The overview after a change, or 409 with what blocked it.
async fn answer(
    state: &AppState,
    id: i64,
    blockers: Vec<app::domain::release::Blocker>,
    message: &str,
) -> Result<Response, ApiError> {
    if !blockers.is_empty() {
        return Ok(blocked("go_live_blocked", message, blockers));
    }
    let now = Utc::now();
    Ok(Json(golive::overview(&state.pool, &state.status, id, now).await?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct StartRequest {
    override_reason: Option<String>,
}

async fn start(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    body: bytes::Bytes,
) -> Result<Response, ApiError> {
    // The body is optional: `{"override_reason"}` only when starting outside the window.
    let req: StartRequest = if body.iter().all(u8::is_ascii_whitespace) {
        StartRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::invalid(
                "body",
                format!("The body is not a valid start request: {e}"),
            )
        })?
    };
    let blockers = golive::start(
        &state.pool,
        &user.actor(),
        id,
        req.override_reason.as_deref(),
        Utc::now(),
    )
    .await?;
    answer(&state, id, blockers, "The go-live cannot start now.").await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepRequest {
    step: String,
    #[serde(default)]
    stage_pct: Option<i32>,
    #[serde(default)]
    note: Option<String>,
}

async fn step(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<StepRequest>,
) -> Result<Response, ApiError> {
    let kind = StepKind::parse(&req.step).ok_or_else(|| {
        ApiError::invalid(
            "step",
            "Unknown step: pre_checks, deploy_green, smoke_tests, switch_traffic, canary_stage or mark_green_prod.",
        )
    })?;
    let blockers = golive::record_step(
        &state.pool,
        &state.status,
        &user.actor(),
        id,
        kind,
        req.stage_pct,
        req.note.as_deref(),
        Utc::now(),
    )
    .await?;
    answer(&state, id, blockers, "This step cannot be recorded now.").await
}

async fn complete(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let blockers = golive::complete(&state.pool, &user.actor(), id, Utc::now()).await?;
    answer(&state, id, blockers, "The go-live cannot be completed yet.").await
}

async fn rollback(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<RollbackInput>,
) -> Result<Response, ApiError> {
    let blockers = golive::rollback(&state.pool, &user.actor(), id, req).await?;
    answer(&state, id, blockers, "The release cannot be rolled back.").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ExportQuery {
    format: Option<String>,
    lang: Option<String>,
}

/// The sealed dossier: JSON as stored (verifiable with `shipgate dossier verify`), or
/// `?format=md` as the filled-in protocol.
async fn export(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let disposition = |ext: &str| format!("attachment; filename=\"release-{id}-dossier.{ext}\"");
    match q.format.as_deref().unwrap_or("json") {
        "json" => {
            let text = dossier::export(&state.pool, id).await?;
            Ok((
                [
                    (header::CONTENT_TYPE, "application/json".to_string()),
                    (header::CONTENT_DISPOSITION, disposition("json")),
                ],
                text,
            )
                .into_response())
        }
        "md" | "markdown" => {
            let lang = match q.lang.as_deref() {
                Some("de") => Lang::De,
                Some("en") => Lang::En,
                _ => app::i18n::request_lang(&headers),
            };
            let sealed = dossier::sealed(&state.pool, id).await?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "text/markdown; charset=utf-8".to_string(),
                    ),
                    (header::CONTENT_DISPOSITION, disposition("md")),
                ],
                crate::dossier_markdown::markdown(&sealed, lang),
            )
                .into_response())
        }
        _ => Err(ApiError::invalid("format", "format is json or md.")),
    }
}

async fn list_freezes(
    State(state): State<AppState>,
    _: ApiUser,
) -> Result<Json<Vec<Freeze>>, ApiError> {
    Ok(Json(freezes::list(&state.pool, Utc::now()).await?))
}

async fn add_freeze(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(input): ApiJson<FreezeInput>,
) -> Result<(StatusCode, Json<Freeze>), ApiError> {
    let f = freezes::create(&state.pool, &user.actor(), input).await?;
    Ok((StatusCode::CREATED, Json(f)))
}

async fn remove_freeze(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    freezes::delete(&state.pool, &user.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
