//! Releases: phases and their transitions, the staging gate, the Go/No-Go sign-off policy
//! and the deadlines counted back from the go-live window. Pure: callers pass `now` in.

use super::templates::ChecklistKind;
use chrono::{DateTime, Duration, Utc};
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    BlueGreen,
    Canary,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::BlueGreen => "blue_green",
            Strategy::Canary => "canary",
        }
    }
    pub fn parse(s: &str) -> Option<Strategy> {
        match s {
            "blue_green" => Some(Strategy::BlueGreen),
            "canary" => Some(Strategy::Canary),
            _ => None,
        }
    }
}

/// The variables the procedure requires for the target environment (section 1,
/// "Freigabe-Check"); a release starts with these and may change them.
pub const DEFAULT_REQUIRED_ENV_VARS: [&str; 8] = [
    "MONGODB_URI",
    "AUTH_SECRET",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "FILE_STORAGE_MODE",
    "AWS_REGION",
    "LOG_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// The spec's canary: 10 % → 50 % → 100 %, holding 30 minutes at each stage.
pub const DEFAULT_CANARY_STAGES: [i32; 3] = [10, 50, 100];
pub const DEFAULT_CANARY_HOLD_MINUTES: i32 = 30;

/// Canary stages must rise strictly and end at 100 %.
pub fn check_canary_stages(stages: &[i32]) -> bool {
    !stages.is_empty()
        && stages.windows(2).all(|w| w[0] < w[1])
        && stages.first().is_some_and(|s| *s > 0)
        && stages.last() == Some(&100)
}

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
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            ItemState::Open => lang.pick("open", "offen"),
            ItemState::Passed => lang.pick("passed", "bestanden"),
            ItemState::Failed => lang.pick("failed", "fehlgeschlagen"),
            ItemState::NotApplicable => lang.pick("not applicable", "nicht anwendbar"),
            ItemState::AcceptedRisk => lang.pick("accepted risk", "Risiko akzeptiert"),
        }
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
    needs_proof: bool,
    actor_is_captain_or_owner: bool,
) -> Result<(), ItemRefusal> {
    if new_state == ItemState::NotApplicable && needs_proof && !actor_is_captain_or_owner {
        return Err(ItemRefusal::OnlyCaptainOrOwnerNotApplicable);
    }
    Ok(())
}

/// Whether an item goes back to `open` when proof is taken away (evidence retracted): it
/// passed, and with the `proof_left` (links and attached files) it could not pass now.
pub fn reopens_without_proof(state: ItemState, evidence_required: bool, proof_left: usize) -> bool {
    // Judged as a pass in an open phase by someone allowed to: only the evidence rule counts.
    state == ItemState::Passed
        && check_item_change(
            Phase::Draft,
            state,
            None,
            evidence_required,
            proof_left,
            true,
        ) == Err(ItemRefusal::EvidenceRequired)
}

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

/// A checklist item as the gates see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateItem {
    pub key: String,
    pub kind: ChecklistKind,
    pub text: String,
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
    ItemNotSettled {
        key: String,
        text: String,
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

/// The Go/No-Go preconditions, entered by the team and checked against the clock.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preconditions {
    pub last_backup_at: Option<DateTime<Utc>>,
    pub last_restore_test_at: Option<DateTime<Utc>>,
    pub down_migration_url: Option<String>,
    pub on_call: Option<String>,
}

pub const BACKUP_MAX_AGE_HOURS: i64 = 24;
pub const RESTORE_TEST_MAX_AGE_DAYS: i64 = 30;

/// Whether something done `at` is younger than `max` (and not in the future beyond a
/// few minutes of clock skew).
pub fn is_fresh(at: Option<DateTime<Utc>>, max: Duration, now: DateTime<Utc>) -> bool {
    at.is_some_and(|t| t <= now + Duration::minutes(5) && now - t < max)
}

/// The backup is current: younger than [`BACKUP_MAX_AGE_HOURS`].
pub fn backup_is_current(last_backup_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    is_fresh(last_backup_at, Duration::hours(BACKUP_MAX_AGE_HOURS), now)
}

pub fn precondition_blockers(p: &Preconditions, now: DateTime<Utc>) -> Vec<Blocker> {
    let fresh = |at: Option<DateTime<Utc>>, max: Duration| is_fresh(at, max, now);
    let present = |s: &Option<String>| s.as_deref().is_some_and(|v| !v.trim().is_empty());
    let mut out = vec![];
    if !backup_is_current(p.last_backup_at, now) {
        out.push(Blocker::BackupTooOld);
    }
    if !fresh(
        p.last_restore_test_at,
        Duration::days(RESTORE_TEST_MAX_AGE_DAYS),
    ) {
        out.push(Blocker::RestoreTestTooOld);
    }
    if !present(&p.down_migration_url) {
        out.push(Blocker::DownMigrationMissing);
    }
    if !present(&p.on_call) {
        out.push(Blocker::OnCallMissing);
    }
    out
}

/// Who signs the Go/No-Go decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerRole {
    ProductOwner,
    ReleaseCaptain,
}

