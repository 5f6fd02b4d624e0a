//! The log viewer: numbered lines a page at a time, search with highlights, and jumps to
//! ERROR and WARN lines. Everything is a link or a GET form, so it works without
//! JavaScript; hydrated, the router swaps pages in place.

use super::use_lang;
use crate::domain::archive_model::percent_encode;
use crate::domain::evidence::human_size;
use crate::domain::logs::{highlight, Level};
use crate::i18n::Lang;
use crate::server_fns::logs::{load_log_page, LogPage, LOG_PAGE_LINES};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn page_link(release_id: i64, evidence_id: i64, from: u64, q: &str) -> String {
    let mut query = vec![("from", from.to_string())];
    if !q.is_empty() {
        query.push(("q", q.to_string()));
    }
    let qs = query
        .into_iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(&v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("/releases/{release_id}/evidence/{evidence_id}?{qs}")
}

/// Lines before a jump target shown for context.
const CONTEXT: u64 = 20;

#[component]
pub fn LogViewerPage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let query = use_query_map();
    let ids = move || {
        params.with(|p| {
            (
                p.get("id").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0),
                p.get("evidence")
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0),
            )
        })
    };
    let args = move || {
        query.with(|q| {
            (
                q.get("from")
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0),
                q.get("q").unwrap_or_default(),
            )
        })
    };
    let page = Resource::new(
        move || (ids(), args()),
        |((rid, eid), (from, q))| load_log_page(rid, eid, from, q),
    );
    view! {
        <Transition fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <section class="card"><p class="alert error">{e.text(lang)}</p></section> }.into_any(),
                    Ok(p) => view! { <LogView p lang/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn LogView(p: LogPage, lang: Lang) -> impl IntoView {
    let e = p.evidence.clone();
    let (rid, eid) = (e.release_id, e.id);
    let q = p.query.clone();
    let download = format!("/api/v1/releases/{rid}/evidence/{eid}");
    let header = view! {
        <Title text=e.filename.clone()/>
        <p><a href=format!("/releases/{rid}")>{lang.pick("← Back to the release", "← Zurück zum Release")}</a></p>
        <h1>{e.filename.clone()}</h1>
        <p class="muted">
            {human_size(e.size)}" · sha256 "{e.sha256.clone()}" · "
            <a href=download download="">{lang.pick("download", "herunterladen")}</a>
        </p>
    };
    if let Some(why) = p.unviewable {
        return view! {
            <section class="card">
                {header}
                <p data-testid="log-unviewable">{why.text(lang)}</p>
            </section>
        }
        .into_any();
    }
    let end = p.from + p.lines.len() as u64;
    let next_mark = |level: Level| {
        p.marks
            .iter()
            .find(|(n, l)| *l == level && *n >= end)
            .or_else(|| p.marks.iter().find(|(n, l)| *l == level && *n > p.from))
            .map(|(n, _)| *n)
    };
    let errors = p.marks.iter().filter(|(_, l)| *l == Level::Error).count();
    let warnings = p.marks.len() - errors;
    let jump = |n: u64| page_link(rid, eid, n.saturating_sub(CONTEXT), &q);
    let jumps = view! {
        <div class="row log-jumps">
            {next_mark(Level::Error).map(|n| view! {
                <a class="button danger" data-testid="next-error" href=format!("{}#L{}", jump(n), n + 1)>
                    {lang.pick("Next ERROR", "Nächster ERROR")}" ↓ ("{n + 1}")"
                </a>
            })}
            {next_mark(Level::Warn).map(|n| view! {
                <a class="button" data-testid="next-warn" href=format!("{}#L{}", jump(n), n + 1)>
                    {lang.pick("Next WARN", "Nächste WARN")}" ↓ ("{n + 1}")"
                </a>
            })}
            <span class="muted">{format!("{errors} ERROR · {warnings} WARN · {} ", p.total_lines)}{lang.pick("lines", "Zeilen")}</span>
        </div>
    };
    let search = view! {
        <form method="get" class="row log-search" role="search">
            <input type="search" name="q" value=q.clone() placeholder=lang.pick("Search the log", "Im Log suchen")
                aria-label=lang.pick("Search the log", "Im Log suchen")/>
            <button type="submit">{lang.pick("Search", "Suchen")}</button>
        </form>
    };
    let hits = (!q.is_empty()).then(|| {
        let count = p.hits.len();
        view! {
            <section class="log-hits" data-testid="log-hits">
                <p class="muted">
                    {if count == 0 { lang.pick("No matches.", "Keine Treffer.").to_string() }
                     else { format!("{count}{} {}", if p.more_hits { "+" } else { "" }, lang.pick("matches", "Treffer")) }}
                </p>
                <ol class="hits">
                    {p.hits.iter().map(|h| {
                        let href = format!("{}#L{}", jump(h.number), h.number + 1);
                        view! {
                            <li><a href=href><span class="ln">{h.number + 1}</span>" "
                                <Highlighted text=h.text.clone() needle=q.clone()/></a></li>
                        }
                    }).collect_view()}
                </ol>
            </section>
        }
    });
    let prev = (p.from > 0).then(|| {
        view! { <a href=page_link(rid, eid, p.from.saturating_sub(LOG_PAGE_LINES), &q)>{lang.pick("← earlier lines", "← frühere Zeilen")}</a> }
    });
    let next = (end < p.total_lines).then(|| {
        view! { <a href=page_link(rid, eid, end, &q)>{lang.pick("later lines →", "spätere Zeilen →")}</a> }
    });
    let lines = p
        .lines
        .iter()
        .map(|l| {
            let class = match l.level {
                Some(Level::Error) => "line error",
                Some(Level::Warn) => "line warn",
                None => "line",
            };
            view! {
                <tr class=class id=format!("L{}", l.number + 1)>
                    <td class="ln">{l.number + 1}</td>
                    <td class="text"><Highlighted text=l.text.clone() needle=q.clone()/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card log-viewer" data-testid="log-viewer">
            {header}
            {search}
            {jumps}
            {hits}
            <div class="row-between">{prev}<span class="muted">{format!("{}–{} / {}", p.from + 1, end, p.total_lines)}</span>{next}</div>
            <table class="log"><tbody>{lines}</tbody></table>
        </section>
    }
    .into_any()
}

#[component]
fn Highlighted(text: String, needle: String) -> impl IntoView {
    highlight(&text, &needle)
        .into_iter()
        .map(|(piece, hit)| {
            if hit {
                view! { <mark>{piece}</mark> }.into_any()
            } else {
                piece.into_any()
            }
        })
        .collect_view()
}
