//! Releases: phases and their phase changes, the staging gate, the Go/No-Go sign-off policy
//! and the deadlines counted back from the go-live window. Pure: callers pass `now` in.

mod checklist;
pub mod content;
mod deadlines;
mod gates;
mod go_no_go;
pub mod input;
mod phases;
mod rollout;

pub use checklist::{
    check_item_change, check_not_applicable, reopens_without_evidence, role_allows_state,
    ItemRefusal, ItemState,
};
pub use deadlines::{
    go_no_go_due, next_deadline, staging_gate_due, Countdown, Deadline, GO_NO_GO_LEAD_HOURS,
    STAGING_GATE_LEAD_HOURS,
};
pub use gates::{
    go_live_gate_status, staging_gate_blockers, staging_gate_status, Blocker, GateIssue, GateItem,
    Severity,
};
pub use go_no_go::{
    backup_is_current, check_sign_off, go_no_go_verdict, is_fresh, is_stale, precondition_blockers,
    Decision, Preconditions, SignAttempt, SignOff, SignRefusal, SignerRole, Verdict,
    BACKUP_MAX_AGE_HOURS, RESTORE_TEST_MAX_AGE_DAYS,
};
pub use phases::{next_requested_phase, phase_change_blockers, Phase, PhaseChangeFacts};
pub use rollout::{
    check_canary_stages, Strategy, DEFAULT_CANARY_HOLD_MINUTES, DEFAULT_CANARY_STAGES,
    DEFAULT_REQUIRED_ENV_VARS,
};

#[cfg(test)]
mod tests;
