//! Server functions for one's own API tokens.

use super::Refusal;
use crate::domain::account::{IssuedToken, TokenInfo};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;

#[server]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, Refusal> {
    let me = ssr::current_user()?;
    Ok(crate::services::tokens::list(&ssr::state().pool, me.user.id).await?)
}

#[server]
pub async fn issue_token(name: String) -> Result<IssuedToken, Refusal> {
    let me = ssr::session_user()?;
    Ok(crate::services::tokens::issue(&ssr::state().pool, me.user.id, &name).await?)
}

#[server]
pub async fn revoke_token(token_id: i64) -> Result<(), Refusal> {
    let me = ssr::current_user()?;
    Ok(crate::services::tokens::revoke(&ssr::state().pool, me.user.id, token_id).await?)
}
