//! Probes and alerts: what a series of probe results says about an endpoint (up, degraded,
//! down), the spec's alert rules over a window, and what an environment's settings must
//! satisfy. Pure: callers pass `now` and the samples in.

use super::release::Severity;
use crate::i18n::Lang;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            HealthState::Up => lang.pick("up", "verfügbar"),
            HealthState::Unknown => lang.pick("unknown", "unbekannt"),
            HealthState::Degraded => lang.pick("degraded", "eingeschränkt"),
            HealthState::Down => lang.pick("down", "ausgefallen"),
        }
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

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Component::Api => "API",
            Component::Push => "Push",
            Component::Database => lang.pick("Database", "Datenbank"),
            Component::Storage => "Storage",
        }
    }
}

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

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Rule::Readiness503Rate => lang.pick("readiness 503 rate", "Readiness-503-Quote"),
            Rule::ErrorRate => lang.pick("5xx/error rate", "5xx-/Fehlerquote"),
            Rule::LatencyP95 => lang.pick("latency p95", "Latenz p95"),
            Rule::NoSuccess => lang.pick("no successful probe", "kein erfolgreicher Check"),
        }
    }
}

/// The alert thresholds (configurable; the defaults are the spec's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub readiness_503_pct: f64,
    pub error_rate_pct: f64,
    pub latency_p95_ms: i32,
    /// The window the rates and p95 are taken over (the spec: 5 min).
    pub window_seconds: i32,
    /// How long without a successful probe opens a P2 (the spec: 10 min).
    pub no_success_seconds: i32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            readiness_503_pct: 0.5,
            error_rate_pct: 2.0,
            latency_p95_ms: 500,
            window_seconds: 300,
            no_success_seconds: 600,
        }
    }
}

/// A setting a person got wrong, with the words to tell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub en: &'static str,
    pub de: &'static str,
}

const fn problem(field: &'static str, en: &'static str, de: &'static str) -> Problem {
    Problem { field, en, de }
}

