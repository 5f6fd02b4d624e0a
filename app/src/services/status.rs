//! The team-wide status: releases in flight and every environment's health, built from
//! Postgres and kept in memory. Each replica rebuilds it when the status channel is
//! notified (the evaluator notifies after every round, changes to releases and
//! environments notify too) and hands the same bytes to every viewer.

use super::alerts::{self, Which};
use super::page_cache::ReleaseViews;
use super::{release_store, ServiceError};
use crate::domain::monitoring::{
    component_states, rollback_suggested, uptime_pct, Component, EndpointKind, HealthState,
    TargetPolicy,
};
use crate::domain::monitoring_model::{
    ComponentStatus, EndpointStatus, EnvironmentStatus, PublicStatus, ReleaseInFlight,
    StatusSnapshot,
};
use crate::domain::release::{next_deadline, Phase};
use bytes::Bytes;
use chrono::{DateTime, Duration, DurationRound, Utc};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Minutes of latency the sparklines show.
pub const SPARKLINE_MINUTES: i64 = 30;

/// A snapshot with its JSON, serialized once for every viewer.
pub struct Published {
    pub snapshot: StatusSnapshot,
    pub json: Bytes,
}

/// Uptime and sparklines change by the minute; they are read at most once a minute.
#[derive(Default, Clone)]
struct SlowParts {
    uptime: HashMap<i64, [Option<f64>; 3]>,
    sparklines: HashMap<i64, Vec<Option<i32>>>,
}

/// An open status stream checks its viewer's session or token again at least this often.
pub const STREAM_RECHECK: std::time::Duration = std::time::Duration::from_secs(30);
/// Status streams one user may hold open at once (tabs, wall screens).
pub const STREAMS_PER_USER: usize = 5;

/// How this Shipgate treats the status stream's viewers and the environments it watches;
/// set once at start-up from the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HubSettings {
    /// Which addresses environments may point at.
    pub targets: TargetPolicy,
    pub stream_recheck: std::time::Duration,
    pub streams_per_user: usize,
}

impl Default for HubSettings {
    fn default() -> Self {
        HubSettings {
            targets: TargetPolicy::default(),
            stream_recheck: STREAM_RECHECK,
            streams_per_user: STREAMS_PER_USER,
        }
    }
}

type StreamCounts = Arc<Mutex<HashMap<i64, usize>>>;

/// One open status stream of a user; dropping it (the stream ended or the viewer went
/// away) frees the place.
#[derive(Debug)]
pub struct StreamTicket {
    counts: StreamCounts,
    user_id: i64,
}

impl Drop for StreamTicket {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.remove(&self.user_id);
            }
        }
    }
}

pub struct StatusHub {
    current: watch::Sender<Arc<Published>>,
    settings: Mutex<HubSettings>,
    streams: StreamCounts,
    slow: Mutex<Option<(DateTime<Utc>, Arc<SlowParts>)>>,
    /// Releases in flight as last read, and when: probe rounds reuse them (only their
    /// "rollback suggested" is judged again).
    releases: Mutex<Option<(DateTime<Utc>, Vec<ReleaseInFlight>)>>,
    version: AtomicU64,
}

/// What a refresh must read again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Changed {
    /// Probe results and alerts only.
    Probes,
    /// Anything, releases included.
    Everything,
}

/// Releases are read again at least this often (their gates depend on the clock).
const RELEASES_AT_MOST_EVERY: i64 = 10;

impl Default for StatusHub {
    fn default() -> Self {
        let empty = StatusSnapshot::empty();
        let json = Bytes::from(serde_json::to_vec(&empty).unwrap_or_default());
        StatusHub {
            current: watch::channel(Arc::new(Published {
                snapshot: empty,
                json,
            }))
            .0,
            settings: Mutex::new(HubSettings::default()),
            streams: StreamCounts::default(),
            slow: Mutex::new(None),
            releases: Mutex::new(None),
            version: AtomicU64::new(0),
        }
    }
}

impl std::fmt::Debug for StatusHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusHub")
    }
}

impl StatusHub {
    pub fn current(&self) -> Arc<Published> {
        self.current.borrow().clone()
    }

