//! Evidence over REST against real Postgres and real storage: a local folder and an
//! S3-compatible server (moto) that `make test` starts on loopback
//! (`SHIPGATE_TEST_S3_ENDPOINT`). Bytes and hashes round-trip, limits hold, and nothing
//! half-stored is ever left behind.

use crate::common::*;
use app::services::storage::UPLOADS_PER_USER;
use chrono::{Duration, Utc};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use shipgate_server::config::StorageSettings;
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

struct Setup {
    app: TestApp,
    token: String,
    captain: String,
    viewer: String,
    release: i64,
    storage: StorageSettings,
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An S3 bucket of its own on the test S3 server.
async fn s3_storage() -> StorageSettings {
    let endpoint = std::env::var("SHIPGATE_TEST_S3_ENDPOINT").expect(
        "SHIPGATE_TEST_S3_ENDPOINT: run the tests through `make test`, which starts an S3 server",
    );
    let bucket = format!("evidence-{}", rand_name());
    let resp = client()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the test S3 server answers");
    assert!(
        resp.status().is_success(),
        "bucket created: {}",
        resp.status()
    );
    StorageSettings::S3 {
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        bucket,
        endpoint: Some(endpoint),
    }
}

fn rand_name() -> String {
    scratch_dir("name")
        .file_name()
        .unwrap()
        .to_string_lossy()
        .rsplit('-')
        .next()
        .unwrap()
        .to_string()
}

async fn setup_with(pool: PgPool, storage: StorageSettings, max_bytes: u64) -> Setup {
    let mut s = settings("postgres://unused");
    s.storage = storage.clone();
    s.evidence_max_bytes = max_bytes;
    let app = spawn_app_with(pool, s).await;
    app.add_user("rc@example.org", PW, &["release_captain"])
        .await;
    app.add_user("po@example.org", PW, &["product_owner"]).await;
    app.add_user("viewer@example.org", PW, &["viewer"]).await;
    let token = app.issue_token("rc@example.org").await;
    let start = Utc::now() + Duration::hours(30);
    let release = json!({
        "title": "Evidence release", "version": "1.0.0", "environment": "prod",
        "window_start": start, "window_end": start + Duration::hours(1),
        "release_captain": "rc@example.org", "product_owner": "po@example.org",
    });
    let created = app.post_bearer("/api/v1/releases", &token, release).await;
    let created: Value = created.json().await.unwrap();
    Setup {
        captain: app.session("rc@example.org", PW).await,
        viewer: app.session("viewer@example.org", PW).await,
        release: created["id"].as_i64().unwrap(),
        token,
        app,
        storage,
    }
}

async fn setup(pool: PgPool) -> Setup {
    let dir = scratch_dir("evidence");
    setup_with(pool, StorageSettings::Local { dir }, 100_000_000).await
}

impl Setup {
    async fn upload_raw(&self, query: &str, content_type: &str, body: Vec<u8>) -> Response {
        client()
            .post(self.app.url(&format!(
                "/api/v1/releases/{}/evidence?{query}",
                self.release
            )))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn upload_text(&self, query: &str, text: &str) -> Response {
        self.upload_raw(query, "text/plain", text.as_bytes().to_vec())
            .await
    }

    async fn upload_form(&self, form: reqwest::multipart::Form) -> Response {
        client()
            .post(
                self.app
                    .url(&format!("/api/v1/releases/{}/evidence", self.release)),
            )
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    async fn download(&self, id: i64, range: Option<&str>) -> Response {
        let mut r = client()
            .get(self.app.url(&format!("/api/v1/evidence/{id}")))
            .bearer_auth(&self.token);
        if let Some(range) = range {
            r = r.header("range", range);
        }
        r.send().await.unwrap()
    }

    /// `GET …/evidence` as the release captain's pipeline sees it.
    async fn list(&self) -> Vec<Value> {
        self.read("evidence").await
    }

    /// `GET …/checklist` as the release captain's pipeline sees it.
    async fn checklist(&self) -> Vec<Value> {
        self.read("checklist").await
    }

    /// `GET /api/v1/releases/{release}/{what}` with the pipeline's token, as JSON.
    async fn read(&self, what: &str) -> Vec<Value> {
        let path = format!("/api/v1/releases/{}/{what}", self.release);
        let resp = self.app.get_bearer(&path, &self.token).await;
        resp.json().await.unwrap()
    }

    async fn rows(&self) -> i64 {
        query_i64(&self.app.pool, "SELECT count(*) FROM evidence").await
    }

    /// Every object in storage, whatever its name (staging files of unfinished uploads
    /// included).
    async fn objects(&self) -> Vec<String> {
        match &self.storage {
            StorageSettings::Local { dir } => files_under(dir),
            s3 => app::services::storage::Storage::from_settings(s3, 1)
                .unwrap()
                .keys("")
                .await
                .unwrap(),
        }
    }
}

impl Setup {
    fn local_dir(&self) -> PathBuf {
        match &self.storage {
            StorageSettings::Local { dir } => dir.clone(),
            _ => panic!("a local folder"),
        }
    }

    /// The log viewer's page of a piece of evidence, as HTML, in a language.
    async fn log_page(&self, id: i64, lang: &str) -> String {
        let resp = client()
            .get(
                self.app
                    .url(&format!("/releases/{}/evidence/{id}", self.release)),
            )
            .header("cookie", &self.captain)
            .header("accept-language", lang)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap()
    }

    async fn storage_key(&self, id: i64) -> String {
        sqlx::query_scalar("SELECT storage_key FROM evidence WHERE id = $1")
            .bind(id)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, text).unwrap();
    gz.finish().unwrap()
}

/// Files under `dir` whose path contains `part`, tolerating files and folders that come and
/// go while it looks (staging files of uploads in flight).
fn count_files(dir: &Path, part: &str) -> usize {
    let mut n = 0;
    let mut todo: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.to_string_lossy().contains(part) {
                n += 1;
            }
        }
    }
    n
}

/// Waits (at most 20 s) until `done` holds.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("never happened: {what}");
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.to_string_lossy().to_string());
            }
        }
    }
    out
}

