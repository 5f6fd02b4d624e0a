//! Alerts as opened and resolved by the evaluator, and the webhooks told about them: a
//! delivery per webhook and event, retried with backoff, failures kept for admins to see.

use super::audit::{self, Entry};
use super::{Actor, ServiceError};
use crate::domain::monitoring::{retry_delay_ms, EndpointKind, Rule};
use crate::domain::monitoring_model::{Alert, AlertState, Delivery, Webhook};
use crate::domain::release::Severity;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
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
}

pub async fn webhooks(pool: &PgPool, actor: &Actor) -> Result<Vec<Webhook>, ServiceError> {
    actor.require_admin()?;
    Ok(sqlx::query_as!(
        Webhook,
        r#"SELECT id, name, url, format, enabled, created_at AS "created_at: DateTime<Utc>"
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
    if !["json", "slack"].contains(&format) {
        return Err(ServiceError::invalid(
            "format",
            "The format is json or slack.",
            "Das Format ist json oder slack.",
        ));
    }
    let mut tx = pool.begin().await?;
    let hook = sqlx::query_as!(
        Webhook,
        r#"INSERT INTO webhooks (name, url, format, created_by) VALUES ($1, $2, $3, $4)
           RETURNING id, name, url, format, enabled, created_at AS "created_at: DateTime<Utc>""#,
        name,
        url,
        format,
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
            new: Some(json!({ "id": hook.id, "name": hook.name, "format": hook.format, "url": masked(&hook.url) })),
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
           RETURNING id, name, url, format, enabled, created_at AS "created_at: DateTime<Utc>""#,
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
            old: Some(json!({ "id": hook.id, "name": hook.name, "format": hook.format, "url": masked(&hook.url) })),
            new: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
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
    sqlx::query!(
        "INSERT INTO webhook_deliveries (webhook_id, alert_id, event, payload)
         SELECT id, $1, $2, $3 FROM webhooks WHERE enabled",
        alert_id,
        event,
        payload
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Queues an event about a release (a rollback) for every enabled webhook, in the
/// caller's transaction.
pub async fn queue_release_event(
    conn: &mut PgConnection,
    event: &str,
    payload: &Value,
) -> Result<(), ServiceError> {
    sqlx::query!(
        "INSERT INTO webhook_deliveries (webhook_id, event, payload)
         SELECT id, $1, $2 FROM webhooks WHERE enabled",
        event,
        payload
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A delivery to make now.
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub id: i64,
    pub url: String,
    pub format: String,
    pub attempts: i32,
    pub payload: Value,
}

/// The body a webhook gets: Shipgate's JSON, or `{"text"}` for Slack-compatible hooks.
pub fn body_for(format: &str, payload: &Value) -> Value {
    if format != "slack" {
        return payload.clone();
    }
    if let Some(r) = payload.get("release") {
        return json!({
            "text": format!(
                "↩️ rolled back: {} {} ({}) — {}",
                r["title"].as_str().unwrap_or(""),
                r["version"].as_str().unwrap_or(""),
                r["environment"].as_str().unwrap_or(""),
                payload["reason"].as_str().unwrap_or("")
            )
        });
    }
    let a = &payload["alert"];
    let icon = if payload["event"] == "alert.resolved" {
        "✅ resolved"
    } else {
        "🚨 opened"
    };
    json!({
        "text": format!(
            "{icon}: {} {} alert — {}",
            a["severity"].as_str().unwrap_or("").to_uppercase(),
            a["rule"].as_str().unwrap_or(""),
            a["message"].as_str().unwrap_or("")
        )
    })
}

/// Claims due deliveries (counting the attempt); a claimed one is not due again for a
/// minute, so a replica that dies mid-delivery only delays it.
pub async fn claim_deliveries(pool: &PgPool, limit: i64) -> Result<Vec<DueDelivery>, ServiceError> {
    Ok(sqlx::query_as!(
        DueDelivery,
        "WITH due AS (
             SELECT id FROM webhook_deliveries
             WHERE state = 'pending' AND next_attempt_at <= now()
             ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
         )
         UPDATE webhook_deliveries d
         SET attempts = d.attempts + 1, next_attempt_at = now() + interval '1 minute'
         FROM due, webhooks w
         WHERE d.id = due.id AND w.id = d.webhook_id
         RETURNING d.id, w.url, w.format, d.attempts, d.payload",
        limit
    )
    .fetch_all(pool)
    .await?)
}

/// Records how a delivery went: delivered, retried later with backoff, or failed for good.
pub async fn delivery_done(
    pool: &PgPool,
    d: &DueDelivery,
    outcome: Result<(), String>,
    retry_base_ms: u64,
) -> Result<(), ServiceError> {
    match outcome {
        Ok(()) => {
            sqlx::query!(
                "UPDATE webhook_deliveries SET state = 'delivered', delivered_at = now(), last_error = NULL
                 WHERE id = $1 AND attempts = $2 AND state = 'pending'",
                d.id,
                d.attempts
            )
            .execute(pool)
            .await?;
        }
        Err(e) => {
            let next = retry_delay_ms(d.attempts, retry_base_ms);
            sqlx::query!(
                "UPDATE webhook_deliveries
                 SET last_error = $2,
                     state = CASE WHEN $3::bigint IS NULL THEN 'failed' ELSE 'pending' END,
                     next_attempt_at = now() + make_interval(secs => COALESCE($3, 0) / 1000.0)
                 WHERE id = $1 AND attempts = $4 AND state = 'pending'",
                d.id,
                e.chars().take(500).collect::<String>(),
                next.map(|ms| ms as i64),
                d.attempts
            )
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// Deliveries, newest first; `state` filters (`pending`, `delivered`, `failed`).
pub async fn deliveries(
    pool: &PgPool,
    actor: &Actor,
    state: Option<&str>,
) -> Result<Vec<Delivery>, ServiceError> {
    actor.require_admin()?;
    Ok(sqlx::query_as!(
        Delivery,
        r#"SELECT d.id, d.webhook_id, w.name AS webhook, d.alert_id, d.event, d.state, d.attempts,
                  d.last_error, d.next_attempt_at AS "next_attempt_at: DateTime<Utc>",
                  d.delivered_at AS "delivered_at: DateTime<Utc>",
                  d.created_at AS "created_at: DateTime<Utc>"
           FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
           WHERE $1::text IS NULL OR d.state = $1
           ORDER BY d.id DESC LIMIT 200"#,
        state
    )
    .fetch_all(pool)
    .await?)
}
