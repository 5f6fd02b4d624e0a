//! `/admin/audit`: the whole audit trail for admins, newest first, filtered by actor, action
//! and period, a page at a time. A GET form and links, so it works without JavaScript;
//! hydrated, the router swaps pages in place. Every value is plain text in the view, read
//! as people read it: actions, roles, phases and the like by their names, times in
//! Europe/Berlin (the API keeps the recorded codes and JSON).

use super::admin::needs_admin;
use super::{use_lang, use_user};
use crate::domain::archive_model::percent_encode;
use crate::domain::evidence::AttachedTo;
use crate::domain::golive::StepKind;
use crate::domain::monitoring::HealthState;
use crate::domain::release::{Decision, ItemState, Phase, Severity, Strategy};
use crate::domain::release_model::AuditRow;
use crate::domain::templates::ChecklistKind;
use crate::domain::time::berlin_display;
use crate::i18n::{audit_action_label, field_label, role_label, Label, Lang};
use crate::server_fns::audit::audit_trail;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

/// The query parameters the page reads, in the order the server function takes them; the
/// last one is the cursor, the others are the filters a page link keeps.
const PARAMS: [&str; 5] = ["actor", "action", "since", "until", "before"];

/// What the action field suggests; a name ending in `.` is a whole family.
const ACTIONS: [&str; 12] = [
    "user.",
    "user.register",
    "user.create",
    "user.roles",
    "user.disable",
    "user.enable",
    "user.password",
    "token.",
    "token.issue",
    "token.revoke",
    "release.",
    "go_no_go.sign_off",
];

/// A link to the trail with the same filters, from `before` on (the newest page without).
fn page_link(params: &[String; 5], before: Option<i64>) -> String {
    let mut pairs: Vec<String> = PARAMS[..4]
        .iter()
        .zip(params.iter())
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    if let Some(b) = before {
        pairs.push(format!("before={b}"));
    }
    if pairs.is_empty() {
        "/admin/audit".into()
    } else {
        format!("/admin/audit?{}", pairs.join("&"))
    }
}

/// A family of actions (`user.`) in words, for the filter's suggestions.
fn family_label(lang: Lang, family: &str) -> String {
    match family {
        "user." => lang
            .pick("All account changes", "Alle Kontoänderungen")
            .into(),
        "token." => lang
            .pick("All API token changes", "Alle API-Token-Änderungen")
            .into(),
        "release." => lang
            .pick("All release changes", "Alle Release-Änderungen")
            .into(),
        action => audit_action_label(action, lang).into_owned(),
    }
}

/// Bookkeeping a release's rows carry on every change; the page leaves it out.
const QUIET: [&str; 3] = ["revision", "created_at", "updated_at"];

/// What names the thing a row is about: shown even when it did not change.
const NAMES: [&str; 7] = ["id", "key", "email", "user_id", "token_id", "title", "name"];

