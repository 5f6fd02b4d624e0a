//! iCalendar (RFC 5545) as Shipgate writes it for calendar feeds: a calendar of events,
//! each with an optional display alarm, every time in UTC. Pure: it formats what it is
//! given and reads no clock. Also the calendar feeds' shared vocabulary (their scope and
//! how their owner sees them), which the account page and the services both use.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Whose releases a calendar feed carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedScope {
    /// The releases the person is release captain or product owner of.
    Personal,
    /// Every release (admins only).
    Team,
}

impl FeedScope {
    pub const ALL: [FeedScope; 2] = [FeedScope::Personal, FeedScope::Team];

    pub fn as_str(self) -> &'static str {
        match self {
            FeedScope::Personal => "personal",
            FeedScope::Team => "team",
        }
    }

    pub fn parse(s: &str) -> Option<FeedScope> {
        FeedScope::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// An active calendar feed as its owner sees it; the token itself is never shown again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalendarFeed {
    pub scope: FeedScope,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
}

/// A freshly issued feed: `url` carries the only copy of its token there will ever be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IssuedFeed {
    pub scope: FeedScope,
    pub url: String,
}

/// The longest content line in octets, CRLF not counted (RFC 5545, 3.1).
pub const MAX_LINE_OCTETS: usize = 75;

/// A TEXT value escaped (RFC 5545, 3.3.11): backslash, semicolon and comma get a
/// backslash, a line break becomes `\n`. Other control characters are not allowed in
/// TEXT and are dropped; a tab stays.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                // CRLF and a lone CR are one line break each.
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded so that no line is longer than [`MAX_LINE_OCTETS`] (a
/// continuation line starts with one space, which counts), never inside a UTF-8 character,
/// each line ended by CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if used + len > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
    out
}

/// A DATE-TIME in UTC (RFC 5545, 3.3.5, form 2): `YYYYMMDDTHHMMSSZ`.
pub fn utc(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A DURATION (RFC 5545, 3.3.6) in whole minutes when it is, else in seconds:
/// `-PT30M`, `PT90M`, `PT45S`.
pub fn duration(d: Duration) -> String {
    let secs = d.num_seconds();
    let sign = if secs < 0 { "-" } else { "" };
    let secs = secs.unsigned_abs();
    if secs.is_multiple_of(60) {
        format!("{sign}PT{}M", secs / 60)
    } else {
        format!("{sign}PT{secs}S")
    }
}

/// An event's STATUS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Tentative,
    Confirmed,
    Cancelled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Tentative => "TENTATIVE",
            Status::Confirmed => "CONFIRMED",
            Status::Cancelled => "CANCELLED",
        }
    }
}

/// A display alarm `before` the event starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    pub before: Duration,
    pub description: String,
}

/// A VEVENT. `uid` must stay the same for the same thing across refreshes, so calendar
/// apps update it instead of adding another; `sequence` grows with every change.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub uid: String,
    pub dtstamp: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub url: Option<String>,
    pub sequence: Option<i32>,
    pub status: Option<Status>,
    pub alarm: Option<Alarm>,
}

impl Event {
    /// An event with what every VEVENT needs; the rest is set on the returned value.
    pub fn new(
        uid: impl Into<String>,
        dtstamp: DateTime<Utc>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        summary: impl Into<String>,
    ) -> Event {
        Event {
            uid: uid.into(),
            dtstamp,
            start,
            end,
            summary: summary.into(),
            description: None,
            location: None,
            url: None,
            sequence: None,
            status: None,
            alarm: None,
        }
    }

    fn write(&self, out: &mut Lines) {
        out.raw("BEGIN", "VEVENT");
        out.text("UID", &self.uid);
        out.raw("DTSTAMP", &utc(&self.dtstamp));
        out.raw("DTSTART", &utc(&self.start));
        out.raw("DTEND", &utc(&self.end));
        if let Some(seq) = self.sequence {
            out.raw("SEQUENCE", &seq.max(0).to_string());
        }
        out.text("SUMMARY", &self.summary);
        if let Some(d) = &self.description {
            out.text("DESCRIPTION", d);
        }
        if let Some(l) = &self.location {
            out.text("LOCATION", l);
        }
        if let Some(u) = &self.url {
            out.raw("URL", &uri(u));
        }
        if let Some(s) = self.status {
            out.raw("STATUS", s.as_str());
        }
        out.raw("TRANSP", "OPAQUE");
        if let Some(a) = &self.alarm {
            out.raw("BEGIN", "VALARM");
            out.raw("ACTION", "DISPLAY");
            out.text("DESCRIPTION", &a.description);
            out.raw("TRIGGER", &duration(-a.before));
            out.raw("END", "VALARM");
        }
        out.raw("END", "VEVENT");
    }
}

