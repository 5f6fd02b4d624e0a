//! The release archive and the delivery metrics against a real Postgres: text search over
//! words, versions and commits; each filter alone and combined; Europe/Berlin calendar
//! days; pages; refusals; who may read; the monthly figures; and the pages as rendered.

use crate::common::*;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Utc};
use serde_json::Value;
use sqlx::PgPool;
use std::collections::HashSet;

/// An ended release as the archive files it.
#[derive(Clone, Debug)]
struct Archived {
    outcome: &'static str,
    title: String,
    version: String,
    artifact: Option<String>,
    commit: Option<String>,
    environment: &'static str,
    ended: DateTime<Utc>,
    people: Vec<String>,
    notes: String,
    issues: String,
    staging_started: Option<DateTime<Utc>>,
    restore_seconds: Option<f64>,
}

impl Archived {
    fn ended_at(outcome: &'static str, ended: DateTime<Utc>) -> Archived {
        Archived {
            outcome,
            title: "Monthly release".into(),
            version: "1.0.0".into(),
            artifact: None,
            commit: None,
            environment: "prod",
            ended,
            people: vec![],
            notes: String::new(),
            issues: String::new(),
            staging_started: None,
            restore_seconds: None,
        }
    }

    /// The searched words, split the way plain words are (enough for the plain words the
    /// tests look for).
    fn has_word_prefix(&self, prefix: &str) -> bool {
        let text = format!(
            "{} {} {} {} {} {}",
            self.title,
            self.version,
            self.artifact.as_deref().unwrap_or(""),
            self.commit.as_deref().unwrap_or(""),
            self.notes,
            self.issues
        );
        text.to_lowercase()
            .split_whitespace()
            .any(|w| w.starts_with(&prefix.to_lowercase()))
    }

    fn has_person(&self, email: &str) -> bool {
        self.people.iter().any(|p| p == &email.to_lowercase())
    }

    /// The Berlin calendar day it ended on (2025: summer time from 30 March 01:00 UTC to
    /// 26 October 01:00 UTC).
    fn berlin_day(&self) -> NaiveDate {
        let summer =
            utc("2025-03-30T01:00:00Z") <= self.ended && self.ended < utc("2025-10-26T01:00:00Z");
        (self.ended + Duration::hours(if summer { 2 } else { 1 })).date_naive()
    }
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Files the release and its archive row, the search text made as a sealed dossier makes it.
async fn file(pool: &PgPool, a: &Archived) -> i64 {
    let window_start = a.ended - Duration::hours(3);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO releases (title, version, artifact_version, commit_sha, environment,
             window_start, window_end, phase)
         VALUES ($1, $2, $3, $4, $5, $6, $6 + interval '2 hours', $7) RETURNING id",
    )
    .bind(&a.title)
    .bind(&a.version)
    .bind(&a.artifact)
    .bind(&a.commit)
    .bind(a.environment)
    .bind(window_start)
    .bind(a.outcome)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO archive_entries (release_id, outcome, title, version, commit_sha, environment,
             window_start, ended_at, staging_started_at, restore_seconds, people, search)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
             to_tsvector('simple', $3 || ' ' || $4 || ' ' || coalesce($12, '') || ' '
                 || coalesce($5, '') || ' ' || $13 || ' ' || $14))",
    )
    .bind(id)
    .bind(a.outcome)
    .bind(&a.title)
    .bind(&a.version)
    .bind(&a.commit)
    .bind(a.environment)
    .bind(window_start)
    .bind(a.ended)
    .bind(a.staging_started)
    .bind(a.restore_seconds)
    .bind(&a.people)
    .bind(&a.artifact)
    .bind(&a.notes)
    .bind(&a.issues)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// Sixty ended releases from January to October 2025, every fifth day, varied in every
