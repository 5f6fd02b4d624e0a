//! What a page needs, assembled once for every edge that shows it: the release list and
//! the release page, each release read from the page cache ([`ReleaseViews`]) so an
//! unchanged release costs no queries.

use super::page_cache::ReleaseViews;
use super::status::StatusHub;
use super::{golive, release_store, ServiceError};
use crate::domain::monitoring::rollback_suggested;
use crate::domain::release::{next_deadline, Phase};
use crate::domain::release_model::{ReleaseDetails, ReleaseRow};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// The releases not yet ended, each with what blocks it now and its next deadline.
pub async fn release_rows(
    pool: &PgPool,
    views: &ReleaseViews,
    now: DateTime<Utc>,
) -> Result<Vec<ReleaseRow>, ServiceError> {
    let mut rows = vec![];
    for id in release_store::list_ids(pool, false).await? {
        let view = match views.get(pool, id).await {
            Ok(v) => v,
            // Gone since the list was read.
            Err(ServiceError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        let snap = &view.snapshot;
        let gate = match snap.release.phase {
            Phase::Draft | Phase::StagingGate => snap.staging_gate(),
            _ => snap.go_live_gate_for(&view.content_hash, now),
        };
        rows.push(ReleaseRow {
            deadline: next_deadline(snap.release.phase, snap.release.window_start, now),
            blockers: gate.blockers,
            rollback_suggested: rollback_suggested(snap.release.phase, view.rollback.is_some()),
            release: snap.release.clone(),
        });
    }
    Ok(rows)
}

/// Everything the release page shows about one release.
pub async fn release_details(
    pool: &PgPool,
    views: &ReleaseViews,
    hub: &StatusHub,
    id: i64,
    now: DateTime<Utc>,
) -> Result<ReleaseDetails, ServiceError> {
    let view = views.get(pool, id).await?;
    let (snap, hash) = (&view.snapshot, view.content_hash.as_str());
    let going_live = match snap.release.phase {
        Phase::GoLive | Phase::Done | Phase::RolledBack => {
            Some(golive::overview_of(pool, hub, snap, hash, now).await?)
        }
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
        rollback_suggested: rollback_suggested(snap.release.phase, view.rollback.is_some()),
        content_hash: hash.to_string(),
    })
}