/// Bytes in, the same bytes out: upload, hash, list, download whole and in ranges.
async fn round_trip(s: &Setup) {
    let image = png(640, 400);
    let resp = s
        .upload_raw(
            "filename=dashboard.png&section=post_release",
            "image/png",
            image.clone(),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["sha256"], sha(&image));
    assert_eq!(body["size"], image.len());
    assert_eq!(body["content_type"], "image/png");
    assert_eq!(body["filename"], "dashboard.png");
    let id = body["id"].as_i64().unwrap();

    let got = s.download(id, None).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");
    assert_eq!(got.headers()["content-type"], "image/png");
    assert!(got.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline; filename=\"dashboard.png\""));
    assert_eq!(got.bytes().await.unwrap().as_ref(), &image[..]);

    let part = s.download(id, Some("bytes=100-199")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{}", image.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &image[100..200]);
    let tail = s.download(id, Some("bytes=-10")).await;
    assert_eq!(
        tail.bytes().await.unwrap().as_ref(),
        &image[image.len() - 10..]
    );
    let beyond = s
        .download(id, Some(&format!("bytes={}-", image.len())))
        .await;
    assert_eq!(beyond.status(), 416);

    let list: Vec<Value> = s.list().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["attached_to"], "post_release");
    assert_eq!(list[0]["uploaded_by"], "rc@example.org");

    // A thumbnail, made server-side and kept.
    let thumbnail = format!("/api/v1/releases/{}/evidence/{id}/thumbnail", s.release);
    let thumb = s.app.get(&thumbnail, Some(&s.captain)).await;
    assert_eq!(thumb.status(), 200);
    let t = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((t.width(), t.height()), (320, 200));
    assert!(s.objects().await.iter().any(|k| k.contains("thumbnails/")));
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn bytes_round_trip_in_a_local_folder(pool: PgPool) {
    round_trip(&setup(pool).await).await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn bytes_round_trip_through_s3(pool: PgPool) {
    let s = setup_with(pool, s3_storage().await, 100_000_000).await;
    round_trip(&s).await;
    // Larger than one 5 MiB part: a real multipart upload.
    let big: Vec<u8> = (0..12_000_000u32).map(|i| (i % 251) as u8).collect();
    let resp = s
        .upload_raw("filename=big.bin", "application/octet-stream", big.clone())
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["sha256"], sha(&big));
    let id = body["id"].as_i64().unwrap();
    let got = s.download(id, None).await.bytes().await.unwrap();
    assert_eq!(sha(&got), sha(&big));
    let part = s.download(id, Some("bytes=6000000-6000099")).await;
    assert_eq!(
        part.bytes().await.unwrap().as_ref(),
        &big[6_000_000..6_000_100]
    );
}

