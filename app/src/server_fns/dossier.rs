//! Server functions for the sealed release dossier.

use super::Refusal;
use crate::domain::dossier::SealedDossier;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn load_dossier(release_id: i64) -> Result<SealedDossier, Refusal> {
    ssr::current_user()?;
    Ok(crate::services::dossier::sealed(&ssr::state().pool, release_id).await?)
}
