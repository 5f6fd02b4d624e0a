//! Evidence metadata: what is attached where, by whom, and what was retracted. The bytes
//! themselves live in the object store the server configures; only [`attach`] (storing
//! uploads) and [`thumbnails`] (shrinking images) handle them.

pub mod attach;
pub mod thumbnails;

use super::audit::{self, Entry};
use super::release_store::{self as store, bump, lock};
use super::{Actor, ServiceError};
use crate::domain::evidence::{evidence_open, AttachedTo, Evidence, Kind};
use crate::domain::release::{reopens_without_evidence, Phase};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

/// Where evidence is attached (a release, and in it `attached_to` and the item), checked
/// before a single byte is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub release_id: i64,
    pub attached_to: AttachedTo,
    pub item_key: Option<String>,
}

/// Validates who uploads what where: a worker role, an existing release and, for an item,
/// an item of that release. `attached_to` is `release`, `staging_gate` or `post_release`
/// (sent as the form field `section`); naming an item implies `item`.
pub async fn check_place(
    pool: &PgPool,
    actor: &Actor,
    release_id: i64,
    attached_to: Option<&str>,
    item: Option<&str>,
) -> Result<Place, ServiceError> {
    actor.require_worker()?;
    let item = item.map(str::trim).filter(|s| !s.is_empty());
    let attached_to =
        match (attached_to.map(str::trim).filter(|s| !s.is_empty()), item) {
            (None, Some(_)) | (Some("item"), Some(_)) => AttachedTo::Item,
            (None, None) => AttachedTo::Release,
            (Some(s), None) => match AttachedTo::parse(s) {
                Some(a) if a != AttachedTo::Item => a,
                _ => return Err(ServiceError::invalid(
                    "section",
                    "Attach to release, staging_gate, post_release or a checklist item.",
                    "Anhängen an release, staging_gate, post_release oder einen Checklistenpunkt.",
                )),
            },
            (Some(_), Some(_)) => {
                return Err(ServiceError::invalid(
                    "section",
                    "Name either a section or a checklist item, not both.",
                    "Bitte entweder einen Abschnitt oder einen Checklistenpunkt angeben.",
                ))
            }
        };
    let found = sqlx::query!(
        r#"SELECT r.phase,
                  (SELECT count(*) FROM checklist_items WHERE release_id = r.id AND key = $2) AS "items!"
           FROM releases r WHERE r.id = $1"#,
        release_id,
        item.unwrap_or_default()
    )
    .fetch_optional(pool)
    .await?
    .ok_or(ServiceError::NotFound)?;
    closed_for(
        Phase::parse(&found.phase).unwrap_or(Phase::Draft),
        attached_to,
    )?;
    if item.is_some() && found.items == 0 {
        return Err(ServiceError::invalid(
            "item",
            "This release has no checklist item with that key.",
            "Dieses Release hat keinen Checklistenpunkt mit diesem Schlüssel.",
        ));
    }
    Ok(Place {
        release_id,
        attached_to,
        item_key: item.map(str::to_string),
    })
}

/// A stored object, described.
#[derive(Clone, Debug)]
pub struct NewEvidence {
    pub place: Place,
    pub storage_key: String,
    pub filename: String,
    pub original_name: String,
    pub size: i64,
    pub content_type: String,
    pub kind: Kind,
    pub claimed_type: Option<String>,
    pub sha256: String,
}

/// Refuses what [`evidence_open`] does not allow.
fn closed_for(phase: Phase, attached_to: AttachedTo) -> Result<(), ServiceError> {
    if !evidence_open(phase, attached_to) {
        return Err(ServiceError::Conflict {
            en: "This release is closed: its checklist and staging-gate evidence no longer change. Attach to the post-release documentation instead.",
            de: "Dieses Release ist abgeschlossen: Nachweise zu Checkliste und Staging-Gate ändern sich nicht mehr. Bitte an die Dokumentation nach dem Release anhängen.",
        });
    }
    Ok(())
}

