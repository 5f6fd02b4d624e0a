//! Server functions behind the environments page: the probed environments and the
//! monitoring settings.

use super::Refusal;
use crate::domain::monitoring_model::{Environment, MonitoringSettings};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn list_environments() -> Result<Vec<Environment>, Refusal> {
    ssr::current_user()?;
    Ok(crate::services::environments::list(&ssr::state().pool).await?)
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
) -> Result<(), Refusal> {
    use crate::services::environments::{self, EnvironmentInput};
    let actor = ssr::actor()?;
    let number = |v: &str, field: &'static str| -> Result<Option<i32>, Refusal> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse().map(Some).map_err(|_| {
            ssr::invalid(
                field,
                "Enter a whole number.",
                "Bitte eine ganze Zahl eingeben.",
            )
        })
    };
    let text = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
    let headers = parse_headers(&headers).map_err(|_| {
        ssr::invalid(
            "headers",
            "Write one header per line as Name: value.",
            "Bitte einen Header pro Zeile als Name: Wert schreiben.",
        )
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
    .await?;
    Ok(())
}

#[server]
pub async fn delete_environment(id: i64) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    Ok(crate::services::environments::delete(&ssr::state().pool, &actor, id).await?)
}

#[server]
pub async fn load_monitoring_settings() -> Result<MonitoringSettings, Refusal> {
    ssr::current_user()?;
    Ok(crate::services::environments::settings_of(&ssr::state().pool).await?)
}

#[server]
pub async fn save_monitoring_settings(
    readiness_503_pct: String,
    error_rate_pct: String,
    latency_p95_ms: String,
    window_seconds: String,
    no_success_seconds: String,
    public_status_page: Option<String>,
) -> Result<(), Refusal> {
    use crate::domain::monitoring::Thresholds;
    let actor = ssr::actor()?;
    let bad = || {
        ssr::invalid(
            "error_rate_pct",
            "Enter numbers for every threshold.",
            "Bitte für jede Schwelle eine Zahl eingeben.",
        )
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
    .await?;
    Ok(())
}
