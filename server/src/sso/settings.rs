//! Single sign-on settings from the environment (`OIDC_*`, `LOCAL_LOGIN`).

use crate::config::{ConfigError, Env};
pub use app::domain::sso::{LocalLogin, RoleMap, SsoPolicy};

#[derive(Clone, Debug)]
pub struct SsoSettings {
    /// The provider's issuer; its discovery document is `{issuer}/.well-known/openid-configuration`.
    pub issuer_url: String,
    pub client_id: String,
    /// `None`: a public client, which proves itself with PKCE only.
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
    /// The provider's name on the sign-in button.
    pub display_name: String,
    /// The claim that lists a person's groups.
    pub groups_claim: String,
    pub role_map: Option<RoleMap>,
    pub allowed_groups: Option<Vec<String>>,
    pub create_users: bool,
}

impl SsoSettings {
    pub fn policy(&self) -> SsoPolicy {
        SsoPolicy {
            role_map: self.role_map.clone(),
            allowed_groups: self.allowed_groups.clone(),
            create_users: self.create_users,
        }
    }
}

fn err(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        problem: problem.into(),
    }
}

fn list(text: &str, sep: char) -> Vec<String> {
    text.split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// Single sign-on (on when `OIDC_ISSUER_URL` is set) and who may still use a password.
    pub fn sso(&self) -> Result<(Option<SsoSettings>, LocalLogin), ConfigError> {
        let sso = match self.get("OIDC_ISSUER_URL") {
            None => None,
            Some(issuer) => {
                let issuer = issuer.trim().trim_end_matches('/').to_string();
                let parsed = url::Url::parse(&issuer)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
                    .ok_or_else(|| {
                        err(
                            "OIDC_ISSUER_URL",
                            format!("`{issuer}` is not an http(s) URL like https://id.example.org/realms/main"),
                        )
                    })?;
                if parsed.query().is_some() || parsed.fragment().is_some() {
                    return Err(err("OIDC_ISSUER_URL", "must have no query or fragment"));
                }
                let client_id = self.get("OIDC_CLIENT_ID").ok_or_else(|| {
                    err("OIDC_CLIENT_ID", "is required when OIDC_ISSUER_URL is set")
                })?;
                let scopes = list(
                    &self
                        .get("OIDC_SCOPES")
                        .unwrap_or_else(|| "openid email profile".into()),
                    ' ',
                );
                if !scopes.iter().any(|s| s == "openid") {
                    return Err(err("OIDC_SCOPES", "must include `openid`"));
                }
                let role_map = match self.get("OIDC_ROLE_MAP") {
                    None => None,
                    Some(v) => Some(RoleMap::parse(&v).map_err(|e| err("OIDC_ROLE_MAP", e))?),
                };
                let allowed_groups = self
                    .get("OIDC_ALLOWED_GROUPS")
                    .map(|v| list(&v, ','))
                    .filter(|g| !g.is_empty());
                let create_users = match self.get("OIDC_CREATE_USERS").as_deref().map(str::trim) {
                    None | Some("true") => true,
                    Some("false") => false,
                    Some(v) => {
                        return Err(err(
                            "OIDC_CREATE_USERS",
                            format!("`{v}` is not one of true, false"),
                        ))
                    }
                };
                Some(SsoSettings {
                    issuer_url: issuer,
                    client_id: client_id.trim().to_string(),
                    client_secret: self.get("OIDC_CLIENT_SECRET").map(|s| s.trim().to_string()),
                    scopes,
                    display_name: self
                        .get("OIDC_DISPLAY_NAME")
                        .map(|s| s.trim().to_string())
                        .unwrap_or_else(|| "single sign-on".into()),
                    groups_claim: self
                        .get("OIDC_GROUPS_CLAIM")
                        .map(|s| s.trim().to_string())
                        .unwrap_or_else(|| "groups".into()),
                    role_map,
                    allowed_groups,
                    create_users,
                })
            }
        };
        let local = match self.get("LOCAL_LOGIN") {
            None if sso.is_some() => LocalLogin::AdminsOnly,
            None => LocalLogin::On,
            Some(v) => v.parse().map_err(|e: String| err("LOCAL_LOGIN", e))?,
        };
        if local == LocalLogin::Off && sso.is_none() {
            return Err(err(
                "LOCAL_LOGIN",
                "`off` needs single sign-on (OIDC_ISSUER_URL), or nobody could sign in",
            ));
        }
        Ok((sso, local))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env(move |k| map.get(k).cloned())
    }

    #[test]
    fn without_an_issuer_there_is_no_sso_and_passwords_are_for_everybody() {
        assert!(matches!(env(&[]).sso(), Ok((None, LocalLogin::On))));
        let e = env(&[("LOCAL_LOGIN", "off")]).sso().unwrap_err();
        assert_eq!(e.var, "LOCAL_LOGIN");
    }

    #[test]
    fn an_issuer_turns_sso_on_with_defaults_and_passwords_for_admins() {
        let (sso, local) = env(&[
            ("OIDC_ISSUER_URL", "https://id.example.org/realms/main/"),
            ("OIDC_CLIENT_ID", "shipgate"),
        ])
        .sso()
        .unwrap();
        let sso = sso.unwrap();
        assert_eq!(local, LocalLogin::AdminsOnly);
        assert_eq!(sso.issuer_url, "https://id.example.org/realms/main");
        assert_eq!(sso.scopes, ["openid", "email", "profile"]);
        assert_eq!(sso.groups_claim, "groups");
        assert!(sso.client_secret.is_none() && sso.role_map.is_none() && sso.create_users);
    }

    #[test]
    fn bad_sso_settings_name_their_variable() {
        let base = [
            ("OIDC_ISSUER_URL", "https://id.example.org"),
            ("OIDC_CLIENT_ID", "shipgate"),
        ];
        for (var, value) in [
            ("OIDC_ISSUER_URL", "id.example.org"),
            ("OIDC_SCOPES", "email profile"),
            ("OIDC_ROLE_MAP", "boss=admins"),
            ("OIDC_CREATE_USERS", "maybe"),
            ("LOCAL_LOGIN", "sometimes"),
        ] {
            let mut pairs = base.to_vec();
            pairs.retain(|(k, _)| *k != var);
            pairs.push((var, value));
            assert_eq!(env(&pairs).sso().unwrap_err().var, var, "{var}={value}");
        }
        let e = env(&[("OIDC_ISSUER_URL", "https://id.example.org")])
            .sso()
            .unwrap_err();
        assert_eq!(e.var, "OIDC_CLIENT_ID");
    }

    #[test]
    fn groups_and_roles_are_read_as_written() {
        let (sso, local) = env(&[
            ("OIDC_ISSUER_URL", "https://id.example.org"),
            ("OIDC_CLIENT_ID", "shipgate"),
            ("OIDC_ROLE_MAP", "admin=ops;viewer=*"),
            ("OIDC_ALLOWED_GROUPS", "staff, ops"),
            ("OIDC_CREATE_USERS", "false"),
            ("LOCAL_LOGIN", "off"),
        ])
        .sso()
        .unwrap();
        let sso = sso.unwrap();
        assert_eq!(local, LocalLogin::Off);
        assert_eq!(
            sso.allowed_groups.as_deref(),
            Some(&["staff".to_string(), "ops".to_string()][..])
        );
        assert!(!sso.create_users);
        assert!(sso.role_map.is_some());
    }
}
