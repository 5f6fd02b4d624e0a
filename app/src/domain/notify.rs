//! Who hears what, and when: the events Shipgate tells people and team channels about,
//! the groups people subscribe to, and the reminders counted back from a release's
//! window. Pure: the services queue and judge with these, the worker sends.

use super::release::{go_no_go_due, staging_gate_due, Phase, SignerRole};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// What a person turns e-mail on or off for, and what a team channel subscribes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventGroup {
    /// Assigned as release captain or product owner.
    Assignment,
    /// The staging gate is due soon or overdue.
    StagingGate,
    /// Go/No-Go open, due soon, overdue; a sign-off became stale.
    GoNoGo,
    /// Go-live started, each stage, the hold finished, done, rolled back.
    GoLive,
    /// Alerts (for people: a P1 on the target during a go-live).
    Alerts,
}

impl EventGroup {
    pub const ALL: [EventGroup; 5] = [
        EventGroup::Assignment,
        EventGroup::StagingGate,
        EventGroup::GoNoGo,
        EventGroup::GoLive,
        EventGroup::Alerts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventGroup::Assignment => "assignment",
            EventGroup::StagingGate => "staging_gate",
            EventGroup::GoNoGo => "go_no_go",
            EventGroup::GoLive => "go_live",
            EventGroup::Alerts => "alerts",
        }
    }

    pub fn parse(s: &str) -> Option<EventGroup> {
        EventGroup::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// An event as stored in the outbox (`event` column) and named in webhook payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    Assigned,
    StagingGateDueSoon,
    StagingGateOverdue,
    GoNoGoOpen,
    GoNoGoDueSoon,
    GoNoGoOverdue,
    SignOffStale,
    GoLiveStarted,
    GoLiveStage,
    GoLiveHoldFinished,
    GoLiveDone,
    RolledBack,
    P1DuringGoLive,
    AlertOpened,
    AlertResolved,
}

impl Event {
    pub const ALL: [Event; 15] = [
        Event::Assigned,
        Event::StagingGateDueSoon,
        Event::StagingGateOverdue,
        Event::GoNoGoOpen,
        Event::GoNoGoDueSoon,
        Event::GoNoGoOverdue,
        Event::SignOffStale,
        Event::GoLiveStarted,
        Event::GoLiveStage,
        Event::GoLiveHoldFinished,
        Event::GoLiveDone,
        Event::RolledBack,
        Event::P1DuringGoLive,
        Event::AlertOpened,
        Event::AlertResolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Assigned => "release.assigned",
            Event::StagingGateDueSoon => "staging_gate.due_soon",
            Event::StagingGateOverdue => "staging_gate.overdue",
            Event::GoNoGoOpen => "go_no_go.open",
            Event::GoNoGoDueSoon => "go_no_go.due_soon",
            Event::GoNoGoOverdue => "go_no_go.overdue",
            Event::SignOffStale => "sign_off.stale",
            Event::GoLiveStarted => "go_live.started",
            Event::GoLiveStage => "go_live.stage",
            Event::GoLiveHoldFinished => "go_live.hold_finished",
            Event::GoLiveDone => "go_live.done",
            Event::RolledBack => "release.rolled_back",
            Event::P1DuringGoLive => "alert.p1_during_go_live",
            Event::AlertOpened => "alert.opened",
            Event::AlertResolved => "alert.resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }

    pub fn group(self) -> EventGroup {
        match self {
            Event::Assigned => EventGroup::Assignment,
            Event::StagingGateDueSoon | Event::StagingGateOverdue => EventGroup::StagingGate,
            Event::GoNoGoOpen
            | Event::GoNoGoDueSoon
            | Event::GoNoGoOverdue
            | Event::SignOffStale => EventGroup::GoNoGo,
            Event::GoLiveStarted
            | Event::GoLiveStage
            | Event::GoLiveHoldFinished
            | Event::GoLiveDone
            | Event::RolledBack => EventGroup::GoLive,
            Event::P1DuringGoLive | Event::AlertOpened | Event::AlertResolved => EventGroup::Alerts,
        }
    }

    /// Whether team channels hear of it (the rest is for the people it concerns).
    pub fn for_channels(self) -> bool {
        !matches!(
            self,
            Event::Assigned
                | Event::StagingGateDueSoon
                | Event::GoNoGoDueSoon
                | Event::SignOffStale
                | Event::P1DuringGoLive
        )
    }

    /// The page a notice about a release links to: the phone sign-off page for what
    /// asks someone to sign, the release otherwise.
    pub fn release_path(self, release_id: i64) -> String {
        match self {
            Event::GoNoGoOpen
            | Event::GoNoGoDueSoon
            | Event::GoNoGoOverdue
            | Event::SignOffStale => {
                format!("/releases/{release_id}/sign")
            }
            _ => format!("/releases/{release_id}"),
        }
    }
}

/// Who a planned reminder is for, resolved to accounts when it is planned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    Captain,
    Owner,
    Admins,
}

