//! The outbox's sending side: due rows are claimed with `FOR UPDATE SKIP LOCKED` (so two
//! replicas never take the same one) and leased for two minutes while they are sent; a
//! reminder is judged again when due and skipped when its condition cleared; the outcome
//! is recorded as delivered, retried later with backoff, failed for good, or skipped.
//!
//! A process that dies before it claims a row leaves it pending: the next claim sends it.
//! One that dies after sending and before recording leaves it leased: it is sent again
//! after the lease, with the same `Message-ID` (e-mail) and `X-Shipgate-Delivery` header
//! (webhooks), so receivers can tell the repeat.

use crate::domain::monitoring::retry_delay_ms;
use crate::domain::notify::{
    Condition, ConditionFacts, Event, OutboxEntry, OUTBOX_CHANNELS, OUTBOX_STATES,
};
use crate::domain::release::SignerRole;
use crate::services::release_store::snapshot;
use crate::services::{Actor, ServiceError};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

/// The most outbox rows one look returns.
const OUTBOX_LIMIT: i64 = 200;

/// A claimed row with what sending it needs.
#[derive(Clone, Debug)]
pub struct Due {
    pub id: i64,
    pub channel: String,
    pub event: String,
    pub event_group: String,
    pub payload: Value,
    pub condition: Option<Value>,
    pub attempts: i32,
    pub release_id: Option<i64>,
    /// E-mail rows: the person.
    pub email: Option<String>,
    pub lang: Option<String>,
    pub email_off: Option<Vec<String>>,
    pub disabled: Option<bool>,
    /// Webhook rows: the channel, and whether it still takes the row's group.
    pub url: Option<String>,
    pub format: Option<String>,
    pub takes_it: Option<bool>,
}

/// How long a claimed row is someone's: longer than one try may take (the worker gives
/// up a try after [`TRY_LIMIT`]).
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(120);
/// The longest one try may take, judging included.
pub const TRY_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Claims up to `limit` rows due at `now`, counting the attempt; a claimed row is not due
/// again for the [`LEASE`].
pub async fn claim(
    pool: &PgPool,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Due>, ServiceError> {
    Ok(sqlx::query_as!(
        Due,
        r#"WITH due AS (
               SELECT id FROM outbox
               WHERE state = 'pending' AND next_attempt_at <= $2
               ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED
           )
           UPDATE outbox o
           SET attempts = o.attempts + 1, next_attempt_at = $2 + make_interval(secs => $3)
           FROM due
           LEFT JOIN outbox x ON x.id = due.id
           LEFT JOIN users u ON u.id = x.user_id
           LEFT JOIN webhooks w ON w.id = x.webhook_id
           WHERE o.id = due.id
           RETURNING o.id, o.channel, o.event, o.event_group, o.payload, o.condition, o.attempts,
                     o.release_id, u.email AS "email?", u.lang AS "lang?",
                     u.email_off AS "email_off?", u.disabled AS "disabled?",
                     w.url AS "url?", w.format AS "format?",
                     (w.enabled AND o.event_group = ANY (w.events)) AS "takes_it?""#,
        limit,
        now as _,
        LEASE.as_secs_f64()
    )
    .fetch_all(pool)
    .await?)
}

/// What to do with a claimed row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Send,
    Skip(String),
}

/// Judges a claimed row before it is sent: the recipient still wants it and may get it,
/// and a reminder's condition still holds.
pub async fn judge(pool: &PgPool, d: &Due) -> Result<Verdict, ServiceError> {
    if d.channel == "webhook" && d.takes_it == Some(false) {
        return Ok(Verdict::Skip(
            "the webhook is switched off or no longer takes these events".into(),
        ));
    }
    if d.channel == "email" {
        if d.disabled == Some(true) {
            return Ok(Verdict::Skip("the account is disabled".into()));
        }
        if d.email_off
            .as_ref()
            .is_some_and(|off| off.contains(&d.event_group))
        {
            return Ok(Verdict::Skip("the recipient turned this off".into()));
        }
    }
    let (Some(cond), Some(release_id)) = (&d.condition, d.release_id) else {
        return Ok(Verdict::Send);
    };
    let Ok(cond) = serde_json::from_value::<Condition>(cond.clone()) else {
        return Ok(Verdict::Skip("unknown condition".into()));
    };
    let mut conn = pool.acquire().await?;
    let snap = match snapshot(&mut conn, release_id).await {
        Ok(s) => s,
        Err(ServiceError::NotFound) => return Ok(Verdict::Skip("the release is gone".into())),
        Err(e) => return Err(e),
    };
    let steps = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM go_live_steps WHERE release_id = $1"#,
        release_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let fresh_signed: Vec<SignerRole> = snap
        .sign_off_views()
        .into_iter()
        .filter(|s| !s.stale)
        .map(|s| s.role)
        .collect();
    let facts = ConditionFacts {
        phase: snap.release.phase,
        window_start: snap.release.window_start,
        fresh_signed,
        go_live_steps: steps,
    };
    Ok(match cond.cleared(&facts) {
        Some(why) => Verdict::Skip(why.into()),
        None => Verdict::Send,
    })
}

