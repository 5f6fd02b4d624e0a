//! Single sign-on rules: which roles a provider's groups give, who may sign in through the
//! provider, and who may still use a local password (break-glass).

use super::account::Role;
use crate::i18n::Lang;
use std::fmt;
use std::str::FromStr;

/// `OIDC_ROLE_MAP`: for each role, the provider groups that give it (`*`: everybody the
/// provider signs in). Written `admin=shipgate-admins;release_captain=captains,platform;viewer=*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleMap {
    entries: Vec<(Role, Vec<String>)>,
}

impl RoleMap {
    pub fn parse(text: &str) -> Result<RoleMap, String> {
        let mut entries: Vec<(Role, Vec<String>)> = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (role, groups) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not `role=group,group`"))?;
            let role: Role = role.trim().parse().map_err(|e| format!("{e}"))?;
            let groups: Vec<String> = groups
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_string)
                .collect();
            if groups.is_empty() {
                return Err(format!("`{part}` names no group"));
            }
            match entries.iter_mut().find(|(r, _)| *r == role) {
                Some((_, known)) => known.extend(groups),
                None => entries.push((role, groups)),
            }
        }
        if entries.is_empty() {
            return Err("names no role".into());
        }
        Ok(RoleMap { entries })
    }

    /// The roles `groups` give, sorted; empty when none applies.
    pub fn roles_for<S: AsRef<str>>(&self, groups: &[S]) -> Vec<Role> {
        let mut roles: Vec<Role> = self
            .entries
            .iter()
            .filter(|(_, wanted)| {
                wanted
                    .iter()
                    .any(|w| w == "*" || groups.iter().any(|g| g.as_ref() == w))
            })
            .map(|(r, _)| *r)
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }
}

/// `LOCAL_LOGIN`: who may sign in with a Shipgate password. With single sign-on the default
/// is `admins-only`, so an administrator can still get in when the provider is down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LocalLogin {
    #[default]
    On,
    AdminsOnly,
    Off,
}

impl LocalLogin {
    pub fn as_str(self) -> &'static str {
        match self {
            LocalLogin::On => "on",
            LocalLogin::AdminsOnly => "admins-only",
            LocalLogin::Off => "off",
        }
    }

    /// Whether a person with `roles` may sign in with their password.
    pub fn permits(self, roles: &[Role]) -> bool {
        match self {
            LocalLogin::On => true,
            LocalLogin::AdminsOnly => roles.contains(&Role::Admin),
            LocalLogin::Off => false,
        }
    }
}

impl FromStr for LocalLogin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "on" => Ok(LocalLogin::On),
            "admins-only" => Ok(LocalLogin::AdminsOnly),
            "off" => Ok(LocalLogin::Off),
            other => Err(format!("`{other}` is not one of on, admins-only, off")),
        }
    }
}

/// Who may sign in through the provider, and with which roles.
#[derive(Clone, Debug, Default)]
pub struct SsoPolicy {
    /// Roles come from groups at every sign-in; `None`: roles are managed in Shipgate.
    pub role_map: Option<RoleMap>,
    /// Only members of one of these groups get in; `None`: everyone the provider signs in.
    pub allowed_groups: Option<Vec<String>>,
    /// New people get an account at their first sign-in.
    pub create_users: bool,
}

impl SsoPolicy {
    /// The roles the policy gives a person in `groups`: `Ok(None)` when Shipgate manages
    /// roles itself, a refusal when the groups keep them out.
    pub fn judge<S: AsRef<str>>(&self, groups: &[S]) -> Result<Option<Vec<Role>>, SsoRefusal> {
        if let Some(allowed) = &self.allowed_groups {
            if !groups
                .iter()
                .any(|g| allowed.iter().any(|a| a == g.as_ref()))
            {
                return Err(SsoRefusal::Group);
            }
        }
        match &self.role_map {
            None => Ok(None),
            Some(map) => {
                let roles = map.roles_for(groups);
                if roles.is_empty() {
                    Err(SsoRefusal::NoRole)
                } else {
                    Ok(Some(roles))
                }
            }
        }
    }
}

/// Why a sign-in through the provider ended without a session. The code travels in the
/// redirect to `/login?error=…`; the person sees the short text, the log gets the detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SsoRefusal {
    /// No sign-in was started in this browser with this `state` (forged, expired or used).
    State,
    /// The provider answered with an error, or refused to exchange the code (replayed).
    Provider,
    /// The ID token failed verification (signature, issuer, audience, expiry, nonce).
    Token,
    /// The provider could not be reached.
    Unreachable,
    /// Not a member of any of `OIDC_ALLOWED_GROUPS`.
    Group,
    /// `OIDC_ROLE_MAP` gives no role.
    NoRole,
    /// An account with this e-mail exists, but the provider does not vouch for the address.
    Unverified,
    /// Nobody matches and `OIDC_CREATE_USERS=false`.
    NoAccount,
    /// The account is disabled in Shipgate.
    Disabled,
    /// No usable e-mail address for a new account.
    Email,
    /// The account with this e-mail is linked to another identity at the provider.
    Linked,
}

