//! Server functions for freeze windows (no go-live into an environment while one runs).

use super::Refusal;
use crate::domain::golive::Freeze;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn list_freezes() -> Result<Vec<Freeze>, Refusal> {
    ssr::current_user()?;
    Ok(crate::services::freezes::list(&ssr::state().pool, chrono::Utc::now()).await?)
}

/// Times as entered, in Europe/Berlin.
#[server]
pub async fn add_freeze(
    environment: String,
    starts_at: String,
    ends_at: String,
    reason: String,
) -> Result<(), Refusal> {
    use crate::services::freezes::{create, FreezeInput};
    let actor = ssr::actor()?;
    let when = ssr::berlin_time;
    create(
        &ssr::state().pool,
        &actor,
        FreezeInput {
            environment,
            starts_at: when("starts_at", &starts_at)?,
            ends_at: when("ends_at", &ends_at)?,
            reason,
        },
    )
    .await?;
    Ok(())
}

#[server]
pub async fn remove_freeze(id: i64) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    Ok(crate::services::freezes::delete(&ssr::state().pool, &actor, id).await?)
}
