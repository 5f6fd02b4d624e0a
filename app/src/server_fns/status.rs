//! Server functions behind the status views: the team's, and the public status page.

use super::Refusal;
use crate::domain::monitoring_model::{PublicStatus, StatusSnapshot};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// The team-wide status as every viewer gets it (from memory).
#[server]
pub async fn load_status() -> Result<StatusSnapshot, Refusal> {
    ssr::current_user()?;
    Ok(ssr::state().status.current().snapshot.clone())
}

/// The public status page's components, or `None` while the page is switched off.
#[server]
pub async fn load_public_status() -> Result<Option<PublicStatus>, Refusal> {
    let state = ssr::state();
    let settings = crate::services::environments::settings_of(&state.pool).await?;
    Ok(settings.public_status_page.then(|| state.status.public()))
}
