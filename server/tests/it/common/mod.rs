//! Test harness: a real Shipgate on a random port over a fresh database per test.
#![allow(dead_code)]

pub mod oidc;
pub mod responder;
pub mod smtp;
pub mod team;

use app::services::accounts::{self, NewUser};
use app::services::Actor;
use reqwest::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use shipgate_server::config::{LogFormat, LogSettings, Settings, StorageSettings};
use shipgate_server::startup::{Application, SESSION_COOKIE};
use sqlx::PgPool;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::Location;
use std::time::{Duration, Instant};

/// The password of every user the tests create.
pub const PW: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
}

pub fn settings(database_url: &str) -> Settings {
    Settings {
        database_url: database_url.to_string(),
        site_addr: "127.0.0.1:0".parse().unwrap(),
        site_root: "target/site".into(),
        public_base_url: "http://shipgate.test".into(),
        session_idle: Duration::from_secs(3600),
        session_absolute: Duration::from_secs(8 * 3600),
        log: LogSettings {
            level: tracing::Level::WARN,
            format: LogFormat::Text,
        },
        storage: StorageSettings::Local {
            dir: scratch_dir("evidence"),
        },
        evidence_max_bytes: 100_000_000,
        probes: shipgate_server::config::ProbeSettings {
            // Tests judge quickly and retry webhooks at once.
            evaluate_every: Duration::from_millis(300),
            webhook_retry_base: Duration::from_millis(50),
            ..Default::default()
        },
        notify: Default::default(),
        sso: None,
        local_login: shipgate_server::config::LocalLogin::On,
    }
}

