//! The promise behind a sign-off: hostile text stays text, pages are locked down, a release
//! is steered only by its own people, refusals are refusals (4xx) wherever they come from,
//! proof cannot be waved away, and a signed-out session stays dead.

use crate::common::team::*;
use crate::common::*;
use reqwest::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::PgPool;

const HOSTILE_TITLE: &str = "x </title><script>alert(1)</script>";
const HOSTILE_VERSION: &str = "1\"><img src=x onerror=alert(2)>";

fn nonce_of(csp: &str) -> String {
    csp.split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .unwrap_or_default()
        .to_string()
}

/// The `<title>` of a page, as sent.
fn title_of(html: &str) -> &str {
    let start = html.find("<title>").expect("a title") + "<title>".len();
    let end = html[start..].find("</title>").expect("title closed") + start;
    &html[start..end]
}

fn assert_inert(html: &str, what: &str) {
    assert!(
        !html.contains("<script>alert(1)"),
        "{what}: the title's script is live"
    );
    assert!(
        !html.contains("<img src=x"),
        "{what}: the version's tag is live"
    );
}

async fn page(t: &Team, path: &str) -> String {
    t.app.page(path, &t.viewer).await
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn hostile_titles_and_versions_render_as_text_on_every_page(pool: PgPool) {
    let t = team(pool).await;
    let id = to_go_no_go_with(
        &t,
        json!({ "title": HOSTILE_TITLE, "version": HOSTILE_VERSION }),
    )
    .await;

    let release = page(&t, &format!("/releases/{id}")).await;
    assert_inert(&release, "release page");
    let title = title_of(&release);
    assert!(title.contains("&lt;/title&gt;&lt;script&gt;"), "{title}");
    assert!(title.ends_with("· Shipgate"), "{title}");
    // Served again from the page cache: still text.
    assert_inert(
        &page(&t, &format!("/releases/{id}")).await,
        "cached release page",
    );
    assert_inert(&page(&t, "/releases").await, "release list");

    // Ended (no-go), the release has a sealed dossier: its page, the archive and the
    // Markdown export show the same text, inert.
    t.sign(id, &t.owner, "product_owner", "no_go", 201).await;
    let dossier = page(&t, &format!("/releases/{id}/dossier")).await;
    assert_inert(&dossier, "dossier page");
    assert!(title_of(&dossier).contains("&lt;script&gt;"));
    assert_inert(&page(&t, "/archive").await, "archive");
    let md_path = format!("/api/v1/releases/{id}/dossier?format=md&lang=en");
    let md = t.app.get_text(&md_path, Some(&t.viewer)).await;
    let first = md.lines().next().unwrap();
    assert!(
        first.starts_with("# x &lt;/title&gt;&lt;script&gt;"),
        "{first}"
    );
    assert!(!md.contains("<script>") && !md.contains("<img"), "{md}");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn pages_carry_a_strict_policy_with_a_fresh_nonce_per_response(pool: PgPool) {
    let t = team(pool.clone()).await;
    let id = t.create().await["id"].as_i64().unwrap();
    let mut seen = Vec::new();
    for (path, cookie) in [
        ("/login".to_string(), None),
        (format!("/releases/{id}"), Some(t.viewer.as_str())),
        // The second view of a release page comes from the page cache.
        (format!("/releases/{id}"), Some(t.viewer.as_str())),
        ("/no/such/page".to_string(), Some(t.viewer.as_str())),
    ] {
        let resp = t.req(Method::GET, &path, cookie).send().await.unwrap();
        let h = resp.headers().clone();
        let csp = h[CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
        let html = resp.text().await.unwrap();
        let nonce = nonce_of(&csp);
        assert!(nonce.len() >= 16, "{path}: {csp}");
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(
            !script_src.contains("unsafe-inline") && !script_src.contains("'unsafe-eval'"),
            "{csp}"
        );
        assert!(script_src.contains("'wasm-unsafe-eval'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        // Every script in the page carries this response's nonce.
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path} has its hydration script");
        assert_eq!(
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "{path}"
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h[REFERRER_POLICY], "same-origin");
        assert!(
            h.get(STRICT_TRANSPORT_SECURITY).is_none(),
            "no HSTS over http"
        );
        seen.push(nonce);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "a nonce is never sent twice");

    // What is not a page may run nothing at all.
    let api = t
        .req(Method::GET, "/api/v1/releases", Some(&t.viewer))
        .send()
        .await
        .unwrap();
    let csp = api.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");

    // Browsers report violations; the sink takes them without fuss.
    let report = client()
        .post(t.app.url("/csp-report"))
        .header("content-type", "application/csp-report")
        .body(r#"{"csp-report":{"document-uri":"http://x/","violated-directive":"script-src","blocked-uri":"inline"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 204);

    // Under https, browsers are told to stay there.
    let mut s = settings("postgres://unused");
    s.public_base_url = "https://shipgate.example".into();
    let secure = spawn_app_with(pool, s).await;
    let resp = client().get(secure.url("/health")).send().await.unwrap();
    let hsts = resp.headers()[STRICT_TRANSPORT_SECURITY].to_str().unwrap();
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
}

/// A second release captain and product owner, assigned to nothing.
async fn strangers(t: &Team) -> (String, String) {
    t.app
        .add_user("rc2@example.org", PW, &["release_captain"])
        .await;
    t.app
        .add_user("po2@example.org", PW, &["product_owner"])
        .await;
    (
        t.app.session("rc2@example.org", PW).await,
        t.app.session("po2@example.org", PW).await,
    )
}

async fn revision(t: &Team, id: i64) -> Value {
    t.release(id).await["revision"].clone()
}

/// Assigns `who` as the release's product owner as `cookie`, at its current revision.
async fn assign_owner(t: &Team, id: i64, cookie: &str, who: &str) -> u16 {
    let rev = revision(t, id).await;
    t.send(
        Method::PATCH,
        &format!("/api/v1/releases/{id}"),
        cookie,
        json!({ "revision": rev, "product_owner": who }),
    )
    .await
    .status()
    .as_u16()
}

/// Every release route whose rule names a person of the release, tried by the assigned
/// and by an unassigned captain and owner: roles alone never let anyone through.
#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn release_routes_check_the_release_not_only_the_role(pool: PgPool) {
    let t = team(pool).await;
    let (other_captain, other_owner) = strangers(&t).await;
    let id = to_go_no_go(&t).await;
    let r = |p: &str| format!("/api/v1/releases/{id}{p}");
    let issue: Value = t
        .expect(
            Method::POST,
            &r("/known-issues"),
            &t.engineer,
            json!({ "key": "K-1", "severity": "p2", "title": "slow search" }),
            201,
        )
        .await
        .json()
        .await
        .unwrap();
    let accept = r(&format!("/known-issues/{}/accept", issue["id"]));
    let rev = revision(&t, id).await;
    let cases: Vec<(Method, String, Value)> = vec![
        (Method::POST, accept, json!({ "reason": "m" })),
        (
            Method::PATCH,
            r(""),
            json!({ "revision": rev, "on_call": "ops" }),
        ),
        (
            Method::PATCH,
            r(""),
            json!({ "revision": rev, "release_captain": "rc2@example.org" }),
        ),
        (Method::POST, r("/phase"), json!({ "to": "staging_gate" })),
        (
            Method::POST,
            r("/sign-offs"),
            json!({ "role": "product_owner", "decision": "no_go", "comment": "m" }),
        ),
        (
            Method::POST,
            r("/sign-offs"),
            json!({ "role": "release_captain", "decision": "no_go", "comment": "m" }),
        ),
        (
            Method::PATCH,
            r("/checklist/smoke_app_start"),
            json!({ "state": "accepted_risk", "reason": "m" }),
        ),
        (
            Method::PATCH,
            r("/checklist/golive_backups"),
            json!({ "state": "not_applicable", "reason": "m" }),
        ),
        (Method::POST, r("/go-live/start"), json!({})),
        (
            Method::POST,
            r("/go-live/steps"),
            json!({ "step": "pre_checks" }),
        ),
        (Method::POST, r("/go-live/complete"), json!(null)),
        (Method::POST, r("/rollback"), json!({ "reason": "m" })),
    ];
    for (method, path, body) in &cases {
        for (who, cookie) in [('C', &other_captain), ('O', &other_owner)] {
            let resp = t.send(method.clone(), path, cookie, body.clone()).await;
            assert_eq!(
                resp.status(),
                403,
                "unassigned {who} {method} {path} {body}"
            );
        }
    }
    // The assigned people get through on the same requests: the role matrix
    // (`releases::route_by_role_matrix`) tries them on every route.
}

/// The server functions behind the UI ask the same rules, and answer refusals with 4xx
/// in the user's language, never 500: the REST API's statuses, except that an argument
/// the typed function cannot read (an unknown phase) is 400 where the REST API says 422.
#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn server_functions_check_the_release_and_refuse_with_4xx(pool: PgPool) {
    let t = team(pool).await;
    let (other_captain, other_owner) = strangers(&t).await;
    let id = to_go_no_go(&t).await;
    let rev = revision(&t, id).await.as_i64().unwrap().to_string();
    let id_s = id.to_string();
    let call = |name: &'static str, cookie: Option<String>, form: Vec<(&'static str, String)>| {
        let t = &t;
        async move {
            let path = server_fn_path(name);
            let mut req = t.req(Method::POST, &path, cookie.as_deref());
            req = req.header("accept-language", "de-DE").form(&form);
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        }
    };
    let update = vec![
        ("release_id", id_s.clone()),
        ("revision", rev.clone()),
        ("title", "Taken over".into()),
        ("version", "2.4.0".into()),
        ("environment", "prod".into()),
        ("staging_environment", "staging".into()),
        ("window_start", "2030-01-01T10:00".into()),
        ("window_end", "2030-01-01T12:00".into()),
        ("strategy", "canary".into()),
        ("release_captain", "rc2@example.org".into()),
        ("product_owner", "po2@example.org".into()),
        ("artifact_version", "".into()),
        ("commit_sha", "".into()),
        ("changelog", "".into()),
        ("rollback_plan", "".into()),
    ];
    let phase = vec![("release_id", id_s.clone()), ("to", "staging_gate".into())];
    let sign_owner = vec![
        ("release_id", id_s.clone()),
        ("role", "product_owner".into()),
        ("decision", "no_go".into()),
        ("comment", "m".into()),
    ];
    let preconditions = vec![
        ("release_id", id_s.clone()),
        ("revision", rev.clone()),
        ("last_backup_at", "2030-01-01T10:00".into()),
        ("last_restore_test_at", "2030-01-01T10:00".into()),
        ("on_call", "me".into()),
        ("down_migration", "https://x.example/down".into()),
    ];
    let start = vec![("release_id", id_s.clone())];
    let step = vec![("release_id", id_s.clone()), ("step", "pre_checks".into())];
    let rollback = vec![("release_id", id_s.clone()), ("reason", "m".into())];
    let na = vec![
        ("release_id", id_s.clone()),
        ("key", "golive_backups".into()),
        ("state", "not_applicable".into()),
        ("reason", "m".into()),
    ];
    for (name, form, unassigned) in [
        (
            "update_release",
            &update,
            vec![&other_captain, &other_owner],
        ),
        ("set_preconditions", &preconditions, vec![&other_captain]),
        ("change_phase", &phase, vec![&other_captain]),
        ("sign", &sign_owner, vec![&other_owner]),
        ("start_go_live", &start, vec![&other_captain]),
        ("record_go_live_step", &step, vec![&other_captain]),
        ("roll_back", &rollback, vec![&other_captain, &other_owner]),
        ("complete_go_live", &start, vec![&other_captain]),
        ("set_item", &na, vec![&other_captain]),
    ] {
        for cookie in unassigned {
            let (status, body) = call(name, Some(cookie.clone()), form.clone()).await;
            assert_eq!(status, 403, "{name}: {body}");
            assert!(body.contains("Berechtigung"), "{name} in German: {body}");
        }
        let (status, body) = call(name, None, form.clone()).await;
        assert_eq!(status, 401, "{name} anonymous: {body}");
    }
    // Arguments the function cannot read are the caller's mistake: 400, not 500.
    let (status, body) = call("change_phase", Some(t.captain.clone()), vec![]).await;
    assert_eq!(status, 400, "{body}");
    // A phase that does not exist cannot be read as one: 400 (the REST API reads text
    // and answers 422); a wrong phase 409, as in the REST API.
    let mut bad = phase.clone();
    bad[1].1 = "nonsense".into();
    let (status, body) = call("change_phase", Some(t.captain.clone()), bad).await;
    assert_eq!(status, 400, "{body}");
    let mut early = phase.clone();
    early[1].1 = "done".into();
    let (status, body) = call("change_phase", Some(t.captain.clone()), early).await;
    assert_eq!(status, 409, "{body}");
    // Nothing was taken over.
    let r = t.release(id).await;
    assert_eq!(r["release_captain"], "rc@example.org");
    assert_eq!(r["product_owner"], "po@example.org");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn who_is_assigned_changes_only_early_only_by_admins_and_is_audited(pool: PgPool) {
    let t = team(pool).await;
    strangers(&t).await;
    let id = t.create().await["id"].as_i64().unwrap();
    let base = format!("/api/v1/releases/{id}");

    // A draft: its captain may still hand it to another owner.
    assert_eq!(
        assign_owner(&t, id, &t.captain, "po2@example.org").await,
        200
    );
    assert_eq!(
        assign_owner(&t, id, &t.captain, "po@example.org").await,
        200
    );

    // Out of the draft: only an admin.
    let (phase, to) = (format!("{base}/phase"), json!({ "to": "staging_gate" }));
    t.expect(Method::POST, &phase, &t.captain, to, 200).await;
    assert_eq!(
        assign_owner(&t, id, &t.captain, "po2@example.org").await,
        403
    );
    assert_eq!(assign_owner(&t, id, &t.admin, "po2@example.org").await, 200);
    let audit: Vec<Value> = t.fetch(&format!("{base}/audit"), &t.viewer).await;
    let reassign = audit
        .iter()
        .rfind(|a| a["action"] == "release.reassign")
        .expect("the reassignment is audited");
    assert_eq!(reassign["old"]["product_owner"], "po@example.org");
    assert_eq!(reassign["new"]["product_owner"], "po2@example.org");

    // A sign-off given before a reassignment is stale afterwards.
    let id = to_go_no_go(&t).await;
    let base = format!("/api/v1/releases/{id}");
    set_preconditions(&t, id).await;
    t.sign(id, &t.captain, "release_captain", "go", 201).await;
    assert_eq!(assign_owner(&t, id, &t.admin, "po2@example.org").await, 200);
    let views: Value = t.fetch(&format!("{base}/sign-offs"), &t.viewer).await;
    assert!(views.to_string().contains("\"stale\":true"), "{views}");

    // Both signed: no one changes who signed for what.
    let id = to_go_live_with(&t, json!({})).await;
    assert_eq!(assign_owner(&t, id, &t.admin, "po2@example.org").await, 409);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn required_evidence_cannot_be_waved_away(pool: PgPool) {
    let t = team(pool).await;
    let id = t.create().await["id"].as_i64().unwrap();
    let item = |key: &str| format!("/api/v1/releases/{id}/checklist/{key}");
    let items = t.checklist(id).await;
    let needs_evidence = items
        .iter()
        .find(|i| i["evidence_required"] == true)
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let plain = items
        .iter()
        .find(|i| i["evidence_required"] == false && i["key"] != "staging_health")
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    let na = json!({ "state": "not_applicable", "reason": "not needed" });
    let (plain, needs_evidence) = (item(&plain), item(&needs_evidence));
    let health = item("staging_health");

    // Any engineer may say a plain item does not apply; an item that needs proof is the
    // captain's or owner's call.
    for (path, cookie, status) in [
        (&plain, &t.engineer, 200),
        (&needs_evidence, &t.engineer, 403),
        (&health, &t.engineer, 403),
        (&needs_evidence, &t.owner, 200),
    ] {
        t.expect(Method::PATCH, path, cookie, na.clone(), status)
            .await;
    }

    // Where staging is probed, its health item passes from the probes only: not by hand,
    // not "not applicable", and not after renaming the environment either.
    let staging = json!({ "name": "staging", "base_url": "http://127.0.0.1:9" });
    let env: Value = t
        .send(Method::POST, "/api/v1/environments", &t.admin, staging)
        .await
        .json()
        .await
        .unwrap();
    t.expect(Method::PATCH, &health, &t.captain, na.clone(), 422)
        .await;
    let env_path = format!("/api/v1/environments/{}", env["id"]);
    let renamed = json!({ "name": "staging-eu" });
    t.expect(Method::PATCH, &env_path, &t.admin, renamed, 200)
        .await;
    let r = t.release(id).await;
    assert_eq!(r["staging_environment"], "staging-eu");
    // Nor by pointing the release at a staging nobody probes.
    let unprobed = json!({ "revision": r["revision"], "staging_environment": "staging-old" });
    let release = format!("/api/v1/releases/{id}");
    t.expect(Method::PATCH, &release, &t.captain, unprobed, 422)
        .await;
    for body in [na.clone(), json!({ "state": "passed" })] {
        t.expect(Method::PATCH, &health, &t.captain, body, 422)
            .await;
    }

    // Links per item are bounded.
    let link = |n: usize| json!({ "link": format!("https://ci.example/{n}") });
    for n in 0..20 {
        t.expect(Method::PATCH, &plain, &t.engineer, link(n), 200)
            .await;
    }
    let resp = t
        .expect(Method::PATCH, &plain, &t.engineer, link(21), 422)
        .await;
    assert_eq!(error_code(resp).await, "validation_failed");
}

/// A renewal that races a sign-out (a request still in flight, another replica) must not
/// bring the session back.
#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_signed_out_session_stays_dead(pool: PgPool) {
    use shipgate_server::session_cache::Sessions;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore;
    let store = Sessions::new(pool.clone());
    let mut record = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    record.data.insert("auth".into(), json!({ "user_id": 1 }));
    store.create(&mut record).await.unwrap();
    // A renewal of a live session is saved.
    record.expiry_date += time::Duration::minutes(5);
    store.save(&record).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_some());

    // Signed out; then the racing renewal saves its copy.
    store.delete(&record.id).await.unwrap();
    store.save(&record).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_none());
    let rows = query_i64(&pool, "SELECT count(*) FROM tower_sessions.session").await;
    assert_eq!(rows, 0);

    // The same through HTTP: a cookie replayed after sign-out, by a request that renews.
    let t = team(pool).await;
    let cookie = t.app.session("eng@example.org", PW).await;
    let out = t.app.call(Method::POST, "/auth/logout", &cookie).await;
    assert!(out.status().is_redirection() || out.status().is_success());
    let again = t.app.get("/api/v1/releases", Some(&cookie)).await;
    assert_eq!(again.status(), 401);
}

/// Without JavaScript a form posts itself: a refused server function answers with the
/// redirect back to the page it came from (302, the refusal in the URL, not the refusal's
/// own status, which would leave the browser on a JSON body), and the page shows it.
#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_plain_form_post_returns_to_its_page_with_the_refusal(pool: PgPool) {
    let t = team(pool).await;
    let id = to_go_no_go(&t).await;
    let page = t.app.url(&format!("/releases/{id}"));
    let resp = t
        .req(
            Method::POST,
            &server_fn_path("change_phase"),
            Some(&t.viewer),
        )
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", &page)
        .form(&[("release_id", id.to_string()), ("to", "draft".to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let back = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with(&page) && back.contains("__err="), "{back}");

    let shown = client()
        .get(&back)
        .header("cookie", &t.viewer)
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    let html = shown.text().await.unwrap();
    assert!(
        html.contains(r#"role="alert" class="alert error">You are not allowed to do this."#),
        "the page shows the refusal"
    );

    // Sent in the background (as the form enhancer does), the same refusal keeps its status.
    let json = t
        .req(
            Method::POST,
            &server_fn_path("change_phase"),
            Some(&t.viewer),
        )
        .header("accept", "application/json")
        .form(&[("release_id", id.to_string()), ("to", "draft".to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 403);
}
