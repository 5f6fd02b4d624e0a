//! `/status`: releases in flight and every environment's health, for the whole team, on
//! a wall screen or a phone. The server renders the current snapshot; in the browser a
//! server-sent event stream replaces it whenever it changes, without a reload.
//! `/status/public`: the components only, without signing in, when switched on.

use super::charts::sparkline_points;
use super::releases::{DeadlineNote, RollbackSuggested};
use super::use_lang;
use crate::domain::monitoring::HealthState;
use crate::domain::monitoring_model::{
    ComponentStatus, EndpointStatus, EnvironmentStatus, ReleaseInFlight, StatusSnapshot,
};
use crate::domain::release::Phase;
use crate::domain::time::berlin_display;
use crate::i18n::{Label, Lang};
use crate::server_fns::status::{load_public_status, load_status};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn StatusPage() -> impl IntoView {
    let lang = use_lang();
    let first = Resource::new(|| (), |_| load_status());
    view! {
        <Title text=lang.pick("Live status", "Live-Status")/>
        <Suspense fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Err(e) => view! { <section class="card"><p class="alert error">{e.text(lang)}</p></section> }.into_any(),
                    Ok(s) => {
                        let version = s.version;
                        view! {
                            <div class="status-board" data-live="waiting" data-version=version.to_string()>
                                <Board s lang/>
                            </div>
                            <StatusStream version/>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// Follows the status stream: when a newer snapshot is announced, the board is rendered
/// again by the server and swapped in place (the page is not reloaded, and the browser
/// carries no rendering code for it).
#[island]
fn StatusStream(version: u64) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| stream::follow(version));
    #[cfg(not(feature = "hydrate"))]
    let _ = version;
}

#[cfg(feature = "hydrate")]
mod stream {
    use std::cell::Cell;
    use std::rc::Rc;
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};

    #[derive(serde::Deserialize)]
    struct Announced {
        version: u64,
    }

    fn board() -> Option<web_sys::Element> {
        web_sys::window()?
            .document()?
            .query_selector(".status-board")
            .ok()
            .flatten()
    }

    fn set_live(state: &str) {
        if let Some(b) = board() {
            let _ = b.set_attribute("data-live", state);
        }
    }

    pub fn follow(initial: u64) {
        let Ok(source) = web_sys::EventSource::new("/api/v1/status/stream") else {
            return;
        };
        let shown = Rc::new(Cell::new(initial));
        let on_status =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                set_live("connected");
                let Some(version) = e
                    .data()
                    .as_string()
                    .and_then(|t| serde_json::from_str::<Announced>(&t).ok())
                    .map(|a| a.version)
                else {
                    return;
                };
                if version != shown.get() {
                    shown.set(version);
                    refresh();
                }
            });
        let on_open = Closure::<dyn FnMut()>::new(move || set_live("connected"));
        let on_error = Closure::<dyn FnMut()>::new(move || set_live("waiting"));
        let _ =
            source.add_event_listener_with_callback("status", on_status.as_ref().unchecked_ref());
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_status.forget();
        on_open.forget();
        on_error.forget();
    }

    /// Asks the server for the page again and puts its board in place of this one.
    fn refresh() {
        let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
            return;
        };
        if xhr.open_with_async("GET", "/status", true).is_err() {
            return;
        }
        let _ = xhr.set_request_header("Accept", "text/html");
        let x = xhr.clone();
        let done = Closure::<dyn FnMut()>::new(move || {
            if x.status().unwrap_or(0) != 200 {
                return;
            }
            let Some(html) = x.response_text().ok().flatten() else {
                return;
            };
            let Ok(parser) = web_sys::DomParser::new() else {
                return;
            };
            let Ok(doc) = parser.parse_from_string(&html, web_sys::SupportedType::TextHtml) else {
                return;
            };
            let (Ok(Some(fresh)), Some(old)) = (doc.query_selector(".status-board"), board())
            else {
                return;
            };
            old.set_inner_html(&fresh.inner_html());
            if let Some(v) = fresh.get_attribute("data-version") {
                let _ = old.set_attribute("data-version", &v);
            }
            hydrate_islands_in(&old);
        });
        xhr.set_onloadend(Some(done.as_ref().unchecked_ref()));
        done.forget();
        let _ = xhr.send();
    }

    /// The countdowns inside the new board are islands too: hydrate them.
    fn hydrate_islands_in(root: &web_sys::Element) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let Ok(hydrate) = js_sys::Reflect::get(&window, &JsValue::from_str("__hydrateIsland"))
        else {
            return;
        };
        let Ok(hydrate) = hydrate.dyn_into::<js_sys::Function>() else {
            return;
        };
        let Ok(islands) = root.query_selector_all("leptos-island") else {
            return;
        };
        for i in 0..islands.length() {
            if let Some(el) = islands
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                let id = el.get_attribute("data-component").unwrap_or_default();
                let _ = hydrate.call2(&window, &el, &JsValue::from_str(&id));
            }
        }
    }
}

