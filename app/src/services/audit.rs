//! The audit log: one row per change, written in the change's own transaction, append-only
//! (a trigger refuses UPDATE, DELETE and TRUNCATE) and chained: each row carries
//! sha256(previous hash + canonical row), so an edit made behind the trigger's back shows.

use super::{Actor, ServiceError};
pub use crate::domain::release_model::AuditRow;
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

/// The hash the first row chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A stable key for the advisory lock that serialises appends, so the chain has no forks.
const CHAIN_LOCK: i64 = 0x5348_4950_4741_5445; // "SHIPGATE"

pub struct Entry<'a> {
    pub action: &'a str,
    pub release_id: Option<i64>,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

pub fn actor_label(actor: &Actor) -> (Option<i64>, String) {
    match actor {
        Actor::Cli => (None, "cli".to_string()),
        Actor::Probes => (None, "shipgate probes".to_string()),
        Actor::User(u) => (Some(u.id), u.email.clone()),
    }
}

#[allow(clippy::too_many_arguments)]
fn canonical(
    at: &DateTime<Utc>,
    actor_id: Option<i64>,
    actor: &str,
    action: &str,
    release_id: Option<i64>,
    old: &Option<Value>,
    new: &Option<Value>,
    prev_hash: &str,
) -> String {
    // serde_json's maps are ordered, so the JSON text is the same whatever order Postgres
    // hands the keys back in.
    let json = |v: &Option<Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        actor_id.map(|i| i.to_string()).unwrap_or_default(),
        actor,
        action,
        release_id.map(|i| i.to_string()).unwrap_or_default(),
        json(old),
        json(new),
        prev_hash
    )
}

pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(bytes.as_ref()))
}

/// The chain's newest hash, with the chain locked for the rest of the transaction so that
/// nothing is appended behind the caller's back.
pub async fn head(conn: &mut PgConnection) -> Result<String, ServiceError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(
        sqlx::query_scalar!("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or_else(|| GENESIS.to_string()),
    )
}

/// Appends one row. Call it inside the transaction that makes the change.
pub async fn append(
    conn: &mut PgConnection,
    actor: &Actor,
    e: Entry<'_>,
) -> Result<(), ServiceError> {
    let prev = head(conn).await?;
    let at = Utc::now().trunc_subsecs(6);
    let (actor_id, actor_name) = actor_label(actor);
    let hash = sha256_hex(canonical(
        &at,
        actor_id,
        &actor_name,
        e.action,
        e.release_id,
        &e.old,
        &e.new,
        &prev,
    ));
    sqlx::query!(
        "INSERT INTO audit_log (at, actor_id, actor, action, release_id, old_value, new_value, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        at as _,
        actor_id,
        actor_name,
        e.action,
        e.release_id,
        e.old,
        e.new,
        prev,
        hash
    )
    .execute(&mut *conn)
    .await?;
    // Every change to a release writes its audit row here: the status view hears of it
    // when the transaction commits.
    if let Some(release_id) = e.release_id {
        super::events::notify(conn, "release").await?;
        // ... and so do the people and channels it concerns.
        super::notifications::on_release_change(
            conn,
            actor,
            e.action,
            release_id,
            e.old.as_ref(),
            e.new.as_ref(),
        )
        .await?;
    }
    Ok(())
}

/// The outcome of checking the whole chain.
#[derive(Debug, PartialEq, Eq)]
pub enum ChainCheck {
    Intact { rows: u64 },
    Broken { first_bad_id: i64 },
}

/// Recomputes every row's hash in order.
pub async fn verify(pool: &PgPool) -> Result<ChainCheck, ServiceError> {
    use futures_util::TryStreamExt;
    let mut rows = sqlx::query!(
        r#"SELECT id, at AS "at: DateTime<Utc>", actor_id, actor, action, release_id,
                  old_value, new_value, prev_hash, hash
           FROM audit_log ORDER BY id"#
    )
    .fetch(pool);
    let mut expected_prev = GENESIS.to_string();
    let mut count = 0u64;
    while let Some(r) = rows.try_next().await? {
        let recomputed = sha256_hex(canonical(
            &r.at,
            r.actor_id,
            &r.actor,
            &r.action,
            r.release_id,
            &r.old_value,
            &r.new_value,
            &r.prev_hash,
        ));
        if r.prev_hash != expected_prev || recomputed != r.hash {
            return Ok(ChainCheck::Broken { first_bad_id: r.id });
        }
        expected_prev = r.hash;
        count += 1;
    }
    Ok(ChainCheck::Intact { rows: count })
}

