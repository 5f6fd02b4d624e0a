//! The releases list and the form for a new release.

use super::{use_lang, use_user};
use crate::domain::time::berlin_display;
use crate::i18n::{Label, Lang};
use crate::server_fns::releases::{list_releases, CreateRelease};
use leptos::prelude::*;
use leptos_meta::Title;

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

#[component]
pub fn ReleasesPage() -> impl IntoView {
    let lang = use_lang();
    let can_plan = use_user().is_some_and(|u| u.may_plan());
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
                        Err(e) => view! { <p class="alert error">{e.text(lang)}</p> }.into_any(),
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
                                        let first = row.blockers.first().map(|b| b.label(lang));
                                        view! {
                                            <tr data-release=r.id>
                                                <td><a href=format!("/releases/{}", r.id)><strong>{r.title.clone()}</strong></a><br/>
                                                    <span class="muted">{r.version.clone()}" → "{r.environment.clone()}</span></td>
                                                <td><span class=format!("phase phase-{}", r.phase.as_str())>{r.phase.label(lang)}</span>
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
        create
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="alert error" role="alert">{e.text(lang)}</p> })
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

/// The next deadline: which gate is due and when (Europe/Berlin), rendered on the server;
/// the countdown beside it keeps ticking in the browser.
#[component]
pub fn DeadlineNote(
    deadline: crate::domain::release::Deadline,
    class_ok: &'static str,
    class_late: &'static str,
) -> impl IntoView {
    let lang = use_lang();
    let what = format!(
        "{} · {} · ",
        deadline.what.label(lang),
        berlin_display(&deadline.due)
    );
    view! {
        <DeadlineCountdown
            due=deadline.due
            as_of=deadline.as_of
            what
            class_ok=class_ok.to_string()
            class_late=class_late.to_string()
        />
    }
}

/// How long is left until `due` (or how long it is overdue), from the server's clock at
/// render time and the browser's after hydration, every 15 seconds.
#[island]
fn DeadlineCountdown(
    due: chrono::DateTime<chrono::Utc>,
    as_of: chrono::DateTime<chrono::Utc>,
    what: String,
    class_ok: String,
    class_late: String,
) -> impl IntoView {
    use crate::domain::release::Countdown;
    let lang = use_lang();
    let now = browser_clock(as_of, std::time::Duration::from_secs(15));
    let countdown = move || Countdown::between(due, now.get());
    view! {
        <span
            class=move || if countdown().overdue { class_late.clone() } else { class_ok.clone() }
            data-deadline=due.to_rfc3339()
        >
            {what}
            <span class="countdown">{move || countdown().text(lang)}</span>
        </span>
    }
}
