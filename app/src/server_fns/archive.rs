//! Server functions behind the archive. Any signed-in role reads it.

use super::Refusal;
use crate::domain::archive_model::{ArchivePage, ArchiveQuery};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// A search with no filters at all is sent as an empty body (the URL encoding leaves out
/// absent fields), so the whole query defaults rather than being refused.
#[server]
pub async fn search_archive(
    #[server(default)] query: ArchiveQuery,
) -> Result<ArchivePage, Refusal> {
    ssr::current_user()?;
    Ok(crate::services::archive::search(&ssr::state().pool, &query).await?)
}

/// What the search form suggests: environments and people's emails.
#[server]
pub async fn archive_choices() -> Result<(Vec<String>, Vec<String>), Refusal> {
    ssr::current_user()?;
    Ok(crate::services::archive::choices(&ssr::state().pool).await?)
}