impl Thresholds {
    pub fn check(&self) -> Result<(), Problem> {
        let pct = |v: f64| v.is_finite() && (0.0..=100.0).contains(&v);
        if !pct(self.readiness_503_pct) || !pct(self.error_rate_pct) {
            return Err(problem(
                "error_rate_pct",
                "Rates are percentages between 0 and 100.",
                "Quoten sind Prozentwerte zwischen 0 und 100.",
            ));
        }
        if !(1..=600_000).contains(&self.latency_p95_ms) {
            return Err(problem(
                "latency_p95_ms",
                "The latency threshold is between 1 ms and 600000 ms.",
                "Die Latenzschwelle liegt zwischen 1 ms und 600000 ms.",
            ));
        }
        if !(10..=86_400).contains(&self.window_seconds)
            || !(10..=604_800).contains(&self.no_success_seconds)
        {
            return Err(problem(
                "window_seconds",
                "Windows are between 10 seconds and a day (a week for “no success”).",
                "Zeitfenster liegen zwischen 10 Sekunden und einem Tag (eine Woche für „kein Erfolg“).",
            ));
        }
        Ok(())
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

/// Uptime in percent, if anything was probed.
pub fn uptime_pct(ok: i64, total: i64) -> Option<f64> {
    (total > 0).then(|| ok as f64 * 100.0 / total as f64)
}

/// The `points` of an SVG polyline drawing `values` into `width`×`height` (gaps skipped,
/// higher values drawn higher; the scale starts at zero).
pub fn sparkline_points(values: &[Option<i32>], width: f64, height: f64) -> String {
    let max = values.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            v.map(|v| {
                let x = i as f64 * step;
                let y = height - (v.max(0) as f64 / max) * height;
                format!("{x:.1},{y:.1}")
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An environment's settings as an admin enters them, defaults filled in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentSpec {
    pub name: String,
    pub base_url: String,
    pub health_path: String,
    pub readiness_path: String,
    pub interval_seconds: i32,
    pub timeout_ms: i32,
    pub expected_status: i32,
    pub body_contains: Option<String>,
    pub json_pointer: Option<String>,
    pub json_equals: Option<serde_json::Value>,
    pub headers: Vec<ProbeHeader>,
    pub health_component: Option<Component>,
    pub readiness_component: Option<Component>,
    pub enabled: bool,
}

/// A request header sent with every probe. A secret value is write-only: it is stored and
/// sent, but never shown again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeHeader {
    pub name: String,
    /// `None` when shown: a secret's value never leaves the server.
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub secret: bool,
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl EnvironmentSpec {
    pub fn check(&self) -> Result<(), Problem> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(problem(
                "name",
                "Give the environment a name of at most 64 characters (staging, prod, …).",
                "Bitte der Umgebung einen Namen mit höchstens 64 Zeichen geben (staging, prod, …).",
            ));
        }
        let url = self.base_url.trim();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let authority = rest.map(|r| r.split('/').next().unwrap_or_default());
        // No user:password@ in a URL every viewer sees.
        if rest.is_none_or(|r| r.is_empty() || r.starts_with('/'))
            || authority.is_some_and(|a| a.contains('@'))
            || url.len() > 2000
            || url.contains(['?', '#', ' '])
        {
            return Err(problem(
                "base_url",
                "The base URL is a full http(s):// address without query, e.g. https://api.example.com.",
                "Die Basis-URL ist eine vollständige http(s)://-Adresse ohne Query, z. B. https://api.example.com.",
            ));
        }
        for path in [&self.health_path, &self.readiness_path] {
            if !path.starts_with('/') || path.len() > 500 || path.contains([' ', '#']) {
                return Err(problem(
                    "health_path",
                    "Paths start with / (for example /health).",
                    "Pfade beginnen mit / (zum Beispiel /health).",
                ));
            }
        }
        if !(1..=3600).contains(&self.interval_seconds) {
            return Err(problem(
                "interval_seconds",
                "The interval is between 1 and 3600 seconds.",
                "Das Intervall liegt zwischen 1 und 3600 Sekunden.",
            ));
        }
        if !(50..=60_000).contains(&self.timeout_ms) {
            return Err(problem(
                "timeout_ms",
                "The timeout is between 50 and 60000 ms.",
                "Der Timeout liegt zwischen 50 und 60000 ms.",
            ));
        }
        // A probe ends before the next one of its endpoint starts.
        if self.timeout_ms > self.interval_seconds * 1000 {
            return Err(problem(
                "timeout_ms",
                "The timeout must not be longer than the interval.",
                "Der Timeout darf nicht länger als das Intervall sein.",
            ));
        }
        if !(100..=599).contains(&self.expected_status) {
            return Err(problem(
                "expected_status",
                "The expected status is an HTTP status (100–599).",
                "Der erwartete Status ist ein HTTP-Status (100–599).",
            ));
        }
        if self.body_contains.as_ref().is_some_and(|b| b.len() > 1000) {
            return Err(problem(
                "body_contains",
                "The expected body text is at most 1000 characters.",
                "Der erwartete Text ist höchstens 1000 Zeichen lang.",
            ));
        }
        match (&self.json_pointer, &self.json_equals) {
            (None, None) => {}
            (Some(p), Some(_)) if p.is_empty() || p.starts_with('/') => {}
            _ => {
                return Err(problem(
                    "json_pointer",
                    "A JSON assertion needs both a JSON pointer (e.g. /status) and the value expected there.",
                    "Eine JSON-Prüfung braucht einen JSON-Pointer (z. B. /status) und den dort erwarteten Wert.",
                ))
            }
        }
        if self.headers.len() > 20 {
            return Err(problem(
                "headers",
                "At most 20 headers.",
                "Höchstens 20 Header.",
            ));
        }
        for h in &self.headers {
            let value_ok = h
                .value
                .as_deref()
                .is_some_and(|v| v.len() <= 4000 && !v.contains(['\r', '\n', '\0']));
            if !is_token(&h.name) || !value_ok {
                return Err(problem(
                    "headers",
                    "Each header needs a valid name and a value on one line.",
                    "Jeder Header braucht einen gültigen Namen und einen einzeiligen Wert.",
                ));
            }
        }
        Ok(())
    }

    /// Refuses a base URL that names a link-local or cloud metadata address literally,
    /// unless `targets` allows it. (A name that resolves there is refused when probed.)
    pub fn check_target(&self, targets: TargetPolicy) -> Result<(), Problem> {
        let ip = url_host(&self.base_url).and_then(|h| literal_ip(&h));
        if ip.is_some_and(|ip| !targets.allows(ip)) {
            return Err(problem(
                "base_url",
                "The base URL points to a link-local or cloud metadata address (169.254.0.0/16, fe80::/10, fd00:ec2::254). Probes there are refused unless an operator sets PROBE_ALLOW_LINK_LOCAL=true.",
                "Die Basis-URL zeigt auf eine Link-Local- oder Cloud-Metadaten-Adresse (169.254.0.0/16, fe80::/10, fd00:ec2::254). Solche Ziele werden nur geprüft, wenn der Betrieb PROBE_ALLOW_LINK_LOCAL=true setzt.",
            ));
        }
        Ok(())
    }

    /// Whether `other` probes another host than this spec (secrets do not follow).
    pub fn host_differs(&self, other_base_url: &str) -> bool {
        url_host(&self.base_url) != url_host(other_base_url)
    }
}

/// Which addresses probes may reach. Link-local addresses hold the cloud metadata
/// services (credentials, instance secrets), so they are refused unless an operator allows
/// them (`PROBE_ALLOW_LINK_LOCAL=true`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_link_local: bool,
}

impl TargetPolicy {
    /// Whether a probe may connect to `ip`.
    pub fn allows(self, ip: IpAddr) -> bool {
        self.allow_link_local || !is_link_local(ip)
    }
}

/// Link-local addresses and the cloud metadata services that live there or nearby:
/// 169.254.0.0/16 (AWS, GCP, Azure, OpenStack at 169.254.169.254), fe80::/10,
/// fd00:ec2::254 (AWS over IPv6) and 100.100.100.200 (Alibaba Cloud). An IPv4 address
/// written as IPv6 (`::ffff:a.b.c.d`, `64:ff9b::a.b.c.d`) counts as itself.
pub fn is_link_local(ip: IpAddr) -> bool {
    fn v4(ip: Ipv4Addr) -> bool {
        ip.is_link_local() || ip == Ipv4Addr::new(100, 100, 100, 200)
    }
    match ip {
        IpAddr::V4(ip) => v4(ip),
        IpAddr::V6(ip) => {
            let s = ip.segments();
            let nat64 = s[..6] == [0x64u16, 0xff9b, 0, 0, 0, 0];
            (s[0] & 0xffc0) == 0xfe80
                || ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || ip.to_ipv4().is_some_and(v4)
                || (nat64 && v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32)))
        }
    }
}