/// A URI value is not TEXT (no escaping), but must not break the line it is on.
fn uri(u: &str) -> String {
    u.chars().filter(|c| !c.is_control()).collect()
}

/// A VCALENDAR: VERSION 2.0, the given PRODID, Gregorian, published (read-only for
/// subscribers), with optional extra calendar properties and the events in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Calendar {
    prodid: String,
    /// Extra calendar properties (name, already escaped or raw value).
    properties: Vec<(String, String)>,
    events: Vec<Event>,
}

impl Calendar {
    pub fn new(prodid: impl Into<String>) -> Calendar {
        Calendar {
            prodid: prodid.into(),
            properties: Vec::new(),
            events: Vec::new(),
        }
    }

    /// A calendar property whose value is TEXT (`X-WR-CALNAME`, `NAME`): escaped.
    pub fn text_property(mut self, name: &str, value: &str) -> Calendar {
        self.properties.push((name.to_string(), escape_text(value)));
        self
    }

    /// A calendar property whose value is written as given (`REFRESH-INTERVAL;VALUE=
    /// DURATION` with `PT1H`, `X-WR-TIMEZONE`); control characters are dropped.
    pub fn raw_property(mut self, name: &str, value: &str) -> Calendar {
        self.properties.push((name.to_string(), uri(value)));
        self
    }

    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The calendar as an iCalendar stream: CRLF line ends, folded lines.
    pub fn render(&self) -> String {
        let mut out = Lines::default();
        out.raw("BEGIN", "VCALENDAR");
        out.raw("VERSION", "2.0");
        out.text("PRODID", &self.prodid);
        out.raw("CALSCALE", "GREGORIAN");
        out.raw("METHOD", "PUBLISH");
        for (name, value) in &self.properties {
            out.raw(name, value);
        }
        for e in &self.events {
            e.write(&mut out);
        }
        out.raw("END", "VCALENDAR");
        out.0
    }
}

/// The content lines written so far.
#[derive(Default)]
struct Lines(String);

impl Lines {
    fn raw(&mut self, name: &str, value: &str) {
        self.0.push_str(&fold(&format!("{name}:{value}")));
    }

