//! What a team channel gets: Shipgate's own JSON (the payload as queued, with the link made
//! absolute), `{"text"}` for Slack-compatible chats, or a message card for Microsoft Teams
//! incoming webhooks. Team channels read English.

use super::message::words;
use app::domain::notify::Event;
use app::i18n::Lang;
use serde_json::{json, Value};

/// The one-line summary a chat shows.
fn line(event: Option<Event>, payload: &Value) -> (String, String) {
    match event {
        Some(e) => {
            let (subject, lines) = words(e, payload, Lang::En);
            let icon = match e {
                Event::AlertOpened | Event::P1DuringGoLive => "🚨 ",
                Event::AlertResolved | Event::GoLiveDone => "✅ ",
                Event::RolledBack => "↩️ ",
                Event::GoNoGoOverdue | Event::StagingGateOverdue => "⏰ ",
                _ => "",
            };
            (format!("{icon}{subject}"), lines.join(" "))
        }
        None => (
            payload["event"].as_str().unwrap_or("event").to_string(),
            String::new(),
        ),
    }
}

/// Slack reads `<…>` as links and mentions (`<!channel>`): what people typed is escaped
/// as Slack asks, `&`, `<` and `>`.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn absolute_link(payload: &Value, base_url: &str) -> Option<String> {
    payload["link"].as_str().map(|l| format!("{base_url}{l}"))
}

pub fn body_for(format: &str, event: Option<Event>, payload: &Value, base_url: &str) -> Value {
    let link = absolute_link(payload, base_url);
    match format {
        "slack" => {
            let (title, text) = line(event, payload);
            let mut t = if text.is_empty() {
                slack_escape(&title)
            } else {
                slack_escape(&format!("{title} — {text}"))
            };
            if let Some(l) = &link {
                t.push_str(&format!(" <{l}|open>"));
            }
            json!({ "text": t })
        }
        "teams" => {
            let (title, text) = line(event, payload);
            let mut card = json!({
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "summary": title,
                "themeColor": match event {
                    Some(Event::AlertOpened | Event::P1DuringGoLive | Event::RolledBack) => "D13438",
                    Some(Event::GoNoGoOverdue | Event::StagingGateOverdue) => "FFB900",
                    _ => "0078D7",
                },
                "title": title,
                // Plain text: a title or reason people typed is not Markdown (no links).
                "sections": [{ "text": text, "markdown": false }],
            });
            if let Some(l) = link {
                card["potentialAction"] = json!([{
                    "@type": "OpenUri",
                    "name": "Open in Shipgate",
                    "targets": [{ "os": "default", "uri": l }],
                }]);
            }
            card
        }
        _ => {
            let mut p = payload.clone();
            if let (Some(l), Some(obj)) = (link, p.as_object_mut()) {
                obj.insert("url".into(), json!(l));
            }
            p
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_typed_cannot_mention_or_link_in_slack() {
        let mut p = rolled_back();
        p["reason"] = json!("<!channel> see <https://evil.example|here> & more");
        let slack = body_for(
            "slack",
            Some(Event::RolledBack),
            &p,
            "https://sg.example.org",
        );
        let text = slack["text"].as_str().unwrap();
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        assert!(!text.contains("<https://evil"), "{text}");
        assert!(text.ends_with("<https://sg.example.org/releases/3|open>"));
    }

    fn rolled_back() -> Value {
        json!({
            "event": "release.rolled_back",
            "release": { "id": 3, "title": "Shop", "version": "2.4.0", "environment": "production" },
            "reason": "error rate", "by": "cap@example.org", "link": "/releases/3",
        })
    }

    #[test]
    fn each_format_carries_the_summary_and_the_link() {
        let base = "https://sg.example.org";
        let slack = body_for("slack", Some(Event::RolledBack), &rolled_back(), base);
        let text = slack["text"].as_str().unwrap();
        assert!(text.contains("Rolled back: Shop 2.4.0"), "{text}");
        assert!(text.contains("<https://sg.example.org/releases/3|open>"));
        let teams = body_for("teams", Some(Event::RolledBack), &rolled_back(), base);
        assert_eq!(teams["@type"], "MessageCard");
        assert_eq!(teams["title"], "↩️ Rolled back: Shop 2.4.0");
        assert_eq!(
            teams["potentialAction"][0]["targets"][0]["uri"],
            "https://sg.example.org/releases/3"
        );
        assert!(teams["sections"][0]["text"]
            .as_str()
            .unwrap()
            .contains("error rate"));
        assert_eq!(teams["sections"][0]["markdown"], false);
        let own = body_for("json", Some(Event::RolledBack), &rolled_back(), base);
        assert_eq!(own["event"], "release.rolled_back");
        assert_eq!(own["url"], "https://sg.example.org/releases/3");
    }
}