/// The host of an http(s) URL as written: lowercase, without user, port or brackets.
pub fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let scheme_end = url.find("://")?;
    let rest = &url[scheme_end + 3..];
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The address a URL host names literally, read the way the probe's HTTP client (and a
/// browser) reads it: `2852039166`, `0xa9.0xfe.0xa9.0xfe` and `169.254.43518` all name
/// 169.254.169.254. `None` for a name that DNS has to answer.
pub fn literal_ip(host: &str) -> Option<IpAddr> {
    let host = percent_decoded(host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // A zone (`fe80::1%eth0`) does not make a link-local address any less so.
    let unzoned = host.split('%').next().unwrap_or_default();
    if let Ok(ip) = unzoned.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(ip));
    }
    whatwg_ipv4(host).map(IpAddr::V4)
}

fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The URL standard's IPv4 parser: one to four dot-separated numbers, each decimal, octal
/// (leading 0) or hex (0x), the last filling the bytes that remain.
fn whatwg_ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let numbers = parts
        .iter()
        .map(|p| {
            let hex = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"));
            let octal = p.strip_prefix('0').filter(|o| !o.is_empty());
            let (digits, radix) = match (hex, octal) {
                (Some(h), _) => (h, 16),
                (None, Some(o)) => (o, 8),
                (None, None) => (*p, 10),
            };
            if p.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            if digits.is_empty() {
                return Some(0);
            }
            u64::from_str_radix(digits, radix).ok()
        })
        .collect::<Option<Vec<u64>>>()?;
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|n| *n > 255) || *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let ip = init
        .iter()
        .enumerate()
        .fold(*last, |ip, (i, n)| ip + (*n << (8 * (3 - i))));
    Some(Ipv4Addr::from(ip as u32))
}

