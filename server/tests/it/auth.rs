//! Accounts, sessions and the security baseline over real HTTP against a real Postgres
//! (one fresh database per test).

use crate::common::*;
use reqwest::header::{HeaderMap, HeaderValue, LOCATION, RETRY_AFTER};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

/// A 429 that says when to come back, within the throttle's 15-minute window.
fn assert_locked_out(resp: &reqwest::Response) {
    assert_eq!(resp.status(), 429);
    let retry_after: u64 = resp.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn wrong_password_and_unknown_email_get_the_same_401_json(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("ada@example.org", PW, &["engineer"]).await;

    let wrong = app.sign_in("ada@example.org", "not the password").await;
    assert_eq!(wrong.status(), 401);
    let wrong_body: Value = wrong.json().await.unwrap();
    let unknown = app.sign_in("nobody@example.org", "not the password").await;
    assert_eq!(unknown.status(), 401);
    let unknown_body: Value = unknown.json().await.unwrap();
    assert_eq!(wrong_body, unknown_body);
    assert_eq!(wrong_body["error"]["code"], "invalid_credentials");

    let ok = app.sign_in("ADA@example.org ", PW).await;
    assert_eq!(ok.status(), 200);
    let me: Value = ok.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.org");
    assert_eq!(me["roles"], json!(["engineer"]));
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn me_requires_a_credential_and_reports_roles(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("rc@example.org", PW, &["release_captain", "engineer"])
        .await;

    let anon = app.get("/api/v1/me", None).await;
    assert_eq!(anon.status(), 401);
    assert_eq!(error_code(anon).await, "unauthorized");

    let cookie = app.session("rc@example.org", PW).await;
    let me: Value = app.get_json("/api/v1/me", Some(&cookie)).await;
    assert_eq!(me["email"], "rc@example.org");
    assert_eq!(me["roles"], json!(["release_captain", "engineer"]));
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn session_id_known_before_sign_in_is_worthless_after_it(pool: PgPool) {
    let app = spawn_app(pool).await;
    let before = app.signed_in("ada@example.org", &["viewer"]).await;
    // Signing in again on a browser that already carries a session id cycles the id.
    let again = app
        .sign_in_with("ada@example.org", PW, cookie_header(&before))
        .await;
    assert_eq!(again.status(), 200);
    let after = session_cookie(&again).expect("new session cookie");
    assert_ne!(before, after);

    assert_eq!(app.get("/api/v1/me", Some(&before)).await.status(), 401);
    assert_eq!(app.get("/api/v1/me", Some(&after)).await.status(), 200);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn cookie_replayed_after_logout_is_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    let cookie = app.signed_in("ada@example.org", &["viewer"]).await;
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), 200);

    let out = app.call(Method::DELETE, "/api/v1/session", &cookie).await;
    assert_eq!(out.status(), 204);

    let replay = app.get("/api/v1/me", Some(&cookie)).await;
    assert_eq!(replay.status(), 401);
    assert_eq!(error_code(replay).await, "unauthorized");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn logout_form_ends_the_session_on_the_server(pool: PgPool) {
    let app = spawn_app(pool).await;
    let cookie = app.signed_in("ada@example.org", &["viewer"]).await;
    let out = app.call(Method::POST, "/auth/logout", &cookie).await;
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()[LOCATION], "/login");
    assert_eq!(app.get("/api/v1/me", Some(&cookie)).await.status(), 401);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn viewer_is_forbidden_on_admin_endpoints(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("admin@example.org", PW, &["admin"]).await;
    let viewer = app.signed_in("viewer@example.org", &["viewer"]).await;
    let viewer_token = app.issue_token("viewer@example.org").await;

    let c = client();
    let calls = [
        c.get(app.url("/api/v1/users")),
        c.post(app.url("/api/v1/users")).json(&json!({
            "email": "new@example.org", "password": PW, "roles": ["admin"]
        })),
        c.patch(app.url("/api/v1/users/1"))
            .json(&json!({ "roles": ["viewer"] })),
    ];
    for call in calls {
        let req = call.build().unwrap();
        let with_session = c
            .execute({
                let mut r = req.try_clone().unwrap();
                r.headers_mut()
                    .insert("cookie", HeaderValue::from_str(&viewer).unwrap());
                r
            })
            .await
            .unwrap();
        assert_eq!(with_session.status(), 403, "{} {}", req.method(), req.url());
        assert_eq!(error_code(with_session).await, "forbidden");

        let with_token = c
            .execute({
                let mut r = req.try_clone().unwrap();
                r.headers_mut().insert(
                    "authorization",
                    HeaderValue::from_str(&format!("Bearer {viewer_token}")).unwrap(),
                );
                r
            })
            .await
            .unwrap();
        assert_eq!(with_token.status(), 403);

        let anonymous = c.execute(req).await.unwrap();
        assert_eq!(anonymous.status(), 401);
    }
    // Nothing was created on the way.
    assert_eq!(query_i64(&app.pool, "SELECT count(*) FROM users").await, 2);

    let admin = app.session("admin@example.org", PW).await;
    let list = app.get("/api/v1/users", Some(&admin)).await;
    assert_eq!(list.status(), 200);
    let users: Vec<Value> = list.json().await.unwrap();
    assert_eq!(users.len(), 2);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn cross_site_posts_are_refused(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("ada@example.org", PW, &["viewer"]).await;

    let hostile: [(&str, &str); 3] = [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ];
    for (name, value) in hostile {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        let resp = app.sign_in_with("ada@example.org", PW, h.clone()).await;
        assert_eq!(resp.status(), 403, "{name}: {value}");
        assert!(session_cookie(&resp).is_none());
        assert_eq!(error_code(resp).await, "cross_site_request");

        // The browser form endpoints and server functions are guarded alike.
        for path in ["/auth/login", "/api/change_password"] {
            let resp = client()
                .post(app.url(path))
                .headers(h.clone())
                .form(&[("email", "ada@example.org"), ("password", PW)])
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 403, "{path} with {name}: {value}");
        }
    }

    // The same request from our own origin goes through.
    let mut h = HeaderMap::new();
    h.insert(
        "origin",
        HeaderValue::from_str(&format!("http://{}", app.addr)).unwrap(),
    );
    h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
    assert_eq!(
        app.sign_in_with("ada@example.org", PW, h).await.status(),
        200
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn rapid_wrong_logins_are_throttled(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("ada@example.org", PW, &["viewer"]).await;
    for attempt in 0..5 {
        let resp = app.sign_in("ada@example.org", "wrong password").await;
        assert_eq!(resp.status(), 401, "attempt {attempt}");
    }
    let locked = app.sign_in("ada@example.org", PW).await;
    assert_locked_out(&locked);
    assert_eq!(error_code(locked).await, "too_many_requests");

    // Another account from the same address is not locked by this one.
    app.add_user("bob@example.org", PW, &["viewer"]).await;
    assert_eq!(app.sign_in("bob@example.org", PW).await.status(), 200);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn disabling_a_user_ends_their_sessions_and_tokens_at_once(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("admin@example.org", PW, &["admin"]).await;
    let ada = app.signed_in("ada@example.org", &["engineer"]).await;
    let ada_token = app.issue_token("ada@example.org").await;
    assert_eq!(app.get("/api/v1/me", Some(&ada)).await.status(), 200);

    let admin = app.session("admin@example.org", PW).await;
    let users: Vec<Value> = app.get_json("/api/v1/users", Some(&admin)).await;
    let ada_id = users
        .iter()
        .find(|u| u["email"] == "ada@example.org")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let ada_path = format!("/api/v1/users/{ada_id}");
    let disable = json!({ "disabled": true });
    let resp = app
        .send_json(Method::PATCH, &ada_path, &admin, disable)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["disabled"], true);

    assert_eq!(app.get("/api/v1/me", Some(&ada)).await.status(), 401);
    let by_token = app.get_bearer("/api/v1/me", &ada_token).await;
    assert_eq!(by_token.status(), 401);
    assert_eq!(app.sign_in("ada@example.org", PW).await.status(), 401);

    // Re-enabling does not bring the old session back.
    let enable = json!({ "disabled": false });
    let resp = app
        .send_json(Method::PATCH, &ada_path, &admin, enable)
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(app.get("/api/v1/me", Some(&ada)).await.status(), 401);
    assert_eq!(app.sign_in("ada@example.org", PW).await.status(), 200);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn admin_cannot_lock_themselves_out(pool: PgPool) {
    let app = spawn_app(pool).await;
    let admin = app.signed_in("admin@example.org", &["admin"]).await;
    for patch in [json!({ "disabled": true }), json!({ "roles": ["viewer"] })] {
        let resp = app
            .send_json(Method::PATCH, "/api/v1/users/1", &admin, patch.clone())
            .await;
        assert_eq!(resp.status(), 409, "{patch}");
    }
    assert_eq!(app.get("/api/v1/users", Some(&admin)).await.status(), 200);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn password_change_ends_the_other_sessions_only(pool: PgPool) {
    let app = spawn_app(pool).await;
    let laptop = app.signed_in("ada@example.org", &["viewer"]).await;
    let phone = app.session("ada@example.org", PW).await;

    let change = |current: &str, new: &str| {
        let body = json!({ "current_password": current, "new_password": new });
        app.send_json(Method::POST, "/api/v1/me/password", &laptop, body)
    };
    let wrong = change("nope nope", "a new long password").await;
    assert_eq!(wrong.status(), 422);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["field"], "current_password");

    let short = change(PW, "short").await;
    assert_eq!(short.status(), 422);

    let changed = change(PW, "a new long password").await;
    assert_eq!(changed.status(), 204);
    let laptop = session_cookie(&changed).unwrap_or(laptop);

    assert_eq!(app.get("/api/v1/me", Some(&laptop)).await.status(), 200);
    assert_eq!(app.get("/api/v1/me", Some(&phone)).await.status(), 401);
    assert_eq!(app.sign_in("ada@example.org", PW).await.status(), 401);
    assert_eq!(
        app.sign_in("ada@example.org", "a new long password")
            .await
            .status(),
        200
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn api_tokens_are_shown_once_listed_and_revocable(pool: PgPool) {
    let app = spawn_app(pool).await;
    let cookie = app.signed_in("ci@example.org", &["engineer"]).await;

    let issued = app.new_token(&cookie, "deploy pipeline").await;
    let secret = issued["secret"].as_str().unwrap().to_string();
    let id = issued["token"]["id"].as_i64().unwrap();

    let me = app.get_bearer("/api/v1/me", &secret).await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.json::<Value>().await.unwrap()["email"], "ci@example.org");

    // The secret is stored hashed and never listed again.
    let stored: Vec<u8> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_ne!(stored, secret.as_bytes());
    let list = app.get_text("/api/v1/tokens", Some(&cookie)).await;
    assert!(list.contains("deploy pipeline"));
    assert!(!list.contains(&secret));

    let revoked = client()
        .delete(app.url(&format!("/api/v1/tokens/{id}")))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let after = app.get_bearer("/api/v1/me", &secret).await;
    assert_eq!(after.status(), 401);
    assert_eq!(error_code(after).await, "unauthorized");

    let bogus = app.get_bearer("/api/v1/me", "sg_nope").await;
    assert_eq!(bogus.status(), 401);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn first_account_becomes_admin_and_registration_then_closes(pool: PgPool) {
    let app = spawn_app(pool).await;

    // A fresh instance sends every page to the registration.
    let home = app.get("/", None).await;
    assert_eq!(home.status(), 303);
    assert_eq!(home.headers()[LOCATION], "/register");

    let short = app.register("root@example.org", "Root", "short").await;
    assert_eq!(short.status(), 303);
    let to = short.headers()[LOCATION].to_str().unwrap();
    assert!(to.starts_with("/register?error=password"), "{to}");
    assert!(
        to.contains("email=root%40example.org"),
        "keeps the input: {to}"
    );

    let first = app.register("root@example.org", "Root", PW).await;
    assert_eq!(first.status(), 303);
    assert_eq!(first.headers()[LOCATION], "/");
    let cookie = session_cookie(&first).expect("signed in after registering");
    let me: Value = app.get_json("/api/v1/me", Some(&cookie)).await;
    assert_eq!(me["roles"], json!(["admin"]));

    let second = app.register("late@example.org", "", PW).await;
    // Refused outright (no redirect dance), before any password is hashed.
    assert_eq!(second.status(), 409);
    assert!(session_cookie(&second).is_none());
    assert_eq!(query_i64(&app.pool, "SELECT count(*) FROM users").await, 1);

    // Pages now need a signed-in user, and remember where they wanted to go.
    let admin_page = app.get("/admin", None).await;
    assert_eq!(admin_page.status(), 303);
    assert_eq!(admin_page.headers()[LOCATION], "/login?next=%2Fadmin");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn registration_on_a_set_up_instance_is_refused_and_throttled(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("admin@example.org", PW, &["admin"]).await;
    let attempt = |i: usize| {
        let email = format!("intruder{i}@example.org");
        let app = &app;
        async move { app.register(&email, "Intruder", PW).await }
    };
    for i in 0..5 {
        let resp = attempt(i).await;
        assert_eq!(resp.status(), 409, "attempt {i}");
        assert!(session_cookie(&resp).is_none());
    }
    // Like sign-in, the address gets five tries in the window, then waits.
    let locked = attempt(5).await;
    assert_locked_out(&locked);

    assert_eq!(query_i64(&app.pool, "SELECT count(*) FROM users").await, 1);
    let registered = "SELECT count(*) FROM audit_log WHERE action = 'user.register'";
    assert_eq!(query_i64(&app.pool, registered).await, 0);
    // The registration throttle does not lock the admin's own account.
    assert_eq!(app.sign_in("admin@example.org", PW).await.status(), 200);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn pages_render_on_the_server_for_the_signed_in_user(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("admin@example.org", PW, &["admin"]).await;
    app.add_user("viewer@example.org", PW, &["viewer"]).await;
    let admin = app.session("admin@example.org", PW).await;

    let html = app.page("/admin", &admin).await;
    assert!(
        html.contains("viewer@example.org"),
        "user list rendered without JavaScript"
    );

    let html = app.get_text_in("/account", &admin, "de-DE,de;q=0.9").await;
    assert!(html.contains("lang=\"de\""));
    assert!(html.contains("Passwort ändern"));

    let viewer = app.session("viewer@example.org", PW).await;
    let page = app.get("/admin", Some(&viewer)).await;
    assert_eq!(page.status(), 403);
    assert!(!page.text().await.unwrap().contains("admin@example.org"));
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn api_errors_are_json_and_bodies_are_limited(pool: PgPool) {
    let app = spawn_app(pool).await;
    let big = "x".repeat(2 * 1024 * 1024);
    let resp = client()
        .post(app.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body(format!("{{\"email\":\"{big}\",\"password\":\"x\"}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(error_code(resp).await, "payload_too_large");

    // Server functions sit behind the same limit.
    let cookie = app.signed_in("ada@example.org", &["viewer"]).await;
    let resp = client()
        .post(app.url("/api/issue_token"))
        .headers(cookie_header(&cookie))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name={big}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert!(app.get_text("/api/v1/tokens", Some(&cookie)).await == "[]");

    let resp = client()
        .post(app.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(error_code(resp).await, "bad_request");

    let resp = app.get("/api/v1/no-such-thing", None).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(error_code(resp).await, "not_found");

    let resp = client().put(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(error_code(resp).await, "method_not_allowed");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn health_answers_and_requests_get_an_id(pool: PgPool) {
    let app = spawn_app(pool).await;
    let resp = app.get("/health", None).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"));
    let ready = app.get("/readiness", None).await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_burst_of_parallel_guesses_is_throttled_too(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("ada@example.org", PW, &["viewer"]).await;
    let url = app.url("/api/v1/session");
    let guesses = (0..20).map(|i| {
        let guess = json!({ "email": "ada@example.org", "password": format!("guess number {i}") });
        client().post(&url).json(&guess)
    });
    let statuses = all_at_once(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        checked <= 5,
        "at most 5 guesses were checked, got {checked}: {statuses:?}"
    );
    assert_eq!(checked + refused, 20, "{statuses:?}");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_api_token_cannot_change_the_password_or_mint_tokens(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("ci@example.org", PW, &["engineer"]).await;
    let token = app.issue_token("ci@example.org").await;
    let password = json!({ "current_password": PW, "new_password": "taken over now" });
    let change = app
        .post_bearer("/api/v1/me/password", &token, password)
        .await;
    assert_eq!(change.status(), 403);
    assert_eq!(error_code(change).await, "session_required");
    let successor = json!({ "name": "successor" });
    let mint = app.post_bearer("/api/v1/tokens", &token, successor).await;
    assert_eq!(mint.status(), 403);
    assert_eq!(app.sign_in("ci@example.org", PW).await.status(), 200);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_last_active_admin_cannot_be_removed(pool: PgPool) {
    use app::services::accounts::{update_user, UserChange};
    use app::services::Actor;
    let app = spawn_app(pool).await;
    app.add_user("admin@example.org", PW, &["admin"]).await;
    let admin = app::services::accounts::find_by_email(&app.pool, "admin@example.org")
        .await
        .unwrap();
    let disable = UserChange {
        roles: None,
        disabled: Some(true),
    };
    let err = update_user(&app.pool, &Actor::Cli, admin.id, disable.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "conflict");
    assert_eq!(app.sign_in("admin@example.org", PW).await.status(), 200);

    // With a second admin, the first may go.
    app.add_user("second@example.org", PW, &["admin"]).await;
    let done = update_user(&app.pool, &Actor::Cli, admin.id, disable)
        .await
        .unwrap();
    assert!(done.disabled);
}
