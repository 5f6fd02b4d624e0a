//! `/admin/outbox`: every e-mail and team-channel message Shipgate queued, newest first,
//! for admins to see what went out, what is waiting, what failed and what was skipped.
//! Filtered by links, so it works without JavaScript.

use super::admin::needs_admin;
use super::{use_lang, use_user};
use crate::domain::archive_model::percent_encode;
use crate::domain::notify::{OutboxEntry, OUTBOX_CHANNELS, OUTBOX_STATES};
use crate::domain::time::berlin_display;
use crate::i18n::Lang;
use crate::server_fns::notifications::list_outbox;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn state_label(lang: Lang, state: &str) -> String {
    match state {
        "pending" => lang.pick("pending", "ausstehend"),
        "delivered" => lang.pick("delivered", "zugestellt"),
        "failed" => lang.pick("failed", "fehlgeschlagen"),
        "skipped" => lang.pick("skipped", "übersprungen"),
        other => other,
    }
    .to_string()
}

fn channel_label(lang: Lang, channel: &str) -> String {
    match channel {
        "email" => lang.pick("E-mail", "E-Mail"),
        "webhook" => lang.pick("Team channel", "Team-Kanal"),
        other => other,
    }
    .to_string()
}

/// The page with these filters (empty: not filtered).
fn outbox_link(state: &str, channel: &str) -> String {
    let pairs: Vec<String> = [("state", state), ("channel", channel)]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    if pairs.is_empty() {
        "/admin/outbox".into()
    } else {
        format!("/admin/outbox?{}", pairs.join("&"))
    }
}

/// One row of filter links: "all" and each value, the current one marked.
fn filter_links(
    lang: Lang,
    label: &'static str,
    current: String,
    values: &'static [&'static str],
    link: impl Fn(&str) -> String,
    name: fn(Lang, &str) -> String,
) -> impl IntoView {
    let all = std::iter::once(("", lang.pick("all", "alle").to_string()));
    let options = all.chain(values.iter().map(move |v| (*v, name(lang, v))));
    let links = options
        .map(|(value, text)| {
            let here = current == value;
            view! {
                " "
                <a href=link(value) aria-current=here.then_some("page") class:badge=here>{text}</a>
            }
        })
        .collect_view();
    view! { <p class="filters">{label}": "{links}</p> }
}

#[component]
pub fn OutboxPage() -> impl IntoView {
    let lang = use_lang();
    if !use_user().is_some_and(|u| u.is_admin()) {
        return needs_admin(lang, lang.pick("Outbox", "Postausgang"));
    }
    let query = use_query_map();
    let raw = move |k: &'static str| query.with(|m| m.get(k).unwrap_or_default());
    let rows = Resource::new(
        move || (raw("state"), raw("channel")),
        |(state, channel): (String, String)| list_outbox(state, channel),
    );
    let filters = move || {
        let (state, channel) = (raw("state"), raw("channel"));
        let (s, c) = (state.clone(), channel.clone());
        view! {
            <nav aria-label=lang.pick("Filters", "Filter")>
                {filter_links(lang, lang.pick("State", "Zustand"), state, &OUTBOX_STATES,
                    move |v| outbox_link(v, &c), state_label)}
                {filter_links(lang, lang.pick("Channel", "Kanal"), channel, &OUTBOX_CHANNELS,
                    move |v| outbox_link(&s, v), channel_label)}
            </nav>
        }
    };

    view! {
        <Title text=lang.pick("Outbox", "Postausgang")/>
        <section class="card">
            <div class="row-between">
                <h1>{lang.pick("Outbox", "Postausgang")}</h1>
                <a href="/admin">{lang.pick("Users", "Benutzer")}</a>
            </div>
            <p class="muted">
                {lang.pick(
                    "Every e-mail and team-channel message, newest first (the latest 200). Failed ones were given up after their retries; skipped ones no longer applied when they were due.",
                    "Jede E-Mail und jede Nachricht an Team-Kanäle, die neueste zuerst (die letzten 200). Fehlgeschlagene wurden nach ihren Wiederholungen aufgegeben; übersprungene trafen bei Fälligkeit nicht mehr zu.",
                )}
            </p>
            {filters}
            <Transition fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Err(e) => view! { <p class="alert error" role="alert">{e.text(lang)}</p> }.into_any(),
                        Ok(rows) => view! { <OutboxTable lang rows/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn OutboxTable(lang: Lang, rows: Vec<OutboxEntry>) -> impl IntoView {
    let empty = rows.is_empty().then(|| {
        view! {
            <p class="muted" data-testid="outbox-empty">
                {lang.pick("Nothing in the outbox matches.", "Nichts im Postausgang passt.")}
            </p>
        }
    });
    view! {
        <table class="list outbox" data-testid="outbox">
            <thead><tr>
                <th>{lang.pick("Created", "Erstellt")}</th>
                <th>{lang.pick("Channel", "Kanal")}</th>
                <th>{lang.pick("Recipient", "Empfänger")}</th>
                <th>{lang.pick("Event", "Ereignis")}</th>
                <th>{lang.pick("Release", "Release")}</th>
                <th>{lang.pick("State", "Zustand")}</th>
                <th>{lang.pick("Attempts", "Versuche")}</th>
                <th>{lang.pick("Outcome", "Ergebnis")}</th>
                <th>{lang.pick("Next attempt / delivered", "Nächster Versuch / zugestellt")}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|e| view! { <OutboxRow lang e/> }).collect_view()}
            </tbody>
        </table>
        {empty}
    }
}

#[component]
fn OutboxRow(lang: Lang, e: OutboxEntry) -> impl IntoView {
    let release = e.release_id.map(|id| {
        view! { <a href=format!("/releases/{id}")>{format!("#{id}")}</a> }
    });
    let when = match (e.delivered_at, e.state.as_str()) {
        (Some(at), _) => format!(
            "{} {}",
            lang.pick("delivered", "zugestellt"),
            berlin_display(&at)
        ),
        (None, "pending") => format!(
            "{} {}",
            lang.pick("next", "nächster"),
            berlin_display(&e.next_attempt_at)
        ),
        (None, _) => "–".to_string(),
    };
    view! {
        <tr data-testid="outbox-row" data-state=e.state.clone() data-channel=e.channel.clone()>
            <td>{berlin_display(&e.created_at)}</td>
            <td>{channel_label(lang, &e.channel)}</td>
            <td class="long">{e.recipient}</td>
            <td><code>{e.event}</code></td>
            <td>{release}</td>
            <td><span class=format!("badge outbox-{}", e.state)>{state_label(lang, &e.state)}</span></td>
            <td>{e.attempts}</td>
            <td class="long muted">{e.outcome.unwrap_or_default()}</td>
            <td>{when}</td>
        </tr>
    }
}
