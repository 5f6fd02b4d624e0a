//! Session lifetimes: inactivity and absolute expiry end a session on the server.

mod common;

use common::*;
use sqlx::PgPool;
use std::time::Duration;

const PW: &str = "correct horse battery";

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_idle_session_expires(pool: PgPool) {
    let mut s = settings("postgres://unused");
    s.session_idle = Duration::from_secs(1);
    let app = spawn_app_with(pool, s).await;
    app.add_user("ada@example.org", PW, &["viewer"]).await;
    let cookie = app.session("ada@example.org", PW).await;
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), 401);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_active_session_still_ends_at_its_absolute_lifetime(pool: PgPool) {
    let mut s = settings("postgres://unused");
    s.session_absolute = Duration::from_secs(3);
    let app = spawn_app_with(pool, s).await;
    app.add_user("ada@example.org", PW, &["viewer"]).await;
    let cookie = app.session("ada@example.org", PW).await;
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
    let mut s = settings("postgres://unused");
    s.session_idle = Duration::from_secs(2);
    let app = spawn_app_with(pool, s).await;
    app.add_user("ada@example.org", PW, &["viewer"]).await;
    let cookie = app.session("ada@example.org", PW).await;
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
