//! Background work inside `shipgate serve`: the prober (claims due endpoints, probes them
//! with one shared HTTP client, writes results in batches), the evaluator (states, alerts,
//! rollups, retention), the outbox worker (`crate::notify`), and the status refresher that listens on the
//! status channel so every replica's viewers see the same snapshot.
//!
//! One file per job: `schedule` claims due endpoints and starts their probes, `probe` asks
//! one endpoint and judges the answer, `guard` keeps probes and webhooks off refused
//! addresses, `write` records results, `evaluate` turns them into states and alerts,
//! `status` keeps the in-memory status current.

mod evaluate;
pub(crate) mod guard;
mod probe;
mod schedule;
mod status;
mod write;

pub use guard::probe_client;
pub use probe::{probe, BODY_CAP};

/// An HTTP error in words, without the URL (it may carry a token).
pub(crate) fn describe_error(e: &dyn std::error::Error) -> String {
    probe::describe(e)
}

use evaluate::evaluate;
use schedule::schedule;
use status::refresh_status;
use write::write_results;

use crate::config::{NotifySettings, ProbeSettings};
use app::domain::monitoring::TargetPolicy;
use app::services::probes::ProbeResult;
use app::services::status::HubSettings;
use app::state::AppState;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

fn targets(settings: &ProbeSettings) -> TargetPolicy {
    TargetPolicy {
        allow_link_local: settings.allow_link_local,
    }
}

/// Starts the background tasks; the status refresher and the outbox worker always, the
/// probes unless they are switched off. They get a pool of their own, so that neither the
/// status listener's standing connection nor a busy evaluator takes a connection a request
/// is waiting for.
pub fn spawn(
    state: &AppState,
    settings: &ProbeSettings,
    notify: &NotifySettings,
) -> Vec<JoinHandle<()>> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(6)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(state.pool.connect_options().as_ref().clone());
    let state = &AppState {
        pool,
        ..state.clone()
    };
    // Requests check environments and stream viewers against the same settings.
    state.status.configure(HubSettings {
        targets: targets(settings),
        stream_recheck: settings.status_stream_recheck,
        streams_per_user: settings.status_streams_per_user,
    });
    let mut tasks = vec![tokio::spawn(refresh_status(state.clone()))];
    // The outbox worker runs whether or not this process probes: e-mail and reminders do
    // not depend on it.
    let client = probe_client(targets(settings));
    let notifier = crate::notify::Notifier::new(
        state.pool.clone(),
        notify,
        client.clone(),
        targets(settings),
        &state.public_base_url,
        settings.webhook_retry_base,
        state.status.clone(),
    );
    tasks.push(tokio::spawn(notifier.run()));
    if !settings.enabled {
        return tasks;
    }
    let (to_writer, results) = mpsc::channel::<ProbeResult>(65_536);
    tasks.push(tokio::spawn(write_results(
        state.pool.clone(),
        settings.replica.clone(),
        results,
    )));
    tasks.push(tokio::spawn(schedule(
        state.pool.clone(),
        settings.clone(),
        client,
        to_writer,
    )));
    tasks.push(tokio::spawn(evaluate(state.clone(), settings.clone())));
    tasks
}
