//! The go-live panel of a release page: start (inside the window or by the captain's
//! override), the plan's steps with who and when, the running stability hold and the
//! target's live health, completion; and the rollback, prominent when suggested.

use super::blockers::BlockerList;
use super::releases::browser_clock;
use super::use_lang;
use crate::domain::golive::{
    blocks_despite_override, note_required, step_label_key, GoLiveOverview, StepKind, TargetHealth,
};
use crate::domain::release::{Blocker, Phase};
use crate::domain::release_model::Release;
use crate::domain::time::berlin_display;
use crate::i18n::{Label, Lang};
use crate::server_fns::golive::{CompleteGoLive, RecordGoLiveStep, RollBack, StartGoLive};
use crate::server_fns::Refusal;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct GoLiveActions {
    pub start: ServerAction<StartGoLive>,
    pub step: ServerAction<RecordGoLiveStep>,
    pub complete: ServerAction<CompleteGoLive>,
    pub rollback: ServerAction<RollBack>,
}

impl GoLiveActions {
    pub fn new() -> Self {
        GoLiveActions {
            start: ServerAction::new(),
            step: ServerAction::new(),
            complete: ServerAction::new(),
            rollback: ServerAction::new(),
        }
    }

    pub fn failure(&self) -> Option<Refusal> {
        [
            self.start.value().get().and_then(|r| r.err()),
            self.step.value().get().and_then(|r| r.err()),
            self.complete.value().get().and_then(|r| r.err()),
            self.rollback.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
    }
}

impl Default for GoLiveActions {
    fn default() -> Self {
        Self::new()
    }
}

fn health_badge(lang: Lang, t: &TargetHealth) -> impl IntoView {
    let (class, text) = if !t.probed {
        (
            "badge",
            lang.pick("not probed", "nicht überwacht").to_string(),
        )
    } else if t.up && !t.open_p1 {
        ("badge ok", lang.pick("healthy", "gesund").to_string())
    } else if t.open_p1 {
        ("badge danger", format!("{} · P1", t.state))
    } else {
        ("badge warn", t.state.clone())
    };
    view! {
        <span class=class data-testid="target-health" data-state=t.state.clone()>{t.environment.clone()}": "{text}</span>
    }
}

/// The target's health, asked again every 5 seconds while the page is open.
#[island]
fn LiveHealth(release_id: i64, initial: TargetHealth) -> impl IntoView {
    let lang = use_lang();
    let current = RwSignal::new(initial);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    if let Ok(t) = crate::server_fns::golive::load_target_health(release_id).await {
                        current.set(t);
                    }
                })
            },
            std::time::Duration::from_secs(5),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = release_id;
    move || current.with(|t| health_badge(lang, t))
}

/// The stability hold's time left, counting in the browser; when it runs out while the
/// page is open, the page loads again so that the next step can be recorded.
#[island]
fn HoldTimer(
    until: chrono::DateTime<chrono::Utc>,
    as_of: chrono::DateTime<chrono::Utc>,
    minutes: i64,
    until_text: String,
) -> impl IntoView {
    let lang = use_lang();
    let now = browser_clock(as_of, std::time::Duration::from_secs(1));
    #[cfg(feature = "hydrate")]
    if until > as_of {
        Effect::new(move |_| {
            if now.get() >= until {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }
        });
    }
    view! {
        <p class="hold" data-testid="hold">
            {lang.pick("Stability hold", "Stabilitätsphase")}" ("{minutes}" min): "
            {move || {
                let left = until - now.get();
                if left > chrono::Duration::zero() {
                    format!("{} {} ({} {})", mm_ss(left), lang.pick("left", "verbleibend"), lang.pick("until", "bis"), until_text)
                } else {
                    lang.pick("over", "abgelaufen").to_string()
                }
            }}
        </p>
    }
}

fn mm_ss(left: chrono::Duration) -> String {
    let s = left.num_seconds().max(0);
    format!("{}:{:02}", s / 60, s % 60)
}

