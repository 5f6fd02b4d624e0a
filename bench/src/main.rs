//! `bench-baseline ADDR`: `GET /releases/{id}` answered by one indexed query, as JSON, and
//! `GET /static` answering the bytes of `$BASELINE_STATIC_FILE` from memory (the least a
//! server can do to hand out a prepared snapshot).
//! `bench-baseline target ADDR`: a probe target: `/ok/…` answers 200, `/hang/…` never.
//! `bench-baseline archive-bench APP_URL TOKEN DATABASE_URL COMMIT FROM TO`: a fixed mix of
//! archive searches, each sent `$BENCH_ARCHIVE_REQUESTS` (200) times one after another to
//! `GET /api/v1/archive` and run as the same SQL straight through sqlx; prints
//! `sql_p50 sql_p95 sql_max sql_errors api_p50 api_p95 api_max api_errors` (ms).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::types::chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use std::time::Instant;

async fn release(
    State(pool): State<PgPool>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, StatusCode> {
    let row = sqlx::query(
        "SELECT id, title, version, environment, phase, window_start::text AS window_start
         FROM releases WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&pool)
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
    .ok_or(StatusCode::NOT_FOUND)?;
    Ok(Json(json!({
        "id": row.get::<i64, _>("id"),
        "title": row.get::<String, _>("title"),
        "version": row.get::<String, _>("version"),
        "environment": row.get::<String, _>("environment"),
        "phase": row.get::<String, _>("phase"),
        "window_start": row.get::<String, _>("window_start"),
    })))
}

/// Answers `/ok/…` at once and lets `/hang/…` wait forever.
async fn probe_target(addr: String) {
    async fn ok() -> &'static str {
        "ok"
    }
    async fn hang() -> &'static str {
        std::future::pending::<()>().await;
        "never"
    }
    let app = Router::new()
        .route("/ok/{*rest}", get(ok))
        .route("/hang/{*rest}", get(hang));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("target") {
        args.next();
        return probe_target(args.next().unwrap_or_else(|| "127.0.0.1:3200".into())).await;
    }
    if args.peek().map(String::as_str) == Some("archive-bench") {
        args.next();
        return archive_bench(args.collect()).await;
    }
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3100".into());
    let snapshot = axum::body::Bytes::from(
        std::env::var("BASELINE_STATIC_FILE")
            .ok()
            .and_then(|f| std::fs::read(f).ok())
            .unwrap_or_default(),
    );
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect(&url)
        .await
        .expect("database");
    let app = Router::new()
        .route("/releases/{id}", get(release))
        .with_state(pool)
        .route(
            "/static",
            get(move || {
                let bytes = snapshot.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        bytes,
                    )
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

/// One archive search as the API gets it and as the SQL the archive service runs for it.
struct Search {
    name: &'static str,
    query: String,
    filter: Filter,
}

/// The archive service's filters, already resolved (prefix tsquery, Berlin day bounds).
struct Filter {
    tsquery: Option<String>,
    outcome: Option<&'static str>,
    environment: Option<&'static str>,
    from: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    person: Option<&'static str>,
    page: i64,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            tsquery: None,
            outcome: None,
            environment: None,
            from: None,
            before: None,
            person: None,
            page: 1,
        }
    }
}

impl Filter {
    fn push_where(&self, b: &mut QueryBuilder<'_, Postgres>) {
        b.push(" WHERE TRUE");
        if let Some(t) = &self.tsquery {
            b.push(" AND search @@ to_tsquery('simple', ")
                .push_bind(t.clone())
                .push(")");
        }
        if let Some(o) = self.outcome {
            b.push(" AND outcome = ").push_bind(o);
        }
        if let Some(e) = self.environment {
            b.push(" AND lower(environment) = lower(")
                .push_bind(e)
                .push(")");
        }
        if let Some(t) = self.from {
            b.push(" AND ended_at >= ").push_bind(t);
        }
        if let Some(t) = self.before {
            b.push(" AND ended_at < ").push_bind(t);
        }
        if let Some(p) = self.person {
            b.push(" AND people @> ARRAY[")
                .push_bind(p)
                .push("]::text[]");
        }
    }
}

