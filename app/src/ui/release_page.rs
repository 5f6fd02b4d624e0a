//! One release: plan, checklists with evidence links, known issues, the gates, the
//! Go/No-Go panel (made for a phone: the product owner signs there) and the audit trail.

use super::blockers::BlockerList;
use super::evidence::{retract_failure, EvidenceBlock, EvidenceCtx, Lightbox, RetractedList};
use super::golive::{GoLiveActions, GoLivePanel, RollbackPanel};
use super::releases::DeadlineNote;
use super::{short_time, use_lang, use_user};
use crate::domain::account::UserInfo;
use crate::domain::evidence::{evidence_open, AttachedTo, Evidence};
use crate::domain::monitoring::is_probed_item;
use crate::domain::release::{ItemState, Phase, SignerRole};
use crate::domain::release_model::{ChecklistItem, GateReport};
use crate::domain::templates::ChecklistKind;
use crate::domain::time::{berlin_display, berlin_input_value};
use crate::i18n::{Label, Lang};
use crate::server_fns::checklists::{
    AddKnownIssue, CheckItemFromProbes, SetItem, SettleKnownIssue,
};
use crate::server_fns::lifecycle::ChangePhase;
use crate::server_fns::releases::{load_release_details, ReleaseDetails as Page, UpdateRelease};
use crate::server_fns::signoffs::{SetPreconditions, Sign};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[derive(Clone, Copy)]
struct Actions {
    set_item: ServerAction<SetItem>,
    add_issue: ServerAction<AddKnownIssue>,
    settle: ServerAction<SettleKnownIssue>,
    phase: ServerAction<ChangePhase>,
    sign: ServerAction<Sign>,
    pre: ServerAction<SetPreconditions>,
    edit: ServerAction<UpdateRelease>,
    probe: ServerAction<CheckItemFromProbes>,
    golive: GoLiveActions,
}

#[component]
pub fn ReleasePage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0));
    let acts = Actions {
        set_item: ServerAction::new(),
        add_issue: ServerAction::new(),
        settle: ServerAction::new(),
        phase: ServerAction::new(),
        sign: ServerAction::new(),
        pre: ServerAction::new(),
        edit: ServerAction::new(),
        probe: ServerAction::new(),
        golive: GoLiveActions::new(),
    };
    let ev = EvidenceCtx::new();
    provide_context(ev);
    let page = Resource::new(
        move || {
            // Any action that ran reloads the page.
            let ran = ev.retract.version().get()
                + acts.set_item.version().get()
                + acts.add_issue.version().get()
                + acts.settle.version().get()
                + acts.phase.version().get()
                + acts.sign.version().get()
                + acts.pre.version().get()
                + acts.edit.version().get()
                + acts.probe.version().get()
                + acts.golive.version();
            (id(), ev.landed.get(), ran)
        },
        |(id, ..)| load_release_details(id),
    );
    let failure = move || {
        [
            acts.set_item.value().get().and_then(|r| r.err()),
            acts.add_issue.value().get().and_then(|r| r.err()),
            acts.settle.value().get().and_then(|r| r.err()),
            acts.phase.value().get().and_then(|r| r.err()),
            acts.sign.value().get().and_then(|r| r.err()),
            acts.pre.value().get().and_then(|r| r.err()),
            acts.edit.value().get().and_then(|r| r.err()),
            acts.probe.value().get().and_then(|r| r.err()),
            acts.golive.failure(),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <p class="alert error" role="alert">{e.text(lang)}</p> })
    };
    view! {
        <Transition fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <section class="card"><p class="alert error">{e.text(lang)}</p></section> }.into_any(),
                    Ok(p) => view! { {failure} {retract_failure(ev)} <ReleaseView p acts/> }.into_any(),
                }
            })}
        </Transition>
        <Lightbox/>
    }
}

