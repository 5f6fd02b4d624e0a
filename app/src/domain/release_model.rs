//! Releases as the API and the UI see them. Plain data, shared by server and browser.

use super::account::{Role, UserInfo};
use super::release::{Blocker, Decision, ItemState, Phase, Severity, SignerRole, Strategy};
use super::templates::ChecklistKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The links a release carries; all optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Links {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changelog: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tickets: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub down_migration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_restore: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboards: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_page_template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_channel: Option<String>,
}

impl Links {
    /// Each link with its field name, for validation and display.
    pub fn entries(&self) -> [(&'static str, &Option<String>); 9] {
        [
            ("changelog", &self.changelog),
            ("tickets", &self.tickets),
            ("rollback_plan", &self.rollback_plan),
            ("down_migration", &self.down_migration),
            ("backup_restore", &self.backup_restore),
            ("runbook", &self.runbook),
            ("dashboards", &self.dashboards),
            ("status_page_template", &self.status_page_template),
            ("chat_channel", &self.chat_channel),
        ]
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub id: i64,
    pub title: String,
    pub version: String,
    pub artifact_version: Option<String>,
    pub commit_sha: Option<String>,
    pub environment: String,
    pub staging_environment: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub strategy: Strategy,
    pub canary_stages: Vec<i32>,
    pub canary_hold_minutes: i32,
    pub links: Links,
    /// People as email addresses.
    pub release_captain: Option<String>,
    pub product_owner: Option<String>,
    pub phase: Phase,
    pub last_backup_at: Option<DateTime<Utc>>,
    pub last_restore_test_at: Option<DateTime<Utc>>,
    pub on_call: Option<String>,
    pub required_env_vars: Vec<String>,
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Release {
    /// The person is this release's release captain: assigned, and holding the role.
    pub fn is_captain(&self, u: &UserInfo) -> bool {
        u.has_role(Role::ReleaseCaptain)
            && self.release_captain.as_deref() == Some(u.email.as_str())
    }

    /// The person is this release's product owner: assigned, and holding the role.
    pub fn is_owner(&self, u: &UserInfo) -> bool {
        u.has_role(Role::ProductOwner) && self.product_owner.as_deref() == Some(u.email.as_str())
    }

    /// Who may accept risks and known issues on this release.
    pub fn is_captain_or_owner(&self, u: &UserInfo) -> bool {
        self.is_captain(u) || self.is_owner(u)
    }

    /// Whether `u` signs for `role` on this release (assigned, and holding the role).
    pub fn signs_for(&self, u: &UserInfo, role: SignerRole) -> bool {
        match role {
            SignerRole::ProductOwner => self.is_owner(u),
            SignerRole::ReleaseCaptain => self.is_captain(u),
        }
    }

    /// The signer roles `u` holds on this release and still has to sign while it waits for
    /// the decision: not signed yet, or signed on something that has changed since.
    pub fn roles_left_to_sign(&self, sign_offs: &[SignOffView], u: &UserInfo) -> Vec<SignerRole> {
        if self.phase != Phase::GoNoGo {
            return vec![];
        }
        SignerRole::ALL
            .into_iter()
            .filter(|role| self.signs_for(u, *role))
            .filter(|role| !sign_offs.iter().any(|s| s.role == *role && !s.stale))
            .collect()
    }

    /// Who may change who is assigned as captain or product owner, given how many
    /// sign-offs the release holds: anyone who may edit it while it is a draft, only an
    /// admin once it has left the draft, and no one once both have signed.
    pub fn reassignment(&self, sign_offs: usize) -> Reassignment {
        if sign_offs >= 2 || self.phase.is_final() {
            Reassignment::Closed
        } else if self.phase == Phase::Draft {
            Reassignment::Editors
        } else {
            Reassignment::AdminsOnly
        }
    }

    /// Whether the go-live plan (strategy, stages, hold, target, window) differs; it is
    /// locked once the go-live has started (see [`crate::domain::golive::plan_locked`]).
    pub fn plan_differs(&self, other: &Release) -> bool {
        self.strategy != other.strategy
            || self.canary_stages != other.canary_stages
            || self.canary_hold_minutes != other.canary_hold_minutes
            || self.environment != other.environment
            || self.window_start != other.window_start
            || self.window_end != other.window_end
    }

    /// Who may move the release through its phases: its captain, or an admin.
    pub fn may_steer(&self, u: &UserInfo) -> bool {
        u.is_admin() || self.is_captain(u)
    }
}

/// Whether the people assigned to a release may still change (see [`Release::reassignment`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reassignment {
    Editors,
    AdminsOnly,
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub id: i64,
    pub kind: ChecklistKind,
    pub position: i32,
    pub key: String,
    pub section_de: String,
    pub section_en: String,
    pub text_de: String,
    pub text_en: String,
    pub evidence_required: bool,
    pub state: ItemState,
    pub note: String,
    pub reason: String,
    pub links: Vec<String>,
    /// How much evidence is attached to the item and not retracted. Published as
    /// `attachments` in JSON.
    #[serde(default, rename = "attachments")]
    pub evidence_count: i64,
    /// Who set the item last (name, else e-mail) and when; `None` while nobody has.
    #[serde(default)]
    pub updated_by: Option<String>,
    #[serde(default)]
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownIssue {
    pub id: i64,
    pub key: String,
    pub severity: Severity,
    pub title: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accept_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignOffView {
    pub role: SignerRole,
    pub signer: String,
    pub decision: Decision,
    pub comment: String,
    pub signed_at: DateTime<Utc>,
    /// Something changed since this was signed; it must be signed again.
    pub stale: bool,
}

/// A stored sign-off with its signer's email.
#[derive(Clone, Debug)]
pub struct SignOffRow {
    pub sign_off: super::release::SignOff,
    pub signer: String,
    pub comment: String,
}

/// A gate's state: open, or closed with the reasons.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct GateReport {
    pub passed: bool,
    pub blockers: Vec<Blocker>,
}

impl GateReport {
    pub fn of(blockers: Vec<Blocker>) -> GateReport {
        GateReport {
            passed: blockers.is_empty(),
            blockers,
        }
    }
}

/// One line of the release page's audit trail: who did what when (the API's
/// [`AuditRow`] carries the old and new values too).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditLine {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
}

impl From<&AuditRow> for AuditLine {
    fn from(a: &AuditRow) -> Self {
        AuditLine {
            at: a.at,
            actor: a.actor.clone(),
            action: a.action.clone(),
        }
    }
}

/// One row of a release's audit trail.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub old: Option<serde_json::Value>,
    pub new: Option<serde_json::Value>,
}

/// A release in the list: what blocks it and its next deadline.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReleaseRow {
    pub release: Release,
    pub deadline: Option<super::release::Deadline>,
    pub blockers: Vec<Blocker>,
    /// Going live while the target environment has an open P1.
    pub rollback_suggested: bool,
}

/// Everything the release page shows.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReleaseDetails {
    pub release: Release,
    pub deadline: Option<super::release::Deadline>,
    pub checklist: Vec<ChecklistItem>,
    pub known_issues: Vec<KnownIssue>,
    pub sign_offs: Vec<SignOffView>,
    pub staging: GateReport,
    pub go_live: GateReport,
    pub audit: Vec<AuditLine>,
    /// Everything attached, retracted pieces included.
    pub evidence: Vec<super::evidence::Evidence>,
    /// Going live while the target environment has an open P1.
    pub rollback_suggested: bool,
    /// The go-live as recorded and what comes next; from the go-live on.
    pub going_live: Option<super::golive::GoLiveOverview>,
    /// The hash of what a sign-off given now approves
    /// ([`super::release::content::signed_content`]).
    pub content_hash: String,
}
