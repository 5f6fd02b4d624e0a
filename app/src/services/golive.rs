//! Go-live and rollback as they happen: the start (inside the window or by the captain's
//! override, never during a freeze), each step of the plan recorded with who and when,
//! the stability hold judged by the probes, completion once the post-release
//! documentation is filed, and the rollback. Each is one transaction with its audit row;
//! ending the release seals its dossier in the same transaction.

use super::audit::{self, Entry};
use super::lifecycle::apply_phase_change;
use super::release_store::{self as store, Snapshot};
use super::status::StatusHub;
use super::{environments, freezes, Actor, ServiceError};
use crate::domain::golive::{
    complete_blockers, hold_for_next, in_window, progress, rollback_blockers, start_blockers,
    step_blockers, DocItem, Freeze, GoLiveOverview, PlannedStep, RecordedStep, StartFacts,
    StepFacts, StepKind, TargetHealth,
};
use crate::domain::release::{Blocker, Phase};
use crate::domain::release_model::ChecklistItem;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

/// What the probes say about an environment now; "not probed" when it is not registered.
pub async fn target_health(
    pool: &PgPool,
    hub: &StatusHub,
    environment: &str,
    now: DateTime<Utc>,
) -> Result<TargetHealth, ServiceError> {
    let Some(id) = environments::id_by_name(pool, environment).await? else {
        return Ok(TargetHealth::unprobed(environment.trim()));
    };
    let status = hub.environment(pool, id, now).await?;
    let last_p1_resolved = sqlx::query_scalar!(
        r#"SELECT max(resolved_at) AS "at: DateTime<Utc>" FROM alerts
           WHERE environment_id = $1 AND severity = 'p1'"#,
        id
    )
    .fetch_one(pool)
    .await?;
    Ok(TargetHealth::of(&status, last_p1_resolved))
}

fn doc_items(checklist: &[ChecklistItem]) -> Vec<DocItem<'_>> {
    checklist
        .iter()
        .map(|i| DocItem {
            kind: i.kind,
            key: &i.key,
            text: &i.text_en,
            text_de: &i.text_de,
            state: i.state,
        })
        .collect()
}

fn start_facts<'a>(
    snap: &'a Snapshot,
    steps: &[RecordedStep],
    freezes: &'a [Freeze],
    gate: &'a [Blocker],
    actor_is_captain: bool,
    override_reason: Option<&'a str>,
) -> StartFacts<'a> {
    let r = &snap.release;
    StartFacts {
        phase: r.phase,
        already_started: steps.iter().any(|s| s.kind == StepKind::Start),
        window_start: r.window_start,
        window_end: r.window_end,
        environment: &r.environment,
        freezes,
        gate_blockers: gate,
        actor_is_captain,
        override_reason,
    }
}

fn judge(
    snap: &Snapshot,
    content_hash: &str,
    steps: Vec<RecordedStep>,
    freezes: Vec<Freeze>,
    target: TargetHealth,
    now: DateTime<Utc>,
) -> GoLiveOverview {
    let r = &snap.release;
    let p = progress(r.strategy, &r.canary_stages, &steps);
    let gate = snap.go_live_gate_for(content_hash, now).blockers;
    let start = start_blockers(
        &start_facts(snap, &steps, &freezes, &gate, false, None),
        now,
    );
    let facts = StepFacts {
        progress: &p,
        steps: &steps,
        hold_minutes: r.canary_hold_minutes,
        target: &target,
        last_backup_at: r.last_backup_at,
        note: None,
    };
    let next_blockers = match p.next {
        Some(next) => step_blockers(next, &facts, now)
            .into_iter()
            // The form asks for the note; it does not hold the step up.
            .filter(|b| !matches!(b, Blocker::NoteRequired { .. }))
            .collect(),
        None => vec![],
    };
    let hold = hold_for_next(&facts);
    let complete = complete_blockers(&p, &doc_items(&snap.checklist));
    GoLiveOverview {
        release_id: r.id,
        phase: r.phase,
        strategy: r.strategy,
        in_window: in_window(r.window_start, r.window_end, now),
        start_blockers: start,
        next_blockers,
        hold,
        complete_blockers: complete,
        progress: p,
        steps,
        target,
        freezes,
        as_of: now,
    }
}

