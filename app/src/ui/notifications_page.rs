//! `/account/notifications`: which e-mails the signed-in person gets, and in which
//! language. Every e-mail's unsubscribe link points here.

use super::{use_lang, use_user};
use crate::domain::notify::{EventGroup, NotificationPrefs};
use crate::i18n::{Label, Lang};
use crate::server_fns::notifications::{my_notification_prefs, SaveNotificationPrefs};
use leptos::prelude::*;
use leptos_meta::Title;

/// Who gets which e-mails of a group, in one line.
fn group_explained(lang: Lang, g: EventGroup) -> &'static str {
    match g {
        EventGroup::Assignment => lang.pick(
            "You were made release captain or product owner of a release.",
            "Sie wurden Release Captain oder Product Owner eines Releases.",
        ),
        EventGroup::StagingGate => lang.pick(
            "Captains: the staging gate is due in 2 h; captains and product owners: it is overdue.",
            "Captains: Das Staging-Gate ist in 2 Std. fällig; Captains und Product Owner: Es ist überfällig.",
        ),
        EventGroup::GoNoGo => lang.pick(
            "Go/No-Go open for your signature, due in 30 min and still unsigned, overdue; your sign-off became stale.",
            "Go/No-Go offen für Ihre Freigabe, in 30 Min. fällig und noch nicht freigegeben, überfällig; Ihre Freigabe ist veraltet.",
        ),
        EventGroup::GoLive => lang.pick(
            "Your release's go-live started, each stage, the stability hold finished, done or rolled back.",
            "Go-Live Ihres Releases gestartet, jede Stufe, Stabilitätsphase vorbei, abgeschlossen oder zurückgerollt.",
        ),
        EventGroup::Alerts => lang.pick(
            "A P1 alert on the target environment while your release goes live.",
            "Ein P1-Alert auf der Zielumgebung, während Ihr Release live geht.",
        ),
    }
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let lang = use_lang();
    let email = use_user().map(|u| u.email).unwrap_or_default();
    let save = ServerAction::<SaveNotificationPrefs>::new();
    let prefs = Resource::new(move || save.version().get(), |_| my_notification_prefs());
    let failure = move || {
        save.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="alert error" role="alert">{e.text(lang)}</p> })
    };

    view! {
        <Title text=lang.pick("Notifications", "Benachrichtigungen")/>
        <section class="card">
            <div class="row-between">
                <h1>{lang.pick("Notifications", "Benachrichtigungen")}</h1>
                <a href="/account">{lang.pick("Your account", "Ihr Konto")}</a>
            </div>
            <p data-testid="prefs-intro">
                {lang.pick("You receive e-mails at ", "Sie erhalten E-Mails an ")}
                <strong>{email}</strong>
                {lang.pick(
                    ". Turn off what you do not need.",
                    ". Schalten Sie ab, was Sie nicht brauchen.",
                )}
            </p>
            {failure}
            <Suspense fallback=move || view! { <p class="muted">{lang.pick("Loading…", "Lädt …")}</p> }>
                {move || Suspend::new(async move {
                    match prefs.await {
                        Err(e) => view! { <p class="alert error" role="alert">{e.text(lang)}</p> }.into_any(),
                        Ok(p) => view! { <PrefsForm lang prefs=p save/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PrefsForm(
    lang: Lang,
    prefs: NotificationPrefs,
    save: ServerAction<SaveNotificationPrefs>,
) -> impl IntoView {
    let german = prefs.lang == "de";
    let boxes = EventGroup::ALL
        .into_iter()
        .map(|g| {
            let on = prefs.email_on(g);
            view! {
                <label class="check">
                    <input type="checkbox" name="email_on[]" value=g.as_str() checked=on
                        data-testid=format!("email-{}", g.as_str())/>
                    <span>
                        <strong>{g.label(lang)}</strong>
                        " – "
                        <span class="muted">{group_explained(lang, g)}</span>
                    </span>
                </label>
            }
        })
        .collect_view();
    view! {
        <ActionForm action=save attr:class="stack" attr:data-testid="notification-prefs"
            attr:data-ok=lang.pick("Notification settings saved.", "Benachrichtigungen gespeichert.")>
            <label>
                {lang.pick("Language of e-mails", "Sprache der E-Mails")}
                <select name="lang" data-testid="prefs-lang">
                    <option value="de" selected=german>"Deutsch"</option>
                    <option value="en" selected=!german>"English"</option>
                </select>
            </label>
            <fieldset class="plain">
                <legend>{lang.pick("E-mail me about", "E-Mails erhalten zu")}</legend>
                {boxes}
            </fieldset>
            <button type="submit" class="primary">{lang.pick("Save", "Speichern")}</button>
        </ActionForm>
    }
}