/// A recorded field's name: the form's label where there is one.
fn key_label(lang: Lang, key: &str) -> String {
    if let Some(label) = field_label(lang, key) {
        return label.into();
    }
    match key {
        "id" | "user_id" | "token_id" => "ID",
        "key" | "item" => lang.pick("Item", "Punkt"),
        "phase" => lang.pick("Phase", "Phase"),
        "state" => lang.pick("State", "Zustand"),
        "role" => lang.pick("Role", "Rolle"),
        "decision" => lang.pick("Decision", "Entscheidung"),
        "step" => lang.pick("Step", "Schritt"),
        "stage_pct" => lang.pick("Share", "Anteil"),
        "kind" => lang.pick("Checklist", "Checkliste"),
        "severity" => lang.pick("Severity", "Schweregrad"),
        "attached_to" => lang.pick("Attached to", "Angehängt an"),
        "filename" => lang.pick("File", "Datei"),
        "size" => lang.pick("Bytes", "Bytes"),
        "disabled" => lang.pick("Disabled", "Gesperrt"),
        "evidence_required" => lang.pick("Evidence required", "Nachweis erforderlich"),
        "text_en" => lang.pick("Text (English)", "Text (Englisch)"),
        "text_de" => lang.pick("Text (German)", "Text (Deutsch)"),
        "artifact_version" => lang.pick("Artifact version", "Artefakt-Version"),
        "canary_stages" => lang.pick("Canary stages", "Canary-Stufen"),
        "last_backup_at" => lang.pick("Last backup", "Letztes Backup"),
        "last_restore_test_at" => lang.pick("Last restore test", "Letzter Restore-Test"),
        "on_call" => "On-Call",
        "required_env_vars" => lang.pick("Required variables", "Erforderliche Variablen"),
        "changelog" => "Changelog",
        "tickets" => "Tickets",
        "rollback_plan" => lang.pick("Rollback plan", "Rollback-Plan"),
        "down_migration" => "Down-Migration",
        "backup_restore" => "Backup-Restore",
        "runbook" => "Runbook",
        "result" => lang.pick("Result", "Ergebnis"),
        "content_hash" => lang.pick("Signed content", "Freigegebener Inhalt"),
        "sha256" => "sha256",
        "audit_head" => lang.pick("Audit chain head", "Audit-Kettenkopf"),
        "content_type" => lang.pick("Type", "Typ"),
        "detail" => lang.pick("Details", "Details"),
        "target" => lang.pick("Target", "Ziel"),
        "probed" => lang.pick("Probed", "Überwacht"),
        "up" => lang.pick("Up", "Verfügbar"),
        "healthy_since" => lang.pick("Healthy since", "Gesund seit"),
        "open_p1" => lang.pick("Open P1", "Offener P1"),
        "hold" => lang.pick("Stability hold", "Stabilitätsphase"),
        "after" => lang.pick("After", "Nach"),
        "until" => lang.pick("Until", "Bis"),
        "minutes" => lang.pick("Minutes", "Minuten"),
        "outside_window_override" => lang.pick(
            "Started outside the window",
            "Außerhalb des Fensters gestartet",
        ),
        "move_by" => lang.pick("Moved by", "Verschoben um"),
        "position" => lang.pick("Position", "Position"),
        "prefix" => lang.pick("Prefix", "Präfix"),
        "because" => lang.pick("Because", "Weil"),
        _ => key,
    }
    .into()
}

/// A recorded code by its name, when the field holds one (`strategy`, `phase`, `roles`, …).
fn code_label(lang: Lang, key: &str, code: &str) -> Option<String> {
    let label = match key {
        "strategy" => Strategy::parse(code)?.label(lang),
        "phase" | "outcome" => Phase::parse(code)?.label(lang),
        "state" => match ItemState::parse(code) {
            Some(state) => state.label(lang),
            None => HealthState::parse(code)?.label(lang),
        },
        "role" | "roles" => role_label(code, lang),
        "decision" => Decision::parse(code)?.label(lang),
        "step" => StepKind::parse(code)?.label(lang),
        "kind" => ChecklistKind::parse(code)?.label(lang),
        "severity" => Severity::parse(code)?.label(lang),
        "attached_to" => AttachedTo::parse(code)?.label(lang),
        _ => return None,
    };
    Some(label.into_owned())
}