/// Records uploaded objects, each with its audit row, all in one transaction. The
/// release's revision moves on, so sign-offs made before the new proof show as stale.
pub async fn record_all(
    pool: &PgPool,
    actor: &Actor,
    news: Vec<NewEvidence>,
) -> Result<Vec<Evidence>, ServiceError> {
    actor.require_worker()?;
    let Some(release_id) = news.first().map(|n| n.place.release_id) else {
        return Ok(Vec::new());
    };
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, release_id, None).await?;
    let mut ids = Vec::with_capacity(news.len());
    for new in &news {
        if new.place.release_id != release_id {
            return Err(ServiceError::Internal(
                "evidence for two releases at once".into(),
            ));
        }
        closed_for(r.phase, new.place.attached_to)?;
        let id = sqlx::query_scalar!(
            "INSERT INTO evidence (release_id, attached_to, item_key, storage_key, filename,
                                   original_name, size, content_type, kind, claimed_type, sha256,
                                   uploaded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             RETURNING id",
            release_id,
            new.place.attached_to.as_str(),
            new.place.item_key,
            new.storage_key,
            new.filename,
            new.original_name,
            new.size,
            new.content_type,
            new.kind.as_str(),
            new.claimed_type,
            new.sha256,
            actor.user_id()
        )
        .fetch_one(&mut *tx)
        .await?;
        ids.push(id);
    }
    bump(&mut tx, release_id).await?;
    let all = store::evidence(&mut tx, release_id).await?;
    let recorded: Vec<Evidence> = ids
        .iter()
        .filter_map(|id| all.iter().find(|e| e.id == *id).cloned())
        .collect();
    for e in &recorded {
        audit::append(
            &mut tx,
            actor,
            Entry {
                action: "evidence.attach",
                release_id: Some(release_id),
                old: None,
                new: Some(json!({
                    "id": e.id, "attached_to": e.attached_to, "item": e.item_key,
                    "filename": e.filename, "size": e.size, "content_type": e.content_type,
                    "sha256": e.sha256,
                })),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(recorded)
}

/// A release's evidence; `NotFound` when there is no such release.
pub async fn list_for(pool: &PgPool, release_id: i64) -> Result<Vec<Evidence>, ServiceError> {
    let mut conn = pool.acquire().await?;
    store::load(&mut conn, release_id).await?;
    store::evidence(&mut conn, release_id).await
}

async fn find(conn: &mut PgConnection, release_id: i64, id: i64) -> Result<Evidence, ServiceError> {
    store::evidence(conn, release_id)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(ServiceError::NotFound)
}

/// One piece of evidence and where its bytes are. With `release_id`, evidence of another
/// release is `NotFound`, so a wrong release id never reaches it.
pub async fn locate(
    pool: &PgPool,
    release_id: Option<i64>,
    id: i64,
) -> Result<(Evidence, String), ServiceError> {
    let row = sqlx::query!(
        "SELECT release_id, storage_key FROM evidence WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await?
    .filter(|r| release_id.is_none_or(|rid| rid == r.release_id))
    .ok_or(ServiceError::NotFound)?;
    let mut conn = pool.acquire().await?;
    let e = find(&mut conn, row.release_id, id).await?;
    Ok((e, row.storage_key))
}

/// Hides a piece of evidence from what it proved, with a reason. It stays in storage and in
/// the audit trail. An item that needed it and has no other proof left is reopened; the
/// release's revision moves on, so sign-offs turn stale.
pub async fn retract(
    pool: &PgPool,
    actor: &Actor,
    release_id: i64,
    id: i64,
    reason: &str,
) -> Result<Evidence, ServiceError> {
    actor.require_worker()?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(ServiceError::invalid(
            "reason",
            "Say why the evidence is retracted (at most 2000 characters).",
            "Bitte angeben, warum der Nachweis zurückgezogen wird (höchstens 2000 Zeichen).",
        ));
    }
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, release_id, None).await?;
    let before = find(&mut tx, release_id, id).await?;
    closed_for(r.phase, before.attached_to)?;
    if before.is_retracted() {
        return Err(ServiceError::Conflict {
            en: "This evidence has already been retracted.",
            de: "Dieser Nachweis wurde bereits zurückgezogen.",
        });
    }
    sqlx::query!(
        "UPDATE evidence SET retracted_at = now(), retracted_by = $2, retract_reason = $3
         WHERE id = $1",
        id,
        actor.user_id(),
        reason
    )
    .execute(&mut *tx)
    .await?;
    // The checklist as it is now, the retracted file no longer counted.
    let item = match &before.item_key {
        Some(key) => store::checklist(&mut tx, release_id)
            .await?
            .into_iter()
            .find(|i| &i.key == key),
        None => None,
    };
    let reopened = item
        .filter(|i| {
            reopens_without_evidence(
                i.state,
                i.evidence_required,
                i.links.len() + i.evidence_count.max(0) as usize,
            )
        })
        .map(|i| i.key);
    if let Some(key) = &reopened {
        sqlx::query!(
            "UPDATE checklist_items SET state = 'open', updated_by = $3, updated_at = now()
             WHERE release_id = $1 AND key = $2",
            release_id,
            key,
            actor.user_id()
        )
        .execute(&mut *tx)
        .await?;
    }
    bump(&mut tx, release_id).await?;
    let after = find(&mut tx, release_id, id).await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "evidence.retract",
            release_id: Some(release_id),
            old: Some(json!({ "id": id, "filename": before.filename, "sha256": before.sha256 })),
            new: Some(json!({ "id": id, "reason": reason, "reopened_item": reopened })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Every stored object, for `shipgate evidence verify`.
#[derive(Clone, Debug)]
pub struct StoredObject {
    pub id: i64,
    pub storage_key: String,
    pub size: i64,
    pub sha256: String,
}

pub async fn all_objects(pool: &PgPool) -> Result<Vec<StoredObject>, ServiceError> {
    Ok(sqlx::query_as!(
        StoredObject,
        "SELECT id, storage_key, size, sha256 FROM evidence ORDER BY id"
    )
    .fetch_all(pool)
    .await?)
}
