//! The release dossier: the sealed record of an ended release, in the structure of the
//! procedure (release checklist, "Staging-Gate-Protokoll (T-12h)", "Go-Live-Entscheid
//! (T-1h)", go-live, rollback, documentation), and its canonical JSON. (Its Markdown form
//! is presentation and lives with the server.) Pure: the server gathers the facts and
//! hashes; this module only shapes them.

use super::evidence::Evidence;
use super::golive::RecordedStep;
use super::release::{Phase, Preconditions};
use super::release_model::{KnownIssue, Release, SignOffView};
use super::templates::ChecklistKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format tag of exported dossiers.
pub const FORMAT: &str = "shipgate-dossier/1";

/// One checklist item as it stood when the release ended, with who changed it last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DossierItem {
    pub kind: ChecklistKind,
    pub key: String,
    pub section_de: String,
    pub section_en: String,
    pub text_de: String,
    pub text_en: String,
    pub evidence_required: bool,
    pub state: super::release::ItemState,
    pub note: String,
    pub reason: String,
    pub links: Vec<String>,
    pub updated_by: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// What the probes showed for an environment when the Go/No-Go decision was taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitoringAtDecision {
    pub environment: String,
    /// `target` or `staging`.
    pub role: String,
    pub registered: bool,
    pub open_alerts: Vec<Value>,
    /// The latest results per endpoint up to the decision.
    pub recent_results: Vec<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StagingGateProtocol {
    pub items: Vec<DossierItem>,
    pub known_issues: Vec<KnownIssue>,
    /// When the release moved on to Go/No-Go.
    pub passed_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoNoGoDecision {
    pub items: Vec<DossierItem>,
    pub sign_offs: Vec<SignOffView>,
    pub preconditions: Preconditions,
    pub decided_at: Option<DateTime<Utc>>,
    pub monitoring: Vec<MonitoringAtDecision>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RollbackRecord {
    pub at: DateTime<Utc>,
    pub by: String,
    pub reason: String,
    pub status_page_updated: bool,
    pub team_alerted: bool,
    pub rollback_plan: Option<String>,
    pub down_migration: Option<String>,
    pub backup_restore: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dossier {
    pub format: String,
    pub release: Release,
    pub outcome: Phase,
    pub sealed_at: DateTime<Utc>,
    /// The audit chain's newest hash when the dossier was sealed.
    pub audit_head: String,
    /// Audit rows of this release up to sealing.
    pub audit_rows: i64,
    pub release_checklist: Vec<DossierItem>,
    pub staging_gate: StagingGateProtocol,
    pub go_no_go: GoNoGoDecision,
    pub go_live: Vec<RecordedStep>,
    pub rollback: Option<RollbackRecord>,
    pub rollback_suggested: Option<super::monitoring_model::RollbackMark>,
    pub post_release: Vec<DossierItem>,
    /// Every piece of evidence, retracted ones included, with its sha256.
    pub evidence: Vec<Evidence>,
}

impl Dossier {
    /// The checklist item `key`, whichever of the release's checklists holds it.
    pub fn item(&self, key: &str) -> Option<&DossierItem> {
        self.release_checklist
            .iter()
            .chain(&self.staging_gate.items)
            .chain(&self.go_no_go.items)
            .chain(&self.post_release)
            .find(|i| i.key == key)
    }
}

/// A dossier as exported: the document and the sha256 over its canonical JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SealedDossier {
    pub format: String,
    pub sha256: String,
    pub dossier: Dossier,
}

/// JSON with object keys sorted at every level and no insignificant whitespace: the text
/// the seal's hash is taken over, the same whatever order a map kept its keys in.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// What `dossier verify` finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyProblem {
    NotJson(String),
    NotADossier(String),
    /// The recorded hash does not match the content.
    HashMismatch {
        recorded: String,
        computed: String,
    },
    /// The content is intact but the file is not byte for byte as exported.
    Reformatted,
}

/// Checks an exported dossier file on its own: the content's hash against the recorded
/// one, and the bytes against the canonical export. `hash` is sha256 in hex.
pub fn verify_export(
    bytes: &[u8],
    hash: impl Fn(&[u8]) -> String,
) -> Result<(i64, String), VerifyProblem> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| VerifyProblem::NotJson(e.to_string()))?;
    let recorded = v
        .get("sha256")
        .and_then(Value::as_str)
        .ok_or_else(|| VerifyProblem::NotADossier("no sha256".into()))?
        .to_string();
    let doc = v
        .get("dossier")
        .ok_or_else(|| VerifyProblem::NotADossier("no dossier".into()))?;
    if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(VerifyProblem::NotADossier(format!(
            "format is not {FORMAT}"
        )));
    }
    let id = doc["release"]["id"]
        .as_i64()
        .ok_or_else(|| VerifyProblem::NotADossier("no release id".into()))?;
    let computed = hash(canonical_json(doc).as_bytes());
    if computed != recorded {
        return Err(VerifyProblem::HashMismatch { recorded, computed });
    }
    // A byte changed outside the content (whitespace, key order) still counts as a change.
    let exported = canonical_json(&v);
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if trimmed != exported.as_bytes() {
        return Err(VerifyProblem::Reformatted);
    }
    Ok((id, computed))
}

