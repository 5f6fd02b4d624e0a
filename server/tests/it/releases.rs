//! Releases over REST against a real Postgres: the contract, validation, optimistic locking,
//! the staging gate, the Go/No-Go sign-off, CI reports, the audit chain, and who may do what.

use crate::common::team::*;
use crate::common::*;
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_release_follows_the_contract(pool: PgPool) {
    let t = team(pool).await;
    let r = t.create().await;
    for field in [
        "id",
        "title",
        "version",
        "artifact_version",
        "commit_sha",
        "environment",
        "staging_environment",
        "window_start",
        "window_end",
        "strategy",
        "phase",
        "release_captain",
        "product_owner",
    ] {
        assert!(r.get(field).is_some(), "field {field} in {r}");
    }
    assert_eq!(r["phase"], "draft");
    assert_eq!(r["strategy"], "canary");
    assert_eq!(r["canary_stages"], json!([10, 50, 100]));
    assert_eq!(r["staging_environment"], "staging");
    assert_eq!(r["release_captain"], "rc@example.org");
    assert!(chrono::DateTime::parse_from_rfc3339(r["window_start"].as_str().unwrap()).is_ok());
    assert_eq!(r["next_deadline"]["what"], "staging_gate");

    let id = r["id"].as_i64().unwrap();
    assert_eq!(t.release(id).await["title"], "Spring release");

    // The checklists were copied from the shipped templates.
    let items = t.checklist(id).await;
    assert!(items.len() >= 20, "{} items", items.len());
    assert!(items
        .iter()
        .any(|i| i["key"] == "staging_deploy" && i["kind"] == "staging_gate"));
    assert!(items.iter().all(|i| i["state"] == "open"));
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn validation_names_the_field_and_keeps_nothing(pool: PgPool) {
    let t = team(pool).await;
    let start = Utc::now() + Duration::hours(30);
    let cases = [
        (
            json!({ "version": "1", "environment": "prod", "window_start": start, "window_end": start + Duration::hours(1) }),
            "title",
        ),
        (
            json!({ "title": "x", "version": "1", "environment": "prod", "window_start": start, "window_end": start }),
            "window_end",
        ),
        (
            json!({ "title": "x", "version": "1", "environment": "prod", "window_start": start, "window_end": start + Duration::hours(1), "strategy": "yolo" }),
            "strategy",
        ),
        (
            json!({ "title": "x", "version": "1", "environment": "prod", "window_start": start, "window_end": start + Duration::hours(1), "commit_sha": "not-hex" }),
            "commit_sha",
        ),
        (
            json!({ "title": "x", "version": "1", "environment": "prod", "window_start": start, "window_end": start + Duration::hours(1), "release_captain": "po@example.org" }),
            "release_captain",
        ),
        (
            json!({ "title": "x", "version": "1", "environment": "prod", "window_start": start, "window_end": start + Duration::hours(1), "canary_stages": [50, 10] }),
            "canary_stages",
        ),
    ];
    for (body, field) in cases {
        let resp = t
            .send(Method::POST, "/api/v1/releases", &t.captain, body)
            .await;
        assert_eq!(resp.status(), 422, "{field}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    let count = query_i64(&t.app.pool, "SELECT count(*) FROM releases").await;
    assert_eq!(count, 0);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_stale_edit_gets_409_never_a_silent_overwrite(pool: PgPool) {
    let t = team(pool).await;
    let r = t.create().await;
    let id = r["id"].as_i64().unwrap();
    let rev = r["revision"].as_i64().unwrap();
    let path = format!("/api/v1/releases/{id}");

    let mine = json!({ "title": "Mine", "revision": rev });
    t.expect(Method::PATCH, &path, &t.captain, mine, 200).await;
    let theirs = json!({ "title": "Theirs", "revision": rev });
    let stale = t.expect(Method::PATCH, &path, &t.admin, theirs, 409).await;
    assert_eq!(error_code(stale).await, "conflict");
    let missing = json!({ "title": "Theirs" });
    t.expect(Method::PATCH, &path, &t.admin, missing, 422).await;
    let now = t.release(id).await;
    assert_eq!(now["title"], "Mine");
    assert_eq!(now["revision"].as_i64().unwrap(), rev + 1);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn staging_gate_then_both_sign_go_and_the_release_goes_live(pool: PgPool) {
    let t = team(pool).await;
    let id = to_go_no_go(&t).await;
    let sign = format!("/api/v1/releases/{id}/sign-offs");
    let go_live_gate = format!("/api/v1/releases/{id}/gates/go-live");

    // Preconditions first: no `go` while the backup is unknown.
    t.sign(id, &t.owner, "product_owner", "go", 409).await;
    let gate: Value = t.fetch(&go_live_gate, &t.viewer).await;
    let kinds = pluck(&gate["blockers"], "kind");
    assert!(
        kinds.contains(&"backup_too_old") && kinds.contains(&"sign_off_missing"),
        "{kinds:?}"
    );
    set_preconditions(&t, id).await;

    // Wrong people and wrong credentials are refused.
    t.sign(id, &t.engineer, "product_owner", "go", 403).await;
    t.sign(id, &t.captain, "product_owner", "go", 403).await;
    let go = sign_body("release_captain", "go");
    let by_token = t.app.post_bearer(&sign, &t.captain_token, go).await;
    assert_eq!(by_token.status(), 403);
    assert_eq!(error_code(by_token).await, "session_required");

    t.sign(id, &t.owner, "product_owner", "go", 201).await;
    // Once.
    t.sign(id, &t.owner, "product_owner", "go", 409).await;
    let done = t.sign(id, &t.captain, "release_captain", "go", 201).await;
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["verdict"], "go");
    assert_eq!(body["release"]["phase"], "go_live");
    t.expect(Method::GET, &go_live_gate, &t.viewer, json!(null), 200)
        .await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_edit_after_signing_makes_the_sign_off_stale(pool: PgPool) {
    let t = team(pool).await;
    let id = to_go_no_go(&t).await;
    set_preconditions(&t, id).await;
    let sign = format!("/api/v1/releases/{id}/sign-offs");
    t.sign(id, &t.owner, "product_owner", "go", 201).await;
    let views: Vec<Value> = t.fetch(&sign, &t.viewer).await;
    assert_eq!(views[0]["stale"], false);

    // A checklist note changes what was signed.
    let item = format!("/api/v1/releases/{id}/checklist/smoke_app_start");
    let note = json!({ "note": "retested on iOS" });
    t.expect(Method::PATCH, &item, &t.engineer, note, 200).await;
    let views: Vec<Value> = t.fetch(&sign, &t.viewer).await;
    assert_eq!(views[0]["stale"], true);

    // The captain's `go` now does not clear the release: the owner must sign again.
    let go = sign_body("release_captain", "go");
    let rc = t.send(Method::POST, &sign, &t.captain, go).await;
    assert_eq!(phase_after(rc).await, "go_no_go");
    let gate_path = format!("/api/v1/releases/{id}/gates/go-live");
    let gate: Value = t.fetch(&gate_path, &t.viewer).await;
    assert!(
        gate["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["kind"] == "sign_off_stale" && b["role"] == "product_owner"),
        "{gate}"
    );
    let again = t.sign(id, &t.owner, "product_owner", "go", 201).await;
    assert_eq!(phase_after(again).await, "go_live");
}

/// The phase a sign-off left its release in.
async fn phase_after(sign_off: reqwest::Response) -> Value {
    sign_off.json::<Value>().await.unwrap()["release"]["phase"].clone()
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_no_go_needs_a_comment_and_ends_the_release(pool: PgPool) {
    let t = team(pool).await;
    let id = to_go_no_go(&t).await;
    let sign = format!("/api/v1/releases/{id}/sign-offs");
    let bare = json!({ "role": "release_captain", "decision": "no_go" });
    t.expect(Method::POST, &sign, &t.captain, bare, 422).await;
    let resp = t
        .sign(id, &t.captain, "release_captain", "no_go", 201)
        .await;
    assert_eq!(phase_after(resp).await, "no_go");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn simultaneous_sign_offs_for_one_role_store_exactly_one(pool: PgPool) {
    let t = team(pool).await;
    let id = to_go_no_go(&t).await;
    set_preconditions(&t, id).await;
    let url = t.app.url(&format!("/api/v1/releases/{id}/sign-offs"));
    let sign_offs = (0..4).map(|_| {
        let go = sign_body("product_owner", "go");
        client().post(&url).header("cookie", &t.owner).json(&go)
    });
    let statuses = all_at_once(sign_offs).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let stored = query_i64(&t.app.pool, "SELECT count(*) FROM sign_offs").await;
    assert_eq!(stored, 1);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn env_check_fails_its_item_on_a_missing_or_empty_variable(pool: PgPool) {
    let t = team(pool).await;
    let id = t.create().await["id"].as_i64().unwrap();
    let all = [
        "MONGODB_URI",
        "AUTH_SECRET",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "FILE_STORAGE_MODE",
        "AWS_REGION",
        "LOG_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ];
    let path = format!("/api/v1/releases/{id}/env-check");
    let check = |report: Value| t.app.post_bearer(&path, &t.captain_token, report);
    let resp =
        check(json!({ "environment": "prod", "present": &all[..6], "empty": ["LOG_ENDPOINT"] }))
            .await;
    assert_eq!(resp.status(), 409);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["missing"], json!(["OTEL_EXPORTER_OTLP_ENDPOINT"]));
    assert_eq!(body["empty"], json!(["LOG_ENDPOINT"]));
    assert_eq!(t.item(id, "release_secrets").await["state"], "failed");

    let values_sent = check(json!({ "present": ["AUTH_SECRET=hunter2"] })).await;
    assert_eq!(values_sent.status(), 422);

    let ok = check(json!({ "present": all })).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(t.item(id, "release_secrets").await["state"], "passed");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_audit_log_is_append_only_and_chained(pool: PgPool) {
    let t = team(pool).await;
    let id = to_go_no_go(&t).await;
    let audit = format!("/api/v1/releases/{id}/audit");
    let trail: Vec<Value> = t.fetch(&audit, &t.viewer).await;
    let actions: Vec<&str> = trail
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"release.create")
            && actions.contains(&"release.phase")
            && actions.contains(&"known_issue.accept"),
        "{actions:?}"
    );

    use app::services::audit::{verify, ChainCheck};
    assert!(
        matches!(verify(&t.app.pool).await.unwrap(), ChainCheck::Intact { rows } if rows as usize >= trail.len())
    );
    let refused = sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
        .execute(&t.app.pool)
        .await;
    assert!(refused.is_err(), "UPDATE must be refused");
    assert!(sqlx::query("DELETE FROM audit_log WHERE id = 2")
        .execute(&t.app.pool)
        .await
        .is_err());

    // Someone with the power to switch the trigger off still cannot hide an edit.
    let edit = "UPDATE audit_log SET actor = 'mallory' WHERE id = 3";
    behind_the_audit_trigger(&t.app.pool, edit).await;
    assert_eq!(
        verify(&t.app.pool).await.unwrap(),
        ChainCheck::Broken { first_bad_id: 3 }
    );
}

/// Every endpoint, every role, and anonymous: who gets through and who is refused.
#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn route_by_role_matrix(pool: PgPool) {
    let t = team(pool).await;
    let id = t.create().await["id"].as_i64().unwrap();
    let start = Utc::now() + Duration::hours(40);
    let new_release = json!({ "title": "Matrix", "version": "9", "environment": "prod", "window_start": start, "window_end": start + Duration::hours(1) });
    let r = |p: &str| format!("/api/v1/releases/{id}{p}");
    // (method, path, body, roles that may: a = admin, c = captain, o = owner, e = engineer, v = viewer)
    let cases: Vec<(Method, String, Value, &str)> = vec![
        (Method::GET, "/api/v1/releases".into(), json!(null), "acoev"),
        (Method::POST, "/api/v1/releases".into(), new_release, "ac"),
        (Method::GET, r(""), json!(null), "acoev"),
        (Method::PATCH, r(""), json!({ "title": "x" }), "ac"),
        (Method::GET, r("/checklist"), json!(null), "acoev"),
        (
            Method::PATCH,
            r("/checklist/smoke_app_start"),
            json!({ "note": "n" }),
            "acoe",
        ),
        (Method::GET, r("/known-issues"), json!(null), "acoev"),
        (
            Method::POST,
            r("/known-issues"),
            json!({ "key": "K", "severity": "p3", "title": "t" }),
            "acoe",
        ),
        (Method::GET, r("/gates/staging"), json!(null), "acoev"),
        (Method::GET, r("/gates/go-live"), json!(null), "acoev"),
        (Method::GET, r("/sign-offs"), json!(null), "acoev"),
        (
            Method::POST,
            r("/deployments"),
            json!({ "environment": "qa", "artifact_version": "1", "commit_sha": "abcdef1" }),
            "acoe",
        ),
        (
            Method::POST,
            r("/env-check"),
            json!({ "present": [] }),
            "acoe",
        ),
        (Method::GET, r("/audit"), json!(null), "acoev"),
        (Method::GET, r("/evidence"), json!(null), "acoev"),
        (
            Method::POST,
            r("/evidence?filename=matrix.log"),
            json!({ "line": "INFO ok" }),
            "acoe",
        ),
        (Method::GET, r("/evidence/1"), json!(null), "acoev"),
        (
            Method::GET,
            "/api/v1/evidence/1".into(),
            json!(null),
            "acoev",
        ),
        (
            Method::POST,
            r("/evidence/1/retract"),
            json!({ "reason": "matrix" }),
            "acoe",
        ),
        (
            Method::POST,
            r("/phase"),
            json!({ "to": "staging_gate" }),
            "ac",
        ),
        (
            Method::POST,
            r("/sign-offs"),
            json!({ "role": "product_owner", "decision": "go" }),
            "o",
        ),
        (Method::GET, "/api/v1/users".into(), json!(null), "a"),
        (
            Method::GET,
            "/api/v1/templates".into(),
            json!(null),
            "acoev",
        ),
        (
            Method::POST,
            "/api/v1/templates".into(),
            json!({ "kind": "go_live", "text_de": "x", "text_en": "x" }),
            "a",
        ),
        (
            Method::GET,
            "/api/v1/environments".into(),
            json!(null),
            "acoev",
        ),
        (
            Method::POST,
            "/api/v1/environments".into(),
            json!({ "name": "matrix", "base_url": "http://127.0.0.1:9" }),
            "a",
        ),
        (
            Method::GET,
            "/api/v1/environments/1".into(),
            json!(null),
            "acoev",
        ),
        (
            Method::GET,
            "/api/v1/environments/1/status".into(),
            json!(null),
            "acoev",
        ),
        (
            Method::PATCH,
            "/api/v1/environments/1".into(),
            json!({ "interval_seconds": 30 }),
            "a",
        ),
        (
            Method::GET,
            "/api/v1/alerts?state=open".into(),
            json!(null),
            "acoev",
        ),
        (Method::GET, "/api/v1/status".into(), json!(null), "acoev"),
        (
            Method::GET,
            "/api/v1/monitoring/settings".into(),
            json!(null),
            "acoev",
        ),
        (
            Method::PUT,
            "/api/v1/monitoring/settings".into(),
            json!({ "readiness_503_pct": 0.5, "error_rate_pct": 2.0, "latency_p95_ms": 500,
                    "window_seconds": 300, "no_success_seconds": 600, "public_status_page": false }),
            "a",
        ),
        (Method::GET, "/api/v1/webhooks".into(), json!(null), "a"),
        (
            Method::POST,
            "/api/v1/webhooks".into(),
            json!({ "name": "m", "url": "http://127.0.0.1:9/hook" }),
            "a",
        ),
        (
            Method::GET,
            "/api/v1/webhooks/deliveries".into(),
            json!(null),
            "a",
        ),
        (
            Method::GET,
            "/api/v1/outbox?state=failed".into(),
            json!(null),
            "a",
        ),
        (
            Method::POST,
            r("/checklist/staging_health/probe-snapshot"),
            json!(null),
            "acoe",
        ),
        (Method::GET, r("/go-live"), json!(null), "acoev"),
        (Method::POST, r("/go-live/start"), json!({}), "ac"),
        (
            Method::POST,
            r("/go-live/steps"),
            json!({ "step": "pre_checks" }),
            "ac",
        ),
        (Method::POST, r("/go-live/complete"), json!(null), "ac"),
        (Method::POST, r("/rollback"), json!({ "reason": "m" }), "co"),
        (Method::GET, r("/dossier"), json!(null), "acoev"),
        (Method::GET, "/api/v1/freezes".into(), json!(null), "acoev"),
        (
            Method::POST,
            "/api/v1/freezes".into(),
            json!({ "environment": "prod", "starts_at": start, "ends_at": start + Duration::hours(1), "reason": "m" }),
            "a",
        ),
        (
            Method::DELETE,
            "/api/v1/freezes/999999".into(),
            json!(null),
            "a",
        ),
        (Method::GET, "/api/v1/archive".into(), json!(null), "acoev"),
        (
            Method::GET,
            "/api/v1/metrics/delivery".into(),
            json!(null),
            "acoev",
        ),
    ];
    let people = [
        ('a', &t.admin),
        ('c', &t.captain),
        ('o', &t.owner),
        ('e', &t.engineer),
        ('v', &t.viewer),
    ];
    for (method, path, body, may) in &cases {
        let anon = t.req(method.clone(), path, None);
        let anon = if *method == Method::GET {
            anon
        } else {
            anon.json(body)
        };
        assert_eq!(
            anon.send().await.unwrap().status(),
            401,
            "anonymous {method} {path}"
        );
        for (who, cookie) in people {
            let status = t
                .send(method.clone(), path, cookie, body.clone())
                .await
                .status()
                .as_u16();
            if may.contains(who) {
                // Allowed through authorization; the request itself may still be refused
                // on its merits (a gate closed, wrong phase, a revision missing).
                assert!(
                    status != 401 && status != 403,
                    "{who} {method} {path} -> {status}"
                );
            } else {
                assert_eq!(status, 403, "{who} {method} {path}");
            }
        }
    }
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn admins_edit_templates_and_existing_releases_keep_their_copy(pool: PgPool) {
    let t = team(pool).await;
    let before = t.create().await["id"].as_i64().unwrap();
    let staging = staging_templates(&t).await;
    let (first, second) = (
        staging[0]["id"].as_i64().unwrap(),
        staging[1]["key"].clone(),
    );

    let new_item = json!({ "kind": "staging_gate", "text_de": "Feature-Flags geprüft", "text_en": "Feature flags checked", "evidence_required": true });
    let templates = "/api/v1/templates";
    t.expect(Method::POST, templates, &t.captain, new_item.clone(), 403)
        .await;
    let added = t
        .expect(Method::POST, templates, &t.admin, new_item, 201)
        .await;
    let added_key = added.json::<Value>().await.unwrap()["key"].clone();
    let path = format!("/api/v1/templates/{first}");
    let move_by = json!({ "move_by": 1 });
    t.expect(Method::PATCH, &path, &t.engineer, move_by, 403)
        .await;
    let moved = json!({ "move_by": 1, "evidence_required": false });
    t.expect(Method::PATCH, &path, &t.admin, moved, 204).await;

    let staging = staging_templates(&t).await;
    assert_eq!(staging[0]["key"], second, "moved down one place");
    assert_eq!(staging[1]["id"].as_i64().unwrap(), first);
    assert_eq!(staging.last().unwrap()["key"], added_key);

    t.expect(Method::DELETE, &path, &t.admin, json!(null), 204)
        .await;

    // The release created before keeps its checklist; a new one gets the edited template.
    let keys = |id: i64| {
        let t = &t;
        async move {
            let items = t.checklist(id).await;
            items
                .iter()
                .map(|i| i["key"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let old_keys = keys(before).await;
    assert!(!old_keys.contains(&added_key.as_str().unwrap().to_string()));
    assert!(old_keys.contains(&staging[1]["key"].as_str().unwrap().to_string()));
    let after = t.create().await["id"].as_i64().unwrap();
    let new_keys = keys(after).await;
    assert!(new_keys.contains(&added_key.as_str().unwrap().to_string()));
    assert!(!new_keys.contains(&staging[1]["key"].as_str().unwrap().to_string()));
}

/// The staging gate's template items, in their order, as the viewer reads them.
async fn staging_templates(t: &Team) -> Vec<Value> {
    let list: Vec<Value> = t.fetch("/api/v1/templates", &t.viewer).await;
    let staging = list.into_iter().filter(|i| i["kind"] == "staging_gate");
    staging.collect()
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_accepted_risk_stays_in_the_hands_of_captain_and_owner(pool: PgPool) {
    let t = team(pool).await;
    let id = t.create().await["id"].as_i64().unwrap();
    let item = format!("/api/v1/releases/{id}/checklist/smoke_push_notifications");
    let accept = json!({ "state": "accepted_risk", "reason": "push backend not configured yet" });
    for (cookie, body, status) in [
        (&t.engineer, accept.clone(), 403),
        (&t.owner, accept, 200),
        // Nor can a worker quietly reword or clear the reason afterwards.
        (&t.engineer, json!({ "reason": "whatever" }), 403),
        (&t.engineer, json!({ "note": "n" }), 403),
        (&t.captain, json!({ "reason": "" }), 422),
    ] {
        t.expect(Method::PATCH, &item, cookie, body, status).await;
    }
    let it = t.item(id, "smoke_push_notifications").await;
    assert_eq!(it["reason"], "push backend not configured yet");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_rendered_release_page_is_reused_only_while_nothing_changed(pool: PgPool) {
    let t = team(pool).await;
    let id = t.create().await["id"].as_i64().unwrap();
    let page = |cookie: &str| {
        let path = format!("/releases/{id}");
        let cookie = cookie.to_string();
        let app = &t.app;
        async move { app.get_text(&path, Some(&cookie)).await }
    };
    let item = r#"data-key="smoke_app_start" data-state="#;
    let first = page(&t.captain).await;
    assert!(first.contains(&format!(r#"{item}"open""#)));
    let again = page(&t.captain).await;
    assert_ne!(again, first, "each response has its own script nonce");
    assert_eq!(
        without_nonces(&again),
        without_nonces(&first),
        "unchanged: the same page again"
    );
    // Each reader gets their own page: the viewer has nothing to edit or attach.
    let viewer = page(&t.viewer).await;
    assert!(first.contains(r#"name="state""#) && first.contains("dropzone"));
    assert!(!viewer.contains(r#"name="state""#) && !viewer.contains("dropzone"));
    // Any change renders afresh on the next request.
    let smoke = format!("/api/v1/releases/{id}/checklist/smoke_app_start");
    let failed = json!({ "state": "failed" });
    t.expect(Method::PATCH, &smoke, &t.captain, failed, 200)
        .await;
    let after = page(&t.captain).await;
    assert!(
        after.contains(&format!(r#"{item}"failed""#)),
        "the change shows at once"
    );
}

/// A page with the values of its per-response nonces blanked (the `nonce` attributes, and
/// the `crossorigin` attributes Leptos fills with the same value).
fn without_nonces(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    loop {
        let next = ["nonce=\"", "crossorigin=\""]
            .iter()
            .filter_map(|a| rest.find(a).map(|i| (i, a.len())))
            .min();
        let Some((i, len)) = next else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..i + len]);
        rest = &rest[i + len..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
}
