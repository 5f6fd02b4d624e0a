//! A team of one person per role and a release driven through its phases over the API.
#![allow(dead_code)]

use super::*;
use chrono::{Duration, Utc};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use sqlx::PgPool;

pub const PW: &str = "correct horse battery";

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
    let app = spawn_app(pool).await;
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

    pub async fn send(&self, method: Method, path: &str, cookie: &str, body: Value) -> Response {
        let r = self.req(method.clone(), path, Some(cookie));
        let r = if method == Method::GET {
            r
        } else {
            r.json(&body)
        };
        r.send().await.unwrap()
    }

    pub async fn create(&self) -> Value {
        self.create_with(json!({})).await
    }

    /// A release with `extra` fields over the defaults (a window 30 h away, canary).
    pub async fn create_with(&self, extra: Value) -> Value {
        let start = Utc::now() + Duration::hours(30);
        let mut body = json!({
                "title": "Spring release",
                "version": "2.4.0",
                "environment": "prod",
                "window_start": start,
                "window_end": start + Duration::hours(2),
                "strategy": "canary",
                "release_captain": "rc@example.org",
                "product_owner": "po@example.org",
                "links": { "rollback_plan": "https://wiki.example/rollback", "down_migration": "https://git.example/down" }
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let resp = client()
            .post(self.app.url("/api/v1/releases"))
            .bearer_auth(&self.captain_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        resp.json().await.unwrap()
    }
}

pub async fn settle_staging(t: &Team, id: i64) {
    // CI reports the staging deployment: that fills the deployment item.
    let resp = client()
        .post(t.app.url(&format!("/api/v1/releases/{id}/deployments")))
        .bearer_auth(&t.captain_token)
        .json(&json!({ "environment": "staging", "artifact_version": "2.4.0-rc1", "commit_sha": "abc1234", "ci_run_url": "https://ci.example/run/1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let filled: Value = resp.json().await.unwrap();
    assert_eq!(filled["checklist_item"]["state"], "passed");
    assert_eq!(filled["checklist_item"]["note"], "2.4.0-rc1 @ abc1234");

    let items: Vec<Value> = t
        .send(
            Method::GET,
            &format!("/api/v1/releases/{id}/checklist"),
            &t.engineer,
            json!(null),
        )
        .await
        .json()
        .await
        .unwrap();
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
        let no_proof = t
            .send(
                Method::PATCH,
                &path,
                &t.engineer,
                json!({ "state": "passed" }),
            )
            .await;
        assert_eq!(no_proof.status(), 422, "{key} cannot pass without evidence");
    }
    let resp = t
        .send(
            Method::PATCH,
            &path,
            &t.engineer,
            json!({ "state": "passed", "link": link }),
        )
        .await;
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
    assert_eq!(
        t.send(
            Method::POST,
            &phase,
            &t.captain,
            json!({ "to": "staging_gate" })
        )
        .await
        .status(),
        200
    );

    let gate = format!("/api/v1/releases/{id}/gates/staging");
    let closed = t.send(Method::GET, &gate, &t.viewer, json!(null)).await;
    assert_eq!(closed.status(), 409);
    let body: Value = closed.json().await.unwrap();
    assert_eq!(body["passed"], false);
    assert!(!body["blockers"].as_array().unwrap().is_empty());

    settle_staging(t, id).await;
    // An open P1 holds the gate until it is resolved or explicitly accepted.
    let issue: Value = t
        .send(
            Method::POST,
            &format!("/api/v1/releases/{id}/known-issues"),
            &t.engineer,
            json!({ "key": "BUG-7", "severity": "p1", "title": "Push fails on Android 12" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let blocked: Value = t
        .send(Method::GET, &gate, &t.viewer, json!(null))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(blocked["blockers"][0]["kind"], "known_issue_open");
    let accept = format!("/api/v1/releases/{id}/known-issues/{}/accept", issue["id"]);
    assert_eq!(
        t.send(
            Method::POST,
            &accept,
            &t.engineer,
            json!({ "reason": "fine" })
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        t.send(
            Method::POST,
            &accept,
            &t.captain,
            json!({ "reason": "only affects beta users" })
        )
        .await
        .status(),
        200
    );
    let open = t.send(Method::GET, &gate, &t.viewer, json!(null)).await;
    assert_eq!(open.status(), 200);
    assert_eq!(open.json::<Value>().await.unwrap()["passed"], true);

    assert_eq!(
        t.send(
            Method::POST,
            &phase,
            &t.captain,
            json!({ "to": "go_no_go" })
        )
        .await
        .status(),
        200
    );
    id
}

pub async fn set_preconditions(t: &Team, id: i64) {
    let path = format!("/api/v1/releases/{id}");
    let r: Value = t
        .send(Method::GET, &path, &t.captain, json!(null))
        .await
        .json()
        .await
        .unwrap();
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
    let sign = format!("/api/v1/releases/{id}/sign-offs");
    for (cookie, role) in [(&t.owner, "product_owner"), (&t.captain, "release_captain")] {
        let resp = t
            .send(Method::POST, &sign, cookie, sign_body(role, "go"))
            .await;
        assert_eq!(resp.status(), 201, "{role} signs go");
    }
    id
}
