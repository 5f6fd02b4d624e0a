//! `/admin/audit`: the whole audit trail for admins, newest first, filtered by actor, action
//! and period, a page at a time. A GET form and links, so it works without JavaScript;
//! hydrated, the router swaps pages in place. Every value is plain text in the view.

use super::admin::needs_admin;
use super::{use_lang, use_user};
use crate::domain::archive_model::percent_encode;
use crate::domain::release_model::AuditRow;
use crate::domain::time::berlin_display;
use crate::i18n::Lang;
use crate::server_fns::audit::audit_trail;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

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

fn json_text(v: &Option<serde_json::Value>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
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
                    {ACTIONS.into_iter().map(|a| view! { <option value=a/> }).collect_view()}
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
                    <th>{lang.pick("Before", "Vorher")}</th>
                    <th>{lang.pick("After", "Nachher")}</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let id = r.id;
                        let at = berlin_display(&r.at);
                        let old = json_text(&r.old);
                        let new = json_text(&r.new);
                        let action_attr = r.action.clone();
                        view! {
                            <tr data-audit-id=id data-action=action_attr>
                                <td>{id}</td>
                                <td>{at}</td>
                                <td>{r.actor}</td>
                                <td><code>{r.action}</code></td>
                                <td><code class="json">{old}</code></td>
                                <td><code class="json">{new}</code></td>
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
