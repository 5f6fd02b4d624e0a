//! A person's notification choices: the event groups e-mail is off for, and the language
//! e-mails are written in.

use super::audit::{self, Entry};
use super::{Actor, ServiceError};
use crate::domain::notify::{EventGroup, NotificationPrefs};
use serde_json::{json, Value};
use sqlx::PgPool;

/// The languages e-mails are written in.
pub const LANGS: [&str; 2] = ["de", "en"];

/// The groups as stored, in their usual order; a name this version does not know is left
/// out (the table's check admits none).
fn groups_of(names: &[String]) -> Vec<EventGroup> {
    EventGroup::ALL
        .into_iter()
        .filter(|g| names.iter().any(|n| n == g.as_str()))
        .collect()
}

fn group_names(groups: &[EventGroup]) -> Vec<String> {
    EventGroup::ALL
        .into_iter()
        .filter(|g| groups.contains(g))
        .map(|g| g.as_str().to_string())
        .collect()
}

pub async fn get(pool: &PgPool, user_id: i64) -> Result<NotificationPrefs, ServiceError> {
    let row = sqlx::query!("SELECT lang, email_off FROM users WHERE id = $1", user_id)
        .fetch_optional(pool)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(NotificationPrefs {
        lang: row.lang,
        email_off: groups_of(&row.email_off),
    })
}

/// The choices as the audit trail keeps them.
fn prefs_json(user_id: i64, email: &str, lang: &str, email_off: &[String]) -> Value {
    json!({
        "user_id": user_id,
        "email": email,
        "lang": lang,
        "email_off": email_off,
    })
}

/// Changes a person's choices: their own, or anyone's for an admin.
pub async fn set(
    pool: &PgPool,
    actor: &Actor,
    user_id: i64,
    prefs: NotificationPrefs,
) -> Result<(), ServiceError> {
    if actor.user_id() != Some(user_id) {
        actor.require_admin()?;
    }
    let lang = prefs.lang.trim();
    if !LANGS.contains(&lang) {
        return Err(ServiceError::invalid(
            "lang",
            "E-mails are written in German (de) or English (en).",
            "E-Mails werden auf Deutsch (de) oder Englisch (en) geschrieben.",
        ));
    }
    let email_off = group_names(&prefs.email_off);
    let mut tx = pool.begin().await?;
    let before = sqlx::query!(
        "SELECT email, lang, email_off FROM users WHERE id = $1 FOR UPDATE",
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServiceError::NotFound)?;
    let old_off = group_names(&groups_of(&before.email_off));
    if before.lang == lang && old_off == email_off {
        // Saving the same choices again changes nothing and is not worth an audit row.
        return Ok(());
    }
    sqlx::query!(
        "UPDATE users SET lang = $2, email_off = $3 WHERE id = $1",
        user_id,
        lang,
        &email_off
    )
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "user.notifications",
            release_id: None,
            old: Some(prefs_json(user_id, &before.email, &before.lang, &old_off)),
            new: Some(prefs_json(user_id, &before.email, lang, &email_off)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
