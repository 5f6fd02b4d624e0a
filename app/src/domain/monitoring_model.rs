//! Environments, alerts and the team-wide status as the API and the UI see them. Plain
//! data, shared by server and browser.

use super::monitoring::{Component, EndpointKind, EnvironmentSpec, HealthState, Rule, Thresholds};
use super::notify::EventGroup;
use super::release::{Blocker, Deadline, Phase, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An environment as shown: its settings (secret header values blanked) and when they
/// were made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub id: i64,
    #[serde(flatten)]
    pub spec: EnvironmentSpec,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Secret headers a change dropped because the base URL moved to another host (only in
    /// the answer to that change; they must be entered again for the new host).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_secret_headers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    pub environment_id: i64,
    pub environment: String,
    pub endpoint: EndpointKind,
    pub rule: Rule,
    pub severity: Severity,
    pub state: AlertState,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub value: f64,
    pub threshold: f64,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Open,
    Resolved,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointStatus {
    pub kind: EndpointKind,
    pub url: String,
    pub state: HealthState,
    pub state_since: DateTime<Utc>,
    pub p50_ms: Option<i32>,
    pub p95_ms: Option<i32>,
    pub p99_ms: Option<i32>,
    /// Over the alert window.
    pub samples: i32,
    pub error_rate_pct: Option<f64>,
    pub rate_503_pct: Option<f64>,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub last_ok_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub uptime_24h: Option<f64>,
    pub uptime_7d: Option<f64>,
    pub uptime_30d: Option<f64>,
    /// Latency p95 per minute, oldest first (`None`: nothing probed that minute).
    pub sparkline: Vec<Option<i32>>,
    pub component: Option<Component>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentStatus {
    pub id: i64,
    pub name: String,
    pub enabled: bool,
    pub state: HealthState,
    pub endpoints: Vec<EndpointStatus>,
    pub open_alerts: Vec<Alert>,
}

impl EnvironmentStatus {
    pub fn has_open_p1(&self) -> bool {
        self.open_alerts.iter().any(|a| a.severity == Severity::P1)
    }

    /// Why the staging gate's health item may not pass on this status; empty when it may:
    /// probed, every endpoint up, no open P1.
    pub fn health_item_failures(&self) -> Vec<String> {
        let mut why = Vec::new();
        if !self.enabled {
            why.push(format!("{} is not being probed (disabled)", self.name));
        }
        for p in self.endpoints.iter().filter(|p| p.state != HealthState::Up) {
            let detail = p
                .last_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            why.push(format!(
                "{} /{} is {}{detail}",
                self.name,
                p.kind.as_str(),
                p.state.as_str()
            ));
        }
        for a in self
            .open_alerts
            .iter()
            .filter(|a| a.severity == Severity::P1)
        {
            why.push(format!("open P1: {}", a.message));
        }
        why
    }
}

/// A release that has not ended, as the status view shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleaseInFlight {
    pub id: i64,
    pub title: String,
    pub version: String,
    pub environment: String,
    pub phase: Phase,
    pub window_start: DateTime<Utc>,
    pub next_deadline: Option<Deadline>,
    /// What keeps it from its next step.
    pub blockers: Vec<Blocker>,
    /// In go-live while its target environment has an open P1.
    pub rollback_suggested: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComponentStatus {
    pub component: Component,
    pub state: HealthState,
}

/// What the whole team sees on `/status`; the same for every viewer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusSnapshot {
    /// Moves on with every refresh.
    pub version: u64,
    pub generated_at: DateTime<Utc>,
    pub releases: Vec<ReleaseInFlight>,
    pub environments: Vec<EnvironmentStatus>,
    pub components: Vec<ComponentStatus>,
}

impl StatusSnapshot {
    pub fn empty() -> StatusSnapshot {
        StatusSnapshot {
            version: 0,
            generated_at: DateTime::<Utc>::UNIX_EPOCH,
            releases: Vec::new(),
            environments: Vec::new(),
            components: Vec::new(),
        }
    }

    /// Whether a release going live into `environment` should be rolled back: the
    /// environment has an open P1.
    pub fn p1_open_in(&self, environment: &str) -> bool {
        self.environments
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case(environment.trim()) && e.has_open_p1())
    }
}

/// The public status page: components only, nothing internal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicStatus {
    pub generated_at: DateTime<Utc>,
    pub components: Vec<ComponentStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: i64,
    pub name: String,
    pub url: String,
    /// `json` (Shipgate's own shape), `slack` (`{"text": …}`, for Slack-compatible chats) or
    /// `teams` (a message card for Microsoft Teams).
    pub format: String,
    /// The event groups the channel gets (`staging_gate`, `go_no_go`, …; see
    /// [`EventGroup`]).
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    /// The formats a webhook may have.
    pub const FORMATS: [&'static str; 3] = ["json", "slack", "teams"];

    /// What team channels can hear of, and get unless told otherwise: everything but
    /// assignments, which concern one person and go by e-mail only.
    pub const DEFAULT_EVENTS: [EventGroup; 4] = [
        EventGroup::StagingGate,
        EventGroup::GoNoGo,
        EventGroup::GoLive,
        EventGroup::Alerts,
    ];
}

/// The alert thresholds and whether the public status page is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitoringSettings {
    #[serde(flatten)]
    pub thresholds: Thresholds,
    pub public_status_page: bool,
}

/// A release going live into an environment that opened a P1: when, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackMark {
    pub at: DateTime<Utc>,
    pub because: String,
}
