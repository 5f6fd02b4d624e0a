//! A release as entered: the fields of a create or edit, validated and applied onto a
//! release. Pure, so the server and the browser judge an input the same way.

use crate::domain::release::{
    check_canary_stages, Phase, Strategy, DEFAULT_CANARY_HOLD_MINUTES, DEFAULT_CANARY_STAGES,
    DEFAULT_REQUIRED_ENV_VARS,
};
use crate::domain::release_model::{Links, Release};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A field of an input that is missing or not acceptable, with the reason in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputError {
    pub field: &'static str,
    pub en: &'static str,
    pub de: &'static str,
}

fn invalid(field: &'static str, en: &'static str, de: &'static str) -> InputError {
    InputError { field, en, de }
}

/// The fields of a release as entered; on create the required ones must be there.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReleaseInput {
    pub title: Option<String>,
    pub version: Option<String>,
    pub artifact_version: Option<String>,
    pub commit_sha: Option<String>,
    pub environment: Option<String>,
    pub staging_environment: Option<String>,
    pub window_start: Option<DateTime<Utc>>,
    pub window_end: Option<DateTime<Utc>>,
    pub strategy: Option<String>,
    pub canary_stages: Option<Vec<i32>>,
    pub canary_hold_minutes: Option<i32>,
    pub links: Option<Links>,
    pub release_captain: Option<String>,
    pub product_owner: Option<String>,
    pub last_backup_at: Option<DateTime<Utc>>,
    pub last_restore_test_at: Option<DateTime<Utc>>,
    pub on_call: Option<String>,
    pub required_env_vars: Option<Vec<String>>,
    /// For edits: the revision the change was made against.
    pub revision: Option<i32>,
}

impl ReleaseInput {
    /// What a new release must name; the first missing field.
    pub fn missing_for_create(&self) -> Option<InputError> {
        [
            ("title", self.title.is_none()),
            ("version", self.version.is_none()),
            ("environment", self.environment.is_none()),
            ("window_start", self.window_start.is_none()),
            ("window_end", self.window_end.is_none()),
        ]
        .into_iter()
        .find(|(_, missing)| *missing)
        .map(|(field, _)| InputError {
            field,
            en: "This field is required.",
            de: "Dieses Feld ist erforderlich.",
        })
    }
}

pub fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn check_text(field: &'static str, v: &str, max: usize) -> Result<(), InputError> {
    if v.trim().is_empty() {
        return Err(InputError {
            field,
            en: "This field is required.",
            de: "Dieses Feld ist erforderlich.",
        });
    }
    if v.chars().count() > max {
        return Err(InputError {
            field,
            en: "This value is too long.",
            de: "Dieser Wert ist zu lang.",
        });
    }
    Ok(())
}

fn check_url(field: &'static str, v: &str) -> Result<(), InputError> {
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() <= 2000
        && !v.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(InputError {
            field,
            en: "Enter a full http(s):// link.",
            de: "Bitte einen vollständigen http(s)://-Link eingeben.",
        })
    }
}

/// Applies an input onto a release (or a blank one), validating every field it touches.
pub fn merge(mut r: Release, input: &ReleaseInput) -> Result<Release, InputError> {
    if let Some(v) = &input.title {
        check_text("title", v, 200)?;
        r.title = v.trim().into();
    }
    if let Some(v) = &input.version {
        check_text("version", v, 100)?;
        r.version = v.trim().into();
    }
    if input.artifact_version.is_some() {
        r.artifact_version = trimmed(&input.artifact_version);
    }
    if let Some(sha) = trimmed(&input.commit_sha) {
        if !(7..=64).contains(&sha.len()) || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(
                "commit_sha",
                "A commit SHA is 7 to 64 hexadecimal characters.",
                "Ein Commit-SHA besteht aus 7 bis 64 Hexadezimalzeichen.",
            ));
        }
        r.commit_sha = Some(sha.to_lowercase());
    } else if input.commit_sha.is_some() {
        r.commit_sha = None;
    }
    if let Some(v) = &input.environment {
        check_text("environment", v, 100)?;
        r.environment = v.trim().into();
    }
    if let Some(v) = &input.staging_environment {
        check_text("staging_environment", v, 100)?;
        r.staging_environment = v.trim().into();
    }
    if let Some(v) = input.window_start {
        r.window_start = v;
    }
    if let Some(v) = input.window_end {
        r.window_end = v;
    }
    if r.window_end <= r.window_start {
        return Err(invalid(
            "window_end",
            "The go-live window must end after it starts.",
            "Das Go-Live-Fenster muss nach seinem Beginn enden.",
        ));
    }
    if let Some(v) = &input.strategy {
        r.strategy = Strategy::parse(v.trim()).ok_or(invalid(
            "strategy",
            "Choose blue_green or canary.",
            "Bitte blue_green oder canary wählen.",
        ))?;
    }
    if let Some(stages) = &input.canary_stages {
        if !check_canary_stages(stages) {
            return Err(invalid(
                "canary_stages",
                "Canary stages must rise and end at 100 %.",
                "Canary-Stufen müssen ansteigen und bei 100 % enden.",
            ));
        }
        r.canary_stages = stages.clone();
    }
    if let Some(h) = input.canary_hold_minutes {
        if !(0..=24 * 60).contains(&h) {
            return Err(invalid(
                "canary_hold_minutes",
                "The hold time is 0 to 1440 minutes.",
                "Die Haltezeit beträgt 0 bis 1440 Minuten.",
            ));
        }
        r.canary_hold_minutes = h;
    }
    if let Some(links) = &input.links {
        for (_, v) in links.entries() {
            if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
                check_url("links", v.trim())?;
            }
        }
        r.links = links.clone();
    }
    if input.last_backup_at.is_some() {
        r.last_backup_at = input.last_backup_at;
    }
    if input.last_restore_test_at.is_some() {
        r.last_restore_test_at = input.last_restore_test_at;
    }
    if input.on_call.is_some() {
        r.on_call = trimmed(&input.on_call);
    }
    if let Some(vars) = &input.required_env_vars {
        let ok = vars.iter().all(|v| {
            !v.is_empty()
                && v.len() <= 100
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        if !ok {
            return Err(invalid(
                "required_env_vars",
                "Variable names use letters, digits and underscores only.",
                "Variablennamen bestehen nur aus Buchstaben, Ziffern und Unterstrichen.",
            ));
        }
        r.required_env_vars = vars.clone();
    }
    Ok(r)
}

pub fn blank(now: DateTime<Utc>) -> Release {
    Release {
        id: 0,
        title: String::new(),
        version: String::new(),
        artifact_version: None,
        commit_sha: None,
        environment: String::new(),
        staging_environment: "staging".into(),
        window_start: now,
        window_end: now,
        strategy: Strategy::BlueGreen,
        canary_stages: DEFAULT_CANARY_STAGES.to_vec(),
        canary_hold_minutes: DEFAULT_CANARY_HOLD_MINUTES,
        links: Links::default(),
        release_captain: None,
        product_owner: None,
        phase: Phase::Draft,
        last_backup_at: None,
        last_restore_test_at: None,
        on_call: None,
        required_env_vars: DEFAULT_REQUIRED_ENV_VARS.map(String::from).to_vec(),
        revision: 0,
        created_at: now,
        updated_at: now,
    }
}
