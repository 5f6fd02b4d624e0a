//! `GET /api/v1/audit`: the whole audit trail for admins, newest first, filtered and paged.
//! The per-release trail stays at `/releases/{id}/audit`.

use super::{ApiError, ApiUser};
use app::services::audit::{self, TrailPage, TrailQuery};
use app::state::AppState;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(trail))
}

/// The parameters arrive as text, so that an empty one (as a GET form sends it) counts as
/// absent and an unreadable one is a validation error naming its field.
async fn trail(
    State(state): State<AppState>,
    user: ApiUser,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<TrailPage>, ApiError> {
    user.require_admin()?;
    let query = TrailQuery::from_params(|k| params.get(k).cloned())?;
    let page = audit::trail(&state.pool, &user.actor(), &query).await?;
    Ok(Json(page))
}