/// The JSON paths at which two dossiers differ (`release.title`, `evidence[2].sha256`).
pub fn differences(a: &Value, b: &Value) -> Vec<String> {
    let mut out = vec![];
    diff_at("", a, b, &mut out);
    out
}

fn diff_at(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(l), Some(r)) => diff_at(&p, l, r, out),
                    _ => out.push(p),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (l, r)) in x.iter().zip(y).enumerate() {
                diff_at(&format!("{path}[{i}]"), l, r, out);
            }
        }
        _ if a != b => out.push(if path.is_empty() {
            "(document)".into()
        } else {
            path.into()
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = json!({ "b": 1, "a": { "z": [1, { "y": true, "x": null }], "c": "é\"" } });
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":"é\"","z":[1,{"x":null,"y":true}]},"b":1}"#
        );
    }

    fn fake_hash(b: &[u8]) -> String {
        // Not sha256, but any change of the input changes it, which is what these tests need.
        format!(
            "{:x}",
            b.iter().fold(0xcbf29ce484222325u64, |h, x| (h ^ *x as u64)
                .wrapping_mul(0x100000001b3))
        )
    }

    fn export(doc: Value) -> String {
        let sha = fake_hash(canonical_json(&doc).as_bytes());
        canonical_json(&json!({ "format": FORMAT, "sha256": sha, "dossier": doc }))
    }

    #[test]
    fn verify_accepts_the_export_and_catches_any_changed_byte() {
        let file = export(json!({ "release": { "id": 7, "title": "Spring" }, "evidence": [] }));
        assert_eq!(
            verify_export(file.as_bytes(), fake_hash).map(|(id, _)| id),
            Ok(7)
        );
        let changed = file.replace("Spring", "Sprint");
        assert!(matches!(
            verify_export(changed.as_bytes(), fake_hash),
            Err(VerifyProblem::HashMismatch { .. })
        ));
        let spaced = file.replacen(':', ": ", 1);
        assert_eq!(
            verify_export(spaced.as_bytes(), fake_hash),
            Err(VerifyProblem::Reformatted)
        );
        let broken = &file.as_bytes()[..file.len() - 1];
        assert!(matches!(
            verify_export(broken, fake_hash),
            Err(VerifyProblem::NotJson(_))
        ));
    }

    #[test]
    fn differences_name_the_changed_paths() {
        let a = json!({ "release": { "title": "A" }, "evidence": [{ "sha256": "1" }, { "sha256": "2" }] });
        let b = json!({ "release": { "title": "B" }, "evidence": [{ "sha256": "1" }, { "sha256": "3" }] });
        assert_eq!(
            differences(&a, &b),
            vec!["evidence[1].sha256", "release.title"]
        );
        assert!(differences(&a, &a).is_empty());
    }
}
