//! Accounts: the first admin, creating and changing users, signing in, changing passwords.
//! Every change to an account writes its audit row in the change's own transaction; the
//! rows name the account and what changed, never a password or its hash.

use super::audit::{self, Entry};
use super::auth_cache::{self, AuthCache};
use super::error::unique_violation_as;
use super::throttle::{registration_key, LoginThrottle};
use super::{passwords, Actor, ServiceError};
use crate::domain::account::{
    check_password, normalize_email, parse_roles, PasswordProblem, Role, UserInfo, UserRecord,
    NAME_MAX_CHARS,
};
use crate::domain::sso::LocalLogin;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::net::IpAddr;
use std::time::Instant;

/// What a session remembers about its user; `session_epoch` must still match on every
/// request, so bumping it ends all of the user's sessions at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    pub user: UserInfo,
    pub session_epoch: i32,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password: String,
    pub roles: Vec<String>,
}

struct Validated {
    email: String,
    name: String,
    roles: Vec<Role>,
}

fn validate_new_user(new: &NewUser) -> Result<Validated, ServiceError> {
    let email = normalize_email(&new.email).ok_or(ServiceError::invalid(
        "email",
        "Enter a valid email address.",
        "Bitte eine gültige E-Mail-Adresse eingeben.",
    ))?;
    let name = validate_name(&new.name)?;
    validate_password("password", &new.password)?;
    let roles = parse_roles(&new.roles)
        .map_err(|_| ServiceError::invalid("roles", "Unknown role.", "Unbekannte Rolle."))?;
    Ok(Validated { email, name, roles })
}

fn validate_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(ServiceError::invalid(
            "name",
            "The name is too long (at most 200 characters).",
            "Der Name ist zu lang (höchstens 200 Zeichen).",
        ));
    }
    Ok(name.to_string())
}

fn validate_password(field: &'static str, password: &str) -> Result<(), ServiceError> {
    check_password(password).map_err(|p| match p {
        PasswordProblem::TooShort => ServiceError::invalid(
            field,
            "The password needs at least 8 characters.",
            "Das Passwort braucht mindestens 8 Zeichen.",
        ),
        PasswordProblem::TooLong => ServiceError::invalid(
            field,
            "The password is too long (at most 256 characters).",
            "Das Passwort ist zu lang (höchstens 256 Zeichen).",
        ),
    })
}

fn roles_from_db(names: Vec<String>) -> Vec<Role> {
    // The column's CHECK constraint only admits known role names.
    parse_roles(&names).unwrap_or_default()
}

/// A user as read from a `users` row.
pub(crate) fn user_info(id: i64, email: String, name: String, roles: Vec<String>) -> UserInfo {
    UserInfo {
        id,
        email,
        name,
        roles: roles_from_db(roles),
    }
}

pub(crate) fn role_names(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_string()).collect()
}

/// An account as its audit rows show it.
fn account_json(u: &UserInfo) -> Value {
    json!({
        "user_id": u.id,
        "email": u.email,
        "name": u.name,
        "roles": role_names(&u.roles),
    })
}

fn already_set_up() -> ServiceError {
    ServiceError::Conflict {
        en: "Shipgate is set up already; ask an admin for an account.",
        de: "Shipgate ist bereits eingerichtet; ein Admin kann Ihnen ein Konto anlegen.",
    }
}

fn email_taken() -> ServiceError {
    ServiceError::Conflict {
        en: "An account with this email address exists already.",
        de: "Es gibt bereits ein Konto mit dieser E-Mail-Adresse.",
    }
}

pub async fn has_users(pool: &PgPool) -> Result<bool, ServiceError> {
    Ok(
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM users) AS "exists!""#)
            .fetch_one(pool)
            .await?,
    )
}

