//! The account page's calendar feeds: a secret link to subscribe to in a calendar app, one
//! for the person's own releases and, for admins, one for the team's.

use super::{use_lang, use_user};
use crate::domain::ics::{CalendarFeed, FeedScope};
use crate::domain::time::berlin_display;
use crate::i18n::Lang;
use crate::server_fns::calendar::{list_calendar_feeds, IssueCalendarFeed, RevokeCalendarFeed};
use leptos::prelude::*;

#[component]
pub fn CalendarFeeds() -> impl IntoView {
    let lang = use_lang();
    let admin = use_user().is_some_and(|u| u.is_admin());
    let issue = ServerAction::<IssueCalendarFeed>::new();
    let revoke = ServerAction::<RevokeCalendarFeed>::new();
    let feeds = Resource::new(
        move || (issue.version().get(), revoke.version().get()),
        |_| list_calendar_feeds(),
    );
    let shown_once = lang.pick(
        "Copy the link now and subscribe to it in your calendar app; it will not be shown again:",
        "Link jetzt kopieren und im Kalender abonnieren; er wird nicht noch einmal angezeigt:",
    );
    let issued = move || {
        issue.value().get().map(|r| match r {
            Ok(f) => view! {
                <div class="alert ok" role="status">
                    <p>{shown_once}</p>
                    <code class="secret" data-testid="calendar-url">{f.url}</code>
                </div>
            }
            .into_any(),
            Err(e) => view! { <p class="alert error" role="alert">{e.text(lang)}</p> }.into_any(),
        })
    };
    let scopes: Vec<FeedScope> = FeedScope::ALL
        .into_iter()
        .filter(|s| *s == FeedScope::Personal || admin)
        .collect();

    view! {
        <section class="card" data-testid="calendar-feeds">
            <h2>{lang.pick("Calendar feed", "Kalender-Feed")}</h2>
            <p class="muted">
                {lang.pick(
                    "Subscribe in your calendar app (Outlook, Google Calendar, Apple Calendar) to the go-live windows, the staging gate (T-12h) and Go/No-Go (T-1h) deadlines with reminders, and the freeze windows. The link is secret: whoever has it can read the calendar, nothing else.",
                    "Im Kalender (Outlook, Google Kalender, Apple Kalender) die Go-Live-Fenster, die Fristen für Staging-Gate (T-12h) und Go/No-Go (T-1h) mit Erinnerung sowie die Freeze-Fenster abonnieren. Der Link ist geheim: Wer ihn hat, kann den Kalender lesen, sonst nichts.",
                )}
            </p>
            {issued}
            <Suspense fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
                {move || {
                    let scopes = scopes.clone();
                    Suspend::new(async move {
                        match feeds.await {
                            Err(e) => view! { <p class="alert error">{e.text(lang)}</p> }.into_any(),
                            Ok(list) => scopes
                                .into_iter()
                                .map(|scope| {
                                    let active = list.iter().find(|f| f.scope == scope).cloned();
                                    feed_row(lang, scope, active, issue, revoke, shown_once)
                                })
                                .collect_view()
                                .into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// One scope's link: whether one is active, a button for a new one, and one to revoke it.
fn feed_row(
    lang: Lang,
    scope: FeedScope,
    active: Option<CalendarFeed>,
    issue: ServerAction<IssueCalendarFeed>,
    revoke: ServerAction<RevokeCalendarFeed>,
    shown_once: &'static str,
) -> impl IntoView {
    let (title, what) = match scope {
        FeedScope::Personal => (
            lang.pick("Your releases", "Ihre Releases"),
            lang.pick(
                "The releases you are release captain or product owner of.",
                "Die Releases, bei denen Sie Release Captain oder Product Owner sind.",
            ),
        ),
        FeedScope::Team => (
            lang.pick("The team's releases", "Releases des Teams"),
            lang.pick(
                "Every release (admins only).",
                "Alle Releases (nur für Admins).",
            ),
        ),
    };
    let has_link = active.is_some();
    let state = match active {
        Some(f) => view! {
            <p>
                {lang.pick("Active link: ", "Aktiver Link: ")}
                <code>{format!("{}…", f.prefix)}</code>
                {format!(" ({} {})", lang.pick("created", "erstellt"), berlin_display(&f.created_at))}
            </p>
        }
        .into_any(),
        None => view! { <p class="muted">{lang.pick("No link yet.", "Noch kein Link.")}</p> }.into_any(),
    };
    let create = if has_link {
        lang.pick(
            "New link (the old one stops working)",
            "Neuer Link (der alte wird ungültig)",
        )
    } else {
        lang.pick("Create feed link", "Feed-Link erstellen")
    };
    view! {
        <div class="stack" data-testid=format!("calendar-feed-{}", scope.as_str())>
            <h3>{title}</h3>
            <p class="muted">{what}</p>
            {state}
            <div class="row">
                // Stays on the page: the link is shown once and never stored in the browser.
                <ActionForm action=issue attr:class="inline" attr:data-stay=""
                    attr:data-ok=shown_once attr:data-ok-secret="url"
                    attr:data-ok-secret-id="calendar-url">
                    <input type="hidden" name="scope" value=scope.as_str()/>
                    <button type="submit">{create}</button>
                </ActionForm>
                {has_link.then(|| view! {
                    <ActionForm action=revoke attr:class="inline"
                        attr:data-ok=lang.pick("Calendar feed link revoked.", "Kalender-Feed-Link widerrufen.")>
                        <input type="hidden" name="scope" value=scope.as_str()/>
                        <button type="submit" class="danger">{lang.pick("Revoke", "Widerrufen")}</button>
                    </ActionForm>
                })}
            </div>
        </div>
    }
}
