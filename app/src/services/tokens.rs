//! Personal API tokens for machines (CI/CD). Shown once, stored as sha256, revocable.

use super::accounts::user_info;
use super::auth_cache::{self, AuthCache, TokenOwner};
use super::ServiceError;
use crate::domain::account::{IssuedToken, TokenInfo, UserInfo};
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

const TOKEN_PREFIX: &str = "sg_";

fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

pub async fn issue(pool: &PgPool, user_id: i64, name: &str) -> Result<IssuedToken, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::invalid(
            "name",
            "Give the token a name of 1 to 100 characters, e.g. the pipeline that uses it.",
            "Bitte dem Token einen Namen mit 1 bis 100 Zeichen geben, z. B. die Pipeline, die es nutzt.",
        ));
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let row = sqlx::query!(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix) VALUES ($1, $2, $3, $4)
         RETURNING id, created_at AS \"created_at: DateTime<Utc>\"",
        user_id,
        name,
        digest(&secret),
        prefix
    )
    .fetch_one(pool)
    .await?;
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

/// Revokes one of the user's own tokens. Revoking twice is harmless.
pub async fn revoke(pool: &PgPool, user_id: i64, token_id: i64) -> Result<(), ServiceError> {
    let found = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now())
         WHERE id = $1 AND user_id = $2",
        token_id,
        user_id
    )
    .execute(pool)
    .await?
    .rows_affected();
    if found == 0 {
        return Err(ServiceError::NotFound);
    }
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
