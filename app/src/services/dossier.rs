//! Sealing an ended release: its dossier built from everything recorded, hashed over its
//! canonical JSON together with the audit chain's head, stored once (a trigger refuses
//! changes), and its archive entry written for search and the delivery metrics.

use super::audit::{self, Entry};
use super::release_store as store;
use super::{Actor, ServiceError};
use crate::domain::dossier::{
    canonical_json, Dossier, DossierItem, GoNoGoDecision, MonitoringAtDecision, RollbackRecord,
    SealedDossier, StagingGateProtocol, FORMAT,
};
use crate::domain::golive::{restore_seconds, StepKind};
use crate::domain::release::content::preconditions;
use crate::domain::release::ItemState;
use crate::domain::templates::ChecklistKind;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

/// Probe results per endpoint the dossier keeps from before the decision.
const RESULTS_AT_DECISION: i64 = 5;

pub use super::audit::sha256_hex;

async fn items(conn: &mut PgConnection, release_id: i64) -> Result<Vec<DossierItem>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT c.kind, c.key, c.section_de, c.section_en, c.text_de, c.text_en,
                  c.evidence_required, c.state, c.note, c.reason, c.links,
                  u.email AS "updated_by?", c.updated_at AS "updated_at: DateTime<Utc>"
           FROM checklist_items c LEFT JOIN users u ON u.id = c.updated_by
           WHERE c.release_id = $1
           ORDER BY CASE c.kind WHEN 'release_checklist' THEN 0 WHEN 'staging_gate' THEN 1
                    WHEN 'go_live' THEN 2 ELSE 3 END, c.position"#,
        release_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(DossierItem {
                kind: ChecklistKind::parse(&r.kind)?,
                key: r.key,
                section_de: r.section_de,
                section_en: r.section_en,
                text_de: r.text_de,
                text_en: r.text_en,
                evidence_required: r.evidence_required,
                state: ItemState::parse(&r.state)?,
                note: r.note,
                reason: r.reason,
                links: r.links,
                updated_by: r.updated_by,
                updated_at: r.updated_at,
            })
        })
        .collect())
}

/// When the release (last) entered `phase`, from its audit trail.
async fn entered(
    conn: &mut PgConnection,
    release_id: i64,
    phase: &str,
    first: bool,
) -> Result<Option<DateTime<Utc>>, ServiceError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT at AS "at: DateTime<Utc>" FROM audit_log
           WHERE release_id = $1 AND action = 'release.phase' AND new_value->>'phase' = $2
           ORDER BY CASE WHEN $3 THEN id ELSE -id END LIMIT 1"#,
        release_id,
        phase,
        first
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Alerts open and the latest probe results of an environment at a moment.
async fn monitoring_at(
    conn: &mut PgConnection,
    environment: &str,
    role: &str,
    at: DateTime<Utc>,
) -> Result<MonitoringAtDecision, ServiceError> {
    let Some(env_id) = super::environments::id_by_name(&mut *conn, environment).await? else {
        return Ok(MonitoringAtDecision {
            environment: environment.to_string(),
            role: role.to_string(),
            registered: false,
            open_alerts: vec![],
            recent_results: vec![],
        });
    };
    let alerts = sqlx::query!(
        r#"SELECT a.id, p.kind, a.rule, a.severity, a.opened_at AS "opened_at: DateTime<Utc>",
                  a.resolved_at AS "resolved_at: DateTime<Utc>", a.value, a.threshold, a.message
           FROM alerts a JOIN probe_endpoints p ON p.id = a.endpoint_id
           WHERE a.environment_id = $1 AND a.opened_at <= $2
             AND (a.resolved_at IS NULL OR a.resolved_at > $2)
           ORDER BY a.opened_at, a.id"#,
        env_id,
        at as _
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|a| {
        json!({
            "id": a.id, "endpoint": a.kind, "rule": a.rule, "severity": a.severity,
            "opened_at": a.opened_at, "resolved_at": a.resolved_at,
            // As text: a float need not read back to the same bits, and the seal hashes text.
            "value": a.value.to_string(), "threshold": a.threshold.to_string(),
            "message": a.message,
        })
    })
    .collect();
    let results = sqlx::query!(
        r#"SELECT p.kind, r.started_at AS "started_at!: DateTime<Utc>", r.ok AS "ok!",
                  r.status, r.latency_ms AS "latency_ms!", r.error
           FROM probe_endpoints p
           CROSS JOIN LATERAL (
               SELECT started_at, ok, status, latency_ms, error FROM probe_results
               WHERE endpoint_id = p.id AND started_at <= $2
               ORDER BY started_at DESC LIMIT $3
           ) r
           WHERE p.environment_id = $1
           ORDER BY p.kind, r.started_at DESC"#,
        env_id,
        at as _,
        RESULTS_AT_DECISION
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        json!({
            "endpoint": r.kind, "at": r.started_at, "ok": r.ok, "status": r.status,
            "latency_ms": r.latency_ms, "error": r.error,
        })
    })
    .collect();
    Ok(MonitoringAtDecision {
        environment: environment.to_string(),
        role: role.to_string(),
        registered: true,
        open_alerts: alerts,
        recent_results: results,
    })
}

