//! Server functions behind the release pages. Thin: find the caller, call a service.

#[cfg(feature = "ssr")]
use crate::domain::release::Phase;
use crate::domain::release::{Blocker, Deadline};
use crate::domain::release_model::{
    AuditLine, ChecklistItem, GateReport, KnownIssue, Release, SignOffView,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A release in the list: what blocks it and its next deadline.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReleaseRow {
    pub release: Release,
    pub deadline: Option<Deadline>,
    pub blockers: Vec<Blocker>,
    /// Going live while the target environment has an open P1.
    pub rollback_suggested: bool,
}

/// Everything the release page shows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReleaseDetails {
    pub release: Release,
    pub deadline: Option<Deadline>,
    pub checklist: Vec<ChecklistItem>,
    pub known_issues: Vec<KnownIssue>,
    pub sign_offs: Vec<SignOffView>,
    pub staging: GateReport,
    pub go_live: GateReport,
    pub audit: Vec<AuditLine>,
    /// Everything attached, retracted pieces included.
    pub evidence: Vec<crate::domain::evidence::Evidence>,
    /// Going live while the target environment has an open P1.
    pub rollback_suggested: bool,
    /// The go-live as recorded and what comes next; from the go-live on.
    pub going_live: Option<crate::domain::golive::GoLiveOverview>,
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::actions::ssr_support::*;
}

#[server]
pub async fn list_releases() -> Result<Vec<ReleaseRow>, ServerFnError> {
    use crate::domain::release::next_deadline;
    use crate::services::releases;
    ssr::current_user()?;
    let state = ssr::state();
    let now = chrono::Utc::now();
    let mut rows = vec![];
    for id in releases::list_ids(&state.pool, false)
        .await
        .map_err(ssr::fail)?
    {
        // Each release as the release page has it: read again only when it changed.
        let view = match state.release_views.get(&state.pool, id).await {
            Ok(v) => v,
            // Gone since the list was read.
            Err(crate::services::ServiceError::NotFound) => continue,
            Err(e) => return Err(ssr::fail(e)),
        };
        let snap = &view.snapshot;
        let gate = match snap.release.phase {
            Phase::Draft | Phase::StagingGate => snap.staging_gate(),
            _ => snap.go_live_gate_for(&view.content_hash, now),
        };
        rows.push(ReleaseRow {
            deadline: next_deadline(snap.release.phase, snap.release.window_start, now),
            blockers: gate.blockers,
            rollback_suggested: crate::domain::monitoring::rollback_suggested(
                snap.release.phase,
                view.rollback.is_some(),
            ),
            release: snap.release.clone(),
        });
    }
    Ok(rows)
}

#[allow(clippy::too_many_arguments)]
#[server]
pub async fn create_release(
    title: String,
    version: String,
    environment: String,
    window_start: String,
    window_end: String,
    strategy: String,
    release_captain: String,
    product_owner: String,
) -> Result<(), ServerFnError> {
    use crate::domain::time::parse_berlin_local;
    use crate::services::releases::{self, ReleaseInput};
    use crate::services::ServiceError;
    let actor = ssr::actor()?;
    let start = parse_berlin_local(&window_start).ok_or_else(|| {
        ssr::fail(ServiceError::invalid(
            "window_start",
            "Enter when the go-live window starts.",
            "Bitte den Beginn des Go-Live-Fensters angeben.",
        ))
    })?;
    let end = parse_berlin_local(&window_end).ok_or_else(|| {
        ssr::fail(ServiceError::invalid(
            "window_end",
            "Enter when the go-live window ends.",
            "Bitte das Ende des Go-Live-Fensters angeben.",
        ))
    })?;
    let opt = |s: String| (!s.trim().is_empty()).then_some(s);
    let created = releases::create(
        &ssr::state().pool,
        &actor,
        ReleaseInput {
            title: Some(title),
            version: Some(version),
            environment: Some(environment),
            window_start: Some(start),
            window_end: Some(end),
            strategy: Some(strategy),
            release_captain: opt(release_captain),
            product_owner: opt(product_owner),
            ..Default::default()
        },
    )
    .await
    .map_err(ssr::fail)?;
    leptos_axum::redirect(&format!("/releases/{}", created.id));
    Ok(())
}

