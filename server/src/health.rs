//! Shipgate's own `/health` (the process runs) and `/readiness` (its database answers).

use app::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::time::Duration;

pub async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

const DB_PING_TIMEOUT: Duration = Duration::from_secs(1);

pub async fn readiness(State(state): State<AppState>) -> Response {
    let ping = tokio::time::timeout(
        DB_PING_TIMEOUT,
        sqlx::query("SELECT 1").execute(&state.pool),
    )
    .await;
    let reason = match ping {
        Ok(Ok(_)) => return Json(json!({ "status": "ready", "database": "ok" })).into_response(),
        Ok(Err(e)) => format!("database ping failed: {e}"),
        Err(_) => format!(
            "database ping took longer than {} ms",
            DB_PING_TIMEOUT.as_millis()
        ),
    };
    // The database's own words (host names, user names) are for the operator's log, not
    // for whoever asks: readiness is answered to anonymous callers.
    tracing::warn!(%reason, "not ready");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "database": "unreachable" })),
    )
        .into_response()
}
