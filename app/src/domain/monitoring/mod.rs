//! Probes and alerts: what a series of probe results says about an endpoint (up, degraded,
//! down), the spec's alert rules over a window, and what an environment's settings must
//! satisfy. Pure: callers pass `now` and the samples in.

mod alerts;
mod health;
mod probes;
mod settings;

pub use alerts::{
    endpoint_state, firing, percentile, retry_delay_ms, rollback_suggested, EndpointFacts, Firing,
    Rule, Sample, WindowStats, DELIVERY_ATTEMPTS,
};
pub use health::{component_states, uptime_pct, Component, EndpointKind, HealthState};
pub use probes::{
    clip_chars, is_link_local, is_probed_item, literal_ip, quote_response, url_host, TargetPolicy,
    ERROR_MAX_CHARS, PROBED_ITEMS, QUOTE_MAX_CHARS,
};
pub use settings::{carry_headers, EnvironmentSpec, ProbeHeader, Problem, Thresholds};

#[cfg(test)]
mod tests;
