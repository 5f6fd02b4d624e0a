//! The release dossier: the sealed record of an ended release, in the structure of the
//! procedure (release checklist, "Staging-Gate-Protokoll (T-12h)", "Go-Live-Entscheid
//! (T-1h)", go-live, rollback, documentation), its canonical JSON and its Markdown form.
//! Pure: the server gathers the facts and hashes; this module only shapes them.

use super::evidence::Evidence;
use super::golive::RecordedStep;
use super::release::{Phase, Preconditions};
use super::release_model::{KnownIssue, Release, SignOffView};
use super::templates::ChecklistKind;
use crate::i18n::Lang;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt::Write;

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

/// User text as inline Markdown that reads as itself: one line (CR and LF become spaces),
/// no HTML, and the characters that would start emphasis, links, code, tables or a
/// heading or list item escaped.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' | '\u{2028}' | '\u{2029}' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '!' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    // A leading list or heading marker (for a line that starts with the text).
    if out.starts_with(['-', '+', '=']) {
        out.insert(0, '\\');
    }
    out
}

/// A link inside `<…>`: nothing in it may close the bracket or break the line.
fn md_link(link: &str) -> String {
    link.chars()
        .flat_map(|c| match c {
            '<' => "%3C".chars().collect::<Vec<_>>(),
            '>' => "%3E".chars().collect(),
            ' ' => "%20".chars().collect(),
            c if c.is_control() || c.is_whitespace() => Vec::new(),
            c => vec![c],
        })
        .collect()
}

fn when(t: &DateTime<Utc>) -> String {
    super::time::berlin_display(t)
}

fn items_md(out: &mut String, lang: Lang, items: &[DossierItem]) {
    let mut section = "";
    for i in items {
        let s = lang.pick(i.section_en.as_str(), i.section_de.as_str());
        if s != section && items.iter().any(|o| o.section_en != i.section_en) {
            let _ = writeln!(out, "\n**{s}**\n");
            section = s;
        }
        let mark = if i.state.settles_gate() { "x" } else { " " };
        let _ = write!(
            out,
            "- [{mark}] {} — **{}**",
            md(lang.pick(i.text_en.as_str(), i.text_de.as_str())),
            i.state.label(lang)
        );
        if let Some(by) = &i.updated_by {
            let _ = write!(out, " ({}, {})", md(by), when(&i.updated_at));
        }
        out.push('\n');
        for (label, text) in [
            (lang.pick("Note", "Notiz"), &i.note),
            (lang.pick("Reason", "Grund"), &i.reason),
        ] {
            if !text.is_empty() {
                let _ = writeln!(out, "  - {label}: {}", md(text));
            }
        }
        for l in &i.links {
            let _ = writeln!(
                out,
                "  - {}: <{}>",
                lang.pick("Evidence", "Nachweis"),
                md_link(l)
            );
        }
    }
}

