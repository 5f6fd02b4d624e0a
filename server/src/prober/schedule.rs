//! Claiming due endpoints and starting their probes, each at its own moment.

use super::probe::probe;
use crate::config::ProbeSettings;
use app::services::probes::{self, ProbeResult};
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// Endpoints due within this horizon are claimed in one go; each probe then waits for
/// its own moment.
const CLAIM_HORIZON_MS: i64 = 1000;
const CLAIM_EVERY: Duration = Duration::from_millis(400);
const CLAIM_LIMIT: i64 = 2000;

pub(super) async fn schedule(
    pool: sqlx::PgPool,
    settings: ProbeSettings,
    client: reqwest::Client,
    to_writer: mpsc::Sender<ProbeResult>,
) {
    let permits = Arc::new(Semaphore::new(settings.concurrency));
    let targets = super::targets(&settings);
    loop {
        let claimed = match probes::claim_due(
            &pool,
            &settings.replica,
            CLAIM_HORIZON_MS,
            CLAIM_LIMIT,
        )
        .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "claiming due probes failed");
                Vec::new()
            }
        };
        let full = claimed.len() as i64 == CLAIM_LIMIT;
        for due in claimed {
            let client = client.clone();
            let permits = permits.clone();
            let to_writer = to_writer.clone();
            tokio::spawn(async move {
                let wait = (due.scheduled_at - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let Ok(_permit) = permits.acquire_owned().await else {
                    return;
                };
                let result = probe(&client, &due, targets).await;
                let _ = to_writer.send(result).await;
            });
        }
        if !full {
            tokio::time::sleep(CLAIM_EVERY).await;
        }
    }
}
