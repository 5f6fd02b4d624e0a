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
    if e.release_id.is_some() {
        super::environments::notify(conn, "release").await?;
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
