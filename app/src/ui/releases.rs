//! The releases list and the form for a new release.

use super::{use_lang, use_user};
use crate::domain::account::Role;
use crate::domain::release::{Blocker, Phase};
use crate::domain::time::berlin_display;
use crate::i18n::Lang;
use crate::release_actions::{list_releases, CreateRelease};
use leptos::prelude::*;
use leptos_meta::Title;

pub fn phase_label(lang: Lang, p: Phase) -> &'static str {
    match p {
        Phase::Draft => lang.pick("Draft", "Entwurf"),
        Phase::StagingGate => lang.pick("Staging gate", "Staging-Gate"),
        Phase::GoNoGo => lang.pick("Go/No-Go", "Go/No-Go"),
        Phase::GoLive => lang.pick("Go-live", "Go-Live"),
        Phase::Done => lang.pick("Done", "Abgeschlossen"),
        Phase::NoGo => lang.pick("No-go", "No-Go"),
        Phase::RolledBack => lang.pick("Rolled back", "Zurückgerollt"),
    }
}

/// The mark of a release going live while its target environment has an open P1.
#[component]
pub fn RollbackSuggested(lang: Lang) -> impl IntoView {
    view! {
        <span class="badge danger" data-testid="rollback-suggested"
            title=lang.pick("The target environment has an open P1 alert.", "Die Zielumgebung hat einen offenen P1-Alarm.")>
            {lang.pick("Rollback suggested", "Rollback empfohlen")}
        </span>
    }
}

/// Why a gate is closed, in words.
pub fn blocker_text(lang: Lang, b: &Blocker) -> String {
    match b {
        Blocker::WrongPhase { phase } => format!(
            "{} {}",
            lang.pick("Not possible in phase", "Nicht möglich in Phase"),
            phase_label(lang, *phase)
        ),
        Blocker::ItemNotSettled { text, .. } => {
            format!(
                "{}: {text}",
                lang.pick("Checklist item open", "Checklistenpunkt offen")
            )
        }
        Blocker::KnownIssueOpen { key, severity } => format!(
            "{} {} ({})",
            lang.pick("Open known issue", "Offenes bekanntes Problem"),
            key,
            severity.as_str().to_uppercase()
        ),
        Blocker::MissingAssignment { role } => format!(
            "{}: {role}",
            lang.pick("Nobody assigned", "Niemand zugeordnet")
        ),
        Blocker::WindowMissing => lang
            .pick("No go-live window", "Kein Go-Live-Fenster")
            .into(),
        Blocker::BackupTooOld => lang
            .pick(
                "Last backup older than 24 h",
                "Letztes Backup älter als 24 h",
            )
            .into(),
        Blocker::RestoreTestTooOld => lang
            .pick(
                "Last restore test older than 30 days",
                "Letzter Restore-Test älter als 30 Tage",
            )
            .into(),
        Blocker::DownMigrationMissing => lang
            .pick(
                "Down-migration link missing",
                "Link zur Down-Migration fehlt",
            )
            .into(),
        Blocker::OnCallMissing => lang
            .pick("No on-call person named", "Keine On-Call-Person benannt")
            .into(),
        Blocker::SignOffMissing { role } => format!(
            "{}: {role}",
            lang.pick("Sign-off missing", "Freigabe fehlt")
        ),
        Blocker::SignOffStale { role } => format!(
            "{}: {role}",
            lang.pick(
                "Sign-off stale, sign again",
                "Freigabe veraltet, bitte neu freigeben"
            )
        ),
        Blocker::NoGo { role } => format!("No-go: {role}"),
        Blocker::OutsideWindow { start, end } => format!(
            "{} ({} – {}); {}",
            lang.pick(
                "Outside the go-live window",
                "Außerhalb des Go-Live-Fensters"
            ),
            berlin_display(start),
            berlin_display(end),
            lang.pick(
                "only the release captain can override, with a reason",
                "nur der Release Captain kann mit Begründung übersteuern"
            )
        ),
        Blocker::Frozen {
            environment,
            reason,
            until,
        } => format!(
            "{} {environment} {} {}: {reason}",
            lang.pick("Freeze on", "Freeze auf"),
            lang.pick("until", "bis"),
            berlin_display(until)
        ),
        Blocker::GoLiveStarted => lang
            .pick(
                "The go-live has started already",
                "Das Go-Live läuft bereits",
            )
            .into(),
        Blocker::GoLiveNotStarted => lang
            .pick(
                "The go-live has not started",
                "Das Go-Live hat nicht begonnen",
            )
            .into(),
        Blocker::StepOutOfOrder { expected } => match expected {
            Some(next) => format!(
                "{}: {}",
                lang.pick("Next step", "Nächster Schritt"),
                step_label(lang, next)
            ),
            None => lang
                .pick("All steps are recorded", "Alle Schritte sind erfasst")
                .into(),
        },
        Blocker::TargetNotHealthy { environment, state } => format!(
            "{environment} {} ({state})",
            lang.pick("is not healthy", "ist nicht gesund")
        ),
        Blocker::TargetOpenP1 { environment } => format!(
            "{} {environment}",
            lang.pick("Open P1 alert in", "Offener P1-Alert in")
        ),
        Blocker::NoteRequired { environment } => format!(
            "{environment} {}",
            lang.pick(
                "is not probed: note what you checked",
                "wird nicht überwacht: bitte notieren, was geprüft wurde"
            )
        ),
        Blocker::HoldRunning { until } => format!(
            "{} {}",
            lang.pick("Stability hold until", "Stabilitätsphase bis"),
            berlin_display(until)
        ),
        Blocker::PostReleaseOpen { text, .. } => format!(
            "{}: {text}",
            lang.pick("Documentation missing", "Dokumentation fehlt")
        ),
        Blocker::ReasonRequired => lang
            .pick("A reason is required", "Ein Grund ist erforderlich")
            .into(),
    }
}

