//! The evaluator: states and alerts from the results, health items checked again when a
//! staging environment goes down, and old results forgotten.

use crate::config::ProbeSettings;
use app::services::probe_evidence;
use app::services::probes;
use app::state::AppState;
use chrono::Utc;
use std::time::{Duration, Instant};

pub(super) async fn evaluate(state: AppState, settings: ProbeSettings) {
    let pool = state.pool.clone();
    let mut tick = tokio::time::interval(settings.evaluate_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut forgot = Instant::now();
    loop {
        tick.tick().await;
        match probes::evaluate(&pool, Utc::now()).await {
            Ok(Some(e)) if !e.alerts.is_empty() || e.state_changes > 0 => {
                if !e.alerts.is_empty() {
                    tracing::info!(
                        alerts = e.alerts.len(),
                        state_changes = e.state_changes,
                        "alerts changed"
                    );
                }
                // A staging environment that went down fails the health items it passed.
                let (storage, hub) = (&state.storage, &state.status);
                match probe_evidence::recheck_after_change(&pool, storage, hub, Utc::now()).await {
                    Ok(checked) if !checked.is_empty() => {
                        tracing::info!(releases = ?checked, "health items checked again")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "checking health items again failed"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "evaluating probes failed"),
        }
        if forgot.elapsed() > Duration::from_secs(600) {
            forgot = Instant::now();
            if let Err(e) = probes::forget_old(
                &pool,
                settings.raw_retention_days,
                settings.rollup_retention_days,
            )
            .await
            {
                tracing::warn!(error = %e, "forgetting old probe results failed");
            }
        }
    }
}