/// way the archive filters by, with a few rows placed on purpose.
fn sixty() -> Vec<Archived> {
    let base = utc("2025-01-03T12:00:00Z");
    (0..60usize)
        .map(|i| {
            let captain = ["anna@example.org", "ben@example.org"][i % 2];
            let owner = if i % 4 == 0 {
                "olga@example.org"
            } else {
                "paul@example.org"
            };
            let mut people: Vec<String> = [captain, owner].map(String::from).to_vec();
            if i % 6 == 0 {
                people.push("sam@example.org".into());
            }
            people.sort();
            let sha = format!("c{i:02}0f3a9b7e1d2c4a5b6e7f8091a2b3c4d5e6f7a8b");
            let mut a = Archived {
                outcome: match i % 5 {
                    3 => "no_go",
                    4 => "rolled_back",
                    _ => "done",
                },
                title: format!(
                    "{} {}",
                    ["Checkout", "Payments", "Search", "Login"][i % 4],
                    ["release", "hotfix", "rollout"][i % 3]
                ),
                version: format!("{}.{}.{}", 3 + i / 20, i % 20, i % 3),
                artifact: None,
                commit: (i % 10 != 9).then(|| sha[..40].to_string()),
                environment: ["prod", "Prod-EU", "staging"][i % 3],
                ended: base + Duration::days(5 * i as i64),
                people,
                notes: if i % 7 == 0 {
                    "Database migration ran, smoke tests green".into()
                } else {
                    "Smoke tests green".into()
                },
                issues: String::new(),
                staging_started: None,
                restore_seconds: None,
            };
            match i {
                5 => a.notes = "Kerberos keytab rotated".into(),
                // 00:30 on 1 February in Berlin, still 31 January in UTC (winter time).
                6 => a.ended = utc("2025-01-31T23:30:00Z"),
                12 => a.issues = "PAY-77 Duplicate charge on retry".into(),
                // 00:00 on 1 May in Berlin.
                17 => a.ended = utc("2025-04-30T22:00:00Z"),
                // 00:30 on 1 April in Berlin, still 31 March in UTC (summer time).
                18 => a.ended = utc("2025-03-31T22:30:00Z"),
                // The last second of 30 April in Berlin.
                19 => a.ended = utc("2025-04-30T21:59:59Z"),
                20 => a.version = "v2.4.0-rc1".into(),
                21 => {
                    a.version = "2.4.1".into();
                    a.artifact = Some("2.4.1+build.9".into());
                }
                33 => a.issues = "BUG-7 Slow login on Android".into(),
                _ => {}
            }
            a
        })
        .collect()
}

struct Archive {
    app: TestApp,
    captain: String,
    viewer: String,
    rows: Vec<(i64, Archived)>,
}

async fn archive(pool: PgPool) -> Archive {
    let app = spawn_app(pool).await;
    app.add_user("rc@example.org", PW, &["release_captain"])
        .await;
    app.add_user("viewer@example.org", PW, &["viewer"]).await;
    let mut rows = vec![];
    for a in sixty() {
        rows.push((file(&app.pool, &a).await, a));
    }
    Archive {
        captain: app.session("rc@example.org", PW).await,
        viewer: app.session("viewer@example.org", PW).await,
        app,
        rows,
    }
}

fn ids(page: &Value) -> Vec<i64> {
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["release_id"].as_i64().unwrap())
        .collect()
}

impl Archive {
    async fn search(&self, qs: &str) -> Value {
        let resp = self
            .app
            .get(&format!("/api/v1/archive?{qs}"), Some(&self.captain))
            .await;
        assert_eq!(resp.status(), 200, "GET /api/v1/archive?{qs}");
        resp.json().await.unwrap()
    }

    /// Every match, page by page, checking the total on the way.
    async fn all(&self, qs: &str) -> Vec<i64> {
        let first = self.search(qs).await;
        let total = first["total"].as_i64().unwrap();
        assert_eq!(first["total_capped"], false, "{qs}");
        let mut found = ids(&first);
        let mut page = 1;
        while (found.len() as i64) < total {
            page += 1;
            let next = self.search(&format!("{qs}&page={page}")).await;
            assert_eq!(next["page"], page);
            let more = ids(&next);
            assert!(
                !more.is_empty(),
                "{qs}: page {page} is empty before {total}"
            );
            found.extend(more);
        }
        assert_eq!(found.len() as i64, total, "{qs}");
        found
    }

