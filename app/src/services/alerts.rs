//! Alerts as opened and resolved by the evaluator, and the webhooks told about them: a
//! delivery per webhook and event, retried with backoff, failures kept for admins to see.

use super::audit::{self, Entry};
use super::{events, Actor, ServiceError};
use crate::domain::monitoring::{EndpointKind, Rule};
use crate::domain::monitoring_model::{Alert, AlertState, Webhook};
use crate::domain::notify::EventGroup;
use crate::domain::release::Severity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

/// Which alerts to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Open,
    Resolved,
    All,
}

impl Which {
    pub fn parse(s: Option<&str>) -> Option<Which> {
        match s.unwrap_or("all") {
            "open" => Some(Which::Open),
            "resolved" => Some(Which::Resolved),
            "all" => Some(Which::All),
            _ => None,
        }
    }
}

async fn select(
    conn: &mut PgConnection,
    which: Which,
    id: Option<i64>,
    environment_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Alert>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT a.id, a.environment_id, e.name, p.kind, a.rule, a.severity,
                a.opened_at AS "opened_at: DateTime<Utc>",
                a.resolved_at AS "resolved_at: DateTime<Utc>", a.value, a.threshold, a.message
         FROM alerts a JOIN environments e ON e.id = a.environment_id
              JOIN probe_endpoints p ON p.id = a.endpoint_id
         WHERE ($1::text = 'all' OR ($1 = 'open') = (a.resolved_at IS NULL))
           AND ($2::bigint IS NULL OR a.id = $2)
           AND ($3::bigint IS NULL OR a.environment_id = $3)
         ORDER BY a.opened_at DESC, a.id DESC LIMIT $4"#,
        match which {
            Which::Open => "open",
            Which::Resolved => "resolved",
            Which::All => "all",
        },
        id,
        environment_id,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Alert {
            id: r.id,
            environment_id: r.environment_id,
            environment: r.name,
            endpoint: EndpointKind::parse(&r.kind).unwrap_or(EndpointKind::Health),
            rule: Rule::parse(&r.rule).unwrap_or(Rule::ErrorRate),
            severity: Severity::parse(&r.severity).unwrap_or(Severity::P1),
            state: if r.resolved_at.is_some() {
                AlertState::Resolved
            } else {
                AlertState::Open
            },
            opened_at: r.opened_at,
            resolved_at: r.resolved_at,
            value: r.value,
            threshold: r.threshold,
            message: r.message,
        })
        .collect())
}

