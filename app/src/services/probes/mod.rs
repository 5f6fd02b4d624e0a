//! The probe schedule and its results: claiming due endpoints (so that several replicas
//! never probe one endpoint twice in an interval), recording results in batches, and the
//! evaluator that turns the alert window into endpoint states and alerts, rolls results up
//! per minute and forgets old ones.

use super::ServiceError;
use crate::domain::monitoring::{clip_chars, EndpointKind, ERROR_MAX_CHARS};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;

mod evaluate;
pub use evaluate::{evaluate, AlertChange, Evaluation};

/// An endpoint due for a probe, with everything needed to probe it.
#[derive(Clone, Debug)]
pub struct DueProbe {
    pub endpoint_id: i64,
    pub environment_id: i64,
    pub kind: EndpointKind,
    pub scheduled_at: DateTime<Utc>,
    pub url: String,
    pub timeout_ms: i32,
    pub expected_status: i32,
    pub body_contains: Option<String>,
    pub json_pointer: Option<String>,
    pub json_equals: Option<serde_json::Value>,
    pub headers: Vec<(String, String)>,
}

/// Claims the endpoints due within `horizon_ms` for `replica` and moves their next due
/// time on by one interval, all in one statement: rows another replica holds are skipped,
/// so an endpoint is claimed once per interval whoever asks. An endpoint that fell more
/// than an interval behind (all replicas were away) is due again one interval from now.
pub async fn claim_due(
    pool: &PgPool,
    replica: &str,
    horizon_ms: i64,
    limit: i64,
) -> Result<Vec<DueProbe>, ServiceError> {
    let rows = sqlx::query!(
        r#"WITH due AS (
               SELECT id, next_due FROM probe_endpoints
               WHERE enabled AND next_due <= now() + make_interval(secs => $2::bigint / 1000.0)
               ORDER BY next_due LIMIT $3
               FOR UPDATE SKIP LOCKED
           ), moved AS (
               UPDATE probe_endpoints p
               SET next_due = CASE
                       WHEN due.next_due + make_interval(secs => p.interval_ms / 1000.0) > now()
                       THEN due.next_due + make_interval(secs => p.interval_ms / 1000.0)
                       ELSE now() + make_interval(secs => p.interval_ms / 1000.0) END,
                   claimed_by = $1
               FROM due WHERE p.id = due.id
               RETURNING p.id, p.environment_id, p.kind, due.next_due AS scheduled_at
           )
           SELECT m.id AS "id!", m.environment_id AS "environment_id!", m.kind AS "kind!",
                  m.scheduled_at AS "scheduled_at!: DateTime<Utc>", e.base_url, e.health_path,
                  e.readiness_path, e.timeout_ms, e.expected_status, e.body_contains,
                  e.json_pointer, e.json_equals, e.headers
           FROM moved m JOIN environments e ON e.id = m.environment_id"#,
        replica,
        horizon_ms,
        limit
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let kind = EndpointKind::parse(&r.kind).unwrap_or(EndpointKind::Health);
            let path = match kind {
                EndpointKind::Health => r.health_path,
                EndpointKind::Readiness => r.readiness_path,
            };
            let headers: Vec<crate::domain::monitoring::ProbeHeader> =
                serde_json::from_value(r.headers).unwrap_or_default();
            DueProbe {
                endpoint_id: r.id,
                environment_id: r.environment_id,
                kind,
                scheduled_at: r.scheduled_at,
                url: format!("{}{}", r.base_url, path),
                timeout_ms: r.timeout_ms,
                expected_status: r.expected_status,
                body_contains: r.body_contains,
                json_pointer: r.json_pointer,
                json_equals: r.json_equals,
                headers: headers
                    .into_iter()
                    .filter_map(|h| h.value.map(|v| (h.name, v)))
                    .collect(),
            }
        })
        .collect())
}

/// One probe's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeResult {
    pub endpoint_id: i64,
    pub scheduled_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub ok: bool,
    pub status: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
}

/// What a batch says about one endpoint.
struct Latest<'a> {
    last: &'a ProbeResult,
    ok_at: Option<DateTime<Utc>>,
    /// A success in the batch ends the earlier run of failures.
    reset: bool,
    /// Failures after the batch's last success (or all of them).
    failures: i32,
}

