//! The staging gate's health-check item filled from the probes: a snapshot of the staging
//! environment's latest results, with timestamps, kept as the item's evidence, and the
//! item passed or failed by what it shows.

use super::evidence::{self, NewEvidence};
use super::status::StatusHub;
use super::storage::Storage;
use super::{checklists, probes, release_store, Actor, ServiceError};
use crate::domain::evidence::{sniff, Evidence};
use crate::domain::monitoring::is_probed_item;
use crate::domain::release_model::ChecklistItem;
use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// Results per endpoint the snapshot keeps.
const RECENT: i64 = 10;

pub struct Checked {
    pub item: ChecklistItem,
    pub evidence: Evidence,
    pub passed: bool,
}

/// Takes the snapshot, attaches it to the item and passes or fails the item by it.
pub async fn check_item(
    pool: &PgPool,
    storage: &Storage,
    hub: &StatusHub,
    actor: &Actor,
    release_id: i64,
    item_key: &str,
    now: DateTime<Utc>,
) -> Result<Checked, ServiceError> {
    actor.require_worker()?;
    if !is_probed_item(item_key) {
        return Err(ServiceError::invalid(
            "item",
            "Only the health-check items are filled from the probes.",
            "Nur die Health-Check-Punkte werden aus den Checks befüllt.",
        ));
    }
    let place = evidence::check_place(pool, actor, release_id, None, Some(item_key)).await?;
    let release = release_store::get(pool, release_id).await?;
    let env_name = release.staging_environment.trim().to_string();
    let env_id = super::environments::id_by_name(pool, &env_name)
        .await?
        .ok_or(ServiceError::invalid(
        "environment",
        "The release's staging environment is not registered under Environments, so there are no probe results for it.",
        "Die Staging-Umgebung des Releases ist unter Umgebungen nicht eingetragen; es gibt keine Check-Ergebnisse dafür.",
    ))?;
    let status = hub.environment(pool, env_id, now).await?;
    let recent = probes::recent_results(pool, env_id, RECENT).await?;
    let why = status.health_item_failures();
    let passed = why.is_empty();
    let document = json!({
        "taken_at": now,
        "release": { "id": release.id, "title": release.title, "version": release.version },
        "item": item_key,
        "environment": { "id": env_id, "name": status.name },
        "verdict": if passed { "passed" } else { "failed" },
        "reasons": why,
        "status": status,
        "recent_results": recent,
    });
    let bytes =
        serde_json::to_vec_pretty(&document).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let key = Storage::new_key(release_id);
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let size = bytes.len() as i64;
    let sniffed = sniff(
        &bytes[..bytes.len().min(crate::domain::evidence::SNIFF_LEN)],
        bytes.len() <= crate::domain::evidence::SNIFF_LEN,
    );
    storage
        .put_small(&key, bytes)
        .await
        .map_err(|e| ServiceError::Internal(format!("storing the probe snapshot: {e}")))?;
    let filename = format!(
        "probe-snapshot-{}-{}.json",
        crate::domain::evidence::sanitize_filename(&env_name),
        now.format("%Y%m%dT%H%M%SZ")
    );
    // Recorded, or removed from storage again.
    let mut recorded = evidence::attach::record(
        pool,
        storage,
        actor,
        vec![NewEvidence {
            place,
            storage_key: key.clone(),
            filename: filename.clone(),
            original_name: filename,
            size,
            content_type: sniffed.content_type.to_string(),
            kind: sniffed.kind,
            claimed_type: Some("application/json".into()),
            sha256,
        }],
    )
    .await?;
    if recorded.is_empty() {
        return Err(ServiceError::Internal("probe snapshot not recorded".into()));
    }
    let evidence = recorded.remove(0);
    let note = if passed {
        format!(
            "Probes at {}: {} up, no open P1.",
            now.format("%Y-%m-%d %H:%M:%S UTC"),
            status.name
        )
    } else {
        format!(
            "Probes at {}: {}",
            now.format("%Y-%m-%d %H:%M:%S UTC"),
            why.join("; ")
        )
    };
    let item = checklists::set_item_as(
        pool,
        actor,
        release_id,
        item_key,
        checklists::ItemChange {
            state: Some(if passed { "passed" } else { "failed" }.into()),
            note: Some(note.chars().take(4000).collect()),
            ..Default::default()
        },
        true,
    )
    .await?;
    Ok(Checked {
        item,
        evidence,
        passed,
    })
}

/// Checks again, as Shipgate's probes, every passed health item whose staging environment
/// is now down or has an open P1, so the item fails with a fresh snapshot as its proof.
/// Returns the releases whose item was checked.
pub async fn recheck_after_change(
    pool: &PgPool,
    storage: &Storage,
    hub: &StatusHub,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, ServiceError> {
    let due = sqlx::query!(
        r#"SELECT r.id AS "release_id!", i.key AS "key!"
           FROM releases r
           JOIN checklist_items i ON i.release_id = r.id AND i.key = ANY($1) AND i.state = 'passed'
           JOIN environments e ON lower(e.name) = lower(trim(r.staging_environment)) AND e.enabled
           WHERE r.phase IN ('draft', 'staging_gate', 'go_no_go')
             AND (EXISTS (SELECT 1 FROM probe_endpoints p JOIN probe_states s ON s.endpoint_id = p.id
                          WHERE p.environment_id = e.id AND s.state = 'down')
                  OR EXISTS (SELECT 1 FROM alerts a WHERE a.environment_id = e.id
                             AND a.resolved_at IS NULL AND a.severity = 'p1'))"#,
        &crate::domain::monitoring::PROBED_ITEMS
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
    )
    .fetch_all(pool)
    .await?;
    let mut checked = Vec::new();
    for d in due {
        check_item(
            pool,
            storage,
            hub,
            &Actor::Probes,
            d.release_id,
            &d.key,
            now,
        )
        .await?;
        checked.push(d.release_id);
    }
    Ok(checked)
}