/// A planned step's name (`canary_stage_50`, `pre_checks`, …) for people.
pub fn step_label(lang: Lang, key: &str) -> String {
    if let Some(pct) = key.strip_prefix("canary_stage_") {
        return format!("{} {pct} %", lang.pick("Canary", "Canary"));
    }
    match key {
        "start" => lang.pick("Start go-live", "Go-Live starten"),
        "pre_checks" => lang.pick(
            "Pre-checks: monitoring and readiness green, backups current",
            "Pre-Checks: Monitoring und Readiness grün, Backups aktuell",
        ),
        "deploy_green" => lang.pick("Deploy to Green", "Deploy in Green"),
        "smoke_tests" => lang.pick("Smoke tests on Green", "Smoke-Tests auf Green"),
        "switch_traffic" => lang.pick("Switch traffic to Green", "Traffic auf Green schalten"),
        "mark_green_prod" => lang.pick("Mark Green as new prod", "Green als neue Prod markieren"),
        "complete" => lang.pick("Go-live completed", "Go-Live abgeschlossen"),
        "rollback" => lang.pick("Rollback", "Rollback"),
        other => other,
    }
    .to_string()
}

#[component]
pub fn ReleasesPage() -> impl IntoView {
    let lang = use_lang();
    let can_plan =
        use_user().is_some_and(|u| u.has_role(Role::Admin) || u.has_role(Role::ReleaseCaptain));
    let rows = Resource::new(|| (), |_| list_releases());
    view! {
        <Title text=lang.pick("Releases", "Releases")/>
        <section class="card">
            <div class="row-between">
                <h1>{lang.pick("Releases", "Releases")}</h1>
                {can_plan.then(|| view! { <a class="button primary" href="/releases/new">{lang.pick("New release", "Neues Release")}</a> })}
            </div>
            <Suspense fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Err(e) => view! { <p class="alert error">{crate::actions::error_text(&e)}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">{lang.pick("No releases yet.", "Noch keine Releases.")}</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="list releases">
                                <thead><tr>
                                    <th>{lang.pick("Release", "Release")}</th>
                                    <th>{lang.pick("Phase", "Phase")}</th>
                                    <th>{lang.pick("Go-live window", "Go-Live-Fenster")}</th>
                                    <th>{lang.pick("Next deadline", "Nächste Frist")}</th>
                                    <th>{lang.pick("Blocked by", "Blockiert durch")}</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|row| {
                                        let r = row.release;
                                        let deadline = row.deadline.map(|d| view! {
                                            <DeadlineNote deadline=d class_ok="badge" class_late="badge warn"/>
                                        });
                                        let blockers = row.blockers.len();
                                        let first = row.blockers.first().map(|b| blocker_text(lang, b));
                                        view! {
                                            <tr data-release=r.id>
                                                <td><a href=format!("/releases/{}", r.id)><strong>{r.title.clone()}</strong></a><br/>
                                                    <span class="muted">{r.version.clone()}" → "{r.environment.clone()}</span></td>
                                                <td><span class=format!("phase phase-{}", r.phase.as_str())>{phase_label(lang, r.phase)}</span>
                                                    {row.rollback_suggested.then(|| view! { " " <RollbackSuggested lang/> })}</td>
                                                <td>{berlin_display(&r.window_start)}</td>
                                                <td>{deadline}</td>
                                                <td>{(blockers > 0).then(|| view! {
                                                    <span>{first}{(blockers > 1).then(|| format!(" (+{})", blockers - 1))}</span>
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn NewReleasePage() -> impl IntoView {
    let lang = use_lang();
    let create = ServerAction::<CreateRelease>::new();
    let error = move || {
        create.value().get().and_then(|r| r.err()).map(
            |e| view! { <p class="alert error" role="alert">{crate::actions::error_text(&e)}</p> },
        )
    };
    view! {
        <Title text=lang.pick("New release", "Neues Release")/>
        <section class="card">
            <h1>{lang.pick("New release", "Neues Release")}</h1>
            {error}
            <ActionForm action=create attr:class="stack" attr:id="new-release">
                <label>{lang.pick("Title", "Titel")}<input type="text" name="title" required maxlength="200"/></label>
                <label>{lang.pick("Version", "Version")}<input type="text" name="version" required maxlength="100"/></label>
                <label>{lang.pick("Target environment", "Zielumgebung")}<input type="text" name="environment" required value="prod"/></label>
                <label>{lang.pick("Window start (Europe/Berlin)", "Fensterbeginn (Europe/Berlin)")}<input type="datetime-local" name="window_start" required/></label>
                <label>{lang.pick("Window end (Europe/Berlin)", "Fensterende (Europe/Berlin)")}<input type="datetime-local" name="window_end" required/></label>
                <label>{lang.pick("Strategy", "Strategie")}
                    <select name="strategy">
                        <option value="blue_green">"Blue/Green"</option>
                        <option value="canary">"Canary 10 % → 50 % → 100 %"</option>
                    </select>
                </label>
                <label>{lang.pick("Release captain (email)", "Release Captain (E-Mail)")}<input type="email" name="release_captain"/></label>
                <label>{lang.pick("Product owner (email)", "Product Owner (E-Mail)")}<input type="email" name="product_owner"/></label>
                <button type="submit" class="primary">{lang.pick("Create release", "Release anlegen")}</button>
            </ActionForm>
        </section>
    }
}

/// The next deadline with a countdown that keeps ticking in the browser: which gate is due,
/// when (Europe/Berlin), and how long is left or how long it is overdue.
/// The time, starting from the server's clock (which rendered the page) and counting on
/// with the browser's after hydration, every `every`.
pub fn browser_clock(
    as_of: chrono::DateTime<chrono::Utc>,
    #[allow(unused_variables)] every: std::time::Duration,
) -> RwSignal<chrono::DateTime<chrono::Utc>> {
    let now = RwSignal::new(as_of);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let tick = move || {
            if let Some(t) = chrono::DateTime::from_timestamp_millis(js_sys::Date::now() as i64) {
                now.set(t);
            }
        };
        tick();
        let handle = set_interval_with_handle(tick, every).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
    now
}

#[component]
pub fn DeadlineNote(
    deadline: crate::domain::release::Deadline,
    class_ok: &'static str,
    class_late: &'static str,
) -> impl IntoView {
    use crate::domain::release::Countdown;
    let lang = use_lang();
    let due = deadline.due;
    let now = browser_clock(deadline.as_of, std::time::Duration::from_secs(15));
    let countdown = move || Countdown::between(due, now.get());
    view! {
        <span
            class=move || if countdown().overdue { class_late } else { class_ok }
            data-deadline=due.to_rfc3339()
        >
            {phase_label(lang, deadline.what)}" · "{berlin_display(&due)}" · "
            <span class="countdown">{move || countdown().text(lang)}</span>
        </span>
    }
}
