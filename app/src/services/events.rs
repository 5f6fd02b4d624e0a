//! What Shipgate tells others, always from inside the transaction of the change that
//! causes it: `NOTIFY` on the status channel (replicas and live views refresh), and alert
//! events for the team channels (queued in the outbox; releases' notices are queued by
//! [`super::notifications`], both sent by the worker in `server/src/notify`).

use super::ServiceError;
use serde_json::Value;
use sqlx::PgConnection;

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

/// Queues an event about an alert for every enabled team channel that takes alerts, in the
/// caller's transaction.
pub async fn queue_alert_event(
    conn: &mut PgConnection,
    alert_id: i64,
    event: &str,
    payload: &Value,
) -> Result<(), ServiceError> {
    sqlx::query!(
        "INSERT INTO outbox (channel, webhook_id, alert_id, event, event_group, payload)
         SELECT 'webhook', id, $1, $2, 'alerts', $3 FROM webhooks
         WHERE enabled AND 'alerts' = ANY (events)",
        alert_id,
        event,
        payload
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
