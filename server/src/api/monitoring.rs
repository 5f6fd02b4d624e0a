//! `/api/v1/environments…`, `/alerts`, `/monitoring/settings`, `/webhooks…`, the
//! `/outbox`, the team-wide `/status` (JSON, and a server-sent event stream) and the public
//! status.
//! Everyone signed in reads; admins change. Roles are checked by the services.

use super::{ApiError, ApiJson, ApiUser};
use app::auth;
use app::domain::account::Credential;
use app::domain::monitoring_model::{
    Alert, Environment, EnvironmentStatus, MonitoringSettings, Webhook,
};
use app::domain::notify::OutboxEntry;
use app::services::alerts::{self, NewWebhook, Which};
use app::services::environments::{self, EnvironmentInput};
use app::services::notifications::outbox;
use app::services::status::{Published, StreamTicket};
use app::services::{probe_evidence, tokens, ServiceError};
use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Utc;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tower_sessions::Session;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/environments", get(list).post(create))
        .route("/environments/{id}", get(show).patch(update).delete(remove))
        .route("/environments/{id}/status", get(environment_status))
        .route("/alerts", get(alert_list))
        .route("/monitoring/settings", get(settings).put(set_settings))
        .route("/webhooks", get(webhooks).post(add_webhook))
        .route("/webhooks/deliveries", get(deliveries))
        .route("/outbox", get(outbox))
        .route(
            "/webhooks/{id}",
            delete(remove_webhook).patch(set_webhook_events),
        )
        .route("/status", get(status))
        .route("/status/stream", get(status_stream))
        .route("/public/status", get(public_status))
        .route(
            "/releases/{id}/checklist/{item}/probe-snapshot",
            post(probe_snapshot),
        )
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
    let targets = state.status.settings().targets;
    let env = environments::create(&state.pool, &user.actor(), input, targets).await?;
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
    let targets = state.status.settings().targets;
    Ok(Json(
        environments::update(&state.pool, &user.actor(), id, input, targets).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    environments::delete(&state.pool, &user.actor(), id).await?;
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
    let which = Which::parse(q.state.as_deref())
        .ok_or_else(|| ApiError::invalid("state", "state is one of open, resolved, all."))?;
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
        environments::set_settings(&state.pool, &user.actor(), new).await?,
    ))
}

async fn webhooks(
    State(state): State<AppState>,
    user: ApiUser,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    Ok(Json(alerts::webhooks(&state.pool, &user.actor()).await?))
}

async fn add_webhook(
    State(state): State<AppState>,
    user: ApiUser,
    ApiJson(new): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<Webhook>), ApiError> {
    let hook = alerts::add_webhook(&state.pool, &user.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

async fn remove_webhook(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    alerts::remove_webhook(&state.pool, &user.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct WebhookEvents {
    events: Vec<String>,
}

/// `PATCH /api/v1/webhooks/{id}` `{"events": [...]}`: the groups the channel gets.
async fn set_webhook_events(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<WebhookEvents>,
) -> Result<Json<Webhook>, ApiError> {
    let hook = alerts::set_webhook_events(&state.pool, &user.actor(), id, &body.events).await?;
    Ok(Json(hook))
}

#[derive(Deserialize)]
struct OutboxQuery {
    state: Option<String>,
    channel: Option<String>,
}

/// The team channels' messages in the outbox, newest first (`?state=` filters).
async fn deliveries(
    state: State<AppState>,
    user: ApiUser,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<Vec<OutboxEntry>>, ApiError> {
    let channel = Some("webhook".to_string());
    outbox(state, user, Query(OutboxQuery { channel, ..q })).await
}

/// Every e-mail and team-channel message, newest first (`?state=`, `?channel=` filter).
async fn outbox(
    State(state): State<AppState>,
    user: ApiUser,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<Vec<OutboxEntry>>, ApiError> {
    let (pool, actor) = (&state.pool, user.actor());
    Ok(Json(
        outbox::list(pool, &actor, q.state.as_deref(), q.channel.as_deref()).await?,
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
/// The caller's session or token is checked again before every snapshot and at least every
/// `stream_recheck`; the stream ends once it is no longer good (signed out, expired,
/// revoked, disabled). A user holds at most `streams_per_user` streams at once.
async fn status_stream(
    State(state): State<AppState>,
    user: ApiUser,
    session: Session,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let settings = state.status.settings();
    let ticket = state.status.open_stream(user.0.user.id).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!(
                "At most {} status streams per user may be open at once; close one first.",
                settings.streams_per_user
            ),
        )
    })?;
    let credential = match user.0.via {
        Credential::Token => HeldCredential::Token(
            crate::web::bearer_token(&headers)
                .unwrap_or_default()
                .to_string(),
        ),
        Credential::Session => HeldCredential::Session(session),
    };
    let viewer = Viewer {
        rx: state.status.subscribe(),
        user_id: user.0.user.id,
        state,
        credential,
        every: settings.stream_recheck,
        next_check: Instant::now() + settings.stream_recheck,
        first: true,
        _ticket: ticket,
    };
    let stream = futures_util::stream::unfold(viewer, |mut viewer| async move {
        let event = viewer.next_event().await?;
        Some((Ok::<_, Infallible>(event), viewer))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// What a stream's caller proved who they are with, to be asked again.
enum HeldCredential {
    Token(String),
    Session(Session),
}

/// One open status stream.
struct Viewer {
    state: AppState,
    credential: HeldCredential,
    user_id: i64,
    rx: watch::Receiver<Arc<Published>>,
    every: Duration,
    next_check: Instant,
    first: bool,
    _ticket: StreamTicket,
}

impl Viewer {
    /// The next snapshot to send, or `None` when the stream ends.
    async fn next_event(&mut self) -> Option<Event> {
        if self.first {
            // The request was checked a moment ago.
            self.first = false;
        } else {
            loop {
                let changed = tokio::select! {
                    changed = self.rx.changed() => Some(changed.is_ok()),
                    _ = tokio::time::sleep_until(self.next_check) => None,
                };
                match changed {
                    Some(true) => break,
                    Some(false) => return None,
                    None => {
                        if !self.still_signed_in().await {
                            return None;
                        }
                    }
                }
            }
            if !self.still_signed_in().await {
                return None;
            }
        }
        let current = self.rx.borrow_and_update().clone();
        let data = String::from_utf8_lossy(&current.json).into_owned();
        Some(Event::default().event("status").data(data))
    }

    /// Asks again, the way every request is asked: the session as stored now (a sign-out
    /// elsewhere deleted it), or the token. A failure to ask ends the stream too; the
    /// browser reconnects and is asked afresh.
    async fn still_signed_in(&mut self) -> bool {
        self.next_check = Instant::now() + self.every;
        let (state, user_id) = (&self.state, self.user_id);
        let user = match &self.credential {
            HeldCredential::Token(secret) => {
                tokens::authenticate(&state.pool, &state.auth_cache, secret).await
            }
            HeldCredential::Session(session) => match session.load().await {
                Ok(()) => auth::session_user(state, session).await,
                Err(e) => Err(ServiceError::Internal(format!("session store: {e}"))),
            },
        };
        match user {
            Ok(user) => user.is_some_and(|u| u.id == user_id),
            Err(e) => {
                tracing::warn!(error = %e, "checking a status stream's viewer again failed");
                false
            }
        }
    }
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
        &user.actor(),
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
