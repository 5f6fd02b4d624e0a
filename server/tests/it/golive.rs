//! Go-live and rollback over REST against a real Postgres and a probed target: the window,
//! freeze windows, the plan step by step with its hold, completion with the post-release
//! documentation, the rollback with its webhook, and the sealed dossier with its exports
//! and `shipgate dossier verify`.

use crate::common::responder::{Mode, Responder};
use crate::common::team::*;
use crate::common::*;
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

fn window_now() -> Value {
    json!({
        "window_start": Utc::now() - Duration::hours(1),
        "window_end": Utc::now() + Duration::hours(2),
    })
}

impl Team {
    async fn post(&self, path: &str, cookie: &str, body: Value) -> (u16, Value) {
        let resp = self.send(Method::POST, path, cookie, body).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn step(&self, id: i64, step: &str, stage: Option<i32>, note: &str) -> (u16, Value) {
        self.post(
            &format!("/api/v1/releases/{id}/go-live/steps"),
            &self.captain,
            json!({ "step": step, "stage_pct": stage, "note": note }),
        )
        .await
    }

    async fn start(&self, id: i64, cookie: &str, body: Value) -> (u16, Value) {
        let path = format!("/api/v1/releases/{id}/go-live/start");
        self.post(&path, cookie, body).await
    }

    async fn get_json(&self, path: &str) -> Value {
        let resp = self
            .send(Method::GET, path, &self.viewer, json!(null))
            .await;
        assert_eq!(resp.status(), 200, "{path}");
        resp.json().await.unwrap()
    }

    async fn wait_env(&self, env: i64, ok: impl Fn(&Value) -> bool) {
        let deadline = Deadline::after(30, "environment never got there");
        loop {
            let s = self
                .get_json(&format!("/api/v1/environments/{env}/status"))
                .await;
            if ok(&s) {
                return;
            }
            deadline.wait(s).await;
        }
    }
}

/// Asserts a 409 whose one blocker is of `kind`.
#[track_caller]
fn assert_blocked(status: u16, body: &Value, kind: &str) {
    assert_eq!(
        (status, kinds(body)),
        (409, vec![kind.to_string()]),
        "{body}"
    );
}

fn kinds(body: &Value) -> Vec<String> {
    body["blockers"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|b| b["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn register_prod(t: &Team, r: &Responder) -> i64 {
    let prod = json!({ "name": "prod", "base_url": format!("{}/prod", r.url()), "interval_seconds": 1, "timeout_ms": 1000 });
    let resp = t
        .expect(Method::POST, "/api/v1/environments", &t.admin, prod, 201)
        .await;
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn file_documentation(t: &Team, id: i64) {
    for key in ["post_dashboards", "post_alert_logs"] {
        pass_item(t, id, key, true, &format!("https://grafana.example/{key}")).await;
    }
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_canary_goes_live_step_by_step_and_its_dossier_is_sealed(pool: PgPool) {
    let t = team(pool.clone()).await;
    let r = Responder::start().await;
    // A short alert window, so the target recovers within seconds.
    let short = json!({ "readiness_503_pct": 0.5, "error_rate_pct": 2.0, "latency_p95_ms": 500,
                        "window_seconds": 10, "no_success_seconds": 600, "public_status_page": false });
    let settings = "/api/v1/monitoring/settings";
    t.expect(Method::PUT, settings, &t.admin, short, 200).await;
    let env = register_prod(&t, &r).await;
    // Probed before the decision, so the dossier has results from decision time.
    t.wait_env(env, |s| {
        s["endpoints"]
            .as_array()
            .is_some_and(|e| e.len() == 2 && e.iter().all(|p| p["last_checked_at"].is_string()))
    })
    .await;
    let id = to_go_live_with(
        &t,
        with(window_now(), json!({ "canary_hold_minutes": 0, "commit_sha": "c0ffee42", "title": "Kestrel release" })),
    )
    .await;
    let base = format!("/api/v1/releases/{id}");
    let ov = t.get_json(&format!("{base}/go-live")).await;
    assert_eq!(ov["in_window"], true);
    assert_eq!(ov["start_blockers"], json!([]));
    assert!(ov["progress"]["started"].is_null());

    let start = format!("{base}/go-live/start");
    assert_eq!(t.post(&start, &t.engineer, json!({})).await.0, 403);
    assert_eq!(t.post(&start, &t.owner, json!({})).await.0, 403);
    // Steps wait for the start, and go in the plan's order.
    let (status, body) = t.step(id, "pre_checks", None, "").await;
    assert_blocked(status, &body, "go_live_not_started");
    assert_eq!(t.post(&start, &t.captain, json!({})).await.0, 200);
    let (status, body) = t.post(&start, &t.captain, json!({})).await;
    assert_blocked(status, &body, "go_live_started");
    let (status, body) = t.step(id, "smoke_tests", None, "").await;
    assert_eq!(status, 409);
    assert_eq!(body["blockers"][0]["expected"], "pre_checks");

    // Pre-checks come from the probes: not before the target is up.
    t.wait_env(env, |s| s["state"] == "up").await;
    let (status, ov) = t.step(id, "pre_checks", None, "").await;
    assert_eq!(status, 200, "{ov}");
    assert_eq!(ov["target"]["probed"], true);
    for (step, stage) in [
        ("deploy_green", None),
        ("smoke_tests", None),
        ("canary_stage", Some(10)),
        ("canary_stage", Some(50)),
    ] {
        let (status, body) = t.step(id, step, stage, "").await;
        assert_eq!(status, 200, "{step} {stage:?}: {body}");
    }
    // The last stage waits for the target to be healthy.
    r.set("prod", Mode::Status(503));
    t.wait_env(env, |s| s["state"] != "up").await;
    let (status, body) = t.step(id, "canary_stage", Some(100), "").await;
    assert_eq!(status, 409);
    assert!(
        kinds(&body).contains(&"target_not_healthy".to_string()),
        "{body}"
    );
    r.set("prod", Mode::Status(200));
    t.wait_env(env, |s| s["state"] == "up" && s["open_alerts"] == json!([]))
        .await;
    let (status, body) = t.step(id, "canary_stage", Some(100), "all traffic").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(t.step(id, "mark_green_prod", None, "").await.0, 200);

    // Completing waits for the post-release documentation.
    let complete = format!("{base}/go-live/complete");
    let (status, body) = t.post(&complete, &t.captain, json!(null)).await;
    assert_eq!(status, 409);
    assert_eq!(kinds(&body), vec!["post_release_open", "post_release_open"]);
    file_documentation(&t, id).await;
    // The documentation is not what was signed: the sign-offs still hold.
    let gate = format!("{base}/gates/go-live");
    t.expect(Method::GET, &gate, &t.viewer, json!(null), 200)
        .await;
    let (status, _) = t.post(&complete, &t.captain, json!(null)).await;
    assert_eq!(status, 200);
    assert_eq!(t.get_json(&base).await["phase"], "done");
    assert_eq!(t.step(id, "smoke_tests", None, "").await.0, 409);

    // The dossier: sealed, hashed over its canonical JSON, everything in it.
    let dossier = format!("{base}/dossier");
    let resp = t
        .expect(Method::GET, &dossier, &t.viewer, json!(null), 200)
        .await;
    let text = resp.text().await.unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let d = &file["dossier"];
    assert_eq!(
        file["sha256"].as_str().unwrap(),
        app::services::dossier::sha256_hex(app::domain::dossier::canonical_json(d).as_bytes())
    );
    assert_eq!(d["outcome"], "done");
    assert_eq!(d["release"]["title"], "Kestrel release");
    let steps = pluck(&d["go_live"], "kind");
    assert_eq!(
        steps,
        [
            "start",
            "pre_checks",
            "deploy_green",
            "smoke_tests",
            "canary_stage",
            "canary_stage",
            "canary_stage",
            "mark_green_prod",
            "complete"
        ]
    );
    assert_eq!(d["go_live"][0]["actor"], "rc@example.org");
    assert_eq!(d["go_no_go"]["sign_offs"].as_array().unwrap().len(), 2);
    assert!(d["go_no_go"]["decided_at"].is_string());
    let target = &d["go_no_go"]["monitoring"][0];
    assert_eq!(target["role"], "target");
    assert_eq!(target["registered"], true);
    assert!(
        !target["recent_results"].as_array().unwrap().is_empty(),
        "{target}"
    );
    assert_eq!(d["staging_gate"]["known_issues"][0]["key"], "BUG-7");
    assert!(d["staging_gate"]["passed_at"].is_string());
    assert!(d["staging_gate"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["state"] == "passed" && i["updated_by"].is_string()));
    assert_eq!(d["post_release"].as_array().unwrap().len(), 2);
    let head: String = sqlx::query_scalar(
        "SELECT hash FROM audit_log WHERE release_id = $1 AND action = 'release.phase' ORDER BY id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(d["audit_head"], head.as_str());
    // Written once.
    let refused = sqlx::query("UPDATE dossiers SET sha256 = repeat('0', 64) WHERE release_id = $1")
        .bind(id)
        .execute(&pool)
        .await;
    assert!(refused.is_err());
    assert_eq!(
        app::services::audit::verify(&pool).await.unwrap(),
        app::services::audit::ChainCheck::Intact {
            rows: query_i64(&pool, "SELECT count(*) FROM audit_log").await as u64
        }
    );

    // The Markdown is the filled-in protocol.
    let md_path = format!("{base}/dossier?format=md&lang=de");
    let md = t.app.get_text(&md_path, Some(&t.viewer)).await;
    for part in [
        "Staging-Gate-Protokoll (T-12h)",
        "Go-Live-Entscheid (T-1h)",
        "Product Owner: **GO**",
        "Canary 100 %",
        "Dokumentation",
    ] {
        assert!(md.contains(part), "{part} in\n{md}");
    }
    assert!(md.contains(file["sha256"].as_str().unwrap()));

    // The printable page and the archive find it.
    let page_path = format!("/releases/{id}/dossier");
    let page = t.app.get_text(&page_path, Some(&t.viewer)).await;
    assert!(
        page.contains("data-testid=\"dossier\"") && page.contains(file["sha256"].as_str().unwrap())
    );
    let found = t.get_json("/api/v1/archive?q=kestrel").await;
    assert!(
        found["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["release_id"] == id),
        "{found}"
    );
    let by_commit = t.get_json("/api/v1/archive?q=c0ffee").await;
    assert_eq!(by_commit["entries"][0]["release_id"], id);

    // `shipgate dossier verify`: the export passes, a single changed byte does not.
    let dir = scratch_dir("dossier");
    let path = dir.join("dossier.json");
    std::fs::write(&path, &text).unwrap();
    let ok = shipgate(&["dossier", "verify", path.to_str().unwrap()], &[], None);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).starts_with("OK"));
    let at = text.find("Kestrel").unwrap();
    let mut changed = text.clone().into_bytes();
    changed[at] = b'k';
    std::fs::write(&path, &changed).unwrap();
    let bad = shipgate(&["dossier", "verify", path.to_str().unwrap()], &[], None);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("CHANGED"), "{}", stderr(&bad));
    // A changed file whose hash was made to match is caught against the database,
    // field by field.
    let mut forged: Value = serde_json::from_str(&text).unwrap();
    forged["dossier"]["release"]["title"] = json!("Kestrel release (edited)");
    let doc = app::domain::dossier::canonical_json(&forged["dossier"]);
    forged["sha256"] = json!(app::services::dossier::sha256_hex(doc.as_bytes()));
    std::fs::write(&path, app::domain::dossier::canonical_json(&forged)).unwrap();
    let offline = shipgate(&["dossier", "verify", path.to_str().unwrap()], &[], None);
    assert!(
        offline.status.success(),
        "self-consistent without a database"
    );
    let url = database_url(&pool).await;
    let online = shipgate(
        &["dossier", "verify", path.to_str().unwrap()],
        &[("DATABASE_URL", &url)],
        None,
    );
    assert_eq!(online.status.code(), Some(1));
    let err = stderr(&online);
    assert!(err.contains("release.title"), "{err}");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_window_and_freezes_refuse_the_start_and_only_the_captain_overrides(pool: PgPool) {
    let t = team(pool).await;
    // The default window is 30 hours away.
    let id = to_go_live_with(&t, json!({})).await;
    let start = format!("/api/v1/releases/{id}/go-live/start");
    let (status, body) = t.post(&start, &t.captain, json!({})).await;
    assert_blocked(status, &body, "outside_window");
    // An admin may steer, but not override the window.
    let (status, body) = t
        .post(&start, &t.admin, json!({ "override_reason": "hotfix" }))
        .await;
    assert_blocked(status, &body, "outside_window");

    let freeze = json!({ "environment": "PROD", "starts_at": Utc::now() - Duration::hours(1),
                         "ends_at": Utc::now() + Duration::hours(1), "reason": "Black Friday" });
    assert_eq!(
        t.post("/api/v1/freezes", &t.captain, freeze.clone())
            .await
            .0,
        403
    );
    let bad = with(
        freeze.clone(),
        json!({ "ends_at": Utc::now() - Duration::hours(2) }),
    );
    let (status, body) = t.post("/api/v1/freezes", &t.admin, bad).await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("ends_at"))
    );
    let (status, created) = t.post("/api/v1/freezes", &t.admin, freeze).await;
    assert_eq!(status, 201);
    let listed = t.get_json("/api/v1/freezes").await;
    assert_eq!(listed[0]["reason"], "Black Friday");
    let ov = t.get_json(&format!("/api/v1/releases/{id}/go-live")).await;
    assert_eq!(ov["freezes"][0]["reason"], "Black Friday");

    // A freeze holds even against the override, and says why.
    let hotfix = json!({ "override_reason": "hotfix for a crash" });
    let (status, body) = t.post(&start, &t.captain, hotfix.clone()).await;
    assert_eq!(status, 409);
    let frozen = body["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "frozen")
        .cloned()
        .unwrap_or_else(|| panic!("no freeze in {body}"));
    assert_eq!(frozen["reason"], "Black Friday");
    let release_page = format!("/releases/{id}");
    let page = t.app.get_text(&release_page, Some(&t.captain)).await;
    assert!(
        page.contains("Black Friday"),
        "the release page shows the freeze"
    );

    let created = format!("/api/v1/freezes/{}", created["id"]);
    t.expect(Method::DELETE, &created, &t.admin, json!(null), 204)
        .await;
    let (status, ov) = t.post(&start, &t.captain, hotfix).await;
    assert_eq!(status, 200, "{ov}");
    assert_eq!(ov["steps"][0]["note"], "hotfix for a crash");
    assert_eq!(ov["steps"][0]["detail"]["outside_window_override"], true);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_stability_hold_must_pass_before_the_last_stage(pool: PgPool) {
    let t = team(pool.clone()).await;
    let id = to_go_live_with(&t, with(window_now(), json!({ "canary_hold_minutes": 1 }))).await;
    assert_eq!(t.start(id, &t.captain, json!({})).await.0, 200);
    // Not probed: the pre-checks need a note of what was checked by hand.
    let (status, body) = t.step(id, "pre_checks", None, "").await;
    assert_blocked(status, &body, "note_required");
    assert_eq!(
        t.step(id, "pre_checks", None, "Grafana green, pods ready")
            .await
            .0,
        200
    );
    for (step, stage) in [
        ("deploy_green", None),
        ("smoke_tests", None),
        ("canary_stage", Some(10)),
    ] {
        assert_eq!(t.step(id, step, stage, "").await.0, 200, "{step}");
    }
    // Intermediate stages hold for nobody.
    assert_eq!(t.step(id, "canary_stage", Some(50), "").await.0, 200);
    let (status, body) = t.step(id, "canary_stage", Some(100), "").await;
    assert_blocked(status, &body, "hold_running");
    let ov = t.get_json(&format!("/api/v1/releases/{id}/go-live")).await;
    assert_eq!(ov["hold"]["minutes"], 1);
    assert_eq!(ov["next_blockers"][0]["kind"], "hold_running");
    // A minute later (the recorded steps moved back in time) the hold is over.
    sqlx::query("ALTER TABLE go_live_steps DISABLE TRIGGER go_live_steps_immutable")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE go_live_steps SET at = at - interval '2 minutes' WHERE release_id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(t.step(id, "canary_stage", Some(100), "").await.0, 200);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_rollback_is_recorded_tells_the_webhooks_and_ends_the_release(pool: PgPool) {
    let t = team(pool.clone()).await;
    let r = Responder::start().await;
    let hook = json!({ "name": "team", "url": format!("{}/hook/200", r.url()), "format": "json" });
    t.expect(Method::POST, "/api/v1/webhooks", &t.admin, hook, 201)
        .await;
    let links = json!({ "rollback_plan": "https://wiki.example/rollback", "down_migration": "https://git.example/down",
                        "backup_restore": "https://wiki.example/restore" });
    let id = to_go_live_with(&t, with(window_now(), json!({ "links": links }))).await;
    let rollback = format!("/api/v1/releases/{id}/rollback");
    assert_eq!(t.start(id, &t.captain, json!({})).await.0, 200);
    assert_eq!(
        t.step(id, "pre_checks", None, "checked by hand").await.0,
        200
    );

    let release_page = format!("/releases/{id}");
    let page = t.app.get_text(&release_page, Some(&t.owner)).await;
    assert!(
        page.contains("data-testid=\"rollback\"") && page.contains("https://wiki.example/restore")
    );
    assert_eq!(
        t.post(&rollback, &t.engineer, json!({ "reason": "x" }))
            .await
            .0,
        403
    );
    assert_eq!(
        t.post(&rollback, &t.admin, json!({ "reason": "x" }))
            .await
            .0,
        403
    );
    let (status, body) = t
        .post(&rollback, &t.captain, json!({ "reason": "  " }))
        .await;
    assert_blocked(status, &body, "reason_required");
    let (status, _) = t
        .post(
            &rollback,
            &t.owner,
            json!({ "reason": "5xx after the switch", "status_page_updated": true }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        t.get_json(&format!("/api/v1/releases/{id}")).await["phase"],
        "rolled_back"
    );
    assert_eq!(
        t.post(&rollback, &t.owner, json!({ "reason": "again" }))
            .await
            .0,
        409
    );

    let deadline = Deadline::after(20, "no webhook");
    loop {
        let hooks = r.hooks();
        if let Some(h) = hooks.iter().find(|h| h["event"] == "release.rolled_back") {
            assert_eq!(h["release"]["id"], id);
            assert_eq!(h["reason"], "5xx after the switch");
            break;
        }
        deadline.wait(format!("{hooks:?}")).await;
    }

    let d = t.get_json(&format!("/api/v1/releases/{id}/dossier")).await["dossier"].clone();
    assert_eq!(d["outcome"], "rolled_back");
    assert_eq!(d["rollback"]["by"], "po@example.org");
    assert_eq!(d["rollback"]["status_page_updated"], true);
    assert_eq!(d["rollback"]["team_alerted"], false);
    assert_eq!(
        d["rollback"]["backup_restore"],
        "https://wiki.example/restore"
    );
    let restore: Option<f64> =
        sqlx::query_scalar("SELECT restore_seconds FROM archive_entries WHERE release_id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(restore.is_some(), "time to restore is recorded");
    let trail = t.get_json(&format!("/api/v1/releases/{id}/audit")).await;
    let actions = pluck(&trail, "action");
    assert!(
        actions.contains(&"go_live.rollback") && actions.contains(&"release.sealed"),
        "{actions:?}"
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_no_go_is_sealed_too_and_open_releases_have_no_dossier(pool: PgPool) {
    let t = team(pool).await;
    let id = to_go_no_go(&t).await;
    let dossier = format!("/api/v1/releases/{id}/dossier");
    let early = t
        .expect(Method::GET, &dossier, &t.viewer, json!(null), 409)
        .await;
    assert_eq!(error_code(early).await, "conflict");
    t.sign(id, &t.owner, "product_owner", "no_go", 201).await;
    let d = t.get_json(&dossier).await["dossier"].clone();
    assert_eq!(d["outcome"], "no_go");
    assert_eq!(
        d["go_no_go"]["sign_offs"][0]["comment"],
        "restore test failed"
    );
    assert!(d["go_live"].as_array().unwrap().is_empty());
    let pdf = format!("{dossier}?format=pdf");
    t.expect(Method::GET, &pdf, &t.viewer, json!(null), 422)
        .await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn migrate_up_seals_releases_that_ended_before_dossiers_existed(pool: PgPool) {
    let t = team(pool.clone()).await;
    let id = t.create().await["id"].as_i64().unwrap();
    // As an older Shipgate left it: ended, no dossier.
    force_phase(&pool, id, "done").await;
    let dossier = format!("/api/v1/releases/{id}/dossier");
    t.expect(Method::GET, &dossier, &t.viewer, json!(null), 409)
        .await;
    let url = database_url(&pool).await;
    let up = shipgate(&["migrate", "up"], &[("DATABASE_URL", &url)], None);
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(stderr(&up).contains("sealed the dossiers of 1 release"));
    let d = t.get_json(&dossier).await;
    assert_eq!(d["dossier"]["outcome"], "done");
    let again = shipgate(&["migrate", "up"], &[("DATABASE_URL", &url)], None);
    assert!(again.status.success());
    assert!(!stderr(&again).contains("sealed"));
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_change_after_the_decision_goes_back_to_go_no_go_and_the_plan_locks_at_the_start(
    pool: PgPool,
) {
    let t = team(pool).await;
    let id = to_go_live_with(&t, window_now()).await;
    let base = format!("/api/v1/releases/{id}");
    let edit = |rev: &Value, extra: Value| with(json!({ "revision": rev }), extra);
    let r = t.get_json(&base).await;
    let renamed = edit(&r["revision"], json!({ "title": "Renamed" }));
    t.expect(Method::PATCH, &base, &t.captain, renamed, 200)
        .await;
    // What was signed changed: no start, but the way back to the decision is open.
    let (status, body) = t.start(id, &t.captain, json!({})).await;
    assert_eq!(status, 409);
    assert!(
        kinds(&body).contains(&"sign_off_stale".to_string()),
        "{body}"
    );
    let (phase, back) = (format!("{base}/phase"), json!({ "to": "go_no_go" }));
    let (status, _) = t.post(&phase, &t.captain, back.clone()).await;
    assert_eq!(status, 200);
    // Both sign again.
    for (cookie, role) in [(&t.owner, "product_owner"), (&t.captain, "release_captain")] {
        t.sign(id, cookie, role, "go", 201).await;
    }
    assert_eq!(t.get_json(&base).await["phase"], "go_live");
    assert_eq!(t.start(id, &t.captain, json!({})).await.0, 200);

    // Started: the plan no longer changes, the rest may; and there is no way back.
    let r = t.get_json(&base).await;
    let hold = edit(&r["revision"], json!({ "canary_hold_minutes": 0 }));
    t.expect(Method::PATCH, &base, &t.captain, hold, 409).await;
    let links = json!({ "links": { "rollback_plan": "https://wiki.example/rollback-v2" } });
    let links = edit(&r["revision"], links);
    t.expect(Method::PATCH, &base, &t.captain, links, 200).await;
    let (status, body) = t.post(&phase, &t.captain, back).await;
    assert_blocked(status, &body, "go_live_started");
}
