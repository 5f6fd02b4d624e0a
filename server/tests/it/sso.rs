//! Single sign-on (OpenID Connect) end to end: a real OpenID provider (`oidc-provider` on
//! Node, `end2end/oidc/provider.mjs`) per test, a real Shipgate over a fresh database, and a
//! browser-less driver through the authorization code flow (see `common::oidc`).

use crate::common::oidc::*;
use crate::common::team::{set_preconditions, team_with, to_go_no_go};
use crate::common::*;
use app::services::accounts::{self, UserChange};
use app::services::Actor;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use shipgate_server::config::{LocalLogin, Settings};
use sqlx::PgPool;
use std::future::Future;
use std::panic::Location;
use std::time::{Duration, Instant};

/// The local admin every SSO test starts with (so the instance is set up).
const ADMIN: &str = "admin@example.org";
const ENG: &str = "eng@example.org";
/// The start of the login page's message for codes it does not know.
const GENERIC: &str = "Something went wrong on our side";

/// A Shipgate that signs in with its own provider.
struct Sso {
    app: TestApp,
    idp: OidcProvider,
}

impl Sso {
    /// The local admin's session (a password sign-in; LOCAL_LOGIN must allow it).
    async fn admin(&self) -> String {
        self.app.session(ADMIN, PW).await
    }
}

/// A provider started with `idp`, and a Shipgate signing in with it: [`sso_settings`] with
/// LOCAL_LOGIN `admins-only` (the default with SSO), adjusted by `adjust`; the local admin
/// [`ADMIN`] exists.
async fn sso_app(pool: PgPool, idp: ProviderConfig, adjust: impl FnOnce(&mut Settings)) -> Sso {
    let idp = OidcProvider::start(idp);
    let mut s = sso_app_settings(&idp, LocalLogin::AdminsOnly);
    adjust(&mut s);
    let app = spawn_app_with(pool, s).await;
    app.add_user(ADMIN, PW, &["admin"]).await;
    Sso { app, idp }
}

/// A provider with the one account `id` (`email`, verified, in `groups`).
fn one(id: &str, email: &str, groups: &[&str]) -> ProviderConfig {
    ProviderConfig::new().account(id, account(email, groups))
}

/// `login` signs in at the provider and is let in: the new session cookie. A refusal fails
/// at the caller's line, naming where Shipgate sent them.
#[track_caller]
fn signs_in<'a>(app: &'a TestApp, login: &'a str) -> impl Future<Output = String> + 'a {
    let at = Location::caller();
    async move {
        SsoBrowser::sign_in(app, login, IDP_PW)
            .await
            .unwrap_or_else(|to| {
                panic!("{login} signs in through the provider, but was sent to {to} (at {at})")
            })
    }
}

/// `login` signs in at the provider, and Shipgate refuses them with `code`: see [`refused`].
#[track_caller]
fn sso_refuses<'a>(
    app: &'a TestApp,
    login: &'a str,
    code: &'a str,
) -> impl Future<Output = ()> + 'a {
    let at = Location::caller();
    async move {
        let attempt = SsoBrowser::attempt(app, login, IDP_PW).await;
        check_refusal(app, attempt.resp, Some(attempt.before.as_str()), code, at).await
    }
}

/// Asserts that the callback answer `resp` is the refusal `code`: a 303 to
/// `/login?error={code}`; neither the cookie the browser had `before` nor one the answer
/// sets is signed in; and the login page it leads to answers 4xx (400 for a failed flow,
/// 403 for a refused person) with a message for it.
#[track_caller]
fn refused<'a>(
    app: &'a TestApp,
    resp: Response,
    before: Option<&'a str>,
    code: &'a str,
) -> impl Future<Output = ()> + 'a {
    let at = Location::caller();
    async move { check_refusal(app, resp, before, code, at).await }
}

async fn check_refusal(
    app: &TestApp,
    resp: Response,
    before: Option<&str>,
    code: &str,
    at: &'static Location<'static>,
) {
    assert_eq!(
        resp.status(),
        303,
        "{code}: the callback redirects (at {at})"
    );
    let to = location(&resp);
    assert!(to.starts_with("/login?"), "{code}: sent to {to} (at {at})");
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some(code),
        "sent to {to} (at {at})"
    );
    let cookies = before
        .map(str::to_string)
        .into_iter()
        .chain(session_cookie(&resp));
    for c in cookies {
        let status = app.get("/api/v1/me", Some(&c)).await.status();
        assert_eq!(status, 401, "{code}: {c} is not signed in (at {at})");
    }
    let page = app.get(&to, None).await;
    let status = page.status().as_u16();
    match login_page_status(code) {
        Some(expected) => assert_eq!(status, expected, "{code}: GET {to} (at {at})"),
        None => assert!(
            status >= 400,
            "{code}: GET {to} answered {status} (at {at})"
        ),
    }
    let html = page.text().await.unwrap();
    let alert = alert_text(&html)
        .unwrap_or_else(|| panic!("{code}: no p.alert[role=alert] on {to} (at {at}): {html}"));
    assert!(
        !alert.is_empty() && !alert.contains(GENERIC),
        "{code}: the login page says {alert:?} (at {at})"
    );
}

