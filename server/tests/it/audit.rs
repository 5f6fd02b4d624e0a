//! The audit trail of accounts and API tokens over real HTTP against a real Postgres: every
//! change writes its row into the one hash chain, and admins (only) read the whole trail
//! through `GET /api/v1/audit` and the `/admin/audit` page.

use crate::common::*;
use app::services::audit::{self, ChainCheck};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use sqlx::PgPool;

const NEW_PW: &str = "a new long password";
const USERS: &str = "/api/v1/users";

async fn audit_get(app: &TestApp, cookie: &str, query: &[(&str, &str)]) -> Response {
    client()
        .get(app.url("/api/v1/audit"))
        .headers(cookie_header(cookie))
        .query(query)
        .send()
        .await
        .unwrap()
}

/// A page of the trail as JSON, asserting it was served.
async fn page(app: &TestApp, cookie: &str, query: &[(&str, &str)]) -> Value {
    let resp = audit_get(app, cookie, query).await;
    assert_eq!(resp.status(), 200, "{query:?}");
    resp.json().await.unwrap()
}

async fn entries(app: &TestApp, cookie: &str, query: &[(&str, &str)]) -> Vec<Value> {
    page(app, cookie, query).await["entries"]
        .as_array()
        .expect("entries")
        .clone()
}

