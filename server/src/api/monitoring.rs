//! `/api/v1/environments…`, `/alerts`, `/monitoring/settings`, `/webhooks…`, the
//! team-wide `/status` (JSON, and a server-sent event stream) and the public status.
//! Everyone signed in reads; admins change. Roles are checked by the services.

use super::{ApiError, ApiJson, ApiUser};
use app::domain::monitoring_model::{
    Alert, Delivery, Environment, EnvironmentStatus, MonitoringSettings, Webhook,
};
use app::services::alerts::{self, NewWebhook, Which};
use app::services::environments::{self, EnvironmentInput};
use app::services::{probe_evidence, Actor};
use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Utc;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/environments", get(list).post(create))
        .route("/environments/{id}", get(show).patch(update).delete(remove))
        .route("/environments/{id}/status", get(environment_status))
        .route("/alerts", get(alert_list))
        .route("/monitoring/settings", get(settings).put(set_settings))
        .route("/webhooks", get(webhooks).post(add_webhook))
        .route("/webhooks/deliveries", get(deliveries))
        .route("/webhooks/{id}", delete(remove_webhook))
        .route("/status", get(status))
        .route("/status/stream", get(status_stream))
        .route("/public/status", get(public_status))
        .route(
            "/releases/{id}/checklist/{item}/probe-snapshot",
            post(probe_snapshot),
        )
}

fn actor(u: &ApiUser) -> Actor {
    Actor::User(u.0.user.clone())
}

async fn list(
    State(state): State<AppState>,
    _: ApiUser,
) -> Result<Json<Vec<Environment>>, ApiError> {
    Ok(Json(environments::list(&state.pool).await?))
}

async fn create(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(input): ApiJson<EnvironmentInput>,
) -> Result<(StatusCode, Json<Environment>), ApiError> {
    let env = environments::create(&state.pool, &actor(&user), input).await?;
    Ok((StatusCode::CREATED, Json(env)))
}

async fn show(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<Environment>, ApiError> {
    Ok(Json(environments::get(&state.pool, id).await?))
}

async fn update(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<EnvironmentInput>,
) -> Result<Json<Environment>, ApiError> {
    Ok(Json(
        environments::update(&state.pool, &actor(&user), id, input).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    environments::delete(&state.pool, &actor(&user), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn environment_status(
    State(state): State<AppState>,
    _: ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<EnvironmentStatus>, ApiError> {
    Ok(Json(
        state
            .status
            .environment(&state.pool, id, Utc::now())
            .await?,
    ))
}

#[derive(Deserialize)]
struct AlertQuery {
    state: Option<String>,
    environment: Option<i64>,
    limit: Option<i64>,
}

async fn alert_list(
    State(state): State<AppState>,
    _: ApiUser,
    Query(q): Query<AlertQuery>,
) -> Result<Json<Vec<Alert>>, ApiError> {
    let which = Which::parse(q.state.as_deref()).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "state is one of open, resolved, all.",
        )
    })?;
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    Ok(Json(
        alerts::list(&state.pool, which, q.environment, limit).await?,
    ))
}

async fn settings(
    State(state): State<AppState>,
    _: ApiUser,
) -> Result<Json<MonitoringSettings>, ApiError> {
    Ok(Json(environments::settings_of(&state.pool).await?))
}

async fn set_settings(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(new): ApiJson<MonitoringSettings>,
) -> Result<Json<MonitoringSettings>, ApiError> {
    Ok(Json(
        environments::set_settings(&state.pool, &actor(&user), new).await?,
    ))
}

async fn webhooks(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    Ok(Json(alerts::webhooks(&state.pool, &actor(&user)).await?))
}

async fn add_webhook(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(new): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<Webhook>), ApiError> {
    let hook = alerts::add_webhook(&state.pool, &actor(&user), new).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

async fn remove_webhook(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    alerts::remove_webhook(&state.pool, &actor(&user), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct DeliveryQuery {
    state: Option<String>,
}

async fn deliveries(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<DeliveryQuery>,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    Ok(Json(
        alerts::deliveries(&state.pool, &actor(&user), q.state.as_deref()).await?,
    ))
}

/// The status snapshot as every viewer gets it: the same bytes from memory.
async fn status(State(state): State<AppState>, _: ApiUser) -> Response {
    let current = state.status.current();
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        current.json.clone(),
    )
        .into_response()
}

/// Every new snapshot as a server-sent event (`event: status`), the current one first.
async fn status_stream(
    State(state): State<AppState>,
    _: ApiUser,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = state.status.subscribe();
    let stream = futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let current = rx.borrow_and_update().clone();
        let data = String::from_utf8_lossy(&current.json).into_owned();
        Some((Ok(Event::default().event("status").data(data)), (rx, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// The components' states without signing in, when an admin switched the public page on.
async fn public_status(State(state): State<AppState>) -> Result<Response, ApiError> {
    if !environments::settings_of(&state.pool)
        .await?
        .public_status_page
    {
        return Err(ApiError::not_found());
    }
    Ok(Json(json!(state.status.public())).into_response())
}

async fn probe_snapshot(
    State(state): State<AppState>,
    user: ApiUser,
    Path((id, item)): Path<(i64, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let checked = probe_evidence::check_item(
        &state.pool,
        &state.storage,
        &state.status,
        &actor(&user),
        id,
        &item,
        Utc::now(),
    )
    .await?;
    Ok(Json(json!({
        "passed": checked.passed,
        "item": checked.item,
        "evidence": checked.evidence,
    })))
}
