//! What a notice says: subject, a plain-text and an HTML body, in the recipient's
//! language, with the deep link and the way to turn it off. Everything from people or
//! pipelines (titles, versions, reasons) is escaped in the HTML part and kept on one line
//! in the subject.

use app::domain::notify::Event;
use app::domain::time::berlin_display;
use app::i18n::{audit_action_label, signer_title, Lang};
use app::ui::escape_html_text as escape_html;
use chrono::{DateTime, Utc};
use serde_json::Value;

pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The deep link (absolute).
    pub link: String,
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or_default()
}

fn time(v: &Value, path: &[&str]) -> String {
    s(v, path)
        .parse::<DateTime<Utc>>()
        .map(|t| berlin_display(&t))
        .unwrap_or_default()
}

/// A subject line: no line breaks from titles people typed.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn role_of(p: &Value) -> &'static str {
    match s(p, &["role"]) {
        "product_owner" => signer_title(app::domain::release::SignerRole::ProductOwner),
        "release_captain" => signer_title(app::domain::release::SignerRole::ReleaseCaptain),
        _ => "",
    }
}

/// The subject and the paragraphs of a notice about `event`.
pub fn words(event: Event, p: &Value, lang: Lang) -> (String, Vec<String>) {
    let release = format!(
        "{} {}",
        s(p, &["release", "title"]),
        s(p, &["release", "version"])
    );
    let env = s(p, &["release", "environment"]);
    let window = time(p, &["release", "window_start"]);
    let deadline = time(p, &["deadline"]);
    let by = s(p, &["by"]);
    let de = lang == Lang::De;
    let (subject, lines): (String, Vec<String>) = match event {
        Event::Assigned => {
            let role = role_of(p);
            if de {
                (
                    format!("Sie sind {role} für {release}"),
                    vec![
                        format!("{by} hat Sie als {role} für das Release {release} ({env}) eingetragen."),
                        format!("Go-Live-Fenster ab {window}."),
                    ],
                )
            } else {
                (
                    format!("You are {role} of {release}"),
                    vec![
                        format!("{by} assigned you as {role} of the release {release} ({env})."),
                        format!("Go-live window from {window}."),
                    ],
                )
            }
        }
        Event::StagingGateDueSoon | Event::StagingGateOverdue => {
            let soon = event == Event::StagingGateDueSoon;
            match (de, soon) {
                (true, true) => (
                    format!("Staging-Gate in 2 Std. fällig: {release}"),
                    vec![format!("Das Staging-Gate (T-12h) von {release} ist am {deadline} fällig und noch nicht bestanden.")],
                ),
                (true, false) => (
                    format!("Staging-Gate überfällig: {release}"),
                    vec![format!("Das Staging-Gate (T-12h) von {release} war am {deadline} fällig und ist noch nicht bestanden.")],
                ),
                (false, true) => (
                    format!("Staging gate due in 2 h: {release}"),
                    vec![format!("The staging gate (T-12h) of {release} is due at {deadline} and not passed yet.")],
                ),
                (false, false) => (
                    format!("Staging gate overdue: {release}"),
                    vec![format!("The staging gate (T-12h) of {release} was due at {deadline} and is not passed yet.")],
                ),
            }
        }
        Event::GoNoGoOpen => {
            if de {
                (
                    format!("Go/No-Go wartet auf Ihre Freigabe: {release}"),
                    vec![
                        format!("{release} ({env}) wartet auf den Go/No-Go-Entscheid. Product Owner und Release Captain geben im Browser frei, auch am Telefon."),
                        format!("Go-Live-Fenster ab {window}; der Entscheid ist eine Stunde vorher fällig."),
                    ],
                )
            } else {
                (
                    format!("Go/No-Go is open for your sign-off: {release}"),
                    vec![
                        format!("{release} ({env}) waits for the Go/No-Go decision. The product owner and the release captain sign in the browser, on a phone too."),
                        format!("Go-live window from {window}; the decision is due an hour before."),
                    ],
                )
            }
        }
        Event::GoNoGoDueSoon => {
            let role = role_of(p);
            if de {
                (
                    format!("Ihre Go/No-Go-Freigabe ist in 30 Min. fällig: {release}"),
                    vec![format!("Als {role} haben Sie {release} noch nicht freigegeben. Der Go/No-Go-Entscheid ist am {deadline} fällig.")],
                )
            } else {
                (
                    format!("Your Go/No-Go sign-off is due in 30 min: {release}"),
                    vec![format!("As {role} you have not signed {release} yet. The Go/No-Go decision is due at {deadline}.")],
                )
            }
        }
        Event::GoNoGoOverdue => {
            if de {
                (
                    format!("Go/No-Go überfällig: {release}"),
                    vec![format!("Der Go/No-Go-Entscheid für {release} war am {deadline} fällig und ist noch offen. Go-Live-Fenster ab {window}.")],
                )
            } else {
                (
                    format!("Go/No-Go overdue: {release}"),
                    vec![format!("The Go/No-Go decision for {release} was due at {deadline} and is still open. Go-live window from {window}.")],
                )
            }
        }
        Event::SignOffStale => {
            let role = role_of(p);
            let signed = time(p, &["signed_at"]);
            let action = audit_action_label(s(p, &["change", "action"]), lang);
            let fields = p["change"]["what"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let what = if fields.is_empty() {
                action.to_string()
            } else {
                format!("{action} ({fields})")
            };
            if de {
                (
                    format!("Bitte erneut freigeben: {release} wurde geändert"),
                    vec![
                        format!("Sie haben {release} am {signed} als {role} freigegeben. Seitdem hat {by} es geändert: {what}."),
                        "Ihre Freigabe gilt nicht mehr für den jetzigen Stand; bitte prüfen und erneut freigeben.".into(),
                    ],
                )
            } else {
                (
                    format!("Please sign again: {release} changed"),
                    vec![
                        format!("You signed {release} as {role} at {signed}. Since then {by} changed it: {what}."),
                        "What you signed changed, so your sign-off no longer counts; please check and sign again.".into(),
                    ],
                )
            }
        }
        Event::GoLiveStarted => {
            if de {
                (
                    format!("Go-Live gestartet: {release}"),
                    vec![format!(
                        "{by} hat das Go-Live von {release} nach {env} gestartet."
                    )],
                )
            } else {
                (
                    format!("Go-live started: {release}"),
                    vec![format!("{by} started the go-live of {release} to {env}.")],
                )
            }
        }
        Event::GoLiveStage => {
            let pct = p["stage_pct"].as_i64().unwrap_or(100);
            if de {
                (
                    format!("Go-Live: {pct} % des Traffics auf {release}"),
                    vec![format!(
                        "{by} hat {pct} % des Traffics in {env} auf {release} gelenkt."
                    )],
                )
            } else {
                (
                    format!("Go-live: {pct} % of traffic on {release}"),
                    vec![format!(
                        "{by} moved {pct} % of the traffic in {env} to {release}."
                    )],
                )
            }
        }
        Event::GoLiveHoldFinished => {
            let mins = p["hold_minutes"].as_i64().unwrap_or_default();
            if de {
                (format!("Haltezeit vorbei: {release}"), vec![format!("Die Haltezeit von {mins} Min. für {release} ist vorbei; der nächste Schritt kann erfasst werden, wenn {env} gesund ist.")])
            } else {
                (format!("Hold finished: {release}"), vec![format!("The {mins} min hold for {release} is over; the next step can be recorded if {env} is healthy.")])
            }
        }
        Event::GoLiveDone => {
            if de {
                (
                    format!("Go-Live abgeschlossen: {release}"),
                    vec![format!(
                        "{by} hat das Go-Live von {release} nach {env} abgeschlossen."
                    )],
                )
            } else {
                (
                    format!("Go-live done: {release}"),
                    vec![format!("{by} completed the go-live of {release} to {env}.")],
                )
            }
        }
        Event::RolledBack => {
            let reason = s(p, &["reason"]);
            if de {
                (
                    format!("Zurückgerollt: {release}"),
                    vec![format!(
                        "{by} hat {release} in {env} zurückgerollt. Grund: {reason}"
                    )],
                )
            } else {
                (
                    format!("Rolled back: {release}"),
                    vec![format!(
                        "{by} rolled back {release} in {env}. Reason: {reason}"
                    )],
                )
            }
        }
        Event::P1DuringGoLive => {
            let because = s(p, &["because"]);
            if de {
                (format!("P1 während des Go-Live: {release}"), vec![format!("Während des Go-Live von {release} ist in {env} ein P1-Alert offen ({because}). Shipgate empfiehlt, den Rollback zu prüfen.")])
            } else {
                (format!("P1 during the go-live: {release}"), vec![format!("A P1 alert is open in {env} during the go-live of {release} ({because}). Shipgate suggests considering a rollback.")])
            }
        }
        Event::AlertOpened | Event::AlertResolved => {
            let a = &p["alert"];
            let state = if event == Event::AlertOpened {
                lang.pick("opened", "ausgelöst")
            } else {
                lang.pick("resolved", "behoben")
            };
            (
                format!(
                    "{} {} {state}",
                    s(a, &["severity"]).to_uppercase(),
                    s(a, &["rule"])
                ),
                vec![s(a, &["message"]).to_string()],
            )
        }
    };
    (one_line(&subject), lines)
}

/// The e-mail for a notice about `event` with `payload`, for a reader of `lang`.
pub fn compose(event: Event, payload: &Value, lang: Lang, base_url: &str) -> Message {
    let (subject, lines) = words(event, payload, lang);
    let link = format!("{base_url}{}", s(payload, &["link"]));
    let prefs = format!("{base_url}/account/notifications");
    let open = match event {
        Event::GoNoGoOpen | Event::GoNoGoDueSoon | Event::GoNoGoOverdue | Event::SignOffStale => {
            lang.pick("Open the sign-off page", "Zur Freigabe")
        }
        _ => lang.pick("Open the release", "Release öffnen"),
    };
    let why = lang.pick(
        "You get this e-mail from Shipgate because of your role on this release. Choose what you get e-mail about:",
        "Sie erhalten diese E-Mail von Shipgate wegen Ihrer Rolle bei diesem Release. Wählen Sie, worüber Sie E-Mails erhalten:",
    );
    let mut text = lines.join("\n\n");
    text.push_str(&format!("\n\n{open}: {link}\n\n-- \n{why}\n{prefs}\n"));
    let paragraphs: String = lines
        .iter()
        .map(|l| format!("<p>{}</p>", escape_html(l)))
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"{code}\"><body style=\"font-family:sans-serif;line-height:1.5\">\
         {paragraphs}<p><a href=\"{href}\" style=\"font-weight:bold\">{open}</a></p>\
         <hr><p style=\"color:#555;font-size:small\">{why} <a href=\"{prefs_href}\">{prefs_text}</a></p>\
         </body></html>",
        code = lang.code(),
        href = escape_html(&link),
        open = escape_html(open),
        why = escape_html(why),
        prefs_href = escape_html(&prefs),
        prefs_text = escape_html(lang.pick("Notification settings", "Benachrichtigungen")),
    );
    Message {
        subject: format!("[Shipgate] {subject}"),
        text,
        html,
        link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload() -> Value {
        json!({
            "event": "go_no_go.open",
            "release": {
                "id": 7, "title": "Shop <script>alert(1)</script>\nBcc: x@evil", "version": "2.4.0",
                "environment": "production", "window_start": "2026-12-10T08:00:00Z",
            },
            "by": "cap@example.org",
            "link": "/releases/7/sign",
        })
    }

    #[test]
    fn the_go_no_go_mail_links_to_the_sign_page_in_the_readers_language() {
        let m = compose(
            Event::GoNoGoOpen,
            &payload(),
            Lang::De,
            "https://sg.example.org",
        );
        assert!(m
            .subject
            .starts_with("[Shipgate] Go/No-Go wartet auf Ihre Freigabe: Shop"));
        assert_eq!(m.link, "https://sg.example.org/releases/7/sign");
        assert!(m.text.contains("https://sg.example.org/releases/7/sign"));
        assert!(m
            .text
            .contains("https://sg.example.org/account/notifications"));
        assert!(m.text.contains("10.12.2026 09:00 CET"));
        let en = compose(
            Event::GoNoGoOpen,
            &payload(),
            Lang::En,
            "https://sg.example.org",
        );
        assert!(en.subject.contains("Go/No-Go is open for your sign-off"));
    }

    #[test]
    fn what_people_typed_is_escaped_in_html_and_kept_on_one_line_in_the_subject() {
        let m = compose(
            Event::GoNoGoOpen,
            &payload(),
            Lang::En,
            "https://sg.example.org",
        );
        assert!(!m.html.contains("<script>"));
        assert!(m.html.contains("&lt;script&gt;"));
        assert!(!m.subject.contains('\n'));
    }

    #[test]
    fn a_stale_sign_off_says_what_changed() {
        let mut p = payload();
        p["role"] = json!("product_owner");
        p["signed_at"] = json!("2026-12-09T10:00:00Z");
        p["change"] = json!({ "action": "release.update", "what": ["window_start"] });
        let (subject, lines) = words(Event::SignOffStale, &p, Lang::En);
        assert!(subject.starts_with("Please sign again"));
        assert!(
            lines[0].contains("Release edited (window_start)"),
            "{lines:?}"
        );
        assert!(lines[0].contains("as Product Owner"));
    }
}
