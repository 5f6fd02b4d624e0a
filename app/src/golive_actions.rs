//! Server functions behind the go-live panel, the rollback, the dossier page and freeze
//! windows. Thin: find the caller, call a service.

use crate::domain::dossier::SealedDossier;
use crate::domain::golive::{Freeze, TargetHealth};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::actions::ssr_support::*;
    use crate::domain::release::Blocker;
    use leptos::prelude::ServerFnError;

    /// A refusal naming what blocks it, in the caller's language.
    pub fn blocked(blockers: &[Blocker]) -> Result<(), ServerFnError> {
        if blockers.is_empty() {
            return Ok(());
        }
        let lang = lang();
        let why: Vec<String> = blockers
            .iter()
            .map(|b| crate::ui::releases::blocker_text(lang, b))
            .collect();
        Err(refuse(
            http::StatusCode::CONFLICT,
            format!(
                "{} {}",
                lang.pick("Not yet:", "Noch nicht:"),
                why.join("; ")
            ),
        ))
    }
}

#[server]
pub async fn start_go_live(
    release_id: i64,
    override_reason: Option<String>,
) -> Result<(), ServerFnError> {
    let actor = ssr::actor()?;
    let blockers = crate::services::golive::start(
        &ssr::state().pool,
        &actor,
        release_id,
        override_reason.as_deref(),
        chrono::Utc::now(),
    )
    .await
    .map_err(ssr::fail)?;
    ssr::blocked(&blockers)
}

#[server]
pub async fn record_go_live_step(
    release_id: i64,
    step: String,
    stage_pct: Option<i32>,
    note: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::domain::golive::StepKind;
    let actor = ssr::actor()?;
    let state = ssr::state();
    let kind = StepKind::parse(&step).ok_or_else(|| ssr::unknown("step"))?;
    let blockers = crate::services::golive::record_step(
        &state.pool,
        &state.status,
        &actor,
        release_id,
        kind,
        stage_pct,
        note.as_deref(),
        chrono::Utc::now(),
    )
    .await
    .map_err(ssr::fail)?;
    ssr::blocked(&blockers)
}

#[server]
pub async fn complete_go_live(release_id: i64) -> Result<(), ServerFnError> {
    let actor = ssr::actor()?;
    let blockers = crate::services::golive::complete(
        &ssr::state().pool,
        &actor,
        release_id,
        chrono::Utc::now(),
    )
    .await
    .map_err(ssr::fail)?;
    ssr::blocked(&blockers)
}

/// Checkboxes arrive as `Some("on")` when ticked.
#[server]
pub async fn roll_back(
    release_id: i64,
    reason: String,
    status_page_updated: Option<String>,
    team_alerted: Option<String>,
) -> Result<(), ServerFnError> {
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
    .await
    .map_err(ssr::fail)?;
    ssr::blocked(&blockers)
}

/// The release's target environment as the probes see it now.
#[server]
pub async fn load_target_health(release_id: i64) -> Result<TargetHealth, ServerFnError> {
    ssr::current_user()?;
    let state = ssr::state();
    let release = crate::services::releases::get(&state.pool, release_id)
        .await
        .map_err(ssr::fail)?;
    crate::services::golive::target_health(
        &state.pool,
        &state.status,
        &release.environment,
        chrono::Utc::now(),
    )
    .await
    .map_err(ssr::fail)
}

#[server]
pub async fn load_dossier(release_id: i64) -> Result<SealedDossier, ServerFnError> {
    ssr::current_user()?;
    crate::services::dossier::sealed(&ssr::state().pool, release_id)
        .await
        .map_err(ssr::fail)
}

#[server]
pub async fn list_freezes() -> Result<Vec<Freeze>, ServerFnError> {
    ssr::current_user()?;
    crate::services::freezes::list(&ssr::state().pool, chrono::Utc::now())
        .await
        .map_err(ssr::fail)
}

/// Times as entered, in Europe/Berlin.
#[server]
pub async fn add_freeze(
    environment: String,
    starts_at: String,
    ends_at: String,
    reason: String,
) -> Result<(), ServerFnError> {
    use crate::services::freezes::{create, FreezeInput};
    let actor = ssr::actor()?;
    let when = ssr::berlin_time;
    create(
        &ssr::state().pool,
        &actor,
        FreezeInput {
            environment,
            starts_at: when("starts_at", &starts_at)?,
            ends_at: when("ends_at", &ends_at)?,
            reason,
        },
    )
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

#[server]
pub async fn remove_freeze(id: i64) -> Result<(), ServerFnError> {
    let actor = ssr::actor()?;
    crate::services::freezes::delete(&ssr::state().pool, &actor, id)
        .await
        .map_err(ssr::fail)
}