const ARCHIVE_COLUMNS: &str =
    "release_id, outcome, title, version, commit_sha, environment, window_start, ended_at, people";

/// The archive service's two statements: the capped count, then the page, collected first
/// or walked newest first by the same rule. Returns the matches.
async fn archive_sql(pool: &PgPool, f: &Filter) -> Result<i64, sqlx::Error> {
    let mut count = QueryBuilder::<Postgres>::new(
        "SELECT count(*),
                coalesce((SELECT reltuples::bigint FROM pg_class
                          WHERE oid = 'archive_entries'::regclass), -1)
         FROM (SELECT 1 FROM archive_entries",
    );
    f.push_where(&mut count);
    count.push(" LIMIT ").push_bind(10_001i64).push(") s");
    let (matches, rows): (i64, i64) = count
        .build_query_as()
        .persistent(false)
        .fetch_one(pool)
        .await?;
    let capped = matches > 10_000;
    let offset = (f.page - 1) * 25;
    if matches == 0 || (!capped && offset >= matches) {
        return Ok(matches);
    }
    let collect = !capped
        && 2.0 * (matches as f64) * (matches as f64)
            < (offset + 25) as f64 * rows.max(matches) as f64;
    let mut select = if collect {
        QueryBuilder::<Postgres>::new(format!(
            "WITH matches AS MATERIALIZED (SELECT {ARCHIVE_COLUMNS} FROM archive_entries"
        ))
    } else {
        QueryBuilder::<Postgres>::new(format!("SELECT {ARCHIVE_COLUMNS} FROM archive_entries"))
    };
    f.push_where(&mut select);
    if collect {
        select.push(format!(") SELECT {ARCHIVE_COLUMNS} FROM matches"));
    }
    select
        .push(" ORDER BY ended_at DESC, release_id DESC LIMIT 25 OFFSET ")
        .push_bind(offset);
    let page: Vec<Value> = select
        .build()
        .persistent(false)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            json!({
                "release_id": r.get::<i64, _>("release_id"),
                "outcome": r.get::<String, _>("outcome"),
                "title": r.get::<String, _>("title"),
                "version": r.get::<String, _>("version"),
                "commit_sha": r.get::<Option<String>, _>("commit_sha"),
                "environment": r.get::<String, _>("environment"),
                "window_start": r.get::<DateTime<Utc>, _>("window_start").to_rfc3339(),
                "ended_at": r.get::<DateTime<Utc>, _>("ended_at").to_rfc3339(),
                "people": r.get::<Vec<String>, _>("people"),
            })
        })
        .collect();
    // What a handler would send; the bytes are dropped.
    let _ = serde_json::to_vec(&json!({ "entries": page, "total": matches.min(10_000) }));
    Ok(matches)
}

/// Midnight starting a Berlin calendar day, `days_after` it, in UTC, as the service has it.
async fn berlin_midnight(pool: &PgPool, day: &str, days_after: i32) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT (($1::date + $2)::timestamp AT TIME ZONE 'Europe/Berlin')")
        .bind(day)
        .bind(days_after)
        .fetch_one(pool)
        .await
        .expect("a day as YYYY-MM-DD")
}

fn prefix(word: &str) -> Option<String> {
    Some(format!("'{word}':*"))
}

