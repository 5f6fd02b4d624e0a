//! What use cases read about a release, loaded once and locked where they write: the
//! release, its checklist, known issues, sign-offs, evidence, go-live steps and rollback
//! mark, and the snapshot gates and sign-offs are judged on. A leaf: it calls no other
//! service, so every use case may build on it.

use super::ServiceError;
use crate::domain::evidence::{AttachedTo, Evidence, Kind};
use crate::domain::golive::{RecordedStep, StepKind};
use crate::domain::release::content::{
    content_hash, gate_issues, gate_items, preconditions, sign_off_views,
};
use crate::domain::release::{Decision, Phase, SignOff, SignerRole, Strategy};
use crate::domain::release_model::{
    ChecklistItem, GateReport, KnownIssue, Release, SignOffRow, SignOffView,
};
use crate::domain::templates::ChecklistKind;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

pub fn stale_write() -> ServiceError {
    ServiceError::Conflict {
        en: "Someone else changed this release in the meantime. Reload it and apply your change again.",
        de: "Jemand anderes hat dieses Release inzwischen geändert. Bitte neu laden und die Änderung erneut vornehmen.",
    }
}

/// Loads one release (with people as emails).
pub async fn load(conn: &mut PgConnection, id: i64) -> Result<Release, ServiceError> {
    let r = sqlx::query!(
        r#"SELECT r.id, r.title, r.version, r.artifact_version, r.commit_sha, r.environment,
                  r.staging_environment,
                  r.window_start AS "window_start: DateTime<Utc>",
                  r.window_end AS "window_end: DateTime<Utc>",
                  r.strategy, r.canary_stages, r.canary_hold_minutes, r.links,
                  rc.email AS "release_captain?", po.email AS "product_owner?", r.phase,
                  r.last_backup_at AS "last_backup_at: DateTime<Utc>",
                  r.last_restore_test_at AS "last_restore_test_at: DateTime<Utc>",
                  r.on_call, r.required_env_vars, r.revision,
                  r.created_at AS "created_at: DateTime<Utc>",
                  r.updated_at AS "updated_at: DateTime<Utc>"
           FROM releases r
           LEFT JOIN users rc ON rc.id = r.release_captain_id
           LEFT JOIN users po ON po.id = r.product_owner_id
           WHERE r.id = $1"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ServiceError::NotFound)?;
    Ok(Release {
        id: r.id,
        title: r.title,
        version: r.version,
        artifact_version: r.artifact_version,
        commit_sha: r.commit_sha,
        environment: r.environment,
        staging_environment: r.staging_environment,
        window_start: r.window_start,
        window_end: r.window_end,
        strategy: Strategy::parse(&r.strategy).unwrap_or(Strategy::BlueGreen),
        canary_stages: r.canary_stages,
        canary_hold_minutes: r.canary_hold_minutes,
        links: serde_json::from_value(r.links).unwrap_or_default(),
        release_captain: r.release_captain,
        product_owner: r.product_owner,
        phase: Phase::parse(&r.phase).unwrap_or(Phase::Draft),
        last_backup_at: r.last_backup_at,
        last_restore_test_at: r.last_restore_test_at,
        on_call: r.on_call,
        required_env_vars: r.required_env_vars,
        revision: r.revision,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Release, ServiceError> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, id).await
}

/// The ids of releases not yet ended, by go-live window; or of all of them (at most 500).
pub async fn list_ids(pool: &PgPool, include_ended: bool) -> Result<Vec<i64>, ServiceError> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM releases
         WHERE $1 OR phase NOT IN ('done', 'no_go', 'rolled_back')
         ORDER BY window_start, id LIMIT 500",
        include_ended
    )
    .fetch_all(pool)
    .await?)
}

/// Releases not yet ended, by go-live window; or all of them.
pub async fn list(pool: &PgPool, include_ended: bool) -> Result<Vec<Release>, ServiceError> {
    let ids = list_ids(pool, include_ended).await?;
    let mut conn = pool.acquire().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(load(&mut conn, id).await?);
    }
    Ok(out)
}