#[server]
pub async fn load_release_details(id: i64) -> Result<ReleaseDetails, ServerFnError> {
    use crate::domain::release::next_deadline;
    ssr::current_user()?;
    let state = ssr::state();
    let now = chrono::Utc::now();
    let view = state
        .release_views
        .get(&state.pool, id)
        .await
        .map_err(ssr::fail)?;
    let (snap, hash) = (&view.snapshot, view.content_hash.as_str());
    let going_live = match snap.release.phase {
        Phase::GoLive | Phase::Done | Phase::RolledBack => Some(
            crate::services::golive::overview_of(&state.pool, &state.status, snap, hash, now)
                .await
                .map_err(ssr::fail)?,
        ),
        _ => None,
    };
    Ok(ReleaseDetails {
        going_live,
        deadline: next_deadline(snap.release.phase, snap.release.window_start, now),
        sign_offs: snap.sign_off_views_for(hash),
        staging: snap.staging_gate(),
        go_live: snap.go_live_gate_for(hash, now),
        audit: view.audit.clone(),
        release: snap.release.clone(),
        checklist: snap.checklist.clone(),
        known_issues: snap.known_issues.clone(),
        evidence: snap.evidence.clone(),
        rollback_suggested: crate::domain::monitoring::rollback_suggested(
            snap.release.phase,
            view.rollback.is_some(),
        ),
    })
}