/// Rare and common words, a version and a commit prefix, filters, a day range, a person and
/// a later page: the searches people run, over the bench seed's 100k archived releases.
async fn archive_mix(pool: &PgPool, commit: &str, from: &str, to: &str) -> Vec<Search> {
    let (from_utc, before_utc) = (
        berlin_midnight(pool, from, 0).await,
        berlin_midnight(pool, to, 1).await,
    );
    let search = |name, query: String, filter| Search {
        name,
        query,
        filter,
    };
    vec![
        search(
            "rare word",
            "q=kerberos".into(),
            Filter {
                tsquery: prefix("kerberos"),
                ..Filter::default()
            },
        ),
        search(
            "common word",
            "q=service".into(),
            Filter {
                tsquery: prefix("service"),
                ..Filter::default()
            },
        ),
        search(
            "version prefix",
            "q=4.2".into(),
            Filter {
                tsquery: prefix("4.2"),
                ..Filter::default()
            },
        ),
        search(
            "commit prefix",
            format!("q={commit}"),
            Filter {
                tsquery: prefix(commit),
                ..Filter::default()
            },
        ),
        search(
            "outcome + environment",
            "outcome=rolled_back&environment=prod-eu".into(),
            Filter {
                outcome: Some("rolled_back"),
                environment: Some("prod-eu"),
                ..Filter::default()
            },
        ),
        search(
            "day range",
            format!("from={from}&to={to}"),
            Filter {
                from: Some(from_utc),
                before: Some(before_utc),
                ..Filter::default()
            },
        ),
        search(
            "person",
            "person=anna%40bench.example".into(),
            Filter {
                person: Some("anna@bench.example"),
                ..Filter::default()
            },
        ),
        search(
            "page 3, broad word",
            "q=checkout&page=3".into(),
            Filter {
                tsquery: prefix("checkout"),
                page: 3,
                ..Filter::default()
            },
        ),
    ]
}

/// p-th percentile (nearest rank) of unsorted milliseconds; 0 for none.
fn percentile(ms: &[f64], p: f64) -> f64 {
    if ms.is_empty() {
        return 0.0;
    }
    let mut sorted = ms.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

async fn archive_get(http: &reqwest::Client, url: &str, token: &str) -> bool {
    match http.get(url).bearer_auth(token).send().await {
        Ok(resp) if resp.status().is_success() => resp.bytes().await.is_ok(),
        _ => false,
    }
}

async fn archive_bench(args: Vec<String>) {
    let [app, token, database, commit, from, to] =
        <[String; 6]>::try_from(args).unwrap_or_else(|_| {
            eprintln!(
                "usage: bench-baseline archive-bench APP_URL TOKEN DATABASE_URL COMMIT FROM TO"
            );
            std::process::exit(2)
        });
    let requests: usize = std::env::var("BENCH_ARCHIVE_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&database)
        .await
        .expect("database");
    let http = reqwest::Client::new();
    let (mut api, mut sql) = (vec![], vec![]);
    let (mut api_errors, mut sql_errors) = (0usize, 0usize);
    for s in archive_mix(&pool, &commit, &from, &to).await {
        let url = format!("{app}/api/v1/archive?{}", s.query);
        for _ in 0..5 {
            archive_get(&http, &url, &token).await;
            let _ = archive_sql(&pool, &s.filter).await;
        }
        let (mut a, mut b, mut matches) = (vec![], vec![], 0);
        // Alternating, so both see the same cache and the same neighbours' load.
        for _ in 0..requests {
            let t = Instant::now();
            if archive_get(&http, &url, &token).await {
                a.push(elapsed_ms(t));
            } else {
                api_errors += 1;
            }
            let t = Instant::now();
            match archive_sql(&pool, &s.filter).await {
                Ok(m) => {
                    matches = m;
                    b.push(elapsed_ms(t));
                }
                Err(_) => sql_errors += 1,
            }
        }
        eprintln!(
            "bench: archive {:<22} {:>6} matches   api p95 {:>7.2} ms   sql p95 {:>7.2} ms   ({})",
            s.name,
            matches,
            percentile(&a, 95.0),
            percentile(&b, 95.0),
            s.query
        );
        api.extend(a);
        sql.extend(b);
    }
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    println!(
        "{:.2} {:.2} {:.2} {} {:.2} {:.2} {:.2} {}",
        percentile(&sql, 50.0),
        percentile(&sql, 95.0),
        max(&sql),
        sql_errors,
        percentile(&api, 50.0),
        percentile(&api, 95.0),
        max(&api),
        api_errors
    );
}