async fn oversize_leaves_nothing(s: &Setup) {
    // Declared too large: refused before a byte is stored.
    let resp = s
        .upload_raw("filename=big.log", "text/plain", vec![b'x'; 1_500_000])
        .await;
    assert_eq!(resp.status(), 413);
    assert_eq!(error_code(resp).await, "payload_too_large");
    // Sent in chunks without a length: refused once the limit is crossed.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..30).map(|_| Ok(vec![b'y'; 64 * 1024])).collect();
    let resp = client()
        .post(s.app.url(&format!(
            "/api/v1/releases/{}/evidence?filename=stream.log",
            s.release
        )))
        .bearer_auth(&s.token)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(error_code(resp).await, "payload_too_large");
    // Several files: the limit holds for the request, and the first file, though it fit,
    // is not kept when the second does not.
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![b'a'; 520_000]).file_name("a.log"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(vec![b'b'; 530_000]).file_name("b.log"),
        );
    let resp = s.upload_form(form).await;
    assert_eq!(resp.status(), 413);
    assert_eq!(s.rows().await, 0);
    assert_eq!(s.objects().await, Vec::<String>::new());
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn oversize_is_413_and_nothing_remains(pool: PgPool) {
    let dir = scratch_dir("evidence");
    let s = setup_with(pool, StorageSettings::Local { dir }, 1_000_000).await;
    oversize_leaves_nothing(&s).await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn oversize_on_s3_leaves_nothing(pool: PgPool) {
    let s = setup_with(pool, s3_storage().await, 1_000_000).await;
    oversize_leaves_nothing(&s).await;
}

async fn cut_off_leaves_nothing(s: &Setup, sent: usize) {
    let mut conn = tokio::net::TcpStream::connect(s.app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/releases/{}/evidence?filename=cut.log HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        s.release,
        s.token,
        sent * 2
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(&vec![b'z'; sent]).await.unwrap();
    conn.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    drop(conn);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(s.rows().await, 0);
    assert_eq!(s.objects().await, Vec::<String>::new());
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_upload_cut_off_midway_leaves_nothing(pool: PgPool) {
    cut_off_leaves_nothing(&setup(pool).await, 150_000).await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn an_upload_to_s3_cut_off_after_a_part_leaves_nothing(pool: PgPool) {
    let s = setup_with(pool, s3_storage().await, 100_000_000).await;
    // More than one 5 MiB part has gone up when the connection drops.
    cut_off_leaves_nothing(&s, 7_000_000).await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn empty_files_and_lying_types(pool: PgPool) {
    let s = setup(pool).await;
    // An empty file proves nothing: refused, nothing kept.
    let resp = s.upload_text("filename=empty.txt", "").await;
    assert_eq!(resp.status(), 422);
    assert_eq!(error_code(resp).await, "validation_failed");
    assert_eq!(s.rows().await, 0);
    assert_eq!(s.objects().await, Vec::<String>::new());
    // So is a form sent without choosing a file (an empty, nameless file part).
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(Vec::new()).file_name(""),
    );
    let resp = s.upload_form(form).await;
    assert_eq!(resp.status(), 422);
    assert_eq!(s.objects().await, Vec::<String>::new());

    // HTML claiming to be a PNG is neither an image nor shown inline.
    for (name, bytes) in [
        (
            "innocent.png",
            &b"<!doctype html><script>alert(document.cookie)</script>"[..],
        ),
        (
            "chart.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        ),
    ] {
        let resp = s
            .upload_raw(&format!("filename={name}"), "image/png", bytes.to_vec())
            .await;
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["content_type"], "application/octet-stream", "{name}");
        assert_eq!(body["kind"], "file");
        let got = s.download(body["id"].as_i64().unwrap(), None).await;
        assert_eq!(got.headers()["content-type"], "application/octet-stream");
        assert!(got.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;"));
        assert_eq!(got.bytes().await.unwrap().as_ref(), bytes);
    }
    // A PNG sent as text is an image all the same.
    let resp = s.upload_raw("filename=shot", "text/plain", png(4, 4)).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["content_type"], "image/png");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn file_names_are_sanitized(pool: PgPool) {
    let s = setup(pool).await;
    let long = "a".repeat(4096) + ".log";
    let cases = [
        ("..%2F..%2Fetc%2Fpasswd", "passwd"),
        ("evil%00name.log", "evilname.log"),
        ("invoice%E2%80%AEgpj.exe", "invoicegpj.exe"),
        (long.as_str(), ""),
    ];
    for (raw, expected) in cases {
        let resp = s.upload_text(&format!("filename={raw}"), "ok\n").await;
        assert_eq!(resp.status(), 201, "{raw}");
        let body: Value = resp.json().await.unwrap();
        let stored = body["filename"].as_str().unwrap();
        if expected.is_empty() {
            assert!(stored.len() <= 255 && stored.ends_with(".log"), "{stored}");
        } else {
            assert_eq!(stored, expected);
        }
    }
    // The name as sent is kept for the record.
    let list: Vec<Value> = s.list().await;
    assert_eq!(list[0]["original_name"], "../../etc/passwd");
    assert_eq!(list[2]["original_name"], "invoice\u{202E}gpj.exe");
    // Storage keys never come from names.
    assert!(s
        .objects()
        .await
        .iter()
        .all(|k| !k.contains("passwd") && !k.contains("evil")));
    // Multipart file names get the same treatment.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"x\n".to_vec()).file_name("../../root/.ssh/id_rsa"),
    );
    let resp = s.upload_form(form).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["filename"], "id_rsa");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn concurrent_uploads_each_keep_their_bytes(pool: PgPool) {
    let s = setup(pool).await;
    // As many at once as one person may have running.
    let uploads = (0..UPLOADS_PER_USER as u8).map(|n| {
        let bytes: Vec<u8> = (0..300_000u32)
            .map(|i| (i as u8).wrapping_mul(n + 1))
            .collect();
        let s = &s;
        async move {
            let query = format!("filename=part-{n}.bin");
            let resp = s
                .upload_raw(&query, "application/octet-stream", bytes.clone())
                .await;
            (bytes, resp)
        }
    });
    let done = futures_util::future::join_all(uploads).await;
    let mut ids = Vec::new();
    for (bytes, resp) in done {
        assert_eq!(resp.status(), 201);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["sha256"], sha(&bytes));
        ids.push((body["id"].as_i64().unwrap(), bytes));
    }
    for (id, bytes) in ids {
        assert_eq!(
            s.download(id, None).await.bytes().await.unwrap().as_ref(),
            &bytes[..]
        );
    }
    assert_eq!(s.rows().await, UPLOADS_PER_USER as i64);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn who_may_upload_and_where_evidence_is_reachable(pool: PgPool) {
    let s = setup(pool).await;
    let url = s.app.url(&format!(
        "/api/v1/releases/{}/evidence?filename=a.log",
        s.release
    ));
    let anon = client().post(&url).body("x").send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let with_session = |cookie: &str, body: &'static str| {
        let req = client().post(&url).header("cookie", cookie);
        req.body(body).send()
    };
    let viewer = with_session(&s.viewer, "x").await.unwrap();
    assert_eq!(viewer.status(), 403);
    assert_eq!(s.rows().await, 0);
    assert_eq!(s.objects().await, Vec::<String>::new());
    // A session works as well as a token; the viewer may look.
    let resp = with_session(&s.captain, "INFO up\n").await.unwrap();
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let seen = s
        .app
        .get(
            &format!("/api/v1/releases/{}/evidence/{id}", s.release),
            Some(&s.viewer),
        )
        .await;
    assert_eq!(seen.status(), 200);
    // Another release's id does not reach it.
    let other = json!({ "title": "Other", "version": "2", "environment": "prod",
        "window_start": Utc::now() + Duration::hours(50), "window_end": Utc::now() + Duration::hours(51) });
    let other = s.app.post_bearer("/api/v1/releases", &s.token, other).await;
    let other: Value = other.json().await.unwrap();
    let wrong = s
        .app
        .get(
            &format!("/api/v1/releases/{}/evidence/{id}", other["id"]),
            Some(&s.captain),
        )
        .await;
    assert_eq!(wrong.status(), 404);
    // Nonexistent release or item: clear errors, nothing stored.
    let resp = client()
        .post(s.app.url("/api/v1/releases/999999/evidence?filename=a.log"))
        .bearer_auth(&s.token)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = s.upload_text("filename=a.log&item=no_such_item", "x").await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["field"], "item");
    let resp = s.upload_text("", "x").await;
    assert_eq!(resp.status(), 422);
    assert_eq!(s.rows().await, 1);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn items_needing_evidence_pass_with_a_file_and_reopen_when_it_is_retracted(pool: PgPool) {
    let s = setup(pool).await;
    let checklist = s.checklist().await;
    let key = checklist
        .iter()
        .find(|i| i["evidence_required"] == true)
        .expect("a template item needs evidence")["key"]
        .as_str()
        .unwrap()
        .to_string();
    let pass = || {
        client()
            .patch(
                s.app
                    .url(&format!("/api/v1/releases/{}/checklist/{key}", s.release)),
            )
            .bearer_auth(&s.token)
            .json(&json!({ "state": "passed" }))
            .send()
    };
    assert_eq!(pass().await.unwrap().status(), 422);

    // Several files at once, attached to the item.
    let form = reqwest::multipart::Form::new()
        .text("item", key.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(png(8, 8)).file_name("smoke.png"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"INFO ok\nERROR boom\n".to_vec())
                .file_name("smoke.log"),
        );
    let resp = s.upload_form(form).await;
    assert_eq!(resp.status(), 201);
    let stored: Vec<Value> = resp.json().await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|e| e["item"] == key.as_str()));
    let passed: Value = pass().await.unwrap().json().await.unwrap();
    assert_eq!(passed["state"], "passed");
    assert_eq!(passed["attachments"], 2);

    let retract_path = |id: i64| format!("/api/v1/releases/{}/evidence/{id}/retract", s.release);
    let retract = |id: i64, reason: &str| {
        let (s, path, reason) = (&s, retract_path(id), json!({ "reason": reason }));
        async move { s.app.post_bearer(&path, &s.token, reason).await }
    };
    let (first, second) = (
        stored[0]["id"].as_i64().unwrap(),
        stored[1]["id"].as_i64().unwrap(),
    );
    assert_eq!(retract(first, " ").await.status(), 422);
    assert_eq!(retract(first, "wrong screenshot").await.status(), 200);
    assert_eq!(retract(first, "again").await.status(), 409);
    let item = |list: Vec<Value>| list.into_iter().find(|i| i["key"] == key.as_str()).unwrap();
    // One proof left: still passed.
    assert_eq!(item(s.checklist().await)["state"], "passed");
    assert_eq!(retract(second, "log of another run").await.status(), 200);
    let now = item(s.checklist().await);
    assert_eq!(
        now["state"], "open",
        "the last proof retracted reopens the item"
    );
    assert_eq!(now["attachments"], 0);

    // Retracted evidence stays: listed, downloadable, in the audit trail; never deleted.
    let list: Vec<Value> = s.list().await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["retract_reason"], "wrong screenshot");
    assert_eq!(s.download(first, None).await.status(), 200);
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'evidence.%' ORDER BY id",
    )
    .fetch_all(&s.app.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "evidence.attach",
            "evidence.attach",
            "evidence.retract",
            "evidence.retract"
        ]
    );
    assert!(sqlx::query("DELETE FROM evidence")
        .execute(&s.app.pool)
        .await
        .is_err());

    // A closed release keeps its checklist proof; its post-release documentation is open.
    force_phase(&s.app.pool, s.release, "done").await;
    let resp = s
        .upload_text(&format!("filename=late.log&item={key}"), "late\n")
        .await;
    assert_eq!(resp.status(), 409);
    let resp = s
        .upload_text("filename=dashboards.log&section=post_release", "ok\n")
        .await;
    assert_eq!(resp.status(), 201);

    // The viewer may not retract.
    let by_viewer = json!({ "reason": "x" });
    let resp = s
        .app
        .send_json(Method::POST, &retract_path(first), &s.viewer, by_viewer)
        .await;
    assert_eq!(resp.status(), 403);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_log_viewer_pages_searches_and_marks_levels(pool: PgPool) {
    let s = setup(pool).await;
    let mut log = String::new();
    for i in 1..=30_000 {
        let level = match i {
            12_345 => "ERROR",
            20_000 => "WARN",
            _ => "INFO",
        };
        log.push_str(&format!(
            "2026-11-28T10:00:00Z {level} request {i} handled\n"
        ));
    }
    let resp = s.upload_text("filename=app.log", &log).await;
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let s = &s;
    let page = |q: &str| {
        let path = format!("/releases/{}/evidence/{id}{q}", s.release);
        async move { s.app.get_text(&path, Some(&s.captain)).await }
    };
    let first = page("").await;
    assert!(
        first.contains("request 1 handled"),
        "first page shows line 1"
    );
    assert!(
        !first.contains("request 501 handled"),
        "a page is 500 lines"
    );
    assert!(first.contains("1 ERROR · 1 WARN · 30000"), "levels counted");
    assert!(first.contains("#L12345"), "a jump to the ERROR line");
    let deep = page("?from=25000").await;
    assert!(deep.contains("request 25001 handled"));
    assert!(deep.contains("id=\"L25001\""));
    // A gzip log is unpacked once, beside it, and read like any other.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 1..=2_000 {
        std::io::Write::write_all(&mut gz, format!("gz line {i} WARN slow\n").as_bytes()).unwrap();
    }
    let resp = s
        .upload_raw(
            "filename=app.log.gz",
            "application/gzip",
            gz.finish().unwrap(),
        )
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["content_type"], "application/gzip");
    let gz_path = format!("/releases/{}/evidence/{}?from=1500", s.release, body["id"]);
    let gz_page = s.app.get_text(&gz_path, Some(&s.captain)).await;
    assert!(
        gz_page.contains("gz line 1501 WARN slow"),
        "gzip logs are shown"
    );
    assert!(gz_page.contains("0 ERROR · 2000 WARN · 2000"));
    assert!(s.objects().await.iter().any(|k| k.contains("unpacked/")));

    // Without the hydration markers (`<!>`) the server puts between text nodes.
    let found = page("?q=REQUEST%2012345").await.replace("<!>", "");
    assert!(found.contains("1 matches"));
    assert!(
        found.contains("ERROR <mark>request 12345</mark> handled"),
        "hits are highlighted"
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn evidence_verify_finds_tampering_and_missing_objects(pool: PgPool) {
    let dir = scratch_dir("evidence");
    let s = setup_with(
        pool,
        StorageSettings::Local { dir: dir.clone() },
        100_000_000,
    )
    .await;
    for n in 0..2 {
        let resp = s
            .upload_text(&format!("filename=f{n}.log"), &format!("line {n}\n"))
            .await;
        assert_eq!(resp.status(), 201);
    }
    let db = database_url(&s.app.pool).await;
    let dir_s = dir.to_string_lossy().to_string();
    let env = [
        ("DATABASE_URL", db.as_str()),
        ("FILE_STORAGE_DIR", dir_s.as_str()),
    ];
    let ok = shipgate(&["evidence", "verify"], &env, None);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("evidence intact: 2 objects"));

    let mut files = files_under(&dir);
    files.sort();
    std::fs::write(&files[0], b"tampered\n").unwrap();
    std::fs::remove_file(&files[1]).unwrap();
    let bad = shipgate(&["evidence", "verify"], &env, None);
    assert!(!bad.status.success());
    let out = stdout(&bad);
    assert!(out.contains("MISMATCH") && out.contains("MISSING"), "{out}");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_gzip_bomb_is_refused_once_and_the_refusal_remembered(pool: PgPool) {
    let s = setup(pool).await;
    // 40 gzip members of 1 MB of one repeated line each: tens of KB that unpack to 40 MB,
    // far past a hundredfold.
    let line = "2026-11-28T10:00:00Z INFO the same line again and again\n";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, line.repeat(1_000_000 / line.len()).as_bytes()).unwrap();
    let bomb = gz.finish().unwrap().repeat(40);
    assert!(bomb.len() < 400_000, "a small file: {} bytes", bomb.len());
    let resp = s
        .upload_raw("filename=bomb.log.gz", "application/gzip", bomb)
        .await;
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    let page = s.log_page(id, "en").await;
    assert!(
        page.contains("This log unpacks to more than") && page.contains("was not unpacked"),
        "the viewer says why it shows nothing"
    );
    assert!(!page.contains("the same line again"), "no lines are shown");
    // Unpacking stopped at the cap and left nothing but the remembered refusal.
    let dir = s.local_dir();
    assert_eq!(count_files(&dir, "unpacked/"), 1);
    assert_eq!(count_files(&dir, ".refused"), 1);
    assert_eq!(count_files(&dir, "#"), 0, "no partial object remains");

    // The refusal is remembered, not worked out again: had the viewer unpacked once more,
    // it would now find a small, valid log in the object's place.
    let key = s.storage_key(id).await;
    std::fs::write(dir.join(&key), gzip(b"fresh line INFO\n")).unwrap();
    let again = s.log_page(id, "de").await;
    assert!(
        again.contains("Dieses Log ergibt entpackt mehr als"),
        "the same refusal, in German"
    );
    assert!(!again.contains("fresh line"));
    assert!(s
        .log_page(id, "en")
        .await
        .contains("This log unpacks to more than"));
    assert_eq!(count_files(&dir, "unpacked/"), 1);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn parallel_views_of_a_gzip_log_unpack_it_once(pool: PgPool) {
    let s = setup(pool).await;
    let mut text = String::new();
    for i in 1..=100_000 {
        text.push_str(&format!(
            "2026-11-28T10:00:00Z INFO request {i} handled in {} ms\n",
            i % 997
        ));
    }
    let resp = s
        .upload_raw(
            "filename=big.log.gz",
            "application/gzip",
            gzip(text.as_bytes()),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    // Watches storage while the views run: every unpack in flight has its staging file.
    let dir = s.local_dir();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (dir, stop) = (dir.clone(), stop.clone());
        tokio::spawn(async move {
            let mut most = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let unpacking = count_files(&dir, ".log#");
                most = most.max(unpacking);
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            most
        })
    };
    let views = (0..8).map(|_| s.log_page(id, "en"));
    let pages = futures_util::future::join_all(views).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let most_at_once = watcher.await.unwrap();

    for page in &pages {
        assert!(
            page.contains("request 1 handled"),
            "every view shows the log"
        );
        assert!(page.contains("· 100000"), "with all its lines");
    }
    assert!(
        most_at_once <= 1,
        "{most_at_once} unpacks of the same log ran at once"
    );
    assert_eq!(count_files(&dir, "unpacked/"), 1);
    assert_eq!(count_files(&dir, "#"), 0);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn one_upload_more_than_a_person_may_run_at_once_is_429(pool: PgPool) {
    let s = setup(pool).await;
    let dir = s.local_dir();
    let url = s.app.url(&format!(
        "/api/v1/releases/{}/evidence?filename=slow.log",
        s.release
    ));
    // Uploads whose bodies stay open until the test ends them.
    let mut open = Vec::new();
    for _ in 0..UPLOADS_PER_USER {
        let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
        tx.send(b"INFO started\n".to_vec()).await.unwrap();
        let body = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
        });
        let sending = client()
            .post(&url)
            .bearer_auth(&s.token)
            .body(reqwest::Body::wrap_stream(body))
            .send();
        open.push((tx, tokio::spawn(sending)));
    }
    // Each is streaming into storage (an object being written) before one more is sent.
    eventually("all uploads streaming", || {
        count_files(&dir, "#") == UPLOADS_PER_USER
    })
    .await;

    let one_more = |lang: &'static str, credential: Option<&str>| {
        let mut r = client()
            .post(&url)
            .header("accept-language", lang)
            .body("INFO one too many\n");
        r = match credential {
            Some(cookie) => r.header("cookie", cookie.to_string()),
            None => r.bearer_auth(&s.token),
        };
        r.send()
    };
    let resp = one_more("de", None).await.unwrap();
    assert_eq!(resp.status(), 429);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("laufende Uploads"),
        "{body}"
    );
    // The same person signed in in a browser: the same limit, in their language.
    let resp = one_more("en", Some(s.captain.as_str())).await.unwrap();
    assert_eq!(resp.status(), 429);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("uploads running"),
        "{body}"
    );
    assert_eq!(s.rows().await, 0);

    // Someone else is not held up.
    s.app
        .add_user("rc2@example.org", PW, &["release_captain"])
        .await;
    let other = s.app.issue_token("rc2@example.org").await;
    let resp = client()
        .post(&url)
        .bearer_auth(&other)
        .body("INFO another person\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);

    // The open uploads finish and are kept; then there is room again.
    for (tx, sending) in open {
        tx.send(b"INFO done\n".to_vec()).await.unwrap();
        drop(tx);
        assert_eq!(sending.await.unwrap().unwrap().status(), 201);
    }
    assert_eq!(s.rows().await, 1 + UPLOADS_PER_USER as i64);
    let resp = s
        .upload_text("filename=after.log", "INFO room again\n")
        .await;
    assert_eq!(resp.status(), 201);
}
