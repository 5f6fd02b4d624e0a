//! Calendar feeds: a secret link a calendar app subscribes to, one per person for the
//! releases they are release captain or product owner of, and for admins one for the whole
//! team. Separate from API tokens (a calendar app keeps the link in plain sight, so it can
//! read the calendar and nothing else), shown once, stored as sha256, revocable; a new
//! link revokes the person's previous one of the same scope. Issuing and revoking write
//! audit rows naming the feed by id, scope and prefix, never the secret or its hash.

use super::accounts::user_info;
use super::audit::{self, Entry};
use super::tokens::{digest, mint};
use super::{Actor, ServiceError};
use crate::domain::account::UserInfo;
use crate::domain::ics::{Alarm, Calendar, CalendarFeed, Event, FeedScope, Status};
use crate::domain::release::{
    go_no_go_due, staging_gate_due, Phase, Strategy, GO_NO_GO_LEAD_HOURS, STAGING_GATE_LEAD_HOURS,
};
use crate::i18n::{Label, Lang};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

const TOKEN_PREFIX: &str = "sgcal_";
/// Ended releases and past freezes stay in the feed this long, then drop out.
const RECENT_DAYS: i64 = 90;
/// A deadline is a moment; calendars show it as a short event.
const DEADLINE_MINUTES: i64 = 15;
/// Each deadline's reminder comes this long before it.
const ALARM_MINUTES: i64 = 30;

/// The feed's owner, locked for the transaction so that two new links at once leave one
/// of them active.
async fn lock_owner(conn: &mut PgConnection, user_id: i64) -> Result<UserInfo, ServiceError> {
    let r = sqlx::query!(
        "SELECT id, email, name, roles, disabled FROM users WHERE id = $1 FOR NO KEY UPDATE",
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ServiceError::NotFound)?;
    if r.disabled {
        return Err(ServiceError::Forbidden);
    }
    Ok(user_info(r.id, r.email, r.name, r.roles))
}

/// A feed as its audit rows show it.
fn feed_json(owner: &UserInfo, id: i64, scope: FeedScope, prefix: &str) -> Value {
    json!({
        "feed_id": id,
        "scope": scope.as_str(),
        "prefix": prefix,
        "user_id": owner.id,
        "email": owner.email,
    })
}