impl SsoRefusal {
    pub const ALL: [SsoRefusal; 11] = [
        SsoRefusal::State,
        SsoRefusal::Provider,
        SsoRefusal::Token,
        SsoRefusal::Unreachable,
        SsoRefusal::Group,
        SsoRefusal::NoRole,
        SsoRefusal::Unverified,
        SsoRefusal::NoAccount,
        SsoRefusal::Disabled,
        SsoRefusal::Email,
        SsoRefusal::Linked,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SsoRefusal::State => "sso_state",
            SsoRefusal::Provider => "sso_provider",
            SsoRefusal::Token => "sso_token",
            SsoRefusal::Unreachable => "sso_unreachable",
            SsoRefusal::Group => "sso_group",
            SsoRefusal::NoRole => "sso_no_role",
            SsoRefusal::Unverified => "sso_unverified",
            SsoRefusal::NoAccount => "sso_no_account",
            SsoRefusal::Disabled => "sso_disabled",
            SsoRefusal::Email => "sso_email",
            SsoRefusal::Linked => "sso_linked",
        }
    }

    pub fn from_code(code: &str) -> Option<SsoRefusal> {
        SsoRefusal::ALL.into_iter().find(|r| r.code() == code)
    }

    /// 400 for a sign-in that went wrong on the way, 403 for a person who is kept out,
    /// 502 for a provider that could not be reached.
    pub fn status(self) -> u16 {
        match self {
            SsoRefusal::State | SsoRefusal::Provider | SsoRefusal::Token => 400,
            SsoRefusal::Unreachable => 502,
            _ => 403,
        }
    }

    pub fn text(self, lang: Lang) -> &'static str {
        match self {
            SsoRefusal::State => lang.pick(
                "This sign-in was not started here or has expired. Please start again.",
                "Diese Anmeldung wurde nicht hier begonnen oder ist abgelaufen. Bitte neu beginnen.",
            ),
            SsoRefusal::Provider => lang.pick(
                "The sign-in provider did not complete the sign-in. Please start again.",
                "Der Anmeldedienst hat die Anmeldung nicht abgeschlossen. Bitte neu beginnen.",
            ),
            SsoRefusal::Token => lang.pick(
                "The sign-in provider's answer could not be verified. Please start again; if it keeps happening, tell an admin.",
                "Die Antwort des Anmeldedienstes ließ sich nicht prüfen. Bitte neu beginnen; wenn es wieder passiert, einem Admin Bescheid geben.",
            ),
            SsoRefusal::Unreachable => lang.pick(
                "The sign-in provider cannot be reached right now. Please try again shortly.",
                "Der Anmeldedienst ist gerade nicht erreichbar. Bitte gleich noch einmal versuchen.",
            ),
            SsoRefusal::Group => lang.pick(
                "Your account at the sign-in provider is not in a group allowed to use Shipgate. Ask an admin to add you.",
                "Ihr Konto beim Anmeldedienst ist in keiner Gruppe, die Shipgate nutzen darf. Bitte einen Admin, Sie aufzunehmen.",
            ),
            SsoRefusal::NoRole => lang.pick(
                "Your groups at the sign-in provider give you no role in Shipgate. Ask an admin.",
                "Ihre Gruppen beim Anmeldedienst geben Ihnen keine Rolle in Shipgate. Bitte einen Admin fragen.",
            ),
            SsoRefusal::Unverified => lang.pick(
                "A Shipgate account with your e-mail address exists, but the sign-in provider has not verified that address. Ask an admin to link your account.",
                "Es gibt ein Shipgate-Konto mit Ihrer E-Mail-Adresse, aber der Anmeldedienst hat die Adresse nicht bestätigt. Bitte einen Admin, Ihr Konto zu verknüpfen.",
            ),
            SsoRefusal::NoAccount => lang.pick(
                "You have no Shipgate account yet. Ask an admin to create one.",
                "Sie haben noch kein Shipgate-Konto. Bitte einen Admin, eines anzulegen.",
            ),
            SsoRefusal::Disabled => lang.pick(
                "Your Shipgate account is disabled. Ask an admin.",
                "Ihr Shipgate-Konto ist gesperrt. Bitte einen Admin fragen.",
            ),
            SsoRefusal::Email => lang.pick(
                "The sign-in provider did not give an e-mail address, which Shipgate needs for a new account.",
                "Der Anmeldedienst hat keine E-Mail-Adresse übermittelt; Shipgate braucht sie für ein neues Konto.",
            ),
            SsoRefusal::Linked => lang.pick(
                "The Shipgate account with your e-mail address belongs to another sign-in at the provider. Ask an admin.",
                "Das Shipgate-Konto mit Ihrer E-Mail-Adresse gehört zu einer anderen Anmeldung beim Anmeldedienst. Bitte einen Admin fragen.",
            ),
        }
    }
}

