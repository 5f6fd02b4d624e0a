//! The Go/No-Go decision (T-1h): its preconditions, who signs and when they may, and the
//! verdict the sign-offs give on what is there now.

use super::{Blocker, Phase};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

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
    pub fn account_role(self) -> crate::domain::account::Role {
        match self {
            SignerRole::ProductOwner => crate::domain::account::Role::ProductOwner,
            SignerRole::ReleaseCaptain => crate::domain::account::Role::ReleaseCaptain,
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

/// Whether a sign-off still covers what is there now.
pub fn is_stale(sign_off: &SignOff, current_hash: &str) -> bool {
    sign_off.content_hash != current_hash
}
