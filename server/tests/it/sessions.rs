//! Session lifetimes: inactivity and absolute expiry end a session on the server.

use crate::common::*;
use shipgate_server::config::Settings;
use sqlx::PgPool;
use std::time::Duration;

/// A Shipgate with adjusted session lifetimes, and Ada's session cookie.
async fn ada_signed_in(pool: PgPool, adjust: impl FnOnce(&mut Settings)) -> (TestApp, String) {
    let mut s = settings("postgres://unused");
    adjust(&mut s);
    let app = spawn_app_with(pool, s).await;
    let cookie = app.signed_in("ada@example.org", &["viewer"]).await;
    (app, cookie)
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_idle_session_expires(pool: PgPool) {
    let (app, cookie) = ada_signed_in(pool, |s| s.session_idle = Duration::from_secs(1)).await;
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), 401);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_active_session_still_ends_at_its_absolute_lifetime(pool: PgPool) {
    let (app, cookie) = ada_signed_in(pool, |s| s.session_absolute = Duration::from_secs(3)).await;
    // Busy all along: every half second a request, so inactivity never strikes.
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), 401);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn activity_keeps_a_session_alive_past_the_idle_timeout(pool: PgPool) {
    let (app, cookie) = ada_signed_in(pool, |s| s.session_idle = Duration::from_secs(2)).await;
    for i in 0..7 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        let status = app.get("/api/v1/me", Some(&cookie)).await.status();
        assert_eq!(
            status,
            200,
            "request {i}, {} ms after sign-in",
            (i + 1) * 600
        );
    }
}
