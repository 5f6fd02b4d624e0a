//! A person's notification choices (the event groups e-mail is off for, and the language
//! e-mails are written in), and the outbox as admins look into it.

use super::audit::{self, Entry};
use super::{Actor, ServiceError};
use crate::domain::notify::{
    EventGroup, NotificationPrefs, OutboxEntry, OUTBOX_CHANNELS, OUTBOX_STATES,
};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

/// The languages e-mails are written in.
pub const LANGS: [&str; 2] = ["de", "en"];

/// The most outbox rows one look returns.
const OUTBOX_LIMIT: i64 = 200;

/// The groups as stored, in their usual order; a name this version does not know is left
/// out (the table's check admits none).
fn groups_of(names: &[String]) -> Vec<EventGroup> {
    EventGroup::ALL
        .into_iter()
        .filter(|g| names.iter().any(|n| n == g.as_str()))
        .collect()
}

fn group_names(groups: &[EventGroup]) -> Vec<String> {
    EventGroup::ALL
        .into_iter()
        .filter(|g| groups.contains(g))
        .map(|g| g.as_str().to_string())
        .collect()
}

pub async fn get(pool: &PgPool, user_id: i64) -> Result<NotificationPrefs, ServiceError> {
    let row = sqlx::query!("SELECT lang, email_off FROM users WHERE id = $1", user_id)
        .fetch_optional(pool)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(NotificationPrefs {
        lang: row.lang,
        email_off: groups_of(&row.email_off),
    })
}

/// The choices as the audit trail keeps them.
fn prefs_json(user_id: i64, email: &str, lang: &str, email_off: &[String]) -> Value {
    json!({
        "user_id": user_id,
        "email": email,
        "lang": lang,
        "email_off": email_off,
    })
}

/// Changes a person's choices: their own, or anyone's for an admin.
pub async fn set(
    pool: &PgPool,
    actor: &Actor,
    user_id: i64,
    prefs: NotificationPrefs,
) -> Result<(), ServiceError> {
    if actor.user_id() != Some(user_id) {
        actor.require_admin()?;
    }
    let lang = prefs.lang.trim();
    if !LANGS.contains(&lang) {
        return Err(ServiceError::invalid(
            "lang",
            "E-mails are written in German (de) or English (en).",
            "E-Mails werden auf Deutsch (de) oder Englisch (en) geschrieben.",
        ));
    }
    let email_off = group_names(&prefs.email_off);
    let mut tx = pool.begin().await?;
    let before = sqlx::query!(
        "SELECT email, lang, email_off FROM users WHERE id = $1 FOR UPDATE",
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServiceError::NotFound)?;
    let old_off = group_names(&groups_of(&before.email_off));
    if before.lang == lang && old_off == email_off {
        // Saving the same choices again changes nothing and is not worth an audit row.
        return Ok(());
    }
    sqlx::query!(
        "UPDATE users SET lang = $2, email_off = $3 WHERE id = $1",
        user_id,
        lang,
        &email_off
    )
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "user.notifications",
            release_id: None,
            old: Some(prefs_json(user_id, &before.email, &before.lang, &old_off)),
            new: Some(prefs_json(user_id, &before.email, lang, &email_off)),
        },
    )
    .await?;
    tx.commit().await?;
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
pub async fn outbox(
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
