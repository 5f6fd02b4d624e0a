//! The spec's alert rules over a window of probe results, the state they give an endpoint,
//! and what follows from an alert: a suggested rollback, webhook deliveries retried.

use super::{EndpointKind, HealthState, Thresholds};
use crate::domain::release::{Phase, Severity};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The spec's alert rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Readiness answering 503 in more than x % of the window's probes → P1.
    #[serde(rename = "readiness_503_rate")]
    Readiness503Rate,
    /// 5xx answers (or no answer at all) in more than x % of the window's probes → P1.
    ErrorRate,
    /// Latency p95 over the window above x ms → P1.
    LatencyP95,
    /// No successful probe for x minutes → P2.
    NoSuccess,
}

impl Rule {
    pub const ALL: [Rule; 4] = [
        Rule::Readiness503Rate,
        Rule::ErrorRate,
        Rule::LatencyP95,
        Rule::NoSuccess,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Readiness503Rate => "readiness_503_rate",
            Rule::ErrorRate => "error_rate",
            Rule::LatencyP95 => "latency_p95",
            Rule::NoSuccess => "no_success",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::NoSuccess => Severity::P2,
            _ => Severity::P1,
        }
    }
}

/// One probe's result as the rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// The HTTP status, `None` when nothing answered (refused, timed out, bad TLS).
    pub status: Option<i32>,
    pub latency_ms: i32,
}

/// A window of samples, summed up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowStats {
    pub total: u32,
    pub ok: u32,
    /// 5xx answers and probes nothing answered.
    pub errors: u32,
    /// 503 answers.
    pub unavailable: u32,
    /// Latency percentiles; a probe nothing answered counts with the time it waited.
    pub p50_ms: Option<i32>,
    pub p95_ms: Option<i32>,
    pub p99_ms: Option<i32>,
}

/// The nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i32], p: f64) -> Option<i32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

impl WindowStats {
    pub fn of(samples: &[Sample]) -> WindowStats {
        let mut latencies: Vec<i32> = samples.iter().map(|s| s.latency_ms).collect();
        latencies.sort_unstable();
        WindowStats {
            total: samples.len() as u32,
            ok: samples.iter().filter(|s| s.ok).count() as u32,
            errors: samples
                .iter()
                .filter(|s| s.status.is_none_or(|c| c >= 500))
                .count() as u32,
            unavailable: samples.iter().filter(|s| s.status == Some(503)).count() as u32,
            p50_ms: percentile(&latencies, 50.0),
            p95_ms: percentile(&latencies, 95.0),
            p99_ms: percentile(&latencies, 99.0),
        }
    }

    fn pct(&self, n: u32) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            n as f64 * 100.0 / self.total as f64
        }
    }

    pub fn error_pct(&self) -> f64 {
        self.pct(self.errors)
    }

    pub fn unavailable_pct(&self) -> f64 {
        self.pct(self.unavailable)
    }
}

/// What is known about one endpoint when the rules are judged.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointFacts {
    pub kind: EndpointKind,
    pub interval_ms: i32,
    /// The samples of the last `window_seconds`.
    pub window: WindowStats,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i32,
    /// Since when the endpoint is probed: "no success for 10 min" counts from here at most.
    pub watched_since: DateTime<Utc>,
}

/// A rule that holds right now, with the measured value and the threshold it crossed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Firing {
    pub rule: Rule,
    pub value: f64,
    pub threshold: f64,
}

/// The rules that hold for an endpoint at `now`.
pub fn firing(f: &EndpointFacts, t: &Thresholds, now: DateTime<Utc>) -> Vec<Firing> {
    let mut out = Vec::new();
    let w = &f.window;
    if f.kind == EndpointKind::Readiness && w.total > 0 && w.unavailable_pct() > t.readiness_503_pct
    {
        out.push(Firing {
            rule: Rule::Readiness503Rate,
            value: w.unavailable_pct(),
            threshold: t.readiness_503_pct,
        });
    }
    if w.total > 0 && w.error_pct() > t.error_rate_pct {
        out.push(Firing {
            rule: Rule::ErrorRate,
            value: w.error_pct(),
            threshold: t.error_rate_pct,
        });
    }
    if let Some(p95) = w.p95_ms.filter(|p| *p > t.latency_p95_ms) {
        out.push(Firing {
            rule: Rule::LatencyP95,
            value: p95 as f64,
            threshold: t.latency_p95_ms as f64,
        });
    }
    let since = f.last_ok_at.unwrap_or(f.watched_since).max(f.watched_since);
    let quiet = now - since;
    if quiet > Duration::seconds(t.no_success_seconds as i64) {
        out.push(Firing {
            rule: Rule::NoSuccess,
            value: quiet.num_seconds() as f64 / 60.0,
            threshold: t.no_success_seconds as f64 / 60.0,
        });
    }
    out
}

/// An endpoint's state: unknown before its first result or when results stopped coming
/// (three intervals, at least a minute); down after two failures in a row (or a failure
/// and nothing better in the window); degraded after a single failure or while a P1 rule
/// holds; up otherwise.
pub fn endpoint_state(f: &EndpointFacts, firing: &[Firing], now: DateTime<Utc>) -> HealthState {
    let Some(checked) = f.last_checked_at else {
        return HealthState::Unknown;
    };
    let stale_after = Duration::milliseconds((f.interval_ms as i64 * 3).max(60_000));
    if now - checked > stale_after {
        return HealthState::Unknown;
    }
    if f.consecutive_failures >= 2 || (f.consecutive_failures >= 1 && f.window.ok == 0) {
        return HealthState::Down;
    }
    if f.consecutive_failures == 1 || firing.iter().any(|x| x.rule.severity() == Severity::P1) {
        return HealthState::Degraded;
    }
    HealthState::Up
}

/// A release going live while its target environment has an open P1 should be rolled back.
pub fn rollback_suggested(phase: Phase, open_p1: bool) -> bool {
    phase == Phase::GoLive && open_p1
}

/// How many times a webhook delivery is tried before it counts as failed.
pub const DELIVERY_ATTEMPTS: i32 = 6;

/// The wait before the next try after `attempts` failed ones (exponential: base, 2×base,
/// 4×base, …), or `None` once all tries are used up.
pub fn retry_delay_ms(attempts: i32, base_ms: u64) -> Option<u64> {
    (attempts < DELIVERY_ATTEMPTS).then(|| base_ms.saturating_mul(1 << (attempts.clamp(1, 20) - 1)))
}