fn entry_ids(page: &Value) -> Vec<i64> {
    let entries = page["entries"].as_array().unwrap().iter();
    entries.map(|e| e["id"].as_i64().unwrap()).collect()
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

async fn my_id(app: &TestApp, cookie: &str) -> i64 {
    let me: Value = app.get_json("/api/v1/me", Some(cookie)).await;
    me["id"].as_i64().unwrap()
}

async fn chain_is_intact(pool: &PgPool) {
    let check = audit::verify(pool).await.unwrap();
    assert!(matches!(check, ChainCheck::Intact { .. }), "{check:?}");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn every_account_and_token_change_writes_its_audit_row(pool: PgPool) {
    let app = spawn_app(pool).await;

    // The first admin registers on the fresh instance.
    let registered = app.register("root@example.org", "Root", PW).await;
    assert_eq!(registered.status(), 303);
    let root = session_cookie(&registered).expect("signed in after registering");
    let root_id = my_id(&app, &root).await;

    // The admin adds Ada, changes her roles, disables and enables her.
    let ada =
        json!({ "email": "ada@example.org", "name": "Ada", "password": PW, "roles": ["engineer"] });
    let created = app.send_json(Method::POST, USERS, &root, ada).await;
    assert_eq!(created.status(), 201);
    let ada_id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let ada_path = format!("/api/v1/users/{ada_id}");
    for patch in [
        json!({ "roles": ["engineer", "viewer"] }),
        json!({ "disabled": true }),
        json!({ "disabled": false }),
    ] {
        let resp = app
            .send_json(Method::PATCH, &ada_path, &root, patch.clone())
            .await;
        assert_eq!(resp.status(), 200, "{patch}");
    }

    // Ada changes her password, issues a token and revokes it.
    let ada = app.session("ada@example.org", PW).await;
    let password = json!({ "current_password": PW, "new_password": NEW_PW });
    let changed = app
        .send_json(Method::POST, "/api/v1/me/password", &ada, password)
        .await;
    assert_eq!(changed.status(), 204);
    let ada = session_cookie(&changed).unwrap_or(ada);
    let issued = app.new_token(&ada, "deploy pipeline").await;
    let secret = issued["secret"].as_str().unwrap().to_string();
    let token_id = issued["token"]["id"].as_i64().unwrap();
    let token = format!("/api/v1/tokens/{token_id}");
    let revoked = app
        .send_json(Method::DELETE, &token, &ada, json!(null))
        .await;
    assert_eq!(revoked.status(), 204);
    // Revoking again changes nothing and records nothing.
    let again = app
        .send_json(Method::DELETE, &token, &ada, json!(null))
        .await;
    assert_eq!(again.status(), 204);

    // Newest first, one row per change, in the account family.
    let users = entries(&app, &root, &[("action", "user.")]).await;
    assert_eq!(
        actions(&users),
        [
            "user.password",
            "user.enable",
            "user.disable",
            "user.roles",
            "user.create",
            "user.register"
        ]
    );
    let [password, enable, disable, roles, create, register] = &users[..] else {
        unreachable!()
    };

    assert_eq!(register["actor"], "root@example.org");
    assert_eq!(register["actor_id"], root_id);
    assert_eq!(register["new"]["user_id"], root_id);
    assert_eq!(register["new"]["roles"], json!(["admin"]));

    assert_eq!(create["actor"], "root@example.org");
    assert_eq!(create["new"]["user_id"], ada_id);
    assert_eq!(create["new"]["email"], "ada@example.org");
    assert_eq!(create["new"]["roles"], json!(["engineer"]));

    assert_eq!(roles["actor"], "root@example.org");
    assert_eq!(roles["old"]["roles"], json!(["engineer"]));
    assert_eq!(roles["new"]["roles"], json!(["engineer", "viewer"]));
    assert_eq!(roles["new"]["email"], "ada@example.org");

    assert_eq!(disable["old"]["disabled"], false);
    assert_eq!(disable["new"]["disabled"], true);
    assert_eq!(disable["new"]["user_id"], ada_id);
    assert_eq!(enable["old"]["disabled"], true);
    assert_eq!(enable["new"]["disabled"], false);

    assert_eq!(password["actor"], "ada@example.org");
    assert_eq!(password["actor_id"], ada_id);
    assert_eq!(password["new"]["user_id"], ada_id);

    let tokens = entries(&app, &root, &[("action", "token.")]).await;
    assert_eq!(actions(&tokens), ["token.revoke", "token.issue"]);
    let (revoke, issue) = (&tokens[0], &tokens[1]);
    assert_eq!(issue["actor"], "ada@example.org");
    assert_eq!(issue["new"]["token_id"], token_id);
    assert_eq!(issue["new"]["name"], "deploy pipeline");
    assert_eq!(issue["new"]["prefix"], issued["token"]["prefix"]);
    assert_eq!(revoke["actor"], "ada@example.org");
    assert_eq!(revoke["old"]["token_id"], token_id);
    assert!(revoke["new"]["revoked_at"].is_string(), "{revoke}");

    // Exact names pick one kind of change.
    let only = entries(&app, &root, &[("action", "user.disable")]).await;
    assert_eq!(actions(&only), ["user.disable"]);

    // No secret reaches the trail: not the passwords, their hashes, nor the token.
    let whole = audit_get(&app, &root, &[("limit", "500")])
        .await
        .text()
        .await
        .unwrap();
    for secret_text in [PW, NEW_PW, secret.as_str(), "$argon2"] {
        assert!(!whole.contains(secret_text), "{secret_text} in the trail");
    }

    // All of it sits in the one chain, which still verifies.
    chain_is_intact(&app.pool).await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_trail_filters_by_actor_action_and_period_and_pages(pool: PgPool) {
    let app = spawn_app(pool).await;
    let admin = app.signed_in("admin@example.org", &["admin"]).await;
    let admin_id = my_id(&app, &admin).await;
    for i in 0..5 {
        let user =
            json!({ "email": format!("u{i}@example.org"), "password": PW, "roles": ["viewer"] });
        let resp = app.send_json(Method::POST, USERS, &admin, user).await;
        assert_eq!(resp.status(), 201, "u{i}");
    }

    // By actor: the account's id or its email; the command line is `cli`.
    let by_email = entries(&app, &admin, &[("actor", "Admin@Example.org")]).await;
    assert_eq!(by_email.len(), 5);
    assert!(by_email.iter().all(|e| e["actor"] == "admin@example.org"));
    let id = admin_id.to_string();
    let by_id = entries(&app, &admin, &[("actor", id.as_str())]).await;
    assert_eq!(by_id, by_email);
    let by_cli = entries(&app, &admin, &[("actor", "cli")]).await;
    assert_eq!(actions(&by_cli), ["user.create"]);
    assert_eq!(by_cli[0]["new"]["email"], "admin@example.org");

    // By action: exact, or a family ending in `.` or `*`.
    assert_eq!(
        entries(&app, &admin, &[("action", "user.create")])
            .await
            .len(),
        6
    );
    assert_eq!(entries(&app, &admin, &[("action", "user")]).await.len(), 0);
    assert_eq!(entries(&app, &admin, &[("action", "user*")]).await.len(), 6);

    // By period, both ends inclusive.
    let all = entries(
        &app,
        &admin,
        &[
            ("since", "2000-01-01T00:00:00Z"),
            ("until", "2100-01-01T00:00:00+01:00"),
        ],
    )
    .await;
    assert_eq!(all.len(), 6);
    let newest_at = all[0]["at"].as_str().unwrap().to_string();
    let since_newest = entries(&app, &admin, &[("since", newest_at.as_str())]).await;
    assert!(!since_newest.is_empty() && since_newest.len() < 6);
    assert_eq!(since_newest[0], all[0]);
    assert!(entries(&app, &admin, &[("until", "2000-01-01T00:00:00Z")])
        .await
        .is_empty());

    // Pages: newest first, `next_before` leads to the next older page, the last has none.
    let first = page(&app, &admin, &[("action", "user.create"), ("limit", "4")]).await;
    let first_ids = entry_ids(&first);
    assert_eq!(first_ids.len(), 4);
    assert!(first_ids.windows(2).all(|w| w[0] > w[1]), "{first_ids:?}");
    let next = first["next_before"].as_i64().expect("a next page");
    assert_eq!(next, *first_ids.last().unwrap());
    let cursor = next.to_string();
    let second = page(
        &app,
        &admin,
        &[
            ("action", "user.create"),
            ("limit", "4"),
            ("before", cursor.as_str()),
        ],
    )
    .await;
    let second_ids = entry_ids(&second);
    assert_eq!(second_ids.len(), 2);
    assert!(second_ids.iter().all(|id| *id < next));
    assert!(second["next_before"].is_null());

    // Without a limit a page holds 50; at most 500 may be asked for.
    assert_eq!(
        audit_get(&app, &admin, &[("limit", "500")]).await.status(),
        200
    );
    for (field, bad) in [
        ("limit", "501"),
        ("limit", "0"),
        ("limit", "many"),
        ("since", "yesterday"),
        ("before", "the start"),
    ] {
        let resp = audit_get(&app, &admin, &[(field, bad)]).await;
        assert_eq!(resp.status(), 422, "{field}={bad}");
        let body: Value = resp.json().await.unwrap();
        assert_invalid(&body, field, format!("{field}={bad}"));
    }
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn only_admins_read_the_trail_and_the_page_shows_it_as_text(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user("admin@example.org", PW, &["admin"]).await;
    app.add_user("viewer@example.org", PW, &["viewer"]).await;
    app.add_user("rc@example.org", PW, &["release_captain"])
        .await;
    let admin = app.session("admin@example.org", PW).await;
    let viewer = app.session("viewer@example.org", PW).await;
    let captain_token = app.issue_token("rc@example.org").await;
    let admin_token = app.issue_token("admin@example.org").await;

    let anonymous = client().get(app.url("/api/v1/audit")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(error_code(anonymous).await, "unauthorized");
    let by_viewer = audit_get(&app, &viewer, &[]).await;
    assert_eq!(by_viewer.status(), 403);
    assert_eq!(error_code(by_viewer).await, "forbidden");
    let by_captain = app.get_bearer("/api/v1/audit", &captain_token).await;
    assert_eq!(by_captain.status(), 403);
    let doc: Value = app.get_json("/api/v1/openapi.json", None).await;
    assert!(doc["paths"]["/audit"]["get"].is_object(), "documented");
    assert!(doc["components"]["schemas"]["AuditPage"].is_object());
    // An admin's pipeline may read it with a token.
    let by_admin_token = app.get_bearer("/api/v1/audit", &admin_token).await;
    assert_eq!(by_admin_token.status(), 200);

    // A name meant to run as script is shown as text on the admin page.
    let mallory = json!({ "email": "mallory@example.org", "name": "<script>alert('x')</script>", "password": PW, "roles": ["viewer"] });
    let created = app.send_json(Method::POST, USERS, &admin, mallory).await;
    assert_eq!(created.status(), 201);

    let admin_page = app.get_text("/admin", Some(&admin)).await;
    assert!(
        admin_page.contains("/admin/audit"),
        "linked from the admin area"
    );

    let html = app.page("/admin/audit", &admin).await;
    assert!(
        html.contains("mallory@example.org"),
        "rows rendered on the server"
    );
    assert!(html.contains(r#"data-action="user.create""#));
    // The action by its name, the roles by theirs, the time in Europe/Berlin.
    assert!(html.contains("Account created"), "the action in words");
    assert!(!html.contains(">user.create<"), "not as its code");
    assert!(html.contains("Roles: Viewer"), "the roles by their names");
    assert!(!html.contains(" UTC"), "times in Europe/Berlin");
    assert!(html.contains("&lt;script&gt;alert"), "the name as text");
    assert!(!html.contains("<script>alert"), "never as markup");

    let filtered = app
        .get_text("/admin/audit?action=token.issue", Some(&admin))
        .await;
    assert!(filtered.contains(r#"data-action="token.issue""#));
    assert!(!filtered.contains(r#"data-action="user.create""#));
    assert!(!filtered.contains("mallory@example.org"));

    let de = app
        .get_text_in("/admin/audit", &admin, "de-DE,de;q=0.9")
        .await;
    assert!(de.contains("Audit-Log"));
    assert!(de.contains("Konto angelegt"), "the action in German");

    let page = app.get("/admin/audit", Some(&viewer)).await;
    assert_eq!(page.status(), 403);
    assert!(!page.text().await.unwrap().contains("mallory@example.org"));
}