/// What must still hold when a reminder is due; otherwise it is skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// The staging gate is not passed yet (the release has not reached Go/No-Go).
    StagingGateOpen { window_start: DateTime<Utc> },
    /// Go/No-Go is not decided yet.
    GoNoGoUndecided { window_start: DateTime<Utc> },
    /// `role` has not signed (or signed something that changed since).
    Unsigned {
        role: SignerRole,
        window_start: DateTime<Utc>,
    },
    /// The go-live is still waiting after `steps` recorded steps.
    HoldRunning { steps: i64 },
}

/// What the condition is judged on, read when the reminder is due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionFacts {
    pub phase: Phase,
    pub window_start: DateTime<Utc>,
    /// Roles with a sign-off on the current content.
    pub fresh_signed: Vec<SignerRole>,
    pub go_live_steps: i64,
}

impl Condition {
    /// Why the reminder no longer applies, or `None` when it still does.
    pub fn cleared(&self, f: &ConditionFacts) -> Option<&'static str> {
        let before_go_no_go = matches!(f.phase, Phase::Draft | Phase::StagingGate);
        let undecided = before_go_no_go || f.phase == Phase::GoNoGo;
        let moved = |ws: &DateTime<Utc>| *ws != f.window_start;
        match self {
            Condition::StagingGateOpen { window_start } if moved(window_start) => {
                Some("the window moved")
            }
            Condition::StagingGateOpen { .. } => {
                (!before_go_no_go).then_some("the staging gate is passed")
            }
            Condition::GoNoGoUndecided { window_start }
            | Condition::Unsigned { window_start, .. }
                if moved(window_start) =>
            {
                Some("the window moved")
            }
            Condition::GoNoGoUndecided { .. } => (!undecided).then_some("Go/No-Go is decided"),
            Condition::Unsigned { role, .. } => {
                if !undecided {
                    Some("Go/No-Go is decided")
                } else if f.fresh_signed.contains(role) {
                    Some("signed")
                } else {
                    None
                }
            }
            Condition::HoldRunning { steps } => {
                if f.phase != Phase::GoLive {
                    Some("the go-live ended")
                } else if f.go_live_steps != *steps {
                    Some("the next step is recorded")
                } else {
                    None
                }
            }
        }
    }
}

/// A reminder counted back from the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedReminder {
    pub event: Event,
    /// When it is due (it may already be: then it goes out at once).
    pub due: DateTime<Utc>,
    /// The deadline it is about.
    pub deadline: DateTime<Utc>,
    pub to: Vec<Recipient>,
    pub condition: Condition,
}

/// Staging gate "due in 2 h" reminders go out this long before it.
pub const STAGING_GATE_REMINDER_MINUTES: i64 = 120;
/// Go/No-Go "due in 30 min" reminders go out this long before it.
pub const GO_NO_GO_REMINDER_MINUTES: i64 = 30;

