//! Environment probes against a responder the tests steer: states, percentiles, alerts
//! opening and resolving, webhooks told (and failing for good), nothing late because of
//! a hanging target, the staging gate's health item filled from the probes, "rollback
//! suggested", the public status page, and two `shipgate serve` replicas sharing the work.

use crate::common;
use crate::common::responder::{Mode, Responder};
use crate::common::*;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::future::Future;
use std::time::Duration;

const ENVIRONMENTS: &str = "/api/v1/environments";
const SETTINGS: &str = "/api/v1/monitoring/settings";

struct Ctx {
    app: TestApp,
    admin: String,
}

async fn ctx(pool: PgPool) -> Ctx {
    ctx_with(pool, |_| {}).await
}

/// A Shipgate with adjusted settings and a signed-in admin.
async fn ctx_with(
    pool: PgPool,
    adjust: impl FnOnce(&mut shipgate_server::config::Settings),
) -> Ctx {
    let mut s = common::settings("postgres://unused");
    adjust(&mut s);
    let app = spawn_app_with(pool, s).await;
    app.add_user("admin@example.org", PW, &["admin"]).await;
    Ctx {
        admin: app.session("admin@example.org", PW).await,
        app,
    }
}

impl Ctx {
    /// A request as `cookie`, with a JSON body if there is one.
    fn request(
        &self,
        method: Method,
        path: &str,
        cookie: &str,
        body: Option<Value>,
    ) -> RequestBuilder {
        let r = client()
            .request(method, self.app.url(path))
            .header("cookie", cookie);
        match body {
            Some(b) => r.json(&b),
            None => r,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        cookie: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        self.request(method, path, cookie, body)
            .send()
            .await
            .unwrap()
    }

    /// [`Ctx::call`] asserting the status; a failure names the caller's line.
    #[track_caller]
    fn expect(
        &self,
        method: Method,
        path: &str,
        cookie: &str,
        body: Option<Value>,
        status: u16,
    ) -> impl Future<Output = reqwest::Response> {
        let what = format!("{method} {path} {body:?}");
        send_expecting(self.request(method, path, cookie, body), status, what)
    }

    async fn json(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let resp = self.call(method, path, &self.admin, body).await;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    async fn environment(&self, name: &str, base_url: &str, extra: Value) -> i64 {
        let mut body = json!({ "name": name, "base_url": base_url, "interval_seconds": 1, "timeout_ms": 1000 });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let resp = self
            .call(Method::POST, ENVIRONMENTS, &self.admin, Some(body))
            .await;
        assert_eq!(resp.status(), 201);
        resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    async fn status(&self, id: i64) -> Value {
        self.json(
            Method::GET,
            &format!("/api/v1/environments/{id}/status"),
            None,
        )
        .await
    }

    /// Polls an environment's status until `ok` holds (at most `secs`).
    async fn status_until(&self, id: i64, secs: u64, ok: impl Fn(&Value) -> bool) -> Value {
        let deadline = Deadline::after(secs, "an environment never got there");
        loop {
            let s = self.status(id).await;
            if ok(&s) {
                return s;
            }
            deadline.wait(format!("environment {id}: {s:#}")).await;
        }
    }
}

/// Monitoring settings with the spec's thresholds but for the given ones.
fn settings_body(readiness_503_pct: f64, window_seconds: i32, public: bool) -> Value {
    json!({ "readiness_503_pct": readiness_503_pct, "error_rate_pct": 2.0, "latency_p95_ms": 500,
            "window_seconds": window_seconds, "no_success_seconds": 600,
            "public_status_page": public })
}

fn endpoint<'a>(s: &'a Value, kind: &str) -> &'a Value {
    s["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} endpoint in {s}"))
}