/// A release's audit trail, newest first.
pub async fn for_release(
    pool: &PgPool,
    release_id: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, ServiceError> {
    Ok(sqlx::query_as!(
        AuditRow,
        r#"SELECT id, at AS "at: DateTime<Utc>", actor, action, old_value AS old, new_value AS new
           FROM audit_log WHERE release_id = $1 ORDER BY id DESC LIMIT $2"#,
        release_id,
        limit
    )
    .fetch_all(pool)
    .await?)
}

/// How many rows a page of the whole trail holds unless the caller asks otherwise, and at most.
pub const TRAIL_DEFAULT_LIMIT: i64 = 50;
pub const TRAIL_MAX_LIMIT: i64 = 500;

/// Whose rows: an account by id, or an actor by the name the rows carry (an email, `cli`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActorFilter {
    Id(i64),
    Name(String),
}

/// Which rows by action: one action, or a family of them (`user.` matches `user.create`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionFilter {
    Exact(String),
    Prefix(String),
}

/// A page of the whole audit trail, newest first. `before` is the cursor: the id of the
/// oldest row of the previous page.
#[derive(Clone, Debug, PartialEq)]
pub struct TrailQuery {
    pub actor: Option<ActorFilter>,
    pub action: Option<ActionFilter>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before: Option<i64>,
    pub limit: i64,
}

impl Default for TrailQuery {
    fn default() -> Self {
        TrailQuery {
            actor: None,
            action: None,
            since: None,
            until: None,
            before: None,
            limit: TRAIL_DEFAULT_LIMIT,
        }
    }
}

/// A time as RFC 3339, or as a form's `datetime-local` value in Europe/Berlin.
fn parse_time(field: &'static str, raw: &str) -> Result<DateTime<Utc>, ServiceError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| crate::domain::time::parse_berlin_local(raw))
        .ok_or(ServiceError::invalid(
            field,
            "Enter a time as RFC 3339, e.g. 2026-05-01T08:00:00Z.",
            "Bitte eine Zeit im Format RFC 3339 angeben, z. B. 2026-05-01T08:00:00Z.",
        ))
}

impl TrailQuery {
    /// Reads the parameters as text: an empty one counts as absent (a GET form sends them
    /// all), an unreadable one is a validation error naming its field.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Result<TrailQuery, ServiceError> {
        let param = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let limit = match param("limit") {
            None => TRAIL_DEFAULT_LIMIT,
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=TRAIL_MAX_LIMIT).contains(n))
                .ok_or(ServiceError::invalid(
                    "limit",
                    "Choose a limit from 1 to 500.",
                    "Bitte ein Limit von 1 bis 500 wählen.",
                ))?,
        };
        let before = match param("before") {
            None => None,
            Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n > 0).ok_or(
                ServiceError::invalid(
                    "before",
                    "The cursor must be an audit row id.",
                    "Der Cursor muss die Nummer eines Audit-Eintrags sein.",
                ),
            )?),
        };
        let actor = param("actor").map(|v| match v.parse::<i64>() {
            Ok(id) => ActorFilter::Id(id),
            Err(_) => ActorFilter::Name(v.to_lowercase()),
        });
        let action = match param("action") {
            None => None,
            Some(v) if v.chars().count() > 100 => {
                return Err(ServiceError::invalid(
                    "action",
                    "The action is too long (at most 100 characters).",
                    "Die Aktion ist zu lang (höchstens 100 Zeichen).",
                ))
            }
            Some(v) => Some(if let Some(family) = v.strip_suffix('*') {
                ActionFilter::Prefix(family.to_string())
            } else if v.ends_with('.') {
                ActionFilter::Prefix(v)
            } else {
                ActionFilter::Exact(v)
            }),
        };
        let since = param("since")
            .map(|v| parse_time("since", &v))
            .transpose()?;
        let until = param("until")
            .map(|v| parse_time("until", &v))
            .transpose()?;
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err(ServiceError::invalid(
                    "until",
                    "The end of the period lies before its start.",
                    "Das Ende des Zeitraums liegt vor seinem Anfang.",
                ));
            }
        }
        Ok(TrailQuery {
            actor,
            action,
            since,
            until,
            before,
            limit,
        })
    }
}