pub async fn overview(
    pool: &PgPool,
    hub: &StatusHub,
    id: i64,
    now: DateTime<Utc>,
) -> Result<GoLiveOverview, ServiceError> {
    let snap = store::snapshot(&mut *pool.acquire().await?, id).await?;
    overview_of(pool, hub, &snap, &snap.content_hash(), now).await
}

/// The overview of a release already read (the release page has it from its cache), with
/// its [`Snapshot::content_hash`].
pub async fn overview_of(
    pool: &PgPool,
    hub: &StatusHub,
    snap: &Snapshot,
    content_hash: &str,
    now: DateTime<Utc>,
) -> Result<GoLiveOverview, ServiceError> {
    let r = &snap.release;
    let mut conn = pool.acquire().await?;
    let steps = store::go_live_steps(&mut conn, r.id).await?;
    let freezes = freezes::upcoming(&mut conn, Some(&r.environment), now).await?;
    drop(conn);
    let target = target_health(pool, hub, &r.environment, now).await?;
    Ok(judge(snap, content_hash, steps, freezes, target, now))
}

/// Writes one step with its audit row and a new revision (inside the caller's transaction).
async fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    release_id: i64,
    step: PlannedStep,
    note: &str,
    detail: Value,
) -> Result<(), ServiceError> {
    let (actor_id, label) = audit::actor_label(actor);
    sqlx::query!(
        "INSERT INTO go_live_steps (release_id, step, stage_pct, note, detail, actor_id, actor)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        release_id,
        step.kind.as_str(),
        step.stage_pct,
        note,
        detail,
        actor_id,
        label
    )
    .execute(&mut *conn)
    .await?;
    store::bump(conn, release_id).await?;
    audit::append(
        conn,
        actor,
        Entry {
            action: match step.kind {
                StepKind::Start => "go_live.start",
                StepKind::Complete => "go_live.complete",
                StepKind::Rollback => "go_live.rollback",
                _ => "go_live.step",
            },
            release_id: Some(release_id),
            old: None,
            new: Some(json!({
                "step": step.kind, "stage_pct": step.stage_pct, "note": note, "detail": detail
            })),
        },
    )
    .await
}

fn note_text(note: Option<&str>) -> Result<String, ServiceError> {
    let n = note.unwrap_or_default().trim();
    if n.chars().count() > 4000 {
        return Err(ServiceError::invalid(
            "note",
            "A note is at most 4000 characters.",
            "Eine Notiz hat höchstens 4000 Zeichen.",
        ));
    }
    Ok(n.to_string())
}

