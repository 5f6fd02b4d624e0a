//! Server functions for the alert webhooks (admins only).

use super::Refusal;
use crate::domain::monitoring_model::{Delivery, Webhook};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// Webhooks and the deliveries that failed for good.
#[server]
pub async fn webhook_overview() -> Result<(Vec<Webhook>, Vec<Delivery>), Refusal> {
    use crate::services::alerts;
    let actor = ssr::actor()?;
    let pool = &ssr::state().pool;
    Ok((
        alerts::webhooks(pool, &actor).await?,
        crate::services::events::deliveries(pool, &actor, Some("failed")).await?,
    ))
}

/// `format` is `json` or `slack`; the alerts service refuses anything else, naming the field.
#[server]
pub async fn add_webhook(name: String, url: String, format: String) -> Result<(), Refusal> {
    use crate::services::alerts::{self, NewWebhook};
    let actor = ssr::actor()?;
    alerts::add_webhook(
        &ssr::state().pool,
        &actor,
        NewWebhook {
            name,
            url,
            format: Some(format),
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
