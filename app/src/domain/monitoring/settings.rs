//! What an environment's settings and the alert thresholds must satisfy, and how a
//! probe's header list carries over an edit.

use super::{literal_ip, url_host, Component, TargetPolicy};
use serde::{Deserialize, Serialize};

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