/// Locks the release row for the rest of the transaction and checks the writer's revision.
pub async fn lock(
    conn: &mut PgConnection,
    id: i64,
    expected_revision: Option<i32>,
) -> Result<Release, ServiceError> {
    sqlx::query_scalar!("SELECT id FROM releases WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let current = load(conn, id).await?;
    if expected_revision.is_some_and(|r| r != current.revision) {
        return Err(stale_write());
    }
    Ok(current)
}

/// Marks the release changed: a new revision, which also makes earlier sign-offs stale.
pub async fn bump(conn: &mut PgConnection, id: i64) -> Result<(), ServiceError> {
    sqlx::query!(
        "UPDATE releases SET revision = revision + 1, updated_at = now() WHERE id = $1",
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether Shipgate probes an environment of this name (its probes prove its health).
pub async fn probed(conn: &mut PgConnection, environment: &str) -> Result<bool, ServiceError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM environments
                          WHERE lower(name) = lower($1) AND enabled) AS "probed!""#,
        environment.trim()
    )
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn checklist(
    conn: &mut PgConnection,
    release_id: i64,
) -> Result<Vec<ChecklistItem>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.kind, c.position, c.key, c.section_de, c.section_en, c.text_de,
                c.text_en, c.evidence_required, c.state, c.note, c.reason, c.links,
                (SELECT count(*) FROM evidence e WHERE e.release_id = c.release_id
                 AND e.item_key = c.key AND e.retracted_at IS NULL) AS "attachments!",
                COALESCE(NULLIF(u.name, ''), u.email) AS "updated_by?",
                c.updated_at AS "updated_at: chrono::DateTime<chrono::Utc>"
         FROM checklist_items c LEFT JOIN users u ON u.id = c.updated_by
         WHERE c.release_id = $1
         ORDER BY CASE c.kind WHEN 'release_checklist' THEN 0 WHEN 'staging_gate' THEN 1 WHEN 'go_live' THEN 2 ELSE 3 END, c.position"#,
        release_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ChecklistItem {
            id: r.id,
            kind: ChecklistKind::parse(&r.kind).unwrap_or(ChecklistKind::ReleaseChecklist),
            position: r.position,
            key: r.key,
            section_de: r.section_de,
            section_en: r.section_en,
            text_de: r.text_de,
            text_en: r.text_en,
            evidence_required: r.evidence_required,
            state: crate::domain::release::ItemState::parse(&r.state)
                .unwrap_or(crate::domain::release::ItemState::Open),
            note: r.note,
            reason: r.reason,
            links: r.links,
            evidence_count: r.attachments,
            updated_at: r.updated_by.is_some().then_some(r.updated_at),
            updated_by: r.updated_by,
        })
        .collect())
}

pub async fn known_issues(
    conn: &mut PgConnection,
    release_id: i64,
) -> Result<Vec<KnownIssue>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT k.id, k.key, k.severity, k.title,
                  k.resolved_at AS "resolved_at: DateTime<Utc>",
                  u.email AS "accepted_by?",
                  k.accepted_at AS "accepted_at: DateTime<Utc>",
                  k.accept_reason
           FROM known_issues k LEFT JOIN users u ON u.id = k.accepted_by
           WHERE k.release_id = $1 ORDER BY k.severity, k.id"#,
        release_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| KnownIssue {
            id: r.id,
            key: r.key,
            severity: crate::domain::release::Severity::parse(&r.severity)
                .unwrap_or(crate::domain::release::Severity::P1),
            title: r.title,
            resolved_at: r.resolved_at,
            accepted_by: r.accepted_by,
            accepted_at: r.accepted_at,
            accept_reason: r.accept_reason,
        })
        .collect())
}

/// A release with everything its gates and sign-offs are judged on, read once.
pub struct Snapshot {
    pub release: Release,
    pub checklist: Vec<ChecklistItem>,
    pub known_issues: Vec<KnownIssue>,
    pub sign_offs: Vec<SignOffRow>,
    /// Everything attached, retracted pieces included.
    pub evidence: Vec<Evidence>,
}

