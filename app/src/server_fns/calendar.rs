//! Server functions for one's own calendar feed links. Only a person at a signed-in
//! browser makes or revokes them: an API token must not mint links to the calendar.

use super::Refusal;
use crate::domain::ics::{CalendarFeed, FeedScope, IssuedFeed};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn list_calendar_feeds() -> Result<Vec<CalendarFeed>, Refusal> {
    let me = ssr::current_user()?;
    Ok(crate::services::calendar::list(&ssr::state().pool, me.user.id).await?)
}

/// A new feed link of `scope`, the previous one revoked; the answer is the only place the
/// link's secret is ever shown.
#[server]
pub async fn issue_calendar_feed(scope: FeedScope) -> Result<IssuedFeed, Refusal> {
    let me = ssr::session_user()?;
    let state = ssr::state();
    let token = crate::services::calendar::issue(&state.pool, &me.user, scope).await?;
    Ok(IssuedFeed {
        scope,
        url: format!("{}/calendar.ics?token={token}", state.public_base_url),
    })
}

#[server]
pub async fn revoke_calendar_feed(scope: FeedScope) -> Result<(), Refusal> {
    let me = ssr::session_user()?;
    Ok(crate::services::calendar::revoke(&ssr::state().pool, &me.user, scope).await?)
}
