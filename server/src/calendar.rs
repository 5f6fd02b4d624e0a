//! `GET /calendar.ics?token=…`: a person's calendar feed, for calendar apps. The token in
//! the link is the only credential (calendar apps send no cookies), so the route needs no
//! session; a missing, unknown or revoked token is a plain 404 that says nothing more.

use app::services::{calendar, ServiceError};
use app::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
struct FeedQuery {
    token: Option<String>,
}

pub async fn feed(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    // Read by hand: a query axum could not parse is a feed not found, not a 400.
    let token = query
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str::<FeedQuery>(q).ok())
        .and_then(|q| q.token)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return not_found();
    };
    match calendar::feed(
        &state.pool,
        &token,
        &state.public_base_url,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(ics) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (
                    header::CONTENT_DISPOSITION,
                    "inline; filename=\"shipgate.ics\"",
                ),
            ],
            ics,
        )
            .into_response(),
        Err(ServiceError::NotFound) => not_found(),
        Err(e) => {
            if e.is_internal() {
                tracing::error!(error = %e, "calendar feed failed");
            }
            let status = e.status();
            (
                status,
                [(header::CACHE_CONTROL, "no-store")],
                "The calendar cannot be read right now; please try again later.\n",
            )
                .into_response()
        }
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "No such calendar feed.\n",
    )
        .into_response()
}