#[component]
fn Board(s: StatusSnapshot, lang: Lang) -> impl IntoView {
    let updated = if s.version == 0 {
        lang.pick("not yet", "noch nicht").to_string()
    } else {
        berlin_display(&s.generated_at)
    };
    let phases = [
        Phase::GoLive,
        Phase::GoNoGo,
        Phase::StagingGate,
        Phase::Draft,
    ];
    let releases = phases
        .into_iter()
        .filter_map(|phase| {
            let rows: Vec<ReleaseInFlight> = s
                .releases
                .iter()
                .filter(|r| r.phase == phase)
                .cloned()
                .collect();
            (!rows.is_empty()).then(|| {
                view! {
                    <h3>{phase.label(lang)}</h3>
                    <ul class="in-flight">
                        {rows.into_iter().map(|r| view! { <ReleaseLine r lang/> }).collect_view()}
                    </ul>
                }
            })
        })
        .collect_view();
    let no_releases = s.releases.is_empty().then(|| {
        view! { <p class="muted">{lang.pick("No releases in flight.", "Keine laufenden Releases.")}</p> }
    });
    let no_envs = s.environments.is_empty().then(|| {
        view! {
            <p class="muted">
                {lang.pick("No environments are probed yet. ", "Noch werden keine Umgebungen geprüft. ")}
                <a href="/environments">{lang.pick("Add one", "Umgebung eintragen")}</a>
            </p>
        }
    });
    view! {
        <section class="card">
            <div class="row-between">
                <h1>{lang.pick("Live status", "Live-Status")}</h1>
                <small class="muted">{lang.pick("Updated ", "Stand ")}{updated}</small>
            </div>
            <Components list=s.components.clone() lang/>
        </section>
        <section class="card" data-testid="releases-in-flight">
            <h2>{lang.pick("Releases in flight", "Laufende Releases")}</h2>
            {no_releases}
            {releases}
        </section>
        <section class="card" data-testid="environments">
            <h2>{lang.pick("Environments", "Umgebungen")}</h2>
            {no_envs}
            <div class="env-grid">
                {s.environments.into_iter().map(|e| view! { <EnvironmentCard e lang/> }).collect_view()}
            </div>
        </section>
    }
}

#[component]
fn ReleaseLine(r: ReleaseInFlight, lang: Lang) -> impl IntoView {
    let deadline = r
        .next_deadline
        .clone()
        .map(|d| view! { <DeadlineNote deadline=d class_ok="badge" class_late="badge warn"/> });
    let blockers = r.blockers.len();
    let first = r.blockers.first().map(|b| b.label(lang));
    view! {
        <li data-release=r.id.to_string()>
            <a href=format!("/releases/{}", r.id)><strong>{r.title.clone()}</strong></a>
            " " <span class="muted">{r.version.clone()}" → "{r.environment.clone()}</span>
            " " {r.rollback_suggested.then(|| view! { <RollbackSuggested lang/> })}
            <div>
                {deadline}
                {(blockers > 0).then(|| view! {
                    <span class="muted">{lang.pick("Blocked: ", "Blockiert: ")}{first}{(blockers > 1).then(|| format!(" (+{})", blockers - 1))}</span>
                })}
            </div>
        </li>
    }
}

fn state_class(s: HealthState) -> String {
    format!("health health-{}", s.as_str())
}

#[component]
fn Components(list: Vec<ComponentStatus>, lang: Lang) -> impl IntoView {
    (!list.is_empty()).then(|| {
        view! {
            <ul class="components">
                {list.into_iter().map(|c| view! {
                    <li data-component=c.component.as_str()>
                        {c.component.label(lang)}" "
                        <span class=state_class(c.state)>{c.state.label(lang)}</span>
                    </li>
                }).collect_view()}
            </ul>
        }
    })
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2} %")).unwrap_or_else(|| "–".into())
}

fn ms(v: Option<i32>) -> String {
    v.map(|v| format!("{v} ms")).unwrap_or_else(|| "–".into())
}