/// What the login page answers for `?error={code}`: 400 when the sign-in flow failed,
/// 403 when Shipgate refused the person; `None` where the contract leaves it open.
fn login_page_status(code: &str) -> Option<u16> {
    match code {
        "sso_state" | "sso_provider" | "sso_token" => Some(400),
        "sso_group" | "sso_no_role" | "sso_unverified" | "sso_no_account" | "sso_disabled"
        | "sso_email" | "sso_linked" => Some(403),
        _ => None,
    }
}

/// The text of the page's `<p class="alert …" role="alert">`, tags stripped.
fn alert_text(html: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = html[from..].find("role=\"alert\"") {
        let at = from + i;
        from = at + 1;
        let tag_start = html[..at].rfind('<')?;
        let tag_end = at + html[at..].find('>')?;
        let tag = &html[tag_start..tag_end];
        if !tag.starts_with("<p") || !tag.contains("alert") {
            continue;
        }
        let body = &html[tag_end + 1..];
        let body = &body[..body.find("</p>")?];
        return Some(strip_tags(body).trim().to_string());
    }
    None
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// `GET /api/v1/me` as `cookie`, which must be signed in.
#[track_caller]
fn me(app: &TestApp, cookie: &str) -> impl Future<Output = Value> {
    let req = client()
        .get(app.url("/api/v1/me"))
        .headers(cookie_header(cookie));
    let sent = send_expecting(req, 200, format!("GET /api/v1/me as {cookie}"));
    async move { sent.await.json::<Value>().await.unwrap() }
}

/// The strings of a JSON array, sorted.
#[track_caller]
fn sorted(v: &Value) -> Vec<String> {
    let items = v.as_array().unwrap_or_else(|| panic!("an array, not {v}"));
    let mut out: Vec<String> = items
        .iter()
        .map(|i| {
            i.as_str()
                .unwrap_or_else(|| panic!("strings in {v}"))
                .to_string()
        })
        .collect();
    out.sort();
    out
}

fn strings(xs: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = xs.iter().map(|x| x.to_string()).collect();
    out.sort();
    out
}

/// The person's roles as `/api/v1/me` lists them, sorted.
fn roles_of(me: &Value) -> Vec<String> {
    sorted(&me["roles"])
}

fn id_of(me: &Value) -> i64 {
    me["id"].as_i64().unwrap_or_else(|| panic!("an id in {me}"))
}

#[derive(Debug)]
struct AuditRow {
    actor_id: Option<i64>,
    actor: String,
    old: Value,
    new: Value,
}

/// An `audit_log` row as read: actor id, actor, old and new value.
type RawAuditRow = (Option<i64>, String, Option<Value>, Option<Value>);

/// The audit rows of `action`, oldest first.
async fn audit(pool: &PgPool, action: &str) -> Vec<AuditRow> {
    let rows: Vec<RawAuditRow> = sqlx::query_as(
        "SELECT actor_id, actor, old_value, new_value FROM audit_log WHERE action = $1 ORDER BY id",
    )
    .bind(action)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(actor_id, actor, old, new)| AuditRow {
            actor_id,
            actor,
            old: old.unwrap_or(Value::Null),
            new: new.unwrap_or(Value::Null),
        })
        .collect()
}

/// The one audit row of `action`.
async fn the_audit_row(pool: &PgPool, action: &str) -> AuditRow {
    let mut rows = audit(pool, action).await;
    assert_eq!(rows.len(), 1, "one {action} row: {rows:#?}");
    rows.remove(0)
}

async fn user_id(pool: &PgPool, email: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("the user {email}: {e}"))
}

