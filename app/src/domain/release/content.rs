//! What a release's gates and its Go/No-Go are judged on: the signed content and its
//! hash, the gate facts of checklist and known issues, the preconditions, and the
//! sign-offs as shown with their stale marks.

use crate::domain::evidence::Evidence;
use crate::domain::release::{is_stale, GateIssue, GateItem, Preconditions};
use crate::domain::release_model::{ChecklistItem, KnownIssue, Release, SignOffRow, SignOffView};
use crate::domain::templates::ChecklistKind;
use serde::Serialize;
use serde_json::json;

/// A known issue as signed: key, severity, resolved, accepted by, acceptance reason.
type SignedIssue<'a> = (&'a str, &'a str, bool, Option<&'a str>, Option<&'a str>);

/// Everything a Go/No-Go sign-off approves, and its hash.
#[derive(Serialize)]
struct Signed<'a> {
    release: serde_json::Value,
    checklist: Vec<(&'a str, &'a str, &'a str, &'a str, &'a [String])>,
    known_issues: Vec<SignedIssue<'a>>,
    /// Evidence in force (id, sha256); absent when there is none, so what was signed
    /// before evidence existed keeps its hash.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<(i64, &'a str)>,
}

/// The canonical text of what a Go/No-Go sign-off approves; its hash binds a sign-off.
pub fn signed_content(
    release: &Release,
    items: &[ChecklistItem],
    issues: &[KnownIssue],
    evidence: &[Evidence],
) -> String {
    // What is signed excludes bookkeeping (revision, timestamps) and the phase itself.
    let mut rel = json!(release);
    if let Some(m) = rel.as_object_mut() {
        for k in ["revision", "created_at", "updated_at", "phase", "id"] {
            m.remove(k);
        }
    }
    // The post-release documentation comes after the decision: it is not what was signed.
    let signed = Signed {
        release: rel,
        checklist: items
            .iter()
            .filter(|i| i.kind != ChecklistKind::PostRelease)
            .map(|i| {
                (
                    i.key.as_str(),
                    i.state.as_str(),
                    i.note.as_str(),
                    i.reason.as_str(),
                    i.links.as_slice(),
                )
            })
            .collect(),
        known_issues: issues
            .iter()
            .map(|k| {
                (
                    k.key.as_str(),
                    k.severity.as_str(),
                    k.resolved_at.is_some(),
                    k.accepted_by.as_deref(),
                    k.accept_reason.as_deref(),
                )
            })
            .collect(),
        evidence: evidence
            .iter()
            .filter(|e| is_signed_evidence(e, items))
            .map(|e| (e.id, e.sha256.as_str()))
            .collect(),
    };
    serde_json::to_string(&signed).unwrap_or_default()
}

/// Whether a piece of evidence is part of what a sign-off approves: in force, and not
/// post-release documentation (filed after the decision, on its own or at one of the
/// documentation's items).
pub fn is_signed_evidence(e: &Evidence, items: &[ChecklistItem]) -> bool {
    let documentation = |key: &str| {
        items
            .iter()
            .any(|i| i.kind == ChecklistKind::PostRelease && i.key == key)
    };
    !e.is_retracted()
        && e.attached_to != crate::domain::evidence::AttachedTo::PostRelease
        && !e.item_key.as_deref().is_some_and(documentation)
}

/// The hash of [`signed_content`]: what a sign-off is bound to.
#[cfg(feature = "ssr")]
pub fn content_hash(
    release: &Release,
    items: &[ChecklistItem],
    issues: &[KnownIssue],
    evidence: &[Evidence],
) -> String {
    use sha2::{Digest, Sha256};
    let text = signed_content(release, items, issues, evidence);
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub fn gate_items(items: &[ChecklistItem]) -> Vec<GateItem> {
    items
        .iter()
        .map(|i| GateItem {
            key: i.key.clone(),
            kind: i.kind,
            text: i.text_en.clone(),
            text_de: i.text_de.clone(),
            state: i.state,
        })
        .collect()
}

pub fn gate_issues(issues: &[KnownIssue]) -> Vec<GateIssue> {
    issues
        .iter()
        .map(|k| GateIssue {
            key: k.key.clone(),
            severity: k.severity,
            resolved: k.resolved_at.is_some(),
            accepted: k.accepted_at.is_some(),
        })
        .collect()
}

pub fn preconditions(r: &Release) -> Preconditions {
    Preconditions {
        last_backup_at: r.last_backup_at,
        last_restore_test_at: r.last_restore_test_at,
        down_migration_url: r.links.down_migration.clone(),
        on_call: r.on_call.clone(),
    }
}

/// The sign-offs as the Go/No-Go panel shows them, with stale marks.
pub fn sign_off_views(rows: &[SignOffRow], current_hash: &str) -> Vec<SignOffView> {
    rows.iter()
        .map(|r| SignOffView {
            role: r.sign_off.role,
            signer: r.signer.clone(),
            decision: r.sign_off.decision,
            comment: r.comment.clone(),
            stale: is_stale(&r.sign_off, current_hash),
            signed_at: r.sign_off.signed_at,
        })
        .collect()
}