/// How sending went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Skipped(String),
    /// Failed this time; `permanent` ones are not tried again.
    Failed {
        error: String,
        permanent: bool,
    },
}

/// Records the outcome of the attempt that claimed `d`.
pub async fn done(
    pool: &PgPool,
    d: &Due,
    outcome: Outcome,
    retry_base_ms: u64,
) -> Result<(), ServiceError> {
    let (state, outcome_text, next_ms) = match outcome {
        Outcome::Delivered => ("delivered", None, None),
        Outcome::Skipped(why) => ("skipped", Some(why), None),
        Outcome::Failed { error, permanent } => {
            let next = (!permanent)
                .then(|| retry_delay_ms(d.attempts, retry_base_ms))
                .flatten();
            let state = if next.is_some() { "pending" } else { "failed" };
            (state, Some(error.chars().take(500).collect()), next)
        }
    };
    sqlx::query!(
        "UPDATE outbox
         SET state = $3, outcome = $4, last_error = CASE WHEN $3 = 'skipped' THEN last_error ELSE $4 END,
             delivered_at = CASE WHEN $3 = 'delivered' THEN now() END,
             next_attempt_at = CASE WHEN $5::bigint IS NULL THEN next_attempt_at
                                    ELSE now() + make_interval(secs => $5 / 1000.0) END
         WHERE id = $1 AND attempts = $2 AND state = 'pending'",
        d.id,
        d.attempts,
        state,
        outcome_text,
        next_ms.map(|ms| ms as i64)
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The event a row is about (rows of events this version does not know are skipped).
pub fn event_of(d: &Due) -> Option<Event> {
    Event::parse(&d.event)
}

/// Puts a claimed row back until `at`, not counting the attempt (a stability hold that
/// lasts longer than planned, because the target was not healthy all along).
pub async fn postpone(pool: &PgPool, d: &Due, at: DateTime<Utc>) -> Result<(), ServiceError> {
    sqlx::query!(
        "UPDATE outbox SET attempts = attempts - 1, next_attempt_at = $3
         WHERE id = $1 AND attempts = $2 AND state = 'pending'",
        d.id,
        d.attempts,
        at as _
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// A filter's value: `None` for none (absent or empty), else one of `allowed`.
fn one_of<'a>(
    value: Option<&'a str>,
    allowed: &[&str],
    field: &'static str,
    en: &'static str,
    de: &'static str,
) -> Result<Option<&'a str>, ServiceError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v)),
        Some(_) => Err(ServiceError::invalid(field, en, de)),
    }
}

/// The outbox, newest first (at most 200 rows), for admins; `state` and `channel` filter.
/// The recipient is the person's e-mail address for e-mails, the webhook's name for
/// team channels.
pub async fn list(
    pool: &PgPool,
    actor: &Actor,
    state: Option<&str>,
    channel: Option<&str>,
) -> Result<Vec<OutboxEntry>, ServiceError> {
    actor.require_admin()?;
    let state = one_of(
        state,
        &OUTBOX_STATES,
        "state",
        "state is one of pending, delivered, failed, skipped.",
        "state ist einer von pending, delivered, failed, skipped.",
    )?;
    let channel = one_of(
        channel,
        &OUTBOX_CHANNELS,
        "channel",
        "channel is email or webhook.",
        "channel ist email oder webhook.",
    )?;
    // Rows moved over from the webhook deliveries keep their failure in `last_error`.
    Ok(sqlx::query_as!(
        OutboxEntry,
        r#"SELECT o.id, o.channel, COALESCE(u.email, w.name, '') AS "recipient!",
                  o.event, o.event_group, o.release_id, o.state, o.attempts,
                  COALESCE(o.outcome, o.last_error) AS "outcome?",
                  o.next_attempt_at AS "next_attempt_at: DateTime<Utc>",
                  o.delivered_at AS "delivered_at: DateTime<Utc>",
                  o.created_at AS "created_at: DateTime<Utc>"
           FROM outbox o
                LEFT JOIN users u ON u.id = o.user_id
                LEFT JOIN webhooks w ON w.id = o.webhook_id
           WHERE ($1::text IS NULL OR o.state = $1)
             AND ($2::text IS NULL OR o.channel = $2)
           ORDER BY o.id DESC
           LIMIT $3"#,
        state,
        channel,
        OUTBOX_LIMIT
    )
    .fetch_all(pool)
    .await?)
}
