//! Server functions for a release's phase changes.

use super::Refusal;
use crate::domain::release::Phase;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn change_phase(release_id: i64, to: Phase) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    let (_, blockers) =
        crate::services::lifecycle::change_phase(&ssr::state().pool, &actor, release_id, to, None)
            .await?;
    ssr::blocked("transition_blocked", &blockers)
}