#[component]
pub fn GoLivePanel(
    release: Release,
    ov: GoLiveOverview,
    can_steer: bool,
    is_captain: bool,
    acts: GoLiveActions,
) -> impl IntoView {
    let lang = use_lang();
    let id = release.id;
    let now = ov.as_of;
    let going_live = ov.phase == Phase::GoLive;
    let started = ov.progress.started.is_some();
    let freezes = (!ov.freezes.is_empty()).then(|| {
        view! {
            <ul class="freezes" data-testid="freezes">
                {ov.freezes.iter().map(|f| view! {
                    <li><span class="badge warn">"Freeze"</span>" "{berlin_display(&f.starts_at)}" – "{berlin_display(&f.ends_at)}": "{f.reason.clone()}</li>
                }).collect_view()}
            </ul>
        }
    });
    let start = (going_live && !started && can_steer).then(|| {
        let outside = !ov.in_window;
        // The captain may start outside the window with a reason; anything else blocks.
        let hard: Vec<Blocker> = ov
            .start_blockers
            .iter()
            .filter(|b| blocks_despite_override(b, is_captain))
            .cloned()
            .collect();
        let blocked = !hard.is_empty();
        // The captain is the one who may override: say so, not "only the captain".
        let for_captain = Callback::new(move |b: Blocker| match b {
            Blocker::OutsideWindow { .. } if is_captain => Some(
                lang.pick(
                    "Outside the go-live window: you may start with a reason.",
                    "Außerhalb des Go-Live-Fensters: Start mit Begründung möglich.",
                )
                .to_string(),
            ),
            _ => None,
        });
        view! {
            <BlockerList blockers=ov.start_blockers.clone() class="blockers" testid="start-blockers" reword=for_captain/>
            <ActionForm action=acts.start attr:class="stack start-form">
                <input type="hidden" name="release_id" value=id/>
                {(outside && is_captain).then(|| view! {
                    <label>{lang.pick("Reason to start outside the window", "Grund für den Start außerhalb des Fensters")}
                        <input type="text" name="override_reason" required/>
                    </label>
                })}
                <button type="submit" class="primary big" disabled=blocked>{lang.pick("Start go-live", "Go-Live starten")}</button>
            </ActionForm>
        }
    });
    let steps = ov.steps.clone();
    let plan = ov.progress.plan.iter().map(|(p, at)| {
        let who = steps
            .iter()
            .find(|s| s.kind == p.kind && s.stage_pct == p.stage_pct)
            .map(|s| (s.actor.clone(), s.note.clone()));
        view! {
            <li data-step=step_label_key(*p) data-done=at.is_some().to_string() class:done=at.is_some()>
                <span class="step-mark">{if at.is_some() { "✔" } else { "○" }}</span>" "
                {p.label(lang)}
                {at.map(|t| view! { " · "<span class="muted">{berlin_display(&t)}</span> })}
                {who.map(|(by, note)| view! {
                    " · "{by}
                    {(!note.is_empty()).then(|| view! { <div class="muted">{note}</div> })}
                })}
            </li>
        }
    }).collect_view();
    let events = ov
        .steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Start | StepKind::Complete | StepKind::Rollback))
        .map(|s| {
            view! {
                <li data-event=s.kind.as_str()>
                    <strong>{s.kind.label(lang)}</strong>" · "{berlin_display(&s.at)}" · "{s.actor.clone()}
                    {(!s.note.is_empty()).then(|| view! { " — "{s.note.clone()} })}
                </li>
            }
        })
        .collect_view();
    let hold = ov.hold.clone().map(|h| {
        view! {
            <HoldTimer until=h.until as_of=ov.as_of minutes=i64::from(h.minutes) until_text=berlin_display(&h.until)/>
        }
    });
    let next = ov.progress.next.filter(|_| going_live && can_steer).map(|p| {
        let blockers = ov.next_blockers.clone();
        let list = blockers.clone();
        // A hold that ended since the overview was read no longer blocks (the hold timer
        // reloads the page when it ends).
        let blocked = blockers
            .iter()
            .any(|b| !matches!(b, Blocker::HoldRunning { until } if *until <= now));
        let needs_note = note_required(p, &ov.target);
        view! {
            <BlockerList blockers=list class="blockers" testid="step-blockers"/>
            <ActionForm action=acts.step attr:class="stack step-form">
                <input type="hidden" name="release_id" value=id/>
                <input type="hidden" name="step" value=p.kind.as_str()/>
                {p.stage_pct.map(|pct| view! { <input type="hidden" name="stage_pct" value=pct/> })}
                <label>{if needs_note {
                        lang.pick("What you checked (the target is not probed)", "Was geprüft wurde (die Zielumgebung wird nicht überwacht)")
                    } else {
                        lang.pick("Note", "Notiz")
                    }}
                    <input type="text" name="note" required=needs_note/>
                </label>
                <button type="submit" class="primary" data-testid="record-step" disabled=blocked>
                    {lang.pick("Record: ", "Erfassen: ")}{p.label(lang)}
                </button>
            </ActionForm>
        }
    });
    let complete = (going_live && started && ov.progress.next.is_none() && can_steer).then(|| {
        let blocked = !ov.complete_blockers.is_empty();
        view! {
            <BlockerList blockers=ov.complete_blockers.clone() class="blockers" testid="complete-blockers"/>
            <ActionForm action=acts.complete attr:class="inline">
                <input type="hidden" name="release_id" value=id/>
                <button type="submit" class="primary big" disabled=blocked>{lang.pick("Complete go-live", "Go-Live abschließen")}</button>
            </ActionForm>
        }
    });
    view! {
        <section class="card golive" data-testid="go-live">
            <div class="row-between">
                <h2>{lang.pick("Go-live", "Go-Live")}</h2>
                <LiveHealth release_id=id initial=ov.target.clone()/>
            </div>
            <p class="muted">
                {lang.pick("Window", "Fenster")}": "{berlin_display(&release.window_start)}" – "{berlin_display(&release.window_end)}
                {if ov.in_window { lang.pick(" (open now)", " (jetzt offen)") } else { "" }}
            </p>
            {freezes}
            {start}
            <ol class="timeline" data-testid="go-live-plan">{plan}</ol>
            <ul class="events">{events}</ul>
            {hold}
            {next}
            {complete}
        </section>
    }
}