    /// Every new snapshot, starting with the current one.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Published>> {
        self.current.subscribe()
    }

    pub fn configure(&self, settings: HubSettings) {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
    }

    pub fn settings(&self) -> HubSettings {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for one more status stream of `user_id`, or `None` while they hold
    /// [`HubSettings::streams_per_user`] already.
    pub fn open_stream(&self, user_id: i64) -> Option<StreamTicket> {
        let limit = self.settings().streams_per_user;
        let mut counts = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let open = counts.entry(user_id).or_insert(0);
        if *open >= limit {
            return None;
        }
        *open += 1;
        Some(StreamTicket {
            counts: self.streams.clone(),
            user_id,
        })
    }

    /// Builds the snapshot afresh and publishes it.
    pub async fn refresh(
        &self,
        pool: &PgPool,
        views: &ReleaseViews,
        changed: Changed,
        now: DateTime<Utc>,
    ) -> Result<Arc<Published>, ServiceError> {
        let slow = self.slow_parts(pool, now).await?;
        let environments = environment_statuses(pool, None, &slow).await?;
        let components =
            component_states(environments.iter().filter(|e| e.enabled).flat_map(|e| {
                e.endpoints
                    .iter()
                    .filter_map(|p| p.component.map(|c| (c, p.state)))
            }))
            .into_iter()
            .map(|(component, state)| ComponentStatus { component, state })
            .collect();
        let mut snapshot = StatusSnapshot {
            version: self.version.fetch_add(1, Ordering::Relaxed) + 1,
            generated_at: now,
            releases: Vec::new(),
            environments,
            components,
        };
        let cached = self
            .releases
            .lock()
            .expect("status cache")
            .clone()
            .filter(|(at, _)| {
                changed == Changed::Probes && now - *at < Duration::seconds(RELEASES_AT_MOST_EVERY)
            });
        snapshot.releases = match cached {
            // A mark writes an audit row, which notifies "release": reused releases are
            // still right.
            Some((_, releases)) => releases,
            None => {
                let fresh = releases_in_flight(pool, views, now).await?;
                *self.releases.lock().expect("status cache") = Some((now, fresh.clone()));
                fresh
            }
        };
        let json = Bytes::from(
            serde_json::to_vec(&snapshot).map_err(|e| ServiceError::Internal(e.to_string()))?,
        );
        let published = Arc::new(Published { snapshot, json });
        self.current.send_replace(published.clone());
        Ok(published)
    }

    async fn slow_parts(
        &self,
        pool: &PgPool,
        now: DateTime<Utc>,
    ) -> Result<Arc<SlowParts>, ServiceError> {
        let minute = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
        if let Some((at, parts)) = self.slow.lock().expect("status cache").as_ref() {
            if *at == minute {
                return Ok(parts.clone());
            }
        }
        let parts = Arc::new(read_slow_parts(pool, minute).await?);
        *self.slow.lock().expect("status cache") = Some((minute, parts.clone()));
        Ok(parts)
    }

    /// One environment's status, read now (for the API).
    pub async fn environment(
        &self,
        pool: &PgPool,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<EnvironmentStatus, ServiceError> {
        let slow = self.slow_parts(pool, now).await?;
        environment_statuses(pool, Some(id), &slow)
            .await?
            .pop()
            .ok_or(ServiceError::NotFound)
    }

    /// The public page's view: components only.
    pub fn public(&self) -> PublicStatus {
        let current = self.current();
        PublicStatus {
            generated_at: current.snapshot.generated_at,
            components: current.snapshot.components.clone(),
        }
    }
}

async fn read_slow_parts(pool: &PgPool, minute: DateTime<Utc>) -> Result<SlowParts, ServiceError> {
    let mut parts = SlowParts::default();
    let uptime = sqlx::query!(
        r#"SELECT endpoint_id,
                  sum(ok) FILTER (WHERE minute >= $1::timestamptz - interval '24 hours') AS ok_1d,
                  sum(total) FILTER (WHERE minute >= $1 - interval '24 hours') AS total_1d,
                  sum(ok) FILTER (WHERE minute >= $1 - interval '7 days') AS ok_7d,
                  sum(total) FILTER (WHERE minute >= $1 - interval '7 days') AS total_7d,
                  sum(ok) AS ok_30d, sum(total) AS total_30d
           FROM probe_rollups WHERE minute >= $1 - interval '30 days'
           GROUP BY endpoint_id"#,
        minute as _
    )
    .fetch_all(pool)
    .await?;
    for u in uptime {
        let pct =
            |ok: Option<i64>, total: Option<i64>| uptime_pct(ok.unwrap_or(0), total.unwrap_or(0));
        parts.uptime.insert(
            u.endpoint_id,
            [
                pct(u.ok_1d, u.total_1d),
                pct(u.ok_7d, u.total_7d),
                pct(u.ok_30d, u.total_30d),
            ],
        );
    }
    let from = minute - Duration::minutes(SPARKLINE_MINUTES);
    let points = sqlx::query!(
        r#"SELECT endpoint_id, minute AS "minute: DateTime<Utc>", p95_ms FROM probe_rollups
           WHERE minute >= $1::timestamptz AND minute < $2::timestamptz"#,
        from as _,
        minute as _
    )
    .fetch_all(pool)
    .await?;
    for p in points {
        let slot = ((p.minute - from).num_minutes()).clamp(0, SPARKLINE_MINUTES - 1) as usize;
        parts
            .sparklines
            .entry(p.endpoint_id)
            .or_insert_with(|| vec![None; SPARKLINE_MINUTES as usize])[slot] = p.p95_ms;
    }
    Ok(parts)
}

async fn environment_statuses(
    pool: &PgPool,
    only: Option<i64>,
    slow: &SlowParts,
) -> Result<Vec<EnvironmentStatus>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT e.id AS env_id, e.name, e.enabled, e.base_url, e.health_path, e.readiness_path,
                e.health_component, e.readiness_component,
                p.id, p.kind, coalesce(s.state, 'unknown') AS "state!",
                coalesce(s.state_since, p.watched_since) AS "state_since!: DateTime<Utc>",
                s.p50_ms, s.p95_ms, s.p99_ms, coalesce(s.window_total, 0) AS "window_total!",
                coalesce(s.window_errors, 0) AS "window_errors!",
                coalesce(s.window_unavailable, 0) AS "window_unavailable!",
                p.last_checked_at AS "last_checked_at: DateTime<Utc>",
                p.last_ok_at AS "last_ok_at: DateTime<Utc>", p.last_status, p.last_error
         FROM environments e JOIN probe_endpoints p ON p.environment_id = e.id
              LEFT JOIN probe_states s ON s.endpoint_id = p.id
         WHERE $1::bigint IS NULL OR e.id = $1
         ORDER BY lower(e.name), e.id, p.kind"#,
        only
    )
    .fetch_all(pool)
    .await?;
    let open = alerts::list(pool, Which::Open, only, 10_000).await?;
    let mut out: Vec<EnvironmentStatus> = Vec::new();
    for r in rows {
        let kind = EndpointKind::parse(&r.kind).unwrap_or(EndpointKind::Health);
        let (path, component) = match kind {
            EndpointKind::Health => (&r.health_path, &r.health_component),
            EndpointKind::Readiness => (&r.readiness_path, &r.readiness_component),
        };
        let rate = |n: i32| (r.window_total > 0).then(|| n as f64 * 100.0 / r.window_total as f64);
        let [uptime_24h, uptime_7d, uptime_30d] =
            slow.uptime.get(&r.id).copied().unwrap_or([None; 3]);
        let endpoint = EndpointStatus {
            kind,
            url: format!("{}{}", r.base_url, path),
            state: HealthState::parse(&r.state).unwrap_or(HealthState::Unknown),
            state_since: r.state_since,
            p50_ms: r.p50_ms,
            p95_ms: r.p95_ms,
            p99_ms: r.p99_ms,
            samples: r.window_total,
            error_rate_pct: rate(r.window_errors),
            rate_503_pct: rate(r.window_unavailable),
            last_checked_at: r.last_checked_at,
            last_ok_at: r.last_ok_at,
            last_status: r.last_status,
            last_error: r.last_error,
            uptime_24h,
            uptime_7d,
            uptime_30d,
            sparkline: slow
                .sparklines
                .get(&r.id)
                .cloned()
                .unwrap_or_else(|| vec![None; SPARKLINE_MINUTES as usize]),
            component: component.as_deref().and_then(Component::parse),
        };
        match out.last_mut().filter(|e| e.id == r.env_id) {
            Some(env) => env.endpoints.push(endpoint),
            None => out.push(EnvironmentStatus {
                id: r.env_id,
                name: r.name,
                enabled: r.enabled,
                state: HealthState::Unknown,
                endpoints: vec![endpoint],
                open_alerts: Vec::new(),
            }),
        }
    }
    for env in &mut out {
        env.state = if env.enabled {
            HealthState::combine(env.endpoints.iter().map(|p| p.state))
        } else {
            HealthState::Unknown
        };
        env.open_alerts = open
            .iter()
            .filter(|a| a.environment_id == env.id)
            .cloned()
            .collect();
    }
    Ok(out)
}

async fn releases_in_flight(
    pool: &PgPool,
    views: &ReleaseViews,
    now: DateTime<Utc>,
) -> Result<Vec<ReleaseInFlight>, ServiceError> {
    let mut out = Vec::new();
    for id in release_store::list_ids(pool, false).await? {
        let view = match views.get(pool, id).await {
            Ok(v) => v,
            // Ended or removed between the two reads.
            Err(ServiceError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        let s = &view.snapshot;
        let r = &s.release;
        let blockers = match r.phase {
            Phase::Draft | Phase::StagingGate => s.staging_gate().blockers,
            Phase::GoNoGo => s.go_live_gate_for(&view.content_hash, now).blockers,
            _ => Vec::new(),
        };
        out.push(ReleaseInFlight {
            id: r.id,
            title: r.title.clone(),
            version: r.version.clone(),
            environment: r.environment.clone(),
            phase: r.phase,
            window_start: r.window_start,
            next_deadline: next_deadline(r.phase, r.window_start, now),
            blockers,
            rollback_suggested: rollback_suggested(r.phase, view.rollback.is_some()),
        });
    }
    Ok(out)
}
