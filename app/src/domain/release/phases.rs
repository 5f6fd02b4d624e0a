//! A release's phases, and the phase changes a person may ask for.

use super::Blocker;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Draft,
    StagingGate,
    GoNoGo,
    GoLive,
    Done,
    NoGo,
    RolledBack,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Draft,
        Phase::StagingGate,
        Phase::GoNoGo,
        Phase::GoLive,
        Phase::Done,
        Phase::NoGo,
        Phase::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Draft => "draft",
            Phase::StagingGate => "staging_gate",
            Phase::GoNoGo => "go_no_go",
            Phase::GoLive => "go_live",
            Phase::Done => "done",
            Phase::NoGo => "no_go",
            Phase::RolledBack => "rolled_back",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Ended releases change no more; they belong to the archive.
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Done | Phase::NoGo | Phase::RolledBack)
    }
}

/// The facts a phase change is judged on.
pub struct PhaseChangeFacts<'a> {
    pub phase: Phase,
    pub has_window: bool,
    pub captain_assigned: bool,
    pub owner_assigned: bool,
    pub staging_blockers: &'a [Blocker],
    /// The go-live's first step is recorded.
    pub go_live_started: bool,
}

/// The phase change the release page offers next, if any: into the staging gate from a
/// draft, on to Go/No-Go from the staging gate, and back to Go/No-Go from the go-live when
/// what was signed changed before the go-live started (to sign again).
pub fn next_requested_phase(
    phase: Phase,
    go_live_started: bool,
    sign_off_stale: bool,
) -> Option<Phase> {
    match phase {
        Phase::Draft => Some(Phase::StagingGate),
        Phase::StagingGate => Some(Phase::GoNoGo),
        Phase::GoLive if !go_live_started && sign_off_stale => Some(Phase::GoNoGo),
        _ => None,
    }
}

/// The phase changes a person may ask for, and what blocks each. Go/No-Go outcomes
/// (`go_live`, `no_go`) follow from the sign-offs, not from a request.
pub fn phase_change_blockers(to: Phase, f: &PhaseChangeFacts<'_>) -> Vec<Blocker> {
    match (f.phase, to) {
        (Phase::Draft, Phase::StagingGate) => {
            let mut b = vec![];
            if !f.has_window {
                b.push(Blocker::WindowMissing);
            }
            if !f.captain_assigned {
                b.push(Blocker::MissingAssignment {
                    role: "release_captain".into(),
                });
            }
            if !f.owner_assigned {
                b.push(Blocker::MissingAssignment {
                    role: "product_owner".into(),
                });
            }
            b
        }
        (Phase::StagingGate, Phase::GoNoGo) => f.staging_blockers.to_vec(),
        (Phase::StagingGate | Phase::GoNoGo, Phase::Draft) => vec![],
        // Back to the decision, to sign again what changed since, before anything moved.
        (Phase::GoLive, Phase::GoNoGo) if f.go_live_started => vec![Blocker::GoLiveStarted],
        (Phase::GoLive, Phase::GoNoGo) => vec![],
        (from, _) => vec![Blocker::WrongPhase { phase: from }],
    }
}