#[component]
fn ReleaseView(p: Page, acts: Actions) -> impl IntoView {
    let lang = use_lang();
    let me = use_user();
    let r = p.release.clone();
    let id = r.id;
    let rollback = p.rollback_suggested;
    let can_steer = me.as_ref().is_some_and(|u| r.may_steer(u));
    let captain_or_owner = me.as_ref().is_some_and(|u| r.is_captain_or_owner(u));
    let is_captain = me.as_ref().is_some_and(|u| r.is_captain(u));
    // Rolling back is for the captain and the owner while the release goes live.
    let rollback_here = r.phase == Phase::GoLive
        && me
            .as_ref()
            .is_some_and(|u| crate::domain::golive::may_roll_back(&r, u));
    let dossier = r.phase.is_final().then(|| {
        view! {
            <p><a class="button" href=format!("/releases/{id}/dossier") data-testid="dossier-link">
                {lang.pick("Release dossier (sealed)", "Release-Dossier (versiegelt)")}
            </a></p>
        }
    });
    let can_attach = me.as_ref().is_some_and(|u| u.is_worker());
    let section = |to: AttachedTo| {
        let name = to.as_str();
        let can_attach = can_attach && evidence_open(r.phase, to);
        let items: Vec<_> = p
            .evidence
            .iter()
            .filter(|e| e.item_key.is_none() && e.attached_to == to)
            .cloned()
            .collect();
        view! {
            <section class="card" data-section=name>
                <h2>{to.label(lang)}</h2>
                <EvidenceBlock release_id=id target=format!("section={name}") items can_attach/>
            </section>
        }
    };
    // Editing is steering: the release's own captain or an admin (the server asks the same).
    let can_plan = !r.phase.is_final() && can_steer;
    let deadline = p.deadline.clone().map(|d| {
        view! {
            <p class="deadline">
                {lang.pick("Next deadline: ", "Nächste Frist: ")}
                <DeadlineNote deadline=d class_ok="muted" class_late="alert error"/>
            </p>
        }
    });
    let go_live_started = p
        .going_live
        .as_ref()
        .is_some_and(|g| g.progress.started.is_some());
    let sign_off_stale = p
        .go_live
        .blockers
        .iter()
        .any(|b| matches!(b, crate::domain::release::Blocker::SignOffStale { .. }));
    let next_step =
        crate::domain::release::next_requested_phase(r.phase, go_live_started, sign_off_stale).map(
            |to| {
                let (label, gate) = match r.phase {
                    Phase::Draft => (
                        lang.pick("Start staging gate", "Staging-Gate starten"),
                        None,
                    ),
                    Phase::StagingGate => (
                        lang.pick("Move to Go/No-Go", "Zum Go/No-Go"),
                        Some(p.staging.clone()),
                    ),
                    _ => (
                        lang.pick(
                            "Back to Go/No-Go to sign again",
                            "Zurück zum Go/No-Go, neu freigeben",
                        ),
                        None,
                    ),
                };
                (to.as_str(), label, gate)
            },
        );
    let step = next_step.filter(|_| can_steer).map(|(to, label, gate)| {
        let blocked = gate.as_ref().is_some_and(|g| !g.passed);
        view! {
            <ActionForm action=acts.phase attr:class="inline">
                <input type="hidden" name="release_id" value=id/>
                <input type="hidden" name="to" value=to/>
                <button type="submit" class="primary" disabled=blocked>{label}</button>
            </ActionForm>
        }
    });
    view! {
        <Title text=format!("{} {}", r.title, r.version)/>
        <section class="card">
            <div class="row-between">
                <h1>{r.title.clone()}" "<small class="muted">{r.version.clone()}</small></h1>
                <span class=format!("phase phase-{}", r.phase.as_str()) data-testid="phase">{r.phase.label(lang)}</span>
                {rollback.then(|| view! { " " <super::releases::RollbackSuggested lang/> })}
            </div>
            <dl class="facts">
                <dt>{lang.pick("Environment", "Umgebung")}</dt><dd>{r.environment.clone()}" (staging: "{r.staging_environment.clone()}")"</dd>
                <dt>{lang.pick("Go-live window", "Go-Live-Fenster")}</dt><dd>{berlin_display(&r.window_start)}" – "{berlin_display(&r.window_end)}</dd>
                <dt>{lang.pick("Strategy", "Strategie")}</dt><dd>{r.strategy.as_str()}</dd>
                <dt>{lang.pick("Release captain", "Release Captain")}</dt><dd>{r.release_captain.clone().unwrap_or_else(|| "–".into())}</dd>
                <dt>{lang.pick("Product owner", "Product Owner")}</dt><dd>{r.product_owner.clone().unwrap_or_else(|| "–".into())}</dd>
                <dt>{lang.pick("Artifact / commit", "Artefakt / Commit")}</dt><dd>{r.artifact_version.clone().unwrap_or_default()}" "{r.commit_sha.clone().unwrap_or_default()}</dd>
            </dl>
            {deadline}
            {dossier}
            {step}
            {can_plan.then(|| view! { <EditRelease r=r.clone() acts/> })}
        </section>
        {(rollback_here && rollback).then(|| view! { <RollbackPanel release=r.clone() suggested=true acts=acts.golive/> })}
        {p.going_live.clone().map(|ov| view! {
            <GoLivePanel release=r.clone() ov can_steer is_captain acts=acts.golive/>
        })}
        {(rollback_here && !rollback).then(|| view! { <RollbackPanel release=r.clone() suggested=false acts=acts.golive/> })}
        <GatePanel title=lang.pick("Staging gate (T-12h)", "Staging-Gate (T-12h)") gate=p.staging.clone() testid="staging-gate"/>
        <GoNoGoPanel p=p.clone() acts/>
        <ChecklistPanel items=p.checklist.clone() evidence=p.evidence.clone() release_id=id phase=r.phase can_work=can_attach acts/>
        {section(AttachedTo::StagingGate)}
        <KnownIssuesPanel p=p.clone() acts is_owner_or_captain=captain_or_owner/>
        {section(AttachedTo::Release)}
        {section(AttachedTo::PostRelease)}
        <RetractedList items=p.evidence.clone()/>
        <section class="card">
            <h2>{lang.pick("Audit trail", "Protokoll")}</h2>
            <ul class="audit">
                {p.audit.into_iter().map(|a| view! {
                    <li><span class="muted">{short_time(&a.at)}</span>" "<strong>{a.action}</strong>" · "{a.actor}</li>
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn GatePanel(title: &'static str, gate: GateReport, testid: &'static str) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="card" data-testid=testid>
            <h2>{title}" "
                {if gate.passed {
                    view! { <span class="badge ok">{lang.pick("passed", "bestanden")}</span> }.into_any()
                } else {
                    view! { <span class="badge warn">{lang.pick("blocked", "blockiert")}</span> }.into_any()
                }}
            </h2>
            <BlockerList blockers=gate.blockers/>
        </section>
    }
}

#[component]
fn GoNoGoPanel(p: Page, acts: Actions) -> impl IntoView {
    let lang = use_lang();
    let me: Option<UserInfo> = use_user();
    let r = p.release.clone();
    let id = r.id;
    let my_roles: Vec<SignerRole> = [
        (
            SignerRole::ProductOwner,
            me.as_ref().is_some_and(|u| r.is_owner(u)),
        ),
        (
            SignerRole::ReleaseCaptain,
            me.as_ref().is_some_and(|u| r.is_captain(u)),
        ),
    ]
    .into_iter()
    .filter(|(_, m)| *m)
    .map(|(role, _)| role)
    // A role that has signed, and whose sign-off still covers what is there, is done.
    .filter(|role| !p.sign_offs.iter().any(|s| s.role == *role && !s.stale))
    .collect();
    let rows = SignerRole::ALL.into_iter().map(|role| {
        let label = role.label(lang);
        let signed = p.sign_offs.iter().find(|s| s.role == role).cloned();
        let state = match signed {
            None => view! { <span class="badge">{lang.pick("not signed", "nicht freigegeben")}</span> }.into_any(),
            Some(s) => {
                let d = s.decision.label(lang);
                view! {
                    <span class=if s.stale { "badge warn" } else { "badge ok" }>{d}" · "{s.signer.clone()}</span>
                    {s.stale.then(|| view! { <span class="badge warn" data-testid="stale">{lang.pick("stale: sign again", "veraltet: erneut freigeben")}</span> })}
                }.into_any()
            }
        };
        view! { <li data-role=role.as_str()><strong>{label}</strong>" "{state}</li> }
    }).collect_view();
    let sign_forms = (r.phase == Phase::GoNoGo).then(|| {
        my_roles.into_iter().map(|role| view! {
            <ActionForm action=acts.sign attr:class="stack sign-form">
                <input type="hidden" name="release_id" value=id/>
                <input type="hidden" name="role" value=role.as_str()/>
                <label>{lang.pick("Comment (required for No-Go)", "Kommentar (Pflicht bei No-Go)")}
                    <textarea name="comment" rows="2"></textarea>
                </label>
                <div class="row">
                    <button type="submit" name="decision" value="go" class="primary big">{lang.pick("Sign GO", "GO freigeben")}</button>
                    <button type="submit" name="decision" value="no_go" class="danger big">{lang.pick("Sign NO-GO", "NO-GO erklären")}</button>
                </div>
            </ActionForm>
        }).collect_view()
    });
    let can_edit_pre = me.as_ref().is_some_and(|u| r.may_steer(u));
    let pre_form = (can_edit_pre && !r.phase.is_final()).then(|| view! {
        <details>
            <summary>{lang.pick("Preconditions", "Voraussetzungen")}</summary>
            <ActionForm action=acts.pre attr:class="stack">
                <input type="hidden" name="release_id" value=id/>
                <input type="hidden" name="revision" value=r.revision/>
                <label>{lang.pick("Last successful backup (Europe/Berlin)", "Letztes erfolgreiches Backup (Europe/Berlin)")}
                    <input type="datetime-local" name="last_backup_at" value=r.last_backup_at.as_ref().map(berlin_input_value).unwrap_or_default()/></label>
                <label>{lang.pick("Last restore test (Europe/Berlin)", "Letzter Restore-Test (Europe/Berlin)")}
                    <input type="datetime-local" name="last_restore_test_at" value=r.last_restore_test_at.as_ref().map(berlin_input_value).unwrap_or_default()/></label>
                <label>{lang.pick("On-call person", "On-Call-Person")}
                    <input type="text" name="on_call" value=r.on_call.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Down-migration link", "Link zur Down-Migration")}
                    <input type="url" name="down_migration" value=r.links.down_migration.clone().unwrap_or_default()/></label>
                <button type="submit">{lang.pick("Save preconditions", "Voraussetzungen speichern")}</button>
            </ActionForm>
        </details>
    });
    view! {
        <section class="card gonogo" data-testid="go-no-go">
            <h2>{lang.pick("Go/No-Go decision (T-1h)", "Go-Live-Entscheid (T-1h)")}</h2>
            <ul class="signers">{rows}</ul>
            <BlockerList blockers=p.go_live.blockers.clone() class="blockers"/>
            {sign_forms}
            {pre_form}
        </section>
    }
}

#[component]
fn ChecklistPanel(
    items: Vec<ChecklistItem>,
    evidence: Vec<Evidence>,
    release_id: i64,
    phase: Phase,
    /// Every role but viewer works on the checklist.
    can_work: bool,
    acts: Actions,
) -> impl IntoView {
    let lang = use_lang();
    let closed = phase.is_final();
    let item_evidence_open = evidence_open(phase, AttachedTo::Item);
    ChecklistKind::ALL
        .into_iter()
        .map(|kind| {
            let rows = items
                .iter()
                .filter(|i| i.kind == kind)
                .map(|i| {
                    let text = match lang {
                        Lang::En => i.text_en.clone(),
                        Lang::De => i.text_de.clone(),
                    };
                    let key = i.key.clone();
                    let attached: Vec<Evidence> = evidence
                        .iter()
                        .filter(|e| e.item_key.as_deref() == Some(i.key.as_str()))
                        .cloned()
                        .collect();
                    // A closed release's checklist proof no longer changes.
                    let block = view! {
                        <EvidenceBlock release_id target=format!("item={}", i.key) items=attached can_attach=can_work && item_evidence_open/>
                    };
                    let reason = i.reason.clone();
                    let note = i.note.clone();
                    let current = i.state;
                    let probed = (!closed && can_work && is_probed_item(&i.key)).then(|| {
                        let key = i.key.clone();
                        view! {
                            <ActionForm action=acts.probe attr:class="inline probe-form">
                                <input type="hidden" name="release_id" value=release_id/>
                                <input type="hidden" name="key" value=key/>
                                <button type="submit" data-testid="check-from-probes">
                                    {lang.pick("Check now from the probes", "Jetzt aus den Checks prüfen")}
                                </button>
                            </ActionForm>
                        }
                    });
                    let form = (!closed && can_work).then(move || view! {
                        <ActionForm action=acts.set_item attr:class="row item-form">
                            <input type="hidden" name="release_id" value=release_id/>
                            <input type="hidden" name="key" value=key/>
                            <select name="state" aria-label=lang.pick("State", "Zustand")>
                                {ItemState::ALL.into_iter().map(|s| view! {
                                    <option value=s.as_str() selected=s == current>{s.label(lang)}</option>
                                }).collect_view()}
                            </select>
                            <input type="url" name="link" placeholder=lang.pick("Evidence link", "Nachweis-Link") aria-label=lang.pick("Evidence link", "Nachweis-Link")/>
                            <input type="text" name="reason" placeholder=lang.pick("Reason", "Grund") aria-label=lang.pick("Reason", "Grund") value=reason/>
                            <input type="text" name="note" placeholder=lang.pick("Note", "Notiz") aria-label=lang.pick("Note", "Notiz") value=note/>
                            <button type="submit">{lang.pick("Save", "Speichern")}</button>
                        </ActionForm>
                    });
                    view! {
                        <li class="item" data-key=i.key.clone() data-state=i.state.as_str()>
                            <div>
                                <span class=format!("badge state-{}", i.state.as_str())>{i.state.label(lang)}</span>" "
                                {text}
                                {i.evidence_required.then(|| view! { <small class="muted">{lang.pick(" · evidence required", " · Nachweis erforderlich")}</small> })}
                            </div>
                            {(!i.note.is_empty()).then(|| view! { <div class="muted">{i.note.clone()}</div> })}
                            <div>{i.links.iter().map(|l| view! { <a href=l.clone() rel="noopener noreferrer" target="_blank">{l.clone()}</a>" " }).collect_view()}</div>
                            {block}
                            {probed}
                            {form}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <section class="card" data-checklist=kind.as_str()>
                    <h2>{kind.label(lang)}</h2>
                    <ul class="checklist">{rows}</ul>
                </section>
            }
        })
        .collect_view()
}

#[component]
fn KnownIssuesPanel(p: Page, acts: Actions, is_owner_or_captain: bool) -> impl IntoView {
    let lang = use_lang();
    let id = p.release.id;
    let closed = p.release.phase.is_final();
    view! {
        <section class="card" data-testid="known-issues">
            <h2>{lang.pick("Known issues (P1/P2)", "Bekannte Probleme (P1/P2)")}</h2>
            <ul>
                {p.known_issues.into_iter().map(|k| {
                    let status = if k.resolved_at.is_some() {
                        lang.pick("resolved", "behoben").to_string()
                    } else if let Some(by) = &k.accepted_by {
                        format!("{} {by}: {}", lang.pick("accepted by", "akzeptiert von"), k.accept_reason.clone().unwrap_or_default())
                    } else {
                        lang.pick("open", "offen").to_string()
                    };
                    let open = k.resolved_at.is_none() && k.accepted_at.is_none() && !closed;
                    view! {
                        <li>
                            <strong>{k.severity.label(lang)}</strong>" "{k.key.clone()}" · "{k.title.clone()}" · "<em>{status}</em>
                            {open.then(|| view! {
                                <ActionForm action=acts.settle attr:class="row">
                                    <input type="hidden" name="release_id" value=id/>
                                    <input type="hidden" name="issue_id" value=k.id/>
                                    {is_owner_or_captain.then(|| view! {
                                        <input type="text" name="accept_reason" placeholder=lang.pick("Reason to accept", "Grund für Akzeptanz")/>
                                    })}
                                    <button type="submit">{if is_owner_or_captain { lang.pick("Resolve / accept", "Beheben / akzeptieren") } else { lang.pick("Mark resolved", "Als behoben markieren") }}</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(!closed).then(|| view! {
                <ActionForm action=acts.add_issue attr:class="row">
                    <input type="hidden" name="release_id" value=id/>
                    <input type="text" name="key" required placeholder=lang.pick("Key or link", "Schlüssel oder Link")/>
                    <select name="severity"><option value="p1">"P1"</option><option value="p2">"P2"</option><option value="p3">"P3"</option></select>
                    <input type="text" name="title" required placeholder=lang.pick("Title", "Titel")/>
                    <button type="submit">{lang.pick("Add", "Hinzufügen")}</button>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn EditRelease(r: crate::domain::release_model::Release, acts: Actions) -> impl IntoView {
    let lang = use_lang();
    let canary = r.strategy == crate::domain::release::Strategy::Canary;
    view! {
        <details>
            <summary>{lang.pick("Edit release", "Release bearbeiten")}</summary>
            <ActionForm action=acts.edit attr:class="stack" attr:id="edit-release">
                <input type="hidden" name="release_id" value=r.id/>
                <input type="hidden" name="revision" value=r.revision/>
                <label>{lang.pick("Title", "Titel")}<input type="text" name="title" value=r.title.clone() required/></label>
                <label>{lang.pick("Version", "Version")}<input type="text" name="version" value=r.version.clone() required/></label>
                <label>{lang.pick("Target environment", "Zielumgebung")}<input type="text" name="environment" value=r.environment.clone() required/></label>
                <label>{lang.pick("Staging environment", "Staging-Umgebung")}<input type="text" name="staging_environment" value=r.staging_environment.clone() required/></label>
                <label>{lang.pick("Window start (Europe/Berlin)", "Fensterbeginn (Europe/Berlin)")}<input type="datetime-local" name="window_start" value=berlin_input_value(&r.window_start) required/></label>
                <label>{lang.pick("Window end (Europe/Berlin)", "Fensterende (Europe/Berlin)")}<input type="datetime-local" name="window_end" value=berlin_input_value(&r.window_end) required/></label>
                <label>{lang.pick("Strategy", "Strategie")}
                    <select name="strategy">
                        <option value="blue_green" selected=!canary>"Blue/Green"</option>
                        <option value="canary" selected=canary>"Canary 10 % → 50 % → 100 %"</option>
                    </select>
                </label>
                <label>{lang.pick("Release captain (email)", "Release Captain (E-Mail)")}<input type="email" name="release_captain" value=r.release_captain.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Product owner (email)", "Product Owner (E-Mail)")}<input type="email" name="product_owner" value=r.product_owner.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Artifact version", "Artefakt-Version")}<input type="text" name="artifact_version" value=r.artifact_version.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Commit SHA", "Commit-SHA")}<input type="text" name="commit_sha" value=r.commit_sha.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Changelog link", "Changelog-Link")}<input type="url" name="changelog" value=r.links.changelog.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Rollback plan link", "Link zum Rollback-Plan")}<input type="url" name="rollback_plan" value=r.links.rollback_plan.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Backup-restore link", "Link zum Backup-Restore")}<input type="url" name="backup_restore" value=r.links.backup_restore.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Stability hold (minutes)", "Stabilitätsphase (Minuten)")}<input type="number" min="0" max="1440" name="canary_hold_minutes" value=r.canary_hold_minutes/></label>
                <button type="submit">{lang.pick("Save release", "Release speichern")}</button>
            </ActionForm>
        </details>
    }
}
