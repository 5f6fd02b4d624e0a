//! Server-side use cases. Both the UI's server functions and the REST API call these,
//! so each rule is enforced in exactly one place. The modules form a DAG (checked by
//! `scripts/check-layers.py`): [`release_store`] is the leaf that loads and locks what use
//! cases read, [`lifecycle`] owns phase changes and sealing, [`events`] owns what others
//! are told (`NOTIFY`, webhooks). No service imports an edge (server functions, the UI,
//! `auth`, `state`).

pub mod accounts;
pub mod alerts;
pub mod archive;
pub mod audit;
pub mod auth_cache;
pub mod calendar;
pub mod checklists;
pub mod dossier;
pub mod environments;
pub mod error;
pub mod events;
pub mod evidence;
pub mod freezes;
pub mod golive;
pub mod lifecycle;
pub mod logs;
pub mod metrics;
pub mod notifications;
pub mod page_cache;
pub mod pages;
pub mod passwords;
pub mod preferences;
pub mod probe_evidence;
pub mod probes;
pub mod release_store;
pub mod releases;
pub mod signoffs;
pub mod sso;
pub mod status;
pub mod storage;
pub mod templates;
pub mod throttle;
pub mod tokens;

pub use error::ServiceError;

use crate::domain::account::{Credential, CurrentUser, UserInfo};
use crate::domain::release_model::Release;

/// Who is asking: a signed-in person, or the operator at the command line.
#[derive(Clone, Debug)]
pub enum Actor {
    Cli,
    /// Shipgate's own probes, acting on what they measured.
    Probes,
    User(UserInfo),
}

impl Actor {
    /// The account behind the action, for `*_by` columns; `None` for the command line.
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Actor::Cli | Actor::Probes => None,
            Actor::User(u) => Some(u.id),
        }
    }

    /// Allowed when the command line or the probes act, or when the person passes `rule`.
    fn require(&self, rule: impl FnOnce(&UserInfo) -> bool) -> Result<(), ServiceError> {
        match self {
            Actor::Cli | Actor::Probes => Ok(()),
            Actor::User(u) if rule(u) => Ok(()),
            Actor::User(_) => Err(ServiceError::Forbidden),
        }
    }

    pub fn require_admin(&self) -> Result<(), ServiceError> {
        self.require(UserInfo::is_admin)
    }

    /// Who may plan releases (see [`UserInfo::may_plan`]).
    pub fn require_planner(&self) -> Result<(), ServiceError> {
        self.require(UserInfo::may_plan)
    }

    /// Who may work on a release: tick checklists, report deployments, record known issues.
    pub fn require_worker(&self) -> Result<(), ServiceError> {
        self.require(UserInfo::is_worker)
    }

    /// Who may move this release along (edits, phases, go-live steps): its captain or an
    /// admin (see [`Release::may_steer`]).
    pub fn require_steer(&self, r: &Release) -> Result<(), ServiceError> {
        self.require(|u| r.may_steer(u))
    }
}

impl CurrentUser {
    /// For what only the person at the keyboard may do (see [`ServiceError::SessionRequired`]).
    pub fn require_browser_session(&self) -> Result<(), ServiceError> {
        match self.via {
            Credential::Session => Ok(()),
            Credential::Token => Err(ServiceError::SessionRequired),
        }
    }

    /// The person as the one acting in a use case.
    pub fn actor(&self) -> Actor {
        Actor::User(self.user.clone())
    }
}
