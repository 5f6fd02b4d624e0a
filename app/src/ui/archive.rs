//! `/archive`: ended releases found by words, outcome, environment, days and people, and
//! `/delivery`: delivery metrics per month. Both are GET forms and links, so they work
//! without JavaScript; hydrated, the router swaps pages in place.

use super::charts::{chart, STACK};
use super::use_lang;
use crate::server_fns::archive::{archive_choices, search_archive};
use crate::server_fns::metrics::release_metrics;
use crate::server_fns::Refusal;
// The component below is called `ArchivePage` like the route; the data is `model::ArchivePage`.
use crate::domain::archive_model::{self as model, ArchiveEntry, ArchiveQuery, MonthMetrics};
use crate::domain::release::Phase;
use crate::domain::time::berlin_display;
use crate::i18n::{Label, Lang};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The delivery view's period unless the link says otherwise.
const DEFAULT_MONTHS: u32 = 12;
const MONTH_CHOICES: [u32; 3] = [6, 12, 24];

fn param_label(lang: Lang, field: &str) -> &'static str {
    match field {
        "from" => lang.pick("From", "Von"),
        "to" => lang.pick("To", "Bis"),
        "page" => lang.pick("Page", "Seite"),
        _ => lang.pick("Search", "Suche"),
    }
}

fn archive_link(q: &ArchiveQuery, page: u32) -> String {
    let qs = q.with_page(page).query_string();
    if qs.is_empty() {
        "/archive".into()
    } else {
        format!("/archive?{qs}")
    }
}