impl fmt::Display for SsoRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The groups in a claim's value: a list of strings (most providers) or one string.
pub fn groups_from_claim(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str())
            .map(str::to_string)
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map() -> RoleMap {
        RoleMap::parse(
            "admin=shipgate-admins;release_captain=release-captains, platform;product_owner=po;engineer=dev;viewer=*",
        )
        .unwrap()
    }

    #[test]
    fn groups_give_the_roles_mapped_to_them_and_star_gives_to_everybody() {
        let m = map();
        assert_eq!(
            m.roles_for(&["platform", "po"]),
            vec![Role::ReleaseCaptain, Role::ProductOwner, Role::Viewer]
        );
        assert_eq!(m.roles_for::<&str>(&[]), vec![Role::Viewer]);
        assert_eq!(
            m.roles_for(&["shipgate-admins"]),
            vec![Role::Admin, Role::Viewer]
        );
        // Group names are matched exactly: no prefixes, no case folding.
        assert_eq!(m.roles_for(&["Platform", "po-x"]), vec![Role::Viewer]);
        let no_star = RoleMap::parse("admin=a").unwrap();
        assert!(no_star.roles_for(&["b"]).is_empty());
    }

    #[test]
    fn a_role_named_twice_collects_its_groups() {
        let m = RoleMap::parse("engineer=a;engineer=b").unwrap();
        assert_eq!(m.roles_for(&["b"]), vec![Role::Engineer]);
    }

    #[test]
    fn bad_role_maps_are_explained() {
        for (text, says) in [
            ("", "names no role"),
            ("admin", "is not `role=group,group`"),
            ("boss=x", "unknown role"),
            ("admin= , ", "names no group"),
        ] {
            let e = RoleMap::parse(text).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn allowed_groups_keep_outsiders_out_before_roles_are_judged() {
        let policy = SsoPolicy {
            role_map: Some(map()),
            allowed_groups: Some(vec!["staff".into()]),
            create_users: true,
        };
        assert_eq!(policy.judge(&["dev"]), Err(SsoRefusal::Group));
        assert_eq!(
            policy.judge(&["staff", "dev"]),
            Ok(Some(vec![Role::Engineer, Role::Viewer]))
        );
        let strict = SsoPolicy {
            role_map: Some(RoleMap::parse("admin=a").unwrap()),
            ..SsoPolicy::default()
        };
        assert_eq!(strict.judge(&["b"]), Err(SsoRefusal::NoRole));
        assert_eq!(SsoPolicy::default().judge(&["b"]), Ok(None));
    }

    #[test]
    fn local_login_lets_in_whom_it_says() {
        let admin = [Role::Admin];
        let captain = [Role::ReleaseCaptain];
        assert!(LocalLogin::On.permits(&captain));
        assert!(LocalLogin::AdminsOnly.permits(&admin));
        assert!(!LocalLogin::AdminsOnly.permits(&captain));
        assert!(!LocalLogin::Off.permits(&admin));
        for mode in [LocalLogin::On, LocalLogin::AdminsOnly, LocalLogin::Off] {
            assert_eq!(mode.as_str().parse::<LocalLogin>(), Ok(mode));
        }
        assert!("admins".parse::<LocalLogin>().is_err());
    }

    #[test]
    fn refusal_codes_round_trip_and_speak_both_languages() {
        for r in SsoRefusal::ALL {
            assert_eq!(SsoRefusal::from_code(r.code()), Some(r));
            assert_ne!(r.text(Lang::En), r.text(Lang::De));
            assert!((400..600).contains(&r.status()));
        }
        assert_eq!(SsoRefusal::from_code("invalid_credentials"), None);
    }

    #[test]
    fn groups_claims_are_lists_or_a_single_string() {
        assert_eq!(
            groups_from_claim(Some(&json!(["a", 1, "b"]))),
            vec!["a", "b"]
        );
        assert_eq!(groups_from_claim(Some(&json!("a"))), vec!["a"]);
        assert!(groups_from_claim(Some(&json!({"a": 1}))).is_empty());
        assert!(groups_from_claim(None).is_empty());
    }
}
