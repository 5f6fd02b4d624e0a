//! `/api/v1/releases…`: releases, checklists, known issues, gates, sign-offs, deployments
//! and environment checks for CI/CD. Roles are checked by the services.

use super::{ApiError, ApiJson, ApiUser};
use app::domain::release::input::ReleaseInput;
use app::domain::release::{next_deadline, Blocker, Decision, Phase, SignerRole};
use app::domain::release_model::GateReport;
use app::domain::release_model::Release;
use app::services::checklists::{self, Deployment, ItemChange, NewKnownIssue, VariableReport};
use app::services::{audit, signoffs};
use app::services::{lifecycle, release_store, releases};
use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/releases", get(list).post(create))
        .route("/releases/{id}", get(show).patch(update))
        .route("/releases/{id}/phase", post(change_phase))
        .route("/releases/{id}/checklist", get(checklist))
        .route("/releases/{id}/checklist/{item}", patch(set_item))
        .route(
            "/releases/{id}/known-issues",
            get(known_issues).post(add_known_issue),
        )
        .route(
            "/releases/{id}/known-issues/{issue}/resolve",
            post(resolve_known_issue),
        )
        .route(
            "/releases/{id}/known-issues/{issue}/accept",
            post(accept_known_issue),
        )
        .route("/releases/{id}/gates/staging", get(staging_gate))
        .route("/releases/{id}/gates/go-live", get(go_live_gate))
        .route("/releases/{id}/sign-offs", get(sign_offs).post(sign))
        .route("/releases/{id}/deployments", post(deployment))
        .route("/releases/{id}/env-check", post(check_variables))
        .route("/releases/{id}/audit", get(audit_trail))
}

/// A release with its next deadline (T-12h staging gate, T-1h Go/No-Go).
#[derive(Serialize)]
struct ReleaseBody {
    #[serde(flatten)]
    release: Release,
    next_deadline: Option<app::domain::release::Deadline>,
    /// Going live while the target environment opened a P1.
    #[serde(skip_serializing_if = "Option::is_none")]
    rollback_suggested: Option<app::domain::monitoring_model::RollbackMark>,
}

fn body(release: Release) -> ReleaseBody {
    let next_deadline = next_deadline(release.phase, release.window_start, Utc::now());
    ReleaseBody {
        release,
        next_deadline,
        rollback_suggested: None,
    }
}

/// Bodies with their "rollback suggested" marks.
async fn marked(pool: &sqlx::PgPool, list: Vec<Release>) -> Result<Vec<ReleaseBody>, ApiError> {
    // Only a release going live shows the mark: the others cost no query.
    let ids: Vec<i64> = list
        .iter()
        .filter(|r| app::domain::monitoring::rollback_suggested(r.phase, true))
        .map(|r| r.id)
        .collect();
    let mut marks = if ids.is_empty() {
        Default::default()
    } else {
        release_store::rollback_marks(pool, &ids).await?
    };
    Ok(list
        .into_iter()
        .map(|r| {
            let mark = marks
                .remove(&r.id)
                .filter(|_| app::domain::monitoring::rollback_suggested(r.phase, true));
            ReleaseBody {
                rollback_suggested: mark,
                ..body(r)
            }
        })
        .collect())
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    all: bool,
}

async fn list(
    State(state): State<AppState>,
    _: ApiUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<Vec<ReleaseBody>>, ApiError> {
    let list = release_store::list(&state.pool, q.all).await?;
    Ok(Json(marked(&state.pool, list).await?))
}

async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(input): ApiJson<ReleaseInput>,
) -> Result<(StatusCode, Json<ReleaseBody>), ApiError> {
    let created = releases::create(&state.pool, &user.actor(), input).await?;
    Ok((StatusCode::CREATED, Json(body(created))))
}

async fn show(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<ReleaseBody>, ApiError> {
    let release = release_store::get(&state.pool, id).await?;
    let mut one = marked(&state.pool, vec![release]).await?;
    Ok(Json(one.remove(0)))
}

async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ReleaseInput>,
) -> Result<Json<ReleaseBody>, ApiError> {
    Ok(Json(body(
        releases::update(&state.pool, &user.actor(), id, input).await?,
    )))
}

