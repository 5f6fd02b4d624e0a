//! Server functions for the Go/No-Go decision: signing, and the preconditions it needs.

use super::Refusal;
use crate::domain::release::{Decision, SignerRole};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn sign(
    release_id: i64,
    role: SignerRole,
    decision: Decision,
    comment: Option<String>,
) -> Result<(), Refusal> {
    let me = ssr::current_user()?;
    crate::services::signoffs::sign_off(
        &ssr::state().pool,
        &me,
        release_id,
        role,
        decision,
        comment.as_deref(),
        chrono::Utc::now(),
    )
    .await?;
    Ok(())
}

#[server]
pub async fn set_preconditions(
    release_id: i64,
    revision: i32,
    last_backup_at: String,
    last_restore_test_at: String,
    on_call: String,
    down_migration: String,
) -> Result<(), Refusal> {
    use crate::domain::release::input::ReleaseInput;
    use crate::domain::time::parse_berlin_local;
    use crate::services::{release_store, releases};
    let actor = ssr::actor()?;
    let pool = ssr::state().pool;
    let current = release_store::get(&pool, release_id).await?;
    let mut links = current.links.clone();
    links.down_migration =
        (!down_migration.trim().is_empty()).then(|| down_migration.trim().to_string());
    releases::update(
        &pool,
        &actor,
        release_id,
        ReleaseInput {
            revision: Some(revision),
            last_backup_at: parse_berlin_local(&last_backup_at),
            last_restore_test_at: parse_berlin_local(&last_restore_test_at),
            on_call: Some(on_call),
            links: Some(links),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
