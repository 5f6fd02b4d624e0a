//! Server functions behind the delivery view. Any signed-in role reads it.

use super::Refusal;
use crate::domain::archive_model::MonthMetrics;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn release_metrics(months: u32) -> Result<Vec<MonthMetrics>, Refusal> {
    ssr::current_user()?;
    Ok(crate::services::metrics::monthly(&ssr::state().pool, months, chrono::Utc::now()).await?)
}
