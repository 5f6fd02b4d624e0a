//! Configuration from the environment (12-factor). A missing or invalid value stops the
//! process with one line naming the variable.

use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "configuration error: {}: {}", self.var, self.problem)
    }
}

impl std::error::Error for ConfigError {}

fn err(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        problem: problem.into(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    pub level: tracing::Level,
    pub format: LogFormat,
}

pub use app::services::storage::StorageSettings;

/// The default upload limit: 100 MB.
pub const DEFAULT_EVIDENCE_MAX_MB: u64 = 100;

#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    pub site_addr: SocketAddr,
    pub site_root: String,
    pub public_base_url: String,
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub log: LogSettings,
    pub storage: StorageSettings,
    /// The largest evidence upload accepted, in bytes (`EVIDENCE_MAX_MB`).
    pub evidence_max_bytes: u64,
    pub probes: ProbeSettings,
    pub notify: NotifySettings,
    /// Single sign-on through an OpenID provider, when configured.
    pub sso: Option<SsoSettings>,
    /// Who may sign in with a password (`LOCAL_LOGIN`).
    pub local_login: LocalLogin,
}

pub use crate::sso::settings::{LocalLogin, SsoSettings};

/// E-mail and the clock notices are judged by.
#[derive(Clone, Debug, Default)]
pub struct NotifySettings {
    /// Where e-mail goes (`SMTP_URL`, `MAIL_FROM`); without it e-mails are recorded as
    /// skipped, so admins see what would have gone out.
    pub smtp: Option<SmtpSettings>,
    /// What time it is for reminders; tests move it on instead of sleeping.
    pub clock: Clock,
}

#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// The URL as lettre reads it (`tls=required` made explicit for `smtp://`).
    pub url: String,
    pub from: String,
}

impl std::fmt::Debug for SmtpSettings {
    // The URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// A source of the current time.
#[derive(Clone)]
pub struct Clock(std::sync::Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>);

impl Clock {
    pub fn new(now: impl Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync + 'static) -> Clock {
        Clock(std::sync::Arc::new(now))
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new(chrono::Utc::now)
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

/// `smtp://` means STARTTLS, required, unless `?tls=none` (a local relay) or
/// `?tls=opportunistic` says otherwise; `smtps://` is TLS from the first byte. Returns the
/// URL in lettre's terms, where a plain `smtp://` would be unencrypted.
pub fn smtp_url(raw: &str) -> Result<String, String> {
    let mut url = url::Url::parse(raw.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err("names no host".into());
    }
    let tls = url
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.to_string());
    let others: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "tls")
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let tls = match (url.scheme(), tls.as_deref()) {
        ("smtps", None) => None,
        ("smtps", Some(v)) => return Err(format!("`tls={v}` does not go with smtps://")),
        ("smtp", None | Some("required")) => Some("required"),
        ("smtp", Some("opportunistic")) => Some("opportunistic"),
        ("smtp", Some("none")) => None,
        ("smtp", Some(v)) => {
            return Err(format!(
                "`tls={v}` is not one of required, opportunistic, none"
            ))
        }
        (other, _) => return Err(format!("`{other}://` is not smtp:// or smtps://")),
    };
    {
        let mut q = url.query_pairs_mut();
        q.clear();
        for (k, v) in &others {
            q.append_pair(k, v);
        }
        if let Some(t) = tls {
            q.append_pair("tls", t);
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    Ok(url.to_string())
}

/// The background prober, evaluator and webhook deliveries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeSettings {
    /// `PROBES=off` runs no background work (the web server only).
    pub enabled: bool,
    /// This replica's name in the probe results (`REPLICA_NAME`, default host and pid).
    pub replica: String,
    /// Probes in flight at most (`PROBE_CONCURRENCY`, default 2048).
    pub concurrency: usize,
    /// Raw results are kept this many days (`PROBE_RAW_RETENTION_DAYS`, default 7).
    pub raw_retention_days: i64,
    /// One-minute rollups are kept this many days (`PROBE_ROLLUP_RETENTION_DAYS`, default 400).
    pub rollup_retention_days: i64,
    /// How often states and alerts are judged (`PROBE_EVALUATE_MS`, default 2000).
    pub evaluate_every: Duration,
    /// The first retry of a failed webhook delivery waits this long, then doubling
    /// (`WEBHOOK_RETRY_BASE_MS`, default 5000).
    pub webhook_retry_base: Duration,
    /// Probes (and webhooks) may reach link-local and cloud metadata addresses
    /// (`PROBE_ALLOW_LINK_LOCAL=true`; default false).
    pub allow_link_local: bool,
    /// How often an open status stream checks its viewer's session or token again
    /// (30 s; tests shorten it).
    pub status_stream_recheck: Duration,
    /// Status streams one user may hold open at once (5).
    pub status_streams_per_user: usize,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            enabled: true,
            replica: format!(
                "{}-{}",
                std::fs::read_to_string("/etc/hostname")
                    .map(|h| h.trim().to_string())
                    .unwrap_or_else(|_| "shipgate".into()),
                std::process::id()
            ),
            concurrency: 2048,
            raw_retention_days: 7,
            rollup_retention_days: 400,
            evaluate_every: Duration::from_millis(2000),
            webhook_retry_base: Duration::from_millis(5000),
            allow_link_local: false,
            status_stream_recheck: app::services::status::STREAM_RECHECK,
            status_streams_per_user: app::services::status::STREAMS_PER_USER,
        }
    }
}

