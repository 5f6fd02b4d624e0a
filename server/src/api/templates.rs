//! `/api/v1/templates`: the checklist templates new releases copy. Admins edit them.

use super::{ApiError, ApiJson, ApiUser};
use app::services::templates::{self, NewTemplateItem, TemplateChange, TemplateItem};
use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/templates", get(list).post(add))
        .route("/templates/{id}", patch(change).delete(remove))
}

async fn list(
    State(state): State<AppState>,
    _: ApiUser,
) -> Result<Json<Vec<TemplateItem>>, ApiError> {
    Ok(Json(templates::list(&state.pool).await?))
}

async fn add(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    ApiJson(new): ApiJson<NewTemplateItem>,
) -> Result<(StatusCode, Json<TemplateItem>), ApiError> {
    let item = templates::add(&state.pool, &me.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

async fn change(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
    ApiJson(c): ApiJson<TemplateChange>,
) -> Result<StatusCode, ApiError> {
    templates::change(&state.pool, &me.actor(), id, c).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    templates::remove(&state.pool, &me.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