/// Alerts, newest first (at most `limit`).
pub async fn list(
    pool: &PgPool,
    which: Which,
    environment_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Alert>, ServiceError> {
    let mut conn = pool.acquire().await?;
    select(&mut conn, which, None, environment_id, limit).await
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub format: Option<String>,
    /// The event groups the channel gets; left out, [`Webhook::DEFAULT_EVENTS`].
    #[serde(default)]
    pub events: Option<Vec<String>>,
}

/// The event groups a new webhook asks for, as stored: each known, none twice, in their
/// usual order, at least one.
fn webhook_events(asked: Option<&[String]>) -> Result<Vec<String>, ServiceError> {
    let Some(asked) = asked else {
        return Ok(Webhook::DEFAULT_EVENTS
            .iter()
            .map(|g| g.as_str().to_string())
            .collect());
    };
    let mut groups = Vec::with_capacity(asked.len());
    for name in asked {
        // Assignments concern one person: they go by e-mail only.
        let group = EventGroup::parse(name.trim())
            .filter(|g| Webhook::DEFAULT_EVENTS.contains(g))
            .ok_or_else(|| {
                ServiceError::invalid(
                    "events",
                    "The events are among staging_gate, go_no_go, go_live and alerts.",
                    "Die Ereignisse sind aus staging_gate, go_no_go, go_live und alerts.",
                )
            })?;
        groups.push(group);
    }
    let events: Vec<String> = EventGroup::ALL
        .into_iter()
        .filter(|g| groups.contains(g))
        .map(|g| g.as_str().to_string())
        .collect();
    if events.is_empty() {
        return Err(ServiceError::invalid(
            "events",
            "Choose at least one kind of event for the webhook.",
            "Bitte mindestens eine Art von Ereignis für den Webhook wählen.",
        ));
    }
    Ok(events)
}

/// Changes which event groups a team channel gets; what it was sent stays in the outbox.
pub async fn set_webhook_events(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    events: &[String],
) -> Result<Webhook, ServiceError> {
    actor.require_admin()?;
    let events = webhook_events(Some(events))?;
    let mut tx = pool.begin().await?;
    let before = sqlx::query_scalar!("SELECT events FROM webhooks WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let hook = sqlx::query_as!(
        Webhook,
        r#"UPDATE webhooks SET events = $2 WHERE id = $1
           RETURNING id, name, url, format, events, enabled,
                     created_at AS "created_at: DateTime<Utc>""#,
        id,
        &events
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "webhook.events",
            release_id: None,
            old: Some(json!({ "id": id, "name": hook.name, "events": before })),
            new: Some(json!({ "id": id, "name": hook.name, "events": hook.events })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(hook)
}

pub async fn webhooks(pool: &PgPool, actor: &Actor) -> Result<Vec<Webhook>, ServiceError> {
    actor.require_admin()?;
    Ok(sqlx::query_as!(
        Webhook,
        r#"SELECT id, name, url, format, events, enabled,
                  created_at AS "created_at: DateTime<Utc>"
           FROM webhooks ORDER BY id"#
    )
    .fetch_all(pool)
    .await?)
}

pub async fn add_webhook(
    pool: &PgPool,
    actor: &Actor,
    new: NewWebhook,
) -> Result<Webhook, ServiceError> {
    actor.require_admin()?;
    let name = new.name.trim();
    let url = new.url.trim();
    let format = new.format.as_deref().map(str::trim).unwrap_or("json");
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::invalid(
            "name",
            "Give the webhook a name (at most 100 characters).",
            "Bitte dem Webhook einen Namen geben (höchstens 100 Zeichen).",
        ));
    }
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > 2000
        || url.contains(' ')
    {
        return Err(ServiceError::invalid(
            "url",
            "The webhook URL is a full http(s):// address.",
            "Die Webhook-URL ist eine vollständige http(s)://-Adresse.",
        ));
    }
    if !Webhook::FORMATS.contains(&format) {
        return Err(ServiceError::invalid(
            "format",
            "The format is json, slack or teams.",
            "Das Format ist json, slack oder teams.",
        ));
    }
    let events = webhook_events(new.events.as_deref())?;
    let mut tx = pool.begin().await?;
    let hook = sqlx::query_as!(
        Webhook,
        r#"INSERT INTO webhooks (name, url, format, events, created_by)
           VALUES ($1, $2, $3, $4, $5)
           RETURNING id, name, url, format, events, enabled,
                     created_at AS "created_at: DateTime<Utc>""#,
        name,
        url,
        format,
        &events,
        actor.user_id()
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "webhook.add",
            release_id: None,
            old: None,
            new: Some(webhook_json(&hook)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(hook)
}

pub async fn remove_webhook(pool: &PgPool, actor: &Actor, id: i64) -> Result<(), ServiceError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    let hook = sqlx::query_as!(
        Webhook,
        r#"DELETE FROM webhooks WHERE id = $1
           RETURNING id, name, url, format, events, enabled,
                     created_at AS "created_at: DateTime<Utc>""#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServiceError::NotFound)?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "webhook.remove",
            release_id: None,
            old: Some(webhook_json(&hook)),
            new: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A webhook as the audit trail keeps it (its URL masked).
fn webhook_json(hook: &Webhook) -> serde_json::Value {
    json!({
        "id": hook.id,
        "name": hook.name,
        "format": hook.format,
        "events": hook.events,
        "url": masked(&hook.url),
    })
}

/// A webhook URL as the audit trail keeps it: scheme and host, not the token in its path.
fn masked(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    format!("{scheme}://{host}/…")
}

/// Queues an event about an alert for every enabled webhook, in the caller's transaction.
pub async fn queue_deliveries(
    conn: &mut PgConnection,
    alert_id: i64,
    event: &str,
) -> Result<(), ServiceError> {
    let alert = select(conn, Which::All, Some(alert_id), None, 1)
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)?;
    let payload = json!({ "event": event, "alert": alert });
    events::queue_alert_event(conn, alert_id, event, &payload).await
}
