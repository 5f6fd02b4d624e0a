//! Checklist templates: admins add, remove, reorder items and mark them "evidence required".
//! A release copies the templates when it is created; later edits do not change it.

use super::audit::{self, Entry};
use super::{Actor, ServiceError};
pub use crate::domain::templates::TemplateItem;
use crate::domain::templates::{default_items, ChecklistKind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

/// Puts the shipped templates in place the first time they are needed.
pub async fn seed_defaults(conn: &mut PgConnection) -> Result<(), ServiceError> {
    let empty = sqlx::query_scalar!(
        r#"SELECT NOT EXISTS (SELECT 1 FROM checklist_template_items) AS "e!""#
    )
    .fetch_one(&mut *conn)
    .await?;
    if !empty {
        return Ok(());
    }
    for kind in ChecklistKind::ALL {
        for (pos, i) in default_items(kind).iter().enumerate() {
            sqlx::query!(
                "INSERT INTO checklist_template_items
                   (kind, position, key, section_de, section_en, text_de, text_en, evidence_required)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO NOTHING",
                kind.as_str(),
                pos as i32,
                i.key,
                i.section_de,
                i.section_en,
                i.text_de,
                i.text_en,
                i.evidence_required
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

pub async fn list(pool: &PgPool) -> Result<Vec<TemplateItem>, ServiceError> {
    let mut conn = pool.acquire().await?;
    seed_defaults(&mut conn).await?;
    let rows = sqlx::query!(
        "SELECT id, kind, position, key, section_de, section_en, text_de, text_en, evidence_required
         FROM checklist_template_items
         ORDER BY CASE kind WHEN 'release_checklist' THEN 0 WHEN 'staging_gate' THEN 1 WHEN 'go_live' THEN 2 ELSE 3 END, position, id"
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(TemplateItem {
                id: r.id,
                kind: ChecklistKind::parse(&r.kind)?,
                position: r.position,
                key: r.key,
                section_de: r.section_de,
                section_en: r.section_en,
                text_de: r.text_de,
                text_en: r.text_en,
                evidence_required: r.evidence_required,
            })
        })
        .collect())
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTemplateItem {
    pub kind: String,
    pub text_de: String,
    pub text_en: String,
    #[serde(default)]
    pub section_de: String,
    #[serde(default)]
    pub section_en: String,
    #[serde(default)]
    pub evidence_required: bool,
}

pub async fn add(
    pool: &PgPool,
    actor: &Actor,
    new: NewTemplateItem,
) -> Result<TemplateItem, ServiceError> {
    actor.require_admin()?;
    let kind = ChecklistKind::parse(new.kind.trim()).ok_or(ServiceError::invalid(
        "kind",
        "Choose release_checklist, staging_gate or go_live.",
        "Bitte release_checklist, staging_gate oder go_live wählen.",
    ))?;
    for (field, v) in [("text_de", &new.text_de), ("text_en", &new.text_en)] {
        if v.trim().is_empty() || v.chars().count() > 500 {
            return Err(ServiceError::Invalid {
                field,
                en: "Required, at most 500 characters.",
                de: "Erforderlich, höchstens 500 Zeichen.",
            });
        }
    }
    let section = |s: &str, fallback: &str| {
        if s.trim().is_empty() {
            fallback.to_string()
        } else {
            s.trim().to_string()
        }
    };
    let mut tx = pool.begin().await?;
    seed_defaults(&mut tx).await?;
    let key = format!("custom_{:016x}", rand::random::<u64>());
    let id = sqlx::query_scalar!(
        "INSERT INTO checklist_template_items
           (kind, position, key, section_de, section_en, text_de, text_en, evidence_required)
         VALUES ($1, (SELECT COALESCE(max(position), -1) + 1 FROM checklist_template_items WHERE kind = $1),
                 $2, $3, $4, $5, $6, $7)
         RETURNING id",
        kind.as_str(),
        key,
        section(&new.section_de, kind.title_de()),
        section(&new.section_en, kind.title_en()),
        new.text_de.trim(),
        new.text_en.trim(),
        new.evidence_required
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "template.add",
            release_id: None,
            old: None,
            new: Some(json!({ "id": id, "kind": kind, "text_en": new.text_en.trim(), "evidence_required": new.evidence_required })),
        },
    )
    .await?;
    tx.commit().await?;
    list(pool)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or(ServiceError::NotFound)
}

pub async fn remove(pool: &PgPool, actor: &Actor, id: i64) -> Result<(), ServiceError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    let gone = sqlx::query!(
        "DELETE FROM checklist_template_items WHERE id = $1 RETURNING key, kind, text_en",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServiceError::NotFound)?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "template.remove",
            release_id: None,
            old: Some(
                json!({ "id": id, "key": gone.key, "kind": gone.kind, "text_en": gone.text_en }),
            ),
            new: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateChange {
    pub evidence_required: Option<bool>,
    /// Move one place up (-1) or down (+1) within its template.
    pub move_by: Option<i32>,
}

pub async fn change(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    c: TemplateChange,
) -> Result<(), ServiceError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    let item = sqlx::query!(
        "SELECT kind, position, evidence_required FROM checklist_template_items WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(ServiceError::NotFound)?;
    if let Some(required) = c.evidence_required {
        sqlx::query!(
            "UPDATE checklist_template_items SET evidence_required = $2 WHERE id = $1",
            id,
            required
        )
        .execute(&mut *tx)
        .await?;
    }
    if let Some(step) = c.move_by.filter(|s| *s != 0) {
        // Swap with the neighbour in that direction, if there is one.
        let neighbour = sqlx::query!(
            "SELECT id, position FROM checklist_template_items
             WHERE kind = $1 AND CASE WHEN $3 < 0 THEN position < $2 ELSE position > $2 END
             ORDER BY CASE WHEN $3 < 0 THEN -position ELSE position END LIMIT 1",
            item.kind,
            item.position,
            step
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(n) = neighbour {
            sqlx::query!(
                "UPDATE checklist_template_items SET position = CASE id WHEN $1 THEN $3::int ELSE $4::int END
                 WHERE id IN ($1, $2)",
                id,
                n.id,
                n.position,
                item.position
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "template.change",
            release_id: None,
            old: Some(json!({ "id": id, "position": item.position, "evidence_required": item.evidence_required })),
            new: Some(json!({ "id": id, "move_by": c.move_by, "evidence_required": c.evidence_required })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
