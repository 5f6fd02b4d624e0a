//! Server functions for accounts: one's own password, and the admin's users and roles.

use super::Refusal;
use crate::domain::account::{Role, UserRecord};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), Refusal> {
    use crate::services::accounts;
    let me = ssr::session_user()?;
    if new_password != confirm_password {
        return Err(ssr::invalid(
            "confirm_password",
            "The two new passwords differ.",
            "Die beiden neuen Passwörter stimmen nicht überein.",
        ));
    }
    let state = ssr::state();
    let epoch = accounts::change_password(
        &state.pool,
        &state.throttle,
        &me.user,
        &current_password,
        &new_password,
    )
    .await?;
    let session = leptos_axum::extract::<tower_sessions::Session>().await?;
    crate::auth::adopt_epoch(&session, epoch).await?;
    Ok(())
}

#[server]
pub async fn list_users() -> Result<Vec<UserRecord>, Refusal> {
    let actor = ssr::actor()?;
    Ok(crate::services::accounts::list_users(&ssr::state().pool, &actor).await?)
}

/// The role checkboxes arrive as `roles[]`, one per ticked role, so the form works without
/// JavaScript; none ticked is no roles.
#[server]
pub async fn create_user(
    email: String,
    name: String,
    password: String,
    #[server(default)] roles: Vec<Role>,
) -> Result<UserRecord, Refusal> {
    use crate::services::accounts::{create_user, NewUser};
    let actor = ssr::actor()?;
    Ok(create_user(
        &ssr::state().pool,
        &actor,
        NewUser {
            email,
            name,
            password,
            roles: role_names(&roles),
        },
    )
    .await?)
}

#[server]
pub async fn update_user_roles(
    user_id: i64,
    #[server(default)] roles: Vec<Role>,
) -> Result<UserRecord, Refusal> {
    use crate::services::accounts::{update_user, UserChange};
    let actor = ssr::actor()?;
    Ok(update_user(
        &ssr::state().pool,
        &actor,
        user_id,
        UserChange {
            roles: Some(role_names(&roles)),
            disabled: None,
        },
    )
    .await?)
}

#[server]
pub async fn set_user_disabled(user_id: i64, disabled: bool) -> Result<UserRecord, Refusal> {
    use crate::services::accounts::{update_user, UserChange};
    let actor = ssr::actor()?;
    Ok(update_user(
        &ssr::state().pool,
        &actor,
        user_id,
        UserChange {
            roles: None,
            disabled: Some(disabled),
        },
    )
    .await?)
}

/// An admin sets someone's password (a break-glass password for a single sign-on user).
#[server]
pub async fn set_user_password(user_id: i64, password: String) -> Result<(), Refusal> {
    let actor = ssr::actor()?;
    Ok(
        crate::services::accounts::set_password(&ssr::state().pool, &actor, user_id, &password)
            .await?,
    )
}

/// The roles as the accounts service takes them, in `Role::ALL` order, each once.
#[cfg(feature = "ssr")]
fn role_names(roles: &[Role]) -> Vec<String> {
    Role::ALL
        .iter()
        .filter(|role| roles.contains(role))
        .map(|role| role.as_str().to_string())
        .collect()
}
