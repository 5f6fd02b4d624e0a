//! `bench-baseline ADDR`: `GET /releases/{id}` answered by one indexed query, as JSON.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};

async fn release(
    State(pool): State<PgPool>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, StatusCode> {
    let row = sqlx::query(
        "SELECT id, title, version, environment, phase, window_start::text AS window_start
         FROM releases WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&pool)
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
    .ok_or(StatusCode::NOT_FOUND)?;
    Ok(Json(json!({
        "id": row.get::<i64, _>("id"),
        "title": row.get::<String, _>("title"),
        "version": row.get::<String, _>("version"),
        "environment": row.get::<String, _>("environment"),
        "phase": row.get::<String, _>("phase"),
        "window_start": row.get::<String, _>("window_start"),
    })))
}

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3100".into());
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect(&url)
        .await
        .expect("database");
    let app = Router::new()
        .route("/releases/{id}", get(release))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