/// A clock the tests move on instead of sleeping: real time plus an offset.
#[derive(Clone, Default)]
pub struct TestClock(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl TestClock {
    pub fn clock(&self) -> shipgate_server::config::Clock {
        let offset = self.0.clone();
        shipgate_server::config::Clock::new(move || {
            chrono::Utc::now()
                + chrono::Duration::milliseconds(offset.load(std::sync::atomic::Ordering::SeqCst))
        })
    }

    /// Moves the clock to `at` (from then on it runs on from there).
    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        let offset = (at - chrono::Utc::now()).num_milliseconds();
        self.0.store(offset, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Settings for a Shipgate that mails through `smtp_url` and judges reminders by `clock`.
pub fn settings_with_mail(smtp_url: &str, clock: &TestClock) -> Settings {
    let mut s = settings("postgres://unused");
    s.notify = shipgate_server::config::NotifySettings {
        smtp: Some(shipgate_server::config::SmtpSettings {
            url: shipgate_server::config::smtp_url(smtp_url).unwrap(),
            from: "Shipgate <shipgate@example.org>".into(),
        }),
        clock: clock.clock(),
    };
    s
}

/// A fresh, empty folder under the system's temp dir.
pub fn scratch_dir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "shipgate-test-{what}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    (nanos << 16) ^ N.fetch_add(1, Ordering::SeqCst)
}

pub async fn spawn_app(pool: PgPool) -> TestApp {
    spawn_app_with(pool, settings("postgres://unused")).await
}

pub async fn spawn_app_with(pool: PgPool, settings: Settings) -> TestApp {
    let app = Application::build(&settings, pool.clone())
        .await
        .expect("app builds");
    let addr = app.local_addr();
    tokio::spawn(app.run_until_stopped());
    TestApp { addr, pool }
}

/// A client that keeps no cookies and follows no redirects: tests handle both explicitly.
/// A request that takes a minute fails the test instead of hanging the run.
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn add_user(&self, email: &str, password: &str, roles: &[&str]) {
        accounts::create_user(
            &self.pool,
            &Actor::Cli,
            NewUser {
                email: email.into(),
                name: String::new(),
                password: password.into(),
                roles: roles.iter().map(|r| r.to_string()).collect(),
            },
        )
        .await
        .expect("user created");
    }

    /// Adds a user with `roles` and signs them in: their session cookie.
    pub async fn signed_in(&self, email: &str, roles: &[&str]) -> String {
        self.add_user(email, PW, roles).await;
        self.session(email, PW).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.sign_in_with(email, password, HeaderMap::new()).await
    }

    pub async fn sign_in_with(&self, email: &str, password: &str, headers: HeaderMap) -> Response {
        client()
            .post(self.url("/api/v1/session"))
            .headers(headers)
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the session cookie (`name=value`).
    pub async fn session(&self, email: &str, password: &str) -> String {
        let resp = self.sign_in(email, password).await;
        assert_eq!(resp.status(), 200, "sign-in as {email}");
        session_cookie(&resp).expect("a session cookie is set at sign-in")
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut req = client().get(self.url(path));
        if let Some(c) = cookie {
            req = req.header(COOKIE, c);
        }
        req.send().await.unwrap()
    }

    /// `GET path` as `cookie` (or anonymous): the body as text, whatever the status.
    pub async fn get_text(&self, path: &str, cookie: Option<&str>) -> String {
        self.get(path, cookie).await.text().await.unwrap()
    }

    /// `GET path` as `cookie` (or anonymous): the body as JSON, whatever the status.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str, cookie: Option<&str>) -> T {
        self.get(path, cookie).await.json().await.unwrap()
    }

    /// The page at `path` as `cookie` sees it, asserting it is served (200); a failure
    /// names the caller's line.
    #[track_caller]
    pub fn page(&self, path: &str, cookie: &str) -> impl Future<Output = String> {
        let req = client().get(self.url(path)).header(COOKIE, cookie);
        let sent = send_expecting(req, 200, format!("GET {path}"));
        async move { sent.await.text().await.unwrap() }
    }

    /// `GET path` as `cookie`, asking for a page in `language` (`accept-language`).
    pub async fn get_text_in(&self, path: &str, cookie: &str, language: &'static str) -> String {
        let mut headers = cookie_header(cookie);
        headers.insert("accept-language", HeaderValue::from_static(language));
        let resp = client().get(self.url(path)).headers(headers).send().await;
        resp.unwrap().text().await.unwrap()
    }

    /// `GET path` with an API token.
    pub async fn get_bearer(&self, path: &str, token: &str) -> Response {
        let req = client().get(self.url(path)).bearer_auth(token);
        req.send().await.unwrap()
    }

    /// `POST path` with an API token and a JSON body.
    pub async fn post_bearer(&self, path: &str, token: &str, body: Value) -> Response {
        let req = client().post(self.url(path)).bearer_auth(token).json(&body);
        req.send().await.unwrap()
    }

    /// A request with the session cookie and no body.
    pub async fn call(&self, method: Method, path: &str, cookie: &str) -> Response {
        let req = client().request(method, self.url(path));
        req.headers(cookie_header(cookie)).send().await.unwrap()
    }

    /// `cookie` issues an API token named `name` over the API; the answer (`secret`,
    /// `token`). A refusal fails at the caller's line.
    #[track_caller]
    pub fn new_token(&self, cookie: &str, name: &str) -> impl Future<Output = Value> {
        let req = client()
            .post(self.url("/api/v1/tokens"))
            .headers(cookie_header(cookie))
            .json(&json!({ "name": name }));
        let sent = send_expecting(req, 201, format!("POST /api/v1/tokens {name}"));
        async move { sent.await.json::<Value>().await.unwrap() }
    }

    /// Any request with the session cookie and a JSON body (sent even when it is null).
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        cookie: &str,
        body: Value,
    ) -> Response {
        client()
            .request(method, self.url(path))
            .headers(cookie_header(cookie))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// The registration form, with the password confirmed.
    pub async fn register(&self, email: &str, name: &str, password: &str) -> Response {
        client()
            .post(self.url("/auth/register"))
            .form(&[
                ("email", email),
                ("name", name),
                ("password", password),
                ("confirm", password),
            ])
            .send()
            .await
            .unwrap()
    }

    pub async fn issue_token(&self, email: &str) -> String {
        let user = accounts::find_by_email(&self.pool, email).await.unwrap();
        app::services::tokens::issue(&self.pool, user.id, "test")
            .await
            .unwrap()
            .secret
    }
}

pub fn session_cookie(resp: &Response) -> Option<String> {
    resp.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let pair = v.split(';').next()?.trim();
        pair.starts_with(&format!("{SESSION_COOKIE}="))
            .then(|| pair.to_string())
    })
}

