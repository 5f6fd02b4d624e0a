//! One release, rendered on the server and readable on a phone: a sticky summary (phase,
//! next deadline, what blocks the next gate, the way to sign), the plan, the go-live, one
//! card per checklist with its evidence (the staging gate's and the Go/No-Go's results in
//! their own checklist's card), known issues and the audit trail. Every form is a plain
//! post; readers who only read see none.

mod checklist;
mod head;
mod known_issues;

use super::blockers::BlockerList;
use super::evidence::{retract_failure, EvidenceBlock, EvidenceCtx, Lightbox, RetractedList};
use super::golive::{GoLiveActions, GoLivePanel, RollbackPanel};
use super::releases::DeadlineNote;
use super::sign_page::{roles_to_sign, PreconditionFacts, SignForm, SignOffRows};
use super::{use_lang, use_user};
use crate::domain::evidence::{evidence_open, AttachedTo};
use crate::domain::release::{Blocker, Phase};
use crate::domain::templates::ChecklistKind;
use crate::domain::time::{berlin_display, berlin_input_value};
use crate::i18n::{audit_action_label, Label};
use crate::server_fns::checklists::{
    AddKnownIssue, CheckItemFromProbes, SetItem, SettleKnownIssue,
};
use crate::server_fns::lifecycle::ChangePhase;
use crate::server_fns::releases::{load_release_details, ReleaseDetails as Page, UpdateRelease};
use crate::server_fns::signoffs::{SetPreconditions, Sign};
use checklist::{ChecklistItems, ItemRights};
use head::ReleaseHead;
use known_issues::KnownIssuesPanel;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The page's forms. Each posts to its server function; the page is rendered again after
/// it (a refusal of a post without JavaScript comes back in the URL and shows at the top).
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
    let page = Resource::new(id, load_release_details);
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
    let can_steer = me.as_ref().is_some_and(|u| r.may_steer(u));
    let captain_or_owner = me.as_ref().is_some_and(|u| r.is_captain_or_owner(u));
    let is_captain = me.as_ref().is_some_and(|u| r.is_captain(u));
    let can_work = me.as_ref().is_some_and(|u| u.is_worker());
    let go_live_started = p
        .going_live
        .as_ref()
        .is_some_and(|g| g.progress.started.is_some());
    let sign_off_stale = p
        .go_live
        .blockers
        .iter()
        .any(|b| matches!(b, Blocker::SignOffStale { .. }));
    // Rolling back is for the captain and the owner, once the go-live has started: before
    // it there is nothing to roll back.
    let rollback_here = r.phase == Phase::GoLive
        && go_live_started
        && me
            .as_ref()
            .is_some_and(|u| crate::domain::golive::may_roll_back(&r, u));
    // The mark (the target has an open P1) shows from the go-live on; the panel only once
    // there is something to roll back.
    let rollback = p.rollback_suggested;
    let rights = ItemRights {
        release_id: id,
        phase: r.phase,
        can_work,
        captain_or_owner,
    };
    let items_of = |kind: ChecklistKind| {
        view! { <ChecklistItems kind items=p.checklist.clone() evidence=p.evidence.clone() rights acts/> }
    };
    // Evidence attached to a part of the release rather than to one item.
    let evidence_of = |to: AttachedTo, heading: String| {
        let items: Vec<_> = p
            .evidence
            .iter()
            .filter(|e| e.item_key.is_none() && e.attached_to == to && !e.is_retracted())
            .cloned()
            .collect();
        let can_attach = can_work && evidence_open(r.phase, to);
        (can_attach || !items.is_empty()).then(|| {
            let name = to.as_str();
            view! {
                <div class="section-evidence" data-section=name>
                    <h3>{heading}</h3>
                    <EvidenceBlock release_id=id target=format!("section={name}") items can_attach/>
                </div>
            }
        })
    };
    let (staging_class, staging_text) = if p.staging.passed {
        ("badge ok", lang.pick("passed", "bestanden"))
    } else {
        ("badge warn", lang.pick("blocked", "blockiert"))
    };
    // "Sign again" stands in for the phase until the go-live starts; after that what was
    // signed is history ("changed after signing" in the dossier).
    let sign_again = sign_off_stale && !go_live_started;
    view! {
        <Title text=format!("{} {}", r.title, r.version)/>
        <Summary p=p.clone() sign_again rollback can_sign=captain_or_owner/>
        <ReleaseHead r=r.clone() go_live_started sign_off_stale staging_passed=p.staging.passed can_steer acts/>
        {(rollback_here && rollback).then(|| view! { <RollbackPanel release=r.clone() suggested=true acts=acts.golive/> })}
        {p.going_live.clone().map(|ov| view! {
            <GoLivePanel release=r.clone() ov can_steer is_captain acts=acts.golive/>
        })}
        {(rollback_here && !rollback).then(|| view! { <RollbackPanel release=r.clone() suggested=false acts=acts.golive/> })}
        <section class="card" data-checklist={ChecklistKind::ReleaseChecklist.as_str()}>
            <h2>{ChecklistKind::ReleaseChecklist.label(lang)}</h2>
            {items_of(ChecklistKind::ReleaseChecklist)}
        </section>
        <section class="card" data-checklist={ChecklistKind::StagingGate.as_str()}>
            <div data-testid="staging-gate">
                <h2>{ChecklistKind::StagingGate.label(lang)}" "<span class=staging_class>{staging_text}</span></h2>
                <BlockerList blockers=p.staging.blockers.clone() class="blockers"/>
            </div>
            {items_of(ChecklistKind::StagingGate)}
            {evidence_of(AttachedTo::StagingGate, AttachedTo::StagingGate.label(lang).into_owned())}
        </section>
        <KnownIssuesPanel p=p.clone() acts can_work captain_or_owner/>
        <section class="card gonogo" data-testid="go-no-go" data-checklist={ChecklistKind::GoLive.as_str()}>
            <GoNoGo p=p.clone() acts/>
            <h3>{lang.pick("Decision checklist", "Checkliste zum Entscheid")}</h3>
            {items_of(ChecklistKind::GoLive)}
        </section>
        {evidence_of(AttachedTo::Release, AttachedTo::Release.label(lang).into_owned())
            .map(|block| view! { <section class="card">{block}</section> })}
        <section class="card" data-checklist={ChecklistKind::PostRelease.as_str()}>
            <h2>{ChecklistKind::PostRelease.label(lang)}</h2>
            {items_of(ChecklistKind::PostRelease)}
            {evidence_of(AttachedTo::PostRelease, lang.pick("Further documentation", "Weitere Dokumentation").to_string())}
        </section>
        <RetractedList items=p.evidence.clone()/>
        <section class="card">
            <h2>{lang.pick("Audit trail", "Protokoll")}</h2>
            <ul class="audit">
                {p.audit.iter().map(|a| view! {
                    <li>
                        <span class="muted">{berlin_display(&a.at)}</span>" "
                        <strong>{audit_action_label(&a.action, lang)}</strong>" · "
                        <span class="long">{a.actor.clone()}</span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// Stays at the top while the page scrolls: where the release stands (and "sign again"
/// in place of the phase when a sign-off went stale), the next deadline, what blocks the
/// next gate, and for the release's captain and owner the way to the sign-off page.
#[component]
fn Summary(p: Page, sign_again: bool, rollback: bool, can_sign: bool) -> impl IntoView {
    let lang = use_lang();
    let r = &p.release;
    let id = r.id;
    let sign_again = sign_again && matches!(r.phase, Phase::GoNoGo | Phase::GoLive);
    let phase_class = if sign_again {
        "phase phase-stale".to_string()
    } else {
        format!("phase phase-{}", r.phase.as_str())
    };
    let (gate, blockers) = match r.phase {
        Phase::Draft | Phase::StagingGate => (
            Some(lang.pick("Blocks the staging gate", "Blockiert das Staging-Gate")),
            p.staging.blockers.clone(),
        ),
        Phase::GoNoGo => (
            Some(lang.pick("Blocks the go-live", "Blockiert das Go-Live")),
            p.go_live.blockers.clone(),
        ),
        _ => (None, vec![]),
    };
    // That a draft is no staging gate yet goes without saying here.
    let blockers: Vec<Blocker> = blockers
        .into_iter()
        .filter(|b| !matches!(b, Blocker::WrongPhase { .. }))
        .collect();
    let blocked = gate.map(|gate| match blockers.first() {
        None => view! {
            <p class="summary-line ok-text" data-testid="next-gate">
                {lang.pick("Nothing blocks the next gate.", "Nichts blockiert das nächste Gate.")}
            </p>
        }
        .into_any(),
        Some(first) if blockers.len() == 1 => view! {
            <p class="summary-line" data-testid="next-gate">{gate}": "{first.label(lang)}</p>
        }
        .into_any(),
        Some(first) => {
            let more = format!(
                " (+{} {})",
                blockers.len() - 1,
                lang.pick("more", "weitere")
            );
            view! {
                <details class="summary-blockers" data-testid="next-gate">
                    <summary>{gate}": "{first.label(lang)}<span class="muted">{more}</span></summary>
                    <BlockerList blockers=blockers.clone() class="blockers"/>
                </details>
            }
            .into_any()
        }
    });
    let sign_link = (can_sign && r.phase == Phase::GoNoGo).then(|| {
        view! {
            <a class="button primary sign-link" href=format!("/releases/{id}/sign") data-testid="sign-link">
                {lang.pick("Sign", "Freigeben")}
            </a>
        }
    });
    let deadline = p.deadline.clone().map(|d| {
        view! {
            <p class="summary-line deadline">
                {lang.pick("Next deadline: ", "Nächste Frist: ")}
                <DeadlineNote deadline=d class_ok="muted" class_late="overdue"/>
            </p>
        }
    });
    view! {
        <section class="release-summary" data-testid="release-summary" aria-label=lang.pick("Where the release stands", "Stand des Releases")>
            <div class="row-between">
                <p class="summary-phase">
                    <span class=phase_class data-testid="phase">{r.phase.label(lang)}</span>
                    {sign_again.then(|| view! {
                        " "<span class="badge warn" data-testid="sign-again">{lang.pick("Sign-off stale: sign again", "Freigabe veraltet: neu freigeben")}</span>
                    })}
                    {rollback.then(|| view! { " " <super::releases::RollbackSuggested lang/> })}
                </p>
                {sign_link}
            </div>
            {deadline}
            {blocked}
        </section>
    }
}

/// The Go/No-Go decision (T-1h): both sign-offs, what blocks the go-live, the sign form
/// for the reader's own role(s), and the preconditions (shown to all; edited by who
/// steers). The decision's checklist follows in the same card.
#[component]
fn GoNoGo(p: Page, acts: Actions) -> impl IntoView {
    let lang = use_lang();
    let me = use_user();
    let r = p.release.clone();
    let id = r.id;
    let sign_forms = roles_to_sign(&p, me.as_ref())
        .into_iter()
        .map(|role| view! { <SignForm release_id=id role action=acts.sign/> })
        .collect_view();
    let can_edit_pre = me.as_ref().is_some_and(|u| r.may_steer(u)) && !r.phase.is_final();
    let pre = r.clone();
    let pre_form = can_edit_pre.then(move || view! {
        <details>
            <summary>{lang.pick("Edit preconditions", "Voraussetzungen bearbeiten")}</summary>
            <ActionForm action=acts.pre attr:class="stack">
                <input type="hidden" name="release_id" value=id/>
                <input type="hidden" name="revision" value=pre.revision/>
                <label>{lang.pick("Last successful backup (Europe/Berlin)", "Letztes erfolgreiches Backup (Europe/Berlin)")}
                    <input type="datetime-local" name="last_backup_at" value=pre.last_backup_at.as_ref().map(berlin_input_value).unwrap_or_default()/></label>
                <label>{lang.pick("Last restore test (Europe/Berlin)", "Letzter Restore-Test (Europe/Berlin)")}
                    <input type="datetime-local" name="last_restore_test_at" value=pre.last_restore_test_at.as_ref().map(berlin_input_value).unwrap_or_default()/></label>
                <label>{lang.pick("On-call person", "On-Call-Person")}
                    <input type="text" name="on_call" value=pre.on_call.clone().unwrap_or_default()/></label>
                <label>{lang.pick("Down-migration link", "Link zur Down-Migration")}
                    <input type="url" name="down_migration" value=pre.links.down_migration.clone().unwrap_or_default()/></label>
                <button type="submit">{lang.pick("Save preconditions", "Voraussetzungen speichern")}</button>
            </ActionForm>
        </details>
    });
    view! {
        <h2>{lang.pick("Go/No-Go decision (T-1h)", "Go/No-Go-Entscheid (T-1h)")}</h2>
        <SignOffRows release=r.clone() sign_offs=p.sign_offs.clone()/>
        <BlockerList blockers=p.go_live.blockers.clone() class="blockers"/>
        {sign_forms}
        <h3>{lang.pick("Preconditions", "Voraussetzungen")}</h3>
        <PreconditionFacts release=r.clone() blockers=p.go_live.blockers.clone()/>
        {pre_form}
    }
}
