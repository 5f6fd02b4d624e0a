//! `/api/v1/archive` (ended releases searched) and `/api/v1/metrics/delivery` (per month).
//! Any signed-in role reads both.

use super::{ApiError, ApiUser};
use app::domain::archive_model::{ArchivePage, ArchiveQuery, MonthMetrics};
use app::services::{archive, metrics, ServiceError};
use app::state::AppState;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde::Serialize;
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/archive", get(search))
        .route("/metrics/delivery", get(delivery))
}

/// The parameters arrive as text, so that an empty one (as a GET form sends it) counts as
/// absent and an unreadable one is a validation error naming its field.
type Params = Query<HashMap<String, String>>;

async fn search(
    State(state): State<AppState>,
    _: ApiUser,
    Query(params): Params,
) -> Result<Json<ArchivePage>, ApiError> {
    let query = ArchiveQuery::from_params(|k| params.get(k).cloned())
        .map_err(|e| ServiceError::invalid(e.field, e.en, e.de))?;
    Ok(Json(archive::search(&state.pool, &query).await?))
}

#[derive(Serialize)]
struct Delivery {
    months: Vec<MonthMetrics>,
}

/// How many months back when the query does not say.
const DEFAULT_MONTHS: u32 = 12;

async fn delivery(
    State(state): State<AppState>,
    _: ApiUser,
    Query(params): Params,
) -> Result<Json<Delivery>, ApiError> {
    let months = match params
        .get("months")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => DEFAULT_MONTHS,
        Some(v) => v.parse::<u32>().map_err(|_| {
            ServiceError::invalid(
                "months",
                "Choose 1 to 36 months.",
                "Bitte 1 bis 36 Monate wählen.",
            )
        })?,
    };
    Ok(Json(Delivery {
        months: metrics::monthly(&state.pool, months, Utc::now()).await?,
    }))
}
