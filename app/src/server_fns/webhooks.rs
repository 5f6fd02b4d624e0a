//! Server functions for the team channels' webhooks (admins only).

use super::Refusal;
use crate::domain::monitoring_model::Webhook;
use crate::domain::notify::OutboxEntry;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// Webhooks and the messages to them that failed for good.
#[server]
pub async fn webhook_overview() -> Result<(Vec<Webhook>, Vec<OutboxEntry>), Refusal> {
    use crate::services::{alerts, notifications::outbox};
    let actor = ssr::actor()?;
    let pool = &ssr::state().pool;
    Ok((
        alerts::webhooks(pool, &actor).await?,
        outbox::list(pool, &actor, Some("failed"), Some("webhook")).await?,
    ))
}

/// `format` is `json`, `slack` or `teams`; the event groups arrive as `events[]`, one per
/// ticked box, so the form works without JavaScript. The alerts service refuses an unknown
/// format or group, or none at all, naming the field.
#[server]
pub async fn add_webhook(
    name: String,
    url: String,
    format: String,
    #[server(default)] events: Vec<String>,
) -> Result<(), Refusal> {
    use crate::services::alerts::{self, NewWebhook};
    let actor = ssr::actor()?;
    alerts::add_webhook(
        &ssr::state().pool,
        &actor,
        NewWebhook {
            name,
            url,
            format: Some(format),
            events: Some(events),
        },
    )
    .await?;
    Ok(())
}

#[server]
pub async fn remove_webhook(id: i64) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    Ok(crate::services::alerts::remove_webhook(&ssr::state().pool, &actor, id).await?)
}

/// The event groups a team channel gets, one `events[]` per ticked box.
#[server]
pub async fn set_webhook_events(
    id: i64,
    #[server(default)] events: Vec<String>,
) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    let pool = &ssr::state().pool;
    crate::services::alerts::set_webhook_events(pool, &actor, id, &events).await?;
    Ok(())
}
