//! Personal API tokens for machines (CI/CD). Shown once, stored as sha256, revocable.
//! Issuing and revoking write audit rows naming the token by id, name and prefix; the
//! secret and its hash never reach the audit log.

use super::accounts::user_info;
use super::audit::{self, Entry};
use super::auth_cache::{self, AuthCache, TokenOwner};
use super::{Actor, ServiceError};
use crate::domain::account::{IssuedToken, TokenInfo, UserInfo};
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

const TOKEN_PREFIX: &str = "sg_";

/// How a secret is stored: its sha256, never the secret itself.
pub(crate) fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A new secret starting with `kind` (`sg_`, `sgcal_`), and the first characters people
/// tell their secrets apart by.
pub(crate) fn mint(kind: &str) -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{kind}{}", hex::encode(bytes));
    let prefix = secret.chars().take(kind.len() + 6).collect();
    (secret, prefix)
}

/// The token's owner, who is also the actor when people manage their own tokens.
async fn load_owner(conn: &mut PgConnection, user_id: i64) -> Result<UserInfo, ServiceError> {
    let r = sqlx::query!(
        "SELECT id, email, name, roles FROM users WHERE id = $1",
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ServiceError::NotFound)?;
    Ok(user_info(r.id, r.email, r.name, r.roles))
}

/// A token as its audit rows show it.
fn token_json(owner: &UserInfo, id: i64, name: &str, prefix: &str) -> Value {
    json!({
        "token_id": id,
        "name": name,
        "prefix": prefix,
        "user_id": owner.id,
        "email": owner.email,
    })
}

/// Issues a token to its owner, who is the one asking.
pub async fn issue(pool: &PgPool, user_id: i64, name: &str) -> Result<IssuedToken, ServiceError> {
    issue_as(pool, None, user_id, name).await
}

/// Issues a token to a user on someone else's behalf (the operator at the command line).
pub async fn issue_for(
    pool: &PgPool,
    actor: &Actor,
    user_id: i64,
    name: &str,
) -> Result<IssuedToken, ServiceError> {
    actor.require_admin()?;
    issue_as(pool, Some(actor), user_id, name).await
}

/// `actor: None` means the owner.
async fn issue_as(
    pool: &PgPool,
    actor: Option<&Actor>,
    user_id: i64,
    name: &str,
) -> Result<IssuedToken, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::invalid(
            "name",
            "Give the token a name of 1 to 100 characters, e.g. the pipeline that uses it.",
            "Bitte dem Token einen Namen mit 1 bis 100 Zeichen geben, z. B. die Pipeline, die es nutzt.",
        ));
    }
    let (secret, prefix) = mint(TOKEN_PREFIX);
    let mut tx = pool.begin().await?;
    let owner = load_owner(&mut tx, user_id).await?;
    let row = sqlx::query!(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES ($1, $2, $3, $4)
         RETURNING id, created_at AS \"created_at: DateTime<Utc>\"",
        user_id,
        name,
        digest(&secret),
        prefix
    )
    .fetch_one(&mut *tx)
    .await?;
    let by_owner = Actor::User(owner.clone());
    audit::append(
        &mut tx,
        actor.unwrap_or(&by_owner),
        Entry {
            action: "token.issue",
            release_id: None,
            old: None,
            new: Some(token_json(&owner, row.id, name, &prefix)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedToken {
        token: TokenInfo {
            id: row.id,
            name: name.to_string(),
            prefix,
            created_at: row.created_at,
            last_used_at: None,
            revoked_at: None,
        },
        secret,
    })
}

pub async fn list(pool: &PgPool, user_id: i64) -> Result<Vec<TokenInfo>, ServiceError> {
    Ok(sqlx::query_as!(
        TokenInfo,
        r#"SELECT id, name, prefix,
                  created_at AS "created_at: DateTime<Utc>",
                  last_used_at AS "last_used_at: DateTime<Utc>",
                  revoked_at AS "revoked_at: DateTime<Utc>"
           FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC"#,
        user_id
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes one of the user's own tokens. Revoking twice is harmless, and only the first
/// time is a change worth an audit row.
pub async fn revoke(pool: &PgPool, user_id: i64, token_id: i64) -> Result<(), ServiceError> {
    let mut tx = pool.begin().await?;
    let revoked = sqlx::query!(
        r#"UPDATE api_tokens SET revoked_at = now()
           WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
           RETURNING name, prefix, revoked_at AS "revoked_at!: DateTime<Utc>""#,
        token_id,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(revoked) = revoked else {
        let exists = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = $1 AND user_id = $2) AS "exists!""#,
            token_id,
            user_id
        )
        .fetch_one(&mut *tx)
        .await?;
        return if exists {
            Ok(())
        } else {
            Err(ServiceError::NotFound)
        };
    };
    let owner = load_owner(&mut tx, user_id).await?;
    let token = token_json(&owner, token_id, &revoked.name, &revoked.prefix);
    let mut new = token.clone();
    new["revoked_at"] = json!(revoked.revoked_at);
    audit::append(
        &mut tx,
        &Actor::User(owner),
        Entry {
            action: "token.revoke",
            release_id: None,
            old: Some(token),
            new: Some(new),
        },
    )
    .await?;
    tx.commit().await?;
    auth_cache::invalidate();
    Ok(())
}

/// The active user a bearer token belongs to, if the token is valid and not revoked.
/// Answers are remembered briefly in `cache`; revoking a token or changing its owner
/// invalidates them.
pub async fn authenticate(
    pool: &PgPool,
    cache: &AuthCache,
    secret: &str,
) -> Result<Option<UserInfo>, ServiceError> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = digest(secret);
    let now = Utc::now();
    let asked_in = auth_cache::generation();
    let (mut owner, cached) = match cache.tokens.get(&hash) {
        Some(owner) => (owner, true),
        None => {
            let Some(row) = sqlx::query!(
                r#"SELECT t.id AS token_id, t.last_used_at AS "last_used_at: DateTime<Utc>",
                          u.id, u.email, u.name, u.roles
                   FROM api_tokens t JOIN users u ON u.id = t.user_id
                   WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT u.disabled"#,
                hash
            )
            .fetch_optional(pool)
            .await?
            else {
                return Ok(None);
            };
            let owner = TokenOwner {
                token_id: row.token_id,
                user: user_info(row.id, row.email, row.name, row.roles),
                last_used_at: row.last_used_at,
            };
            (owner, false)
        }
    };
    // last_used_at is refreshed at most once a minute, so a busy pipeline does not turn
    // every read into a write.
    if owner
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::minutes(1))
    {
        sqlx::query!(
            "UPDATE api_tokens SET last_used_at = now() WHERE id = $1",
            owner.token_id
        )
        .execute(pool)
        .await?;
        owner.last_used_at = Some(now);
        if cached {
            cache.tokens.update(&hash, owner.clone());
        }
    }
    let user = owner.user.clone();
    if !cached {
        cache.tokens.put(hash, owner, asked_in);
    }
    Ok(Some(user))
}
