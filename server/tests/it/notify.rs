//! Notifications end to end: a real SMTP server (aiosmtpd) on loopback receives what the
//! outbox worker sends; reminders are driven by a clock the test moves, not by sleeping;
//! the outbox survives a killed process and two replicas send each message once.

use crate::common::responder::Responder;
use crate::common::smtp::SmtpSink;
use crate::common::team::*;
use crate::common::*;
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn mail_team(pool: &PgPool, sink: &SmtpSink, clock: &TestClock) -> Team {
    team_with(pool.clone(), settings_with_mail(&sink.url(), clock)).await
}

fn window(start: DateTime<Utc>) -> Value {
    json!({ "window_start": start, "window_end": start + Duration::hours(2) })
}

async fn outbox_states(pool: &PgPool, event: &str) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT u.email, o.state, o.outcome FROM outbox o JOIN users u ON u.id = o.user_id
         WHERE o.event = $1 ORDER BY u.email",
    )
    .bind(event)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Waits until no e-mail row is pending and due by `clock` (what is due has been handled).
async fn settled(pool: &PgPool, clock: &TestClock) {
    let deadline = Deadline::after(30, "the outbox did not settle");
    loop {
        let now = clock.clock().now();
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM outbox WHERE state = 'pending' AND next_attempt_at <= $1",
        )
        .bind(now)
        .fetch_one(pool)
        .await
        .unwrap();
        if n == 0 {
            // One more pass of the worker, for rows claimed just now.
            tokio::time::sleep(std::time::Duration::from_millis(700)).await;
            return;
        }
        deadline.wait(n).await;
    }
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn signers_hear_of_their_assignment_and_of_go_no_go_with_the_sign_link(pool: PgPool) {
    let sink = SmtpSink::start(None, 0);
    let clock = TestClock::default();
    let t = mail_team(&pool, &sink, &clock).await;
    sqlx::query("UPDATE users SET lang = 'en' WHERE email = 'po@example.org'")
        .execute(&pool)
        .await
        .unwrap();
    let id = to_go_no_go(&t).await;

    let assigned = sink
        .wait_for(
            "po@example.org",
            "You are Product Owner of Spring release 2.4.0",
        )
        .await;
    assert!(assigned
        .text
        .contains("rc@example.org assigned you as Product Owner"));
    let open = sink
        .wait_for(
            "po@example.org",
            "Go/No-Go is open for your sign-off: Spring release 2.4.0",
        )
        .await;
    let sign_link = format!("http://shipgate.test/releases/{id}/sign");
    assert!(open.links().contains(&sign_link), "{:?}", open.links());
    assert!(open
        .links()
        .contains(&"http://shipgate.test/account/notifications".to_string()));
    assert!(open.html.contains(&format!("href=\"{sign_link}\"")));
    assert!(
        open.message_id.starts_with("outbox-"),
        "{}",
        open.message_id
    );

    settled(&pool, &clock).await;
    // Each recipient once; the captain caused both and hears of neither.
    let to_owner = sink.mails_to("po@example.org");
    assert_eq!(to_owner.len(), 2, "{to_owner:#?}");
    assert!(sink.mails_to("rc@example.org").is_empty());
    // Nobody else was told.
    assert!(sink.mails().iter().all(|m| m.to == ["po@example.org"]));
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_reminder_fires_once_and_follows_the_window_when_it_moves(pool: PgPool) {
    let sink = SmtpSink::start(None, 0);
    let clock = TestClock::default();
    let t = mail_team(&pool, &sink, &clock).await;
    let ws = Utc::now() + Duration::days(3);
    let r = t.create_with(window(ws)).await;
    let id = r["id"].as_i64().unwrap();

    // Two hours before the staging gate (T-12h): the captain, in German (the default).
    clock.set(ws - Duration::hours(14) + Duration::minutes(1));
    let m = sink
        .wait_for(
            "rc@example.org",
            "Staging-Gate in 2 Std. fällig: Spring release 2.4.0",
        )
        .await;
    assert!(m
        .links()
        .contains(&format!("http://shipgate.test/releases/{id}")));
    settled(&pool, &clock).await;
    assert_eq!(sink.mails_to("rc@example.org").len(), 1, "fires once");

    // The window moves a day later: the overdue notice at the old deadline is not sent,
    // the reminders come again for the new one.
    let moved = ws + Duration::days(1);
    let path = format!("/api/v1/releases/{id}");
    let current: Value = t.fetch(&path, &t.captain).await;
    let body = with(window(moved), json!({ "revision": current["revision"] }));
    t.expect(Method::PATCH, &path, &t.captain, body, 200).await;
    clock.set(ws - Duration::hours(12) + Duration::minutes(1));
    settled(&pool, &clock).await;
    assert!(
        sink.mails()
            .iter()
            .all(|m| !m.subject.contains("überfällig")),
        "the old deadline no longer counts"
    );
    clock.set(moved - Duration::hours(14) + Duration::minutes(1));
    sink.wait_for_count(2).await;
    settled(&pool, &clock).await;
    let to_captain = sink.mails_to("rc@example.org");
    assert_eq!(to_captain.len(), 2, "{to_captain:#?}");
    assert!(to_captain[1]
        .subject
        .contains("Staging-Gate in 2 Std. fällig"));
    // Past the new deadline: overdue, to the captain and the owner.
    clock.set(moved - Duration::hours(12) + Duration::minutes(1));
    sink.wait_for("po@example.org", "Staging-Gate überfällig")
        .await;
    sink.wait_for("rc@example.org", "Staging-Gate überfällig")
        .await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_reminder_is_skipped_when_its_condition_cleared(pool: PgPool) {
    let sink = SmtpSink::start(None, 0);
    let clock = TestClock::default();
    let t = mail_team(&pool, &sink, &clock).await;
    let ws = Utc::now() + Duration::days(2);
    let id = to_go_no_go_with(&t, window(ws)).await;
    set_preconditions(&t, id).await;
    t.sign(id, &t.owner, "product_owner", "go", 201).await;

    // Half an hour before Go/No-Go (T-1h): only the one who has not signed.
    clock.set(ws - Duration::minutes(90) + Duration::minutes(1));
    sink.wait_for(
        "rc@example.org",
        "Ihre Go/No-Go-Freigabe ist in 30 Min. fällig",
    )
    .await;
    settled(&pool, &clock).await;
    assert!(sink
        .mails_to("po@example.org")
        .iter()
        .all(|m| !m.subject.contains("in 30 Min.")));
    let rows = outbox_states(&pool, "go_no_go.due_soon").await;
    assert_eq!(
        rows,
        vec![
            (
                "po@example.org".into(),
                "skipped".into(),
                Some("signed".into())
            ),
            ("rc@example.org".into(), "delivered".into(), None),
        ]
    );

    // Overdue and undecided: both signers and the admins.
    clock.set(ws - Duration::hours(1) + Duration::minutes(1));
    for who in ["rc@example.org", "po@example.org", "admin@example.org"] {
        sink.wait_for(who, "Go/No-Go überfällig").await;
    }
    // The engineer and the viewer are not concerned.
    settled(&pool, &clock).await;
    assert!(sink.mails_to("eng@example.org").is_empty());
    assert!(sink.mails_to("viewer@example.org").is_empty());
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_stale_sign_off_asks_the_signer_to_sign_again_saying_what_changed(pool: PgPool) {
    let sink = SmtpSink::start(None, 0);
    let clock = TestClock::default();
    let t = mail_team(&pool, &sink, &clock).await;
    let id = to_go_no_go(&t).await;
    set_preconditions(&t, id).await;
    t.sign(id, &t.owner, "product_owner", "go", 201).await;
    let path = format!("/api/v1/releases/{id}");
    let current: Value = t.fetch(&path, &t.captain).await;
    let change = json!({ "revision": current["revision"], "version": "2.4.1" });
    t.expect(Method::PATCH, &path, &t.captain, change, 200)
        .await;

    let m = sink
        .wait_for(
            "po@example.org",
            "Bitte erneut freigeben: Spring release 2.4.1",
        )
        .await;
    assert!(m.text.contains("rc@example.org"), "{}", m.text);
    assert!(
        m.text.contains("Release bearbeitet (version)"),
        "{}",
        m.text
    );
    assert!(m
        .links()
        .contains(&format!("http://shipgate.test/releases/{id}/sign")));
    // A second change does not ask again for the same sign-off.
    let current: Value = t.fetch(&path, &t.captain).await;
    let change = json!({ "revision": current["revision"], "title": "Summer release" });
    t.expect(Method::PATCH, &path, &t.captain, change, 200)
        .await;
    settled(&pool, &clock).await;
    let asked = sink
        .mails_to("po@example.org")
        .into_iter()
        .filter(|m| m.subject.contains("Bitte erneut freigeben"))
        .count();
    assert_eq!(asked, 1);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_signer_replaced_during_go_no_go_is_not_asked_again_and_the_new_one_is(pool: PgPool) {
    let sink = SmtpSink::start(None, 0);
    let clock = TestClock::default();
    let t = mail_team(&pool, &sink, &clock).await;
    t.app
        .add_user("po2@example.org", PW, &["product_owner"])
        .await;
    let id = to_go_no_go(&t).await;
    set_preconditions(&t, id).await;
    t.sign(id, &t.owner, "product_owner", "go", 201).await;
    let path = format!("/api/v1/releases/{id}");
    let current: Value = t.fetch(&path, &t.admin).await;
    let change = json!({ "revision": current["revision"], "product_owner": "po2@example.org" });
    t.expect(Method::PATCH, &path, &t.admin, change, 200).await;

    let m = sink
        .wait_for("po2@example.org", "Go/No-Go wartet auf Ihre Freigabe")
        .await;
    assert!(m
        .links()
        .contains(&format!("http://shipgate.test/releases/{id}/sign")));
    sink.wait_for("po2@example.org", "Sie sind Product Owner")
        .await;
    settled(&pool, &clock).await;
    assert!(
        sink.mails_to("po@example.org")
            .iter()
            .all(|m| !m.subject.contains("Bitte erneut freigeben")),
        "the replaced owner no longer signs"
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn go_live_steps_reach_the_team_channel_and_the_signers(pool: PgPool) {
    let sink = SmtpSink::start(None, 0);
    let clock = TestClock::default();
    let t = mail_team(&pool, &sink, &clock).await;
    let r = Responder::start().await;
    for (name, format) in [("teams", "teams"), ("slack", "slack")] {
        let hook =
            json!({ "name": name, "url": format!("{}/hook/200", r.url()), "format": format });
        t.expect(Method::POST, "/api/v1/webhooks", &t.admin, hook, 201)
            .await;
    }
    // A person turned go-live e-mail off: they are not mailed, the channel still hears.
    sqlx::query("UPDATE users SET email_off = '{go_live}' WHERE email = 'po@example.org'")
        .execute(&pool)
        .await
        .unwrap();
    let start = Utc::now() - Duration::minutes(30);
    let id = to_go_live_with(&t, window(start)).await;
    let post = |path: String, cookie: &str, body: Value| {
        t.req(Method::POST, &path, Some(cookie)).json(&body).send()
    };
    let base = format!("/api/v1/releases/{id}");
    let s = post(format!("{base}/go-live/start"), &t.captain, json!({}))
        .await
        .unwrap();
    assert_eq!(s.status(), 200);
    let s = post(
        format!("{base}/rollback"),
        &t.captain,
        json!({ "reason": "5xx after the switch" }),
    )
    .await
    .unwrap();
    assert_eq!(s.status(), 200);

    let deadline = Deadline::after(30, "the team channel did not hear");
    loop {
        let hooks = r.hooks();
        let card = |title: &str| {
            hooks.iter().any(|h| {
                h["@type"] == "MessageCard"
                    && h["title"].as_str().is_some_and(|t| t.contains(title))
            })
        };
        let slack = |text: &str| {
            hooks
                .iter()
                .any(|h| h["text"].as_str().is_some_and(|t| t.contains(text)))
        };
        if card("Go-live started: Spring release 2.4.0")
            && card("Rolled back: Spring release 2.4.0")
            && slack("Go-live started")
            && slack("Rolled back")
        {
            let rolled = hooks
                .iter()
                .find(|h| {
                    h["title"]
                        .as_str()
                        .is_some_and(|t| t.contains("Rolled back"))
                })
                .unwrap();
            assert!(rolled["sections"][0]["text"]
                .as_str()
                .unwrap()
                .contains("5xx after the switch"));
            assert_eq!(
                rolled["potentialAction"][0]["targets"][0]["uri"],
                format!("http://shipgate.test/releases/{id}")
            );
            break;
        }
        deadline.wait(format!("{hooks:#?}")).await;
    }
    settled(&pool, &clock).await;
    // The captain acted; the owner turned go-live e-mail off: no go-live mail to anyone.
    assert!(sink
        .mails()
        .iter()
        .all(|m| !m.subject.contains("Go-Live gestartet") && !m.subject.contains("Zurückgerollt")));
    let rows = outbox_states(&pool, "go_live.started").await;
    assert_eq!(
        rows,
        vec![(
            "po@example.org".into(),
            "skipped".into(),
            Some("the recipient turned this off".into())
        )]
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn each_traffic_stage_and_the_end_of_the_hold_are_announced(pool: PgPool) {
    let sink = SmtpSink::start(None, 0);
    let clock = TestClock::default();
    let t = mail_team(&pool, &sink, &clock).await;
    let start = Utc::now() - Duration::minutes(30);
    let id = to_go_live_with(
        &t,
        with(window(start), json!({ "canary_hold_minutes": 30 })),
    )
    .await;
    let base = format!("/api/v1/releases/{id}");
    let post = |path: String, body: Value| {
        let req = t.req(Method::POST, &path, Some(&t.captain)).json(&body);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(post(format!("{base}/go-live/start"), json!({})).await, 200);
    for (step, stage, note) in [
        ("pre_checks", None, "checked by hand"),
        ("deploy_green", None, ""),
        ("smoke_tests", None, ""),
        ("canary_stage", Some(10), ""),
        ("canary_stage", Some(50), ""),
    ] {
        let body = json!({ "step": step, "stage_pct": stage, "note": note });
        assert_eq!(
            post(format!("{base}/go-live/steps"), body).await,
            200,
            "{step}"
        );
    }
    for pct in [10, 50] {
        let subject = format!("Go-Live: {pct} % des Traffics auf Spring release 2.4.0");
        sink.wait_for("po@example.org", &subject).await;
    }
    // The last stage waits for the 30-minute hold; its end is announced to both, the
    // captain too (nobody caused it).
    settled(&pool, &clock).await;
    assert!(sink
        .mails()
        .iter()
        .all(|m| !m.subject.contains("Haltezeit")));
    clock.set(Utc::now() + Duration::minutes(31));
    for who in ["po@example.org", "rc@example.org"] {
        sink.wait_for(who, "Haltezeit vorbei: Spring release 2.4.0")
            .await;
    }
}

/// The environment a `shipgate serve` process on the test's database mails with.
async fn serve_env(pool: &PgPool, smtp_port: u16, retry_base_ms: u32) -> Vec<(String, String)> {
    vec![
        ("DATABASE_URL".into(), database_url(pool).await),
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        ("LEPTOS_SITE_ROOT".into(), "target/site".into()),
        ("PUBLIC_BASE_URL".into(), "http://shipgate.test".into()),
        (
            "FILE_STORAGE_DIR".into(),
            scratch_dir("evidence").display().to_string(),
        ),
        (
            "SMTP_URL".into(),
            format!("smtp://127.0.0.1:{smtp_port}?tls=none"),
        ),
        ("MAIL_FROM".into(), "Shipgate <shipgate@example.org>".into()),
        ("WEBHOOK_RETRY_BASE_MS".into(), retry_base_ms.to_string()),
        ("LOG_LEVEL".into(), "error".into()),
    ]
}

fn serve(env: &[(String, String)]) -> std::process::Child {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shipgate"));
    cmd.arg("serve")
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("shipgate serve starts")
}

/// `n` releases created at the command line, each assigning a captain and an owner: two
/// e-mails each, queued in the transaction that creates the release.
async fn queue_assignments(pool: &PgPool, n: usize) {
    use app::domain::release::input::ReleaseInput;
    use app::services::{releases, Actor};
    for email in ["rc@example.org", "po@example.org"] {
        let role = if email.starts_with("rc") {
            "release_captain"
        } else {
            "product_owner"
        };
        let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(pool)
            .await
            .unwrap();
        if count == 0 {
            app::services::accounts::create_user(
                pool,
                &Actor::Cli,
                app::services::accounts::NewUser {
                    email: email.into(),
                    name: String::new(),
                    password: PW.into(),
                    roles: vec![role.into()],
                },
            )
            .await
            .unwrap();
        }
    }
    for i in 0..n {
        let start = Utc::now() + Duration::days(5);
        let input: ReleaseInput = serde_json::from_value(json!({
            "title": format!("Release {i}"), "version": "1.0.0", "environment": "prod",
            "window_start": start, "window_end": start + Duration::hours(1),
            "release_captain": "rc@example.org", "product_owner": "po@example.org",
        }))
        .unwrap();
        releases::create(pool, &Actor::Cli, input).await.unwrap();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_killed_process_loses_no_notice_and_a_restart_sends_each_once(pool: PgPool) {
    // The SMTP server is down when the notices are committed: the first tries fail.
    let port = free_port();
    queue_assignments(&pool, 3).await;
    // The next try waits 3 s: once all six failed once, the process is between tries.
    let env = serve_env(&pool, port, 3000).await;
    let mut first = serve(&env);
    let deadline = Deadline::after(30, "no failed attempt");
    loop {
        let (tried,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM outbox WHERE channel = 'email' AND state = 'pending'
               AND attempts = 1 AND last_error IS NOT NULL",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if tried == 6 {
            break;
        }
        deadline.wait(tried).await;
    }
    first.kill().unwrap(); // SIGKILL: no clean shutdown
    first.wait().unwrap();

    let sink = SmtpSink::start(Some(port), 0);
    let mut second = serve(&env);
    let mails = sink.wait_for_count(6).await;
    // Give it time to send anything twice, then count.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mails_after = sink.mails();
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(mails_after.len(), 6, "{mails:#?}");
    let (delivered,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM outbox WHERE channel = 'email' AND state = 'delivered'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(delivered, 6);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn two_replicas_on_one_database_send_each_notice_once(pool: PgPool) {
    // Temporary failures on the first messages, so retries run while both replicas claim.
    let sink = SmtpSink::start(None, 3);
    let env = serve_env(&pool, sink.port, 200).await;
    let mut a = serve(&env);
    let mut b = serve(&env);
    queue_assignments(&pool, 20).await;
    sink.wait_for_count(40).await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mails = sink.mails();
    a.kill().unwrap();
    b.kill().unwrap();
    a.wait().unwrap();
    b.wait().unwrap();
    assert_eq!(mails.len(), 40);
    let mut ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40, "every notice once");
}
