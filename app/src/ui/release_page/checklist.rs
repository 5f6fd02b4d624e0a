//! The release page's checklist items: each a compact entry (state, text in the reader's
//! language, why it was waived, its note, links and evidence), its edit form folded away
//! in a `<details>` until asked for (works without JavaScript), and no form at all for
//! those who only read.

use super::Actions;
use crate::domain::evidence::{evidence_open, AttachedTo, Evidence};
use crate::domain::monitoring::is_probed_item;
use crate::domain::release::{role_allows_state, ItemState, Phase};
use crate::domain::release_model::ChecklistItem;
use crate::domain::templates::ChecklistKind;
use crate::domain::time::berlin_display;
use crate::i18n::{Label, Lang};
use crate::ui::evidence::EvidenceBlock;
use crate::ui::use_lang;
use leptos::prelude::*;

/// What the reader may do with a release's items.
#[derive(Clone, Copy)]
pub(super) struct ItemRights {
    pub release_id: i64,
    pub phase: Phase,
    /// Every role but viewer works on the checklist.
    pub can_work: bool,
    /// The release's captain or product owner: accepts risks, waives items that need proof.
    pub captain_or_owner: bool,
}

/// The items of one checklist, in order.
#[component]
pub(super) fn ChecklistItems(
    kind: ChecklistKind,
    items: Vec<ChecklistItem>,
    evidence: Vec<Evidence>,
    rights: ItemRights,
    acts: Actions,
) -> impl IntoView {
    let rows = items
        .into_iter()
        .filter(|i| i.kind == kind)
        .map(|item| {
            let attached: Vec<Evidence> = evidence
                .iter()
                .filter(|e| e.item_key.as_deref() == Some(item.key.as_str()))
                .cloned()
                .collect();
            view! { <ItemEntry item attached rights acts/> }
        })
        .collect_view();
    view! { <ul class="checklist">{rows}</ul> }
}

#[component]
fn ItemEntry(
    item: ChecklistItem,
    attached: Vec<Evidence>,
    rights: ItemRights,
    acts: Actions,
) -> impl IntoView {
    let lang = use_lang();
    let text = match lang {
        Lang::En => item.text_en.clone(),
        Lang::De => item.text_de.clone(),
    };
    // Why an item no longer holds its gate is for every reader to see, not only in a form.
    let why = match item.state {
        ItemState::NotApplicable => Some(lang.pick("Not applicable because:", "Nicht anwendbar, weil:")),
        ItemState::AcceptedRisk => Some(lang.pick("Risk accepted because:", "Risiko akzeptiert, weil:")),
        _ => None,
    }
    .filter(|_| !item.reason.trim().is_empty())
    .map(|intro| {
        view! {
            <p class="item-reason long" data-testid="item-reason"><strong>{intro}</strong>" "{item.reason.clone()}</p>
        }
    });
    let note = (!item.note.trim().is_empty())
        .then(|| view! { <p class="item-note muted long">{item.note.clone()}</p> });
    // Who set it last, and when: the person to ask.
    let who = item.updated_by.clone().map(|by| {
        let at = item.updated_at.as_ref().map(berlin_display).unwrap_or_default();
        let title = by.clone();
        view! { <small class="item-who muted long" data-testid="item-who" title=title>{by}" · "{at}</small> }
    });
    let links = (!item.links.is_empty()).then(|| {
        view! {
            <ul class="item-links">
                {item.links.iter().map(|l| view! {
                    <li><a class="long" href=l.clone() title=l.clone() rel="noopener noreferrer" target="_blank">{l.clone()}</a></li>
                }).collect_view()}
            </ul>
        }
    });
    // A closed release's checklist proof no longer changes.
    let can_attach = rights.can_work && evidence_open(rights.phase, AttachedTo::Item);
    let edit = (rights.can_work && !rights.phase.is_final())
        .then(|| view! { <ItemEdit item=item.clone() rights acts/> });
    let key = item.key.clone();
    view! {
        <li class="item" id=format!("item-{key}") data-key=key.clone() data-state=item.state.as_str()>
            <div class="item-head">
                <span class=format!("badge state-{}", item.state.as_str())>{item.state.label(lang)}</span>
                <span class="item-title">{text}</span>
                {item.evidence_required.then(|| view! {
                    <small class="muted">{lang.pick(" · evidence required", " · Nachweis erforderlich")}</small>
                })}
                {who}
            </div>
            {why}
            {note}
            {links}
            <EvidenceBlock release_id=rights.release_id target=format!("item={key}") items=attached can_attach/>
            {edit}
        </li>
    }
}

/// The item's form, opened on demand. It offers only the states the reader may save; the
/// ones withheld are named with who may set them.
#[component]
fn ItemEdit(item: ChecklistItem, rights: ItemRights, acts: Actions) -> impl IntoView {
    let lang = use_lang();
    let probed = is_probed_item(&item.key);
    // Items proven by the probes need proof as much as those that require evidence.
    let needs_evidence = item.evidence_required || probed;
    let current = item.state;
    let offered = |s: ItemState| {
        s == current || role_allows_state(s, needs_evidence, rights.captain_or_owner)
    };
    let withheld = ItemState::ALL.into_iter().any(|s| !offered(s));
    let options = ItemState::ALL
        .into_iter()
        .filter(|s| offered(*s))
        .map(|s| view! { <option value=s.as_str() selected=s == current>{s.label(lang)}</option> })
        .collect_view();
    let probe_key = item.key.clone();
    let from_probes = probed.then(move || {
        view! {
            <ActionForm action=acts.probe attr:class="inline probe-form">
                <input type="hidden" name="release_id" value=rights.release_id/>
                <input type="hidden" name="key" value=probe_key/>
                <button type="submit" data-testid="check-from-probes">
                    {lang.pick("Check now from the probes", "Jetzt aus den Checks prüfen")}
                </button>
            </ActionForm>
        }
    });
    view! {
        <details class="item-edit">
            <summary>{lang.pick("Edit", "Bearbeiten")}</summary>
            {from_probes}
            <ActionForm action=acts.set_item attr:class="stack item-form">
                <input type="hidden" name="release_id" value=rights.release_id/>
                <input type="hidden" name="key" value=item.key.clone()/>
                <label>{lang.pick("State", "Zustand")}
                    <select name="state">{options}</select>
                </label>
                <label>{lang.pick("Evidence link", "Nachweis-Link")}
                    <input type="url" name="link" placeholder="https://…"/>
                </label>
                <label>{lang.pick("Reason (not applicable, accepted risk)", "Grund (nicht anwendbar, Risiko akzeptiert)")}
                    <input type="text" name="reason" value=item.reason.clone()/>
                </label>
                <label>{lang.pick("Note", "Notiz")}
                    <input type="text" name="note" value=item.note.clone()/>
                </label>
                {withheld.then(|| view! {
                    <p class="muted hint">
                        {if needs_evidence {
                            lang.pick(
                                "Accepting a risk, and marking an item that needs proof as not applicable, is for the release's captain or product owner.",
                                "Ein Risiko akzeptieren und einen Punkt, der einen Nachweis braucht, als „nicht anwendbar“ markieren dürfen nur der Release Captain oder der Product Owner dieses Releases.",
                            )
                        } else {
                            lang.pick(
                                "Accepting a risk is for the release's captain or product owner.",
                                "Ein Risiko akzeptieren dürfen nur der Release Captain oder der Product Owner dieses Releases.",
                            )
                        }}
                    </p>
                })}
                <button type="submit">{lang.pick("Save", "Speichern")}</button>
            </ActionForm>
        </details>
    }
}
