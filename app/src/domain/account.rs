//! Accounts and roles: who may do what, and what a valid credential looks like.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a person may do in Shipgate. A user can hold several roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ReleaseCaptain,
    ProductOwner,
    Engineer,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::ReleaseCaptain,
        Role::ProductOwner,
        Role::Engineer,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ReleaseCaptain => "release_captain",
            Role::ProductOwner => "product_owner",
            Role::Engineer => "engineer",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role `{0}` (expected one of admin, release_captain, product_owner, engineer, viewer)"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// Parses role names, dropping duplicates and keeping a stable order.
pub fn parse_roles<S: AsRef<str>>(names: &[S]) -> Result<Vec<Role>, UnknownRole> {
    let mut roles = names
        .iter()
        .map(|n| n.as_ref().parse())
        .collect::<Result<Vec<Role>, _>>()?;
    roles.sort();
    roles.dedup();
    Ok(roles)
}

/// How the current request proved who it is. Some actions (signing a Go/No-Go) demand a
/// browser session and refuse API tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    Session,
    Token,
}

/// The authenticated caller: who, and by which credential. The edges put it into each
/// request; use cases that care how someone signed in take it.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: UserInfo,
    pub via: Credential,
}

/// The signed-in person as the UI and the API see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
}

impl UserInfo {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }
    /// Works on releases (checklists, known issues, evidence): every role but viewer.
    pub fn is_worker(&self) -> bool {
        self.roles.iter().any(|r| *r != Role::Viewer)
    }
    /// Plans releases (creates them, edits the ones they steer): admins and release captains.
    pub fn may_plan(&self) -> bool {
        self.has_role(Role::Admin) || self.has_role(Role::ReleaseCaptain)
    }
    pub fn display_name(&self) -> &str {
        if self.name.trim().is_empty() {
            &self.email
        } else {
            &self.name
        }
    }
}

/// A user as an admin sees them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct UserRecord {
    pub user: UserInfo,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A personal API token as its owner sees it; the secret itself is never shown again.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A freshly issued token; `secret` is the only copy there will ever be.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct IssuedToken {
    pub token: TokenInfo,
    pub secret: String,
}

pub const PASSWORD_MIN_CHARS: usize = 8;
/// Long passphrases are welcome; the cap only keeps hashing cost bounded.
pub const PASSWORD_MAX_CHARS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
}

pub fn check_password(password: &str) -> Result<(), PasswordProblem> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        Err(PasswordProblem::TooShort)
    } else if n > PASSWORD_MAX_CHARS {
        Err(PasswordProblem::TooLong)
    } else {
        Ok(())
    }
}

/// Normalises an email address for storage and lookup, or says it is not one.
pub fn normalize_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
        && email.len() <= 254;
    plausible.then_some(email)
}

pub const NAME_MAX_CHARS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("superuser".parse::<Role>().is_err());
    }

    #[test]
    fn parse_roles_dedups_and_rejects_unknown() {
        assert_eq!(
            parse_roles(&["viewer", "admin", "viewer"]).unwrap(),
            vec![Role::Admin, Role::Viewer]
        );
        assert_eq!(
            parse_roles(&["admin", "root"]),
            Err(UnknownRole("root".into()))
        );
    }

    #[test]
    fn password_policy_allows_8_to_256_characters() {
        assert_eq!(check_password("1234567"), Err(PasswordProblem::TooShort));
        assert_eq!(check_password("12345678"), Ok(()));
        assert_eq!(check_password(&"x".repeat(64)), Ok(()));
        assert_eq!(check_password(&"ü".repeat(256)), Ok(()));
        assert_eq!(
            check_password(&"x".repeat(257)),
            Err(PasswordProblem::TooLong)
        );
    }

    #[test]
    fn emails_are_normalised_or_rejected() {
        assert_eq!(
            normalize_email("  Ada@Example.ORG "),
            Some("ada@example.org".into())
        );
        for bad in [
            "",
            "ada",
            "@example.org",
            "ada@",
            "a b@example.org",
            "a@b@c",
            "ada@.org",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn display_name_falls_back_to_email() {
        let mut u = UserInfo {
            id: 1,
            email: "ada@example.org".into(),
            name: " ".into(),
            roles: vec![Role::Viewer],
        };
        assert_eq!(u.display_name(), "ada@example.org");
        u.name = "Ada".into();
        assert_eq!(u.display_name(), "Ada");
        assert!(!u.is_admin());
    }
}
