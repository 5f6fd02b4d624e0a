//! Checklist items: their states and the rules for changing one.

use super::Phase;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Open,
    Passed,
    Failed,
    NotApplicable,
    AcceptedRisk,
}

impl ItemState {
    pub const ALL: [ItemState; 5] = [
        ItemState::Open,
        ItemState::Passed,
        ItemState::Failed,
        ItemState::NotApplicable,
        ItemState::AcceptedRisk,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Open => "open",
            ItemState::Passed => "passed",
            ItemState::Failed => "failed",
            ItemState::NotApplicable => "not_applicable",
            ItemState::AcceptedRisk => "accepted_risk",
        }
    }
    pub fn parse(s: &str) -> Option<ItemState> {
        ItemState::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether the item no longer holds up its gate.
    pub fn settles_gate(self) -> bool {
        matches!(
            self,
            ItemState::Passed | ItemState::NotApplicable | ItemState::AcceptedRisk
        )
    }
}

/// What a person may set a checklist item to, and what it then needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemRefusal {
    ReasonRequired,
    EvidenceRequired,
    OnlyCaptainOrOwnerAcceptRisk,
    OnlyCaptainOrOwnerNotApplicable,
    ReleaseClosed,
}

/// The rule for changing one checklist item.
pub fn check_item_change(
    phase: Phase,
    new_state: ItemState,
    reason: Option<&str>,
    evidence_required: bool,
    evidence_count: usize,
    actor_is_captain_or_owner: bool,
) -> Result<(), ItemRefusal> {
    if phase.is_final() {
        return Err(ItemRefusal::ReleaseClosed);
    }
    let has_reason = reason.is_some_and(|r| !r.trim().is_empty());
    match new_state {
        ItemState::NotApplicable if !has_reason => Err(ItemRefusal::ReasonRequired),
        ItemState::AcceptedRisk if !has_reason => Err(ItemRefusal::ReasonRequired),
        ItemState::AcceptedRisk if !actor_is_captain_or_owner => {
            Err(ItemRefusal::OnlyCaptainOrOwnerAcceptRisk)
        }
        ItemState::Passed if evidence_required && evidence_count == 0 => {
            Err(ItemRefusal::EvidenceRequired)
        }
        _ => Ok(()),
    }
}

/// Marking an item not applicable removes the need for its proof. For an item that needs
/// proof (evidence required, or proven only by the probes) that is the release's captain's
/// or owner's call, never any engineer's.
pub fn check_not_applicable(
    new_state: ItemState,
    needs_evidence: bool,
    actor_is_captain_or_owner: bool,
) -> Result<(), ItemRefusal> {
    if new_state == ItemState::NotApplicable && needs_evidence && !actor_is_captain_or_owner {
        return Err(ItemRefusal::OnlyCaptainOrOwnerNotApplicable);
    }
    Ok(())
}

/// Whether a person may choose `state` for an item at all: the role part of
/// [`check_item_change`] and [`check_not_applicable`], so a form offers only the states its
/// reader may save (reasons and evidence are asked for when saving).
pub fn role_allows_state(
    state: ItemState,
    needs_evidence: bool,
    actor_is_captain_or_owner: bool,
) -> bool {
    let refused_for_role = |r: Result<(), ItemRefusal>| {
        matches!(
            r,
            Err(ItemRefusal::OnlyCaptainOrOwnerAcceptRisk
                | ItemRefusal::OnlyCaptainOrOwnerNotApplicable)
        )
    };
    !refused_for_role(check_item_change(
        Phase::Draft,
        state,
        Some("reason"),
        false,
        0,
        actor_is_captain_or_owner,
    )) && !refused_for_role(check_not_applicable(
        state,
        needs_evidence,
        actor_is_captain_or_owner,
    ))
}

/// Whether an item goes back to `open` when proof is taken away (evidence retracted): it
/// passed, and with the `evidence_left` (links and attached files) it could not pass now.
pub fn reopens_without_evidence(
    state: ItemState,
    evidence_required: bool,
    evidence_left: usize,
) -> bool {
    // Judged as a pass in an open phase by someone allowed to: only the evidence rule counts.
    state == ItemState::Passed
        && check_item_change(
            Phase::Draft,
            state,
            None,
            evidence_required,
            evidence_left,
            true,
        ) == Err(ItemRefusal::EvidenceRequired)
}
