//! The outbox worker inside `shipgate serve`: claims due notices (any replica may run it;
//! `FOR UPDATE SKIP LOCKED` hands each row to one), judges reminders again, and sends
//! e-mails over SMTP and team-channel messages to webhooks, recording each outcome.
//!
//! `message` writes what a notice says, `mail` sends e-mail, `chat` shapes webhook bodies.

pub mod chat;
pub mod mail;
pub mod message;

use crate::config::{Clock, NotifySettings};
use crate::prober::guard::{refused_in, refused_literal};
use app::domain::monitoring::TargetPolicy;
use app::i18n::Lang;
use app::services::notifications::outbox::{self, Due, Outcome, Verdict};
use mail::Mailer;
use std::time::Duration;

/// Everything one pass of the worker needs.
#[derive(Clone)]
pub struct Notifier {
    pub pool: sqlx::PgPool,
    pub mailer: Option<Mailer>,
    pub client: reqwest::Client,
    pub targets: TargetPolicy,
    pub base_url: String,
    pub clock: Clock,
    pub retry_base_ms: u64,
    /// What the probes say about targets, for the end of a stability hold.
    pub status: std::sync::Arc<app::services::status::StatusHub>,
}

impl Notifier {
    pub fn new(
        pool: sqlx::PgPool,
        settings: &NotifySettings,
        client: reqwest::Client,
        targets: TargetPolicy,
        base_url: &str,
        retry_base: Duration,
        status: std::sync::Arc<app::services::status::StatusHub>,
    ) -> Notifier {
        let mailer = settings.smtp.as_ref().and_then(|s| {
            Mailer::new(s, base_url)
                .inspect_err(|e| tracing::warn!(error = %e, "e-mail is off"))
                .ok()
        });
        Notifier {
            pool,
            mailer,
            client,
            targets,
            base_url: base_url.trim_end_matches('/').to_string(),
            clock: settings.clock.clone(),
            retry_base_ms: retry_base.as_millis() as u64,
            status,
        }
    }

    /// Sends what is due now; how many rows it handled.
    pub async fn run_once(&self) -> usize {
        let due = outbox::claim(&self.pool, 20, self.clock.now())
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "claiming outbox rows failed");
                Vec::new()
            });
        let n = due.len();
        // All at once, each try cut off well within the lease, so no other replica takes
        // a row while it is still being sent.
        futures_util::future::join_all(due.into_iter().map(|d| async move {
            let (id, attempts) = (d.id, d.attempts);
            if tokio::time::timeout(outbox::TRY_LIMIT, self.handle(d))
                .await
                .is_err()
            {
                tracing::warn!(
                    outbox = id,
                    attempt = attempts,
                    "a delivery took too long; it is tried again after its lease"
                );
            }
        }))
        .await;
        n
    }

    async fn handle(&self, d: Due) {
        if let Some(until) = self.hold_runs_until(&d).await {
            if let Err(e) = outbox::postpone(&self.pool, &d, until).await {
                tracing::warn!(error = %e, "postponing a notice failed");
            }
            return;
        }
        let outcome = match outbox::judge(&self.pool, &d).await {
            Ok(Verdict::Skip(why)) => Outcome::Skipped(why),
            Ok(Verdict::Send) => self.send(&d).await,
            Err(e) => Outcome::Failed {
                error: format!("judging failed: {e}"),
                permanent: false,
            },
        };
        if let Outcome::Failed { error, .. } = &outcome {
            tracing::warn!(outbox = d.id, channel = %d.channel, attempt = d.attempts, error = %error, "delivery failed");
        }
        if let Err(e) = outbox::done(&self.pool, &d, outcome, self.retry_base_ms).await {
            tracing::warn!(error = %e, "recording a delivery failed");
        }
    }

    /// For the end of a stability hold: when the hold, judged by the probes now, ends
    /// later than planned (the target was not healthy all along), the new end.
    async fn hold_runs_until(&self, d: &Due) -> Option<chrono::DateTime<chrono::Utc>> {
        if outbox::event_of(d) != Some(app::domain::notify::Event::GoLiveHoldFinished) {
            return None;
        }
        let now = self.clock.now();
        let overview =
            app::services::golive::overview(&self.pool, &self.status, d.release_id?, now)
                .await
                .ok()?;
        overview.hold.map(|h| h.until).filter(|until| *until > now)
    }

    async fn send(&self, d: &Due) -> Outcome {
        let event = outbox::event_of(d);
        if d.channel == "webhook" {
            let Some(url) = &d.url else {
                return Outcome::Skipped("the webhook is gone".into());
            };
            return match refused_literal(url, self.targets) {
                Some(why) => Outcome::Failed {
                    error: why,
                    permanent: false,
                },
                None => self.post_hook(d, url, event).await,
            };
        }
        let Some(event) = event else {
            return Outcome::Skipped(format!("unknown event {}", d.event));
        };
        let Some(mailer) = &self.mailer else {
            return Outcome::Skipped("e-mail is not configured (SMTP_URL)".into());
        };
        let Some(to) = &d.email else {
            return Outcome::Skipped("the account is gone".into());
        };
        let lang = d
            .lang
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or(Lang::De);
        let m = message::compose(event, &d.payload, lang, &self.base_url);
        match mailer.send(d.id, to, &m).await {
            Ok(()) => Outcome::Delivered,
            Err(e) => Outcome::Failed {
                error: e.error,
                permanent: e.permanent,
            },
        }
    }

    async fn post_hook(
        &self,
        d: &Due,
        url: &str,
        event: Option<app::domain::notify::Event>,
    ) -> Outcome {
        let format = d.format.as_deref().unwrap_or("json");
        let body = chat::body_for(format, event, &d.payload, &self.base_url);
        match self
            .client
            .post(url)
            .timeout(Duration::from_secs(10))
            .header("x-shipgate-delivery", d.id.to_string())
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => Outcome::Delivered,
            Ok(r) => Outcome::Failed {
                error: format!("answered {}", r.status()),
                permanent: false,
            },
            // The URL may carry a token: errors name the failure, not the URL.
            Err(e) => Outcome::Failed {
                error: refused_in(&e)
                    .unwrap_or_else(|| crate::prober::describe_error(&e.without_url())),
                permanent: false,
            },
        }
    }

    /// Runs until the process ends: a pass, then a pause when nothing was due.
    pub async fn run(self) {
        loop {
            if self.run_once().await == 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}