/// The reminders a release in `phase` with this window has ahead, as of `now`: "due
/// soon" only while the deadline is ahead, "overdue" at the deadline (at once when it has
/// passed). Nothing once Go/No-Go is decided, nor once the window is over (a release
/// recorded after the fact is nobody's deadline).
pub fn plan_reminders(
    phase: Phase,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<PlannedReminder> {
    let mut out = vec![];
    if now >= window_end {
        return out;
    }
    let staging = staging_gate_due(window_start);
    let go_no_go = go_no_go_due(window_start);
    if matches!(phase, Phase::Draft | Phase::StagingGate) {
        let condition = Condition::StagingGateOpen { window_start };
        if now < staging {
            out.push(PlannedReminder {
                event: Event::StagingGateDueSoon,
                due: staging - Duration::minutes(STAGING_GATE_REMINDER_MINUTES),
                deadline: staging,
                to: vec![Recipient::Captain],
                condition: condition.clone(),
            });
        }
        out.push(PlannedReminder {
            event: Event::StagingGateOverdue,
            due: staging,
            deadline: staging,
            to: vec![Recipient::Captain, Recipient::Owner],
            condition,
        });
    }
    if matches!(phase, Phase::Draft | Phase::StagingGate | Phase::GoNoGo) {
        if now < go_no_go {
            for (role, to) in [
                (SignerRole::ProductOwner, Recipient::Owner),
                (SignerRole::ReleaseCaptain, Recipient::Captain),
            ] {
                out.push(PlannedReminder {
                    event: Event::GoNoGoDueSoon,
                    due: go_no_go - Duration::minutes(GO_NO_GO_REMINDER_MINUTES),
                    deadline: go_no_go,
                    to: vec![to],
                    condition: Condition::Unsigned { role, window_start },
                });
            }
        }
        out.push(PlannedReminder {
            event: Event::GoNoGoOverdue,
            due: go_no_go,
            deadline: go_no_go,
            to: vec![Recipient::Captain, Recipient::Owner, Recipient::Admins],
            condition: Condition::GoNoGoUndecided { window_start },
        });
    }
    out
}

/// The key that makes a notice unique: the same event about the same thing for the same
/// recipient is queued once, however often the release is saved.
pub fn dedupe_key(event: Event, release_id: i64, recipient: &str, about: &str) -> String {
    format!("{}:{release_id}:{recipient}:{about}", event.as_str())
}

/// A person's e-mail choices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPrefs {
    /// The language e-mails are written in (`de` or `en`).
    pub lang: String,
    /// The groups e-mail is off for; every other group is on.
    pub email_off: Vec<EventGroup>,
}

impl NotificationPrefs {
    pub fn email_on(&self, g: EventGroup) -> bool {
        !self.email_off.contains(&g)
    }
}

/// An outbox row's states, as the admin list filters by them.
pub const OUTBOX_STATES: [&str; 4] = ["pending", "delivered", "failed", "skipped"];
/// An outbox row's channels.
pub const OUTBOX_CHANNELS: [&str; 2] = ["email", "webhook"];

