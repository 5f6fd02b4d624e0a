//! How endpoints, environments and the status page's components are doing.

use serde::{Deserialize, Serialize};

/// Which of an environment's two endpoints: `/health` (the process) or `/readiness` (its
/// dependencies, e.g. a database ping).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointKind {
    Health,
    Readiness,
}

impl EndpointKind {
    pub const ALL: [EndpointKind; 2] = [EndpointKind::Health, EndpointKind::Readiness];

    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::Health => "health",
            EndpointKind::Readiness => "readiness",
        }
    }

    pub fn parse(s: &str) -> Option<EndpointKind> {
        EndpointKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How an endpoint or environment is doing, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    Up,
    Unknown,
    Degraded,
    Down,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Up => "up",
            HealthState::Unknown => "unknown",
            HealthState::Degraded => "degraded",
            HealthState::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Option<HealthState> {
        [
            HealthState::Up,
            HealthState::Unknown,
            HealthState::Degraded,
            HealthState::Down,
        ]
        .into_iter()
        .find(|h| h.as_str() == s)
    }

    /// Several endpoints as one: the worst of them; all unknown stays unknown, but
    /// unknown beside up is not "up".
    pub fn combine(states: impl IntoIterator<Item = HealthState>) -> HealthState {
        let states: Vec<HealthState> = states.into_iter().collect();
        if states.is_empty() || states.iter().all(|s| *s == HealthState::Unknown) {
            return HealthState::Unknown;
        }
        let worst = states.iter().copied().max().unwrap_or(HealthState::Unknown);
        if worst == HealthState::Unknown {
            HealthState::Degraded
        } else {
            worst
        }
    }
}

/// The public status page's components an endpoint can feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    Api,
    Push,
    Database,
    Storage,
}

impl Component {
    pub const ALL: [Component; 4] = [
        Component::Api,
        Component::Push,
        Component::Database,
        Component::Storage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Component::Api => "api",
            Component::Push => "push",
            Component::Database => "database",
            Component::Storage => "storage",
        }
    }

    pub fn parse(s: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Uptime in percent, if anything was probed.
pub fn uptime_pct(ok: i64, total: i64) -> Option<f64> {
    (total > 0).then(|| ok as f64 * 100.0 / total as f64)
}

/// Each component's state: the worst of the endpoints that feed it (enabled environments
/// only); components nothing feeds are left out.
pub fn component_states(
    feeds: impl IntoIterator<Item = (Component, HealthState)>,
) -> Vec<(Component, HealthState)> {
    let feeds: Vec<(Component, HealthState)> = feeds.into_iter().collect();
    Component::ALL
        .into_iter()
        .filter_map(|c| {
            let states: Vec<HealthState> = feeds
                .iter()
                .filter(|(fc, _)| *fc == c)
                .map(|(_, s)| *s)
                .collect();
            (!states.is_empty()).then(|| (c, HealthState::combine(states)))
        })
        .collect()
}