/// Registers the very first account, which becomes admin. Refused once any account exists.
/// Anyone can call this, so everything cheap comes first: the throttle (per client
/// address, like sign-ins), then whether the instance is set up already. Only a fresh
/// instance gets as far as hashing the password.
pub async fn register_first_admin(
    pool: &PgPool,
    throttle: &LoginThrottle,
    address: Option<IpAddr>,
    email: &str,
    name: &str,
    password: &str,
) -> Result<SignedIn, ServiceError> {
    let key = registration_key(address);
    throttle
        .begin_attempt(&key, address, Instant::now())
        .map_err(throttled)?;
    if has_users(pool).await? {
        return Err(already_set_up());
    }
    let v = validate_new_user(&NewUser {
        email: email.into(),
        name: name.into(),
        password: password.into(),
        roles: vec![],
    })?;
    let hash = passwords::hash(password.to_string()).await?;
    let mut tx = pool.begin().await?;
    // Two people racing to set up a fresh instance: only one becomes admin.
    sqlx::query!("LOCK TABLE users IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let exists = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM users) AS "exists!""#)
        .fetch_one(&mut *tx)
        .await?;
    if exists {
        return Err(already_set_up());
    }
    let roles = role_names(&[Role::Admin]);
    let row = sqlx::query!(
        "INSERT INTO users (email, name, password_hash, roles) VALUES ($1, $2, $3, $4)
         RETURNING id, session_epoch",
        v.email,
        v.name,
        hash,
        &roles
    )
    .fetch_one(&mut *tx)
    .await?;
    let user = UserInfo {
        id: row.id,
        email: v.email,
        name: v.name,
        roles: vec![Role::Admin],
    };
    // The new admin is their own actor: nobody else was there.
    audit::append(
        &mut tx,
        &Actor::User(user.clone()),
        Entry {
            action: "user.register",
            release_id: None,
            old: None,
            new: Some(account_json(&user)),
        },
    )
    .await?;
    tx.commit().await?;
    throttle.record_success(&key, address);
    Ok(SignedIn {
        user,
        session_epoch: row.session_epoch,
    })
}

pub async fn create_user(
    pool: &PgPool,
    actor: &Actor,
    new: NewUser,
) -> Result<UserRecord, ServiceError> {
    actor.require_admin()?;
    let v = validate_new_user(&new)?;
    if v.roles.is_empty() {
        return Err(ServiceError::invalid(
            "roles",
            "Choose at least one role.",
            "Bitte mindestens eine Rolle wählen.",
        ));
    }
    let hash = passwords::hash(new.password).await?;
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        "INSERT INTO users (email, name, password_hash, roles) VALUES ($1, $2, $3, $4)
         RETURNING id, created_at AS \"created_at: DateTime<Utc>\"",
        v.email,
        v.name,
        hash,
        &role_names(&v.roles)
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| unique_violation_as(e, email_taken()))?;
    let record = UserRecord {
        user: UserInfo {
            id: row.id,
            email: v.email,
            name: v.name,
            roles: v.roles,
        },
        disabled: false,
        created_at: row.created_at,
    };
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "user.create",
            release_id: None,
            old: None,
            new: Some(account_json(&record.user)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(record)
}

pub async fn list_users(pool: &PgPool, actor: &Actor) -> Result<Vec<UserRecord>, ServiceError> {
    actor.require_admin()?;
    let rows = sqlx::query!(
        r#"SELECT id, email, name, roles, disabled, created_at AS "created_at: DateTime<Utc>" FROM users ORDER BY email"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| UserRecord {
            user: user_info(r.id, r.email, r.name, r.roles),
            disabled: r.disabled,
            created_at: r.created_at,
        })
        .collect())
}

/// An admin's change to another account. `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    pub roles: Option<Vec<String>>,
    pub disabled: Option<bool>,
}

