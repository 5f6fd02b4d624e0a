//! Server functions for work on a release: checklist items (by hand or from the probes) and
//! known issues.

use super::Refusal;
use crate::domain::release::{ItemState, Severity};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn set_item(
    release_id: i64,
    key: String,
    state: ItemState,
    reason: Option<String>,
    link: Option<String>,
    note: Option<String>,
) -> Result<(), Refusal> {
    use crate::services::checklists::{self, ItemChange};
    let actor = ssr::actor()?;
    checklists::set_item(
        &ssr::state().pool,
        &actor,
        release_id,
        &key,
        ItemChange {
            state: Some(state.as_str().to_string()),
            reason,
            link,
            note,
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

#[server]
pub async fn add_known_issue(
    release_id: i64,
    key: String,
    severity: Severity,
    title: String,
) -> Result<(), Refusal> {
    use crate::services::checklists::{self, NewKnownIssue};
    let actor = ssr::actor()?;
    checklists::add_known_issue(
        &ssr::state().pool,
        &actor,
        release_id,
        NewKnownIssue {
            key,
            severity: severity.as_str().to_string(),
            title,
        },
    )
    .await?;
    Ok(())
}

/// Resolves a known issue, or accepts it when a reason is given.
#[server]
pub async fn settle_known_issue(
    release_id: i64,
    issue_id: i64,
    accept_reason: Option<String>,
) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    let reason = accept_reason.filter(|r| !r.trim().is_empty());
    crate::services::checklists::settle_known_issue(
        &ssr::state().pool,
        &actor,
        release_id,
        issue_id,
        reason.as_deref(),
    )
    .await?;
    Ok(())
}

/// Fills a health-check item from the probes: a snapshot as evidence, passed or failed.
#[server]
pub async fn check_item_from_probes(release_id: i64, key: String) -> Result<bool, Refusal> {
    let actor = ssr::actor()?;
    let state = ssr::state();
    let checked = crate::services::probe_evidence::check_item(
        &state.pool,
        &state.storage,
        &state.status,
        &actor,
        release_id,
        &key,
        chrono::Utc::now(),
    )
    .await?;
    Ok(checked.passed)
}