#[component]
fn EnvironmentCard(e: EnvironmentStatus, lang: Lang) -> impl IntoView {
    let alerts = e.open_alerts.clone();
    view! {
        <article class="env" data-environment=e.name.clone() data-state=e.state.as_str()>
            <div class="row-between">
                <h3>{e.name.clone()}</h3>
                <span class=state_class(e.state) data-testid="env-state">{e.state.label(lang)}</span>
            </div>
            {(!e.enabled).then(|| view! { <p class="muted">{lang.pick("Probing is switched off.", "Die Checks sind ausgeschaltet.")}</p> })}
            {e.endpoints.into_iter().map(|p| view! { <EndpointLine p lang/> }).collect_view()}
            {(!alerts.is_empty()).then(|| view! {
                <ul class="alerts" data-testid="open-alerts">
                    {alerts.into_iter().map(|a| view! {
                        <li class=format!("alert-{}", a.severity.as_str())>
                            <strong>{a.severity.label(lang)}</strong>" "{a.rule.label(lang)}
                            " · "{a.message.clone()}" · "{lang.pick("since ", "seit ")}{berlin_display(&a.opened_at)}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </article>
    }
}

#[component]
fn EndpointLine(p: EndpointStatus, lang: Lang) -> impl IntoView {
    let points = sparkline_points(&p.sparkline, 120.0, 24.0);
    let last = p
        .last_checked_at
        .map(|t| berlin_display(&t))
        .unwrap_or_else(|| lang.pick("never", "nie").to_string());
    let detail = match (&p.last_status, &p.last_error) {
        (_, Some(err)) => err.clone(),
        (Some(s), None) => format!("HTTP {s}"),
        (None, None) => String::new(),
    };
    view! {
        <div class="endpoint" data-kind=p.kind.as_str() data-state=p.state.as_str()>
            <div class="row-between">
                <span><code>"/"{p.kind.as_str()}</code>" "<span class=state_class(p.state)>{p.state.label(lang)}</span></span>
                <svg class="sparkline" viewBox="0 0 120 24" width="120" height="24" role="img"
                    aria-label=lang.pick("Latency p95, last 30 minutes", "Latenz p95, letzte 30 Minuten")>
                    <polyline points=points fill="none" stroke="currentColor" stroke-width="1.5"/>
                </svg>
            </div>
            <dl class="facts small">
                <dt>"p50 / p95 / p99"</dt><dd>{ms(p.p50_ms)}" / "{ms(p.p95_ms)}" / "{ms(p.p99_ms)}</dd>
                <dt>{lang.pick("Errors (alert window)", "Fehler (Alarmfenster)")}</dt><dd>{pct(p.error_rate_pct)}" · 503: "{pct(p.rate_503_pct)}</dd>
                <dt>{lang.pick("Uptime 24 h / 7 d / 30 d", "Verfügbarkeit 24 h / 7 T. / 30 T.")}</dt>
                <dd>{pct(p.uptime_24h)}" / "{pct(p.uptime_7d)}" / "{pct(p.uptime_30d)}</dd>
                <dt>{lang.pick("Last check", "Letzter Check")}</dt><dd>{last}" "<span class="muted">{detail}</span></dd>
                <dt>{lang.pick("State since", "Zustand seit")}</dt><dd>{berlin_display(&p.state_since)}</dd>
            </dl>
        </div>
    }
}

/// The public status page: components only, no login. Switched off, it is not there.
#[component]
pub fn PublicStatusPage() -> impl IntoView {
    let lang = use_lang();
    let status = Resource::new(|| (), |_| load_public_status());
    view! {
        <Title text=lang.pick("Status", "Status")/>
        <Transition fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(Some(s)) => view! {
                        <section class="card">
                            <h1>{lang.pick("Service status", "Dienststatus")}</h1>
                            <Components list=s.components lang/>
                            <p class="muted">{lang.pick("As of ", "Stand ")}{berlin_display(&s.generated_at)}</p>
                        </section>
                    }.into_any(),
                    Ok(None) => {
                        #[cfg(feature = "ssr")]
                        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                            resp.set_status(http::StatusCode::NOT_FOUND);
                        }
                        view! {
                            <section class="card">
                                <h1>{lang.pick("Page not found", "Seite nicht gefunden")}</h1>
                            </section>
                        }.into_any()
                    }
                    Err(e) => view! { <section class="card"><p class="alert error">{e.text(lang)}</p></section> }.into_any(),
                }
            })}
        </Transition>
    }
}
