//! Server functions for the audit trail.

use super::Refusal;
use crate::domain::release_model::AuditRow;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// A page of the whole audit trail for the admin page: rows newest first, and the cursor for
/// the next, older page. The filters arrive as the page's query string has them; the service
/// reads them exactly as it reads the API's; a filter left out counts as empty.
#[server]
pub async fn audit_trail(
    #[server(default)] actor: String,
    #[server(default)] action: String,
    #[server(default)] since: String,
    #[server(default)] until: String,
    #[server(default)] before: String,
) -> Result<(Vec<AuditRow>, Option<i64>), Refusal> {
    use crate::services::audit::{trail, TrailQuery};
    let me = ssr::actor()?;
    let query = TrailQuery::from_params(|k| {
        match k {
            "actor" => Some(&actor),
            "action" => Some(&action),
            "since" => Some(&since),
            "until" => Some(&until),
            "before" => Some(&before),
            _ => None,
        }
        .cloned()
    })?;
    let page = trail(&ssr::state().pool, &me, &query).await?;
    Ok((
        page.entries.into_iter().map(|e| e.row).collect(),
        page.next_before,
    ))
}
