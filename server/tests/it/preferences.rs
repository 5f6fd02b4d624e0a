//! People's e-mail choices, the outbox as admins see it, and the team channels' formats and
//! event groups, over real HTTP against a real Postgres: the server functions behind
//! `/account/notifications` and `/admin/outbox`, their pages, and the REST API.

use crate::common::team::*;
use crate::common::*;
use app::services::accounts;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

const PREFS_PAGE: &str = "/account/notifications";

/// Calls the server function `name` in the background, as the form enhancer does, with a
/// form-encoded `body`: the status and the answer (JSON, or the text when it is none).
async fn call(t: &Team, name: &str, cookie: Option<&str>, body: &str) -> (u16, Value) {
    let resp = t
        .req(Method::POST, &server_fn_path(name), cookie)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn user_id(t: &Team, email: &str) -> i64 {
    accounts::find_by_email(&t.app.pool, email)
        .await
        .unwrap()
        .id
}

/// The person's choices as stored: their language and the groups e-mail is off for.
async fn stored(t: &Team, email: &str) -> (String, Vec<String>) {
    sqlx::query_as("SELECT lang, email_off FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(&t.app.pool)
        .await
        .unwrap()
}

/// The `user.notifications` audit rows: who made them, and the new values.
async fn audit_rows(t: &Team) -> Vec<(String, Value)> {
    sqlx::query_as(
        "SELECT actor, new_value FROM audit_log WHERE action = 'user.notifications' ORDER BY id",
    )
    .fetch_all(&t.app.pool)
    .await
    .unwrap()
}

/// The `<input …>` tag carrying `data-testid="{testid}"` in `html`.
fn input_tag<'a>(html: &'a str, testid: &str) -> &'a str {
    let at = html
        .find(&format!("data-testid=\"{testid}\""))
        .unwrap_or_else(|| panic!("no {testid} on the page"));
    let start = html[..at].rfind("<input").expect("an input");
    let end = at + html[at..].find('>').expect("the tag ends");
    &html[start..=end]
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn people_choose_their_emails_and_each_change_is_audited(pool: PgPool) {
    let t = team(pool).await;
    // Every group on and German by default.
    let (status, prefs) = call(&t, "my_notification_prefs", Some(&t.owner), "").await;
    assert_eq!(status, 200, "{prefs}");
    assert_eq!(prefs, json!({ "lang": "de", "email_off": [] }));

    // Go-live e-mails off, English: the ticked boxes arrive, the unticked one does not.
    let form = "lang=en&email_on[]=assignment&email_on[]=staging_gate&email_on[]=go_no_go\
                &email_on[]=alerts";
    let (status, body) = call(&t, "save_notification_prefs", Some(&t.owner), form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        stored(&t, "po@example.org").await,
        ("en".to_string(), vec!["go_live".to_string()])
    );
    let (_, prefs) = call(&t, "my_notification_prefs", Some(&t.owner), "").await;
    assert_eq!(prefs, json!({ "lang": "en", "email_off": ["go_live"] }));
    let rows = audit_rows(&t).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "po@example.org");
    assert_eq!(rows[0].1["lang"], "en");
    assert_eq!(rows[0].1["email_off"], json!(["go_live"]));
    assert_eq!(rows[0].1["email"], "po@example.org");

    // The same choices again change nothing and are not recorded twice.
    let (status, _) = call(&t, "save_notification_prefs", Some(&t.owner), form).await;
    assert_eq!(status, 200);
    assert_eq!(audit_rows(&t).await.len(), 1);
    // The audit page names the change in words.
    let trail = t.app.get_text_in("/admin/audit", &t.admin, "en").await;
    assert!(trail.contains("Notification settings changed"));

    // The page shows the address and the kept choices.
    let html = t.app.get_text_in(PREFS_PAGE, &t.owner, "en").await;
    assert!(
        html.contains("You receive e-mails at "),
        "the page says where"
    );
    assert!(html.contains("po@example.org"));
    assert!(html.contains("data-testid=\"notification-prefs\""));
    assert!(!input_tag(&html, "email-go_live").contains("checked"));
    assert!(input_tag(&html, "email-go_no_go").contains("checked"));
    assert!(
        html.contains(r#"<option value="en" selected"#),
        "English is chosen"
    );

    // None ticked: every e-mail off.
    let (status, _) = call(&t, "save_notification_prefs", Some(&t.owner), "lang=en").await;
    assert_eq!(status, 200);
    let (_, off) = stored(&t, "po@example.org").await;
    assert_eq!(
        off,
        [
            "assignment",
            "staging_gate",
            "go_no_go",
            "go_live",
            "alerts"
        ]
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn only_the_person_or_an_admin_changes_their_choices(pool: PgPool) {
    let t = team(pool).await;
    let owner = user_id(&t, "po@example.org").await;
    let for_owner = format!("lang=en&email_on[]=go_no_go&user_id={owner}");
    for cookie in [&t.engineer, &t.captain, &t.viewer] {
        let (status, body) = call(&t, "save_notification_prefs", Some(cookie), &for_owner).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["code"], "forbidden");
    }
    assert_eq!(stored(&t, "po@example.org").await.0, "de", "unchanged");
    assert!(audit_rows(&t).await.is_empty());

    let (status, body) = call(&t, "save_notification_prefs", Some(&t.admin), &for_owner).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored(&t, "po@example.org").await.0, "en");
    let rows = audit_rows(&t).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "admin@example.org", "the admin is the actor");
    assert_eq!(rows[0].1["user_id"], owner);

    // Signed out: the server function refuses, the page sends to sign-in and back.
    let (status, _) = call(&t, "save_notification_prefs", None, "lang=en").await;
    assert_eq!(status, 401);
    let resp = t.app.get(PREFS_PAGE, None).await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let to = resp.headers()["location"].to_str().unwrap();
    assert_eq!(to, "/login?next=%2Faccount%2Fnotifications");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn unknown_languages_and_groups_are_refused_naming_the_field(pool: PgPool) {
    let t = team(pool).await;
    for (form, field) in [
        ("lang=fr&email_on[]=go_live", "lang"),
        ("email_on[]=go_live", "lang"),
        ("lang=en&email_on[]=weather", "email_on"),
    ] {
        let (status, body) = call(&t, "save_notification_prefs", Some(&t.owner), form).await;
        assert_eq!(status, 422, "{form}: {body}");
        assert_eq!(body["code"], "validation_failed", "{form}: {body}");
        assert_eq!(body["field"], field, "{form}: {body}");
        assert!(body["en"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(body["de"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(
        stored(&t, "po@example.org").await,
        ("de".to_string(), vec![])
    );
    assert!(audit_rows(&t).await.is_empty());
}

/// Puts a row into the outbox as the worker would have left it (never pending, so the
/// worker leaves it alone).
async fn outbox_row(t: &Team, channel: &str, to: i64, state: &str, event: &str, outcome: &str) {
    let (user, hook) = if channel == "email" {
        (Some(to), None)
    } else {
        (None, Some(to))
    };
    let group = event.split('.').next().unwrap();
    let group = if group == "alert" { "alerts" } else { group };
    sqlx::query(
        "INSERT INTO outbox (channel, user_id, webhook_id, event, event_group, payload, state,
                             attempts, outcome, delivered_at)
         VALUES ($1, $2, $3, $4, $5, '{}', $6, 1, NULLIF($7, ''),
                 CASE WHEN $6 = 'delivered' THEN now() END)",
    )
    .bind(channel)
    .bind(user)
    .bind(hook)
    .bind(event)
    .bind(group)
    .bind(state)
    .bind(outcome)
    .execute(&t.app.pool)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_outbox_is_for_admins_and_filters_by_state_and_channel(pool: PgPool) {
    let t = team(pool).await;
    let hook = json!({ "name": "team-chat", "url": "http://127.0.0.1:9/hook", "format": "teams" });
    let hook: Value = t
        .expect(Method::POST, "/api/v1/webhooks", &t.admin, hook, 201)
        .await
        .json()
        .await
        .unwrap();
    let hook_id = hook["id"].as_i64().unwrap();
    let owner = user_id(&t, "po@example.org").await;
    outbox_row(&t, "email", owner, "delivered", "go_live.started", "").await;
    outbox_row(&t, "email", owner, "skipped", "go_no_go.due_soon", "signed").await;
    outbox_row(&t, "webhook", hook_id, "failed", "alert.opened", "HTTP 500").await;

    // Admins only, in the REST API, the server function and the page.
    for cookie in [&t.captain, &t.engineer, &t.viewer] {
        t.expect(Method::GET, "/api/v1/outbox", cookie, json!(null), 403)
            .await;
        let (status, _) = call(&t, "list_outbox", Some(cookie), "").await;
        assert_eq!(status, 403);
        let resp = t.app.get("/admin/outbox", Some(cookie)).await;
        assert_eq!(resp.status(), 403);
        assert!(resp.text().await.unwrap().contains("needs the admin role"));
    }

    let all: Value = t.fetch("/api/v1/outbox", &t.admin).await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3, "{all:?}");
    // Newest first; the recipient is the address or the webhook's name.
    assert_eq!(all[0]["recipient"], "team-chat");
    assert_eq!(all[0]["channel"], "webhook");
    assert_eq!(all[0]["outcome"], "HTTP 500");
    assert_eq!(all[2]["recipient"], "po@example.org");
    assert!(all[2]["delivered_at"].is_string());

    let failed: Value = t.fetch("/api/v1/outbox?state=failed", &t.admin).await;
    assert_eq!(pluck(&failed, "state"), ["failed"]);
    let emails: Value = t.fetch("/api/v1/outbox?channel=email", &t.admin).await;
    assert_eq!(
        pluck(&emails, "event"),
        ["go_no_go.due_soon", "go_live.started"]
    );
    let webhooks: Value = t.fetch("/api/v1/webhooks/deliveries", &t.admin).await;
    assert_eq!(pluck(&webhooks, "recipient"), ["team-chat"]);
    for (query, field) in [("state=lost", "state"), ("channel=pigeon", "channel")] {
        let path = format!("/api/v1/outbox?{query}");
        let resp = t
            .expect(Method::GET, &path, &t.admin, json!(null), 422)
            .await;
        assert_invalid(&resp.json().await.unwrap(), field, &path);
    }

    let (status, skipped) = call(&t, "list_outbox", Some(&t.admin), "state=skipped").await;
    assert_eq!(status, 200, "{skipped}");
    assert_eq!(pluck(&skipped, "outcome"), ["signed"]);

    let html = t.app.page("/admin/outbox?state=failed", &t.admin).await;
    assert!(html.contains("data-testid=\"outbox\""));
    assert_eq!(html.matches("data-testid=\"outbox-row\"").count(), 1);
    assert!(html.contains("data-state=\"failed\""));
    assert!(html.contains("team-chat"));
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn webhooks_take_json_slack_or_teams_and_the_event_groups_they_get(pool: PgPool) {
    let t = team(pool.clone()).await;
    let hooks = "/api/v1/webhooks";
    let url = "http://127.0.0.1:9/hook";
    for (body, field) in [
        (
            json!({ "name": "x", "url": url, "format": "xml" }),
            "format",
        ),
        (
            json!({ "name": "x", "url": url, "events": ["weather"] }),
            "events",
        ),
        (json!({ "name": "x", "url": url, "events": [] }), "events"),
    ] {
        let resp = t
            .expect(Method::POST, hooks, &t.admin, body.clone(), 422)
            .await;
        assert_invalid(&resp.json().await.unwrap(), field, &body);
    }

    let plain: Value = t
        .expect(
            Method::POST,
            hooks,
            &t.admin,
            json!({ "name": "all", "url": url }),
            201,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(plain["format"], "json");
    assert_eq!(
        plain["events"],
        json!(["staging_gate", "go_no_go", "go_live", "alerts"]),
        "everything but assignments by default"
    );
    // Assignments concern one person and go by e-mail only.
    let body = json!({ "name": "teams", "url": url, "format": "teams",
                       "events": ["go_live", "assignment"] });
    t.expect(Method::POST, hooks, &t.admin, body, 422).await;
    let body = json!({ "name": "teams", "url": url, "format": "teams",
                       "events": ["go_live", "alerts", "go_live"] });
    let teams: Value = t
        .expect(Method::POST, hooks, &t.admin, body, 201)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(teams["format"], "teams");
    assert_eq!(teams["events"], json!(["go_live", "alerts"]));
    let listed: Value = t.fetch(hooks, &t.admin).await;
    assert_eq!(listed[1]["events"], json!(["go_live", "alerts"]));

    // Changing the groups later keeps the webhook (and what it was sent); a refusal names
    // the field, and only admins change them.
    let one = format!("{hooks}/{}", teams["id"]);
    let changed: Value = t
        .expect(
            Method::PATCH,
            &one,
            &t.admin,
            json!({ "events": ["go_no_go"] }),
            200,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["events"], json!(["go_no_go"]));
    t.expect(Method::PATCH, &one, &t.admin, json!({ "events": [] }), 422)
        .await;
    t.expect(
        Method::PATCH,
        &one,
        &t.captain,
        json!({ "events": ["alerts"] }),
        403,
    )
    .await;
    let (n,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM audit_log WHERE action = 'webhook.events'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(n, 1);

    // The environments page's form: a box per group, the ticked ones as `events[]`.
    let form = "name=chat&url=http%3A%2F%2F127.0.0.1%3A9%2Fchat&format=teams&events[]=go_no_go";
    let (status, body) = call(&t, "add_webhook", Some(&t.admin), form).await;
    assert_eq!(status, 200, "{body}");
    let listed: Value = t.fetch(hooks, &t.admin).await;
    assert_eq!(listed[2]["events"], json!(["go_no_go"]));
    let form = "name=none&url=http%3A%2F%2F127.0.0.1%3A9%2Fnone&format=slack";
    let (status, body) = call(&t, "add_webhook", Some(&t.admin), form).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["field"], "events");
}