/// Errors quote at most this many characters of what a probed target answered: an error
/// is shown to every viewer and sealed into dossiers, a target's body is neither's business.
pub const QUOTE_MAX_CHARS: usize = 200;

/// A probe error is stored with at most this many characters, whatever produced it.
pub const ERROR_MAX_CHARS: usize = 600;

/// `text` as an error may quote it: at most [`QUOTE_MAX_CHARS`] characters, cut on a
/// character boundary, "…" marking the cut.
pub fn quote_response(text: &str) -> String {
    clip_chars(text, QUOTE_MAX_CHARS)
}

/// At most `max` characters of `text`, cut on a character boundary, "…" marking the cut.
pub fn clip_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// The header list after an edit. A secret header sent without a value keeps the value
/// stored under its name — unless the base URL moved to another host: a secret meant for
/// one host is handed to another only when entered again. Returns the headers and the
/// names of the secret headers dropped for that reason.
pub fn carry_headers(
    stored: &[ProbeHeader],
    sent: Option<Vec<ProbeHeader>>,
    host_changed: bool,
) -> (Vec<ProbeHeader>, Vec<String>) {
    let mut dropped = Vec::new();
    let Some(sent) = sent else {
        let kept: Vec<ProbeHeader> = stored
            .iter()
            .filter(|h| {
                let drop = host_changed && h.secret;
                if drop {
                    dropped.push(h.name.clone());
                }
                !drop
            })
            .cloned()
            .collect();
        return (kept, dropped);
    };
    let mut kept = Vec::with_capacity(sent.len());
    for mut h in sent {
        h.name = h.name.trim().to_string();
        // Only a secret header keeps its value when none is sent, and it stays secret:
        // turning a secret into a plain header needs the value again.
        if h.value.is_none() {
            if let Some(old) = stored
                .iter()
                .find(|c| c.secret && c.name.eq_ignore_ascii_case(&h.name))
            {
                if host_changed {
                    dropped.push(old.name.clone());
                    continue;
                }
                h.value = old.value.clone();
                h.secret = true;
            }
        }
        kept.push(h);
    }
    (kept, dropped)
}

/// A release going live while its target environment has an open P1 should be rolled back.
pub fn rollback_suggested(phase: super::release::Phase, open_p1: bool) -> bool {
    phase == super::release::Phase::GoLive && open_p1
}

/// Checklist items whose proof the probes provide: the staging gate's "Health checks
/// /health + /readiness = 200". They pass from a probe snapshot, never by hand.
pub const PROBED_ITEMS: [&str; 1] = ["staging_health"];

pub fn is_probed_item(key: &str) -> bool {
    PROBED_ITEMS.contains(&key)
}

/// How many times a webhook delivery is tried before it counts as failed.
pub const DELIVERY_ATTEMPTS: i32 = 6;

/// The wait before the next try after `attempts` failed ones (exponential: base, 2×base,
/// 4×base, …), or `None` once all tries are used up.
pub fn retry_delay_ms(attempts: i32, base_ms: u64) -> Option<u64> {
    (attempts < DELIVERY_ATTEMPTS).then(|| base_ms.saturating_mul(1 << (attempts.clamp(1, 20) - 1)))
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

#[cfg(test)]
mod tests;
