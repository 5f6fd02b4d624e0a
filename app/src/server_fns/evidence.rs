//! Server functions for evidence in the UI: retracting it. Uploads and downloads stream
//! through the REST API (`/api/v1/…/evidence`); reading a log is in [`super::logs`].

use super::Refusal;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn retract_evidence(
    release_id: i64,
    evidence_id: i64,
    reason: String,
) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    crate::services::evidence::retract(
        &ssr::state().pool,
        &actor,
        release_id,
        evidence_id,
        &reason,
    )
    .await?;
    Ok(())
}