#[component]
pub fn RollbackPanel(release: Release, suggested: bool, acts: GoLiveActions) -> impl IntoView {
    let lang = use_lang();
    let link = |label: &'static str, url: Option<String>| {
        view! {
            <li>{label}": "
                {match url {
                    Some(u) => view! { <a href=u.clone() rel="noopener noreferrer" target="_blank">{u.clone()}</a> }.into_any(),
                    None => view! { <span class="muted">{lang.pick("not linked", "nicht verlinkt")}</span> }.into_any(),
                }}
            </li>
        }
    };
    let l = &release.links;
    view! {
        <section class=if suggested { "card rollback suggested" } else { "card rollback" } data-testid="rollback">
            <h2>{lang.pick("Rollback", "Rollback")}
                {suggested.then(|| view! { " " <super::releases::RollbackSuggested lang/> })}
            </h2>
            <p>{lang.pick(
                "Turn traffic back to Blue at once (or the canary to 0 %), then record it here.",
                "Sofort Traffic zurück auf Blue drehen (oder Canary auf 0 %), dann hier erfassen."
            )}</p>
            <ul>
                {link(lang.pick("Rollback plan", "Rollback-Plan"), l.rollback_plan.clone())}
                {link(lang.pick("Down-migration", "Down-Migration"), l.down_migration.clone())}
                {link(lang.pick("Backup restore", "Backup-Restore"), l.backup_restore.clone())}
                {link(lang.pick("Status page template", "Statuspage-Vorlage"), l.status_page_template.clone())}
                {link(lang.pick("Team channel", "Team-Kanal"), l.chat_channel.clone())}
            </ul>
            <ActionForm action=acts.rollback attr:class="stack rollback-form">
                <input type="hidden" name="release_id" value=release.id/>
                <fieldset>
                    <legend>{lang.pick("Incident communication", "Incident-Kommunikation")}</legend>
                    <label class="check"><input type="checkbox" name="status_page_updated"/>{lang.pick("Status page updated", "Status-Page aktualisiert")}</label>
                    <label class="check"><input type="checkbox" name="team_alerted"/>{lang.pick("Team alerted", "Team alarmiert")}</label>
                </fieldset>
                <label>{lang.pick("Reason for the rollback", "Grund für den Rollback")}
                    <textarea name="reason" rows="2" required></textarea>
                </label>
                // A rollback cannot be taken back: the browser asks for this box first.
                <label class="check"><input type="checkbox" name="confirm" required data-testid="confirm-rollback"/>
                    {lang.pick("Yes, roll this release back now", "Ja, dieses Release jetzt zurückrollen")}</label>
                <button type="submit" class="danger big">{lang.pick("Roll back", "Zurückrollen")}</button>
            </ActionForm>
        </section>
    }
}
