//! A release's way through its phases: the phase changes people ask for (checked against
//! the gates), the ones use cases make (sign-offs, go-live, rollback), each with its audit
//! row, and sealing the dossier when a release ends.

use super::audit::{self, Entry};
use super::release_store::{bump, checklist, go_live_started, known_issues, load, lock};
use super::{dossier, Actor, ServiceError};
use crate::domain::release::content::{gate_issues, gate_items};
use crate::domain::release::{
    phase_change_blockers, staging_gate_blockers, Blocker, Phase, PhaseChangeFacts,
};
use crate::domain::release_model::Release;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

/// A phase change someone asked for (start the staging gate, move on to Go/No-Go, back to
/// draft). Only the assigned release captain or an admin.
pub async fn change_phase(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    to: Phase,
    expected_revision: Option<i32>,
) -> Result<(Release, Vec<Blocker>), ServiceError> {
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, id, expected_revision).await?;
    actor.require_steer(&r)?;
    let items = checklist(&mut tx, id).await?;
    let issues = known_issues(&mut tx, id).await?;
    let staging = staging_gate_blockers(&gate_items(&items), &gate_issues(&issues));
    let blockers = phase_change_blockers(
        to,
        &PhaseChangeFacts {
            phase: r.phase,
            has_window: r.window_end > r.window_start,
            captain_assigned: r.release_captain.is_some(),
            owner_assigned: r.product_owner.is_some(),
            staging_blockers: &staging,
            go_live_started: go_live_started(&mut tx, id).await?,
        },
    );
    if !blockers.is_empty() {
        return Ok((r, blockers));
    }
    apply_phase_change(&mut tx, actor, &r, to).await?;
    let after = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok((after, vec![]))
}

/// Writes a phase change with its audit row (inside the caller's transaction).
pub async fn apply_phase_change(
    conn: &mut PgConnection,
    actor: &Actor,
    before: &Release,
    to: Phase,
) -> Result<(), ServiceError> {
    sqlx::query!(
        "UPDATE releases SET phase = $2 WHERE id = $1",
        before.id,
        to.as_str()
    )
    .execute(&mut *conn)
    .await?;
    bump(conn, before.id).await?;
    audit::append(
        conn,
        actor,
        Entry {
            action: "release.phase",
            release_id: Some(before.id),
            old: Some(json!({ "phase": before.phase })),
            new: Some(json!({ "phase": to })),
        },
    )
    .await?;
    // An ended release is sealed in the same transaction: its dossier is what it ended as.
    if to.is_final() {
        dossier::seal(conn, actor, before.id).await?;
    }
    Ok(())
}