pub async fn update_user(
    pool: &PgPool,
    actor: &Actor,
    user_id: i64,
    change: UserChange,
) -> Result<UserRecord, ServiceError> {
    actor.require_admin()?;
    let roles =
        match &change.roles {
            Some(names) => Some(parse_roles(names).map_err(|_| {
                ServiceError::invalid("roles", "Unknown role.", "Unbekannte Rolle.")
            })?),
            None => None,
        };
    if let Actor::User(me) = actor {
        // Admins cannot lock themselves out; another admin has to do it.
        if me.id == user_id
            && (change.disabled == Some(true)
                || roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin)))
        {
            return Err(ServiceError::Conflict {
                en: "You cannot disable your own account or remove your own admin role.",
                de: "Sie können Ihr eigenes Konto nicht sperren und sich die Admin-Rolle nicht selbst entziehen.",
            });
        }
    }
    if roles.as_ref().is_some_and(|r| r.is_empty()) {
        return Err(ServiceError::invalid(
            "roles",
            "Choose at least one role.",
            "Bitte mindestens eine Rolle wählen.",
        ));
    }
    let new_roles = roles.as_deref().map(role_names);
    let mut tx = pool.begin().await?;
    // Serialises admin changes, so two admins demoting each other cannot leave none.
    sqlx::query!("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let before = sqlx::query!("SELECT roles, disabled FROM users WHERE id = $1", user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let row = sqlx::query!(
        r#"UPDATE users SET
               roles = COALESCE($2, roles),
               disabled = COALESCE($3, disabled),
               session_epoch = session_epoch + CASE WHEN $3 THEN 1 ELSE 0 END,
               updated_at = now()
           WHERE id = $1
           RETURNING id, email, name, roles, disabled, created_at AS "created_at: DateTime<Utc>""#,
        user_id,
        new_roles.as_deref(),
        change.disabled
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServiceError::NotFound)?;
    let admins = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM users WHERE 'admin' = ANY(roles) AND NOT disabled"#
    )
    .fetch_one(&mut *tx)
    .await?;
    if admins == 0 {
        return Err(ServiceError::Conflict {
            en: "Shipgate needs at least one active admin.",
            de: "Shipgate braucht mindestens einen aktiven Admin.",
        });
    }
    let record = UserRecord {
        user: user_info(row.id, row.email, row.name, row.roles),
        disabled: row.disabled,
        created_at: row.created_at,
    };
    // One row per kind of change, and none for a change that changed nothing.
    let target = |key: &str, value: Value| {
        json!({
            "user_id": record.user.id,
            "email": record.user.email,
            key: value,
        })
    };
    let old_roles = roles_from_db(before.roles);
    if old_roles != record.user.roles {
        audit::append(
            &mut tx,
            actor,
            Entry {
                action: "user.roles",
                release_id: None,
                old: Some(target("roles", json!(role_names(&old_roles)))),
                new: Some(target("roles", json!(role_names(&record.user.roles)))),
            },
        )
        .await?;
    }
    if before.disabled != record.disabled {
        audit::append(
            &mut tx,
            actor,
            Entry {
                action: if record.disabled {
                    "user.disable"
                } else {
                    "user.enable"
                },
                release_id: None,
                old: Some(target("disabled", json!(before.disabled))),
                new: Some(target("disabled", json!(record.disabled))),
            },
        )
        .await?;
    }
    tx.commit().await?;
    auth_cache::invalidate();
    Ok(record)
}

fn throttled(wait: std::time::Duration) -> ServiceError {
    ServiceError::Throttled {
        retry_after_secs: wait.as_secs().max(1),
    }
}

/// Checks email and password, with throttling per account and per client address.
/// Unknown email, no password and wrong password give the same error, after the same work.
/// Only then does `local` say whether this account may use a password at all, so the
/// refusal reveals nothing to someone who does not know the password.
pub async fn authenticate(
    pool: &PgPool,
    throttle: &LoginThrottle,
    local: LocalLogin,
    email: &str,
    password: &str,
    address: Option<IpAddr>,
) -> Result<SignedIn, ServiceError> {
    let account = email.trim().to_lowercase();
    throttle
        .begin_attempt(&account, address, Instant::now())
        .map_err(throttled)?;
    let row = sqlx::query!(
        "SELECT id, email, name, roles, password_hash, disabled, session_epoch
         FROM users WHERE email = $1",
        account
    )
    .fetch_optional(pool)
    .await?;
    let stored = row.as_ref().and_then(|r| r.password_hash.clone());
    let password_ok = passwords::verify(stored, password.to_string()).await?;
    match row {
        Some(r) if password_ok && !r.disabled => {
            throttle.record_success(&account, address);
            let user = user_info(r.id, r.email, r.name, r.roles);
            if !local.permits(&user.roles) {
                return Err(ServiceError::LocalLoginRefused);
            }
            Ok(SignedIn {
                user,
                session_epoch: r.session_epoch,
            })
        }
        _ => Err(ServiceError::InvalidCredentials),
    }
}