/// Writes a batch of results and moves each endpoint's "latest result" on, in one
/// transaction.
pub async fn record_probe_batch(
    pool: &PgPool,
    replica: &str,
    batch: &[ProbeResult],
) -> Result<(), ServiceError> {
    if batch.is_empty() {
        return Ok(());
    }
    // Every viewer sees these errors and dossiers seal them: they stay short whatever
    // the prober wrote (it quotes targets' answers briefly already).
    let clipped: Vec<ProbeResult> = batch
        .iter()
        .map(|r| ProbeResult {
            error: r.error.as_deref().map(|e| clip_chars(e, ERROR_MAX_CHARS)),
            ..r.clone()
        })
        .collect();
    let batch = clipped.as_slice();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "INSERT INTO probe_results (endpoint_id, scheduled_at, started_at, ok, status,
                                    latency_ms, error, replica)
         SELECT e, s, t, o, c, l, x, $8
         FROM UNNEST($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::bool[],
                     $5::int[], $6::int[], $7::text[]) AS u(e, s, t, o, c, l, x)",
        &batch.iter().map(|r| r.endpoint_id).collect::<Vec<_>>(),
        &batch.iter().map(|r| r.scheduled_at).collect::<Vec<_>>() as _,
        &batch.iter().map(|r| r.started_at).collect::<Vec<_>>() as _,
        &batch.iter().map(|r| r.ok).collect::<Vec<_>>(),
        &batch.iter().map(|r| r.status).collect::<Vec<_>>() as &[Option<i32>],
        &batch.iter().map(|r| r.latency_ms).collect::<Vec<_>>(),
        &batch.iter().map(|r| r.error.clone()).collect::<Vec<_>>() as &[Option<String>],
        replica
    )
    .execute(&mut *tx)
    .await?;
    // One row per endpoint: its newest result, the newest success, and how the batch
    // leaves its run of failures (reset by a success, or extended).
    let mut latest: HashMap<i64, Latest> = HashMap::new();
    let mut sorted: Vec<&ProbeResult> = batch.iter().collect();
    sorted.sort_by_key(|r| r.started_at);
    for r in sorted {
        let e = latest.entry(r.endpoint_id).or_insert(Latest {
            last: r,
            ok_at: None,
            reset: false,
            failures: 0,
        });
        e.last = r;
        if r.ok {
            e.ok_at = Some(r.started_at);
            e.reset = true;
            e.failures = 0;
        } else {
            e.failures += 1;
        }
    }
    // An older result that arrives after a newer one (another replica's batch) is kept
    // with the results but does not move the latest result back.
    let mut v: Vec<_> = latest.into_iter().collect();
    v.sort_by_key(|(id, _)| *id);
    sqlx::query!(
        "UPDATE probe_endpoints p
         SET last_checked_at = u.t, last_status = u.c, last_error = u.x,
             last_ok_at = COALESCE(u.ok_at, p.last_ok_at),
             consecutive_failures = CASE WHEN u.reset THEN u.n ELSE p.consecutive_failures + u.n END
         FROM UNNEST($1::bigint[], $2::timestamptz[], $3::int[], $4::text[], $5::timestamptz[],
                     $6::bool[], $7::int[]) AS u(e, t, c, x, ok_at, reset, n)
         WHERE p.id = u.e AND (p.last_checked_at IS NULL OR u.t >= p.last_checked_at)",
        &v.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        &v.iter().map(|(_, x)| x.last.started_at).collect::<Vec<_>>() as _,
        &v.iter().map(|(_, x)| x.last.status).collect::<Vec<_>>() as &[Option<i32>],
        &v.iter()
            .map(|(_, x)| x.last.error.clone())
            .collect::<Vec<_>>() as &[Option<String>],
        &v.iter().map(|(_, x)| x.ok_at).collect::<Vec<_>>() as _,
        &v.iter().map(|(_, x)| x.reset).collect::<Vec<_>>(),
        &v.iter().map(|(_, x)| x.failures).collect::<Vec<_>>()
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sums finished minutes of raw results into one-minute rollups. A minute is rolled up
/// once it ended more than 70 s ago (results arrive up to a timeout late); at most an
/// hour per call.
async fn roll_up(conn: &mut sqlx::PgConnection, now: DateTime<Utc>) -> Result<(), ServiceError> {
    let until = sqlx::query_scalar!(
        r#"SELECT rolled_up_until AS "t: DateTime<Utc>" FROM monitoring_settings WHERE id = 1"#
    )
    .fetch_one(&mut *conn)
    .await?;
    let from = match until {
        Some(t) => t,
        None => match sqlx::query_scalar!(
            r#"SELECT date_trunc('minute', min(started_at)) AS "t: DateTime<Utc>" FROM probe_results"#
        )
        .fetch_one(&mut *conn)
        .await?
        {
            Some(t) => t,
            None => return Ok(()),
        },
    };
    let ready = sqlx::query_scalar!(
        r#"SELECT date_trunc('minute', $1::timestamptz - interval '70 seconds') AS "t!: DateTime<Utc>""#,
        now as _
    )
    .fetch_one(&mut *conn)
    .await?;
    let to = ready.min(from + Duration::hours(1));
    if to <= from {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO probe_rollups (endpoint_id, minute, total, ok, server_errors, unavailable,
                                    p50_ms, p95_ms, p99_ms)
         SELECT endpoint_id, date_trunc('minute', started_at), count(*), count(*) FILTER (WHERE ok),
                count(*) FILTER (WHERE status IS NULL OR status >= 500),
                count(*) FILTER (WHERE status = 503),
                percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE status IS NOT NULL),
                percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE status IS NOT NULL),
                percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE status IS NOT NULL)
         FROM probe_results WHERE started_at >= $1::timestamptz AND started_at < $2::timestamptz
         GROUP BY 1, 2
         ON CONFLICT (endpoint_id, minute) DO UPDATE
         SET total = EXCLUDED.total, ok = EXCLUDED.ok, server_errors = EXCLUDED.server_errors,
             unavailable = EXCLUDED.unavailable, p50_ms = EXCLUDED.p50_ms,
             p95_ms = EXCLUDED.p95_ms, p99_ms = EXCLUDED.p99_ms",
        from as _,
        to as _
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE monitoring_settings SET rolled_up_until = $1 WHERE id = 1",
        to as _
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forgets raw results older than `raw_days` and rollups older than `rollup_days`.
pub async fn forget_old(
    pool: &PgPool,
    raw_days: i64,
    rollup_days: i64,
) -> Result<u64, ServiceError> {
    let raw = sqlx::query!(
        "DELETE FROM probe_results WHERE started_at < now() - make_interval(days => $1::int)",
        raw_days as i32
    )
    .execute(pool)
    .await?
    .rows_affected();
    let rolled = sqlx::query!(
        "DELETE FROM probe_rollups WHERE minute < now() - make_interval(days => $1::int)",
        rollup_days as i32
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok(raw + rolled)
}

/// The newest results of an environment's endpoints, for a snapshot taken as evidence.
pub async fn recent_results(
    pool: &PgPool,
    environment_id: i64,
    per_endpoint: i64,
) -> Result<serde_json::Value, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT p.kind, r.started_at AS "started_at?: DateTime<Utc>", r.ok AS "ok?", r.status, r.latency_ms AS "latency_ms?", r.error
           FROM probe_endpoints p
           LEFT JOIN LATERAL (
               SELECT started_at, ok, status, latency_ms, error FROM probe_results
               WHERE endpoint_id = p.id ORDER BY started_at DESC LIMIT $2
           ) r ON true
           WHERE p.environment_id = $1
           ORDER BY p.kind, r.started_at DESC"#,
        environment_id,
        per_endpoint
    )
    .fetch_all(pool)
    .await?;
    let mut out: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    for r in rows {
        let list = out.entry(r.kind).or_default();
        if let Some(at) = r.started_at {
            list.push(json!({
                "at": at, "ok": r.ok, "status": r.status, "latency_ms": r.latency_ms, "error": r.error,
            }));
        }
    }
    Ok(json!(out))
}