/// Reads variables through a lookup function, so tests need not touch the process environment.
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// A variable's value; unset and blank are the same.
    pub(crate) fn get(&self, var: &str) -> Option<String> {
        (self.0)(var).filter(|v| !v.trim().is_empty())
    }

    pub fn log(&self) -> Result<LogSettings, ConfigError> {
        let level = match self.get("LOG_LEVEL").as_deref().map(str::trim) {
            None => tracing::Level::INFO,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "error" => tracing::Level::ERROR,
                "warn" => tracing::Level::WARN,
                "info" => tracing::Level::INFO,
                "debug" => tracing::Level::DEBUG,
                "trace" => tracing::Level::TRACE,
                _ => {
                    return Err(err(
                        "LOG_LEVEL",
                        format!("`{v}` is not one of error, warn, info, debug"),
                    ))
                }
            },
        };
        let format = match self.get("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(v) => return Err(err("LOG_FORMAT", format!("`{v}` is not one of text, json"))),
        };
        Ok(LogSettings { level, format })
    }

    pub fn database_url(&self) -> Result<String, ConfigError> {
        let url = self.get("DATABASE_URL").ok_or_else(|| {
            err(
                "DATABASE_URL",
                "not set (expected e.g. postgres://user@127.0.0.1:5432/shipgate)",
            )
        })?;
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(err(
                "DATABASE_URL",
                "must start with postgres:// or postgresql://",
            ));
        }
        Ok(url)
    }

    pub fn storage(&self) -> Result<StorageSettings, ConfigError> {
        match self.get("FILE_STORAGE_MODE").as_deref().map(str::trim) {
            None | Some("local") => Ok(StorageSettings::Local {
                dir: self
                    .get("FILE_STORAGE_DIR")
                    .unwrap_or_else(|| "data/evidence".into())
                    .into(),
            }),
            Some("s3") => {
                let need = |var: &'static str| {
                    self.get(var)
                        .map(|v| v.trim().to_string())
                        .ok_or_else(|| err(var, "must be set when FILE_STORAGE_MODE=s3"))
                };
                let endpoint = self
                    .get("S3_ENDPOINT_URL")
                    .map(|v| v.trim().trim_end_matches('/').to_string());
                if let Some(e) = &endpoint {
                    if !(e.starts_with("http://") || e.starts_with("https://")) {
                        return Err(err(
                            "S3_ENDPOINT_URL",
                            "must start with http:// or https://",
                        ));
                    }
                }
                Ok(StorageSettings::S3 {
                    region: need("AWS_REGION")?,
                    access_key_id: need("AWS_ACCESS_KEY_ID")?,
                    secret_access_key: need("AWS_SECRET_ACCESS_KEY")?,
                    bucket: need("S3_BUCKET")?,
                    endpoint,
                })
            }
            Some(v) => Err(err(
                "FILE_STORAGE_MODE",
                format!("`{v}` is not one of local, s3"),
            )),
        }
    }

    fn minutes(&self, var: &'static str, default: u64) -> Result<Duration, ConfigError> {
        match self.get(var) {
            None => Ok(Duration::from_secs(default * 60)),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if n > 0 => Ok(Duration::from_secs(n * 60)),
                _ => Err(err(
                    var,
                    format!("`{v}` is not a positive whole number of minutes"),
                )),
            },
        }
    }

    fn number(
        &self,
        var: &'static str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, ConfigError> {
        match self.get(var) {
            None => Ok(default),
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(err(
                    var,
                    format!(
                        "`{v}` is not a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )),
            },
        }
    }

    pub fn probes(&self) -> Result<ProbeSettings, ConfigError> {
        let d = ProbeSettings::default();
        let enabled = match self.get("PROBES").as_deref().map(str::trim) {
            None | Some("on") => true,
            Some("off") => false,
            Some(v) => return Err(err("PROBES", format!("`{v}` is not one of on, off"))),
        };
        let allow_link_local = match self.get("PROBE_ALLOW_LINK_LOCAL").as_deref().map(str::trim) {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(err(
                    "PROBE_ALLOW_LINK_LOCAL",
                    format!("`{v}` is not one of true, false"),
                ))
            }
        };
        Ok(ProbeSettings {
            enabled,
            replica: self
                .get("REPLICA_NAME")
                .map(|v| v.trim().to_string())
                .unwrap_or(d.replica),
            concurrency: self.number("PROBE_CONCURRENCY", d.concurrency as u64, 1..=100_000)?
                as usize,
            raw_retention_days: self.number("PROBE_RAW_RETENTION_DAYS", 7, 1..=3650)? as i64,
            rollup_retention_days: self.number("PROBE_ROLLUP_RETENTION_DAYS", 400, 1..=36500)?
                as i64,
            evaluate_every: Duration::from_millis(self.number(
                "PROBE_EVALUATE_MS",
                2000,
                100..=600_000,
            )?),
            webhook_retry_base: Duration::from_millis(self.number(
                "WEBHOOK_RETRY_BASE_MS",
                5000,
                1..=3_600_000,
            )?),
            allow_link_local,
            status_stream_recheck: d.status_stream_recheck,
            status_streams_per_user: d.status_streams_per_user,
        })
    }

    pub fn notify(&self) -> Result<NotifySettings, ConfigError> {
        let Some(raw) = self.get("SMTP_URL") else {
            return Ok(NotifySettings::default());
        };
        let url = smtp_url(&raw).map_err(|e| err("SMTP_URL", e))?;
        let from = self
            .get("MAIL_FROM")
            .map(|v| v.trim().to_string())
            .ok_or_else(|| {
                err(
                    "MAIL_FROM",
                    "must be set when SMTP_URL is (e.g. Shipgate <shipgate@example.org>)",
                )
            })?;
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(err(
                "MAIL_FROM",
                format!("`{from}` is not an address like Shipgate <shipgate@example.org>"),
            ));
        }
        Ok(NotifySettings {
            smtp: Some(SmtpSettings { url, from }),
            clock: Clock::default(),
        })
    }

    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let log = self.log()?;
        let database_url = self.database_url()?;
        let site_addr = match self.get("LEPTOS_SITE_ADDR") {
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
            Some(v) => v.trim().parse().map_err(|_| {
                err(
                    "LEPTOS_SITE_ADDR",
                    format!("`{v}` is not an address like 127.0.0.1:3000"),
                )
            })?,
        };
        let site_root = self
            .get("LEPTOS_SITE_ROOT")
            .unwrap_or_else(|| "target/site".into());
        let public_base_url = match self.get("PUBLIC_BASE_URL") {
            None => format!("http://{site_addr}"),
            Some(v) => {
                let v = v.trim().trim_end_matches('/').to_string();
                let rest = v
                    .strip_prefix("https://")
                    .or_else(|| v.strip_prefix("http://"))
                    .ok_or_else(|| err("PUBLIC_BASE_URL", "must start with http:// or https://"))?;
                if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) {
                    return Err(err(
                        "PUBLIC_BASE_URL",
                        format!(
                            "`{v}` must be scheme and host only, e.g. https://shipgate.example.org"
                        ),
                    ));
                }
                v
            }
        };
        let session_idle = self.minutes("SESSION_IDLE_MINUTES", 120)?;
        let session_absolute = self.minutes("SESSION_MAX_MINUTES", 12 * 60)?;
        if session_absolute < session_idle {
            return Err(err(
                "SESSION_MAX_MINUTES",
                "must be at least SESSION_IDLE_MINUTES",
            ));
        }
        let storage = self.storage()?;
        let (sso, local_login) = self.sso()?;
        let evidence_max_bytes = match self.get("EVIDENCE_MAX_MB") {
            None => DEFAULT_EVIDENCE_MAX_MB * 1_000_000,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if (1..=1_000_000).contains(&n) => n * 1_000_000,
                _ => {
                    return Err(err(
                        "EVIDENCE_MAX_MB",
                        format!("`{v}` is not a whole number of megabytes"),
                    ))
                }
            },
        };
        Ok(Settings {
            database_url,
            site_addr,
            site_root,
            public_base_url,
            session_idle,
            session_absolute,
            log,
            storage,
            evidence_max_bytes,
            probes: self.probes()?,
            notify: self.notify()?,
            sso,
            local_login,
        })
    }
}

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        Env(|k| std::env::var(k).ok()).settings()
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_base_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env(move |k| map.get(k).cloned())
    }

    const DB: (&str, &str) = ("DATABASE_URL", "postgres://postgres@127.0.0.1/shipgate");

    #[test]
    fn smtp_urls_mean_starttls_unless_they_say_otherwise() {
        assert_eq!(
            smtp_url("smtp://user:p%40ss@mail.example.org:587").unwrap(),
            "smtp://user:p%40ss@mail.example.org:587?tls=required"
        );
        assert_eq!(
            smtp_url("smtp://127.0.0.1:2525?tls=none").unwrap(),
            "smtp://127.0.0.1:2525"
        );
        assert_eq!(
            smtp_url("smtps://u:p@mail.example.org").unwrap(),
            "smtps://u:p@mail.example.org"
        );
        assert!(smtp_url("smtp://h?tls=sometimes").is_err());
        assert!(smtp_url("http://mail.example.org").is_err());
        assert!(smtp_url("smtps://h?tls=none").is_err());
        let e = env(&[DB, ("SMTP_URL", "smtp://127.0.0.1:2525?tls=none")])
            .settings()
            .unwrap_err();
        assert_eq!(e.var, "MAIL_FROM");
        let s = env(&[
            DB,
            ("SMTP_URL", "smtp://127.0.0.1:2525?tls=none"),
            ("MAIL_FROM", "Shipgate <shipgate@example.org>"),
        ])
        .settings()
        .unwrap();
        assert_eq!(
            s.notify.smtp.unwrap().from,
            "Shipgate <shipgate@example.org>"
        );
        assert!(env(&[DB]).settings().unwrap().notify.smtp.is_none());
    }

    #[test]
    fn storage_is_local_unless_s3_is_configured_completely() {
        let s = env(&[DB]).settings().unwrap();
        assert_eq!(
            s.storage,
            StorageSettings::Local {
                dir: "data/evidence".into()
            }
        );
        assert_eq!(s.evidence_max_bytes, 100_000_000);
        let e = env(&[
            DB,
            ("FILE_STORAGE_MODE", "s3"),
            ("AWS_REGION", "eu-central-1"),
        ])
        .settings()
        .unwrap_err();
        assert_eq!(e.var, "AWS_ACCESS_KEY_ID");
        let s = env(&[
            DB,
            ("FILE_STORAGE_MODE", "s3"),
            ("AWS_REGION", "eu-central-1"),
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("S3_BUCKET", "evidence"),
            ("S3_ENDPOINT_URL", "http://127.0.0.1:9000/"),
            ("EVIDENCE_MAX_MB", "5"),
        ])
        .settings()
        .unwrap();
        assert!(matches!(
            s.storage,
            StorageSettings::S3 { ref endpoint, .. } if endpoint.as_deref() == Some("http://127.0.0.1:9000")
        ));
        assert_eq!(s.evidence_max_bytes, 5_000_000);
        assert_eq!(
            env(&[DB, ("FILE_STORAGE_MODE", "ftp")])
                .settings()
                .unwrap_err()
                .var,
            "FILE_STORAGE_MODE"
        );
    }

    #[test]
    fn defaults_apply() {
        let s = env(&[DB]).settings().unwrap();
        assert_eq!(s.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(s.public_base_url, "http://127.0.0.1:3000");
        assert!(!s.secure_cookies());
        assert_eq!(s.log.level, tracing::Level::INFO);
        assert_eq!(s.log.format, LogFormat::Text);
        assert_eq!(s.session_idle, Duration::from_secs(7200));
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "DATABASE_URL"),
            (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (&[DB, ("LOG_LEVEL", "loud")], "LOG_LEVEL"),
            (&[DB, ("LOG_FORMAT", "xml")], "LOG_FORMAT"),
            (&[DB, ("LEPTOS_SITE_ADDR", "localhost")], "LEPTOS_SITE_ADDR"),
            (&[DB, ("PUBLIC_BASE_URL", "ftp://x")], "PUBLIC_BASE_URL"),
            (
                &[DB, ("PUBLIC_BASE_URL", "https://x/app")],
                "PUBLIC_BASE_URL",
            ),
            (&[DB, ("SESSION_IDLE_MINUTES", "0")], "SESSION_IDLE_MINUTES"),
            (&[DB, ("SESSION_MAX_MINUTES", "abc")], "SESSION_MAX_MINUTES"),
            (
                &[
                    DB,
                    ("SESSION_IDLE_MINUTES", "600"),
                    ("SESSION_MAX_MINUTES", "60"),
                ],
                "SESSION_MAX_MINUTES",
            ),
        ];
        for (pairs, var) in cases {
            let e = env(pairs).settings().unwrap_err();
            assert_eq!(e.var, *var, "{pairs:?}");
            assert!(e.to_string().contains(var));
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn link_local_probes_are_off_unless_switched_on() {
        assert!(!env(&[DB]).settings().unwrap().probes.allow_link_local);
        let on = env(&[DB, ("PROBE_ALLOW_LINK_LOCAL", "true")])
            .settings()
            .unwrap();
        assert!(on.probes.allow_link_local);
        let e = env(&[DB, ("PROBE_ALLOW_LINK_LOCAL", "yes")])
            .settings()
            .unwrap_err();
        assert_eq!(e.var, "PROBE_ALLOW_LINK_LOCAL");
    }

    #[test]
    fn https_base_url_makes_cookies_secure() {
        let s = env(&[
            DB,
            ("PUBLIC_BASE_URL", "https://ship.example.org/"),
            ("LOG_LEVEL", "DEBUG"),
        ])
        .settings()
        .unwrap();
        assert_eq!(s.public_base_url, "https://ship.example.org");
        assert!(s.secure_cookies());
        assert_eq!(s.log.level, tracing::Level::DEBUG);
    }
}
