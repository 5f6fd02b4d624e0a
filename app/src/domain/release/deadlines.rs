//! Deadlines counted back from the go-live window, and the countdown to them.

use super::Phase;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Deadlines counted back from the start of the go-live window.
pub const STAGING_GATE_LEAD_HOURS: i64 = 12;
pub const GO_NO_GO_LEAD_HOURS: i64 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub what: Phase,
    pub due: DateTime<Utc>,
    pub overdue: bool,
    /// The clock this was judged by; the browser counts on from here.
    pub as_of: DateTime<Utc>,
}

/// Time left to a deadline (or past it), to the minute, for a countdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Countdown {
    pub overdue: bool,
    pub days: i64,
    pub hours: i64,
    pub minutes: i64,
}

impl Countdown {
    pub fn between(due: DateTime<Utc>, now: DateTime<Utc>) -> Countdown {
        let overdue = now > due;
        let total = if overdue { now - due } else { due - now };
        // Time left rounds up (59 s left is "1 min"), time overdue rounds down.
        let mut minutes = total.num_minutes();
        if !overdue && total > Duration::minutes(minutes) {
            minutes += 1;
        }
        Countdown {
            overdue,
            days: minutes / (24 * 60),
            hours: minutes / 60 % 24,
            minutes: minutes % 60,
        }
    }

    /// "2 d 3 h", "3 h 12 min", "8 min": the two largest units that matter.
    pub fn span(&self, lang: crate::i18n::Lang) -> String {
        let (d, h, m) = (
            lang.pick("d", "T."),
            lang.pick("h", "Std."),
            lang.pick("min", "Min."),
        );
        match (self.days, self.hours, self.minutes) {
            (0, 0, mins) => format!("{mins} {m}"),
            (0, hours, mins) => format!("{hours} {h} {mins} {m}"),
            (days, hours, _) => format!("{days} {d} {hours} {h}"),
        }
    }

    /// "in 3 h 12 min" or "overdue by 20 min".
    pub fn text(&self, lang: crate::i18n::Lang) -> String {
        let span = self.span(lang);
        match (self.overdue, lang) {
            (false, _) => format!("in {span}"),
            (true, crate::i18n::Lang::En) => format!("overdue by {span}"),
            (true, crate::i18n::Lang::De) => format!("seit {span} überfällig"),
        }
    }
}

/// When the staging gate is due for a window starting at `window_start` (T-12h).
pub fn staging_gate_due(window_start: DateTime<Utc>) -> DateTime<Utc> {
    window_start - Duration::hours(STAGING_GATE_LEAD_HOURS)
}

/// When the Go/No-Go decision is due for a window starting at `window_start` (T-1h).
pub fn go_no_go_due(window_start: DateTime<Utc>) -> DateTime<Utc> {
    window_start - Duration::hours(GO_NO_GO_LEAD_HOURS)
}

/// The next deadline the release has to meet, if any.
pub fn next_deadline(
    phase: Phase,
    window_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Deadline> {
    let (what, due) = match phase {
        Phase::Draft | Phase::StagingGate => (Phase::StagingGate, staging_gate_due(window_start)),
        Phase::GoNoGo => (Phase::GoNoGo, go_no_go_due(window_start)),
        _ => return None,
    };
    Some(Deadline {
        what,
        due,
        overdue: now > due,
        as_of: now,
    })
}