/// A refusal that explains itself: the error shape plus the blockers.
pub(super) fn blocked(code: &'static str, message: &str, blockers: Vec<Blocker>) -> Response {
    (
        StatusCode::CONFLICT,
        Json(json!({
            "error": { "code": code, "message": message },
            "passed": false,
            "blockers": blockers,
        })),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhaseRequest {
    to: String,
    #[serde(default)]
    revision: Option<i32>,
}

async fn change_phase(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<PhaseRequest>,
) -> Result<Response, ApiError> {
    let to = Phase::parse(&req.to).ok_or_else(|| ApiError::invalid("to", "Unknown phase."))?;
    let (release, blockers) =
        lifecycle::change_phase(&state.pool, &user.actor(), id, to, req.revision).await?;
    if blockers.is_empty() {
        Ok(Json(body(release)).into_response())
    } else {
        Ok(blocked(
            "transition_blocked",
            "The release cannot move to that phase yet.",
            blockers,
        ))
    }
}

async fn checklist(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(release_store::checklist_of(&state.pool, id).await?).into_response())
}

async fn set_item(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, item)): Path<(i64, String)>,
    ApiJson(change): ApiJson<ItemChange>,
) -> Result<Response, ApiError> {
    let item = checklists::set_item(&state.pool, &user.actor(), id, &item, change).await?;
    Ok(Json(item).into_response())
}

async fn known_issues(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(release_store::known_issues_of(&state.pool, id).await?).into_response())
}

async fn add_known_issue(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(new): ApiJson<NewKnownIssue>,
) -> Result<Response, ApiError> {
    let issue = checklists::add_known_issue(&state.pool, &user.actor(), id, new).await?;
    Ok((StatusCode::CREATED, Json(issue)).into_response())
}

async fn resolve_known_issue(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, issue)): Path<(i64, i64)>,
) -> Result<Response, ApiError> {
    let issue = checklists::settle_known_issue(&state.pool, &user.actor(), id, issue, None).await?;
    Ok(Json(issue).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Acceptance {
    reason: String,
}

async fn accept_known_issue(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, issue)): Path<(i64, i64)>,
    ApiJson(a): ApiJson<Acceptance>,
) -> Result<Response, ApiError> {
    let issue =
        checklists::settle_known_issue(&state.pool, &user.actor(), id, issue, Some(&a.reason))
            .await?;
    Ok(Json(issue).into_response())
}

/// 200 when the gate is open, 409 with the blockers when not: `curl --fail` blocks a deploy.
fn gate(report: GateReport) -> Response {
    let status = if report.passed {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    (status, Json(report)).into_response()
}

async fn staging_gate(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(gate(release_store::staging_gate(&state.pool, id).await?))
}

async fn go_live_gate(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(gate(
        release_store::go_live_gate(&state.pool, id, Utc::now()).await?,
    ))
}

async fn sign_offs(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(Json(release_store::sign_off_views_of(&state.pool, id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignRequest {
    role: String,
    decision: String,
    #[serde(default)]
    comment: Option<String>,
}

/// Signing works with a browser session only; a token gets 403 from the sign-off policy.
async fn sign(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(req): ApiJson<SignRequest>,
) -> Result<Response, ApiError> {
    let role = SignerRole::parse(&req.role)
        .ok_or_else(|| ApiError::invalid("role", "Role is product_owner or release_captain."))?;
    let decision = Decision::parse(&req.decision)
        .ok_or_else(|| ApiError::invalid("decision", "Decision is go or no_go."))?;
    let verdict = signoffs::sign_off(
        &state.pool,
        &user.0,
        id,
        role,
        decision,
        req.comment.as_deref(),
        Utc::now(),
    )
    .await?;
    let release = release_store::get(&state.pool, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "verdict": verdict, "release": body(release) })),
    )
        .into_response())
}

async fn deployment(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(d): ApiJson<Deployment>,
) -> Result<Response, ApiError> {
    let filled = checklists::record_deployment(&state.pool, &user.actor(), id, d).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "checklist_item": filled })),
    )
        .into_response())
}

async fn check_variables(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(c): ApiJson<VariableReport>,
) -> Result<Response, ApiError> {
    let result = checklists::check_variables(&state.pool, &user.actor(), id, c).await?;
    let status = if result.passed {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    Ok((status, Json(result)).into_response())
}

async fn audit_trail(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    release_store::get(&state.pool, id).await?;
    Ok(Json(audit::for_release(&state.pool, id, 500).await?).into_response())
}