/// One outbox row as admins see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: i64,
    /// `email` or `webhook`.
    pub channel: String,
    /// The person's e-mail address, or the webhook's name.
    pub recipient: String,
    pub event: String,
    pub event_group: String,
    pub release_id: Option<i64>,
    /// `pending`, `delivered`, `failed` or `skipped`.
    pub state: String,
    pub attempts: i32,
    /// Why it was skipped, or the last failure.
    pub outcome: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ws() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 10, 8, 0, 0).unwrap()
    }

    fn facts(phase: Phase) -> ConditionFacts {
        ConditionFacts {
            phase,
            window_start: ws(),
            fresh_signed: vec![],
            go_live_steps: 0,
        }
    }

    #[test]
    fn a_draft_far_ahead_gets_every_reminder_at_its_time() {
        let now = ws() - Duration::days(3);
        let plan = plan_reminders(Phase::Draft, ws(), ws() + Duration::hours(2), now);
        let at = |e: Event| {
            plan.iter()
                .filter(|p| p.event == e)
                .map(|p| p.due)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            at(Event::StagingGateDueSoon),
            vec![ws() - Duration::hours(14)]
        );
        assert_eq!(
            at(Event::StagingGateOverdue),
            vec![ws() - Duration::hours(12)]
        );
        assert_eq!(
            at(Event::GoNoGoDueSoon),
            vec![ws() - Duration::minutes(90); 2]
        );
        assert_eq!(at(Event::GoNoGoOverdue), vec![ws() - Duration::hours(1)]);
        let overdue = plan
            .iter()
            .find(|p| p.event == Event::GoNoGoOverdue)
            .unwrap();
        assert_eq!(
            overdue.to,
            vec![Recipient::Captain, Recipient::Owner, Recipient::Admins]
        );
    }

    #[test]
    fn passed_deadlines_plan_only_the_overdue_notice_and_a_decided_release_nothing() {
        let now = ws() - Duration::hours(6);
        let plan = plan_reminders(Phase::StagingGate, ws(), ws() + Duration::hours(2), now);
        let events: Vec<Event> = plan.iter().map(|p| p.event).collect();
        assert!(!events.contains(&Event::StagingGateDueSoon));
        assert!(events.contains(&Event::StagingGateOverdue));
        assert!(events.contains(&Event::GoNoGoDueSoon));
        let in_go_no_go = plan_reminders(Phase::GoNoGo, ws(), ws() + Duration::hours(2), now);
        assert!(in_go_no_go
            .iter()
            .all(|p| p.event.group() == EventGroup::GoNoGo));
        let over = ws() + Duration::hours(3);
        assert!(
            plan_reminders(Phase::StagingGate, ws(), ws() + Duration::hours(2), over).is_empty()
        );
        for phase in [Phase::GoLive, Phase::Done, Phase::NoGo, Phase::RolledBack] {
            assert!(
                plan_reminders(phase, ws(), ws() + Duration::hours(2), now).is_empty(),
                "{phase:?}"
            );
        }
    }

    #[test]
    fn conditions_clear_when_what_they_wait_for_happened() {
        let gate = Condition::StagingGateOpen { window_start: ws() };
        assert_eq!(gate.cleared(&facts(Phase::StagingGate)), None);
        assert!(gate.cleared(&facts(Phase::GoNoGo)).is_some());
        let moved = ConditionFacts {
            window_start: ws() + Duration::hours(2),
            ..facts(Phase::StagingGate)
        };
        assert_eq!(gate.cleared(&moved), Some("the window moved"));

        let unsigned = Condition::Unsigned {
            role: SignerRole::ProductOwner,
            window_start: ws(),
        };
        assert_eq!(unsigned.cleared(&facts(Phase::GoNoGo)), None);
        let signed = ConditionFacts {
            fresh_signed: vec![SignerRole::ProductOwner],
            ..facts(Phase::GoNoGo)
        };
        assert_eq!(unsigned.cleared(&signed), Some("signed"));
        assert!(unsigned.cleared(&facts(Phase::GoLive)).is_some());

        let undecided = Condition::GoNoGoUndecided { window_start: ws() };
        assert_eq!(undecided.cleared(&signed), None);
        assert!(undecided.cleared(&facts(Phase::NoGo)).is_some());

        let hold = Condition::HoldRunning { steps: 4 };
        let live = |steps| ConditionFacts {
            go_live_steps: steps,
            ..facts(Phase::GoLive)
        };
        assert_eq!(hold.cleared(&live(4)), None);
        assert!(hold.cleared(&live(5)).is_some());
        assert!(hold.cleared(&facts(Phase::Done)).is_some());
    }

    #[test]
    fn events_and_groups_round_trip_and_sign_notices_link_to_the_sign_page() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
        }
        for g in EventGroup::ALL {
            assert_eq!(EventGroup::parse(g.as_str()), Some(g));
        }
        assert_eq!(Event::GoNoGoOpen.release_path(7), "/releases/7/sign");
        assert_eq!(Event::GoLiveStarted.release_path(7), "/releases/7");
        assert!(!Event::SignOffStale.for_channels());
        assert!(Event::GoLiveDone.for_channels());
    }
}
