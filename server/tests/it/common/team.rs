//! A team of one person per role and a release driven through its phases over the API.
#![allow(dead_code)]

use super::*;
use chrono::{Duration, Utc};
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::future::Future;

pub struct Team {
    pub app: TestApp,
    pub admin: String,
    pub captain: String,
    pub owner: String,
    pub engineer: String,
    pub viewer: String,
    pub captain_token: String,
}

pub async fn team(pool: PgPool) -> Team {
    team_with(pool, settings("postgres://unused")).await
}

/// The team, on a Shipgate run with `settings`.
pub async fn team_with(pool: PgPool, settings: Settings) -> Team {
    let app = spawn_app_with(pool, settings).await;
    app.add_user("admin@example.org", PW, &["admin"]).await;
    app.add_user("rc@example.org", PW, &["release_captain"])
        .await;
    app.add_user("po@example.org", PW, &["product_owner"]).await;
    app.add_user("eng@example.org", PW, &["engineer"]).await;
    app.add_user("viewer@example.org", PW, &["viewer"]).await;
    Team {
        admin: app.session("admin@example.org", PW).await,
        captain: app.session("rc@example.org", PW).await,
        owner: app.session("po@example.org", PW).await,
        engineer: app.session("eng@example.org", PW).await,
        viewer: app.session("viewer@example.org", PW).await,
        captain_token: app.issue_token("rc@example.org").await,
        app,
    }
}

impl Team {
    pub fn req(&self, method: Method, path: &str, cookie: Option<&str>) -> RequestBuilder {
        let mut r = client().request(method, self.app.url(path));
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        r
    }

    /// A request as `cookie`, with `body` as JSON unless it is a GET.
    fn request(&self, method: Method, path: &str, cookie: &str, body: Value) -> RequestBuilder {
        let r = self.req(method.clone(), path, Some(cookie));
        if method == Method::GET {
            r
        } else {
            r.json(&body)
        }
    }

    pub async fn send(&self, method: Method, path: &str, cookie: &str, body: Value) -> Response {
        self.request(method, path, cookie, body)
            .send()
            .await
            .unwrap()
    }

    /// [`Team::send`] asserting the status; a failure names the caller's line, the request
    /// and who sent it.
    #[track_caller]
    pub fn expect(
        &self,
        method: Method,
        path: &str,
        cookie: &str,
        body: Value,
        status: u16,
    ) -> impl Future<Output = Response> {
        let what = format!("{method} {path} {body} as {}", self.who(cookie));
        let req = self.request(method, path, cookie, body);
        send_expecting(req, status, what)
    }

    /// Which member of the team a session cookie belongs to, for failure messages.
    fn who(&self, cookie: &str) -> &'static str {
        [
            (&self.admin, "admin"),
            (&self.captain, "captain"),
            (&self.owner, "owner"),
            (&self.engineer, "engineer"),
            (&self.viewer, "viewer"),
        ]
        .into_iter()
        .find(|(c, _)| c.as_str() == cookie)
        .map_or("someone else", |(_, who)| who)
    }

    /// `GET path` as `cookie`: the body as JSON, whatever the status.
    pub async fn fetch<T: DeserializeOwned>(&self, path: &str, cookie: &str) -> T {
        self.send(Method::GET, path, cookie, json!(null))
            .await
            .json()
            .await
            .unwrap()
    }

    /// The release as the viewer reads it.
    pub async fn release(&self, id: i64) -> Value {
        self.fetch(&format!("/api/v1/releases/{id}"), &self.viewer)
            .await
    }

    /// The release's checklist as the viewer reads it.
    pub async fn checklist(&self, id: i64) -> Vec<Value> {
        self.fetch(&format!("/api/v1/releases/{id}/checklist"), &self.viewer)
            .await
    }

    /// One item of the release's checklist, as the viewer reads it.
    pub async fn item(&self, id: i64, key: &str) -> Value {
        let items = self.checklist(id).await;
        let found = items.into_iter().find(|i| i["key"] == key);
        found.unwrap_or_else(|| panic!("no checklist item {key}"))
    }

    /// `cookie` signs the release as `role` with `decision` (see [`sign_body`]) and gets
    /// `status`; a failure names the caller's line.
    #[track_caller]
    pub fn sign(
        &self,
        id: i64,
        cookie: &str,
        role: &str,
        decision: &str,
        status: u16,
    ) -> impl Future<Output = Response> {
        let path = format!("/api/v1/releases/{id}/sign-offs");
        let what = format!("{role} signs {decision} as {}", self.who(cookie));
        let req = self.request(Method::POST, &path, cookie, sign_body(role, decision));
        send_expecting(req, status, what)
    }

    pub async fn create(&self) -> Value {
        self.create_with(json!({})).await
    }

    /// A release with `extra` fields over the defaults (a window 30 h away, canary).
    pub async fn create_with(&self, extra: Value) -> Value {
        let start = Utc::now() + Duration::hours(30);
        let body = with(
            json!({
                "title": "Spring release",
                "version": "2.4.0",
                "environment": "prod",
                "window_start": start,
                "window_end": start + Duration::hours(2),
                "strategy": "canary",
                "release_captain": "rc@example.org",
                "product_owner": "po@example.org",
                "links": { "rollback_plan": "https://wiki.example/rollback", "down_migration": "https://git.example/down" }
            }),
            extra,
        );
        let resp = self
            .app
            .post_bearer("/api/v1/releases", &self.captain_token, body)
            .await;
        assert_eq!(resp.status(), 201);
        resp.json().await.unwrap()
    }
}