/// The URL path of the server function `name` (`/api/{name}{hash}`), as registered.
pub fn server_fn_path(name: &str) -> String {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .find(|p| {
            p.strip_prefix("/api/")
                .and_then(|rest| rest.strip_prefix(name))
                .is_some_and(|hash| hash.bytes().all(|b| b.is_ascii_digit()))
        })
        .unwrap_or_else(|| panic!("server function {name} is registered"))
        .to_string()
}

pub fn cookie_header(cookie: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
    h
}

/// `base` with the fields of `extra` set over it (a JSON object, else nothing changes).
pub fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        base[k] = v;
    }
    base
}

/// Asserts the API's error shape and returns the code.
pub async fn error_code(resp: Response) -> String {
    let body: Value = resp.json().await.expect("error body is JSON");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_string();
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error.message in {body}"
    );
    code
}

/// Asserts the API's validation error naming `field`: its code, its field and a message;
/// `what` (the request) goes into the failure message.
#[track_caller]
pub fn assert_invalid(body: &Value, field: &str, what: impl std::fmt::Display) {
    assert_eq!(body["error"]["code"], "validation_failed", "{what}: {body}");
    assert_eq!(body["error"]["field"], field, "{what}: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {body}"
    );
}

/// The URL of the test's own database (same server as DATABASE_URL, fresh database).
pub async fn database_url(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL for the tests");
    let base = base.split('?').next().unwrap();
    let server = &base[..base.rfind('/').unwrap()];
    format!("{server}/{name}")
}

/// What a `shipgate` run wrote to stderr.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// What a `shipgate` run wrote to stdout.
pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

pub fn shipgate(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_shipgate"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env("LOG_LEVEL", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("shipgate runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        std::io::Write::write_all(&mut input, text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// Sends `req` and asserts the status of the answer. Async helpers cannot be
/// `#[track_caller]`, so the sync ones that return this future take the caller's location
/// (through their own `#[track_caller]`) before it starts: a failure names the test's line
/// and `what` was sent.
#[track_caller]
pub fn send_expecting(
    req: RequestBuilder,
    status: u16,
    what: String,
) -> impl Future<Output = Response> {
    let at = Location::caller();
    async move {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), status, "{what}, called at {at}");
        resp
    }
}

/// Sends all the requests at once: their statuses, in the order they were answered.
pub async fn all_at_once(requests: impl IntoIterator<Item = RequestBuilder>) -> Vec<u16> {
    let mut set = tokio::task::JoinSet::new();
    for req in requests {
        set.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    set.join_all().await
}

/// The string `key` of every object in the JSON array `list`.
pub fn pluck<'a>(list: &'a Value, key: &str) -> Vec<&'a str> {
    let items = list.as_array().unwrap().iter();
    items.map(|i| i[key].as_str().unwrap()).collect()
}

/// The one number `sql` selects (a count, a maximum).
pub async fn query_i64(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Moves a release to `phase` in the database, behind the API's back.
pub async fn force_phase(pool: &PgPool, id: i64, phase: &str) {
    sqlx::query("UPDATE releases SET phase = $2 WHERE id = $1")
        .bind(id)
        .bind(phase)
        .execute(pool)
        .await
        .unwrap();
}

/// Runs `sql` in one transaction with the audit log's append-only trigger switched off,
/// as someone with the power to switch it off could.
pub async fn behind_the_audit_trigger(pool: &PgPool, sql: &str) {
    let mut tx = pool.begin().await.unwrap();
    for step in [
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
        sql,
        "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only",
    ] {
        sqlx::query(step).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// How long a polling loop may go on. A loop checks, then calls [`Deadline::wait`], which
/// fails the test once the time is up (naming the line that set the deadline, what was
/// awaited and the last thing seen) and otherwise sleeps 200 ms.
pub struct Deadline {
    until: Instant,
    what: &'static str,
    at: &'static Location<'static>,
}

impl Deadline {
    #[track_caller]
    pub fn after(secs: u64, what: &'static str) -> Deadline {
        Deadline {
            until: Instant::now() + Duration::from_secs(secs),
            what,
            at: Location::caller(),
        }
    }

    pub async fn wait(&self, last: impl std::fmt::Display) {
        assert!(
            Instant::now() < self.until,
            "{}: {last} (deadline set at {})",
            self.what,
            self.at
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