fn open_rules(s: &Value) -> Vec<String> {
    s["open_alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap().to_string())
        .collect()
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn probes_judge_every_kind_of_target_and_alerts_open_and_resolve(pool: PgPool) {
    let c = ctx(pool.clone()).await;
    let r = Responder::start().await;
    // Short windows so that recovery shows within seconds.
    c.json(Method::PUT, SETTINGS, Some(settings_body(0.5, 10, false)))
        .await;
    for (name, format, status) in [
        ("json", "json", 200),
        ("slack", "slack", 200),
        ("broken", "json", 500),
    ] {
        let hook =
            json!({ "name": name, "url": format!("{}/hook/{status}", r.url()), "format": format });
        c.expect(Method::POST, "/api/v1/webhooks", &c.admin, Some(hook), 201)
            .await;
    }
    r.set("bad", Mode::Status(503));
    r.set("slow", Mode::Slow(Duration::from_millis(700)));
    r.set("hang", Mode::Hang);
    r.set("huge", Mode::Huge(20 * 1024 * 1024));
    r.set("trickle", Mode::Trickle);
    r.set("redirect", Mode::Redirect);
    r.set("utf8", Mode::InvalidUtf8);
    r.set(
        "json",
        Mode::Json(json!({ "status": "ok", "db": { "up": true } })),
    );
    let base = |n: &str| format!("{}/{n}", r.url());
    let good = c.environment("good", &base("good"), json!({})).await;
    let bad = c.environment("bad", &base("bad"), json!({})).await;
    let slow = c.environment("slow", &base("slow"), json!({})).await;
    let hang = c.environment("hang", &base("hang"), json!({})).await;
    let huge = c.environment("huge", &base("huge"), json!({})).await;
    let trickle = c.environment("trickle", &base("trickle"), json!({})).await;
    let redirect = c
        .environment("redirect", &base("redirect"), json!({}))
        .await;
    let utf8 = c
        .environment("utf8", &base("utf8"), json!({ "body_contains": "ok" }))
        .await;
    let tls = c
        .environment("tls", &format!("{}/tls", r.tls_url()), json!({}))
        .await;
    let json_env = c
        .environment(
            "json",
            &base("json"),
            json!({ "json_pointer": "/db/up", "json_equals": true }),
        )
        .await;

    let both = |state: &'static str| {
        move |s: &Value| {
            s["endpoints"]
                .as_array()
                .is_some_and(|e| e.len() == 2 && e.iter().all(|p| p["state"] == state))
        }
    };
    let s = c.status_until(good, 20, both("up")).await;
    assert_eq!(s["state"], "up");
    let h = endpoint(&s, "health");
    assert_eq!(h["last_status"], 200);
    assert!(h["p50_ms"].as_i64().is_some() && h["p99_ms"].as_i64() >= h["p50_ms"].as_i64());
    assert!(h["last_checked_at"].is_string());
    assert_eq!(h["url"], format!("{}/good/health", r.url()));

    let s = c
        .status_until(bad, 20, |s| {
            both("down")(s) && open_rules(s).contains(&"readiness_503_rate".to_string())
        })
        .await;
    assert_eq!(s["state"], "down");
    assert!(open_rules(&s).contains(&"error_rate".to_string()), "{s}");
    assert!(s["open_alerts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["severity"] == "p1"));
    assert_eq!(endpoint(&s, "readiness")["rate_503_pct"], 100.0);

    // Slow but answering: degraded by the latency rule, p95 above 500 ms.
    let s = c
        .status_until(slow, 20, |s| {
            open_rules(s).iter().filter(|r| *r == "latency_p95").count() == 2
        })
        .await;
    assert_eq!(s["state"], "degraded", "{s}");
    for kind in ["health", "readiness"] {
        assert!(endpoint(&s, kind)["p95_ms"].as_i64().unwrap() >= 700, "{s}");
    }

    for (id, words) in [
        (hang, "no complete answer within 1000 ms"),
        (trickle, "no complete answer within 1000 ms"),
        (
            redirect,
            "redirect (302) to https://elsewhere.example/health",
        ),
        (utf8, "not valid UTF-8"),
        (tls, "certificate"),
    ] {
        let s = c.status_until(id, 20, both("down")).await;
        let err = endpoint(&s, "health")["last_error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            err.contains(words),
            "environment {id}: {err:?} lacks {words:?}"
        );
    }
    // A huge body is read no further than the cap; the JSON assertion holds.
    c.status_until(huge, 20, both("up")).await;
    c.status_until(json_env, 20, both("up")).await;

    // The webhooks heard of the opened alerts, in both shapes; the broken one failed for good.
    let hooks = r.hooks();
    assert!(hooks.iter().any(|h| h["event"] == "alert.opened"
        && h["alert"]["rule"] == "readiness_503_rate"
        && h["alert"]["environment"] == "bad"));
    assert!(hooks.iter().any(|h| h["text"]
        .as_str()
        .is_some_and(|t| t.contains("P1") && t.contains("bad /readiness"))));
    let deadline = Deadline::after(20, "no failed delivery");
    loop {
        let failed = c
            .json(
                Method::GET,
                "/api/v1/webhooks/deliveries?state=failed",
                None,
            )
            .await;
        if let Some(d) = failed.as_array().unwrap().first() {
            assert_eq!(d["channel"], "webhook");
            assert_eq!(d["recipient"], "broken");
            assert_eq!(d["event_group"], "alerts");
            assert_eq!(d["attempts"], 6);
            assert!(d["outcome"].as_str().unwrap().contains("500"), "{d}");
            break;
        }
        deadline.wait(failed).await;
    }

    // Recovery: the 503s leave the 10 s window and the alerts resolve, with timestamps.
    r.set("bad", Mode::Status(200));
    let s = c
        .status_until(bad, 30, |s| both("up")(s) && open_rules(s).is_empty())
        .await;
    assert_eq!(s["state"], "up");
    let resolved = c
        .json(Method::GET, "/api/v1/alerts?state=resolved", None)
        .await;
    let a = resolved
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["environment"] == "bad" && a["rule"] == "readiness_503_rate")
        .expect("the 503 alert resolved");
    assert!(a["resolved_at"].as_str().unwrap() > a["opened_at"].as_str().unwrap());
    assert_eq!(a["state"], "resolved");
    let open = c.json(Method::GET, "/api/v1/alerts?state=open", None).await;
    assert!(open
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["environment"] != "bad"));
    // The resolve is delivered within a polling round or two.
    let deadline = Deadline::after(10, "no webhook heard of the resolve");
    while !r
        .hooks()
        .iter()
        .any(|h| h["event"] == "alert.resolved" && h["alert"]["environment"] == "bad")
    {
        deadline.wait(format!("{:?}", r.hooks())).await;
    }
    // No probe waited for the hanging or trickling ones: every result of the healthy
    // environment started close to its schedule, about once a second.
    let lags: Vec<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM started_at - scheduled_at)::float8 FROM probe_results r
         JOIN probe_endpoints p ON p.id = r.endpoint_id WHERE p.environment_id = $1",
    )
    .bind(good)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(lags.len() >= 6, "{lags:?}");
    assert!(lags.iter().all(|l| *l < 0.5), "late probes: {lags:?}");

    let maybe = "/api/v1/alerts?state=maybe";
    let bogus = c.expect(Method::GET, maybe, &c.admin, None, 422).await;
    assert_eq!(error_code(bogus).await, "validation_failed");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn environments_are_for_admins_to_change_and_secrets_stay_secret(pool: PgPool) {
    let c = ctx(pool.clone()).await;
    c.app.add_user("eng@example.org", PW, &["engineer"]).await;
    c.app.add_user("viewer@example.org", PW, &["viewer"]).await;
    let eng = c.app.session("eng@example.org", PW).await;
    let viewer = c.app.session("viewer@example.org", PW).await;
    let r = Responder::start().await;
    let body = json!({ "name": "prod", "base_url": format!("{}/prod", r.url()), "interval_seconds": 1, "timeout_ms": 500,
                       "headers": [{ "name": "Authorization", "value": "Bearer s3cr3t-token", "secret": true },
                                   { "name": "X-Team", "value": "core", "secret": false }] });
    for who in [&eng, &viewer] {
        c.expect(Method::POST, ENVIRONMENTS, who, Some(body.clone()), 403)
            .await;
    }
    let resp = c
        .expect(Method::POST, ENVIRONMENTS, &c.admin, Some(body), 201)
        .await;
    let env: Value = resp.json().await.unwrap();
    assert_eq!(env["interval_seconds"], 1);
    let defaults = json!({ "name": "defaults", "base_url": "http://127.0.0.1:9" });
    let defaults: Value = c
        .call(Method::POST, ENVIRONMENTS, &c.admin, Some(defaults))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(defaults["interval_seconds"], 15);
    assert_eq!(defaults["timeout_ms"], 2000);
    assert_eq!(defaults["expected_status"], 200);
    assert_eq!(defaults["health_path"], "/health");
    assert_eq!(defaults["readiness_path"], "/readiness");
    let id = env["id"].as_i64().unwrap();
    // Everyone signed in reads; nobody sees the secret again, not even in the audit trail.
    let listed = c
        .expect(Method::GET, ENVIRONMENTS, &viewer, None, 200)
        .await;
    let text = listed.text().await.unwrap();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(text.contains("core"));
    let audit: Vec<String> =
        sqlx::query_scalar("SELECT coalesce(new_value::text, '') FROM audit_log")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(audit.iter().all(|a| !a.contains("s3cr3t")));
    // An edit that leaves the secret out keeps it; the probe still sends it.
    let env_path = format!("/api/v1/environments/{id}");
    let patch =
        json!({ "timeout_ms": 400, "headers": [{ "name": "Authorization", "secret": true }] });
    c.expect(Method::PATCH, &env_path, &c.admin, Some(patch), 200)
        .await;
    let stored: Value = sqlx::query_scalar("SELECT headers FROM environments WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored[0]["value"], "Bearer s3cr3t-token");
    // The probes send it.
    let deadline = Deadline::after(10, "the probe never sent the secret header");
    while r.header("prod/health", "authorization").as_deref() != Some("Bearer s3cr3t-token") {
        deadline
            .wait(format!("{} probes", r.hits("prod/health").len()))
            .await;
    }
    // The edit replaced the header list: once a readiness probe carries the kept secret,
    // the plain header the edit left out must be gone from it. (Waiting for the secret
    // first: a readiness probe may not have been sent yet at all.)
    let deadline = Deadline::after(10, "the readiness probe never sent the edited header list");
    loop {
        let secret = r.header("prod/readiness", "authorization");
        let team = r.header("prod/readiness", "x-team");
        if secret.as_deref() == Some("Bearer s3cr3t-token") && team.is_none() {
            break;
        }
        let last = format!("authorization {secret:?}, x-team {team:?}");
        deadline.wait(last).await;
    }
    // Naming a secret as plain without giving its value keeps it secret: no reveal.
    let plain = json!({ "headers": [{ "name": "Authorization", "secret": false }] });
    let reveal = c
        .expect(Method::PATCH, &env_path, &c.admin, Some(plain), 200)
        .await;
    let shown: Value = reveal.json().await.unwrap();
    assert_eq!(shown["headers"][0]["secret"], true, "{shown}");
    assert!(shown["headers"][0]["value"].is_null(), "{shown}");
    let status_path = format!("{env_path}/status");
    let everywhere = [
        c.app.get_text(&env_path, Some(&viewer)).await,
        c.app.get_text("/api/v1/status", Some(&viewer)).await,
        c.app.get_text(&status_path, Some(&viewer)).await,
        c.app.get_text("/environments", Some(&c.admin)).await,
    ];
    assert!(everywhere.iter().all(|t| !t.contains("s3cr3t")));
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT coalesce(old_value::text, '') || coalesce(new_value::text, '') FROM audit_log",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(audit.len() >= 3 && audit.iter().all(|a| !a.contains("s3cr3t")));
    for (body, field) in [
        (json!({ "name": "x", "base_url": "ftp://nope" }), "base_url"),
        (
            json!({ "name": "x", "base_url": "http://a", "interval_seconds": 0 }),
            "interval_seconds",
        ),
        (json!({ "base_url": "http://a" }), "name"),
        (
            json!({ "name": "x", "base_url": "http://a", "headers": [{ "name": "X", "value": "a\r\nb: c" }] }),
            "headers",
        ),
    ] {
        let resp = c
            .expect(Method::POST, ENVIRONMENTS, &c.admin, Some(body), 422)
            .await;
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["field"], field, "{v}");
    }
    for (body, status) in [
        (json!({ "name": "PROD", "base_url": "http://a" }), 409),
        (
            json!({ "name": "y", "base_url": "http://a", "colour": "red" }),
            422,
        ),
    ] {
        c.expect(Method::POST, ENVIRONMENTS, &c.admin, Some(body), status)
            .await;
    }
    // Settings and webhooks: admins only.
    let all_public = settings_body(1.0, 300, true);
    c.expect(Method::PUT, SETTINGS, &eng, Some(all_public), 403)
        .await;
    for (method, path, cookie) in [
        (Method::GET, "/api/v1/webhooks", &eng),
        (Method::GET, "/api/v1/webhooks/deliveries", &viewer),
        (Method::DELETE, env_path.as_str(), &eng),
    ] {
        c.expect(method, path, cookie, None, 403).await;
    }
    // Signed out: nothing but the public status page, and only when switched on.
    for (path, status) in [
        ("/api/v1/environments", 401),
        ("/api/v1/status", 401),
        ("/api/v1/public/status", 404),
        ("/status/public", 404),
    ] {
        let got = client().get(c.app.url(path)).send().await.unwrap().status();
        assert_eq!(got, status, "signed out: {path}");
    }
    c.json(Method::PUT, SETTINGS, Some(settings_body(0.5, 300, true)))
        .await;
    for path in ["/api/v1/public/status", "/status/public"] {
        let got = client().get(c.app.url(path)).send().await.unwrap().status();
        assert_eq!(got, 200, "signed out, switched on: {path}");
    }
    let bad = settings_body(150.0, 300, true);
    c.expect(Method::PUT, SETTINGS, &c.admin, Some(bad), 422)
        .await;
    c.expect(Method::DELETE, &env_path, &c.admin, None, 204)
        .await;
    c.expect(Method::GET, &env_path, &c.admin, None, 404).await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_staging_health_item_is_filled_from_the_probes_and_p1_suggests_rollback(pool: PgPool) {
    let sink = common::smtp::SmtpSink::start(None, 0);
    let clock = common::TestClock::default();
    let c = ctx_with(pool.clone(), |s| {
        s.notify = common::settings_with_mail(&sink.url(), &clock).notify;
    })
    .await;
    c.app
        .add_user("rc@example.org", PW, &["release_captain"])
        .await;
    c.app.add_user("viewer@example.org", PW, &["viewer"]).await;
    let rc = c.app.session("rc@example.org", PW).await;
    let viewer = c.app.session("viewer@example.org", PW).await;
    let r = Responder::start().await;
    let staging = c
        .environment("staging", &format!("{}/staging", r.url()), json!({}))
        .await;
    let prod = c
        .environment("prod", &format!("{}/prod", r.url()), json!({}))
        .await;
    let start = chrono::Utc::now() + chrono::Duration::hours(30);
    let release: Value = c
        .call(
            Method::POST,
            "/api/v1/releases",
            &rc,
            Some(
                json!({ "title": "Probe release", "version": "3.1.0", "environment": "prod",
                         "window_start": start, "window_end": start + chrono::Duration::hours(2),
                         "release_captain": "rc@example.org", "on_call": "viewer@example.org" }),
            ),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = release["id"].as_i64().unwrap();
    let checklist = format!("/api/v1/releases/{id}/checklist");
    let snap_path = format!("{checklist}/staging_health/probe-snapshot");
    c.expect(Method::POST, &snap_path, &viewer, None, 403).await;
    let other = format!("{checklist}/smoke_app_start/probe-snapshot");
    c.expect(Method::POST, &other, &rc, None, 422).await;

    c.status_until(staging, 20, |s| s["state"] == "up").await;
    let resp = c.expect(Method::POST, &snap_path, &rc, None, 200).await;
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["passed"], true, "{v}");
    assert_eq!(v["item"]["state"], "passed");
    let ev = v["evidence"]["id"].as_i64().unwrap();
    let doc: Value = c
        .app
        .get_json(&format!("/api/v1/evidence/{ev}"), Some(&rc))
        .await;
    assert_eq!(doc["verdict"], "passed");
    assert_eq!(doc["environment"]["name"], "staging");
    assert!(doc["taken_at"].is_string());
    assert!(
        doc["recent_results"]["health"][0]["at"].is_string(),
        "{doc}"
    );

    // Probed staging: the item does not pass by hand.
    let health = format!("{checklist}/staging_health");
    let open = json!({ "state": "open" });
    c.expect(Method::PATCH, &health, &rc, Some(open), 200).await;
    let passed = json!({ "state": "passed", "link": "https://logs.example/health" });
    let by_hand = c
        .expect(Method::PATCH, &health, &rc, Some(passed), 422)
        .await;
    assert_eq!(error_code(by_hand).await, "validation_failed");
    let snapshot = || async {
        let resp = c.call(Method::POST, &snap_path, &rc, None).await;
        resp.json::<Value>().await.unwrap()
    };
    let again = snapshot().await;
    assert_eq!(again["item"]["state"], "passed", "{again}");

    // Staging goes down: the probes check the passed item again by themselves and fail it.
    r.set("staging", Mode::Status(503));
    c.status_until(staging, 20, |s| s["state"] == "down").await;
    let deadline = Deadline::after(20, "the item was not checked again");
    loop {
        let list: Value = c.app.get_json(&checklist, Some(&rc)).await;
        let item = list
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["key"] == "staging_health")
            .cloned()
            .unwrap();
        if item["state"] == "failed" {
            assert!(item["note"].as_str().unwrap().contains("staging"), "{item}");
            break;
        }
        deadline.wait(item).await;
    }
    let audit = format!("/api/v1/releases/{id}/audit");
    let trail: Value = c.app.get_json(&audit, Some(&rc)).await;
    assert!(trail.to_string().contains("shipgate probes"), "{trail}");
    let v = snapshot().await;
    assert_eq!(v["passed"], false, "{v}");
    assert_eq!(v["item"]["state"], "failed");
    assert!(
        v["item"]["note"]
            .as_str()
            .unwrap()
            .contains("(status 503, expected 200)"),
        "{v}"
    );

    // A release going live into prod while prod has an open P1: rollback suggested,
    // on the status view, the release list and the release page.
    force_phase(&pool, id, "go_live").await;
    r.set("prod", Mode::Status(500));
    c.status_until(prod, 20, |s| {
        open_rules(s).contains(&"error_rate".to_string())
    })
    .await;
    let deadline = Deadline::after(20, "rollback never suggested");
    loop {
        let status = c.json(Method::GET, "/api/v1/status", None).await;
        let line = status["releases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .cloned();
        if line
            .as_ref()
            .is_some_and(|l| l["rollback_suggested"] == true)
        {
            break;
        }
        deadline.wait(status).await;
    }
    let api: Value = c
        .app
        .get_json(&format!("/api/v1/releases/{id}"), Some(&rc))
        .await;
    assert!(
        api["rollback_suggested"]["because"]
            .as_str()
            .unwrap()
            .contains("prod"),
        "{api}"
    );
    // The captain and the on-call person named on the release hear of it by e-mail.
    for who in ["rc@example.org", "viewer@example.org"] {
        let m = sink
            .wait_for(who, "P1 während des Go-Live: Probe release 3.1.0")
            .await;
        assert!(m.text.contains("prod"), "{}", m.text);
    }
    // The mark stays when the alert resolves: it is part of the release's story.
    r.set("prod", Mode::Status(200));
    let page = c.app.get_text(&format!("/releases/{id}"), Some(&rc)).await;
    assert!(
        page.contains("data-testid=\"rollback-suggested\""),
        "release page lacks the mark"
    );
    let list = c.app.get_text("/releases", Some(&rc)).await;
    assert!(
        list.contains("data-testid=\"rollback-suggested\""),
        "release list lacks the mark"
    );
}

/// Starts `shipgate serve` as its own process on the test's database.
fn replica(db: &str, name: &str) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .arg("serve")
        .env("DATABASE_URL", db)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("REPLICA_NAME", name)
        .env("PROBE_EVALUATE_MS", "500")
        .env("FILE_STORAGE_DIR", scratch_dir("replica"))
        .env("LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("shipgate serve starts")
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn two_replicas_probe_each_endpoint_once_per_interval_and_one_takes_over(pool: PgPool) {
    use app::services::environments::{self, EnvironmentInput};
    let r = Responder::start().await;
    for i in 0..10 {
        environments::create(
            &pool,
            &app::services::Actor::Cli,
            EnvironmentInput {
                name: Some(format!("env{i}")),
                base_url: Some(format!("{}/env{i}", r.url())),
                interval_seconds: Some(1),
                timeout_ms: Some(500),
                ..Default::default()
            },
            app::domain::monitoring::TargetPolicy::default(),
        )
        .await
        .unwrap();
    }
    let db = database_url(&pool).await;
    let mut a = replica(&db, "replica-a");
    let mut b = replica(&db, "replica-b");
    tokio::time::sleep(Duration::from_secs(8)).await;

    // Never twice in one interval: per endpoint, consecutive schedules a second apart,
    // and the target saw exactly as many requests as were recorded.
    let rows: Vec<(i64, chrono::DateTime<chrono::Utc>, String)> = sqlx::query_as(
        "SELECT endpoint_id, scheduled_at, replica FROM probe_results ORDER BY endpoint_id, scheduled_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(rows.len() >= 20 * 5, "too few probes: {}", rows.len());
    for w in rows.windows(2) {
        if w[0].0 == w[1].0 {
            let gap = (w[1].1 - w[0].1).num_milliseconds();
            assert!(
                gap >= 950,
                "endpoint {} probed twice within {gap} ms",
                w[0].0
            );
        }
    }
    let replicas: std::collections::HashSet<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(
        replicas.len(),
        2,
        "both replicas share the work: {replicas:?}"
    );
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM probe_results r JOIN probe_endpoints p ON p.id = r.endpoint_id
         JOIN environments e ON e.id = p.environment_id WHERE e.name = 'env3' AND p.kind = 'health'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let hits = r.hits("env3/health").len() as i64;
    assert!(
        (hits - recorded).abs() <= 1,
        "{hits} requests, {recorded} recorded"
    );

    // Replica A dies; B probes everything within two intervals.
    a.kill().unwrap();
    a.wait().unwrap();
    let killed: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()")
        .fetch_one(&pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let late: Vec<(i64, Option<f64>)> = sqlx::query_as(
        "SELECT p.id, extract(epoch FROM min(r.started_at) - $1)::float8
         FROM probe_endpoints p LEFT JOIN probe_results r
              ON r.endpoint_id = p.id AND r.started_at > $1 AND r.replica = 'replica-b'
         GROUP BY p.id",
    )
    .bind(killed)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(late.len(), 20);
    for (endpoint, after) in late {
        let after =
            after.unwrap_or_else(|| panic!("endpoint {endpoint} never probed after the kill"));
        assert!(
            after <= 2.5,
            "endpoint {endpoint} waited {after:.2} s for the survivor"
        );
    }
    b.kill().unwrap();
    b.wait().unwrap();
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn probe_errors_quote_at_most_200_characters_of_an_answer(pool: PgPool) {
    let c = ctx(pool.clone()).await;
    let viewer = c.app.signed_in("viewer@example.org", &["viewer"]).await;
    let r = Responder::start().await;
    // About 50 KB: under the body cap, so the whole document is parsed and compared.
    r.set("big", Mode::Json(json!({ "secret": "Z".repeat(50_000) })));
    let id = c
        .environment(
            "big",
            &format!("{}/big", r.url()),
            json!({ "json_pointer": "", "json_equals": "ok" }),
        )
        .await;
    let s = c
        .status_until(id, 20, |s| {
            ["health", "readiness"]
                .iter()
                .all(|k| endpoint(s, k)["last_error"].is_string())
        })
        .await;
    for kind in ["health", "readiness"] {
        let err = endpoint(&s, kind)["last_error"].as_str().unwrap();
        assert!(err.contains("expected \"ok\""), "{err}");
        assert!(
            err.matches('Z').count() <= 200,
            "{kind}: {} chars",
            err.len()
        );
        assert!(err.chars().count() < 300, "{kind}: {} chars", err.len());
    }
    // Nowhere else either: not for a viewer, not in the stored results.
    let seen = c.app.get_text("/api/v1/status", Some(&viewer)).await;
    assert!(!seen.contains(&"Z".repeat(201)));
    let longest: Option<i32> = sqlx::query_scalar("SELECT max(length(error)) FROM probe_results")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(longest.is_some_and(|n| n < 300), "{longest:?}");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn link_local_targets_are_refused_unless_an_operator_allows_them(pool: PgPool) {
    let c = ctx(pool.clone()).await;
    for url in [
        "http://169.254.169.254",
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]:8080",
        "http://[fd00:ec2::254]",
        "http://[::ffff:169.254.169.254]",
        "http://2852039166",
    ] {
        let metadata = json!({ "name": "metadata", "base_url": url });
        let resp = c
            .expect(Method::POST, ENVIRONMENTS, &c.admin, Some(metadata), 422)
            .await;
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error"]["field"], "base_url", "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("PROBE_ALLOW_LINK_LOCAL"),
            "{v}"
        );
    }
    let r = Responder::start().await;
    let id = c
        .environment("fine", &format!("{}/fine", r.url()), json!({}))
        .await;
    let env_path = format!("/api/v1/environments/{id}");
    let moved = json!({ "base_url": "http://169.254.169.254" });
    c.expect(Method::PATCH, &env_path, &c.admin, Some(moved), 422)
        .await;
    // A target already stored (saved while allowed, say) is refused when probed, at once
    // and with a short reason.
    sqlx::query("UPDATE environments SET base_url = 'http://169.254.169.254' WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let s = c
        .status_until(id, 20, |s| {
            endpoint(s, "health")["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("link-local"))
        })
        .await;
    let h = endpoint(&s, "health");
    assert!(h["last_status"].is_null(), "{h}");
    assert!(h["last_error"].as_str().unwrap().len() < 200, "{h}");

    // An operator who switched it on may register such a target (a second instance on the
    // same database, probing left to the first).
    let mut settings = common::settings("postgres://unused");
    settings.probes.allow_link_local = true;
    settings.probes.enabled = false;
    let allowed = spawn_app_with(pool.clone(), settings).await;
    let admin = allowed.session("admin@example.org", PW).await;
    let metadata =
        json!({ "name": "metadata", "base_url": "http://169.254.169.254", "enabled": false });
    let resp = allowed
        .send_json(Method::POST, ENVIRONMENTS, &admin, metadata)
        .await;
    assert_eq!(resp.status(), 201);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn moving_an_environment_to_another_host_drops_its_secret_headers(pool: PgPool) {
    let c = ctx(pool.clone()).await;
    let r = Responder::start().await;
    let port = r.addr.unwrap().port();
    let id = c
        .environment(
            "prod",
            &format!("http://localhost:{port}/prod"),
            json!({ "headers": [{ "name": "Authorization", "value": "Bearer s3cr3t", "secret": true },
                                { "name": "X-Team", "value": "core", "secret": false }] }),
        )
        .await;
    let path = format!("/api/v1/environments/{id}");
    let stored = move |pool: PgPool| async move {
        let headers: Value = sqlx::query_scalar("SELECT headers FROM environments WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        headers
    };
    let patch = |body: Value| c.json(Method::PATCH, &path, Some(body));
    // Same host, another path: the secret stays.
    let same = patch(json!({ "base_url": format!("http://localhost:{port}/prod2") })).await;
    assert!(same.get("dropped_secret_headers").is_none(), "{same}");
    assert!(stored(pool.clone()).await.to_string().contains("s3cr3t"));

    // Another host: the secret goes, the plain header stays, and the answer and the audit
    // trail say so.
    let moved = patch(json!({ "base_url": format!("http://127.0.0.1:{port}/moved") })).await;
    assert_eq!(
        moved["dropped_secret_headers"],
        json!(["Authorization"]),
        "{moved}"
    );
    let names = pluck(&moved["headers"], "name");
    assert_eq!(names, ["X-Team"]);
    assert!(!stored(pool.clone()).await.to_string().contains("s3cr3t"));
    let audit: Value = sqlx::query_scalar(
        "SELECT new_value FROM audit_log WHERE action = 'environment.update' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        audit["dropped_secret_headers"],
        json!(["Authorization"]),
        "{audit}"
    );
    // The new host never gets the secret.
    let deadline = Deadline::after(10, "the moved environment was not probed");
    while r.hits("moved/health").is_empty() {
        deadline.wait("no probe yet").await;
    }
    assert_eq!(r.header("moved/health", "authorization"), None);
    assert_eq!(r.header("moved/health", "x-team").as_deref(), Some("core"));

    // Entered again in the same change, it stays; named without a value, it does not.
    let again = patch(json!({ "base_url": format!("http://localhost:{port}/back"),
                              "headers": [{ "name": "Authorization", "value": "Bearer n3w", "secret": true }] }))
    .await;
    assert!(again.get("dropped_secret_headers").is_none(), "{again}");
    assert!(stored(pool.clone()).await.to_string().contains("n3w"));
    let blank = patch(
        json!({ "base_url": format!("http://127.0.0.1:{port}/again"),
                              "headers": [{ "name": "Authorization", "secret": true }] }),
    )
    .await;
    assert_eq!(blank["dropped_secret_headers"], json!(["Authorization"]));
    assert_eq!(blank["headers"], json!([]));
}

/// Opens the status stream with one header (a cookie or a bearer token).
async fn status_stream(c: &Ctx, name: &str, value: &str) -> reqwest::Response {
    client()
        .get(c.app.url("/api/v1/status/stream"))
        .header(name, value)
        .send()
        .await
        .unwrap()
}

/// Whether a stream ends (or breaks off) within `within`.
async fn ends_within(resp: &mut reqwest::Response, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        while let Ok(Some(_)) = resp.chunk().await {}
    })
    .await
    .is_ok()
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_status_stream_ends_with_its_session_or_token(pool: PgPool) {
    let c = ctx_with(pool.clone(), |s| {
        s.probes.status_stream_recheck = Duration::from_millis(300)
    })
    .await;
    let leaving = c.app.session("admin@example.org", PW).await;
    let mut stream = status_stream(&c, "cookie", &leaving).await;
    assert_eq!(stream.status(), 200);
    assert!(
        stream.chunk().await.unwrap().is_some(),
        "the first snapshot"
    );
    let mut staying = status_stream(&c, "cookie", &c.admin).await;
    assert_eq!(staying.status(), 200);

    let out = c
        .app
        .call(Method::DELETE, "/api/v1/session", &leaving)
        .await;
    assert_eq!(out.status(), 204);
    assert!(
        ends_within(&mut stream, Duration::from_secs(5)).await,
        "the stream outlived its session"
    );
    // A stream whose session is still good goes on through its rechecks.
    assert!(!ends_within(&mut staying, Duration::from_millis(1500)).await);

    let token = c.app.issue_token("admin@example.org").await;
    let mut by_token = status_stream(&c, "authorization", &format!("Bearer {token}")).await;
    assert_eq!(by_token.status(), 200);
    let token_id = query_i64(&pool, "SELECT max(id) FROM api_tokens").await;
    let token = format!("/api/v1/tokens/{token_id}");
    c.expect(Method::DELETE, &token, &c.admin, None, 204).await;
    assert!(
        ends_within(&mut by_token, Duration::from_secs(5)).await,
        "the stream outlived its token"
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_user_holds_at_most_five_status_streams(pool: PgPool) {
    let c = ctx(pool).await;
    let mut open = Vec::new();
    for _ in 0..5 {
        let s = status_stream(&c, "cookie", &c.admin).await;
        assert_eq!(s.status(), 200);
        open.push(s);
    }
    let sixth = status_stream(&c, "cookie", &c.admin).await;
    assert_eq!(sixth.status(), 429);
    assert_eq!(error_code(sixth).await, "too_many_requests");
    // The cap is per user.
    let viewer = c.app.signed_in("viewer@example.org", &["viewer"]).await;
    assert_eq!(status_stream(&c, "cookie", &viewer).await.status(), 200);
    // A stream closed by its viewer frees its place.
    drop(open.pop());
    let deadline = Deadline::after(10, "the closed stream kept its place");
    loop {
        let again = status_stream(&c, "cookie", &c.admin).await;
        if again.status() == 200 {
            break;
        }
        assert_eq!(again.status(), 429);
        deadline.wait(again.status()).await;
    }
}