#[component]
pub fn ArchivePage() -> impl IntoView {
    let lang = use_lang();
    let params = use_query_map();
    // The form shows what the link says, readable or not, so a typo can be corrected.
    let raw = move |k: &'static str| params.with(|m| m.get(k).unwrap_or_default());
    let query = Memo::new(move |_| params.with(|m| ArchiveQuery::from_params(|k| m.get(k))));
    let results = Resource::new(
        move || query.get(),
        move |q| async move {
            match q {
                Ok(q) => search_archive(q.clone()).await.map(|page| (q, page)),
                Err(e) => Err(Refusal::new(
                    422,
                    "validation_failed",
                    format!("{}: {}", param_label(Lang::En, e.field), e.en),
                    format!("{}: {}", param_label(Lang::De, e.field), e.de),
                )),
            }
        },
    );
    let choices = Resource::new(|| (), |_| archive_choices());
    view! {
        <Title text=lang.pick("Archive", "Archiv")/>
        <section class="card archive">
            <div class="row-between">
                <h1>{lang.pick("Release archive", "Release-Archiv")}</h1>
                <a href="/delivery">{lang.pick("Delivery metrics", "Liefer-Kennzahlen")}</a>
            </div>
            <form method="get" action="/archive" class="archive-search" role="search">
                <label class="wide">{lang.pick("Search", "Suche")}
                    <input type="search" name="q" value=move || raw("q") maxlength="200"
                        placeholder=lang.pick("Title, version, commit, notes, known issues", "Titel, Version, Commit, Notizen, bekannte Probleme")/>
                </label>
                <label>{lang.pick("Outcome", "Ergebnis")}
                    <select name="outcome">
                        <option value="" selected=move || raw("outcome").is_empty()>{lang.pick("All", "Alle")}</option>
                        {STACK.into_iter().map(|p| view! {
                            <option value=p.as_str() selected=move || raw("outcome") == p.as_str()>{p.label(lang)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>{lang.pick("Environment", "Umgebung")}
                    <input type="text" name="environment" list="archive-environments" autocomplete="off"
                        value=move || raw("environment")/>
                </label>
                <label>{lang.pick("From (Europe/Berlin)", "Von (Europe/Berlin)")}
                    <input type="date" name="from" value=move || raw("from")/>
                </label>
                <label>{lang.pick("To (Europe/Berlin)", "Bis (Europe/Berlin)")}
                    <input type="date" name="to" value=move || raw("to")/>
                </label>
                <label>{lang.pick("Person (email)", "Person (E-Mail)")}
                    <input type="email" name="person" list="archive-people" autocomplete="off"
                        value=move || raw("person")/>
                </label>
                <button type="submit" class="primary">{lang.pick("Search", "Suchen")}</button>
            </form>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let (environments, people) = choices.await.unwrap_or_default();
                    view! {
                        <datalist id="archive-environments">
                            {environments.into_iter().map(|e| view! { <option value=e/> }).collect_view()}
                        </datalist>
                        <datalist id="archive-people">
                            {people.into_iter().map(|e| view! { <option value=e/> }).collect_view()}
                        </datalist>
                    }
                })}
            </Transition>
            <Transition fallback=move || view! { <p class="muted">{lang.pick("Searching…", "Sucht …")}</p> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Err(e) => view! { <p class="alert error" role="alert">{e.text(lang)}</p> }.into_any(),
                        Ok((q, page)) => view! { <ArchiveResults q page lang/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ArchiveResults(q: ArchiveQuery, page: model::ArchivePage, lang: Lang) -> impl IntoView {
    let count = if page.total_capped {
        format!("{}+", page.total)
    } else {
        page.total.to_string()
    };
    let noun = if page.total == 1 && !page.total_capped {
        lang.pick("release", "Release")
    } else {
        lang.pick("releases", "Releases")
    };
    let pages = (page.total.max(0) as u64)
        .div_ceil(u64::from(page.per_page.max(1)))
        .max(1) as u32;
    let previous = (page.page > 1).then(|| archive_link(&q, page.page - 1));
    let next = (page.page < pages).then(|| archive_link(&q, page.page + 1));
    let nav = (previous.is_some() || next.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label=lang.pick("Pages", "Seiten")>
                {previous.map(|href| view! { <a rel="prev" href=href>{lang.pick("← Previous", "← Zurück")}</a> })}
                <span class="muted">{format!("{} {} / {}", lang.pick("Page", "Seite"), page.page, pages)}</span>
                {next.map(|href| view! { <a rel="next" href=href>{lang.pick("Next →", "Weiter →")}</a> })}
            </nav>
        }
    });
    let body = if page.entries.is_empty() {
        view! {
            <p class="muted" data-testid="archive-empty">
                {if page.total == 0 {
                    lang.pick(
                        "No ended release matches this search.",
                        "Kein abgeschlossenes Release passt zu dieser Suche.",
                    )
                } else {
                    lang.pick("This page is past the last match.", "Diese Seite liegt hinter dem letzten Treffer.")
                }}
            </p>
        }
        .into_any()
    } else {
        view! {
            <table class="list archive">
                <thead><tr>
                    <th>{lang.pick("Release", "Release")}</th>
                    <th>{lang.pick("Version", "Version")}</th>
                    <th>{lang.pick("Commit", "Commit")}</th>
                    <th>{lang.pick("Environment", "Umgebung")}</th>
                    <th>{lang.pick("Outcome", "Ergebnis")}</th>
                    <th>{lang.pick("Ended", "Beendet")}</th>
                    <th>{lang.pick("People", "Personen")}</th>
                    <th></th>
                </tr></thead>
                <tbody>
                    {page.entries.into_iter().map(|e| view! { <ArchiveRow e lang/> }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <p class="archive-count" data-testid="archive-count">{format!("{count} {noun}")}</p>
        {body}
        {nav}
    }
}

#[component]
fn ArchiveRow(e: ArchiveEntry, lang: Lang) -> impl IntoView {
    let id = e.release_id;
    let short = e
        .commit_sha
        .as_deref()
        .map(|s| s.chars().take(7).collect::<String>())
        .unwrap_or_default();
    view! {
        <tr data-release=id data-outcome=e.outcome.as_str()>
            <td><a href=format!("/releases/{id}")>{e.title.clone()}</a></td>
            <td>{e.version.clone()}</td>
            <td><code title=e.commit_sha.clone().unwrap_or_default()>{short}</code></td>
            <td>{e.environment.clone()}</td>
            <td><span class=format!("phase phase-{}", e.outcome.as_str())>{e.outcome.label(lang)}</span></td>
            <td>{berlin_display(&e.ended_at)}</td>
            <td class="people">{e.people.join(", ")}</td>
            <td><a href=format!("/releases/{id}/dossier")>{lang.pick("Dossier", "Dossier")}</a></td>
        </tr>
    }
}

/// `2026-11` → "November 2026".
fn month_label(lang: Lang, key: &str) -> String {
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DE: [&str; 12] = [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ];
    let month = key
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .filter(|m| (1..=12).contains(m));
    match (key.get(0..4), month) {
        (Some(year), Some(m)) => {
            let names = match lang {
                Lang::En => EN,
                Lang::De => DE,
            };
            format!("{} {year}", names[m - 1])
        }
        _ => key.to_string(),
    }
}

/// One decimal, with the language's decimal mark; "–" for nothing to show.
fn decimal(lang: Lang, v: Option<f64>, unit: &str) -> String {
    match v {
        None => "–".into(),
        Some(v) => {
            let s = format!("{v:.1}");
            let s = match lang {
                Lang::En => s,
                Lang::De => s.replace('.', ","),
            };
            format!("{s} {unit}")
        }
    }
}

#[component]
pub fn DeliveryPage() -> impl IntoView {
    let lang = use_lang();
    let params = use_query_map();
    let months = Memo::new(move |_| {
        params.with(|m| {
            m.get("months")
                .and_then(|v| v.trim().parse::<u32>().ok())
                .unwrap_or(DEFAULT_MONTHS)
        })
    });
    let metrics = Resource::new(move || months.get(), release_metrics);
    view! {
        <Title text=lang.pick("Delivery metrics", "Liefer-Kennzahlen")/>
        <section class="card delivery">
            <div class="row-between">
                <h1>{lang.pick("Delivery metrics", "Liefer-Kennzahlen")}</h1>
                <a href="/archive">{lang.pick("Release archive", "Release-Archiv")}</a>
            </div>
            <form method="get" action="/delivery" class="row">
                <label>{lang.pick("Period", "Zeitraum")}
                    <select name="months">
                        {MONTH_CHOICES.into_iter().map(|n| view! {
                            <option value=n.to_string() selected=move || months.get() == n>
                                {format!("{n} {}", lang.pick("months", "Monate"))}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit">{lang.pick("Show", "Anzeigen")}</button>
            </form>
            <Transition fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
                {move || Suspend::new(async move {
                    match metrics.await {
                        Err(e) => view! { <p class="alert error" role="alert">{e.text(lang)}</p> }.into_any(),
                        Ok(rows) => view! {
                            <DeliveryChart rows=rows.clone() lang/>
                            <DeliveryTable rows lang/>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn DeliveryChart(rows: Vec<MonthMetrics>, lang: Lang) -> impl IntoView {
    let c = chart(&rows, 720.0, 260.0);
    let (left, _, right, bottom) = c.plot;
    let n = |v: f64| format!("{v:.1}");
    let label = lang.pick(
        "Releases per month by outcome (bars) and the rollback rate (line)",
        "Releases pro Monat nach Ergebnis (Balken) und die Rollback-Quote (Linie)",
    );
    view! {
        <figure class="delivery-chart">
            <svg viewBox=format!("0 0 {} {}", c.width, c.height) role="img" aria-label=label
                data-testid="delivery-chart" class="chart">
                <g class="axis">
                    {c.y_ticks.iter().map(|(y, v)| view! {
                        <line class="grid" x1=n(left) x2=n(right) y1=n(*y) y2=n(*y)/>
                        <text x=n(left - 6.0) y=n(y + 4.0) text-anchor="end">{v.to_string()}</text>
                    }).collect_view()}
                    {c.rate_ticks.iter().map(|(y, p)| view! {
                        <text class="rate" x=n(right + 6.0) y=n(y + 4.0) text-anchor="start">{format!("{p} %")}</text>
                    }).collect_view()}
                    {c.labels.iter().map(|(x, month)| view! {
                        <text x=n(*x) y=n(bottom + 16.0) text-anchor="middle">{month.clone()}</text>
                    }).collect_view()}
                </g>
                <g class="bars">
                    {c.bars.iter().map(|b| b.segments.iter().map(|s| view! {
                        <rect class=format!("bar bar-{}", s.outcome.as_str()) data-month=b.month.clone()
                            x=n(b.x) y=n(s.y) width=n(b.width) height=n(s.height)/>
                    }).collect_view()).collect_view()}
                </g>
                <polyline class="rate-line" points=c.rate_points.clone() fill="none"/>
                {c.rate_dots.iter().map(|(x, y)| view! {
                    <circle class="rate-dot" cx=n(*x) cy=n(*y) r="3"/>
                }).collect_view()}
            </svg>
            <figcaption>
                <ul class="legend">
                    {STACK.into_iter().map(|p| view! {
                        <li><span class=format!("swatch bar-{}", p.as_str())></span>{p.label(lang)}</li>
                    }).collect_view()}
                    <li><span class="swatch rate"></span>{lang.pick("Rollback rate, 0–100 % (right)", "Rollback-Quote, 0–100 % (rechts)")}</li>
                </ul>
            </figcaption>
        </figure>
    }
}

#[component]
fn DeliveryTable(rows: Vec<MonthMetrics>, lang: Lang) -> impl IntoView {
    let outcomes = [Phase::Done, Phase::NoGo, Phase::RolledBack]
        .map(|p| p.label(lang))
        .join(" · ");
    view! {
        <table class="list delivery">
            <thead><tr>
                <th>{lang.pick("Month", "Monat")}</th>
                <th>{lang.pick("Releases", "Releases")}<br/><span class="muted">{outcomes}</span></th>
                <th>{lang.pick("No-go rate", "No-Go-Quote")}</th>
                <th>{lang.pick("Rollback rate (change failure rate)", "Rollback-Quote (Change-Failure-Rate)")}</th>
                <th>{lang.pick("Median lead time, staging gate → done", "Median Durchlaufzeit, Staging-Gate → abgeschlossen")}</th>
                <th>{lang.pick("Median time to restore", "Median Zeit bis zur Wiederherstellung")}</th>
            </tr></thead>
            <tbody>
                // Newest first, where one looks for this month.
                {rows.into_iter().rev().map(|m| view! {
                    <tr data-month=m.month.clone()>
                        <td>{month_label(lang, &m.month)}</td>
                        <td>{m.releases}" "<span class="muted">{format!("({} · {} · {})", m.done, m.no_go, m.rolled_back)}</span></td>
                        <td>{decimal(lang, m.no_go_rate_pct, "%")}</td>
                        <td>{decimal(lang, m.rollback_rate_pct, "%")}</td>
                        <td>{decimal(lang, m.median_lead_time_hours, "h")}</td>
                        <td>{decimal(lang, m.median_time_to_restore_minutes, "min")}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_numbers_read_in_both_languages() {
        assert_eq!(month_label(Lang::En, "2026-03"), "March 2026");
        assert_eq!(month_label(Lang::De, "2026-03"), "März 2026");
        assert_eq!(month_label(Lang::De, "garbage"), "garbage");
        assert_eq!(decimal(Lang::En, Some(37.5), "%"), "37.5 %");
        assert_eq!(decimal(Lang::De, Some(37.5), "%"), "37,5 %");
        assert_eq!(decimal(Lang::De, None, "h"), "–");
    }

    #[test]
    fn links_keep_the_search_and_change_the_page() {
        let q = ArchiveQuery {
            q: Some("kerberos".into()),
            outcome: Some("done".into()),
            page: Some(2),
            ..Default::default()
        };
        assert_eq!(
            archive_link(&q, 3),
            "/archive?q=kerberos&outcome=done&page=3"
        );
        assert_eq!(archive_link(&q, 1), "/archive?q=kerberos&outcome=done");
        assert_eq!(archive_link(&ArchiveQuery::default(), 1), "/archive");
    }
}
