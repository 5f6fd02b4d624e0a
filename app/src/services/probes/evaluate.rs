//! The evaluator: turns each endpoint's alert window into its state and alerts (queued
//! for the webhooks), marks releases going live into an environment with a P1, and rolls
//! results up per minute. One replica at a time.

use super::roll_up;
use crate::domain::monitoring::{
    endpoint_state, firing, EndpointFacts, EndpointKind, HealthState, Rule, Sample, WindowStats,
};
use crate::domain::release::Severity;
use crate::services::environments::settings;
use crate::services::events::notify;
use crate::services::ServiceError;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;

/// Only one replica evaluates at a time; the others skip their turn.
const EVALUATOR_LOCK: i64 = 0x5348_4950_4556_414c; // "SHIPEVAL"

/// An alert that opened or resolved in an evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertChange {
    pub alert_id: i64,
    pub opened: bool,
}

/// What one evaluation did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    pub endpoints: usize,
    pub state_changes: usize,
    pub alerts: Vec<AlertChange>,
}

fn alert_message(env: &str, kind: EndpointKind, rule: Rule, value: f64, threshold: f64) -> String {
    let what = match rule {
        Rule::Readiness503Rate => format!("503 rate {value:.1}% > {threshold}%"),
        Rule::ErrorRate => format!("5xx/error rate {value:.1}% > {threshold}%"),
        Rule::LatencyP95 => format!("latency p95 {value:.0} ms > {threshold} ms"),
        Rule::NoSuccess => format!("no successful probe for {value:.0} min (> {threshold} min)"),
    };
    format!("{env} /{}: {what}", kind.as_str())
}

