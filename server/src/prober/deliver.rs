//! Webhook deliveries: claimed, sent all at once, each outcome recorded for retries.

use super::guard::{refused_in, refused_literal};
use super::probe::describe;
use crate::config::ProbeSettings;
use app::services::events;
use std::time::Duration;

pub(super) async fn deliver(pool: sqlx::PgPool, settings: ProbeSettings, client: reqwest::Client) {
    let base_ms = settings.webhook_retry_base.as_millis() as u64;
    let targets = super::targets(&settings);
    loop {
        let due = events::claim_deliveries(&pool, 20)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "claiming webhook deliveries failed");
                Vec::new()
            });
        let idle = due.is_empty();
        // All at once: a claim holds a minute, each try at most ten seconds.
        futures_util::future::join_all(due.into_iter().map(|d| {
            let (client, pool) = (client.clone(), pool.clone());
            async move {
                let outcome = match refused_literal(&d.url, targets) {
                    Some(why) => Err(why),
                    None => send_hook(&client, &d).await,
                };
                if let Err(e) = &outcome {
                    tracing::warn!(delivery = d.id, attempt = d.attempts, error = %e, "webhook delivery failed");
                }
                if let Err(e) = events::delivery_done(&pool, &d, outcome, base_ms).await {
                    tracing::warn!(error = %e, "recording a webhook delivery failed");
                }
            }
        }))
        .await;
        if idle {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// One try of a webhook delivery.
async fn send_hook(client: &reqwest::Client, d: &events::DueDelivery) -> Result<(), String> {
    match client
        .post(&d.url)
        .timeout(Duration::from_secs(10))
        .json(&events::body_for(&d.format, &d.payload))
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("answered {}", r.status())),
        // The URL may carry a token: errors name the failure, not the URL.
        Err(e) => Err(refused_in(&e).unwrap_or_else(|| describe(&e.without_url()))),
    }
}
