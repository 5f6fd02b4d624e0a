//! Server functions for releases themselves: the list, a new release, the release page's
//! contents and its edit form.

use super::Refusal;
use crate::domain::release::Strategy;
pub use crate::domain::release_model::{ReleaseDetails, ReleaseRow};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn list_releases() -> Result<Vec<ReleaseRow>, Refusal> {
    ssr::current_user()?;
    let state = ssr::state();
    Ok(
        crate::services::pages::release_rows(&state.pool, &state.release_views, chrono::Utc::now())
            .await?,
    )
}

#[allow(clippy::too_many_arguments)]
#[server]
pub async fn create_release(
    title: String,
    version: String,
    environment: String,
    window_start: String,
    window_end: String,
    strategy: Strategy,
    release_captain: String,
    product_owner: String,
) -> Result<(), Refusal> {
    use crate::domain::release::input::ReleaseInput;
    use crate::domain::time::parse_berlin_local;
    use crate::services::releases;
    let actor = ssr::actor()?;
    let start = parse_berlin_local(&window_start).ok_or_else(|| {
        ssr::invalid(
            "window_start",
            "Enter when the go-live window starts.",
            "Bitte den Beginn des Go-Live-Fensters angeben.",
        )
    })?;
    let end = parse_berlin_local(&window_end).ok_or_else(|| {
        ssr::invalid(
            "window_end",
            "Enter when the go-live window ends.",
            "Bitte das Ende des Go-Live-Fensters angeben.",
        )
    })?;
    let opt = |s: String| (!s.trim().is_empty()).then_some(s);
    let created = releases::create(
        &ssr::state().pool,
        &actor,
        ReleaseInput {
            title: Some(title),
            version: Some(version),
            environment: Some(environment),
            window_start: Some(start),
            window_end: Some(end),
            strategy: Some(strategy.as_str().to_string()),
            release_captain: opt(release_captain),
            product_owner: opt(product_owner),
            ..Default::default()
        },
    )
    .await?;
    leptos_axum::redirect(&format!("/releases/{}", created.id));
    Ok(())
}

#[server]
pub async fn load_release_details(id: i64) -> Result<ReleaseDetails, Refusal> {
    ssr::current_user()?;
    let state = ssr::state();
    let views = &state.release_views;
    let now = chrono::Utc::now();
    Ok(crate::services::pages::release_details(&state.pool, views, &state.status, id, now).await?)
}

/// The edit form on the release page; `revision` guards against overwriting someone else.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn update_release(
    release_id: i64,
    revision: i32,
    title: String,
    version: String,
    environment: String,
    staging_environment: String,
    window_start: String,
    window_end: String,
    strategy: Strategy,
    release_captain: String,
    product_owner: String,
    artifact_version: String,
    commit_sha: String,
    changelog: String,
    rollback_plan: String,
    backup_restore: Option<String>,
    canary_hold_minutes: Option<String>,
) -> Result<(), Refusal> {
    use crate::domain::release::input::ReleaseInput;
    use crate::services::{release_store, releases};
    let actor = ssr::actor()?;
    let pool = ssr::state().pool;
    let when = ssr::berlin_time;
    let current = release_store::get(&pool, release_id).await?;
    let mut links = current.links.clone();
    let link = |s: String| (!s.trim().is_empty()).then(|| s.trim().to_string());
    links.changelog = link(changelog);
    links.rollback_plan = link(rollback_plan);
    if let Some(v) = backup_restore {
        links.backup_restore = link(v);
    }
    releases::update(
        &pool,
        &actor,
        release_id,
        ReleaseInput {
            revision: Some(revision),
            title: Some(title),
            version: Some(version),
            environment: Some(environment),
            staging_environment: Some(staging_environment),
            window_start: Some(when("window_start", &window_start)?),
            window_end: Some(when("window_end", &window_end)?),
            strategy: Some(strategy.as_str().to_string()),
            release_captain: Some(release_captain),
            product_owner: Some(product_owner),
            artifact_version: Some(artifact_version),
            commit_sha: Some(commit_sha),
            links: Some(links),
            canary_hold_minutes: match canary_hold_minutes.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(v.parse().map_err(|_| {
                    ssr::invalid(
                        "canary_hold_minutes",
                        "The hold time is 0 to 1440 minutes.",
                        "Die Haltezeit beträgt 0 bis 1440 Minuten.",
                    )
                })?),
            },
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}
