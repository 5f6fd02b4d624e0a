//! Server functions for a release's phase changes.

use super::Refusal;
use crate::domain::release::Phase;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn change_phase(release_id: i64, to: Phase) -> Result<(), Refusal> {
    use crate::services::{lifecycle, ServiceError};
    let actor = ssr::actor()?;
    let (_, blockers) =
        lifecycle::change_phase(&ssr::state().pool, &actor, release_id, to, None).await?;
    if !blockers.is_empty() {
        return Err(ServiceError::Conflict {
            en: "Not yet: the blockers listed on this page must be cleared first.",
            de: "Noch nicht: zuerst müssen die auf dieser Seite genannten Hindernisse ausgeräumt werden.",
        }
        .into());
    }
    Ok(())
}
