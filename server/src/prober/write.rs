//! Recording probe results: batched, a few tries each.

use app::services::probes::{self, ProbeResult};
use std::time::Duration;
use tokio::sync::mpsc;

const BATCH_EVERY: Duration = Duration::from_millis(250);
const BATCH_MAX: usize = 2000;

pub(super) async fn write_results(
    pool: sqlx::PgPool,
    replica: String,
    mut results: mpsc::Receiver<ProbeResult>,
) {
    let mut batch = Vec::with_capacity(BATCH_MAX);
    loop {
        let Some(first) = results.recv().await else {
            return;
        };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + BATCH_EVERY;
        while batch.len() < BATCH_MAX {
            match tokio::time::timeout_at(deadline, results.recv()).await {
                Ok(Some(r)) => batch.push(r),
                Ok(None) | Err(_) => break,
            }
        }
        for attempt in 1..=3 {
            match probes::record_probe_batch(&pool, &replica, &batch).await {
                Ok(()) => break,
                Err(e) if attempt < 3 => {
                    tracing::debug!(error = %e, attempt, "writing probe results failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, results = batch.len(), "writing probe results failed")
                }
            }
        }
        batch.clear();
    }
}