/// Everything recorded about a release, as it stands in this transaction.
pub async fn build(
    conn: &mut PgConnection,
    release_id: i64,
    sealed_at: DateTime<Utc>,
    audit_head: String,
) -> Result<Dossier, ServiceError> {
    let snap = store::snapshot(conn, release_id).await?;
    let hash = snap.content_hash();
    let all = items(conn, release_id).await?;
    let of = |k: ChecklistKind| -> Vec<DossierItem> {
        all.iter().filter(|i| i.kind == k).cloned().collect()
    };
    let steps = store::go_live_steps(conn, release_id).await?;
    let decided_at = snap.sign_offs.iter().map(|s| s.sign_off.signed_at).max();
    let mut monitoring = vec![];
    if let Some(at) = decided_at {
        let r = &snap.release;
        monitoring.push(monitoring_at(conn, &r.environment, "target", at).await?);
        if !r.staging_environment.eq_ignore_ascii_case(&r.environment) {
            monitoring.push(monitoring_at(conn, &r.staging_environment, "staging", at).await?);
        }
    }
    let rollback = steps
        .iter()
        .find(|s| s.kind == StepKind::Rollback)
        .map(|s| RollbackRecord {
            at: s.at,
            by: s.actor.clone(),
            reason: s.note.clone(),
            status_page_updated: s.detail["status_page_updated"].as_bool().unwrap_or(false),
            team_alerted: s.detail["team_alerted"].as_bool().unwrap_or(false),
            rollback_plan: snap.release.links.rollback_plan.clone(),
            down_migration: snap.release.links.down_migration.clone(),
            backup_restore: snap.release.links.backup_restore.clone(),
        });
    let audit_rows = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM audit_log WHERE release_id = $1"#,
        release_id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Dossier {
        format: FORMAT.to_string(),
        outcome: snap.release.phase,
        sealed_at,
        audit_head,
        audit_rows,
        release_checklist: of(ChecklistKind::ReleaseChecklist),
        staging_gate: StagingGateProtocol {
            items: of(ChecklistKind::StagingGate),
            known_issues: snap.known_issues.clone(),
            passed_at: entered(conn, release_id, "go_no_go", false).await?,
        },
        go_no_go: GoNoGoDecision {
            items: of(ChecklistKind::GoLive),
            sign_offs: snap.sign_off_views_for(&hash),
            preconditions: preconditions(&snap.release),
            decided_at,
            monitoring,
        },
        go_live: steps,
        rollback,
        rollback_suggested: store::rollback_mark(conn, release_id).await?,
        post_release: of(ChecklistKind::PostRelease),
        evidence: snap.evidence.clone(),
        release: snap.release,
    })
}

/// Seals the release's dossier and files it in the archive, in the caller's transaction
/// (the one that ends the release).
pub async fn seal(
    conn: &mut PgConnection,
    actor: &Actor,
    release_id: i64,
) -> Result<(), ServiceError> {
    let head = audit::head(conn).await?;
    let sealed_at = Utc::now().trunc_subsecs(6);
    let dossier = build(conn, release_id, sealed_at, head.clone()).await?;
    let value =
        serde_json::to_value(&dossier).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let document = canonical_json(&value);
    let sha256 = sha256_hex(document.as_bytes());
    sqlx::query!(
        "INSERT INTO dossiers (release_id, sealed_at, document, sha256, audit_head)
         VALUES ($1, $2, $3, $4, $5)",
        release_id,
        sealed_at as _,
        document,
        sha256,
        head
    )
    .execute(&mut *conn)
    .await?;
    file_in_archive(conn, &dossier).await?;
    audit::append(
        conn,
        actor,
        Entry {
            action: "release.sealed",
            release_id: Some(release_id),
            old: None,
            new: Some(json!({ "sha256": sha256, "audit_head": head })),
        },
    )
    .await
}

