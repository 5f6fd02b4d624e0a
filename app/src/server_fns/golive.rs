//! Server functions behind the go-live panel and the rollback.

use super::Refusal;
use crate::domain::golive::{StepKind, TargetHealth};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn start_go_live(
    release_id: i64,
    override_reason: Option<String>,
) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    let blockers = crate::services::golive::start(
        &ssr::state().pool,
        &actor,
        release_id,
        override_reason.as_deref(),
        chrono::Utc::now(),
    )
    .await?;
    ssr::blocked("go_live_blocked", &blockers)
}

#[server]
pub async fn record_go_live_step(
    release_id: i64,
    step: StepKind,
    stage_pct: Option<i32>,
    note: Option<String>,
) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    let state = ssr::state();
    let blockers = crate::services::golive::record_step(
        &state.pool,
        &state.status,
        &actor,
        release_id,
        step,
        stage_pct,
        note.as_deref(),
        chrono::Utc::now(),
    )
    .await?;
    ssr::blocked("go_live_blocked", &blockers)
}

#[server]
pub async fn complete_go_live(release_id: i64) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    let blockers = crate::services::golive::complete(
        &ssr::state().pool,
        &actor,
        release_id,
        chrono::Utc::now(),
    )
    .await?;
    ssr::blocked("go_live_blocked", &blockers)
}

/// Checkboxes arrive as `Some("on")` when ticked.
#[server]
pub async fn roll_back(
    release_id: i64,
    reason: String,
    status_page_updated: Option<String>,
    team_alerted: Option<String>,
) -> Result<(), Refusal> {
    use crate::services::golive::{rollback, RollbackInput};
    let actor = ssr::actor()?;
    let blockers = rollback(
        &ssr::state().pool,
        &actor,
        release_id,
        RollbackInput {
            reason,
            status_page_updated: status_page_updated.is_some(),
            team_alerted: team_alerted.is_some(),
        },
    )
    .await?;
    ssr::blocked("go_live_blocked", &blockers)
}

/// The release's target environment as the probes see it now.
#[server]
pub async fn load_target_health(release_id: i64) -> Result<TargetHealth, Refusal> {
    ssr::current_user()?;
    let state = ssr::state();
    let release = crate::services::release_store::get(&state.pool, release_id).await?;
    Ok(crate::services::golive::target_health(
        &state.pool,
        &state.status,
        &release.environment,
        chrono::Utc::now(),
    )
    .await?)
}
