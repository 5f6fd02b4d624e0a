//! The status refresher: rebuilds the in-memory status when the status channel speaks.

use app::services::events::STATUS_CHANNEL;
use app::services::status::Changed;
use app::state::AppState;
use chrono::Utc;
use futures_util::FutureExt;
use sqlx::postgres::PgListener;
use std::time::Duration;

/// Without a notification the status is rebuilt this often anyway (countdowns move on).
const STATUS_FALLBACK: Duration = Duration::from_secs(10);

/// Rebuilds the in-memory status whenever the status channel speaks (and every few
/// seconds regardless); notifications arriving together cause one rebuild. A round of
/// probes re-reads probes only; anything else re-reads the releases too.
pub(super) async fn refresh_status(state: AppState) {
    let rebuild = |state: &AppState, changed: Changed| {
        let state = state.clone();
        async move {
            if let Err(e) = state
                .status
                .refresh(&state.pool, &state.release_views, changed, Utc::now())
                .await
            {
                tracing::warn!(error = %e, "refreshing the status view failed");
            }
        }
    };
    let kind = |payload: &str| {
        if payload == "probes" {
            Changed::Probes
        } else {
            Changed::Everything
        }
    };
    loop {
        let mut listener = match PgListener::connect_with(&state.pool).await {
            Ok(mut l) => match l.listen(STATUS_CHANNEL).await {
                Ok(()) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen on the status channel");
                    None
                }
            },
            Err(e) => {
                tracing::debug!(error = %e, "status listener cannot connect yet");
                None
            }
        };
        rebuild(&state, Changed::Everything).await;
        loop {
            let Some(l) = listener.as_mut() else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                break;
            };
            match tokio::time::timeout(STATUS_FALLBACK, l.recv()).await {
                Ok(Ok(first)) => {
                    // Let a burst of notifications settle, then drain it.
                    let mut changed = kind(first.payload());
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    while let Some(Ok(Some(n))) = l.try_recv().now_or_never() {
                        if kind(n.payload()) == Changed::Everything {
                            changed = Changed::Everything;
                        }
                    }
                    rebuild(&state, changed).await;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "status listener lost its connection");
                    break;
                }
                Err(_) => rebuild(&state, Changed::Everything).await,
            }
        }
    }
}
