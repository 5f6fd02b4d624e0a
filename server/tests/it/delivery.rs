//! What a browser downloads: pages and JSON compressed as the browser asks and never
//! stored, the bundle's precompressed files served as they are, the status stream sent
//! uncompressed (an event stream must not wait in a compressor's buffer).

use crate::common::{client, scratch_dir, settings, spawn_app_with, TestApp};
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};
use sqlx::PgPool;
use std::io::Read;
use std::time::Duration;

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// An app serving a site root with a small bundle: `pkg/shipgate.wasm` and its `.br` and
/// `.gz` made "at build time" (here: by the test).
async fn app_with_bundle(pool: PgPool) -> (TestApp, Vec<u8>, Vec<u8>) {
    let site = scratch_dir("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let wasm: Vec<u8> = (0..20_000u32).flat_map(|i| (i % 7).to_le_bytes()).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, &wasm).unwrap();
    let gz = gz.finish().unwrap();
    // The .br file's bytes need not be brotli to show which file was served.
    let br = b"pretend brotli bytes".to_vec();
    std::fs::write(site.join("pkg/shipgate.wasm"), &wasm).unwrap();
    std::fs::write(site.join("pkg/shipgate.wasm.gz"), &gz).unwrap();
    std::fs::write(site.join("pkg/shipgate.wasm.br"), &br).unwrap();
    let mut s = settings("postgres://unused");
    s.site_root = site.to_string_lossy().into_owned();
    (spawn_app_with(pool, s).await, gz, br)
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn pages_and_json_are_compressed_and_never_stored(pool: PgPool) {
    let (app, _, _) = app_with_bundle(pool).await;
    let cookie = app.signed_in("admin@example.org", &["admin"]).await;

    let plain = client()
        .get(app.url("/releases"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(
        header(&plain, CONTENT_ENCODING),
        "",
        "asked for nothing, got it plain"
    );
    assert_eq!(header(&plain, CACHE_CONTROL), "no-store");
    let plain_body = plain.bytes().await.unwrap();

    let br = client()
        .get(app.url("/releases"))
        .header("cookie", &cookie)
        .header(ACCEPT_ENCODING, "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&br, CONTENT_ENCODING), "br");
    assert_eq!(header(&br, CACHE_CONTROL), "no-store");
    assert!(br.bytes().await.unwrap().len() * 2 < plain_body.len());

    let gz = client()
        .get(app.url("/releases"))
        .header("cookie", &cookie)
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&gz, CONTENT_ENCODING), "gzip");
    let mut page = String::new();
    flate2::read::GzDecoder::new(&gz.bytes().await.unwrap()[..])
        .read_to_string(&mut page)
        .unwrap();
    assert!(
        page.contains("<leptos-island"),
        "the page carries its islands"
    );
    // The page's own markup is the same, whichever way it travelled (nonces differ).
    assert!(page.contains(r#"class="topbar""#));

    let json = client()
        .get(app.url("/api/v1/releases"))
        .header("cookie", &cookie)
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 200);
    assert_eq!(header(&json, CACHE_CONTROL), "no-store");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_bundle_is_served_from_its_precompressed_files(pool: PgPool) {
    let (app, gz, br) = app_with_bundle(pool).await;
    let get = |enc: &'static str| {
        client()
            .get(app.url("/pkg/shipgate.wasm"))
            .header(ACCEPT_ENCODING, enc)
            .send()
    };
    let as_br = get("gzip, br").await.unwrap();
    assert_eq!(as_br.status(), 200);
    assert_eq!(header(&as_br, CONTENT_ENCODING), "br");
    assert_eq!(header(&as_br, CONTENT_TYPE), "application/wasm");
    // No hash.txt beside this test binary: the plain name is revalidated, not kept.
    assert_eq!(header(&as_br, CACHE_CONTROL), "no-cache");
    assert_eq!(as_br.bytes().await.unwrap().to_vec(), br);

    let as_gz = get("gzip").await.unwrap();
    assert_eq!(header(&as_gz, CONTENT_ENCODING), "gzip");
    assert_eq!(as_gz.bytes().await.unwrap().to_vec(), gz);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_status_stream_is_sent_uncompressed_as_it_comes(pool: PgPool) {
    let (app, _, _) = app_with_bundle(pool).await;
    let cookie = app.signed_in("admin@example.org", &["admin"]).await;
    let mut stream = client()
        .get(app.url("/api/v1/status/stream"))
        .header("cookie", &cookie)
        .header(ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(header(&stream, CONTENT_TYPE).starts_with("text/event-stream"));
    assert_eq!(header(&stream, CONTENT_ENCODING), "");
    // The first snapshot arrives at once, readable as it is.
    let first = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
        .await
        .expect("the first event arrives without waiting for more")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&first);
    assert!(text.contains("event: status"), "{text}");
}
