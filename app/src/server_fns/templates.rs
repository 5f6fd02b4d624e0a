//! Server functions for the checklist templates new releases copy (admins change them).

use super::Refusal;
use crate::domain::templates::{ChecklistKind, TemplateItem};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;

/// What the buttons of a template item do to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateEdit {
    Up,
    Down,
    EvidenceOn,
    EvidenceOff,
    Remove,
}

impl TemplateEdit {
    /// The name the form sends (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateEdit::Up => "up",
            TemplateEdit::Down => "down",
            TemplateEdit::EvidenceOn => "evidence_on",
            TemplateEdit::EvidenceOff => "evidence_off",
            TemplateEdit::Remove => "remove",
        }
    }
}

#[server]
pub async fn list_templates() -> Result<Vec<TemplateItem>, Refusal> {
    ssr::current_user()?;
    Ok(crate::services::templates::list(&ssr::state().pool).await?)
}

#[server]
pub async fn add_template_item(
    kind: ChecklistKind,
    text_de: String,
    text_en: String,
    evidence_required: Option<String>,
) -> Result<(), Refusal> {
    use crate::services::templates::{add, NewTemplateItem};
    let actor = ssr::actor()?;
    add(
        &ssr::state().pool,
        &actor,
        NewTemplateItem {
            kind: kind.as_str().to_string(),
            text_de,
            text_en,
            evidence_required: evidence_required.is_some(),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

#[server]
pub async fn edit_template_item(id: i64, op: TemplateEdit) -> Result<(), Refusal> {
    use crate::services::templates::{change, remove, TemplateChange};
    let actor = ssr::actor()?;
    let pool = ssr::state().pool;
    let c = |move_by, evidence_required| TemplateChange {
        move_by,
        evidence_required,
    };
    Ok(match op {
        TemplateEdit::Up => change(&pool, &actor, id, c(Some(-1), None)).await,
        TemplateEdit::Down => change(&pool, &actor, id, c(Some(1), None)).await,
        TemplateEdit::EvidenceOn => change(&pool, &actor, id, c(None, Some(true))).await,
        TemplateEdit::EvidenceOff => change(&pool, &actor, id, c(None, Some(false))).await,
        TemplateEdit::Remove => remove(&pool, &actor, id).await,
    }?)
}

#[cfg(test)]
mod tests {
    use super::TemplateEdit;

    #[test]
    fn edits_travel_by_their_form_names() {
        for op in [
            TemplateEdit::Up,
            TemplateEdit::Down,
            TemplateEdit::EvidenceOn,
            TemplateEdit::EvidenceOff,
            TemplateEdit::Remove,
        ] {
            assert_eq!(
                serde_json::to_string(&op).unwrap(),
                format!("\"{}\"", op.as_str())
            );
        }
    }
}
