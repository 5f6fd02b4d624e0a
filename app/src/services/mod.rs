//! Server-side use cases. Both the UI's server functions and the REST API call these,
//! so each rule about accounts is enforced in exactly one place.

pub mod accounts;
pub mod alerts;
pub mod archive;
pub mod audit;
pub mod auth_cache;
pub mod checklists;
pub mod dossier;
pub mod environments;
pub mod error;
pub mod evidence;
pub mod freezes;
pub mod golive;
pub mod logs;
pub mod metrics;
pub mod page_cache;
pub mod passwords;
pub mod probe_evidence;
pub mod probes;
pub mod releases;
pub mod signoffs;
pub mod status;
pub mod storage;
pub mod templates;
pub mod throttle;
pub mod tokens;

pub use error::ServiceError;

use crate::domain::account::UserInfo;

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

    pub fn require_admin(&self) -> Result<(), ServiceError> {
        match self {
            Actor::Cli | Actor::Probes => Ok(()),
            Actor::User(u) if u.is_admin() => Ok(()),
            Actor::User(_) => Err(ServiceError::Forbidden),
        }
    }
}
