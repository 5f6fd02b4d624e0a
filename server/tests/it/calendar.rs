//! Calendar feeds: the link issued on the account page, read by a real iCalendar parser
//! (Python's `icalendar`, at `SHIPGATE_TEST_PYTHON`) as a calendar app would read it, with
//! the right events for the person or the team; revoked, replaced and orphaned links are
//! not found.

use crate::common::team::*;
use crate::common::*;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// Reads an iCalendar stream from stdin and prints what a calendar app would import, as
/// JSON: the calendar's name, every problem the parser noticed, and each event.
const READ_ICS: &str = r#"
import json, sys
from icalendar import Calendar
cal = Calendar.from_ical(sys.stdin.buffer.read())
errors = [str(e) for c in cal.walk() for e in getattr(c, "errors", [])]
events = []
for ev in cal.walk("VEVENT"):
    events.append({
        "uid": str(ev.get("UID")),
        "summary": str(ev.get("SUMMARY")),
        "description": str(ev.get("DESCRIPTION", "")),
        "stamp": ev.decoded("DTSTAMP").isoformat(),
        "start": ev.decoded("DTSTART").isoformat(),
        "end": ev.decoded("DTEND").isoformat(),
        "url": str(ev.get("URL", "")),
        "status": str(ev.get("STATUS", "")),
        "sequence": int(ev.get("SEQUENCE", 0)),
        "alarms": [
            {"action": str(a.get("ACTION")), "trigger": a.decoded("TRIGGER").total_seconds()}
            for a in ev.walk("VALARM")
        ],
    })
print(json.dumps({"name": str(cal.get("X-WR-CALNAME", "")), "errors": errors, "events": events}))
"#;

const HOSTILE: &str = "Evil, \"title\"; with\nnewline <script>";

/// The feed as Python's `icalendar` reads it; a feed it cannot read, or reads with
/// complaints, fails the test.
fn read_ics(ics: &str) -> Value {
    let python = std::env::var("SHIPGATE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "SHIPGATE_TEST_PYTHON is not set: it names a python with the `icalendar` package \
             (make test sets it up through scripts/with-s3.sh)"
        )
    });
    let mut child = Command::new(&python)
        .args(["-c", READ_ICS])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run SHIPGATE_TEST_PYTHON ({python}): {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ics.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "icalendar could not read the feed: {}\n{ics}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        read["errors"],
        json!([]),
        "icalendar's complaints about\n{ics}"
    );
    read
}

/// RFC 5545's framing: CRLF after every line, none longer than 75 octets.
#[track_caller]
fn assert_framed(ics: &str) {
    assert!(ics.ends_with("\r\n"), "the feed ends with CRLF");
    let lines: Vec<&str> = ics.split("\r\n").collect();
    for line in &lines[..lines.len() - 1] {
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "a bare line break in {line:?}"
        );
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
}

/// The feed's events by UID.
fn events(read: &Value) -> HashMap<String, Value> {
    read["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["uid"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

/// The event with `uid`; a missing one fails naming those there are.
#[track_caller]
fn event<'a>(got: &'a HashMap<String, Value>, uid: &str) -> &'a Value {
    got.get(uid)
        .unwrap_or_else(|| panic!("{uid} in the feed, which has {:?}", got.keys()))
}

/// A time as the feed has it: whole seconds, UTC.
fn at(v: &Value) -> DateTime<Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("a time, not {v}"));
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
        .trunc_subsecs(0)
}

/// `cookie` calls the account page's server function `name` (`issue_calendar_feed`,
/// `revoke_calendar_feed`) for `scope`.
async fn feed_fn(t: &Team, name: &str, cookie: &str, scope: &str) -> Response {
    t.req(Method::POST, &server_fn_path(name), Some(cookie))
        .header("accept", "application/json")
        .form(&[("scope", scope)])
        .send()
        .await
        .unwrap()
}

/// `cookie` asks for a new feed link of `scope`.
async fn issue(t: &Team, cookie: &str, scope: &str) -> Response {
    feed_fn(t, "issue_calendar_feed", cookie, scope).await
}

/// A new feed link's token, for `cookie`.
async fn feed_token(t: &Team, cookie: &str, scope: &str) -> String {
    let resp = issue(t, cookie, scope).await;
    assert_eq!(resp.status(), 200, "issue a {scope} feed");
    let body: Value = resp.json().await.unwrap();
    let url = body["url"]
        .as_str()
        .unwrap_or_else(|| panic!("url in {body}"));
    let token = url
        .strip_prefix("http://shipgate.test/calendar.ics?token=")
        .unwrap_or_else(|| panic!("an absolute feed link: {url}"));
    assert!(!token.is_empty());
    token.to_string()
}

async fn get_feed(t: &Team, token: &str) -> Response {
    let path = format!("/calendar.ics?token={token}");
    client().get(t.app.url(&path)).send().await.unwrap()
}

