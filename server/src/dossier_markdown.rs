//! The release dossier as Markdown: the filled-in protocol the procedure asks teams to
//! write by hand, in the structure of the procedure (release checklist,
//! "Staging-Gate-Protokoll (T-12h)", "Go-Live-Entscheid (T-1h)", go-live, rollback,
//! documentation). Presentation only; the dossier itself is `app::domain::dossier`.

use app::domain::dossier::{DossierItem, SealedDossier};
use app::domain::evidence::Evidence;
use app::domain::golive::PlannedStep;
use app::domain::release::Phase;
use app::domain::time::berlin_display;
use app::i18n::{environment_role_label, plan_label, signer_title, Label, Lang};
use chrono::{DateTime, Utc};
use std::fmt::Write;

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
    berlin_display(t)
}

/// One line per piece of evidence: name, size, where it is attached (the item's text,
/// else the section's name), hash, when, and why it was retracted. Names, keys and
/// reasons are user text, quoted inert.
fn evidence_md(
    out: &mut String,
    lang: Lang,
    evidence: &[Evidence],
    item_text: impl Fn(&str) -> Option<String>,
) {
    for e in evidence {
        let to = match e.item_key.as_deref() {
            Some(key) => item_text(key).unwrap_or_else(|| key.to_string()),
            None => e.attached_to.label(lang).into_owned(),
        };
        let _ = write!(
            out,
            "- {} ({} B, {}) sha256 `{}` — {}",
            md(&e.filename),
            e.size,
            md(&to),
            e.sha256,
            when(&e.uploaded_at)
        );
        if let Some(reason) = &e.retract_reason {
            let _ = write!(
                out,
                " — {}: {}",
                lang.pick("retracted", "zurückgezogen"),
                md(reason)
            );
        }
        out.push('\n');
    }
}

fn items_md(out: &mut String, lang: Lang, items: &[DossierItem]) {
    let mut section = "";
    for i in items {
        let s = lang.pick(i.section_en.as_str(), i.section_de.as_str());
        if s != section && items.iter().any(|o| o.section_en != i.section_en) {
            let _ = writeln!(out, "\n**{}**\n", md(s));
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
    let outcome: std::borrow::Cow<'static, str> = match d.outcome {
        Phase::Done => lang.pick("released", "freigegeben und live").into(),
        Phase::NoGo => lang
            .pick("stopped at Go/No-Go", "beim Go/No-Go gestoppt")
            .into(),
        Phase::RolledBack => lang.pick("rolled back", "zurückgerollt").into(),
        other => other.label(lang),
    };
    for (k, v) in [
        (lang.pick("Outcome", "Ergebnis"), outcome.into_owned()),
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
            plan_label(r.strategy, &r.canary_stages, r.canary_hold_minutes, lang),
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
        let role = signer_title(s.role);
        let decision = s.decision.label(lang);
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
                environment_role_label(&m.role, lang),
                lang.pick("not probed", "nicht überwacht")
            );
            continue;
        }
        let _ = writeln!(
            out,
            "- {} ({}): {} {}, {} {}",
            md(&m.environment),
            environment_role_label(&m.role, lang),
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
        let step = PlannedStep {
            kind: s.kind,
            stage_pct: s.stage_pct,
        }
        .label(lang);
        let _ = write!(out, "- {} — **{step}** — {}", when(&s.at), md(&s.actor));
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
    let item_text = |key: &str| {
        d.item(key).map(|i| {
            lang.pick(i.text_en.as_str(), i.text_de.as_str())
                .to_string()
        })
    };
    evidence_md(&mut out, lang, &d.evidence, item_text);
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

    #[test]
    fn evidence_names_keys_and_reasons_are_quoted_inert() {
        let hostile = "x` <img src=x onerror=alert(1)> `\n# y";
        let e = Evidence {
            id: 1,
            release_id: 1,
            attached_to: app::domain::evidence::AttachedTo::Item,
            item_key: Some(hostile.into()),
            filename: format!("{hostile}.png"),
            original_name: hostile.into(),
            size: 3,
            content_type: "image/png".into(),
            kind: app::domain::evidence::Kind::parse("image"),
            sha256: "ab".into(),
            uploaded_by: None,
            uploaded_at: Utc::now(),
            retracted_at: Some(Utc::now()),
            retracted_by: None,
            retract_reason: Some(hostile.into()),
        };
        let mut out = String::new();
        evidence_md(&mut out, Lang::En, &[e], |_| None);
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(!out.contains('<') && out.contains("&lt;img"), "{out}");
        assert!(!out.contains("\n#") && out.contains("\\#"), "{out}");
        // Only the hash is a code span; the name cannot close one.
        assert_eq!(
            out.matches('`').count(),
            out.matches("\\`").count() + 2,
            "{out}"
        );
    }
}