pub async fn settle_staging(t: &Team, id: i64) {
    // CI reports the staging deployment: that fills the deployment item.
    let report = json!({ "environment": "staging", "artifact_version": "2.4.0-rc1", "commit_sha": "abc1234", "ci_run_url": "https://ci.example/run/1" });
    let path = format!("/api/v1/releases/{id}/deployments");
    let resp = t.app.post_bearer(&path, &t.captain_token, report).await;
    assert_eq!(resp.status(), 201);
    let filled: Value = resp.json().await.unwrap();
    assert_eq!(filled["checklist_item"]["state"], "passed");
    assert_eq!(filled["checklist_item"]["note"], "2.4.0-rc1 @ abc1234");

    let checklist = format!("/api/v1/releases/{id}/checklist");
    let items: Vec<Value> = t.fetch(&checklist, &t.engineer).await;
    for item in items
        .iter()
        .filter(|i| i["kind"] == "staging_gate" && i["state"] != "passed")
    {
        let key = item["key"].as_str().unwrap();
        let link = format!("https://logs.example/{key}");
        pass_item(t, id, key, item["evidence_required"] == true, &link).await;
    }
}

/// An engineer passes an item with a link as its proof; one that requires evidence is
/// first refused without it.
pub async fn pass_item(t: &Team, id: i64, key: &str, evidence_required: bool, link: &str) {
    let path = format!("/api/v1/releases/{id}/checklist/{key}");
    if evidence_required {
        let no_proof = json!({ "state": "passed" });
        let resp = t.send(Method::PATCH, &path, &t.engineer, no_proof).await;
        assert_eq!(resp.status(), 422, "{key} cannot pass without evidence");
    }
    let proof = json!({ "state": "passed", "link": link });
    let resp = t.send(Method::PATCH, &path, &t.engineer, proof).await;
    assert_eq!(resp.status(), 200, "{key}");
}

pub async fn to_go_no_go(t: &Team) -> i64 {
    to_go_no_go_with(t, json!({})).await
}

/// A release created with `extra`, through the staging gate to Go/No-Go.
pub async fn to_go_no_go_with(t: &Team, extra: Value) -> i64 {
    let r = t.create_with(extra).await;
    let id = r["id"].as_i64().unwrap();
    let phase = format!("/api/v1/releases/{id}/phase");
    let to = |next: &str| json!({ "to": next });
    t.expect(Method::POST, &phase, &t.captain, to("staging_gate"), 200)
        .await;

    let gate = format!("/api/v1/releases/{id}/gates/staging");
    let closed = t
        .expect(Method::GET, &gate, &t.viewer, json!(null), 409)
        .await;
    let body: Value = closed.json().await.unwrap();
    assert_eq!(body["passed"], false);
    assert!(!body["blockers"].as_array().unwrap().is_empty());

    settle_staging(t, id).await;
    // An open P1 holds the gate until it is resolved or explicitly accepted.
    let issues = format!("/api/v1/releases/{id}/known-issues");
    let p1 = json!({ "key": "BUG-7", "severity": "p1", "title": "Push fails on Android 12" });
    let issue: Value = t
        .send(Method::POST, &issues, &t.engineer, p1)
        .await
        .json()
        .await
        .unwrap();
    let blocked: Value = t.fetch(&gate, &t.viewer).await;
    assert_eq!(blocked["blockers"][0]["kind"], "known_issue_open");
    let accept = format!("{issues}/{}/accept", issue["id"]);
    let reason = |why: &str| json!({ "reason": why });
    t.expect(Method::POST, &accept, &t.engineer, reason("fine"), 403)
        .await;
    let why = reason("only affects beta users");
    t.expect(Method::POST, &accept, &t.captain, why, 200).await;
    let open = t.send(Method::GET, &gate, &t.viewer, json!(null)).await;
    assert_eq!(open.status(), 200);
    assert_eq!(open.json::<Value>().await.unwrap()["passed"], true);

    t.expect(Method::POST, &phase, &t.captain, to("go_no_go"), 200)
        .await;
    id
}

pub async fn set_preconditions(t: &Team, id: i64) {
    let path = format!("/api/v1/releases/{id}");
    let r: Value = t.fetch(&path, &t.captain).await;
    let resp = t
        .send(
            Method::PATCH,
            &path,
            &t.captain,
            json!({
                "revision": r["revision"],
                "last_backup_at": Utc::now() - Duration::hours(3),
                "last_restore_test_at": Utc::now() - Duration::days(10),
                "on_call": "Oskar (+49 170 000000)"
            }),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

pub fn sign_body(role: &str, decision: &str) -> Value {
    json!({ "role": role, "decision": decision, "comment": if decision == "no_go" { "restore test failed" } else { "" } })
}

/// A release created with `extra`, signed `go` by both: in `go_live`.
pub async fn to_go_live_with(t: &Team, extra: Value) -> i64 {
    let id = to_go_no_go_with(t, extra).await;
    set_preconditions(t, id).await;
    for (cookie, role) in [(&t.owner, "product_owner"), (&t.captain, "release_captain")] {
        t.sign(id, cookie, role, "go", 201).await;
    }
    id
}