/// The feed behind `token`, checked for framing and read by the parser.
async fn read_feed(t: &Team, token: &str) -> Value {
    let resp = get_feed(t, token).await;
    assert_eq!(resp.status(), 200, "the feed is served");
    let header = |name: &str| resp.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("content-type"), "text/calendar; charset=utf-8");
    assert_eq!(header("cache-control"), "no-store");
    assert!(header("content-disposition").contains("shipgate.ics"));
    let ics = resp.text().await.unwrap();
    assert_framed(&ics);
    read_ics(&ics)
}

async fn add_freeze(t: &Team) -> Value {
    let starts = Utc::now() + Duration::days(2);
    let freeze = json!({ "environment": "prod", "starts_at": starts,
                         "ends_at": starts + Duration::hours(10), "reason": "Black Friday, all hands" });
    let resp = t
        .send(Method::POST, "/api/v1/freezes", &t.admin, freeze)
        .await;
    assert_eq!(resp.status(), 201, "the admin adds a freeze");
    resp.json().await.unwrap()
}

async fn set_user(t: &Team, email: &str, set: &str) {
    sqlx::query(&format!("UPDATE users SET {set} WHERE email = $1"))
        .bind(email)
        .execute(&t.app.pool)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_feeds_carry_a_persons_releases_or_the_teams_with_deadlines_and_freezes(pool: PgPool) {
    let t = team(pool).await;
    t.app
        .add_user("rc2@example.org", PW, &["release_captain"])
        .await;
    t.app
        .add_user("po2@example.org", PW, &["product_owner"])
        .await;
    let mine = t.create().await["id"].as_i64().unwrap();
    let hostile = t
        .create_with(json!({ "title": HOSTILE, "version": "9.9.9" }))
        .await["id"]
        .as_i64()
        .unwrap();
    let theirs = t
        .create_with(
            json!({ "title": "Their release", "release_captain": "rc2@example.org",
                             "product_owner": "po2@example.org" }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let freeze = add_freeze(&t).await;

    // The captain's own feed: their releases, each with its two deadlines, and the freeze.
    let token = feed_token(&t, &t.captain, "personal").await;
    let read = read_feed(&t, &token).await;
    assert_eq!(read["name"], "Shipgate – my releases");
    let got = events(&read);
    let r = t.release(mine).await;
    let start = at(&r["window_start"]);
    let link = format!("http://shipgate.test/releases/{mine}");

    let go_live = event(&got, &format!("release-{mine}@shipgate"));
    assert_eq!(go_live["summary"], "Go-live: Spring release 2.4.0");
    assert_eq!(at(&go_live["start"]), start);
    assert_eq!(at(&go_live["end"]), at(&r["window_end"]));
    assert_eq!(go_live["url"], link);
    assert_eq!(go_live["sequence"], r["revision"]);
    assert_eq!(go_live["status"], "CONFIRMED");
    let description = go_live["description"].as_str().unwrap();
    for part in [
        "Phase: Draft",
        "Environment: prod",
        "Strategy: Canary",
        link.as_str(),
    ] {
        assert!(description.contains(part), "{part} in {description}");
    }
    assert_eq!(go_live["alarms"], json!([]));

    let reminder = json!([{ "action": "DISPLAY", "trigger": -1800.0 }]);
    let staging = event(&got, &format!("release-{mine}-staging-gate@shipgate"));
    assert_eq!(at(&staging["start"]), start - Duration::hours(12));
    assert_eq!(
        at(&staging["end"]),
        start - Duration::hours(12) + Duration::minutes(15)
    );
    assert_eq!(staging["alarms"], reminder);
    let go_no_go = event(&got, &format!("release-{mine}-go-no-go@shipgate"));
    assert_eq!(at(&go_no_go["start"]), start - Duration::hours(1));
    assert_eq!(go_no_go["url"], format!("{link}/sign"));
    assert_eq!(go_no_go["alarms"], reminder);

    // Whatever people type into a title comes out of the calendar as they typed it.
    let evil = event(&got, &format!("release-{hostile}@shipgate"));
    assert_eq!(evil["summary"], format!("Go-live: {HOSTILE} 9.9.9"));

    let f = event(&got, &format!("freeze-{}@shipgate", freeze["id"]));
    assert_eq!(f["summary"], "Freeze: prod");
    assert_eq!(at(&f["start"]), at(&freeze["starts_at"]));
    assert_eq!(at(&f["end"]), at(&freeze["ends_at"]));
    assert!(f["description"]
        .as_str()
        .unwrap()
        .contains("Black Friday, all hands"));

    assert!(
        !got.keys().any(|uid| {
            uid.starts_with(&format!("release-{theirs}@"))
                || uid.starts_with(&format!("release-{theirs}-"))
        }),
        "another captain's release is not in the captain's feed: {:?}",
        got.keys()
    );
    assert_eq!(got.len(), 2 * 3 + 1, "{:?}", got.keys());

    // The product owner of the same releases sees them too.
    let token = feed_token(&t, &t.owner, "personal").await;
    let got = events(&read_feed(&t, &token).await);
    assert!(got.contains_key(&format!("release-{mine}@shipgate")));
    assert!(!got.contains_key(&format!("release-{theirs}@shipgate")));

    // The team's feed has every release.
    let token = feed_token(&t, &t.admin, "team").await;
    let read = read_feed(&t, &token).await;
    assert_eq!(read["name"], "Shipgate – team releases");
    let got = events(&read);
    for id in [mine, hostile, theirs] {
        for uid in [
            format!("release-{id}@shipgate"),
            format!("release-{id}-staging-gate@shipgate"),
            format!("release-{id}-go-no-go@shipgate"),
        ] {
            assert!(got.contains_key(&uid), "{uid} in the team feed");
        }
    }
    assert!(got.contains_key(&format!("freeze-{}@shipgate", freeze["id"])));

    // A cancelled release stays in the calendar, marked cancelled.
    force_phase(&t.app.pool, theirs, "no_go").await;
    let got = events(&read_feed(&t, &token).await);
    assert_eq!(
        event(&got, &format!("release-{theirs}@shipgate"))["status"],
        "CANCELLED"
    );
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn revoked_and_replaced_links_are_not_found(pool: PgPool) {
    let t = team(pool).await;
    t.create().await;
    let old = feed_token(&t, &t.captain, "personal").await;
    assert_eq!(get_feed(&t, &old).await.status(), 200);

    // A new link stops the old one working.
    let new = feed_token(&t, &t.captain, "personal").await;
    assert_ne!(old, new);
    assert_eq!(get_feed(&t, &old).await.status(), 404, "the replaced link");
    assert_eq!(get_feed(&t, &new).await.status(), 200, "the new link");

    let revoke = feed_fn(&t, "revoke_calendar_feed", &t.captain, "personal").await;
    assert_eq!(revoke.status(), 200, "revoke the link");
    let gone = get_feed(&t, &new).await;
    assert_eq!(gone.status(), 404, "the revoked link");
    assert!(gone.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(!gone.text().await.unwrap().is_empty());

    // Nothing but a valid link gets a calendar, and nobody is sent to sign in.
    for path in [
        "/calendar.ics",
        "/calendar.ics?token=",
        "/calendar.ics?token",
        "/calendar.ics?token=sgcal_0000",
        "/calendar.ics?token=%ZZ&&=",
    ] {
        let resp = client().get(t.app.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }

    // The audit log names the links, never their secrets.
    let count = |action: &str| format!("SELECT count(*) FROM audit_log WHERE action = '{action}'");
    let pool = &t.app.pool;
    assert_eq!(query_i64(pool, &count("calendar.issue")).await, 2);
    assert_eq!(
        query_i64(pool, &count("calendar.revoke")).await,
        2,
        "replaced and revoked"
    );
    for secret in [&old, &new] {
        let leaks = format!(
            "SELECT count(*) FROM audit_log WHERE coalesce(old_value::text, '') || coalesce(new_value::text, '') LIKE '%{}%'",
            &secret["sgcal_".len()..]
        );
        assert_eq!(query_i64(&t.app.pool, &leaks).await, 0);
    }
}

#[sqlx::test(migrator = "shipgate_server::MIGRATOR")]
async fn the_team_feed_is_for_admins_only_and_links_are_made_in_a_browser(pool: PgPool) {
    let t = team(pool).await;
    t.create().await;
    let refused = issue(&t, &t.captain, "team").await;
    assert_eq!(refused.status(), 403, "a captain asks for the team feed");

    // An API token cannot mint calendar links.
    let by_token = t
        .req(Method::POST, &server_fn_path("issue_calendar_feed"), None)
        .bearer_auth(&t.captain_token)
        .header("accept", "application/json")
        .form(&[("scope", "personal")])
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.status(), 403, "an API token asks for a feed link");

    // The account page offers the team feed to admins only.
    let page = t.app.page("/account", &t.captain).await;
    assert!(page.contains(r#"data-testid="calendar-feed-personal""#));
    assert!(!page.contains(r#"data-testid="calendar-feed-team""#));
    let page = t.app.page("/account", &t.admin).await;
    assert!(page.contains(r#"data-testid="calendar-feed-team""#));

    let team_feed = feed_token(&t, &t.admin, "team").await;
    let personal = feed_token(&t, &t.captain, "personal").await;
    assert_eq!(get_feed(&t, &team_feed).await.status(), 200);

    // No longer an admin: the team feed is gone with the role.
    set_user(&t, "admin@example.org", "roles = ARRAY['release_captain']").await;
    assert_eq!(get_feed(&t, &team_feed).await.status(), 404);

    // A disabled account's feed is gone too.
    assert_eq!(get_feed(&t, &personal).await.status(), 200);
    set_user(&t, "rc@example.org", "disabled = TRUE").await;
    assert_eq!(get_feed(&t, &personal).await.status(), 404);
}
