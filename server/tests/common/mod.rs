//! Test harness: a real Shipgate on a random port over a fresh database per test.
#![allow(dead_code)]

pub mod responder;
pub mod team;

use app::services::accounts::{self, NewUser};
use app::services::Actor;
use reqwest::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
use reqwest::{Client, Response};
use serde_json::{json, Value};
use shipgate_server::config::{LogFormat, LogSettings, Settings, StorageSettings};
use shipgate_server::startup::{Application, SESSION_COOKIE};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::time::Duration;

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
    }
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

pub fn cookie_header(cookie: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(COOKIE, HeaderValue::from_str(cookie).unwrap());
    h
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
