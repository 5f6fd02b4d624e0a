//! `/readiness` follows the database: 503 within 3 s of Postgres going away, 200 within 5 s
//! of it coming back, without a restart. The test runs its own throw-away Postgres cluster.

use crate::common::{client, spawn_app};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn bindir() -> PathBuf {
    if let Ok(dir) = std::env::var("PG_BINDIR") {
        return dir.into();
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && Path::new(&dir).join("initdb").exists() {
            return dir.into();
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
        .pop()
        .expect("PostgreSQL server binaries (initdb, pg_ctl) are needed: set PG_BINDIR")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root (initdb refuses root).
fn pg(tool: &str, args: &[&str]) {
    let bin = bindir().join(tool);
    let status = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&bin)
            .args(args)
            .status()
    } else {
        Command::new(&bin).args(args).status()
    }
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    assert!(status.success(), "{tool} {args:?} failed");
}

struct Cluster {
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    fn create() -> Cluster {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir =
            std::env::temp_dir().join(format!("shipgate-readiness-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .arg("postgres:")
                .arg(&dir)
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let data = dir.join("data");
        pg(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let cluster = Cluster { dir, port };
        cluster.start();
        cluster
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log");
        pg(
            "pg_ctl",
            &[
                "-D",
                self.dir.join("data").to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        pg(
            "pg_ctl",
            &[
                "-D",
                self.dir.join("data").to_str().unwrap(),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let pg_ctl = bindir().join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            Command::new(&pg_ctl)
        };
        let _ = cmd
            .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Polls `/readiness` until it answers `want`; returns how long that took.
async fn wait_for(url: &str, want: u16, limit: Duration) -> Duration {
    let client = reqwest::Client::new();
    let start = Instant::now();
    loop {
        let status = client
            .get(url)
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        if status == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "/readiness did not answer {want} within {limit:?} (last: {status})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn readiness_follows_the_database_without_a_restart() {
    let cluster = Cluster::create();
    let pool = shipgate_server::startup::pool(&cluster.url()).unwrap();
    let app = spawn_app(pool).await;
    let readiness = app.url("/readiness");
    let health = app.url("/health");

    wait_for(&readiness, 200, Duration::from_secs(5)).await;
    shipgate_server::MIGRATOR.run(&app.pool).await.unwrap();
    app.add_user(
        "rc@example.org",
        "correct horse battery",
        &["release_captain"],
    )
    .await;
    let token = app.issue_token("rc@example.org").await;
    let cookie = app.session("rc@example.org", "correct horse battery").await;

    cluster.stop();
    let went_down = wait_for(&readiness, 503, Duration::from_secs(3)).await;
    let text = reqwest::get(&readiness)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["status"], "unavailable");
    // Anonymous callers learn that the database is unreachable, not the driver's words.
    assert!(body.get("reason").is_none(), "{text}");
    assert!(
        !text.contains("127.0.0.1") && !text.to_lowercase().contains("connect"),
        "{text}"
    );
    // The process itself is fine.
    assert_eq!(reqwest::get(&health).await.unwrap().status(), 200);
    // The API says it is an outage (503 JSON), whether the caller uses a token or a session.
    let api = app.url("/api/v1/releases");
    for resp in [
        client().get(&api).bearer_auth(&token).send().await.unwrap(),
        client()
            .get(&api)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(resp.status(), 503);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
    }

    cluster.start();
    let came_back = wait_for(&readiness, 200, Duration::from_secs(5)).await;
    eprintln!("readiness: 503 after {went_down:?}, 200 again after {came_back:?}");
}