/// Starts the go-live. Returns what blocks it (nothing written then), or nothing.
pub async fn start(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    override_reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Blocker>, ServiceError> {
    let reason = note_text(override_reason)?;
    let mut tx = pool.begin().await?;
    let r = store::lock(&mut tx, id, None).await?;
    actor.require_steer(&r)?;
    let snap = store::snapshot(&mut tx, id).await?;
    let done = store::go_live_steps(&mut tx, id).await?;
    let frozen = freezes::upcoming(&mut tx, Some(&r.environment), now).await?;
    let gate = snap.go_live_gate(now).blockers;
    let is_captain = matches!(actor, Actor::User(u) if r.is_captain(u));
    let reason = Some(reason.as_str()).filter(|s| !s.is_empty());
    let blockers = start_blockers(
        &start_facts(&snap, &done, &frozen, &gate, is_captain, reason),
        now,
    );
    if !blockers.is_empty() {
        return Ok(blockers);
    }
    let overridden = !in_window(r.window_start, r.window_end, now);
    let detail = json!({
        "window_start": r.window_start, "window_end": r.window_end,
        "outside_window_override": overridden,
    });
    let note = if overridden {
        reason.unwrap_or_default()
    } else {
        ""
    };
    let start = PlannedStep {
        kind: StepKind::Start,
        stage_pct: None,
    };
    record(&mut tx, actor, id, start, note, detail).await?;
    tx.commit().await?;
    Ok(vec![])
}

/// Records the next step of the plan (`kind` and, for a canary stage, its share).
#[allow(clippy::too_many_arguments)]
pub async fn record_step(
    pool: &PgPool,
    hub: &StatusHub,
    actor: &Actor,
    id: i64,
    kind: StepKind,
    stage_pct: Option<i32>,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Blocker>, ServiceError> {
    let note = note_text(note)?;
    if matches!(
        kind,
        StepKind::Start | StepKind::Complete | StepKind::Rollback
    ) {
        return Err(ServiceError::invalid(
            "step",
            "Start, complete and rollback have their own actions.",
            "Start, Abschluss und Rollback haben eigene Aktionen.",
        ));
    }
    let mut tx = pool.begin().await?;
    let r = store::lock(&mut tx, id, None).await?;
    actor.require_steer(&r)?;
    if r.phase != Phase::GoLive {
        return Ok(vec![Blocker::WrongPhase { phase: r.phase }]);
    }
    // Judged while the release is locked, so the target cannot change under the step.
    let target = target_health(pool, hub, &r.environment, now).await?;
    let done = store::go_live_steps(&mut tx, id).await?;
    let p = progress(r.strategy, &r.canary_stages, &done);
    let facts = StepFacts {
        progress: &p,
        steps: &done,
        hold_minutes: r.canary_hold_minutes,
        target: &target,
        last_backup_at: r.last_backup_at,
        note: Some(note.as_str()),
    };
    let step = PlannedStep { kind, stage_pct };
    let blockers = step_blockers(step, &facts, now);
    if !blockers.is_empty() {
        return Ok(blockers);
    }
    let detail = json!({ "target": target, "hold": hold_for_next(&facts) });
    record(&mut tx, actor, id, step, &note, detail).await?;
    tx.commit().await?;
    Ok(vec![])
}

/// Completes the go-live once every step is done and the documentation filed: `done`.
pub async fn complete(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Blocker>, ServiceError> {
    let mut tx = pool.begin().await?;
    let r = store::lock(&mut tx, id, None).await?;
    actor.require_steer(&r)?;
    if r.phase != Phase::GoLive {
        return Ok(vec![Blocker::WrongPhase { phase: r.phase }]);
    }
    // Only the checklist is judged here; sealing reads the whole release afterwards.
    let checklist = store::checklist(&mut tx, id).await?;
    let done = store::go_live_steps(&mut tx, id).await?;
    let p = progress(r.strategy, &r.canary_stages, &done);
    let blockers = complete_blockers(&p, &doc_items(&checklist));
    if !blockers.is_empty() {
        return Ok(blockers);
    }
    let complete = PlannedStep {
        kind: StepKind::Complete,
        stage_pct: None,
    };
    record(&mut tx, actor, id, complete, "", json!({ "at": now })).await?;
    // A step bumps the revision only; the phase change reads the id and the phase.
    apply_phase_change(&mut tx, actor, &r, Phase::Done).await?;
    tx.commit().await?;
    Ok(vec![])
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RollbackInput {
    pub reason: String,
    /// The incident communication: the status page was updated, the team alerted.
    pub status_page_updated: bool,
    pub team_alerted: bool,
}

/// Rolls the release back: recorded with the plan's links and the communication done,
/// the webhooks told, the release ended in `rolled_back`. The captain or the owner.
pub async fn rollback(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    input: RollbackInput,
) -> Result<Vec<Blocker>, ServiceError> {
    let reason = note_text(Some(&input.reason))?;
    let mut tx = pool.begin().await?;
    let r = store::lock(&mut tx, id, None).await?;
    match actor {
        Actor::Cli => {}
        Actor::User(u) if crate::domain::golive::may_roll_back(&r, u) => {}
        _ => return Err(ServiceError::Forbidden),
    }
    let blockers = rollback_blockers(r.phase, Some(&reason));
    if !blockers.is_empty() {
        return Ok(blockers);
    }
    let mark = store::rollback_mark(&mut tx, id).await?;
    let detail = json!({
        "status_page_updated": input.status_page_updated,
        "team_alerted": input.team_alerted,
        "rollback_plan": r.links.rollback_plan,
        "down_migration": r.links.down_migration,
        "backup_restore": r.links.backup_restore,
        "rollback_suggested": mark,
    });
    let step = PlannedStep {
        kind: StepKind::Rollback,
        stage_pct: None,
    };
    record(&mut tx, actor, id, step, &reason, detail).await?;
    apply_phase_change(&mut tx, actor, &r, Phase::RolledBack).await?;
    tx.commit().await?;
    Ok(vec![])
}