pub async fn snapshot(conn: &mut PgConnection, id: i64) -> Result<Snapshot, ServiceError> {
    Ok(Snapshot {
        release: load(conn, id).await?,
        checklist: checklist(conn, id).await?,
        known_issues: known_issues(conn, id).await?,
        sign_offs: sign_off_rows(conn, id).await?,
        evidence: evidence(conn, id).await?,
    })
}

impl Snapshot {
    pub fn content_hash(&self) -> String {
        content_hash(
            &self.release,
            &self.checklist,
            &self.known_issues,
            &self.evidence,
        )
    }

    pub fn staging_gate(&self) -> GateReport {
        GateReport::of(crate::domain::release::staging_gate_status(
            self.release.phase,
            &gate_items(&self.checklist),
            &gate_issues(&self.known_issues),
        ))
    }

    pub fn go_live_gate(&self, now: DateTime<Utc>) -> GateReport {
        self.go_live_gate_for(&self.content_hash(), now)
    }

    /// The go-live gate, given the snapshot's [`Snapshot::content_hash`].
    pub fn go_live_gate_for(&self, content_hash: &str, now: DateTime<Utc>) -> GateReport {
        let sign_offs: Vec<_> = self.sign_offs.iter().map(|r| r.sign_off.clone()).collect();
        GateReport::of(crate::domain::release::go_live_gate_status(
            self.release.phase,
            &preconditions(&self.release),
            &sign_offs,
            content_hash,
            now,
        ))
    }

    pub fn sign_off_views(&self) -> Vec<SignOffView> {
        sign_off_views(&self.sign_offs, &self.content_hash())
    }

    /// The sign-offs, given the snapshot's [`Snapshot::content_hash`].
    pub fn sign_off_views_for(&self, content_hash: &str) -> Vec<SignOffView> {
        sign_off_views(&self.sign_offs, content_hash)
    }
}

/// A release's checklist; `NotFound` when there is no such release.
pub async fn checklist_of(pool: &PgPool, id: i64) -> Result<Vec<ChecklistItem>, ServiceError> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, id).await?;
    checklist(&mut conn, id).await
}

/// A release's known issues; `NotFound` when there is no such release.
pub async fn known_issues_of(pool: &PgPool, id: i64) -> Result<Vec<KnownIssue>, ServiceError> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, id).await?;
    known_issues(&mut conn, id).await
}

/// The sign-offs as the Go/No-Go panel shows them, with stale marks.
pub async fn sign_off_views_of(pool: &PgPool, id: i64) -> Result<Vec<SignOffView>, ServiceError> {
    let mut conn = pool.acquire().await?;
    Ok(snapshot(&mut conn, id).await?.sign_off_views())
}

pub async fn staging_gate(pool: &PgPool, id: i64) -> Result<GateReport, ServiceError> {
    let mut conn = pool.acquire().await?;
    Ok(snapshot(&mut conn, id).await?.staging_gate())
}

pub async fn go_live_gate(
    pool: &PgPool,
    id: i64,
    now: DateTime<Utc>,
) -> Result<GateReport, ServiceError> {
    let mut conn = pool.acquire().await?;
    Ok(snapshot(&mut conn, id).await?.go_live_gate(now))
}

/// Whether the release's go-live has its first step recorded.
pub async fn go_live_started(conn: &mut PgConnection, id: i64) -> Result<bool, ServiceError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM go_live_steps WHERE release_id = $1) AS "e!""#,
        id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// The "rollback suggested" mark of one release (in the caller's transaction).
pub async fn rollback_mark(
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<crate::domain::monitoring_model::RollbackMark>, ServiceError> {
    Ok(sqlx::query!(
        r#"SELECT rollback_suggested_at AS "at!: DateTime<Utc>",
                  coalesce(rollback_suggested_because, '') AS "because!"
           FROM releases WHERE id = $1 AND rollback_suggested_at IS NOT NULL"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| crate::domain::monitoring_model::RollbackMark {
        at: r.at,
        because: r.because,
    }))
}