impl SignerRole {
    pub const ALL: [SignerRole; 2] = [SignerRole::ProductOwner, SignerRole::ReleaseCaptain];
    pub fn as_str(self) -> &'static str {
        match self {
            SignerRole::ProductOwner => "product_owner",
            SignerRole::ReleaseCaptain => "release_captain",
        }
    }
    pub fn parse(s: &str) -> Option<SignerRole> {
        SignerRole::ALL.into_iter().find(|r| r.as_str() == s)
    }
    pub fn account_role(self) -> super::account::Role {
        match self {
            SignerRole::ProductOwner => super::account::Role::ProductOwner,
            SignerRole::ReleaseCaptain => super::account::Role::ReleaseCaptain,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Go,
    NoGo,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Go => "go",
            Decision::NoGo => "no_go",
        }
    }
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "go" => Some(Decision::Go),
            "no_go" => Some(Decision::NoGo),
            _ => None,
        }
    }
}

/// A recorded sign-off and the hash of what it approved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOff {
    pub role: SignerRole,
    pub signer_id: i64,
    pub decision: Decision,
    pub content_hash: String,
    pub signed_at: DateTime<Utc>,
}

/// Everything the sign-off rule needs to know about the attempt.
pub struct SignAttempt<'a> {
    pub role: SignerRole,
    pub decision: Decision,
    pub comment: Option<&'a str>,
    pub signer_id: i64,
    pub signer_holds_role: bool,
    pub via_browser_session: bool,
    pub phase: Phase,
    pub assigned_id: Option<i64>,
    /// The person assigned to (or having signed for) the other role.
    pub other_signer_id: Option<i64>,
    pub preconditions: &'a [Blocker],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignRefusal {
    BrowserSessionRequired,
    WrongPhase(Phase),
    MissingRole,
    NotAssigned,
    SamePersonTwice,
    CommentRequired,
    PreconditionsUnmet,
}

/// The Go/No-Go sign-off policy.
pub fn check_sign_off(a: &SignAttempt<'_>) -> Result<(), SignRefusal> {
    if !a.via_browser_session {
        return Err(SignRefusal::BrowserSessionRequired);
    }
    // Who may sign is settled before whether now is the time to.
    if !a.signer_holds_role {
        return Err(SignRefusal::MissingRole);
    }
    if a.assigned_id != Some(a.signer_id) {
        return Err(SignRefusal::NotAssigned);
    }
    if a.other_signer_id == Some(a.signer_id) {
        return Err(SignRefusal::SamePersonTwice);
    }
    if a.phase != Phase::GoNoGo {
        return Err(SignRefusal::WrongPhase(a.phase));
    }
    if a.decision == Decision::NoGo && a.comment.is_none_or(|c| c.trim().is_empty()) {
        return Err(SignRefusal::CommentRequired);
    }
    if a.decision == Decision::Go && !a.preconditions.is_empty() {
        return Err(SignRefusal::PreconditionsUnmet);
    }
    Ok(())
}

/// The state of the Go/No-Go decision given the sign-offs and the current content hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Both signed `go` on what is there now.
    Go,
    /// Someone signed `no_go`.
    NoGo {
        role: SignerRole,
    },
    Pending {
        blockers: Vec<Blocker>,
    },
}

pub fn go_no_go_verdict(sign_offs: &[SignOff], current_hash: &str) -> Verdict {
    if let Some(no) = sign_offs.iter().find(|s| s.decision == Decision::NoGo) {
        return Verdict::NoGo { role: no.role };
    }
    let blockers: Vec<Blocker> = SignerRole::ALL
        .into_iter()
        .filter_map(|role| match sign_offs.iter().find(|s| s.role == role) {
            None => Some(Blocker::SignOffMissing {
                role: role.as_str().into(),
            }),
            Some(s) if s.content_hash != current_hash => Some(Blocker::SignOffStale {
                role: role.as_str().into(),
            }),
            Some(_) => None,
        })
        .collect();
    if blockers.is_empty() {
        Verdict::Go
    } else {
        Verdict::Pending { blockers }
    }
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

/// Whether a sign-off still covers what is there now.
pub fn is_stale(sign_off: &SignOff, current_hash: &str) -> bool {
    sign_off.content_hash != current_hash
}

/// The facts a phase change is judged on.
pub struct TransitionFacts<'a> {
    pub phase: Phase,
    pub has_window: bool,
    pub captain_assigned: bool,
    pub owner_assigned: bool,
    pub staging_blockers: &'a [Blocker],
    /// The go-live's first step is recorded.
    pub go_live_started: bool,
}

/// The transitions a person may ask for. Go/No-Go outcomes (`go_live`, `no_go`) follow
/// from the sign-offs, not from a request.
pub fn requested_transition_blockers(to: Phase, f: &TransitionFacts<'_>) -> Vec<Blocker> {
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

/// The next deadline the release has to meet, if any.
pub fn next_deadline(
    phase: Phase,
    window_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Deadline> {
    let (what, due) = match phase {
        Phase::Draft | Phase::StagingGate => (
            Phase::StagingGate,
            window_start - Duration::hours(STAGING_GATE_LEAD_HOURS),
        ),
        Phase::GoNoGo => (
            Phase::GoNoGo,
            window_start - Duration::hours(GO_NO_GO_LEAD_HOURS),
        ),
        _ => return None,
    };
    Some(Deadline {
        what,
        due,
        overdue: now > due,
        as_of: now,
    })
}

#[cfg(test)]
mod tests;