/// A recorded value as text: codes by their names, times in Europe/Berlin, lists and
/// nested fields spelled out.
fn value_text(lang: Lang, key: &str, v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Bool(true) => lang.pick("yes", "ja").into(),
        Value::Bool(false) => lang.pick("no", "nein").into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => code_label(lang, key, s)
            .or_else(|| {
                chrono::DateTime::parse_from_rfc3339(s)
                    .ok()
                    .map(|t| berlin_display(&t.with_timezone(&chrono::Utc)))
            })
            .unwrap_or_else(|| s.clone()),
        Value::Array(items) => items
            .iter()
            .map(|i| value_text(lang, key, i))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(fields) => fields
            .iter()
            .filter(|(_, v)| !is_blank(v))
            .map(|(k, v)| format!("{}: {}", key_label(lang, k), value_text(lang, k, v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Nothing to show: absent, empty text, an empty list or object.
fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Whether a recorded field is shown (bookkeeping is not).
fn shown(key: &str) -> bool {
    !QUIET.contains(&key)
}

/// What a row recorded, one `(field, value)` per line: for a change, the fields that
/// changed as `before → after` (and what names the thing); else what was recorded.
fn changes(lang: Lang, old: &Option<Value>, new: &Option<Value>) -> Vec<(String, String)> {
    let null = Value::Null;
    match (old, new) {
        (Some(Value::Object(before)), Some(Value::Object(after))) => {
            let added = after.keys().filter(|k| !before.contains_key(*k));
            before
                .keys()
                .chain(added)
                .filter(|k| shown(k))
                .filter_map(|k| {
                    let a = before.get(k.as_str()).unwrap_or(&null);
                    let b = after.get(k.as_str()).unwrap_or(&null);
                    let text = if a == b {
                        NAMES
                            .contains(&k.as_str())
                            .then(|| value_text(lang, k, b))?
                    } else {
                        format!("{} → {}", value_text(lang, k, a), value_text(lang, k, b))
                    };
                    Some((key_label(lang, k), text))
                })
                .collect()
        }
        (_, Some(Value::Object(fields))) | (Some(Value::Object(fields)), None) => fields
            .iter()
            .filter(|(k, v)| shown(k) && !is_blank(v))
            .map(|(k, v)| (key_label(lang, k), value_text(lang, k, v)))
            .collect(),
        (_, Some(v)) | (Some(v), None) => vec![(String::new(), value_text(lang, "", v))],
        (None, None) => vec![],
    }
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let lang = use_lang();
    if !use_user().is_some_and(|u| u.is_admin()) {
        return needs_admin(lang, lang.pick("Audit log", "Audit-Log"));
    }

    let query = use_query_map();
    // The form shows what the link says, readable or not, so a typo can be corrected.
    let raw = move |k: &'static str| query.with(|m| m.get(k).unwrap_or_default());
    let trail = Resource::new(
        move || PARAMS.map(raw),
        |params: [String; 5]| async move {
            let [actor, action, since, until, before] = params.clone();
            audit_trail(actor, action, since, until, before)
                .await
                .map(|page| (params, page))
        },
    );

    view! {
        <Title text=lang.pick("Audit log", "Audit-Log")/>
        <section class="card audit">
            <div class="row-between">
                <h1>{lang.pick("Audit log", "Audit-Log")}</h1>
                <a href="/admin">{lang.pick("Users", "Benutzer")}</a>
            </div>
            <p class="muted">
                {lang.pick(
                    "Every change, newest first: releases, accounts, roles, passwords and API tokens. Passwords and token secrets are never recorded.",
                    "Jede Änderung, die neueste zuerst: Releases, Konten, Rollen, Passwörter und API-Tokens. Passwörter und Token-Geheimnisse werden nie aufgezeichnet.",
                )}
            </p>
            <form method="get" action="/admin/audit" class="archive-search" role="search">
                <label>{lang.pick("Actor (email or user id)", "Akteur (E-Mail oder Benutzer-ID)")}
                    <input type="text" name="actor" autocomplete="off" maxlength="200"
                        value=move || raw("actor")/>
                </label>
                <label>{lang.pick("Action (user. for all account changes)", "Aktion (user. für alle Kontoänderungen)")}
                    <input type="text" name="action" list="audit-actions" autocomplete="off" maxlength="100"
                        value=move || raw("action")/>
                </label>
                <datalist id="audit-actions">
                    {ACTIONS.into_iter().map(|a| view! { <option value=a label=family_label(lang, a)/> }).collect_view()}
                </datalist>
                <label>{lang.pick("From (Europe/Berlin)", "Von (Europe/Berlin)")}
                    <input type="datetime-local" name="since" value=move || raw("since")/>
                </label>
                <label>{lang.pick("To (Europe/Berlin)", "Bis (Europe/Berlin)")}
                    <input type="datetime-local" name="until" value=move || raw("until")/>
                </label>
                <button type="submit" class="primary">{lang.pick("Filter", "Filtern")}</button>
            </form>
            <Transition fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
                {move || Suspend::new(async move {
                    match trail.await {
                        Err(e) => view! { <p class="alert error" role="alert">{e.text(lang)}</p> }.into_any(),
                        Ok((params, (rows, next))) => view! { <AuditRows lang params rows next/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn AuditRows(
    lang: Lang,
    params: [String; 5],
    rows: Vec<AuditRow>,
    next: Option<i64>,
) -> impl IntoView {
    let newest = (!params[4].is_empty()).then(|| page_link(&params, None));
    let older = next.map(|before| page_link(&params, Some(before)));
    let nav = (newest.is_some() || older.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label=lang.pick("Pages", "Seiten")>
                {newest.map(|href| view! { <a href=href>{lang.pick("← Newest", "← Neueste")}</a> })}
                {older.map(|href| view! { <a rel="next" href=href>{lang.pick("Older →", "Ältere →")}</a> })}
            </nav>
        }
    });
    let body = if rows.is_empty() {
        view! {
            <p class="muted" data-testid="audit-empty">
                {lang.pick("No audit entry matches.", "Kein Audit-Eintrag passt.")}
            </p>
        }
        .into_any()
    } else {
        view! {
            <table class="list audit">
                <thead><tr>
                    <th>{lang.pick("No.", "Nr.")}</th>
                    <th>{lang.pick("When", "Wann")}</th>
                    <th>{lang.pick("Who", "Wer")}</th>
                    <th>{lang.pick("Action", "Aktion")}</th>
                    <th>{lang.pick("Changes", "Änderungen")}</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let id = r.id;
                        let at = berlin_display(&r.at);
                        let action = audit_action_label(&r.action, lang);
                        let lines = changes(lang, &r.old, &r.new);
                        view! {
                            <tr data-audit-id=id data-action=r.action>
                                <td>{id}</td>
                                <td>{at}</td>
                                <td>{r.actor}</td>
                                <td>{action}</td>
                                <td>
                                    <ul class="changes">
                                        {lines.into_iter().map(|(field, value)| {
                                            let line = if field.is_empty() { value } else { format!("{field}: {value}") };
                                            view! { <li>{line}</li> }
                                        }).collect_view()}
                                    </ul>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        {body}
        {nav}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_name_fields_and_codes_in_the_readers_language() {
        let old = Some(json!({ "key": "staging_deploy", "state": "open", "note": "" }));
        let new = Some(json!({ "key": "staging_deploy", "state": "passed", "note": "" }));
        assert_eq!(
            changes(Lang::De, &old, &new),
            vec![
                ("Punkt".to_string(), "staging_deploy".to_string()),
                ("Zustand".to_string(), "offen → bestanden".to_string()),
            ]
        );
        let created = Some(json!({
            "strategy": "blue_green", "product_owner": "po@example.org",
            "roles": ["product_owner", "viewer"], "revision": 1, "links": {},
            "window_start": "2026-07-01T18:00:00Z", "step": "pre_checks",
        }));
        let lines = changes(Lang::De, &None, &created);
        let text: Vec<String> = lines.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        assert!(
            text.contains(&"Strategie: Blue/Green".to_string()),
            "{text:?}"
        );
        assert!(
            text.contains(&"Product Owner: po@example.org".to_string()),
            "{text:?}"
        );
        assert!(
            text.contains(&"Rollen: Product Owner, Betrachter".to_string()),
            "{text:?}"
        );
        assert!(
            text.contains(&"Fensterbeginn: 01.07.2026 20:00 CEST".to_string()),
            "{text:?}"
        );
        assert!(
            text.iter().any(|l| l.starts_with("Schritt: Pre-Checks")),
            "{text:?}"
        );
        assert!(!text
            .iter()
            .any(|l| l.contains("revision") || l.starts_with("Links")));
    }
}
