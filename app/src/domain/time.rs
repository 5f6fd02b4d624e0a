//! Go-live windows are entered and shown in Europe/Berlin (the team's zone) and stored in UTC.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Berlin;

/// `2026-12-01T20:00` (an `<input type="datetime-local">` value) in Berlin time, as UTC.
/// `None` when unreadable or when the local time does not exist (spring-forward gap).
pub fn parse_berlin_local(s: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    Berlin
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The value for an `<input type="datetime-local">` in Berlin time.
pub fn berlin_input_value(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Berlin)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// `01.12.2026 20:00 CET`, the same on server and browser.
pub fn berlin_display(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Berlin)
        .format("%d.%m.%Y %H:%M %Z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berlin_local_times_become_utc_across_dst() {
        let winter = parse_berlin_local("2026-12-01T20:00").unwrap();
        assert_eq!(winter.to_rfc3339(), "2026-12-01T19:00:00+00:00");
        let summer = parse_berlin_local("2026-07-01T20:00").unwrap();
        assert_eq!(summer.to_rfc3339(), "2026-07-01T18:00:00+00:00");
        // 02:30 on the spring-forward night does not exist in Berlin.
        assert_eq!(parse_berlin_local("2026-03-29T02:30"), None);
        assert_eq!(parse_berlin_local("tomorrow"), None);
        assert_eq!(berlin_input_value(&winter), "2026-12-01T20:00");
        assert_eq!(berlin_display(&summer), "01.07.2026 20:00 CEST");
    }
}