    fn text(&mut self, name: &str, value: &str) {
        self.raw(name, &escape_text(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 29, h, m, 5).unwrap()
    }

    /// What a reader does before parsing: joins continuation lines.
    fn unfold(s: &str) -> String {
        s.replace("\r\n ", "")
    }

    fn assert_lines_valid(s: &str) {
        assert!(s.ends_with("\r\n"), "ends with CRLF");
        for (i, b) in s.bytes().enumerate() {
            if b == b'\n' {
                assert!(i > 0 && s.as_bytes()[i - 1] == b'\r', "bare LF at {i}");
            }
            if b == b'\r' {
                assert_eq!(s.as_bytes().get(i + 1), Some(&b'\n'), "bare CR at {i}");
            }
        }
        for line in s.split("\r\n") {
            assert!(
                line.len() <= MAX_LINE_OCTETS,
                "{} octets: {line}",
                line.len()
            );
        }
    }

    #[test]
    fn text_values_escape_separators_and_line_breaks() {
        assert_eq!(
            escape_text("Evil, \"title\"; with\nnewline \\ <script>"),
            "Evil\\, \"title\"\\; with\\nnewline \\\\ <script>"
        );
        assert_eq!(escape_text("a\r\nb\rc"), "a\\nb\\nc");
        assert_eq!(escape_text("bell\u{7}\ttab"), "bell\ttab");
        assert_eq!(escape_text("Größe: 5 €"), "Größe: 5 €");
    }

    #[test]
    fn short_lines_are_not_folded() {
        assert_eq!(fold("SUMMARY:Go-live"), "SUMMARY:Go-live\r\n");
        let exactly = format!("SUMMARY:{}", "x".repeat(MAX_LINE_OCTETS - 8));
        assert_eq!(fold(&exactly), format!("{exactly}\r\n"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_and_unfold_to_the_original() {
        let line = format!("DESCRIPTION:{}", "abcdefghij".repeat(20));
        let folded = fold(&line);
        assert_lines_valid(&folded);
        assert!(folded.lines().count() > 2);
        assert_eq!(folded.split("\r\n").next().unwrap().len(), MAX_LINE_OCTETS);
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
    }

    #[test]
    fn folding_never_splits_a_multibyte_character() {
        // Two-, three- and four-octet characters at every offset.
        for pad in 0..4 {
            let text = format!("{}{}", "x".repeat(pad), "Ü€🚀".repeat(30));
            let line = format!("SUMMARY:{text}");
            let folded = fold(&line);
            assert_lines_valid(&folded);
            // Each line is filled as far as a whole character allows (a four-octet
            // character may leave up to three octets free), never split to fill it.
            let pieces: Vec<&str> = folded.split("\r\n").collect();
            for piece in &pieces[..pieces.len() - 2] {
                assert!(piece.len() > MAX_LINE_OCTETS - 4, "{} octets", piece.len());
            }
            assert_eq!(unfold(&folded), format!("{line}\r\n"));
        }
    }

    #[test]
    fn times_are_utc_date_times_and_durations_count_minutes() {
        assert_eq!(utc(&at(7, 4)), "20260329T070405Z");
        assert_eq!(duration(-Duration::minutes(30)), "-PT30M");
        assert_eq!(duration(Duration::minutes(90)), "PT90M");
        assert_eq!(duration(Duration::seconds(45)), "PT45S");
        assert_eq!(duration(Duration::zero()), "PT0M");
    }

    #[test]
    fn feed_scopes_read_back() {
        for s in FeedScope::ALL {
            assert_eq!(FeedScope::parse(s.as_str()), Some(s));
        }
        assert_eq!(FeedScope::parse("everyone"), None);
    }

    #[test]
    fn a_calendar_has_its_headers_events_and_alarms_with_crlf_everywhere() {
        let mut cal = Calendar::new("-//Shipgate//Release calendar//EN")
            .text_property("X-WR-CALNAME", "Shipgate – team releases")
            .raw_property("X-WR-TIMEZONE", "Europe/Berlin");
        let mut e = Event::new(
            "release-7@shipgate",
            at(6, 0),
            at(10, 0),
            at(12, 0),
            "Go-live: Spring, \"2\"; ÄÖÜ 2.4.0",
        );
        e.description = Some("Phase: Go/No-Go\nhttps://shipgate.test/releases/7".into());
        e.url = Some("https://shipgate.test/releases/7".into());
        e.sequence = Some(3);
        e.status = Some(Status::Cancelled);
        e.alarm = Some(Alarm {
            before: Duration::minutes(30),
            description: "Go/No-Go due".into(),
        });
        cal.push(e);
        cal.push(Event::new(
            "freeze-1@shipgate",
            at(6, 0),
            at(0, 0),
            at(23, 0),
            "Freeze: prod",
        ));
        let text = cal.render();
        assert_lines_valid(&text);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            &lines[..5],
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Shipgate//Release calendar//EN",
                "CALSCALE:GREGORIAN",
                "METHOD:PUBLISH"
            ]
        );
        let unfolded = unfold(&text);
        for expected in [
            "X-WR-CALNAME:Shipgate – team releases\r\n",
            "X-WR-TIMEZONE:Europe/Berlin\r\n",
            "UID:release-7@shipgate\r\n",
            "DTSTAMP:20260329T060005Z\r\n",
            "DTSTART:20260329T100005Z\r\n",
            "DTEND:20260329T120005Z\r\n",
            "SEQUENCE:3\r\n",
            "SUMMARY:Go-live: Spring\\, \"2\"\\; ÄÖÜ 2.4.0\r\n",
            "DESCRIPTION:Phase: Go/No-Go\\nhttps://shipgate.test/releases/7\r\n",
            "URL:https://shipgate.test/releases/7\r\n",
            "STATUS:CANCELLED\r\n",
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Go/No-Go due\r\nTRIGGER:-PT30M\r\nEND:VALARM\r\nEND:VEVENT\r\n",
            "UID:freeze-1@shipgate\r\n",
        ] {
            assert!(unfolded.contains(expected), "{expected:?} in {unfolded}");
        }
        assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 2);
        assert_eq!(unfolded.matches("END:VEVENT").count(), 2);
        assert!(unfolded.ends_with("END:VCALENDAR\r\n"));
    }
}
