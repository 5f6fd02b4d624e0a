//! `bench-baseline ADDR`: `GET /releases/{id}` answered by one indexed query, as JSON, and
//! `GET /static` answering the bytes of `$BASELINE_STATIC_FILE` from memory (the least a
//! server can do to hand out a prepared snapshot).
//! `bench-baseline target ADDR`: a probe target: `/ok/…` answers 200, `/hang/…` never.

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

/// Answers `/ok/…` at once and lets `/hang/…` wait forever.
async fn probe_target(addr: String) {
    async fn ok() -> &'static str {
        "ok"
    }
    async fn hang() -> &'static str {
        std::future::pending::<()>().await;
        "never"
    }
    let app = Router::new()
        .route("/ok/{*rest}", get(ok))
        .route("/hang/{*rest}", get(hang));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("target") {
        args.next();
        return probe_target(args.next().unwrap_or_else(|| "127.0.0.1:3200".into())).await;
    }
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3100".into());
    let snapshot = axum::body::Bytes::from(
        std::env::var("BASELINE_STATIC_FILE")
            .ok()
            .and_then(|f| std::fs::read(f).ok())
            .unwrap_or_default(),
    );
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect(&url)
        .await
        .expect("database");
    let app = Router::new()
        .route("/releases/{id}", get(release))
        .with_state(pool)
        .route(
            "/static",
            get(move || {
                let bytes = snapshot.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        bytes,
                    )
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
