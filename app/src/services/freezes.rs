//! Freeze windows: admins block go-live into an environment for a while, with a reason.

use super::audit::{self, Entry};
use super::{Actor, ServiceError};
use crate::domain::golive::Freeze;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeInput {
    pub environment: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: String,
}

/// Freezes not yet over (current and coming), soonest first; with `environment`, only
/// that environment's.
pub async fn upcoming(
    conn: &mut PgConnection,
    environment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<Freeze>, ServiceError> {
    Ok(sqlx::query_as!(
        Freeze,
        r#"SELECT f.id, f.environment, f.starts_at AS "starts_at: DateTime<Utc>",
                  f.ends_at AS "ends_at: DateTime<Utc>", f.reason, u.email AS "created_by?"
           FROM freeze_windows f LEFT JOIN users u ON u.id = f.created_by
           WHERE f.ends_at > $1 AND ($2::text IS NULL OR lower(trim(f.environment)) = lower(trim($2)))
           ORDER BY f.starts_at, f.id"#,
        now as _,
        environment
    )
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn list(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<Freeze>, ServiceError> {
    let mut conn = pool.acquire().await?;
    upcoming(&mut conn, None, now).await
}

pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    input: FreezeInput,
) -> Result<Freeze, ServiceError> {
    actor.require_admin()?;
    let environment = input.environment.trim();
    if environment.is_empty() || environment.chars().count() > 100 {
        return Err(ServiceError::invalid(
            "environment",
            "Name the environment (at most 100 characters).",
            "Bitte die Umgebung nennen (höchstens 100 Zeichen).",
        ));
    }
    if input.ends_at <= input.starts_at {
        return Err(ServiceError::invalid(
            "ends_at",
            "A freeze must end after it starts.",
            "Ein Freeze muss nach seinem Beginn enden.",
        ));
    }
    let reason = input.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ServiceError::invalid(
            "reason",
            "Give the reason people will see (at most 500 characters).",
            "Bitte den Grund angeben, den alle sehen (höchstens 500 Zeichen).",
        ));
    }
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO freeze_windows (environment, starts_at, ends_at, reason, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        environment,
        input.starts_at as _,
        input.ends_at as _,
        reason,
        actor.user_id()
    )
    .fetch_one(&mut *tx)
    .await?;
    let freeze = Freeze {
        id,
        environment: environment.to_string(),
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        reason: reason.to_string(),
        created_by: match actor {
            Actor::User(u) => Some(u.email.clone()),
            _ => None,
        },
    };
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "freeze.create",
            release_id: None,
            old: None,
            new: Some(json!(freeze)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(freeze)
}

pub async fn delete(pool: &PgPool, actor: &Actor, id: i64) -> Result<(), ServiceError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    let gone = sqlx::query!(
        r#"DELETE FROM freeze_windows WHERE id = $1
           RETURNING environment, starts_at AS "starts_at: DateTime<Utc>",
                     ends_at AS "ends_at: DateTime<Utc>", reason"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServiceError::NotFound)?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "freeze.remove",
            release_id: None,
            old: Some(json!({
                "id": id, "environment": gone.environment, "starts_at": gone.starts_at,
                "ends_at": gone.ends_at, "reason": gone.reason
            })),
            new: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
