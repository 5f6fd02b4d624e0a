//! Server functions behind the status view and the environments page. Thin: find the
//! caller, call a service.

use crate::domain::monitoring_model::{
    Delivery, Environment, MonitoringSettings, PublicStatus, StatusSnapshot, Webhook,
};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::actions::ssr_support::*;
}

/// The team-wide status as every viewer gets it (from memory).
#[server]
pub async fn load_status() -> Result<StatusSnapshot, ServerFnError> {
    ssr::current_user()?;
    Ok(ssr::state().status.current().snapshot.clone())
}

/// The public status page's components, or `None` while the page is switched off.
#[server]
pub async fn load_public_status() -> Result<Option<PublicStatus>, ServerFnError> {
    let state = ssr::state();
    let settings = crate::services::environments::settings_of(&state.pool)
        .await
        .map_err(ssr::fail)?;
    Ok(settings.public_status_page.then(|| state.status.public()))
}

#[server]
pub async fn list_environments() -> Result<Vec<Environment>, ServerFnError> {
    ssr::current_user()?;
    crate::services::environments::list(&ssr::state().pool)
        .await
        .map_err(ssr::fail)
}

/// "Name: value" per line; every value given here is kept write-only.
#[cfg(feature = "ssr")]
fn parse_headers(text: &str) -> Result<Vec<crate::domain::monitoring::ProbeHeader>, ()> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, value) = l.split_once(':').ok_or(())?;
            Ok(crate::domain::monitoring::ProbeHeader {
                name: name.trim().to_string(),
                value: Some(value.trim().to_string()),
                secret: true,
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
#[server]
pub async fn create_environment(
    name: String,
    base_url: String,
    health_path: String,
    readiness_path: String,
    interval_seconds: String,
    timeout_ms: String,
    expected_status: String,
    body_contains: String,
    headers: String,
    health_component: String,
    readiness_component: String,
) -> Result<(), ServerFnError> {
    use crate::services::environments::{self, EnvironmentInput};
    use crate::services::ServiceError;
    let actor = ssr::actor()?;
    let number = |v: &str, field: &'static str| -> Result<Option<i32>, ServerFnError> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse().map(Some).map_err(|_| {
            ssr::fail(ServiceError::invalid(
                field,
                "Enter a whole number.",
                "Bitte eine ganze Zahl eingeben.",
            ))
        })
    };
    let text = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
    let headers = parse_headers(&headers).map_err(|_| {
        ssr::fail(ServiceError::invalid(
            "headers",
            "Write one header per line as Name: value.",
            "Bitte einen Header pro Zeile als Name: Wert schreiben.",
        ))
    })?;
    let state = ssr::state();
    environments::create(
        &state.pool,
        &actor,
        EnvironmentInput {
            name: Some(name),
            base_url: Some(base_url),
            health_path: text(&health_path),
            readiness_path: text(&readiness_path),
            interval_seconds: number(&interval_seconds, "interval_seconds")?,
            timeout_ms: number(&timeout_ms, "timeout_ms")?,
            expected_status: number(&expected_status, "expected_status")?,
            body_contains: Some(text(&body_contains)),
            headers: Some(headers),
            health_component: Some(text(&health_component)),
            readiness_component: Some(text(&readiness_component)),
            ..Default::default()
        },
        state.status.settings().targets,
    )
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

#[server]
pub async fn delete_environment(id: i64) -> Result<(), ServerFnError> {
    let actor = ssr::actor()?;
    crate::services::environments::delete(&ssr::state().pool, &actor, id)
        .await
        .map_err(ssr::fail)
}

#[server]
pub async fn load_monitoring_settings() -> Result<MonitoringSettings, ServerFnError> {
    ssr::current_user()?;
    crate::services::environments::settings_of(&ssr::state().pool)
        .await
        .map_err(ssr::fail)
}

#[server]
pub async fn save_monitoring_settings(
    readiness_503_pct: String,
    error_rate_pct: String,
    latency_p95_ms: String,
    window_seconds: String,
    no_success_seconds: String,
    public_status_page: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::domain::monitoring::Thresholds;
    use crate::services::ServiceError;
    let actor = ssr::actor()?;
    let bad = || {
        ssr::fail(ServiceError::invalid(
            "error_rate_pct",
            "Enter numbers for every threshold.",
            "Bitte für jede Schwelle eine Zahl eingeben.",
        ))
    };
    let f = |v: &str| v.trim().replace(',', ".").parse::<f64>().map_err(|_| bad());
    let i = |v: &str| v.trim().parse::<i32>().map_err(|_| bad());
    crate::services::environments::set_settings(
        &ssr::state().pool,
        &actor,
        MonitoringSettings {
            thresholds: Thresholds {
                readiness_503_pct: f(&readiness_503_pct)?,
                error_rate_pct: f(&error_rate_pct)?,
                latency_p95_ms: i(&latency_p95_ms)?,
                window_seconds: i(&window_seconds)?,
                no_success_seconds: i(&no_success_seconds)?,
            },
            public_status_page: public_status_page.is_some(),
        },
    )
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

/// Webhooks and the deliveries that failed for good (admins only).
#[server]
pub async fn webhook_overview() -> Result<(Vec<Webhook>, Vec<Delivery>), ServerFnError> {
    use crate::services::alerts;
    let actor = ssr::actor()?;
    let pool = &ssr::state().pool;
    Ok((
        alerts::webhooks(pool, &actor).await.map_err(ssr::fail)?,
        alerts::deliveries(pool, &actor, Some("failed"))
            .await
            .map_err(ssr::fail)?,
    ))
}

#[server]
pub async fn add_webhook(name: String, url: String, format: String) -> Result<(), ServerFnError> {
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
    .await
    .map_err(ssr::fail)?;
    Ok(())
}

#[server]
pub async fn remove_webhook(id: i64) -> Result<(), ServerFnError> {
    let actor = ssr::actor()?;
    crate::services::alerts::remove_webhook(&ssr::state().pool, &actor, id)
        .await
        .map_err(ssr::fail)
}
