//! Admin: the checklist templates new releases copy.

use super::{use_lang, use_user};
use crate::domain::templates::ChecklistKind;
use crate::i18n::{Label, Lang};
use crate::server_fns::templates::{
    list_templates, AddTemplateItem, EditTemplateItem, TemplateEdit,
};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let lang = use_lang();
    let is_admin = use_user().is_some_and(|u| u.is_admin());
    let add = ServerAction::<AddTemplateItem>::new();
    let edit = ServerAction::<EditTemplateItem>::new();
    let items = Resource::new(
        move || (add.version().get(), edit.version().get()),
        |_| list_templates(),
    );
    let failure = move || {
        [
            add.value().get().and_then(|r| r.err()),
            edit.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <p class="alert error" role="alert">{e.text(lang)}</p> })
    };
    view! {
        <Title text=lang.pick("Checklist templates", "Checklisten-Vorlagen")/>
        <section class="card">
            <h1>{lang.pick("Checklist templates", "Checklisten-Vorlagen")}</h1>
            <p class="muted">{lang.pick(
                "New releases copy these; releases that exist keep their own copy.",
                "Neue Releases übernehmen diese; bestehende Releases behalten ihre eigene Kopie.",
            )}</p>
            {failure}
        </section>
        <Transition fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
            {move || Suspend::new(async move {
                match items.await {
                    Err(e) => view! { <p class="alert error">{e.text(lang)}</p> }.into_any(),
                    Ok(list) => ChecklistKind::ALL.into_iter().map(|kind| {
                        let rows = list.iter().filter(|i| i.kind == kind).cloned().map(|i| {
                            let text = match lang { Lang::En => i.text_en.clone(), Lang::De => i.text_de.clone() };
                            let button = move |op: TemplateEdit, label: &'static str| view! {
                                <ActionForm action=edit attr:class="inline">
                                    <input type="hidden" name="id" value=i.id/>
                                    <input type="hidden" name="op" value=op.as_str()/>
                                    <button type="submit" aria-label=label title=label>{label}</button>
                                </ActionForm>
                            };
                            view! {
                                <li class="item" data-template=i.id>
                                    <div>{text}{i.evidence_required.then(|| view! { <small class="muted">{lang.pick(" · evidence required", " · Nachweis erforderlich")}</small> })}</div>
                                    {is_admin.then(|| view! {
                                        <div class="row">
                                            {button(TemplateEdit::Up, "↑")}
                                            {button(TemplateEdit::Down, "↓")}
                                            {if i.evidence_required {
                                                button(TemplateEdit::EvidenceOff, lang.pick("No evidence needed", "Kein Nachweis nötig"))
                                            } else {
                                                button(TemplateEdit::EvidenceOn, lang.pick("Require evidence", "Nachweis verlangen"))
                                            }}
                                            {button(TemplateEdit::Remove, lang.pick("Remove", "Entfernen"))}
                                        </div>
                                    })}
                                </li>
                            }
                        }).collect_view();
                        view! {
                            <section class="card" data-template-kind=kind.as_str()>
                                <h2>{kind.label(lang)}</h2>
                                <ul class="checklist">{rows}</ul>
                            </section>
                        }
                    }).collect_view().into_any(),
                }
            })}
        </Transition>
        {is_admin.then(|| view! {
            <section class="card">
                <h2>{lang.pick("Add an item", "Punkt hinzufügen")}</h2>
                <ActionForm action=add attr:class="stack" attr:id="add-template-item">
                    <label>{lang.pick("Checklist", "Checkliste")}
                        <select name="kind">
                            {ChecklistKind::ALL.into_iter().map(|k| view! {
                                <option value=k.as_str()>{k.label(lang)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>{lang.pick("Text (German)", "Text (Deutsch)")}<input type="text" name="text_de" required maxlength="500"/></label>
                    <label>{lang.pick("Text (English)", "Text (Englisch)")}<input type="text" name="text_en" required maxlength="500"/></label>
                    <label class="check"><input type="checkbox" name="evidence_required" value="on"/>{lang.pick("Evidence required", "Nachweis erforderlich")}</label>
                    <button type="submit" class="primary">{lang.pick("Add", "Hinzufügen")}</button>
                </ActionForm>
            </section>
        })}
    }
}