async fn user_exists(pool: &PgPool, email: &str) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The provider identity an account is tied to: (`oidc_issuer`, `oidc_subject`).
async fn oidc_identity(pool: &PgPool, email: &str) -> (Option<String>, Option<String>) {
    sqlx::query_as("SELECT oidc_issuer, oidc_subject FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("the user {email}: {e}"))
}

async fn user_count(pool: &PgPool) -> i64 {
    query_i64(pool, "SELECT count(*) FROM users").await
}

// --- Without SSO ----------------------------------------------------------------------

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn without_sso_there_is_no_sso_sign_in(pool: PgPool) {
    let app = spawn_app(pool).await;
    app.add_user(ADMIN, PW, &["admin"]).await;
    let resp = app.get("/auth/oidc/login?next=%2F", None).await;
    assert_eq!(resp.status(), 404);
    let page = app.get_text("/login", None).await;
    assert!(!page.contains("sso-login"), "no SSO button: {page}");
    assert!(
        page.contains("name=\"password\""),
        "the password form: {page}"
    );
}

// --- Who gets in, with which roles ----------------------------------------------------

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn first_sign_in_creates_the_user_with_mapped_roles_and_lands_on_next(pool: PgPool) {
    let rita = json!({
        "password": IDP_PW, "email": "rita@example.org", "email_verified": true,
        "name": "Rita Captain", "groups": ["release-captains", "dev"]
    });
    let t = sso_app(pool, ProviderConfig::new().account("rita", rita), |_| {}).await;
    let browser = SsoBrowser::new();
    let (before, authorize) = browser.start(&t.app, "/releases").await;

    // The provider is asked for a code, with PKCE, state and nonce, for the known redirect.
    assert!(
        authorize.starts_with(&format!("{}/", t.idp.issuer())),
        "to the provider: {authorize}"
    );
    for (k, v) in [
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT_URI),
        ("code_challenge_method", "S256"),
    ] {
        assert_eq!(
            query_param(&authorize, k).as_deref(),
            Some(v),
            "{k} in {authorize}"
        );
    }
    for k in ["state", "nonce", "code_challenge"] {
        let v = query_param(&authorize, k).unwrap_or_default();
        assert!(v.len() >= 16, "a random {k} in {authorize}");
    }
    let scope = query_param(&authorize, "scope").unwrap_or_default();
    for s in ["openid", "email", "profile"] {
        assert!(scope.split(' ').any(|x| x == s), "{s} in scope {scope:?}");
    }

    let callback = browser.login_at_provider(&authorize, "rita", IDP_PW).await;
    let resp = SsoBrowser::finish(&t.app, &before, &callback).await;
    assert_eq!(resp.status(), 303);
    assert_eq!(
        location(&resp),
        "/releases",
        "lands where they wanted to go"
    );
    let cookie = outcome(&resp).expect("a new session cookie");
    assert_ne!(cookie, before, "the session id changes at sign-in");
    assert_eq!(
        t.app
            .get("/api/v1/me", Some(before.as_str()))
            .await
            .status(),
        401
    );

    let me = me(&t.app, &cookie).await;
    assert_eq!(me["email"], "rita@example.org");
    assert_eq!(me["name"], "Rita Captain");
    assert_eq!(
        roles_of(&me),
        strings(&["release_captain", "engineer", "viewer"])
    );

    // The auditor sees who was created, from which groups, with which roles.
    let row = the_audit_row(&t.app.pool, "user.sso_create").await;
    assert_eq!(row.actor, "rita@example.org");
    assert_eq!(row.actor_id, Some(id_of(&me)));
    assert_eq!(row.new["user_id"], me["id"], "{:?}", row.new);
    assert_eq!(row.new["email"], "rita@example.org");
    assert_eq!(row.new["name"], "Rita Captain");
    assert_eq!(
        sorted(&row.new["roles"]),
        strings(&["release_captain", "engineer", "viewer"])
    );
    assert_eq!(
        sorted(&row.new["groups"]),
        strings(&["release-captains", "dev"])
    );
    assert_eq!(row.new["issuer"], t.idp.issuer());
    assert_eq!(row.new["subject"], "rita");
    assert_eq!(
        oidc_identity(&t.app.pool, "rita@example.org").await,
        (Some(t.idp.issuer()), Some("rita".to_string()))
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn group_changes_at_the_provider_change_roles_at_the_next_sign_in(pool: PgPool) {
    let mut t = sso_app(pool, one("gus", "gus@example.org", &["dev"]), |_| {}).await;
    let first = signs_in(&t.app, "gus").await;
    let before = me(&t.app, &first).await;
    assert_eq!(roles_of(&before), strings(&["engineer", "viewer"]));

    // The same groups again: nothing changes, nothing to record.
    signs_in(&t.app, "gus").await;
    assert!(audit(&t.app.pool, "user.sso_roles").await.is_empty());

    t.idp
        .set_account("gus", account("gus@example.org", &["platform"]))
        .await;
    let second = signs_in(&t.app, "gus").await;
    let after = me(&t.app, &second).await;
    assert_eq!(after["id"], before["id"], "the same person");
    assert_eq!(roles_of(&after), strings(&["release_captain", "viewer"]));

    let row = the_audit_row(&t.app.pool, "user.sso_roles").await;
    assert_eq!(row.actor, "gus@example.org");
    assert_eq!(row.actor_id, Some(id_of(&after)));
    assert_eq!(row.old["user_id"], after["id"], "{:?}", row.old);
    assert_eq!(row.old["email"], "gus@example.org");
    assert_eq!(sorted(&row.old["roles"]), strings(&["engineer", "viewer"]));
    assert_eq!(row.new["user_id"], after["id"], "{:?}", row.new);
    assert_eq!(
        sorted(&row.new["roles"]),
        strings(&["release_captain", "viewer"])
    );
    assert_eq!(sorted(&row.new["groups"]), strings(&["platform"]));
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn without_a_mapped_group_and_no_catch_all_there_is_no_role(pool: PgPool) {
    let config = one("nia", "nia@example.org", &["dev"])
        .account("newbie", account("newbie@example.org", &["marketing"]));
    let mut t = sso_app(pool, config, |s| {
        sso_of(s).role_map = Some(role_map("admin=shipgate-admins;engineer=dev"));
    })
    .await;
    let cookie = signs_in(&t.app, "nia").await;
    assert_eq!(roles_of(&me(&t.app, &cookie).await), strings(&["engineer"]));

    t.idp
        .set_account("nia", account("nia@example.org", &["marketing"]))
        .await;
    sso_refuses(&t.app, "nia", "sso_no_role").await;

    // Nobody is created without a role either.
    sso_refuses(&t.app, "newbie", "sso_no_role").await;
    assert!(!user_exists(&t.app.pool, "newbie@example.org").await);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn without_a_role_map_new_users_are_viewers_and_roles_set_in_shipgate_stay(pool: PgPool) {
    let config = one("val", "val@example.org", &["shipgate-admins"]);
    let t = sso_app(pool, config, |s| sso_of(s).role_map = None).await;
    let cookie = signs_in(&t.app, "val").await;
    let val = me(&t.app, &cookie).await;
    assert_eq!(roles_of(&val), strings(&["viewer"]), "groups do not matter");

    let admin = t.admin().await;
    let path = format!("/api/v1/users/{}", id_of(&val));
    let roles = json!({ "roles": ["release_captain", "engineer"] });
    let resp = t.app.send_json(Method::PATCH, &path, &admin, roles).await;
    assert_eq!(resp.status(), 200, "the admin gives val roles");

    let again = signs_in(&t.app, "val").await;
    assert_eq!(
        roles_of(&me(&t.app, &again).await),
        strings(&["release_captain", "engineer"]),
        "the next sign-in keeps the roles the admin gave"
    );
    assert!(audit(&t.app.pool, "user.sso_roles").await.is_empty());
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_provider_subject_not_the_email_identifies_a_person(pool: PgPool) {
    let mut t = sso_app(pool, one("sue", "sue@example.org", &["dev"]), |_| {}).await;
    let first = signs_in(&t.app, "sue").await;
    let id = id_of(&me(&t.app, &first).await);

    t.idp
        .set_account("sue", account("susan@example.org", &["dev"]))
        .await;
    let second = signs_in(&t.app, "sue").await;
    assert_eq!(id_of(&me(&t.app, &second).await), id, "the same account");
    assert_eq!(
        user_count(&t.app.pool).await,
        2,
        "the admin and sue, no one new"
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_verified_email_links_an_existing_account(pool: PgPool) {
    let config = one("lin-at-idp", "lin@example.org", &["dev"]);
    let t = sso_app(pool, config, |_| {}).await;
    t.app.add_user("lin@example.org", PW, &["engineer"]).await;
    let id = user_id(&t.app.pool, "lin@example.org").await;

    let cookie = signs_in(&t.app, "lin-at-idp").await;
    assert_eq!(
        id_of(&me(&t.app, &cookie).await),
        id,
        "the existing account"
    );
    assert_eq!(user_count(&t.app.pool).await, 2);
    assert!(audit(&t.app.pool, "user.sso_create").await.is_empty());

    let row = the_audit_row(&t.app.pool, "user.sso_link").await;
    assert_eq!(row.actor, "lin@example.org");
    assert_eq!(row.actor_id, Some(id));
    assert_eq!(row.new["user_id"], id, "{:?}", row.new);
    assert_eq!(row.new["email"], "lin@example.org");
    assert_eq!(row.new["issuer"], t.idp.issuer());
    assert_eq!(row.new["subject"], "lin-at-idp");
    assert_eq!(
        oidc_identity(&t.app.pool, "lin@example.org").await,
        (Some(t.idp.issuer()), Some("lin-at-idp".to_string()))
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_account_tied_to_one_identity_is_not_taken_over_by_another(pool: PgPool) {
    // Two identities at the provider claim the same verified address.
    let config = one("lin-a", "lin@example.org", &["dev"])
        .account("lin-b", account("lin@example.org", &["dev"]));
    let t = sso_app(pool, config, |_| {}).await;
    let cookie = signs_in(&t.app, "lin-a").await;
    let id = id_of(&me(&t.app, &cookie).await);

    sso_refuses(&t.app, "lin-b", "sso_linked").await;
    assert_eq!(
        oidc_identity(&t.app.pool, "lin@example.org").await,
        (Some(t.idp.issuer()), Some("lin-a".to_string())),
        "still tied to the first identity"
    );
    assert!(audit(&t.app.pool, "user.sso_link").await.is_empty());
    assert_eq!(user_count(&t.app.pool).await, 2);
    let again = signs_in(&t.app, "lin-a").await;
    assert_eq!(id_of(&me(&t.app, &again).await), id);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_unverified_email_does_not_link(pool: PgPool) {
    let unverified = with(
        account("uma@example.org", &["dev"]),
        json!({ "email_verified": false }),
    );
    let mut t = sso_app(
        pool,
        ProviderConfig::new().account("uma-idp", unverified),
        |_| {},
    )
    .await;
    t.app.add_user("uma@example.org", PW, &["engineer"]).await;
    let id = user_id(&t.app.pool, "uma@example.org").await;

    sso_refuses(&t.app, "uma-idp", "sso_unverified").await;
    assert_eq!(
        oidc_identity(&t.app.pool, "uma@example.org").await,
        (None, None),
        "no link stored"
    );
    assert!(audit(&t.app.pool, "user.sso_link").await.is_empty());
    assert_eq!(user_count(&t.app.pool).await, 2, "no second account either");

    // Once the provider vouches for the address, the account is linked.
    t.idp
        .set_account("uma-idp", account("uma@example.org", &["dev"]))
        .await;
    let cookie = signs_in(&t.app, "uma-idp").await;
    assert_eq!(id_of(&me(&t.app, &cookie).await), id);
    assert_eq!(
        the_audit_row(&t.app.pool, "user.sso_link").await.new["user_id"],
        id
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_new_account_needs_an_email_from_the_provider(pool: PgPool) {
    let no_email = json!({ "password": IDP_PW, "name": "No Mail", "groups": ["dev"] });
    let t = sso_app(
        pool,
        ProviderConfig::new().account("nomail", no_email),
        |_| {},
    )
    .await;
    sso_refuses(&t.app, "nomail", "sso_email").await;
    assert_eq!(user_count(&t.app.pool).await, 1);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn without_create_users_only_known_people_get_in(pool: PgPool) {
    let config = one("nat", "nat@example.org", &["dev"])
        .account("ola", account("ola@example.org", &["dev"]));
    let t = sso_app(pool, config, |s| sso_of(s).create_users = false).await;
    t.app.add_user("ola@example.org", PW, &["engineer"]).await;

    sso_refuses(&t.app, "nat", "sso_no_account").await;
    assert!(!user_exists(&t.app.pool, "nat@example.org").await);

    // Someone Shipgate knows (by verified e-mail) still gets in.
    let cookie = signs_in(&t.app, "ola").await;
    assert_eq!(me(&t.app, &cookie).await["email"], "ola@example.org");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn allowed_groups_keep_outsiders_out(pool: PgPool) {
    let config = one("out", "out@example.org", &["dev"])
        .account("in", account("in@example.org", &["shipgate-users", "dev"]));
    let t = sso_app(pool, config, |s| {
        sso_of(s).allowed_groups = Some(vec!["shipgate-users".into(), "contractors".into()]);
    })
    .await;

    sso_refuses(&t.app, "out", "sso_group").await;
    assert!(!user_exists(&t.app.pool, "out@example.org").await);

    let cookie = signs_in(&t.app, "in").await;
    assert_eq!(me(&t.app, &cookie).await["email"], "in@example.org");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_disabled_account_stays_out_though_the_provider_signs_them_in(pool: PgPool) {
    let config = one("dan", "dan@example.org", &["dev"])
        .account("dora", account("dora@example.org", &["dev"]));
    let t = sso_app(pool, config, |_| {}).await;
    let disable = |id: i64| {
        let change = UserChange {
            disabled: Some(true),
            ..Default::default()
        };
        let pool = t.app.pool.clone();
        async move {
            accounts::update_user(&pool, &Actor::Cli, id, change)
                .await
                .expect("disabled");
        }
    };

    let cookie = signs_in(&t.app, "dan").await;
    let dan = id_of(&me(&t.app, &cookie).await);
    disable(dan).await;
    assert_eq!(t.app.get("/api/v1/me", Some(&cookie)).await.status(), 401);
    sso_refuses(&t.app, "dan", "sso_disabled").await;

    // A disabled password account is not let in by linking it either.
    t.app.add_user("dora@example.org", PW, &["engineer"]).await;
    disable(user_id(&t.app.pool, "dora@example.org").await).await;
    sso_refuses(&t.app, "dora", "sso_disabled").await;
}

// --- The flow, and what breaks it ------------------------------------------------------

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_unsafe_next_lands_on_the_home_page(pool: PgPool) {
    let t = sso_app(pool, one("ada", "ada@example.org", &["dev"]), |_| {}).await;
    for next in ["//evil.example/x", "https://evil.example/", "/login"] {
        let attempt = SsoBrowser::new()
            .attempt_in(&t.app, next, "ada", IDP_PW)
            .await;
        let cookie = attempt.outcome().expect("ada signs in");
        assert_eq!(location(&attempt.resp), "/", "next={next}");
        me(&t.app, &cookie).await;
    }
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_callback_with_a_forged_state_is_refused(pool: PgPool) {
    let t = sso_app(pool, one("ada", "ada@example.org", &["dev"]), |_| {}).await;
    let browser = SsoBrowser::new();
    let (before, authorize) = browser.start(&t.app, "/").await;
    let callback = browser.login_at_provider(&authorize, "ada", IDP_PW).await;

    let forged = with_query_param(&callback, "state", "forged-state-0123456789");
    let resp = SsoBrowser::finish(&t.app, &before, &forged).await;
    refused(&t.app, resp, Some(before.as_str()), "sso_state").await;
    assert_eq!(user_count(&t.app.pool).await, 1, "nobody was created");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_callback_without_its_pending_sign_in_is_refused(pool: PgPool) {
    let t = sso_app(pool, one("ada", "ada@example.org", &["dev"]), |_| {}).await;
    let browser = SsoBrowser::new();
    let (before, authorize) = browser.start(&t.app, "/").await;
    let callback = browser.login_at_provider(&authorize, "ada", IDP_PW).await;
    let query = callback.split_once('?').map(|(_, q)| q).unwrap();

    // A browser without a session: say, the link opened elsewhere.
    let resp = SsoBrowser::callback(&t.app, None, query).await;
    refused(&t.app, resp, None, "sso_state").await;

    // A browser with its own pending sign-in: the state is not its.
    let (other, _) = SsoBrowser::new().start(&t.app, "/").await;
    let resp = SsoBrowser::finish(&t.app, &other, &callback).await;
    refused(&t.app, resp, Some(other.as_str()), "sso_state").await;
    assert_eq!(user_count(&t.app.pool).await, 1);

    // The stray callbacks spoiled nothing: the browser that started it signs in.
    let resp = SsoBrowser::finish(&t.app, &before, &callback).await;
    let cookie = outcome(&resp).expect("the right browser signs in");
    assert_eq!(me(&t.app, &cookie).await["email"], "ada@example.org");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_callback_works_once(pool: PgPool) {
    let t = sso_app(pool, one("ada", "ada@example.org", &["dev"]), |_| {}).await;
    let browser = SsoBrowser::new();
    let (before, authorize) = browser.start(&t.app, "/").await;
    let callback = browser.login_at_provider(&authorize, "ada", IDP_PW).await;
    let first = SsoBrowser::finish(&t.app, &before, &callback).await;
    let signed_in = outcome(&first).expect("the first use signs in");

    // Replayed with the cookie the browser had before: that session id is gone.
    let again = SsoBrowser::finish(&t.app, &before, &callback).await;
    refused(&t.app, again, Some(before.as_str()), "sso_state").await;

    // Replayed in the signed-in session: the pending sign-in was used up.
    let again = SsoBrowser::finish(&t.app, &signed_in, &callback).await;
    assert_eq!(again.status(), 303);
    let to = location(&again);
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("sso_state"),
        "{to}"
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_replayed_code_is_refused_by_the_provider(pool: PgPool) {
    let t = sso_app(pool, one("ada", "ada@example.org", &["dev"]), |_| {}).await;
    let first = SsoBrowser::new();
    let (before, authorize) = first.start(&t.app, "/").await;
    let used = first.login_at_provider(&authorize, "ada", IDP_PW).await;
    let resp = SsoBrowser::finish(&t.app, &before, &used).await;
    outcome(&resp).expect("the first flow signs in");

    // A second flow in another browser, completed with the first flow's code.
    let (other, authorize) = SsoBrowser::new().start(&t.app, "/").await;
    let state = query_param(&authorize, "state").expect("a state");
    let replay = with_query_param(&used, "state", &state);
    let resp = SsoBrowser::finish(&t.app, &other, &replay).await;
    refused(&t.app, resp, Some(other.as_str()), "sso_provider").await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_error_from_the_provider_is_refused(pool: PgPool) {
    let t = sso_app(pool, one("ada", "ada@example.org", &["dev"]), |_| {}).await;
    let (before, authorize) = SsoBrowser::new().start(&t.app, "/").await;
    let state = query_param(&authorize, "state").expect("a state");
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("error", "access_denied")
        .append_pair("error_description", "The user said no")
        .append_pair("state", &state)
        .finish();
    let resp = SsoBrowser::callback(&t.app, Some(before.as_str()), &query).await;
    refused(&t.app, resp, Some(before.as_str()), "sso_provider").await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn forged_id_tokens_are_refused(pool: PgPool) {
    let mut t = sso_app(pool, one("ada", "ada@example.org", &["dev"]), |_| {}).await;
    for mode in ["nonce", "expired", "issuer", "unknown_key", "audience"] {
        t.idp.set_tamper(mode).await;
        let attempt = SsoBrowser::attempt(&t.app, "ada", IDP_PW).await;
        let code = attempt
            .outcome()
            .err()
            .and_then(|to| query_param(&to, "error"));
        assert_eq!(
            code.as_deref(),
            Some("sso_token"),
            "ID token tampered: {mode}"
        );
        refused(
            &t.app,
            attempt.resp,
            Some(attempt.before.as_str()),
            "sso_token",
        )
        .await;
        assert_eq!(user_count(&t.app.pool).await, 1, "nobody created ({mode})");
    }
    t.idp.set_tamper("none").await;
    let cookie = signs_in(&t.app, "ada").await;
    assert_eq!(me(&t.app, &cookie).await["email"], "ada@example.org");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_unreachable_provider_is_reported(pool: PgPool) {
    let mut t = sso_app(pool, one("ada", "ada@example.org", &["dev"]), |_| {}).await;
    let browser = SsoBrowser::new();
    let (before, authorize) = browser.start(&t.app, "/").await;
    let callback = browser.login_at_provider(&authorize, "ada", IDP_PW).await;
    // Gone before Shipgate redeems the code.
    t.idp.stop();
    let resp = SsoBrowser::finish(&t.app, &before, &callback).await;
    refused(&t.app, resp, Some(before.as_str()), "sso_unreachable").await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_provider_down_when_sign_in_starts_is_reported(pool: PgPool) {
    let mut t = sso_app(pool, one("ada", "ada@example.org", &["dev"]), |_| {}).await;
    // Down before Shipgate ever asked it for its discovery document.
    t.idp.stop();
    let resp = t.app.get("/auth/oidc/login?next=%2F", None).await;
    let before = session_cookie(&resp);
    refused(&t.app, resp, before.as_deref(), "sso_unreachable").await;
}

/// Shipgate fetches the provider's keys again for a token signed by a key it does not know
/// only when its copy is at least this old (`KEY_REFRESH_MIN_GAP` in `server/src/sso`).
const KEY_REFRESH_MIN_GAP: Duration = Duration::from_secs(1);

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_rotated_signing_key_is_picked_up(pool: PgPool) {
    let mut t = sso_app(pool, one("ada", "ada@example.org", &["dev"]), |_| {}).await;
    // Shipgate fetches the provider's discovery document and keys (k1) as this starts.
    let fetched = Instant::now();
    signs_in(&t.app, "ada").await;
    t.idp.restart_with_kid("k2");
    let due = fetched + KEY_REFRESH_MIN_GAP + Duration::from_millis(500);
    tokio::time::sleep(due.saturating_duration_since(Instant::now())).await;
    let cookie = signs_in(&t.app, "ada").await;
    assert_eq!(me(&t.app, &cookie).await["email"], "ada@example.org");
}

/// A sign-in with the claims only in userinfo, or in the ID token too: the groups arrive.
async fn groups_arrive(pool: PgPool, in_id_token: bool) {
    let config = one("eve", "eve@example.org", &["release-captains"]).id_token_claims(in_id_token);
    let t = sso_app(pool, config, |_| {}).await;
    let cookie = signs_in(&t.app, "eve").await;
    let me = me(&t.app, &cookie).await;
    assert_eq!(
        me["email"], "eve@example.org",
        "id_token_claims: {in_id_token}"
    );
    assert_eq!(
        me["name"], "eve at the IdP",
        "id_token_claims: {in_id_token}"
    );
    assert_eq!(
        roles_of(&me),
        strings(&["release_captain", "viewer"]),
        "id_token_claims: {in_id_token}"
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn groups_arrive_from_userinfo(pool: PgPool) {
    groups_arrive(pool, false).await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn groups_arrive_in_the_id_token(pool: PgPool) {
    groups_arrive(pool, true).await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_public_client_signs_in_with_pkce_alone(pool: PgPool) {
    let config = one("ada", "ada@example.org", &["dev"]).public_client();
    let t = sso_app(pool, config, |_| {}).await;
    assert!(
        t.app.get("/health", None).await.status().is_success(),
        "Shipgate runs without a client secret"
    );
    let cookie = signs_in(&t.app, "ada").await;
    assert_eq!(me(&t.app, &cookie).await["email"], "ada@example.org");
}

// --- Passwords beside SSO (LOCAL_LOGIN) ------------------------------------------------

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn local_login_decides_who_may_use_a_password(pool: PgPool) {
    let idp = OidcProvider::start(ProviderConfig::new());
    let modes: [(&str, LocalLogin, u16, u16); 3] = [
        ("on", LocalLogin::On, 200, 200),
        ("admins-only", LocalLogin::AdminsOnly, 200, 403),
        ("off", LocalLogin::Off, 403, 403),
    ];
    let mut first = true;
    for (label, mode, admin_status, user_status) in modes {
        let app = spawn_app_with(pool.clone(), sso_app_settings(&idp, mode)).await;
        if first {
            app.add_user(ADMIN, PW, &["admin"]).await;
            app.add_user(ENG, PW, &["engineer"]).await;
            first = false;
        }
        for (email, status) in [(ADMIN, admin_status), (ENG, user_status)] {
            let resp = app.sign_in(email, PW).await;
            let what = format!("LOCAL_LOGIN={label}: {email} with the right password");
            assert_eq!(resp.status(), status, "{what}");
            if status == 403 {
                assert!(session_cookie(&resp).is_none(), "{what}");
                assert_eq!(error_code(resp).await, "local_login", "{what}");
            } else {
                let cookie = session_cookie(&resp).expect("a session");
                assert_eq!(me(&app, &cookie).await["email"], email, "{what}");
            }
            // A wrong password is just that, whoever may use one.
            let wrong = app.sign_in(email, "not the password").await;
            let what = format!("LOCAL_LOGIN={label}: {email} with a wrong password");
            assert_eq!(wrong.status(), 401, "{what}");
            assert_eq!(error_code(wrong).await, "invalid_credentials", "{what}");
        }
    }
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_login_form_sends_non_admins_to_sso_when_local_login_is_admins_only(pool: PgPool) {
    let t = sso_app(pool, ProviderConfig::new(), |_| {}).await;
    t.app.add_user(ENG, PW, &["engineer"]).await;
    let form = |email: &str| {
        client()
            .post(t.app.url("/auth/login"))
            .form(&[("email", email), ("password", PW), ("next", "/releases")])
            .send()
    };

    let resp = form(ENG).await.unwrap();
    assert_eq!(resp.status(), 303);
    let to = location(&resp);
    assert!(to.starts_with("/login?"), "{to}");
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("local_login"),
        "{to}"
    );
    if let Some(c) = session_cookie(&resp) {
        assert_eq!(t.app.get("/api/v1/me", Some(&c)).await.status(), 401);
    }
    let page = t.app.get_text(&to, None).await;
    let alert = alert_text(&page).unwrap_or_else(|| panic!("a message on {to}: {page}"));
    assert!(!alert.is_empty() && !alert.contains(GENERIC), "{alert:?}");

    // The admin comes in through the same form.
    let resp = form(ADMIN).await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/releases");
    let cookie = session_cookie(&resp).expect("the admin's session");
    assert_eq!(me(&t.app, &cookie).await["email"], ADMIN);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_login_page_offers_what_local_login_allows(pool: PgPool) {
    let idp = OidcProvider::start(ProviderConfig::new());
    let modes: [(&str, LocalLogin, bool, bool); 3] = [
        ("on", LocalLogin::On, true, false),
        ("admins-only", LocalLogin::AdminsOnly, true, true),
        ("off", LocalLogin::Off, false, false),
    ];
    let mut first = true;
    for (label, mode, password_form, tucked_away) in modes {
        let app = spawn_app_with(pool.clone(), sso_app_settings(&idp, mode)).await;
        if first {
            app.add_user(ADMIN, PW, &["admin"]).await;
            first = false;
        }
        let page = app.get_text("/login?next=%2Freleases", None).await;
        assert!(
            page.contains("id=\"sso-login\""),
            "LOCAL_LOGIN={label}: {page}"
        );
        assert!(
            page.contains("href=\"/auth/oidc/login?next="),
            "LOCAL_LOGIN={label}: {page}"
        );
        assert!(page.contains(DISPLAY_NAME), "LOCAL_LOGIN={label}: {page}");
        assert_eq!(
            page.contains("name=\"password\""),
            password_form,
            "LOCAL_LOGIN={label}: the password form"
        );
        assert_eq!(
            page.contains("id=\"local-login\""),
            tucked_away,
            "LOCAL_LOGIN={label}: the password form folded away"
        );
    }
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_sso_user_has_no_password_until_an_admin_sets_one(pool: PgPool) {
    let config = one("sam", "sam@example.org", &["dev"]);
    let t = sso_app(pool, config, |s| s.local_login = LocalLogin::On).await;
    let sam = signs_in(&t.app, "sam").await;
    let id = id_of(&me(&t.app, &sam).await);

    let resp = t
        .app
        .sign_in("sam@example.org", "any password at all")
        .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(error_code(resp).await, "invalid_credentials");

    let path = format!("/api/v1/users/{id}/password");
    let new_password = "sam's own password";
    let body = json!({ "password": new_password });
    let resp = t
        .app
        .send_json(Method::PUT, &path, &sam, body.clone())
        .await;
    assert_eq!(resp.status(), 403, "only an admin sets passwords this way");

    let admin = t.admin().await;
    let resp = t.app.send_json(Method::PUT, &path, &admin, body).await;
    assert!(
        resp.status().is_success(),
        "the admin sets it: {}",
        resp.status()
    );
    let row = audit(&t.app.pool, "user.password")
        .await
        .pop()
        .expect("a user.password row");
    assert_eq!(row.actor, ADMIN);
    assert_eq!(row.new["user_id"], id, "{:?}", row.new);
    assert_eq!(row.new["by"], "admin", "{:?}", row.new);
    assert!(!row.new.to_string().contains(new_password));

    let resp = t.app.sign_in("sam@example.org", new_password).await;
    assert_eq!(resp.status(), 200, "sam signs in with the password");
}

// --- The SSO session -------------------------------------------------------------------

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_sso_session_signs_go_no_go(pool: PgPool) {
    let idp = OidcProvider::start(one("po-idp", "po@example.org", &["po"]));
    let mut s = sso_app_settings(&idp, LocalLogin::On);
    sso_of(&mut s).role_map = None;
    let t = team_with(pool, s).await;
    let po = signs_in(&t.app, "po-idp").await;
    assert_eq!(me(&t.app, &po).await["email"], "po@example.org");

    let id = to_go_no_go(&t).await;
    set_preconditions(&t, id).await;
    t.sign(id, &po, "product_owner", "go", 201).await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn signing_out_of_an_sso_session_offers_the_provider_sign_out(pool: PgPool) {
    let t = sso_app(pool, one("lou", "lou@example.org", &["dev"]), |_| {}).await;
    let browser = SsoBrowser::new();
    let attempt = browser.attempt_in(&t.app, "/", "lou", IDP_PW).await;
    let cookie = attempt.outcome().expect("lou signs in");

    // A form post from the page, as a browser sends it.
    let origin = format!("http://{}", t.app.addr);
    let out = client()
        .post(t.app.url("/auth/logout"))
        .headers(cookie_header(&cookie))
        .header("origin", origin.as_str())
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/login?signed_out=sso");
    assert_eq!(t.app.get("/api/v1/me", Some(&cookie)).await.status(), 401);
    let after = session_cookie(&out).unwrap_or_else(|| cookie.clone());
    assert_eq!(t.app.get("/api/v1/me", Some(&after)).await.status(), 401);

    let page = t.app.get_text("/login?signed_out=sso", Some(&after)).await;
    assert!(page.contains("id=\"sso-logout\""), "{page}");
    assert!(page.contains("href=\"/auth/oidc/logout\""), "{page}");
    assert!(page.contains(DISPLAY_NAME), "{page}");

    let resp = t.app.get("/auth/oidc/logout", Some(&after)).await;
    assert_eq!(resp.status(), 303);
    let to = location(&resp);
    let discovery = t.idp.discovery().await;
    let end_session = discovery["end_session_endpoint"]
        .as_str()
        .unwrap_or_else(|| panic!("end_session_endpoint in {discovery}"));
    assert_eq!(to.split('?').next(), Some(end_session), "{to}");
    assert_eq!(
        query_param(&to, "client_id").as_deref(),
        Some(CLIENT_ID),
        "{to}"
    );
    assert_eq!(
        query_param(&to, "post_logout_redirect_uri").as_deref(),
        Some(POST_LOGOUT_URI),
        "{to}"
    );
    let hint = query_param(&to, "id_token_hint").unwrap_or_default();
    assert_eq!(hint.split('.').count(), 3, "a JWT as id_token_hint: {to}");

    // The provider takes it: its own page asks to confirm.
    let confirm = browser.provider_get(&to).await;
    assert_eq!(confirm.status(), 200, "{to}");
    let html = confirm.text().await.unwrap();
    assert!(html.contains("Yes, sign me out"), "{html}");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_sso_session_ends_at_its_absolute_lifetime(pool: PgPool) {
    let t = sso_app(pool, one("tim", "tim@example.org", &["dev"]), |s| {
        s.session_absolute = Duration::from_secs(2);
        s.session_idle = Duration::from_secs(2);
    })
    .await;
    let cookie = signs_in(&t.app, "tim").await;
    let signed_in_at = Instant::now();
    // Busy all along, so inactivity never strikes.
    while signed_in_at.elapsed() < Duration::from_millis(1200) {
        let status = t.app.get("/api/v1/me", Some(&cookie)).await.status();
        let ms = signed_in_at.elapsed().as_millis();
        assert_eq!(status, 200, "{ms} ms after sign-in");
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let rest = Duration::from_millis(2300).saturating_sub(signed_in_at.elapsed());
    tokio::time::sleep(rest).await;
    assert_eq!(t.app.get("/api/v1/me", Some(&cookie)).await.status(), 401);
}