/// The user behind a session, if the account is still active and the session still valid.
/// Answers are remembered briefly in `cache`; account changes invalidate them.
pub async fn session_user(
    pool: &PgPool,
    cache: &AuthCache,
    user_id: i64,
    session_epoch: i32,
) -> Result<Option<UserInfo>, ServiceError> {
    if let Some(user) = cache.sessions.get(&(user_id, session_epoch)) {
        return Ok(Some(user));
    }
    let asked_in = auth_cache::generation();
    let row = sqlx::query!(
        "SELECT id, email, name, roles FROM users
         WHERE id = $1 AND session_epoch = $2 AND NOT disabled",
        user_id,
        session_epoch
    )
    .fetch_optional(pool)
    .await?;
    let user = row.map(|r| user_info(r.id, r.email, r.name, r.roles));
    if let Some(u) = &user {
        cache
            .sessions
            .put((user_id, session_epoch), u.clone(), asked_in);
    }
    Ok(user)
}

/// Changes the user's own password and ends their other sessions. Returns the new session
/// epoch, which the current session must adopt to stay signed in.
/// Guesses at the current password count against the same throttle as sign-ins.
pub async fn change_password(
    pool: &PgPool,
    throttle: &LoginThrottle,
    user: &UserInfo,
    current: &str,
    new: &str,
) -> Result<i32, ServiceError> {
    let user_id = user.id;
    validate_password("new_password", new)?;
    throttle
        .begin_attempt(&user.email, None, Instant::now())
        .map_err(throttled)?;
    let stored = sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = $1", user_id)
        .fetch_optional(pool)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let Some(stored) = stored else {
        return Err(ServiceError::Conflict {
            en: "Your account has no password: you sign in through single sign-on. An admin can set a password for you.",
            de: "Ihr Konto hat kein Passwort: Sie melden sich per Single Sign-on an. Ein Admin kann Ihnen ein Passwort setzen.",
        });
    };
    if !passwords::verify(Some(stored), current.to_string()).await? {
        return Err(ServiceError::invalid(
            "current_password",
            "The current password is wrong.",
            "Das aktuelle Passwort ist falsch.",
        ));
    }
    throttle.record_success(&user.email, None);
    let hash = passwords::hash(new.to_string()).await?;
    let mut tx = pool.begin().await?;
    let epoch = sqlx::query_scalar!(
        "UPDATE users SET password_hash = $2, session_epoch = session_epoch + 1, updated_at = now()
         WHERE id = $1 RETURNING session_epoch",
        user_id,
        hash
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        &Actor::User(user.clone()),
        Entry {
            action: "user.password",
            release_id: None,
            old: None,
            new: Some(json!({ "user_id": user.id, "email": user.email, "by": "self" })),
        },
    )
    .await?;
    tx.commit().await?;
    auth_cache::invalidate();
    Ok(epoch)
}

/// An admin sets (or replaces) another person's password, e.g. a break-glass password for
/// someone who signs in through single sign-on. Their sessions end.
pub async fn set_password(
    pool: &PgPool,
    actor: &Actor,
    user_id: i64,
    password: &str,
) -> Result<(), ServiceError> {
    actor.require_admin()?;
    validate_password("password", password)?;
    let hash = passwords::hash(password.to_string()).await?;
    let mut tx = pool.begin().await?;
    let email = sqlx::query_scalar!(
        "UPDATE users SET password_hash = $2, session_epoch = session_epoch + 1, updated_at = now()
         WHERE id = $1 RETURNING email",
        user_id,
        hash
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServiceError::NotFound)?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "user.password",
            release_id: None,
            old: None,
            new: Some(json!({
                "user_id": user_id,
                "email": email,
                "by": if matches!(actor, Actor::Cli) { "cli" } else { "admin" },
            })),
        },
    )
    .await?;
    tx.commit().await?;
    auth_cache::invalidate();
    Ok(())
}

pub async fn find_by_email(pool: &PgPool, email: &str) -> Result<UserInfo, ServiceError> {
    let email = normalize_email(email).ok_or(ServiceError::NotFound)?;
    let r = sqlx::query!(
        "SELECT id, email, name, roles FROM users WHERE email = $1",
        email
    )
    .fetch_optional(pool)
    .await?
    .ok_or(ServiceError::NotFound)?;
    Ok(user_info(r.id, r.email, r.name, r.roles))
}
