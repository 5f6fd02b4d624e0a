//! What Shipgate tells others, always from inside the transaction of the change that
//! causes it: `NOTIFY` on the status channel (replicas and live views refresh), and webhook
//! deliveries (queued, then sent by a background worker with retries and backoff).

use super::{Actor, ServiceError};
use crate::domain::monitoring::retry_delay_ms;
use crate::domain::monitoring_model::Delivery;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

/// The Postgres channel that tells every replica (and every live status view) that what
/// it shows changed.
pub const STATUS_CHANNEL: &str = "shipgate_status";

/// Announces a change on the status channel, in the caller's transaction.
pub async fn notify(conn: &mut PgConnection, what: &str) -> Result<(), ServiceError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(STATUS_CHANNEL)
        .bind(what)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Queues an event about an alert for every enabled webhook, in the caller's transaction.
pub async fn queue_alert_event(
    conn: &mut PgConnection,
    alert_id: i64,
    event: &str,
    payload: &Value,
) -> Result<(), ServiceError> {
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
