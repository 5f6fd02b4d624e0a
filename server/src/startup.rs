//! Builds the application (state, router, layers) and runs it.

use crate::config::Settings;
use crate::{api, health, middleware as mw, web};
use anyhow::Context;
use app::services::storage::Storage;
use app::services::throttle::{LoginThrottle, ThrottlePolicy};
use app::state::{AppState, AuthSettings};
use app::{shell, App};
use axum::extract::Request;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

/// Requests larger than this are refused (413) everywhere, server functions included.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;
pub const SESSION_COOKIE: &str = "shipgate_session";

/// A pool that connects on demand, so the process starts (and `/health` answers) while the
/// database is still away; `/readiness` tells when it is back.
pub fn pool(database_url: &str) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy(database_url)
        .context("DATABASE_URL is not a valid Postgres URL")
}

/// Where the browser bundle is. Release builds (cargo-leptos `hash-files`) put content
/// hashes into the bundle's names and list them in `hash.txt` beside the binary; when that
/// file is there the pages name the hashed files, which are then cached for a year.
pub fn leptos_options(settings: &Settings) -> LeptosOptions {
    let hashed = app::ui::bundle_hash("wasm", HASH_FILE).is_some();
    LeptosOptions::builder()
        .output_name("shipgate")
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(settings.site_addr)
        .hash_files(hashed)
        .hash_file(std::sync::Arc::from(HASH_FILE))
        .build()
}

const HASH_FILE: &str = "hash.txt";

pub fn state(settings: &Settings, pool: PgPool) -> anyhow::Result<AppState> {
    let storage = Storage::from_settings(&settings.storage, settings.evidence_max_bytes)
        .map_err(anyhow::Error::msg)?;
    Ok(AppState {
        leptos_options: leptos_options(settings),
        pool,
        auth: Arc::new(AuthSettings {
            idle_timeout: settings.session_idle,
            absolute_timeout: settings.session_absolute,
            secure_cookies: settings.secure_cookies(),
            local_login: settings.local_login,
            sso_display_name: settings.sso.as_ref().map(|s| s.display_name.clone()),
        }),
        throttle: Arc::new(LoginThrottle::new(ThrottlePolicy::default())),
        set_up: Arc::new(AtomicBool::new(false)),
        auth_cache: Arc::default(),
        storage,
        log_indexes: Arc::default(),
        release_views: Arc::default(),
        rendered_pages: Arc::default(),
        status: Arc::default(),
        public_base_url: settings.public_base_url.trim_end_matches('/').into(),
    })
}

pub fn router(
    state: AppState,
    public_base_url: String,
    sso: Option<Arc<crate::sso::provider::Provider>>,
) -> Router {
    let routes = generate_route_list(App);
    let store = crate::session_cache::Sessions::new(state.pool.clone());
    let idle = time::Duration::seconds(state.auth.idle_timeout.as_secs() as i64);
    let sessions = SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.auth.secure_cookies)
        // The deadline moves forward whenever the session is saved; `auth::session_user`
        // renews it often enough without writing on every request.
        .with_expiry(Expiry::OnInactivity(idle));

    let context_state = state.clone();
    let shell_options = state.leptos_options.clone();
    Router::new()
        .route("/health", get(health::health))
        .route("/readiness", get(health::readiness))
        .route("/calendar.ics", get(crate::calendar::feed))
        .route("/auth/login", post(web::login))
        .route("/auth/register", post(web::register))
        .route("/lang", post(web::set_lang))
        .route("/csp-report", post(crate::security::csp_report))
        .merge(crate::sso::router(state.clone(), sso))
        .nest("/api/v1", api::router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(from_fn_with_state(state.clone(), mw::reuse_release_pages))
        .layer(from_fn_with_state(state.clone(), mw::gate_pages))
        .layer(from_fn_with_state(state.clone(), mw::resolve_user))
        .layer(sessions)
        .layer(from_fn_with_state(public_base_url, mw::refuse_cross_site))
        .layer(from_fn(mw::limit_body))
        .layer(from_fn(api::json_errors))
        .layer(from_fn_with_state(
            crate::security::Https(state.auth.secure_cookies),
            crate::security::security_headers,
        ))
        .layer(from_fn_with_state(
            crate::caching::Bundle {
                hashed: state.leptos_options.hash_files,
            },
            crate::caching::cache_control,
        ))
        // Brotli or gzip, as the browser asks; not for images, already compressed files
        // (the bundle's precompressed .br/.gz) or the status stream (event streams are
        // sent as they come).
        .layer(CompressionLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// A bound, ready-to-run Shipgate: tests bind port 0 and read the port back.
pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    pool: PgPool,
    state: AppState,
    probes: crate::config::ProbeSettings,
    notify: crate::config::NotifySettings,
}

impl Application {
    pub async fn build(settings: &Settings, pool: PgPool) -> anyhow::Result<Application> {
        let state = state(settings, pool.clone())?;
        let sso = settings
            .sso
            .clone()
            .map(|s| crate::sso::provider::Provider::new(s, &settings.public_base_url))
            .transpose()?
            .map(Arc::new);
        let router = router(state.clone(), settings.public_base_url.clone(), sso);
        let listener = tokio::net::TcpListener::bind(settings.site_addr)
            .await
            .with_context(|| {
                format!("cannot listen on {} (LEPTOS_SITE_ADDR)", settings.site_addr)
            })?;
        Ok(Application {
            listener,
            router,
            pool,
            state,
            probes: settings.probes.clone(),
            notify: settings.notify.clone(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let sweeper = tokio::spawn(sweep_expired_sessions(self.pool.clone()));
        let background = crate::prober::spawn(&self.state, &self.probes, &self.notify);
        let result = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server stopped with an error");
        sweeper.abort();
        for task in background {
            task.abort();
        }
        result
    }
}

/// Removes expired sessions from the store every few minutes.
async fn sweep_expired_sessions(pool: PgPool) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        if let Err(e) = sqlx::query("DELETE FROM tower_sessions.session WHERE expiry_date < now()")
            .execute(&pool)
            .await
        {
            tracing::debug!(error = %e, "session sweep skipped");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
