//! The gates: what holds a release up (blockers), the staging gate (T-12h) and the
//! go-live gate.

use super::{
    go_no_go_verdict, precondition_blockers, ItemState, Phase, Preconditions, SignOff, Verdict,
};
use crate::domain::templates::ChecklistKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    P1,
    P2,
    P3,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::P1 => "p1",
            Severity::P2 => "p2",
            Severity::P3 => "p3",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "p1" => Some(Severity::P1),
            "p2" => Some(Severity::P2),
            "p3" => Some(Severity::P3),
            _ => None,
        }
    }
}

/// A checklist item as the gates see it, with its text in English and German: a blocker
/// naming it is read in either language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateItem {
    pub key: String,
    pub kind: ChecklistKind,
    pub text: String,
    pub text_de: String,
    pub state: ItemState,
}

/// A known issue as the gates see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateIssue {
    pub key: String,
    pub severity: Severity,
    pub resolved: bool,
    pub accepted: bool,
}

/// Why a gate is closed, in a form both the API and the UI can show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Blocker {
    WrongPhase {
        phase: Phase,
    },
    /// `text` is the item's English text (what the API shows), `text_de` its German one.
    ItemNotSettled {
        key: String,
        text: String,
        #[serde(default)]
        text_de: String,
        state: ItemState,
    },
    KnownIssueOpen {
        key: String,
        severity: Severity,
    },
    MissingAssignment {
        role: String,
    },
    WindowMissing,
    BackupTooOld,
    RestoreTestTooOld,
    DownMigrationMissing,
    OnCallMissing,
    SignOffMissing {
        role: String,
    },
    SignOffStale {
        role: String,
    },
    NoGo {
        role: String,
    },
    // Go-live and rollback.
    /// Now is outside the planned window; the release captain may override with a reason.
    OutsideWindow {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    Frozen {
        environment: String,
        reason: String,
        until: DateTime<Utc>,
    },
    GoLiveStarted,
    GoLiveNotStarted,
    /// Steps are recorded in the plan's order; `expected` names the next one.
    StepOutOfOrder {
        expected: Option<String>,
    },
    TargetNotHealthy {
        environment: String,
        state: String,
    },
    TargetOpenP1 {
        environment: String,
    },
    /// The target is not probed: say what was checked by hand.
    NoteRequired {
        environment: String,
    },
    HoldRunning {
        until: DateTime<Utc>,
    },
    PostReleaseOpen {
        key: String,
        text: String,
        #[serde(default)]
        text_de: String,
    },
    ReasonRequired,
}

/// The staging gate (T-12h): every staging-gate item settled, and every open P1/P2 either
/// resolved or explicitly accepted.
pub fn staging_gate_blockers(items: &[GateItem], issues: &[GateIssue]) -> Vec<Blocker> {
    let mut blockers: Vec<Blocker> = items
        .iter()
        .filter(|i| i.kind == ChecklistKind::StagingGate && !i.state.settles_gate())
        .map(|i| Blocker::ItemNotSettled {
            key: i.key.clone(),
            text: i.text.clone(),
            text_de: i.text_de.clone(),
            state: i.state,
        })
        .collect();
    blockers.extend(
        issues
            .iter()
            .filter(|i| matches!(i.severity, Severity::P1 | Severity::P2))
            .filter(|i| !i.resolved && !i.accepted)
            .map(|i| Blocker::KnownIssueOpen {
                key: i.key.clone(),
                severity: i.severity,
            }),
    );
    blockers
}

/// The staging gate of a release in `phase`: closed while still a draft, else by
/// [`staging_gate_blockers`].
pub fn staging_gate_status(phase: Phase, items: &[GateItem], issues: &[GateIssue]) -> Vec<Blocker> {
    let mut blockers = staging_gate_blockers(items, issues);
    if phase == Phase::Draft {
        blockers.insert(0, Blocker::WrongPhase { phase });
    }
    blockers
}

/// The go-live gate: open only in Go/No-Go or go-live, with the preconditions holding and
/// both sign-offs `go` on what is there now.
pub fn go_live_gate_status(
    phase: Phase,
    preconditions: &Preconditions,
    sign_offs: &[SignOff],
    current_hash: &str,
    now: DateTime<Utc>,
) -> Vec<Blocker> {
    let mut blockers = vec![];
    if !matches!(phase, Phase::GoNoGo | Phase::GoLive) {
        blockers.push(Blocker::WrongPhase { phase });
    }
    blockers.extend(precondition_blockers(preconditions, now));
    match go_no_go_verdict(sign_offs, current_hash) {
        Verdict::Go => {}
        Verdict::NoGo { role } => blockers.push(Blocker::NoGo {
            role: role.as_str().into(),
        }),
        Verdict::Pending { blockers: b } => blockers.extend(b),
    }
    blockers
}