/// One row of the whole trail: the release trail's row, plus whom and what it concerns and
/// its place in the chain.
#[derive(Clone, Debug, serde::Serialize, PartialEq)]
pub struct TrailEntry {
    #[serde(flatten)]
    pub row: AuditRow,
    pub actor_id: Option<i64>,
    pub release_id: Option<i64>,
    pub hash: String,
}

#[derive(Clone, Debug, serde::Serialize, PartialEq)]
pub struct TrailPage {
    pub entries: Vec<TrailEntry>,
    /// Pass as `before` for the next, older page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// The whole audit trail, newest first, for admins.
pub async fn trail(
    pool: &PgPool,
    actor: &Actor,
    q: &TrailQuery,
) -> Result<TrailPage, ServiceError> {
    actor.require_admin()?;
    let (actor_id, actor_name) = match &q.actor {
        Some(ActorFilter::Id(id)) => (Some(*id), None),
        Some(ActorFilter::Name(n)) => (None, Some(n.as_str())),
        None => (None, None),
    };
    let (exact, prefix) = match &q.action {
        Some(ActionFilter::Exact(a)) => (Some(a.as_str()), None),
        Some(ActionFilter::Prefix(p)) => (None, Some(p.as_str())),
        None => (None, None),
    };
    let limit = q.limit.clamp(1, TRAIL_MAX_LIMIT);
    // One row more than asked tells whether an older page exists.
    let rows = sqlx::query!(
        r#"SELECT id, at AS "at: DateTime<Utc>", actor_id, actor, action, release_id,
                  old_value, new_value, hash
           FROM audit_log
           WHERE ($1::bigint IS NULL OR actor_id = $1)
             AND ($2::text IS NULL OR actor = $2)
             AND ($3::text IS NULL OR action = $3)
             AND ($4::text IS NULL OR starts_with(action, $4))
             AND ($5::timestamptz IS NULL OR at >= $5)
             AND ($6::timestamptz IS NULL OR at <= $6)
             AND ($7::bigint IS NULL OR id < $7)
           ORDER BY id DESC
           LIMIT $8"#,
        actor_id,
        actor_name,
        exact,
        prefix,
        q.since as _,
        q.until as _,
        q.before,
        limit + 1
    )
    .fetch_all(pool)
    .await?;
    let more = rows.len() as i64 > limit;
    let entries: Vec<TrailEntry> = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| TrailEntry {
            row: AuditRow {
                id: r.id,
                at: r.at,
                actor: r.actor,
                action: r.action,
                old: r.old_value,
                new: r.new_value,
            },
            actor_id: r.actor_id,
            release_id: r.release_id,
            hash: r.hash,
        })
        .collect();
    let next_before = if more {
        entries.last().map(|e| e.row.id)
    } else {
        None
    };
    Ok(TrailPage {
        entries,
        next_before,
    })
}

/// A row of the chain as someone outside the database wrote it down: `ID:HASH`. A chain
/// rewritten and re-hashed from that row on cannot reproduce its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub id: i64,
    pub hash: String,
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.id, self.hash)
    }
}