/// The filled-in protocol the procedure asks teams to write by hand, in Markdown.
pub fn markdown(sealed: &SealedDossier, lang: Lang) -> String {
    let d = &sealed.dossier;
    let r = &d.release;
    let mut out = String::new();
    let none = || "–".to_string();
    let _ = writeln!(
        out,
        "# {} {} — {}\n",
        md(&r.title),
        md(&r.version),
        lang.pick("Release dossier", "Release-Dossier")
    );
    let outcome = match d.outcome {
        Phase::Done => lang.pick("released (done)", "freigegeben und live (done)"),
        Phase::NoGo => lang.pick(
            "stopped at Go/No-Go (no_go)",
            "beim Go/No-Go gestoppt (no_go)",
        ),
        Phase::RolledBack => lang.pick("rolled back", "zurückgerollt (rolled_back)"),
        _ => d.outcome.as_str(),
    };
    for (k, v) in [
        (lang.pick("Outcome", "Ergebnis"), outcome.to_string()),
        (
            lang.pick("Environment", "Umgebung"),
            format!(
                "{} (staging: {})",
                md(&r.environment),
                md(&r.staging_environment)
            ),
        ),
        (
            lang.pick("Artifact / commit", "Artefakt / Commit"),
            format!(
                "{} / {}",
                r.artifact_version.as_deref().map(md).unwrap_or_else(none),
                r.commit_sha.as_deref().map(md).unwrap_or_else(none)
            ),
        ),
        (
            lang.pick("Go-live window", "Go-Live-Fenster"),
            format!("{} – {}", when(&r.window_start), when(&r.window_end)),
        ),
        (
            lang.pick("Strategy", "Strategie"),
            match r.strategy {
                super::release::Strategy::BlueGreen => "Blue/Green".to_string(),
                super::release::Strategy::Canary => format!(
                    "Canary {} ({} min hold)",
                    r.canary_stages
                        .iter()
                        .map(|s| format!("{s} %"))
                        .collect::<Vec<_>>()
                        .join(" → "),
                    r.canary_hold_minutes
                ),
            },
        ),
        (
            "Release Captain",
            r.release_captain.as_deref().map(md).unwrap_or_else(none),
        ),
        (
            "Product Owner",
            r.product_owner.as_deref().map(md).unwrap_or_else(none),
        ),
        (
            lang.pick("Rollback plan", "Rollback-Plan"),
            r.links
                .rollback_plan
                .as_deref()
                .map(md)
                .unwrap_or_else(none),
        ),
        (lang.pick("Sealed", "Versiegelt"), when(&d.sealed_at)),
    ] {
        let _ = writeln!(out, "- **{k}:** {v}");
    }

    let _ = writeln!(
        out,
        "\n## 1. {}",
        lang.pick("Release checklist", "Release-Checklist")
    );
    items_md(&mut out, lang, &d.release_checklist);

    let _ = writeln!(
        out,
        "\n## {}",
        lang.pick(
            "Staging gate protocol (T-12h)",
            "Staging-Gate-Protokoll (T-12h)"
        )
    );
    items_md(&mut out, lang, &d.staging_gate.items);
    if let Some(at) = &d.staging_gate.passed_at {
        let _ = writeln!(
            out,
            "\n{}: {}",
            lang.pick("Gate passed", "Gate bestanden"),
            when(at)
        );
    }
    let _ = writeln!(
        out,
        "\n**{}**\n",
        lang.pick("Known issues (P1/P2)", "Bekannte offene P1/P2")
    );
    if d.staging_gate.known_issues.is_empty() {
        let _ = writeln!(out, "- {}", lang.pick("none", "keine"));
    }
    for k in &d.staging_gate.known_issues {
        let state = if k.resolved_at.is_some() {
            lang.pick("resolved", "behoben").to_string()
        } else if let Some(by) = &k.accepted_by {
            format!(
                "{} {}: {}",
                lang.pick("accepted by", "akzeptiert von"),
                md(by),
                md(k.accept_reason.as_deref().unwrap_or_default())
            )
        } else {
            lang.pick("open", "offen").to_string()
        };
        let _ = writeln!(
            out,
            "- {} {} — {} ({state})",
            k.severity.as_str().to_uppercase(),
            md(&k.key),
            md(&k.title)
        );
    }

    let g = &d.go_no_go;
    let _ = writeln!(
        out,
        "\n## {}",
        lang.pick("Go-live decision (T-1h)", "Go-Live-Entscheid (T-1h)")
    );
    for s in &g.sign_offs {
        let role = match s.role {
            super::release::SignerRole::ProductOwner => "Product Owner",
            super::release::SignerRole::ReleaseCaptain => "Release Captain",
        };
        let decision = match s.decision {
            super::release::Decision::Go => "GO",
            super::release::Decision::NoGo => "NO-GO",
        };
        let _ = write!(
            out,
            "- {role}: **{decision}** — {} ({})",
            md(&s.signer),
            when(&s.signed_at)
        );
        if s.stale {
            let _ = write!(
                out,
                " — {}",
                lang.pick("changed after signing", "nach der Freigabe geändert")
            );
        }
        if !s.comment.is_empty() {
            let _ = write!(out, " — „{}“", md(&s.comment));
        }
        out.push('\n');
    }
    if g.sign_offs.is_empty() {
        let _ = writeln!(out, "- {}", lang.pick("no sign-offs", "keine Freigaben"));
    }
    let p = &g.preconditions;
    let opt_time = |t: &Option<DateTime<Utc>>| t.as_ref().map(when).unwrap_or_else(none);
    let _ = writeln!(
        out,
        "- {}: {}",
        lang.pick("Last backup", "Letztes Backup"),
        opt_time(&p.last_backup_at)
    );
    let _ = writeln!(
        out,
        "- {}: {}",
        lang.pick("Last restore test", "Letzter Restore-Test"),
        opt_time(&p.last_restore_test_at)
    );
    let _ = writeln!(
        out,
        "- {}: {}",
        lang.pick("Down-migration", "Down-Migration"),
        p.down_migration_url.as_deref().map(md).unwrap_or_else(none)
    );
    let _ = writeln!(
        out,
        "- On-Call: {}",
        p.on_call.as_deref().map(md).unwrap_or_else(none)
    );
    items_md(&mut out, lang, &g.items);
    if let Some(at) = &g.decided_at {
        let _ = writeln!(
            out,
            "\n{}: {}",
            lang.pick("Decided", "Entschieden"),
            when(at)
        );
    }
    let _ = writeln!(
        out,
        "\n**{}**\n",
        lang.pick(
            "Monitoring at decision time",
            "Monitoring zum Entscheidungszeitpunkt"
        )
    );
    for m in &g.monitoring {
        if !m.registered {
            let _ = writeln!(
                out,
                "- {} ({}): {}",
                md(&m.environment),
                m.role,
                lang.pick("not probed", "nicht überwacht")
            );
            continue;
        }
        let _ = writeln!(
            out,
            "- {} ({}): {} {}, {} {}",
            md(&m.environment),
            m.role,
            m.open_alerts.len(),
            lang.pick("open alerts", "offene Alerts"),
            m.recent_results.len(),
            lang.pick("latest probe results", "letzte Check-Ergebnisse")
        );
        for a in &m.open_alerts {
            let _ = writeln!(
                out,
                "  - {} {}",
                a["severity"].as_str().unwrap_or("").to_uppercase(),
                md(a["message"].as_str().unwrap_or(""))
            );
        }
    }

    let _ = writeln!(out, "\n## 4. {}", lang.pick("Go-live", "Go-Live"));
    if d.go_live.is_empty() {
        let _ = writeln!(out, "- {}", lang.pick("not started", "nicht begonnen"));
    }
    for s in &d.go_live {
        let step = match s.stage_pct {
            Some(p) => format!("{} {p} %", s.kind.as_str()),
            None => s.kind.as_str().to_string(),
        };
        let _ = write!(out, "- {} — `{step}` — {}", when(&s.at), md(&s.actor));
        if !s.note.is_empty() {
            let _ = write!(out, " — {}", md(&s.note));
        }
        out.push('\n');
    }
    if let Some(m) = &d.rollback_suggested {
        let _ = writeln!(
            out,
            "\n{}: {} ({})",
            lang.pick("Rollback suggested", "Rollback empfohlen"),
            when(&m.at),
            md(&m.because)
        );
    }
    if let Some(rb) = &d.rollback {
        let _ = writeln!(out, "\n### Rollback\n");
        let yes_no = |b: bool| if b { "x" } else { " " };
        let _ = writeln!(
            out,
            "- {} — {}: {}",
            when(&rb.at),
            md(&rb.by),
            md(&rb.reason)
        );
        let _ = writeln!(
            out,
            "- {}: {}",
            lang.pick("Rollback plan", "Rollback-Plan"),
            rb.rollback_plan.as_deref().map(md).unwrap_or_else(none)
        );
        let _ = writeln!(
            out,
            "- {}: {}",
            lang.pick("Down-migration", "Down-Migration"),
            rb.down_migration.as_deref().map(md).unwrap_or_else(none)
        );
        let _ = writeln!(
            out,
            "- {}: {}",
            lang.pick("Backup restore", "Backup-Restore"),
            rb.backup_restore.as_deref().map(md).unwrap_or_else(none)
        );
        let _ = writeln!(
            out,
            "- [{}] {}",
            yes_no(rb.status_page_updated),
            lang.pick("Status page updated", "Status-Page aktualisiert")
        );
        let _ = writeln!(
            out,
            "- [{}] {}",
            yes_no(rb.team_alerted),
            lang.pick("Team alerted", "Team alarmiert")
        );
    }

    let _ = writeln!(out, "\n## {}", lang.pick("Documentation", "Dokumentation"));
    items_md(&mut out, lang, &d.post_release);

    let _ = writeln!(out, "\n## {}\n", lang.pick("Evidence", "Nachweise"));
    if d.evidence.is_empty() {
        let _ = writeln!(out, "- {}", lang.pick("none", "keine"));
    }
    for e in &d.evidence {
        let to = e
            .item_key
            .clone()
            .unwrap_or_else(|| e.attached_to.as_str().to_string());
        let _ = write!(
            out,
            "- `{}` ({} B, {to}) sha256 `{}` — {}",
            e.filename,
            e.size,
            e.sha256,
            when(&e.uploaded_at)
        );
        if let Some(reason) = &e.retract_reason {
            let _ = write!(
                out,
                " — {}: {reason}",
                lang.pick("retracted", "zurückgezogen")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\n---\n{} sha256 `{}` · {} `{}` · {} {}",
        lang.pick("Sealed dossier", "Versiegeltes Dossier"),
        sealed.sha256,
        lang.pick("audit chain head", "Audit-Kettenkopf"),
        d.audit_head,
        d.audit_rows,
        lang.pick("audit rows", "Audit-Einträge")
    );
    out
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

    #[test]
    fn quoted_text_stays_one_inert_line() {
        let hostile = "x\r\n# Heading\n- item <script>alert(1)</script> **bold** [l](http://e)";
        let out = md(hostile);
        assert!(!out.contains('\n') && !out.contains('\r'));
        assert!(!out.contains('<') && out.contains("&lt;script&gt;"));
        assert!(out.contains("\\# Heading") && out.contains("\\*\\*bold\\*\\*"));
        assert!(out.contains("\\[l\\]"));
        assert_eq!(md("- starts a list"), "\\- starts a list");
        assert_eq!(
            md_link("https://e.example/a>b c"),
            "https://e.example/a%3Eb%20c"
        );
    }
}
