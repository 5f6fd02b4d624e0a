//! Server functions for notifications: a person's own e-mail choices, and the outbox for
//! admins.

use super::Refusal;
use crate::domain::notify::{NotificationPrefs, OutboxEntry};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

/// The signed-in person's e-mail choices.
#[server]
pub async fn my_notification_prefs() -> Result<NotificationPrefs, Refusal> {
    let me = ssr::current_user()?;
    Ok(crate::services::preferences::get(&ssr::state().pool, me.user.id).await?)
}

/// Saves a person's e-mail choices: the signed-in person's own, or with `user_id` someone
/// else's (admins only; the service decides). The form has one checkbox per event group,
/// all named `email_on[]` with the group as value, so it works without JavaScript: a group
/// left unticked is absent, and e-mail is off for it.
#[server]
pub async fn save_notification_prefs(
    #[server(default)] lang: String,
    #[server(default)] email_on: Vec<String>,
    #[server(default)] user_id: Option<i64>,
) -> Result<(), Refusal> {
    use crate::domain::notify::EventGroup;
    let me = ssr::current_user()?;
    let mut on = Vec::with_capacity(email_on.len());
    for name in &email_on {
        on.push(EventGroup::parse(name.trim()).ok_or_else(|| {
            ssr::invalid(
                "email_on",
                "Unknown kind of notification.",
                "Unbekannte Art von Benachrichtigung.",
            )
        })?);
    }
    let email_off = EventGroup::ALL
        .into_iter()
        .filter(|g| !on.contains(g))
        .collect();
    crate::services::preferences::set(
        &ssr::state().pool,
        &me.actor(),
        user_id.unwrap_or(me.user.id),
        NotificationPrefs { lang, email_off },
    )
    .await?;
    Ok(())
}

/// The outbox for admins, newest first; `state` and `channel` filter (empty: all), as the
/// page's query string has them.
#[server]
pub async fn list_outbox(
    #[server(default)] state: String,
    #[server(default)] channel: String,
) -> Result<Vec<OutboxEntry>, Refusal> {
    let actor = ssr::actor()?;
    Ok(crate::services::notifications::outbox::list(
        &ssr::state().pool,
        &actor,
        Some(&state),
        Some(&channel),
    )
    .await?)
}
