//! German and English. Texts stay next to each other at the place they are shown
//! (`lang.pick("Log in", "Anmelden")`), so a missing translation is visible in review.

use serde::{Deserialize, Serialize};

pub const LANG_COOKIE: &str = "shipgate_lang";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header by q-value.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_code(tag) {
                if q > 0.0 && best.is_none_or(|(_, bq)| q > bq) {
                    best = Some((lang, q));
                }
            }
        }
        best.map(|(l, _)| l)
    }

    /// The language for a request: the remembered choice, else the browser's preference.
    pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        cookie
            .and_then(Lang::from_code)
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or_default()
    }

    pub fn pick<'a>(self, en: &'a str, de: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::De => de,
        }
    }
}

/// The language of an HTTP request: the `shipgate_lang` cookie, else `Accept-Language`.
#[cfg(feature = "ssr")]
pub fn request_lang(headers: &http::HeaderMap) -> Lang {
    let cookie = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == LANG_COOKIE).then_some(v)
        });
    let accept = headers
        .get(http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(cookie, accept)
}

/// The form label of a field named in a validation error, so a message says where to look.
pub fn field_label(lang: Lang, field: &str) -> Option<&'static str> {
    Some(match field {
        "title" => lang.pick("Title", "Titel"),
        "version" => lang.pick("Version", "Version"),
        "environment" => lang.pick("Target environment", "Zielumgebung"),
        "staging_environment" => lang.pick("Staging environment", "Staging-Umgebung"),
        "window_start" => lang.pick("Window start", "Fensterbeginn"),
        "window_end" => lang.pick("Window end", "Fensterende"),
        "strategy" => lang.pick("Strategy", "Strategie"),
        "release_captain" => lang.pick("Release captain", "Release Captain"),
        "product_owner" => lang.pick("Product owner", "Product Owner"),
        "commit_sha" => lang.pick("Commit", "Commit"),
        "links" => lang.pick("Links", "Links"),
        "email" => lang.pick("Email", "E-Mail"),
        "password" | "new_password" => lang.pick("Password", "Passwort"),
        "current_password" => lang.pick("Current password", "Aktuelles Passwort"),
        "reason" => lang.pick("Reason", "Grund"),
        "link" => lang.pick("Evidence link", "Nachweis-Link"),
        "comment" => lang.pick("Comment", "Kommentar"),
        "name" => lang.pick("Name", "Name"),
        "roles" => lang.pick("Roles", "Rollen"),
        "canary_hold_minutes" => lang.pick("Stability hold", "Stabilitätsphase"),
        "starts_at" => lang.pick("From", "Von"),
        "ends_at" => lang.pick("To", "Bis"),
        "note" => lang.pick("Note", "Notiz"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_highest_q() {
        assert_eq!(
            Lang::from_accept_language("de-DE,de;q=0.9,en;q=0.8"),
            Some(Lang::De)
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR, en;q=0.5, de;q=0.4"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("en;q=0.3, de;q=0.7"),
            Some(Lang::De)
        );
        assert_eq!(Lang::from_accept_language("fr, it"), None);
        assert_eq!(Lang::from_accept_language("de;q=0"), None);
    }

    #[test]
    fn remembered_choice_beats_browser() {
        assert_eq!(Lang::negotiate(Some("en"), Some("de")), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), Some("de-AT")), Lang::De);
        assert_eq!(Lang::negotiate(None, None), Lang::En);
    }
}