#[server]
pub async fn set_item(
    release_id: i64,
    key: String,
    state: String,
    reason: Option<String>,
    link: Option<String>,
    note: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::services::checklists::{self, ItemChange};
    let actor = ssr::actor()?;
    checklists::set_item(
        &ssr::state().pool,
        &actor,
        release_id,
        &key,
        ItemChange {
            state: Some(state),
            reason,
            link,
            note,
            ..Default::default()
        },
    )
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

#[server]
pub async fn add_known_issue(
    release_id: i64,
    key: String,
    severity: String,
    title: String,
) -> Result<(), ServerFnError> {
    use crate::services::checklists::{self, NewKnownIssue};
    let actor = ssr::actor()?;
    checklists::add_known_issue(
        &ssr::state().pool,
        &actor,
        release_id,
        NewKnownIssue {
            key,
            severity,
            title,
        },
    )
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

#[server]
pub async fn settle_known_issue(
    release_id: i64,
    issue_id: i64,
    accept_reason: Option<String>,
) -> Result<(), ServerFnError> {
    let actor = ssr::actor()?;
    let reason = accept_reason.filter(|r| !r.trim().is_empty());
    crate::services::checklists::settle_known_issue(
        &ssr::state().pool,
        &actor,
        release_id,
        issue_id,
        reason.as_deref(),
    )
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

#[server]
pub async fn request_phase(release_id: i64, to: String) -> Result<(), ServerFnError> {
    use crate::services::{releases, ServiceError};
    let actor = ssr::actor()?;
    let to = Phase::parse(&to).ok_or_else(|| ssr::unknown("phase"))?;
    let (_, blockers) = releases::transition(&ssr::state().pool, &actor, release_id, to, None)
        .await
        .map_err(ssr::fail)?;
    if !blockers.is_empty() {
        return Err(ssr::fail(ServiceError::Conflict {
            en: "Not yet: the blockers listed on this page must be cleared first.",
            de: "Noch nicht: zuerst müssen die auf dieser Seite genannten Hindernisse ausgeräumt werden.",
        }));
    }
    Ok(())
}

#[server]
pub async fn sign(
    release_id: i64,
    role: String,
    decision: String,
    comment: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::domain::release::{Decision, SignerRole};
    let me = ssr::current_user()?;
    let role = SignerRole::parse(&role).ok_or_else(|| ssr::unknown("role"))?;
    let decision = Decision::parse(&decision).ok_or_else(|| ssr::unknown("decision"))?;
    crate::services::signoffs::sign_off(
        &ssr::state().pool,
        &me,
        release_id,
        role,
        decision,
        comment.as_deref(),
        chrono::Utc::now(),
    )
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

#[server]
pub async fn set_preconditions(
    release_id: i64,
    revision: i32,
    last_backup_at: String,
    last_restore_test_at: String,
    on_call: String,
    down_migration: String,
) -> Result<(), ServerFnError> {
    use crate::domain::time::parse_berlin_local;
    use crate::services::releases::{self, ReleaseInput};
    let actor = ssr::actor()?;
    let pool = ssr::state().pool;
    let current = releases::get(&pool, release_id).await.map_err(ssr::fail)?;
    let mut links = current.links.clone();
    links.down_migration =
        (!down_migration.trim().is_empty()).then(|| down_migration.trim().to_string());
    releases::update(
        &pool,
        &actor,
        release_id,
        ReleaseInput {
            revision: Some(revision),
            last_backup_at: parse_berlin_local(&last_backup_at),
            last_restore_test_at: parse_berlin_local(&last_restore_test_at),
            on_call: Some(on_call),
            links: Some(links),
            ..Default::default()
        },
    )
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

#[server]
pub async fn list_templates() -> Result<Vec<crate::domain::templates::TemplateItem>, ServerFnError>
{
    ssr::current_user()?;
    crate::services::templates::list(&ssr::state().pool)
        .await
        .map_err(ssr::fail)
}

#[server]
pub async fn add_template_item(
    kind: String,
    text_de: String,
    text_en: String,
    evidence_required: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::services::templates::{add, NewTemplateItem};
    let actor = ssr::actor()?;
    add(
        &ssr::state().pool,
        &actor,
        NewTemplateItem {
            kind,
            text_de,
            text_en,
            evidence_required: evidence_required.is_some(),
            ..Default::default()
        },
    )
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

/// `op` is `up`, `down`, `evidence_on`, `evidence_off` or `remove`.
#[server]
pub async fn edit_template_item(id: i64, op: String) -> Result<(), ServerFnError> {
    use crate::services::templates::{change, remove, TemplateChange};
    let actor = ssr::actor()?;
    let pool = ssr::state().pool;
    let c = |move_by, evidence_required| TemplateChange {
        move_by,
        evidence_required,
    };
    match op.as_str() {
        "up" => change(&pool, &actor, id, c(Some(-1), None)).await,
        "down" => change(&pool, &actor, id, c(Some(1), None)).await,
        "evidence_on" => change(&pool, &actor, id, c(None, Some(true))).await,
        "evidence_off" => change(&pool, &actor, id, c(None, Some(false))).await,
        "remove" => remove(&pool, &actor, id).await,
        _ => return Err(ssr::unknown("op")),
    }
    .map_err(ssr::fail)
}

/// The edit form on the release page; `revision` guards against overwriting someone else.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn update_release(
    release_id: i64,
    revision: i32,
    title: String,
    version: String,
    environment: String,
    staging_environment: String,
    window_start: String,
    window_end: String,
    strategy: String,
    release_captain: String,
    product_owner: String,
    artifact_version: String,
    commit_sha: String,
    changelog: String,
    rollback_plan: String,
    backup_restore: Option<String>,
    canary_hold_minutes: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::services::releases::{self, ReleaseInput};
    use crate::services::ServiceError;
    let actor = ssr::actor()?;
    let pool = ssr::state().pool;
    let when = ssr::berlin_time;
    let current = releases::get(&pool, release_id).await.map_err(ssr::fail)?;
    let mut links = current.links.clone();
    let link = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
    links.changelog = link(changelog);
    links.rollback_plan = link(rollback_plan);
    if let Some(v) = backup_restore {
        links.backup_restore = link(v);
    }
    releases::update(
        &pool,
        &actor,
        release_id,
        ReleaseInput {
            revision: Some(revision),
            title: Some(title),
            version: Some(version),
            environment: Some(environment),
            staging_environment: Some(staging_environment),
            window_start: Some(when("window_start", &window_start)?),
            window_end: Some(when("window_end", &window_end)?),
            strategy: Some(strategy),
            release_captain: Some(release_captain),
            product_owner: Some(product_owner),
            artifact_version: Some(artifact_version),
            commit_sha: Some(commit_sha),
            links: Some(links),
            canary_hold_minutes: match canary_hold_minutes.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(v.parse().map_err(|_| {
                    ssr::fail(ServiceError::invalid(
                        "canary_hold_minutes",
                        "The hold time is 0 to 1440 minutes.",
                        "Die Haltezeit beträgt 0 bis 1440 Minuten.",
                    ))
                })?),
            },
            ..Default::default()
        },
    )
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

/// Fills a health-check item from the probes: a snapshot as evidence, passed or failed.
#[server]
pub async fn check_item_from_probes(release_id: i64, key: String) -> Result<bool, ServerFnError> {
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
    .await
    .map_err(ssr::fail)?;
    Ok(checked.passed)
}