    /// The ids the archive should answer, newest first.
    fn expect(&self, keep: impl Fn(&Archived) -> bool) -> Vec<i64> {
        let mut hits: Vec<&(i64, Archived)> = self.rows.iter().filter(|(_, a)| keep(a)).collect();
        hits.sort_by_key(|h| std::cmp::Reverse((h.1.ended, h.0)));
        hits.into_iter().map(|(id, _)| *id).collect()
    }

    fn id(&self, i: usize) -> i64 {
        self.rows[i].0
    }

    async fn check(&self, qs: &str, keep: impl Fn(&Archived) -> bool) {
        let expected = self.expect(keep);
        assert_eq!(self.all(qs).await, expected, "{qs}");
    }
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn text_search_finds_notes_issues_versions_and_commits(pool: PgPool) {
    let t = archive(pool).await;
    // A word in a checklist note, whole or as a prefix, in any case.
    assert_eq!(t.all("q=kerberos").await, vec![t.id(5)]);
    assert_eq!(t.all("q=KERBER").await, vec![t.id(5)]);
    // A known issue's title and key, the key also by its start.
    assert_eq!(t.all("q=duplicate").await, vec![t.id(12)]);
    assert_eq!(t.all("q=PAY-77").await, vec![t.id(12)]);
    assert_eq!(t.all("q=pay-7").await, vec![t.id(12)]);
    assert_eq!(t.all("q=bug-7").await, vec![t.id(33)]);
    // Versions by prefix: `v2.4` is not `2.4`.
    assert_eq!(t.all("q=v2.4").await, vec![t.id(20)]);
    assert_eq!(t.all("q=v2.4.0-rc").await, vec![t.id(20)]);
    assert_eq!(t.all("q=v2.4.0-rc1").await, vec![t.id(20)]);
    assert_eq!(t.all("q=2.4").await, vec![t.id(21)]);
    // The artifact version is searched too.
    assert_eq!(t.all("q=build.9").await, vec![t.id(21)]);
    t.check("q=3.1", |a| a.version.starts_with("3.1")).await;
    // A commit by its first characters.
    assert_eq!(t.all("q=c120f3a").await, vec![t.id(12)]);
    assert_eq!(t.all("q=C12").await, vec![t.id(12)]);
    // Several words: all of them.
    t.check("q=checkout%20hotfix", |a| {
        a.has_word_prefix("checkout") && a.has_word_prefix("hotfix")
    })
    .await;
    assert_eq!(t.all("q=checkout%20hotfix").await.len(), 5);
    t.check("q=migration", |a| a.has_word_prefix("migration"))
        .await;
    // Nothing matches; punctuation alone is no search at all.
    let none = t.search("q=kerberos%20duplicate").await;
    assert_eq!((none["total"].as_i64(), ids(&none).len()), (Some(0), 0));
    assert_eq!(t.search("q=%27%3A*%20%26%20!").await["total"], 60);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn filters_narrow_alone_and_together(pool: PgPool) {
    let t = archive(pool).await;
    t.check("outcome=no_go", |a| a.outcome == "no_go").await;
    t.check("outcome=rolled_back", |a| a.outcome == "rolled_back")
        .await;
    // Environments ignore case but are whole names.
    t.check("environment=prod-eu", |a| a.environment == "Prod-EU")
        .await;
    t.check("environment=PROD", |a| a.environment == "prod")
        .await;
    // A person in any role, the email in any case.
    t.check("person=ANNA%40example.org", |a| {
        a.has_person("anna@example.org")
    })
    .await;
    t.check("person=sam%40example.org", |a| {
        a.has_person("sam@example.org")
    })
    .await;
    assert_eq!(
        t.all("person=nobody%40example.org").await,
        Vec::<i64>::new()
    );
    // Together.
    assert_eq!(
        t.all("q=migration&outcome=rolled_back").await,
        vec![t.id(49), t.id(14)]
    );
    t.check("outcome=done&person=sam%40example.org", |a| {
        a.outcome == "done" && a.has_person("sam@example.org")
    })
    .await;
    t.check(
        "outcome=done&environment=prod&person=ben%40example.org&from=2025-03-01&to=2025-08-31",
        |a| {
            a.outcome == "done"
                && a.environment == "prod"
                && a.has_person("ben@example.org")
                && (day("2025-03-01")..=day("2025-08-31")).contains(&a.berlin_day())
        },
    )
    .await;
    t.check("q=smoke&environment=staging&outcome=done", |a| {
        a.has_word_prefix("smoke") && a.environment == "staging" && a.outcome == "done"
    })
    .await;
    // Empty values, as a form sends them, are no filter.
    let all = t
        .search("q=&outcome=&environment=&from=&to=&person=&page=")
        .await;
    assert_eq!(all["total"], 60);
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn days_are_berlin_calendar_days_and_both_ends_count(pool: PgPool) {
    let t = archive(pool).await;
    let april = t.all("from=2025-04-01&to=2025-04-30").await;
    assert_eq!(
        april,
        t.expect(|a| (day("2025-04-01")..=day("2025-04-30")).contains(&a.berlin_day()))
    );
    // 31 March 22:30 UTC is 1 April in Berlin; 30 April 21:59:59 UTC still 30 April;
    // 30 April 22:00 UTC already 1 May.
    assert!(april.contains(&t.id(18)) && april.contains(&t.id(19)));
    assert!(!april.contains(&t.id(17)));
    assert_eq!(t.all("from=2025-04-01&to=2025-04-01").await, vec![t.id(18)]);
    assert_eq!(t.all("from=2025-05-01&to=2025-05-01").await, vec![t.id(17)]);
    assert_eq!(
        t.all("from=2025-03-25&to=2025-03-31").await,
        Vec::<i64>::new()
    );
    // Winter: 31 January 23:30 UTC is 1 February in Berlin.
    let january = t.all("to=2025-01-31").await;
    assert_eq!(january, t.expect(|a| a.berlin_day() <= day("2025-01-31")));
    assert!(!january.contains(&t.id(6)));
    assert_eq!(t.all("from=2025-02-01&to=2025-02-01").await, vec![t.id(6)]);
    t.check("from=2025-09-15", |a| a.berlin_day() >= day("2025-09-15"))
        .await;
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn pages_hold_twenty_five_newest_first_without_overlap(pool: PgPool) {
    let t = archive(pool).await;
    let newest_first = t.expect(|_| true);
    let one = t.search("").await;
    assert_eq!(one["total"], 60);
    assert_eq!(one["total_capped"], false);
    assert_eq!(
        (one["page"].as_i64(), one["per_page"].as_i64()),
        (Some(1), Some(25))
    );
    assert_eq!(ids(&one), newest_first[..25]);
    let two = t.search("page=2").await;
    assert_eq!(ids(&two), newest_first[25..50]);
    let three = t.search("page=3").await;
    assert_eq!(ids(&three), newest_first[50..]);
    let seen: HashSet<i64> = [ids(&one), ids(&two), ids(&three)]
        .concat()
        .into_iter()
        .collect();
    assert_eq!(seen.len(), 60);
    let four = t.search("page=4").await;
    assert_eq!((four["total"].as_i64(), ids(&four).len()), (Some(60), 0));
    // An entry carries what the list shows.
    let e = &one["entries"][0];
    let (id, a) = t
        .rows
        .iter()
        .find(|(id, _)| *id == newest_first[0])
        .unwrap();
    assert_eq!(e["release_id"], *id);
    assert_eq!(e["outcome"], a.outcome);
    assert_eq!(e["title"], a.title.as_str());
    assert_eq!(e["environment"], a.environment);
    assert_eq!(
        utc(e["ended_at"].as_str().unwrap()),
        a.ended,
        "ended_at as RFC 3339"
    );
    assert_eq!(e["people"].as_array().unwrap().len(), a.people.len());
    assert!(e["window_start"].is_string());
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn a_broad_search_stops_counting_at_ten_thousand(pool: PgPool) {
    let t = archive(pool).await;
    sqlx::query(
        "WITH r AS (
             INSERT INTO releases (title, version, environment, window_start, window_end, phase)
             SELECT 'Bulk import ' || g, '9.0.' || g, 'prod', now() - g * interval '1 minute',
                    now() - g * interval '1 minute' + interval '1 hour', 'done'
             FROM generate_series(1, 10001) g
             RETURNING id, title, version, environment, window_start)
         INSERT INTO archive_entries (release_id, outcome, title, version, environment,
             window_start, ended_at, search)
         SELECT id, 'done', title, version, environment, window_start,
                window_start + interval '30 minutes', to_tsvector('simple', title || ' ' || version)
         FROM r",
    )
    .execute(&t.app.pool)
    .await
    .unwrap();
    for qs in ["", "q=bulk", "outcome=done&environment=prod"] {
        let page = t.search(qs).await;
        assert_eq!(page["total"], 10_000, "{qs}");
        assert_eq!(page["total_capped"], true, "{qs}");
        assert_eq!(ids(&page).len(), 25, "{qs}");
    }
    // The last page the count reaches still answers.
    assert_eq!(ids(&t.search("q=bulk&page=400").await).len(), 25);
    let html = t.app.get_text("/archive?q=bulk", Some(&t.captain)).await;
    assert!(
        html.contains("10000+ releases"),
        "the count says it stopped"
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn unreadable_searches_are_refused_and_only_the_signed_in_read(pool: PgPool) {
    let t = archive(pool).await;
    for (qs, field) in [
        ("outcome=draft", "outcome"),
        ("outcome=go_live", "outcome"),
        ("outcome=everything", "outcome"),
        ("from=2025-13-01", "from"),
        ("to=31.01.2025", "to"),
        ("from=2025-05-01&to=2025-04-30", "to"),
        ("page=0", "page"),
        ("page=401", "page"),
        ("page=two", "page"),
    ] {
        let resp = t
            .app
            .get(&format!("/api/v1/archive?{qs}"), Some(&t.captain))
            .await;
        assert_eq!(resp.status(), 422, "{qs}");
        let body: Value = resp.json().await.unwrap();
        assert_invalid(&body, field, qs);
    }
    let anon = t.app.get("/api/v1/archive?q=kerberos", None).await;
    assert_eq!(anon.status(), 401);
    assert_eq!(error_code(anon).await, "unauthorized");
    let anon = t.app.get("/api/v1/metrics/delivery", None).await;
    assert_eq!(anon.status(), 401);
    // Every role reads, by session or by token.
    let viewer = t
        .app
        .get("/api/v1/archive?q=kerberos", Some(&t.viewer))
        .await;
    assert_eq!(viewer.status(), 200);
    let body: Value = viewer.json().await.unwrap();
    assert_eq!(ids(&body), vec![t.id(5)]);
    let token = t.app.issue_token("viewer@example.org").await;
    for path in [
        "/api/v1/archive?outcome=no_go",
        "/api/v1/metrics/delivery?months=6",
    ] {
        let by_token = t.app.get_bearer(path, &token).await;
        assert_eq!(by_token.status(), 200, "{path}");
    }
}

/// The middle of the Berlin month `back` months before the current one (far enough from
/// either end that the time zone cannot move it), and its `YYYY-MM`.
fn mid_month(back: u32) -> (DateTime<Utc>, String) {
    let now = Utc::now();
    let first = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 12, 0, 0)
        .unwrap();
    let mid = first.checked_sub_months(Months::new(back)).unwrap() + Duration::days(14);
    (mid, mid.format("%Y-%m").to_string())
}

fn month_of<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    body["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == key)
}

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 1e-9)
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn release_metrics_count_rates_and_medians_per_month(pool: PgPool) {
    let app = spawn_app(pool).await;
    let viewer = app.signed_in("viewer@example.org", &["viewer"]).await;

    // Last month: 5 done (lead times 10, 20, 30, 40 h and one without a staging gate),
    // 2 no-go, 3 rolled back (restored after 10, 20 and 50 minutes).
    let (last, last_key) = mid_month(1);
    let mut entries = vec![];
    for (n, lead) in [Some(10), Some(20), Some(30), Some(40), None]
        .into_iter()
        .enumerate()
    {
        let mut a = Archived::ended_at("done", last + Duration::hours(n as i64));
        a.staging_started = lead.map(|h| a.ended - Duration::hours(h));
        entries.push(a);
    }
    for n in 0..2 {
        let mut a = Archived::ended_at("no_go", last - Duration::hours(n + 1));
        a.staging_started = Some(a.ended - Duration::hours(100));
        entries.push(a);
    }
    for (n, secs) in [600.0, 3000.0, 1200.0].into_iter().enumerate() {
        let mut a = Archived::ended_at("rolled_back", last + Duration::hours(10 + n as i64));
        a.staging_started = Some(a.ended - Duration::hours(5));
        a.restore_seconds = Some(secs);
        entries.push(a);
    }
    // Two months back: one done, 12 h; three months back: nothing; 14 months back: one.
    let (two, two_key) = mid_month(2);
    let mut a = Archived::ended_at("done", two);
    a.staging_started = Some(two - Duration::hours(12));
    entries.push(a);
    let (_, empty_key) = mid_month(3);
    let (old, old_key) = mid_month(14);
    entries.push(Archived::ended_at("no_go", old));
    for a in &entries {
        file(&app.pool, a).await;
    }

    let resp = app.get("/api/v1/metrics/delivery", Some(&viewer)).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let months = body["months"].as_array().unwrap();
    assert_eq!(months.len(), 12, "twelve months unless asked otherwise");
    // Consecutive months, oldest first, ending with the current one.
    let keys: Vec<NaiveDate> = months
        .iter()
        .map(|m| day(&format!("{}-01", m["month"].as_str().unwrap())))
        .collect();
    for pair in keys.windows(2) {
        assert_eq!(pair[0].checked_add_months(Months::new(1)), Some(pair[1]));
    }
    assert!(keys[11] >= day(&format!("{}-01", Utc::now().format("%Y-%m"))));

    let m = month_of(&body, &last_key).expect("last month is listed");
    assert_eq!(m["releases"], 10);
    assert_eq!(
        (
            m["done"].as_i64(),
            m["no_go"].as_i64(),
            m["rolled_back"].as_i64()
        ),
        (Some(5), Some(2), Some(3))
    );
    assert!(close(&m["no_go_rate_pct"], 20.0), "{m}");
    assert!(
        close(&m["rollback_rate_pct"], 37.5),
        "3 of 8 that went live: {m}"
    );
    assert!(close(&m["median_lead_time_hours"], 25.0), "{m}");
    assert!(close(&m["median_time_to_restore_minutes"], 20.0), "{m}");

    let m = month_of(&body, &two_key).unwrap();
    assert_eq!(m["releases"], 1);
    assert!(close(&m["no_go_rate_pct"], 0.0) && close(&m["rollback_rate_pct"], 0.0));
    assert!(close(&m["median_lead_time_hours"], 12.0));
    assert!(m["median_time_to_restore_minutes"].is_null());

    let m = month_of(&body, &empty_key).expect("an empty month has its row");
    assert_eq!(m["releases"], 0);
    for field in [
        "no_go_rate_pct",
        "rollback_rate_pct",
        "median_lead_time_hours",
        "median_time_to_restore_minutes",
    ] {
        assert!(m[field].is_null(), "{field} in {m}");
    }
    assert!(month_of(&body, &old_key).is_none());

    let longer: Value = app
        .get_json("/api/v1/metrics/delivery?months=24", Some(&viewer))
        .await;
    assert_eq!(longer["months"].as_array().unwrap().len(), 24);
    let m = month_of(&longer, &old_key).expect("fourteen months back is within 24");
    assert_eq!(
        (m["releases"].as_i64(), m["no_go"].as_i64()),
        (Some(1), Some(1))
    );
    assert!(close(&m["no_go_rate_pct"], 100.0) && m["rollback_rate_pct"].is_null());

    for qs in ["months=0", "months=37", "months=many", "months=-1"] {
        let resp = app
            .get(&format!("/api/v1/metrics/delivery?{qs}"), Some(&viewer))
            .await;
        assert_eq!(resp.status(), 422, "{qs}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["field"], "months");
    }

    // The page: the chart and a row per month.
    let html = app.get_text("/delivery?months=6", Some(&viewer)).await;
    assert!(html.contains(r#"data-testid="delivery-chart""#));
    assert_eq!(html.matches("<tr data-month=").count(), 6);
    assert!(html.contains(&format!(r#"<tr data-month="{last_key}">"#)));
    assert!(html.contains("37.5 %"), "the rollback rate in the table");
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_archive_page_lists_the_matches_and_keeps_the_search(pool: PgPool) {
    let t = archive(pool).await;
    let page = |qs: &str| t.app.page(&format!("/archive?{qs}"), &t.viewer);
    let row = |i: usize| format!(r#"<tr data-release="{}""#, t.id(i));

    let html = page("q=kerberos").await;
    assert!(html.contains(&row(5)));
    assert!(!html.contains(&row(12)));
    // The text of the count line, without the renderer's markers.
    let count: String = html
        .split(r#"data-testid="archive-count""#)
        .nth(1)
        .and_then(|rest| rest.split_once('>'))
        .and_then(|(_, rest)| rest.split("</p>").next())
        .unwrap_or_default()
        .replace("<!>", "")
        .replace("<!---->", "");
    assert_eq!(count, "1 release", "the count line");
    assert!(html.contains(&format!(r#"href="/releases/{}/dossier""#, t.id(5))));
    assert!(
        html.contains(r#"value="kerberos""#),
        "the form keeps the words"
    );

    let html = page("outcome=no_go&environment=prod").await;
    let expected = t.expect(|a| a.outcome == "no_go" && a.environment == "prod");
    assert!(!expected.is_empty());
    assert_eq!(html.matches("<tr data-release=").count(), expected.len());
    assert_eq!(
        html.matches(r#"data-outcome="no_go""#).count(),
        expected.len()
    );
    for id in expected {
        assert!(html.contains(&format!(r#"<tr data-release="{id}" data-outcome="no_go""#)));
    }
    assert!(!html.contains(r#"data-outcome="done""#));

    // Page 1 of 60 links on to page 2 with the other parameters kept.
    let html = page("person=anna%40example.org").await;
    assert_eq!(html.matches("<tr data-release=").count(), 25);
    assert!(
        html.contains(r#"href="/archive?person=anna%40example.org&amp;page=2""#)
            || html.contains(r#"href="/archive?person=anna%40example.org&page=2""#)
    );
    assert!(html.contains("30 releases"));

    let html = page("q=nothing-like-this").await;
    assert!(html.contains(r#"data-testid="archive-empty""#));
    assert!(html.contains("0 releases"));

    let html = page("from=01.04.2025").await;
    assert!(
        html.contains(r#"role="alert""#),
        "an unreadable day is said"
    );
}

/// The archive page's server function, called the way the browser calls it: a search with
/// no filters leaves every field out, so the body is empty, and the first page comes back.
#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_archive_server_function_reads_an_empty_search(pool: PgPool) {
    let t = archive(pool).await;
    let path = server_fn_path("search_archive");
    let call = |body: &'static str| {
        client()
            .post(t.app.url(&path))
            .header("cookie", t.viewer.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let resp = call("").await.unwrap();
    assert_eq!(resp.status(), 200, "an empty search is every ended release");
    let page: Value = resp.json().await.unwrap();
    assert_eq!(page["total"], 60);
    assert_eq!(ids(&page), t.expect(|_| true)[..25].to_vec());

    // A search with words still arrives as one.
    let resp = call("query[q]=kerberos").await.unwrap();
    assert_eq!(resp.status(), 200);
    let page: Value = resp.json().await.unwrap();
    assert_eq!(ids(&page), vec![t.id(5)]);
}