/// Issues a new feed link to the person asking (the team's only to an admin), revoking
/// their previous one of the same scope; the secret token, which only this answer carries.
pub async fn issue(
    pool: &PgPool,
    actor: &UserInfo,
    scope: FeedScope,
) -> Result<String, ServiceError> {
    let mut tx = pool.begin().await?;
    // Roles as they are now, not as the session remembers them.
    let owner = lock_owner(&mut tx, actor.id).await?;
    if scope == FeedScope::Team && !owner.is_admin() {
        return Err(ServiceError::OnlyFor {
            en: "Only admins may subscribe to the team's calendar.",
            de: "Nur Admins können den Kalender des Teams abonnieren.",
        });
    }
    revoke_active(&mut tx, &owner, scope).await?;
    let (secret, prefix) = mint(TOKEN_PREFIX);
    let id = sqlx::query_scalar!(
        "INSERT INTO calendar_feeds (user_id, scope, token_hash, prefix) VALUES ($1, $2, $3, $4)
         RETURNING id",
        owner.id,
        scope.as_str(),
        digest(&secret),
        prefix
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Actor::User(owner.clone()),
        Entry {
            action: "calendar.issue",
            release_id: None,
            old: None,
            new: Some(feed_json(&owner, id, scope, &prefix)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Revokes the person's feed link of `scope`. Revoking when there is none is harmless and
/// writes no audit row.
pub async fn revoke(pool: &PgPool, user: &UserInfo, scope: FeedScope) -> Result<(), ServiceError> {
    let mut tx = pool.begin().await?;
    let owner = lock_owner(&mut tx, user.id).await?;
    revoke_active(&mut tx, &owner, scope).await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes the owner's active feeds of `scope`, one audit row each.
async fn revoke_active(
    conn: &mut PgConnection,
    owner: &UserInfo,
    scope: FeedScope,
) -> Result<(), ServiceError> {
    let revoked = sqlx::query!(
        r#"UPDATE calendar_feeds SET revoked_at = now()
           WHERE user_id = $1 AND scope = $2 AND revoked_at IS NULL
           RETURNING id, prefix, revoked_at AS "revoked_at!: DateTime<Utc>""#,
        owner.id,
        scope.as_str()
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in revoked {
        let old = feed_json(owner, r.id, scope, &r.prefix);
        let mut new = old.clone();
        new["revoked_at"] = json!(r.revoked_at);
        audit::append(
            &mut *conn,
            &Actor::User(owner.clone()),
            Entry {
                action: "calendar.revoke",
                release_id: None,
                old: Some(old),
                new: Some(new),
            },
        )
        .await?;
    }
    Ok(())
}

/// The person's active feeds.
pub async fn list(pool: &PgPool, user_id: i64) -> Result<Vec<CalendarFeed>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT scope, prefix, created_at AS "created_at: DateTime<Utc>"
           FROM calendar_feeds WHERE user_id = $1 AND revoked_at IS NULL
           ORDER BY scope, created_at DESC, id DESC"#,
        user_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(CalendarFeed {
                scope: FeedScope::parse(&r.scope)?,
                prefix: r.prefix,
                created_at: r.created_at,
            })
        })
        .collect())
}

/// A release as the feed shows it.
struct FeedRelease {
    id: i64,
    title: String,
    version: String,
    environment: String,
    strategy: String,
    phase: String,
    revision: i32,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A freeze window as the feed shows it.
struct FeedFreeze {
    id: i64,
    environment: String,
    reason: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

/// The calendar behind `token` as iCalendar text, links starting with `base_url` (no
/// trailing slash). Not found, alike, when the token is unknown or revoked, its owner is
/// disabled, or a team feed's owner is no longer an admin: a feed link says nothing about
/// why it stopped working.
pub async fn feed(
    pool: &PgPool,
    token: &str,
    base_url: &str,
    now: DateTime<Utc>,
) -> Result<String, ServiceError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(ServiceError::NotFound);
    }
    let owner = sqlx::query!(
        r#"SELECT f.scope, u.id, u.email, u.name, u.roles, u.disabled
           FROM calendar_feeds f JOIN users u ON u.id = f.user_id
           WHERE f.token_hash = $1 AND f.revoked_at IS NULL"#,
        digest(token)
    )
    .fetch_optional(pool)
    .await?
    .ok_or(ServiceError::NotFound)?;
    let scope = FeedScope::parse(&owner.scope).ok_or(ServiceError::NotFound)?;
    let disabled = owner.disabled;
    let owner = user_info(owner.id, owner.email, owner.name, owner.roles);
    if disabled || (scope == FeedScope::Team && !owner.is_admin()) {
        return Err(ServiceError::NotFound);
    }
    let person = (scope == FeedScope::Personal).then_some(owner.id);
    let since = now - Duration::days(RECENT_DAYS);
    let releases = sqlx::query_as!(
        FeedRelease,
        r#"SELECT id, title, version, environment, strategy, phase, revision,
                  window_start AS "window_start: DateTime<Utc>",
                  window_end AS "window_end: DateTime<Utc>",
                  updated_at AS "updated_at: DateTime<Utc>"
           FROM releases
           WHERE (phase NOT IN ('done', 'no_go', 'rolled_back') OR window_end >= $1)
             AND ($2::BIGINT IS NULL OR release_captain_id = $2 OR product_owner_id = $2)
           ORDER BY window_start, id"#,
        since as _,
        person
    )
    .fetch_all(pool)
    .await?;
    let freezes = sqlx::query_as!(
        FeedFreeze,
        r#"SELECT id, environment, reason,
                  starts_at AS "starts_at: DateTime<Utc>",
                  ends_at AS "ends_at: DateTime<Utc>",
                  created_at AS "created_at: DateTime<Utc>"
           FROM freeze_windows WHERE ends_at >= $1
           ORDER BY starts_at, id"#,
        since as _
    )
    .fetch_all(pool)
    .await?;
    Ok(calendar(scope, &releases, &freezes, base_url).render())
}

/// The feed's calendar: per release its go-live window and its two deadlines, then the
/// freeze windows. Times are UTC; `X-WR-TIMEZONE` only tells apps how to show them.
fn calendar(
    scope: FeedScope,
    releases: &[FeedRelease],
    freezes: &[FeedFreeze],
    base: &str,
) -> Calendar {
    let name = match scope {
        FeedScope::Personal => "Shipgate – my releases",
        FeedScope::Team => "Shipgate – team releases",
    };
    let mut cal = Calendar::new("-//Shipgate//Release calendar//EN")
        .text_property("X-WR-CALNAME", name)
        .raw_property("X-WR-TIMEZONE", "Europe/Berlin")
        .raw_property("REFRESH-INTERVAL;VALUE=DURATION", "PT1H")
        .raw_property("X-PUBLISHED-TTL", "PT1H");
    for r in releases {
        release_events(&mut cal, r, base);
    }
    let environments = format!("{base}/environments");
    for f in freezes {
        let mut e = Event::new(
            format!("freeze-{}@shipgate", f.id),
            f.created_at,
            f.starts_at,
            f.ends_at,
            format!("Freeze: {}", f.environment),
        );
        e.description = Some(format!(
            "No go-live into {} while the freeze runs.\n{}\n{environments}",
            f.environment, f.reason
        ));
        e.url = Some(environments.clone());
        e.status = Some(Status::Confirmed);
        cal.push(e);
    }
    cal
}

fn release_events(cal: &mut Calendar, r: &FeedRelease, base: &str) {
    let lang = Lang::En;
    let link = format!("{base}/releases/{}", r.id);
    let phase = Phase::parse(&r.phase).unwrap_or(Phase::Draft);
    let strategy = Strategy::parse(&r.strategy).unwrap_or(Strategy::BlueGreen);
    let what = format!("{} {}", r.title, r.version);
    let status = if phase == Phase::NoGo {
        Status::Cancelled
    } else {
        Status::Confirmed
    };
    let facts = format!(
        "Phase: {}\nEnvironment: {}\nStrategy: {}\n{link}",
        phase.label(lang),
        r.environment,
        strategy.label(lang)
    );
    let mut go_live = Event::new(
        format!("release-{}@shipgate", r.id),
        r.updated_at,
        r.window_start,
        r.window_end,
        format!("Go-live: {what}"),
    );
    go_live.description = Some(facts.clone());
    go_live.url = Some(link.clone());
    go_live.sequence = Some(r.revision);
    go_live.status = Some(status);
    cal.push(go_live);

    let deadlines = [
        (
            "staging-gate",
            STAGING_GATE_LEAD_HOURS,
            staging_gate_due(r.window_start),
            "Staging gate due",
            link.clone(),
        ),
        (
            "go-no-go",
            GO_NO_GO_LEAD_HOURS,
            go_no_go_due(r.window_start),
            "Go/No-Go due",
            format!("{link}/sign"),
        ),
    ];
    for (kind, lead_hours, at, title, url) in deadlines {
        let summary = format!("{title}: {what}");
        let mut e = Event::new(
            format!("release-{}-{kind}@shipgate", r.id),
            r.updated_at,
            at,
            at + Duration::minutes(DEADLINE_MINUTES),
            summary.clone(),
        );
        e.description = Some(format!(
            "{title} (T-{lead_hours}h before the go-live window).\n{facts}"
        ));
        e.url = Some(url);
        e.sequence = Some(r.revision);
        e.status = Some(status);
        e.alarm = Some(Alarm {
            before: Duration::minutes(ALARM_MINUTES),
            description: summary,
        });
        cal.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn release(id: i64, phase: &str) -> FeedRelease {
        let start = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
        FeedRelease {
            id,
            title: "Spring".into(),
            version: "2.4.0".into(),
            environment: "prod".into(),
            strategy: "canary".into(),
            phase: phase.into(),
            revision: 4,
            window_start: start,
            window_end: start + Duration::hours(2),
            updated_at: start - Duration::days(3),
        }
    }

    #[test]
    fn a_release_is_its_window_and_two_deadlines_with_reminders() {
        let r = release(7, "go_no_go");
        let cal = calendar(FeedScope::Team, &[r], &[], "https://sg.example");
        let events = cal.events();
        let uids: Vec<&str> = events.iter().map(|e| e.uid.as_str()).collect();
        assert_eq!(
            uids,
            [
                "release-7@shipgate",
                "release-7-staging-gate@shipgate",
                "release-7-go-no-go@shipgate"
            ]
        );
        let start = events[0].start;
        assert_eq!(events[0].summary, "Go-live: Spring 2.4.0");
        assert_eq!(events[0].sequence, Some(4));
        assert!(events[0].alarm.is_none());
        assert_eq!(events[1].start, start - Duration::hours(12));
        assert_eq!(events[2].start, start - Duration::hours(1));
        assert_eq!(events[2].end, start - Duration::minutes(45));
        assert_eq!(
            events[2].url.as_deref(),
            Some("https://sg.example/releases/7/sign")
        );
        assert!(events[1..].iter().all(|e| e.alarm.is_some()));
        assert!(events.iter().all(|e| e.status == Some(Status::Confirmed)));
    }

    #[test]
    fn a_no_go_release_is_cancelled() {
        let cal = calendar(FeedScope::Personal, &[release(3, "no_go")], &[], "");
        assert!(cal
            .events()
            .iter()
            .all(|e| e.status == Some(Status::Cancelled)));
    }
}
