//! Signing in through an OpenID provider, once the provider's answer is verified: find the
//! person (by the provider's subject, else by a verified e-mail), create them if the policy
//! allows, apply the roles their groups give, and write what changed to the audit log in the
//! same transaction.

use super::accounts::{role_names, user_info, SignedIn};
use super::audit::{self, Entry};
use super::{auth_cache, Actor, ServiceError};
use crate::domain::account::{normalize_email, Role, UserInfo, NAME_MAX_CHARS};
use crate::domain::sso::{SsoPolicy, SsoRefusal};
use serde_json::json;
use sqlx::PgPool;

/// Who the provider says signed in (from the verified ID token and the userinfo answer).
#[derive(Clone, Debug, Default)]
pub struct SsoIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub groups: Vec<String>,
}

/// The account behind `who`, signed in, or why not. Refusals change nothing.
pub async fn sign_in(
    pool: &PgPool,
    policy: &SsoPolicy,
    who: &SsoIdentity,
) -> Result<Result<SignedIn, SsoRefusal>, ServiceError> {
    let mapped = match policy.judge(&who.groups) {
        Ok(m) => m,
        Err(r) => return Ok(Err(r)),
    };
    let email = who.email.as_deref().and_then(normalize_email);
    let mut tx = pool.begin().await?;
    // Two first sign-ins of one person racing (two tabs) must not make two accounts, and
    // role changes serialise with the admins' own (see `accounts::update_user`).
    sqlx::query!("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let by_subject = sqlx::query!(
        "SELECT id, email, name, roles, disabled, session_epoch FROM users
         WHERE oidc_issuer = $1 AND oidc_subject = $2",
        who.issuer,
        who.subject
    )
    .fetch_optional(&mut *tx)
    .await?;
    let (user, disabled, session_epoch, created) = match by_subject {
        Some(r) => (
            user_info(r.id, r.email, r.name, r.roles),
            r.disabled,
            r.session_epoch,
            false,
        ),
        None => {
            let by_email = match &email {
                Some(e) => {
                    sqlx::query!(
                        "SELECT id, email, name, roles, disabled, session_epoch, oidc_subject
                     FROM users WHERE email = $1",
                        e
                    )
                    .fetch_optional(&mut *tx)
                    .await?
                }
                None => None,
            };
            match by_email {
                Some(r) => {
                    // Only an address the provider vouches for may take over an account:
                    // anyone can type someone else's address into a provider profile.
                    if !who.email_verified {
                        return Ok(Err(SsoRefusal::Unverified));
                    }
                    if r.oidc_subject.is_some() {
                        return Ok(Err(SsoRefusal::Linked));
                    }
                    if r.disabled {
                        return Ok(Err(SsoRefusal::Disabled));
                    }
                    let user = user_info(r.id, r.email, r.name, r.roles);
                    sqlx::query!(
                        "UPDATE users SET oidc_issuer = $2, oidc_subject = $3, updated_at = now()
                         WHERE id = $1",
                        user.id,
                        who.issuer,
                        who.subject
                    )
                    .execute(&mut *tx)
                    .await?;
                    audit::append(
                        &mut tx,
                        &Actor::User(user.clone()),
                        Entry {
                            action: "user.sso_link",
                            release_id: None,
                            old: None,
                            new: Some(json!({
                                "user_id": user.id,
                                "email": user.email,
                                "issuer": who.issuer,
                                "subject": who.subject,
                            })),
                        },
                    )
                    .await?;
                    (user, false, r.session_epoch, false)
                }
                None => {
                    if !policy.create_users {
                        return Ok(Err(SsoRefusal::NoAccount));
                    }
                    let Some(email) = email else {
                        return Ok(Err(SsoRefusal::Email));
                    };
                    let roles = mapped.clone().unwrap_or_else(|| vec![Role::Viewer]);
                    let name: String = who
                        .name
                        .as_deref()
                        .unwrap_or_default()
                        .trim()
                        .chars()
                        .take(NAME_MAX_CHARS)
                        .collect();
                    let row = sqlx::query!(
                        "INSERT INTO users (email, name, password_hash, roles, oidc_issuer, oidc_subject)
                         VALUES ($1, $2, NULL, $3, $4, $5) RETURNING id, session_epoch",
                        email,
                        name,
                        &role_names(&roles),
                        who.issuer,
                        who.subject
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    let user = UserInfo {
                        id: row.id,
                        email,
                        name,
                        roles,
                    };
                    audit::append(
                        &mut tx,
                        &Actor::User(user.clone()),
                        Entry {
                            action: "user.sso_create",
                            release_id: None,
                            old: None,
                            new: Some(json!({
                                "user_id": user.id,
                                "email": user.email,
                                "name": user.name,
                                "roles": role_names(&user.roles),
                                "groups": who.groups,
                                "issuer": who.issuer,
                                "subject": who.subject,
                            })),
                        },
                    )
                    .await?;
                    (user, false, row.session_epoch, true)
                }
            }
        }
    };
    if disabled {
        return Ok(Err(SsoRefusal::Disabled));
    }
    let mut user = user;
    let mut roles_changed = false;
    if let Some(roles) = mapped.filter(|r| !created && *r != user.roles) {
        sqlx::query!(
            "UPDATE users SET roles = $2, updated_at = now() WHERE id = $1",
            user.id,
            &role_names(&roles)
        )
        .execute(&mut *tx)
        .await?;
        let before = std::mem::replace(&mut user.roles, roles);
        audit::append(
            &mut tx,
            &Actor::User(user.clone()),
            Entry {
                action: "user.sso_roles",
                release_id: None,
                old: Some(json!({
                    "user_id": user.id,
                    "email": user.email,
                    "roles": role_names(&before),
                })),
                new: Some(json!({
                    "user_id": user.id,
                    "email": user.email,
                    "roles": role_names(&user.roles),
                    "groups": who.groups,
                })),
            },
        )
        .await?;
        roles_changed = true;
    }
    tx.commit().await?;
    if roles_changed {
        auth_cache::invalidate();
    }
    Ok(Ok(SignedIn {
        user,
        session_epoch,
    }))
}
