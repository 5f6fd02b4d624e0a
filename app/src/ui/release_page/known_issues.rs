//! The release's known issues (P1/P2): who resolved or accepted each, and the forms to
//! add, resolve and (for the release's captain or owner) accept one.

use super::Actions;
use crate::domain::release_model::ReleaseDetails as Page;
use crate::i18n::Label;
use crate::ui::use_lang;
use leptos::prelude::*;

/// Known issues (P1/P2) with who settled them. Workers add and resolve; accepting one is
/// for the release's captain or owner, and the others are told so.
#[component]
pub(super) fn KnownIssuesPanel(
    p: Page,
    acts: Actions,
    can_work: bool,
    captain_or_owner: bool,
) -> impl IntoView {
    let lang = use_lang();
    let id = p.release.id;
    let open_release = !p.release.phase.is_final() && can_work;
    let empty = p.known_issues.is_empty();
    let issues = p.known_issues.into_iter().map(|k| {
        let status = if k.resolved_at.is_some() {
            lang.pick("resolved", "behoben").to_string()
        } else if let Some(by) = &k.accepted_by {
            format!(
                "{} {by}: {}",
                lang.pick("accepted by", "akzeptiert von"),
                k.accept_reason.clone().unwrap_or_default()
            )
        } else {
            lang.pick("open", "offen").to_string()
        };
        let open = k.resolved_at.is_none() && k.accepted_at.is_none() && open_release;
        let accept = captain_or_owner.then(|| view! {
            <ActionForm action=acts.settle attr:class="row">
                <input type="hidden" name="release_id" value=id/>
                <input type="hidden" name="issue_id" value=k.id/>
                <input type="text" name="accept_reason" required
                    placeholder=lang.pick("Why the risk is accepted", "Warum das Risiko akzeptiert wird")
                    aria-label=lang.pick("Reason to accept", "Grund für Akzeptanz")/>
                <button type="submit">{lang.pick("Accept", "Akzeptieren")}</button>
            </ActionForm>
        });
        let forms = open.then(|| view! {
            <ActionForm action=acts.settle attr:class="inline">
                <input type="hidden" name="release_id" value=id/>
                <input type="hidden" name="issue_id" value=k.id/>
                <button type="submit">{lang.pick("Mark resolved", "Als behoben markieren")}</button>
            </ActionForm>
            {accept}
            {(!captain_or_owner).then(|| view! {
                <p class="muted hint">{lang.pick(
                    "Only the release's captain or product owner may accept a known issue.",
                    "Nur der Release Captain oder der Product Owner dieses Releases darf ein bekanntes Problem akzeptieren.",
                )}</p>
            })}
        });
        view! {
            <li class="long" data-issue=k.key.clone()>
                <strong>{k.severity.label(lang)}</strong>" "{k.key.clone()}" · "{k.title.clone()}" · "<em>{status}</em>
                {forms}
            </li>
        }
    }).collect_view();
    view! {
        <section class="card" data-testid="known-issues">
            <h2>{lang.pick("Known issues (P1/P2)", "Bekannte Probleme (P1/P2)")}</h2>
            {empty.then(|| view! { <p class="muted">{lang.pick("None listed.", "Keine erfasst.")}</p> })}
            <ul class="issues">{issues}</ul>
            {open_release.then(|| view! {
                <details>
                    <summary>{lang.pick("Add a known issue", "Bekanntes Problem erfassen")}</summary>
                    <ActionForm action=acts.add_issue attr:class="row">
                        <input type="hidden" name="release_id" value=id/>
                        <input type="text" name="key" required placeholder=lang.pick("Key or link", "Schlüssel oder Link") aria-label=lang.pick("Key or link", "Schlüssel oder Link")/>
                        <select name="severity" aria-label=lang.pick("Severity", "Schweregrad")><option value="p1">"P1"</option><option value="p2">"P2"</option><option value="p3">"P3"</option></select>
                        <input type="text" name="title" required placeholder=lang.pick("Title", "Titel") aria-label=lang.pick("Title", "Titel")/>
                        <button type="submit">{lang.pick("Add", "Hinzufügen")}</button>
                    </ActionForm>
                </details>
            })}
        </section>
    }
}