/// The archive's row for a sealed dossier: what search, filters and metrics read.
async fn file_in_archive(conn: &mut PgConnection, d: &Dossier) -> Result<(), ServiceError> {
    let r = &d.release;
    let mut people: Vec<String> = [&r.release_captain, &r.product_owner]
        .into_iter()
        .flatten()
        .cloned()
        .chain(d.go_no_go.sign_offs.iter().map(|s| s.signer.clone()))
        .map(|e| e.to_lowercase())
        .collect();
    people.sort();
    people.dedup();
    let all_items = d
        .release_checklist
        .iter()
        .chain(&d.staging_gate.items)
        .chain(&d.go_no_go.items)
        .chain(&d.post_release);
    let mut words: Vec<&str> = vec![&r.title, &r.version];
    words.extend(r.artifact_version.as_deref());
    words.extend(r.commit_sha.as_deref());
    words.extend(all_items.flat_map(|i| [i.note.as_str(), i.reason.as_str()]));
    words.extend(
        d.staging_gate
            .known_issues
            .iter()
            .flat_map(|k| [k.key.as_str(), k.title.as_str()]),
    );
    words.extend(d.go_live.iter().map(|s| s.note.as_str()));
    let text = words
        .into_iter()
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let staging_started = entered(conn, r.id, "staging_gate", true).await?;
    // Sealed late (`migrate up` for releases older than dossiers): ended when it ended.
    let ended_at = entered(conn, r.id, d.outcome.as_str(), false)
        .await?
        .unwrap_or(d.sealed_at);
    let restore = restore_seconds(&d.go_live, d.rollback_suggested.as_ref().map(|m| m.at));
    sqlx::query!(
        "INSERT INTO archive_entries (release_id, outcome, title, version, commit_sha, environment,
             window_start, ended_at, staging_started_at, restore_seconds, people, search)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, to_tsvector('simple', $12))",
        r.id,
        d.outcome.as_str(),
        r.title,
        r.version,
        r.commit_sha,
        r.environment,
        r.window_start as _,
        ended_at as _,
        staging_started as _,
        restore,
        &people,
        text
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The export: the dossier and its seal, as stored (canonical JSON, keys sorted).
pub async fn export(pool: &PgPool, release_id: i64) -> Result<String, ServiceError> {
    let row = sqlx::query!(
        "SELECT document, sha256 FROM dossiers WHERE release_id = $1",
        release_id
    )
    .fetch_optional(pool)
    .await?;
    match row {
        // The envelope's keys, sorted: dossier, format, sha256.
        Some(r) => Ok(format!(
            r#"{{"dossier":{},"format":"{FORMAT}","sha256":"{}"}}"#,
            r.document, r.sha256
        )),
        None => {
            let r = store::get(pool, release_id).await?;
            Err(if r.phase.is_final() {
                ServiceError::Conflict {
                    en: "This release ended before dossiers existed; run `shipgate migrate up` to seal it.",
                    de: "Dieses Release endete, bevor es Dossiers gab; `shipgate migrate up` versiegelt es.",
                }
            } else {
                ServiceError::Conflict {
                    en: "The dossier is sealed when the release ends.",
                    de: "Das Dossier wird versiegelt, wenn das Release endet.",
                }
            })
        }
    }
}

/// The sealed dossier, read back.
pub async fn sealed(pool: &PgPool, release_id: i64) -> Result<SealedDossier, ServiceError> {
    let text = export(pool, release_id).await?;
    serde_json::from_str(&text).map_err(|e| ServiceError::Internal(format!("stored dossier: {e}")))
}

/// The stored document of a release's dossier, as JSON, for comparing with a file.
pub async fn stored(
    pool: &PgPool,
    release_id: i64,
) -> Result<Option<(Value, String)>, ServiceError> {
    let row = sqlx::query!(
        "SELECT document, sha256 FROM dossiers WHERE release_id = $1",
        release_id
    )
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        serde_json::from_str(&r.document)
            .map(|v| (v, r.sha256))
            .map_err(|e| ServiceError::Internal(e.to_string()))
    })
    .transpose()
}

/// Seals the releases that ended before dossiers existed (at `migrate up`).
pub async fn seal_unsealed(pool: &PgPool) -> Result<usize, ServiceError> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM releases r WHERE phase IN ('done', 'no_go', 'rolled_back')
         AND NOT EXISTS (SELECT 1 FROM dossiers d WHERE d.release_id = r.id) ORDER BY id"
    )
    .fetch_all(pool)
    .await?;
    for id in &ids {
        let mut tx = pool.begin().await?;
        seal(&mut tx, &Actor::Cli, *id).await?;
        tx.commit().await?;
    }
    Ok(ids.len())
}