/// Judges every endpoint at `now`: window statistics, state (with the time it changed),
/// alerts opened and resolved (each queued for the webhooks). Returns `None` when another
/// replica is evaluating right now. Notifies the status channel when done.
pub async fn evaluate(
    pool: &PgPool,
    now: DateTime<Utc>,
) -> Result<Option<Evaluation>, ServiceError> {
    let mut tx = pool.begin().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(EVALUATOR_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(None);
    }
    let thresholds = settings(&mut tx).await?.thresholds;
    let since = now - Duration::seconds(thresholds.window_seconds as i64);
    let endpoints = sqlx::query!(
        r#"SELECT p.id, p.environment_id, p.kind, p.interval_ms,
                p.last_checked_at AS "last_checked_at: DateTime<Utc>",
                p.last_ok_at AS "last_ok_at: DateTime<Utc>",
                p.consecutive_failures, p.watched_since AS "watched_since: DateTime<Utc>",
                s.state AS "state?", s.window_total AS "window_total?", s.window_ok AS "window_ok?",
                s.window_errors AS "window_errors?", s.window_unavailable AS "window_unavailable?",
                s.p50_ms, s.p95_ms, s.p99_ms, e.name, e.enabled
         FROM probe_endpoints p JOIN environments e ON e.id = p.environment_id
              LEFT JOIN probe_states s ON s.endpoint_id = p.id
         ORDER BY p.id"#
    )
    .fetch_all(&mut *tx)
    .await?;
    let samples = sqlx::query!(
        r#"SELECT endpoint_id, started_at AS "started_at: DateTime<Utc>", ok, status, latency_ms
           FROM probe_results WHERE started_at > $1 ORDER BY endpoint_id"#,
        since as _
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut by_endpoint: HashMap<i64, Vec<Sample>> = HashMap::new();
    for s in samples {
        by_endpoint.entry(s.endpoint_id).or_default().push(Sample {
            at: s.started_at,
            ok: s.ok,
            status: s.status,
            latency_ms: s.latency_ms,
        });
    }
    let open = sqlx::query!("SELECT id, endpoint_id, rule FROM alerts WHERE resolved_at IS NULL")
        .fetch_all(&mut *tx)
        .await?;
    let mut open_by: HashMap<(i64, String), i64> = open
        .into_iter()
        .map(|a| ((a.endpoint_id, a.rule), a.id))
        .collect();
    let mut result = Evaluation {
        endpoints: endpoints.len(),
        ..Default::default()
    };
    let mut changed: Vec<(i64, WindowStats, HealthState)> = Vec::new();
    let mut p1_envs: Vec<String> = Vec::new();
    for p in &endpoints {
        let kind = EndpointKind::parse(&p.kind).unwrap_or(EndpointKind::Health);
        let window = WindowStats::of(by_endpoint.get(&p.id).map(Vec::as_slice).unwrap_or(&[]));
        let facts = EndpointFacts {
            kind,
            interval_ms: p.interval_ms,
            window: window.clone(),
            last_checked_at: p.last_checked_at,
            last_ok_at: p.last_ok_at,
            consecutive_failures: p.consecutive_failures,
            watched_since: p.watched_since,
        };
        let (fired, state) = if p.enabled {
            let fired = firing(&facts, &thresholds, now);
            let state = endpoint_state(&facts, &fired, now);
            (fired, state)
        } else {
            (Vec::new(), HealthState::Unknown)
        };
        let before = (
            p.window_total,
            p.window_ok,
            p.window_errors,
            p.window_unavailable,
            p.p50_ms,
            p.p95_ms,
            p.p99_ms,
        );
        let after = (
            Some(window.total as i32),
            Some(window.ok as i32),
            Some(window.errors as i32),
            Some(window.unavailable as i32),
            window.p50_ms,
            window.p95_ms,
            window.p99_ms,
        );
        let state_changed = p.state.as_deref() != Some(state.as_str());
        if before != after || state_changed {
            changed.push((p.id, window.clone(), state));
        }
        if state_changed {
            result.state_changes += 1;
        }
        for f in &fired {
            if open_by
                .remove(&(p.id, f.rule.as_str().to_string()))
                .is_some()
            {
                continue;
            }
            let id = sqlx::query_scalar!(
                "INSERT INTO alerts (environment_id, endpoint_id, rule, severity, opened_at, value,
                                     threshold, message)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 RETURNING id",
                p.environment_id,
                p.id,
                f.rule.as_str(),
                f.rule.severity().as_str(),
                now as _,
                f.value,
                f.threshold,
                alert_message(&p.name, kind, f.rule, f.value, f.threshold)
            )
            .fetch_one(&mut *tx)
            .await?;
            crate::services::alerts::queue_deliveries(&mut tx, id, "alert.opened").await?;
            if f.rule.severity() == Severity::P1 {
                let message = alert_message(&p.name, kind, f.rule, f.value, f.threshold);
                crate::services::notifications::p1_opened(&mut tx, id, &p.name, &message).await?;
            }
            result.alerts.push(AlertChange {
                alert_id: id,
                opened: true,
            });
        }
        if fired.iter().any(|f| f.rule.severity() == Severity::P1) {
            p1_envs.push(p.name.clone());
        }
        // Whatever is still open for this endpoint no longer holds.
        for rule in Rule::ALL {
            if let Some(id) = open_by.remove(&(p.id, rule.as_str().to_string())) {
                sqlx::query!(
                    "UPDATE alerts SET resolved_at = $2 WHERE id = $1",
                    id,
                    now as _
                )
                .execute(&mut *tx)
                .await?;
                crate::services::alerts::queue_deliveries(&mut tx, id, "alert.resolved").await?;
                result.alerts.push(AlertChange {
                    alert_id: id,
                    opened: false,
                });
            }
        }
    }
    let stat = |f: fn(&WindowStats) -> u32| -> Vec<i32> {
        changed.iter().map(|(_, w, _)| f(w) as i32).collect()
    };
    let pct = |f: fn(&WindowStats) -> Option<i32>| -> Vec<Option<i32>> {
        changed.iter().map(|(_, w, _)| f(w)).collect()
    };
    sqlx::query!(
        "INSERT INTO probe_states AS p (endpoint_id, window_total, window_ok, window_errors,
                                        window_unavailable, p50_ms, p95_ms, p99_ms, state,
                                        state_since)
         SELECT u.id, u.total, u.ok, u.errors, u.unavailable, u.p50, u.p95, u.p99, u.state, $10
         FROM UNNEST($1::bigint[], $2::int[], $3::int[], $4::int[], $5::int[], $6::int[],
                     $7::int[], $8::int[], $9::text[])
              AS u(id, total, ok, errors, unavailable, p50, p95, p99, state)
         ON CONFLICT (endpoint_id) DO UPDATE
         SET window_total = EXCLUDED.window_total, window_ok = EXCLUDED.window_ok,
             window_errors = EXCLUDED.window_errors,
             window_unavailable = EXCLUDED.window_unavailable, p50_ms = EXCLUDED.p50_ms,
             p95_ms = EXCLUDED.p95_ms, p99_ms = EXCLUDED.p99_ms, state = EXCLUDED.state,
             state_since = CASE WHEN p.state = EXCLUDED.state THEN p.state_since
                                ELSE EXCLUDED.state_since END",
        &changed.iter().map(|(id, _, _)| *id).collect::<Vec<_>>(),
        &stat(|w| w.total),
        &stat(|w| w.ok),
        &stat(|w| w.errors),
        &stat(|w| w.unavailable),
        &pct(|w| w.p50_ms) as &[Option<i32>],
        &pct(|w| w.p95_ms) as &[Option<i32>],
        &pct(|w| w.p99_ms) as &[Option<i32>],
        &changed
            .iter()
            .map(|(_, _, s)| s.as_str().to_string())
            .collect::<Vec<_>>(),
        now as _
    )
    .execute(&mut *tx)
    .await?;
    mark_rollback_suggested(&mut tx, &p1_envs, now).await?;
    // Nothing changed, nothing to tell (an idle instance stays quiet).
    if !changed.is_empty() || !result.alerts.is_empty() {
        notify(&mut tx, "probes").await?;
    }
    tx.commit().await?;
    // Rolling up may read much; it runs in its own short transaction, still one replica
    // at a time.
    let mut tx = pool.begin().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(EVALUATOR_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if locked {
        roll_up(&mut tx, now).await?;
        tx.commit().await?;
    }
    Ok(Some(result))
}

/// Marks releases going live into an environment with a P1 as "rollback suggested"
/// (once, with why, in the audit trail).
async fn mark_rollback_suggested(
    conn: &mut sqlx::PgConnection,
    p1_envs: &[String],
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if p1_envs.is_empty() {
        return Ok(());
    }
    let marked = sqlx::query!(
        "UPDATE releases SET rollback_suggested_at = $2,
                rollback_suggested_because = 'open P1 alert in ' || environment
         WHERE phase = 'go_live' AND rollback_suggested_at IS NULL
           AND lower(trim(environment)) = ANY($1)
         RETURNING id, environment",
        &p1_envs
            .iter()
            .map(|e| e.trim().to_lowercase())
            .collect::<Vec<_>>(),
        now as _
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in marked {
        crate::services::audit::append(
            conn,
            &crate::services::Actor::Probes,
            crate::services::audit::Entry {
                action: "release.rollback_suggested",
                release_id: Some(r.id),
                old: None,
                new: Some(json!({ "because": format!("open P1 alert in {}", r.environment) })),
            },
        )
        .await?;
    }
    Ok(())
}
