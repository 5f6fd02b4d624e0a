//! What every request handler and server function can reach.

use crate::services::throttle::LoginThrottle;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout: Duration,
    /// Cookies get the `Secure` flag when the public base URL is https.
    pub secure_cookies: bool,
    /// Who may sign in with a Shipgate password (`LOCAL_LOGIN`).
    pub local_login: crate::domain::sso::LocalLogin,
    /// The single sign-on button's provider name (`OIDC_DISPLAY_NAME`), when SSO is on.
    pub sso_display_name: Option<String>,
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub auth: Arc<AuthSettings>,
    pub throttle: Arc<LoginThrottle>,
    /// Once an account exists the first-admin registration is closed for good; remembering
    /// that saves a query on every page.
    pub set_up: Arc<AtomicBool>,
    /// Who tokens and sessions belong to, remembered briefly; see [`crate::services::auth_cache`].
    pub auth_cache: Arc<crate::services::auth_cache::AuthCache>,
    /// Where evidence bytes live.
    pub storage: crate::services::storage::Storage,
    /// The release page's data per release, while unchanged.
    pub release_views: Arc<crate::services::page_cache::ReleaseViews>,
    /// Release pages as last rendered per reader, for a moment.
    pub rendered_pages: Arc<crate::services::page_cache::RenderedPages>,
    /// The team-wide status, kept fresh by the status channel.
    pub status: Arc<crate::services::status::StatusHub>,
    /// Line indexes of logs being viewed.
    pub log_indexes: Arc<crate::services::logs::LogIndexes>,
    /// Where people reach Shipgate (`PUBLIC_BASE_URL`, no trailing slash), for links that
    /// leave the browser: e-mails, chat messages, calendar feeds.
    pub public_base_url: Arc<str>,
}

impl AppState {
    pub async fn is_set_up(&self) -> Result<bool, crate::services::ServiceError> {
        if self.set_up.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let yes = crate::services::accounts::has_users(&self.pool).await?;
        if yes {
            self.set_up.store(true, Ordering::Relaxed);
        }
        Ok(yes)
    }
}
