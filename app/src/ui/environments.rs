//! `/environments`: what the prober watches, the alert thresholds, the public status page
//! switch and the webhooks. Everyone signed in reads; admins change.

use super::{use_lang, use_user};
use crate::domain::monitoring::Component;
use crate::domain::monitoring_model::{Environment, MonitoringSettings, Webhook};
use crate::domain::notify::EventGroup;
use crate::domain::time::berlin_display;
use crate::i18n::{Label, Lang};
use crate::server_fns::environments::{
    list_environments, load_monitoring_settings, CreateEnvironment, DeleteEnvironment,
    SaveMonitoringSettings,
};
use crate::server_fns::webhooks::{webhook_overview, AddWebhook, RemoveWebhook, SetWebhookEvents};
use leptos::prelude::*;
use leptos_meta::Title;

fn component_select(lang: Lang, name: &'static str, label: &'static str) -> impl IntoView {
    view! {
        <label>{label}
            <select name=name>
                <option value="">{lang.pick("none", "keine")}</option>
                {Component::ALL.into_iter().map(|c| view! { <option value=c.as_str()>{c.label(lang)}</option> }).collect_view()}
            </select>
        </label>
    }
}

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let lang = use_lang();
    let is_admin = use_user().is_some_and(|u| u.is_admin());
    let create = ServerAction::<CreateEnvironment>::new();
    let remove = ServerAction::<DeleteEnvironment>::new();
    let save = ServerAction::<SaveMonitoringSettings>::new();
    let envs = Resource::new(
        move || (create.version().get(), remove.version().get()),
        |_| list_environments(),
    );
    let settings = Resource::new(move || save.version().get(), |_| load_monitoring_settings());
    let failure = move || {
        [
            create.value().get().and_then(|r| r.err()),
            remove.value().get().and_then(|r| r.err()),
            save.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <p class="alert error" role="alert">{e.text(lang)}</p> })
    };
    let add_form = is_admin.then(|| {
        view! {
            <details class="add-environment">
                <summary>{lang.pick("Add an environment", "Umgebung eintragen")}</summary>
                <ActionForm action=create attr:class="stack">
                    <label>{lang.pick("Name", "Name")}<input type="text" name="name" required placeholder="staging"/></label>
                    <label>{lang.pick("Base URL", "Basis-URL")}<input type="text" name="base_url" required placeholder="https://staging.example.com"/></label>
                    <div class="row">
                        <label>{lang.pick("Health path", "Health-Pfad")}<input type="text" name="health_path" value="/health"/></label>
                        <label>{lang.pick("Readiness path", "Readiness-Pfad")}<input type="text" name="readiness_path" value="/readiness"/></label>
                    </div>
                    <div class="row">
                        <label>{lang.pick("Interval (s)", "Intervall (s)")}<input type="text" inputmode="numeric" name="interval_seconds" value="15"/></label>
                        <label>{lang.pick("Timeout (ms)", "Timeout (ms)")}<input type="text" inputmode="numeric" name="timeout_ms" value="2000"/></label>
                        <label>{lang.pick("Expected status", "Erwarteter Status")}<input type="text" inputmode="numeric" name="expected_status" value="200"/></label>
                    </div>
                    <label>{lang.pick("Body must contain (optional)", "Antwort muss enthalten (optional)")}<input type="text" name="body_contains"/></label>
                    <label>{lang.pick("Request headers (Name: value per line; values are write-only)", "Request-Header (Name: Wert pro Zeile; Werte werden nie wieder angezeigt)")}
                        <textarea name="headers" rows="2" autocomplete="off"></textarea>
                    </label>
                    <div class="row">
                        {component_select(lang, "health_component", lang.pick("/health feeds", "/health speist"))}
                        {component_select(lang, "readiness_component", lang.pick("/readiness feeds", "/readiness speist"))}
                    </div>
                    <button type="submit" class="primary">{lang.pick("Add environment", "Umgebung eintragen")}</button>
                </ActionForm>
            </details>
        }
    });
    view! {
        <Title text=lang.pick("Environments", "Umgebungen")/>
        <section class="card">
            <div class="row-between">
                <h1>{lang.pick("Environments", "Umgebungen")}</h1>
                <a href="/status">{lang.pick("Live status", "Live-Status")}</a>
            </div>
            {failure}
            {add_form}
            <Transition fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
                {move || Suspend::new(async move {
                    match envs.await {
                        Err(e) => view! { <p class="alert error">{e.text(lang)}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">{lang.pick("No environments yet.", "Noch keine Umgebungen.")}</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="list environments">
                                <thead><tr>
                                    <th>{lang.pick("Name", "Name")}</th>
                                    <th>{lang.pick("Probes", "Checks")}</th>
                                    <th>{lang.pick("Every", "Alle")}</th>
                                    <th></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|e| view! { <EnvironmentRow e lang is_admin remove/> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                settings.await.ok().map(|s| view! { <Thresholds s lang is_admin save/> })
            })}
        </Transition>
        <Freezes lang is_admin/>
        {is_admin.then(|| view! { <Webhooks lang/> })}
    }
}

/// Freeze windows: everyone sees them, admins add and remove them.
#[component]
fn Freezes(lang: Lang, is_admin: bool) -> impl IntoView {
    use crate::server_fns::freezes::{list_freezes, AddFreeze, RemoveFreeze};
    let add = ServerAction::<AddFreeze>::new();
    let remove = ServerAction::<RemoveFreeze>::new();
    let list = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| list_freezes(),
    );
    let failure = move || {
        [
            add.value().get().and_then(|r| r.err()),
            remove.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <p class="alert error" role="alert">{e.text(lang)}</p> })
    };
    view! {
        <section class="card" data-testid="freeze-windows">
            <h2>{lang.pick("Freeze windows", "Freeze-Fenster")}</h2>
            <p class="muted">{lang.pick(
                "No go-live into an environment while a freeze holds; the reason is shown to the release captain.",
                "Während eines Freezes kein Go-Live in die Umgebung; der Grund wird dem Release Captain angezeigt."
            )}</p>
            {failure}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <p class="alert error">{e.text(lang)}</p> }.into_any(),
                        Ok(v) if v.is_empty() => view! { <p class="muted">{lang.pick("No freeze planned.", "Kein Freeze geplant.")}</p> }.into_any(),
                        Ok(v) => view! {
                            <table class="list">
                                <thead><tr>
                                    <th>{lang.pick("Environment", "Umgebung")}</th>
                                    <th>{lang.pick("From", "Von")}</th>
                                    <th>{lang.pick("To", "Bis")}</th>
                                    <th>{lang.pick("Reason", "Grund")}</th>
                                    <th></th>
                                </tr></thead>
                                <tbody>
                                    {v.into_iter().map(|f| view! {
                                        <tr data-freeze=f.id>
                                            <td>{f.environment.clone()}</td>
                                            <td>{berlin_display(&f.starts_at)}</td>
                                            <td>{berlin_display(&f.ends_at)}</td>
                                            <td>{f.reason.clone()}</td>
                                            <td>{is_admin.then(|| view! {
                                                <ActionForm action=remove attr:class="inline">
                                                    <input type="hidden" name="id" value=f.id/>
                                                    <button type="submit" class="danger">{lang.pick("Remove", "Entfernen")}</button>
                                                </ActionForm>
                                            })}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Transition>
            {is_admin.then(|| view! {
                <ActionForm action=add attr:class="row" attr:id="add-freeze">
                    <label>{lang.pick("Environment", "Umgebung")}<input type="text" name="environment" required/></label>
                    <label>{lang.pick("From (Europe/Berlin)", "Von (Europe/Berlin)")}<input type="datetime-local" name="starts_at" required/></label>
                    <label>{lang.pick("To (Europe/Berlin)", "Bis (Europe/Berlin)")}<input type="datetime-local" name="ends_at" required/></label>
                    <label>{lang.pick("Reason", "Grund")}<input type="text" name="reason" required/></label>
                    <button type="submit">{lang.pick("Add freeze", "Freeze eintragen")}</button>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn EnvironmentRow(
    e: Environment,
    lang: Lang,
    is_admin: bool,
    remove: ServerAction<DeleteEnvironment>,
) -> impl IntoView {
    let (id, e) = (e.id, e.spec);
    let headers = e
        .headers
        .iter()
        .map(|h| match &h.value {
            Some(v) => format!("{}: {v}", h.name),
            None => format!("{}: ••••••", h.name),
        })
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <tr data-environment=e.name.clone()>
            <td><strong>{e.name.clone()}</strong>{(!e.enabled).then(|| view! { " " <span class="badge">{lang.pick("off", "aus")}</span> })}</td>
            <td>
                <code>{format!("{}{}", e.base_url, e.health_path)}</code><br/>
                <code>{format!("{}{}", e.base_url, e.readiness_path)}</code>
                {(!headers.is_empty()).then(|| view! { <div class="muted">{headers}</div> })}
            </td>
            <td>{format!("{} s · {} ms · {}", e.interval_seconds, e.timeout_ms, e.expected_status)}</td>
            <td>
                {is_admin.then(|| view! {
                    <ActionForm action=remove attr:class="inline">
                        <input type="hidden" name="id" value=id/>
                        <button type="submit" class="danger">{lang.pick("Remove", "Entfernen")}</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}

#[component]
fn Thresholds(
    s: MonitoringSettings,
    lang: Lang,
    is_admin: bool,
    save: ServerAction<SaveMonitoringSettings>,
) -> impl IntoView {
    let t = s.thresholds;
    view! {
        <section class="card" data-testid="alert-rules">
            <h2>{lang.pick("Alert rules", "Alarmregeln")}</h2>
            <ActionForm action=save attr:class="stack">
                <fieldset disabled=!is_admin class="plain">
                    <div class="row">
                        <label>{lang.pick("P1: readiness 503 rate above (%)", "P1: Readiness-503-Quote über (%)")}
                            <input type="text" name="readiness_503_pct" value=t.readiness_503_pct.to_string()/></label>
                        <label>{lang.pick("P1: 5xx/error rate above (%)", "P1: 5xx-/Fehlerquote über (%)")}
                            <input type="text" name="error_rate_pct" value=t.error_rate_pct.to_string()/></label>
                        <label>{lang.pick("P1: latency p95 above (ms)", "P1: Latenz p95 über (ms)")}
                            <input type="text" name="latency_p95_ms" value=t.latency_p95_ms.to_string()/></label>
                    </div>
                    <div class="row">
                        <label>{lang.pick("Window (s)", "Zeitfenster (s)")}
                            <input type="text" name="window_seconds" value=t.window_seconds.to_string()/></label>
                        <label>{lang.pick("P2: no success for (s)", "P2: kein Erfolg seit (s)")}
                            <input type="text" name="no_success_seconds" value=t.no_success_seconds.to_string()/></label>
                    </div>
                    <label class="check">
                        <input type="checkbox" name="public_status_page" value="on" checked=s.public_status_page/>
                        {lang.pick("Public status page at /status/public (no sign-in)", "Öffentliche Statusseite unter /status/public (ohne Anmeldung)")}
                    </label>
                    {is_admin.then(|| view! { <button type="submit">{lang.pick("Save rules", "Regeln speichern")}</button> })}
                </fieldset>
            </ActionForm>
        </section>
    }
}

/// A webhook's event groups by their names.
fn events_text(lang: Lang, events: &[String]) -> String {
    events
        .iter()
        .map(|e| match EventGroup::parse(e) {
            Some(g) => g.label(lang).to_string(),
            None => e.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
fn Webhooks(lang: Lang) -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let remove = ServerAction::<RemoveWebhook>::new();
    let set_events = ServerAction::<SetWebhookEvents>::new();
    let overview = Resource::new(
        move || {
            (
                add.version().get(),
                remove.version().get(),
                set_events.version().get(),
            )
        },
        |_| webhook_overview(),
    );
    let failure = move || {
        [
            add.value().get().and_then(|r| r.err()),
            remove.value().get().and_then(|r| r.err()),
            set_events.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <p class="alert error" role="alert">{e.text(lang)}</p> })
    };
    view! {
        <section class="card" data-testid="webhooks">
            <h2>{lang.pick("Webhooks", "Webhooks")}</h2>
            {failure}
            <ActionForm action=add attr:class="row">
                <label>{lang.pick("Name", "Name")}<input type="text" name="name" required/></label>
                <label>{lang.pick("URL", "URL")}<input type="text" name="url" required placeholder="https://hooks.example.com/…"/></label>
                <label>{lang.pick("Format", "Format")}
                    <select name="format">
                        <option value="json">"JSON"</option>
                        <option value="slack">{lang.pick("Slack-compatible", "Slack-kompatibel")}</option>
                        <option value="teams">"Microsoft Teams"</option>
                    </select>
                </label>
                <fieldset class="roles" data-testid="webhook-events">
                    <legend>{lang.pick("Events", "Ereignisse")}</legend>
                    {Webhook::DEFAULT_EVENTS.into_iter().map(|g| view! {
                        <label class="check">
                            <input type="checkbox" name="events[]" value=g.as_str() checked=true/>
                            {g.label(lang)}
                        </label>
                    }).collect_view()}
                </fieldset>
                <button type="submit">{lang.pick("Add webhook", "Webhook hinzufügen")}</button>
            </ActionForm>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match overview.await {
                        Err(e) => view! { <p class="alert error">{e.text(lang)}</p> }.into_any(),
                        Ok((hooks, failed)) => view! {
                            <ul>
                                {hooks.into_iter().map(|h| view! {
                                    <li>
                                        <strong>{h.name.clone()}</strong>" "<code>{h.url.clone()}</code>" ("{h.format.clone()}") "
                                        <span class="muted" data-testid="webhook-events-list">{events_text(lang, &h.events)}</span>" "
                                        <ActionForm action=remove attr:class="inline">
                                            <input type="hidden" name="id" value=h.id/>
                                            <button type="submit" class="link-button">{lang.pick("remove", "entfernen")}</button>
                                        </ActionForm>
                                        <details>
                                            <summary>{lang.pick("Change events", "Ereignisse ändern")}</summary>
                                            <ActionForm action=set_events attr:class="row"
                                                attr:data-testid=format!("webhook-events-{}", h.id)
                                                attr:data-ok=lang.pick("Webhook events saved.", "Webhook-Ereignisse gespeichert.")>
                                                <input type="hidden" name="id" value=h.id/>
                                                {Webhook::DEFAULT_EVENTS.into_iter().map(|g| view! {
                                                    <label class="check">
                                                        <input type="checkbox" name="events[]" value=g.as_str()
                                                            checked=h.events.iter().any(|e| e == g.as_str())/>
                                                        {g.label(lang)}
                                                    </label>
                                                }).collect_view()}
                                                <button type="submit">{lang.pick("Save", "Speichern")}</button>
                                            </ActionForm>
                                        </details>
                                    </li>
                                }).collect_view()}
                            </ul>
                            <h3>{lang.pick("Failed deliveries", "Fehlgeschlagene Zustellungen")}</h3>
                            <p><a href="/admin/outbox?channel=webhook">{lang.pick("All messages in the outbox", "Alle Nachrichten im Postausgang")}</a></p>
                            {if failed.is_empty() {
                                view! { <p class="muted">{lang.pick("None.", "Keine.")}</p> }.into_any()
                            } else {
                                view! {
                                    <ul data-testid="failed-deliveries">
                                        {failed.into_iter().map(|d| view! {
                                            <li>
                                                {berlin_display(&d.created_at)}" · "{d.recipient.clone()}" · "{d.event.clone()}
                                                " · "{d.attempts}{lang.pick(" attempts", " Versuche")}
                                                " · "<span class="muted">{d.outcome.clone().unwrap_or_default()}</span>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
