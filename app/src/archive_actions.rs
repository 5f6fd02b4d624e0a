//! Server functions behind the archive and the delivery view. Thin: find the caller (any
//! signed-in role reads both), call a service.

use crate::domain::archive_model::{ArchivePage, ArchiveQuery, MonthMetrics};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::actions::ssr_support::*;
}

#[server]
pub async fn search_archive(query: ArchiveQuery) -> Result<ArchivePage, ServerFnError> {
    ssr::current_user()?;
    crate::services::archive::search(&ssr::state().pool, &query)
        .await
        .map_err(ssr::fail)
}

#[server]
pub async fn delivery_metrics(months: u32) -> Result<Vec<MonthMetrics>, ServerFnError> {
    ssr::current_user()?;
    crate::services::metrics::delivery(&ssr::state().pool, months, chrono::Utc::now())
        .await
        .map_err(ssr::fail)
}

/// What the search form suggests: environments and people's emails.
#[server]
pub async fn archive_choices() -> Result<(Vec<String>, Vec<String>), ServerFnError> {
    ssr::current_user()?;
    crate::services::archive::choices(&ssr::state().pool)
        .await
        .map_err(ssr::fail)
}