/// The "rollback suggested" marks of these releases (see [`RollbackMark`]).
pub async fn rollback_marks(
    pool: &PgPool,
    ids: &[i64],
) -> Result<
    std::collections::HashMap<i64, crate::domain::monitoring_model::RollbackMark>,
    ServiceError,
> {
    let rows = sqlx::query!(
        r#"SELECT id, rollback_suggested_at AS "at!: DateTime<Utc>",
                  coalesce(rollback_suggested_because, '') AS "because!"
           FROM releases WHERE id = ANY($1) AND rollback_suggested_at IS NOT NULL"#,
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                crate::domain::monitoring_model::RollbackMark {
                    at: r.at,
                    because: r.because,
                },
            )
        })
        .collect())
}
/// The stored sign-offs of a release with their signers.
pub async fn sign_off_rows(
    conn: &mut PgConnection,
    release_id: i64,
) -> Result<Vec<SignOffRow>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT s.role, s.signer_id, u.email, s.decision, s.comment, s.content_hash,
                  s.signed_at AS "signed_at: DateTime<Utc>"
           FROM sign_offs s JOIN users u ON u.id = s.signer_id
           WHERE s.release_id = $1 ORDER BY s.role"#,
        release_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(SignOffRow {
                sign_off: SignOff {
                    role: SignerRole::parse(&r.role)?,
                    signer_id: r.signer_id,
                    decision: Decision::parse(&r.decision)?,
                    content_hash: r.content_hash,
                    signed_at: r.signed_at,
                },
                signer: r.email,
                comment: r.comment,
            })
        })
        .collect())
}

pub async fn sign_offs(
    conn: &mut PgConnection,
    release_id: i64,
) -> Result<Vec<SignOff>, ServiceError> {
    Ok(sign_off_rows(conn, release_id)
        .await?
        .into_iter()
        .map(|r| r.sign_off)
        .collect())
}

/// How many sign-offs a release holds (stale ones included).
pub async fn sign_off_count(conn: &mut PgConnection, release_id: i64) -> Result<i64, ServiceError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM sign_offs WHERE release_id = $1"#,
        release_id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// Everything attached to a release, retracted pieces included, oldest first.
pub async fn evidence(
    conn: &mut PgConnection,
    release_id: i64,
) -> Result<Vec<Evidence>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT e.id, e.release_id, e.attached_to, e.item_key, e.filename, e.original_name,
                  e.size,
                  e.content_type, e.kind, e.sha256,
                  up.email AS "uploaded_by?",
                  e.uploaded_at AS "uploaded_at: DateTime<Utc>",
                  e.retracted_at AS "retracted_at: DateTime<Utc>",
                  rb.email AS "retracted_by?", e.retract_reason
           FROM evidence e
           LEFT JOIN users up ON up.id = e.uploaded_by
           LEFT JOIN users rb ON rb.id = e.retracted_by
           WHERE e.release_id = $1 ORDER BY e.uploaded_at, e.id"#,
        release_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Evidence {
            id: r.id,
            release_id: r.release_id,
            attached_to: AttachedTo::parse(&r.attached_to).unwrap_or(AttachedTo::Release),
            item_key: r.item_key,
            filename: r.filename,
            original_name: r.original_name,
            size: r.size,
            content_type: r.content_type,
            kind: Kind::parse(&r.kind),
            sha256: r.sha256,
            uploaded_by: r.uploaded_by,
            uploaded_at: r.uploaded_at,
            retracted_at: r.retracted_at,
            retracted_by: r.retracted_by,
            retract_reason: r.retract_reason,
        })
        .collect())
}

/// The recorded steps of a release's go-live, in order.
pub async fn go_live_steps(
    conn: &mut PgConnection,
    release_id: i64,
) -> Result<Vec<RecordedStep>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT step, stage_pct, note, detail, actor, at AS "at: DateTime<Utc>"
           FROM go_live_steps WHERE release_id = $1 ORDER BY id"#,
        release_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(RecordedStep {
                kind: StepKind::parse(&r.step)?,
                stage_pct: r.stage_pct,
                at: r.at,
                actor: r.actor,
                note: r.note,
                detail: r.detail,
            })
        })
        .collect())
}