impl std::str::FromStr for Anchor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{s}` is not an audit head; expected ID:HASH as `shipgate audit head` prints it"
            )
        };
        let (id, hash) = s.trim().split_once(':').ok_or_else(bad)?;
        let id = id.parse::<i64>().ok().filter(|i| *i > 0).ok_or_else(bad)?;
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Anchor { id, hash })
    }
}

/// The chain's newest row, to be written down outside the database; `None` while empty.
pub async fn latest(pool: &PgPool) -> Result<Option<Anchor>, ServiceError> {
    Ok(
        sqlx::query!("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(pool)
            .await?
            .map(|r| Anchor {
                id: r.id,
                hash: r.hash,
            }),
    )
}

#[derive(Debug, PartialEq, Eq)]
pub enum AnchorCheck {
    Holds,
    Missing,
    Differs { stored: String },
}

/// Whether the row an anchor names still carries the anchored hash.
pub async fn check_anchor(pool: &PgPool, anchor: &Anchor) -> Result<AnchorCheck, ServiceError> {
    let stored = sqlx::query_scalar!("SELECT hash FROM audit_log WHERE id = $1", anchor.id)
        .fetch_optional(pool)
        .await?;
    Ok(match stored {
        None => AnchorCheck::Missing,
        Some(h) if h == anchor.hash => AnchorCheck::Holds,
        Some(stored) => AnchorCheck::Differs { stored },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<TrailQuery, ServiceError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TrailQuery::from_params(|k| map.get(k).cloned())
    }

    #[test]
    fn empty_parameters_mean_the_newest_fifty() {
        let q = parse(&[("actor", ""), ("action", " "), ("limit", "")]).unwrap();
        assert_eq!(q, TrailQuery::default());
        assert_eq!(q.limit, 50);
    }

    #[test]
    fn limit_is_bounded() {
        assert_eq!(parse(&[("limit", "500")]).unwrap().limit, 500);
        for bad in ["0", "501", "-1", "ten"] {
            let err = parse(&[("limit", bad)]).unwrap_err();
            assert_eq!(err.code(), "validation_failed", "{bad}");
        }
    }

    #[test]
    fn actor_by_id_or_name_and_action_exact_or_family() {
        let q = parse(&[("actor", "42"), ("action", "user.")]).unwrap();
        assert_eq!(q.actor, Some(ActorFilter::Id(42)));
        assert_eq!(q.action, Some(ActionFilter::Prefix("user.".into())));
        let q = parse(&[("actor", "Ada@Example.org"), ("action", "token.issue")]).unwrap();
        assert_eq!(q.actor, Some(ActorFilter::Name("ada@example.org".into())));
        assert_eq!(q.action, Some(ActionFilter::Exact("token.issue".into())));
        let q = parse(&[("action", "release*")]).unwrap();
        assert_eq!(q.action, Some(ActionFilter::Prefix("release".into())));
    }

    #[test]
    fn times_are_rfc3339_or_berlin_form_values_and_ordered() {
        let q = parse(&[
            ("since", "2026-05-01T08:00:00Z"),
            ("until", "2026-05-01T12:00"),
        ])
        .unwrap();
        assert_eq!(q.since.unwrap().to_rfc3339(), "2026-05-01T08:00:00+00:00");
        // 12:00 in Berlin (CEST) is 10:00 UTC.
        assert_eq!(q.until.unwrap().to_rfc3339(), "2026-05-01T10:00:00+00:00");
        assert!(parse(&[("since", "yesterday")]).is_err());
        assert!(parse(&[
            ("since", "2026-05-02T00:00:00Z"),
            ("until", "2026-05-01T00:00:00Z")
        ])
        .is_err());
    }

    #[test]
    fn anchors_read_back_as_printed() {
        let a = Anchor {
            id: 7,
            hash: "ab".repeat(32),
        };
        assert_eq!(a.to_string().parse::<Anchor>(), Ok(a.clone()));
        assert_eq!(format!("7:{}", "AB".repeat(32)).parse::<Anchor>(), Ok(a));
        let id_zero = format!("0:{}", "ab".repeat(32));
        for bad in ["", "7", "x:abc", "7:abc", id_zero.as_str()] {
            assert!(bad.parse::<Anchor>().is_err(), "{bad}");
        }
    }
}
