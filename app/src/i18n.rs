//! German and English. Texts stay next to each other at the place they are shown
//! (`lang.pick("Log in", "Anmelden")`), so a missing translation is visible in review.

use crate::domain::account::Role;
use crate::domain::evidence::AttachedTo;
use crate::domain::golive::{step_label_key, PlannedStep, StepKind};
use crate::domain::monitoring::{Component, HealthState, Rule};
use crate::domain::notify::EventGroup;
use crate::domain::release::{Blocker, Decision, ItemState, Phase, Severity, SignerRole, Strategy};
use crate::domain::templates::ChecklistKind;
use crate::domain::time::berlin_display;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

mod audit;
pub use audit::audit_action_label;

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

/// How an enum of the domain is named for people, in one language. Every label the UI,
/// the server functions' refusals and the exports show comes from an impl below, so the
/// domain keeps no UI text and a name reads the same wherever it appears.
pub trait Label {
    fn label(&self, lang: Lang) -> Cow<'static, str>;
}

/// A release phase's name.
impl Label for Phase {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        match self {
            Phase::Draft => lang.pick("Draft", "Entwurf"),
            Phase::StagingGate => lang.pick("Staging gate", "Staging-Gate"),
            Phase::GoNoGo => lang.pick("Go/No-Go", "Go/No-Go"),
            Phase::GoLive => lang.pick("Go-live", "Go-Live"),
            Phase::Done => lang.pick("Done", "Abgeschlossen"),
            Phase::NoGo => lang.pick("No-go", "No-Go"),
            Phase::RolledBack => lang.pick("Rolled back", "Zurückgerollt"),
        }
        .into()
    }
}

/// An account role's name.
impl Label for Role {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        match self {
            Role::Admin => lang.pick("Admin", "Admin"),
            Role::ReleaseCaptain => lang.pick("Release captain", "Release Captain"),
            Role::ProductOwner => lang.pick("Product owner", "Product Owner"),
            Role::Engineer => lang.pick("Engineer", "Engineer"),
            Role::Viewer => lang.pick("Viewer", "Betrachter"),
        }
        .into()
    }
}

/// A signer's role, named like the account role it needs.
impl Label for SignerRole {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        self.account_role().label(lang)
    }
}

/// A role named by its code (`product_owner`, as blockers and audit rows carry it); a
/// code this version does not know reads as it is.
pub fn role_label(code: &str, lang: Lang) -> Cow<'static, str> {
    match code.parse::<Role>() {
        Ok(role) => role.label(lang),
        Err(_) => code.to_string().into(),
    }
}

/// A go-live strategy's name, the same in both languages.
impl Label for Strategy {
    fn label(&self, _lang: Lang) -> Cow<'static, str> {
        match self {
            Strategy::BlueGreen => "Blue/Green",
            Strategy::Canary => "Canary",
        }
        .into()
    }
}

/// A release's go-live plan: `Blue/Green`, or the canary stages and the stability hold.
pub fn plan_label(strategy: Strategy, stages: &[i32], hold_minutes: i32, lang: Lang) -> String {
    match strategy {
        Strategy::BlueGreen => strategy.label(lang).into_owned(),
        Strategy::Canary => format!(
            "{} {} ({hold_minutes} {})",
            strategy.label(lang),
            stages
                .iter()
                .map(|s| format!("{s} %"))
                .collect::<Vec<_>>()
                .join(" → "),
            lang.pick("min stability hold", "Min. Stabilitätsphase")
        ),
    }
}

/// What an environment was to a release (`target`, `staging`), as the dossier records it.
pub fn environment_role_label(role: &str, lang: Lang) -> Cow<'static, str> {
    match role {
        "target" => lang.pick("target", "Ziel").into(),
        "staging" => "Staging".into(),
        other => other.to_string().into(),
    }
}

/// A signer's role as the sealed dossier names it: the procedure's title, the same in
/// both languages.
pub fn signer_title(role: SignerRole) -> &'static str {
    match role {
        SignerRole::ProductOwner => "Product Owner",
        SignerRole::ReleaseCaptain => "Release Captain",
    }
}

/// A sign-off's decision, the same in both languages.
impl Label for Decision {
    fn label(&self, _lang: Lang) -> Cow<'static, str> {
        match self {
            Decision::Go => "GO",
            Decision::NoGo => "NO-GO",
        }
        .into()
    }
}

/// A checklist item's state.
impl Label for ItemState {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        match self {
            ItemState::Open => lang.pick("open", "offen"),
            ItemState::Passed => lang.pick("passed", "bestanden"),
            ItemState::Failed => lang.pick("failed", "fehlgeschlagen"),
            ItemState::NotApplicable => lang.pick("not applicable", "nicht anwendbar"),
            ItemState::AcceptedRisk => lang.pick("accepted risk", "Risiko akzeptiert"),
        }
        .into()
    }
}

/// A checklist's title. The titles are also the sections new template items are filed
/// under, so they stay with the templates.
impl Label for ChecklistKind {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        lang.pick(self.title_en(), self.title_de()).into()
    }
}

/// A known issue's or an alert's severity: `P1`, `P2`, `P3`.
impl Label for Severity {
    fn label(&self, _lang: Lang) -> Cow<'static, str> {
        match self {
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
        }
        .into()
    }
}

/// What a person turns e-mail on or off for, and what a team channel subscribes to.
impl Label for EventGroup {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        match self {
            EventGroup::Assignment => lang.pick("Assignments", "Zuweisungen"),
            EventGroup::StagingGate => lang.pick("Staging gate", "Staging-Gate"),
            EventGroup::GoNoGo => lang.pick("Go/No-Go", "Go/No-Go"),
            EventGroup::GoLive => lang.pick("Go-live", "Go-Live"),
            EventGroup::Alerts => lang.pick("Alerts", "Alerts"),
        }
        .into()
    }
}

/// The section of a release evidence is attached to (an item's evidence counts as the
/// release's).
impl Label for AttachedTo {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        match self {
            AttachedTo::StagingGate => {
                lang.pick("Staging-run evidence", "Nachweise zum Staging-Run")
            }
            AttachedTo::PostRelease => lang.pick(
                "Post-release documentation",
                "Dokumentation nach dem Release",
            ),
            AttachedTo::Release | AttachedTo::Item => {
                lang.pick("Release evidence", "Nachweise zum Release")
            }
        }
        .into()
    }
}

/// How an endpoint or environment is doing.
impl Label for HealthState {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        match self {
            HealthState::Up => lang.pick("up", "verfügbar"),
            HealthState::Unknown => lang.pick("unknown", "unbekannt"),
            HealthState::Degraded => lang.pick("degraded", "eingeschränkt"),
            HealthState::Down => lang.pick("down", "ausgefallen"),
        }
        .into()
    }
}

/// A status page component's name.
impl Label for Component {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        match self {
            Component::Api => "API",
            Component::Push => "Push",
            Component::Database => lang.pick("Database", "Datenbank"),
            Component::Storage => "Storage",
        }
        .into()
    }
}

/// An alert rule's name.
impl Label for Rule {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        match self {
            Rule::Readiness503Rate => lang.pick("readiness 503 rate", "Readiness-503-Quote"),
            Rule::ErrorRate => lang.pick("5xx/error rate", "5xx-/Fehlerquote"),
            Rule::LatencyP95 => lang.pick("latency p95", "Latenz p95"),
            Rule::NoSuccess => lang.pick("no successful probe", "kein erfolgreicher Check"),
        }
        .into()
    }
}

/// A recorded go-live step's kind (`start`, `complete`, `rollback`, …).
impl Label for StepKind {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        step_label(lang, self.as_str())
    }
}

/// A planned go-live step, a canary stage with its share.
impl Label for PlannedStep {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        step_label(lang, &step_label_key(*self))
    }
}

/// A step's name by its key ([`step_label_key`]: `canary_stage_50`, `pre_checks`, …):
/// refusals name the expected step by its key.
fn step_label(lang: Lang, key: &str) -> Cow<'static, str> {
    if let Some(pct) = key.strip_prefix("canary_stage_") {
        return format!("{} {pct} %", lang.pick("Canary", "Canary")).into();
    }
    match key {
        "start" => lang.pick("Start go-live", "Go-Live starten"),
        "pre_checks" => lang.pick(
            "Pre-checks: monitoring and readiness green, backups current",
            "Pre-Checks: Monitoring und Readiness grün, Backups aktuell",
        ),
        "deploy_green" => lang.pick("Deploy to Green", "Deploy in Green"),
        "smoke_tests" => lang.pick("Smoke tests on Green", "Smoke-Tests auf Green"),
        "switch_traffic" => lang.pick("Switch traffic to Green", "Traffic auf Green schalten"),
        "mark_green_prod" => lang.pick("Mark Green as new prod", "Green als neue Prod markieren"),
        "complete" => lang.pick("Go-live completed", "Go-Live abgeschlossen"),
        "rollback" => lang.pick("Rollback", "Rollback"),
        other => return other.to_string().into(),
    }
    .into()
}

/// A checklist item's text in the reader's language (a blocker from before German texts
/// were carried has only the English one).
fn item_text<'a>(lang: Lang, en: &'a str, de: &'a str) -> &'a str {
    if de.is_empty() {
        en
    } else {
        lang.pick(en, de)
    }
}

/// Why a gate is closed, in words.
impl Label for Blocker {
    fn label(&self, lang: Lang) -> Cow<'static, str> {
        let words: String = match self {
            Blocker::WrongPhase { phase } => format!(
                "{} {}",
                lang.pick("Not possible in phase", "Nicht möglich in Phase"),
                phase.label(lang)
            ),
            Blocker::ItemNotSettled { text, text_de, .. } => format!(
                "{}: {}",
                lang.pick("Checklist item open", "Checklistenpunkt offen"),
                item_text(lang, text, text_de)
            ),
            Blocker::KnownIssueOpen { key, severity } => format!(
                "{} {} ({})",
                lang.pick("Open known issue", "Offenes bekanntes Problem"),
                key,
                severity.label(lang)
            ),
            Blocker::MissingAssignment { role } => format!(
                "{}: {}",
                lang.pick("Nobody assigned", "Niemand zugeordnet"),
                role_label(role, lang)
            ),
            Blocker::WindowMissing => lang
                .pick("No go-live window", "Kein Go-Live-Fenster")
                .into(),
            Blocker::BackupTooOld => lang
                .pick(
                    "Last backup older than 24 h",
                    "Letztes Backup älter als 24 h",
                )
                .into(),
            Blocker::RestoreTestTooOld => lang
                .pick(
                    "Last restore test older than 30 days",
                    "Letzter Restore-Test älter als 30 Tage",
                )
                .into(),
            Blocker::DownMigrationMissing => lang
                .pick(
                    "Down-migration link missing",
                    "Link zur Down-Migration fehlt",
                )
                .into(),
            Blocker::OnCallMissing => lang
                .pick("No on-call person named", "Keine On-Call-Person benannt")
                .into(),
            Blocker::SignOffMissing { role } => format!(
                "{}: {}",
                lang.pick("Sign-off missing", "Freigabe fehlt"),
                role_label(role, lang)
            ),
            Blocker::SignOffStale { role } => format!(
                "{}: {}",
                lang.pick(
                    "Sign-off stale, sign again",
                    "Freigabe veraltet, bitte neu freigeben"
                ),
                role_label(role, lang)
            ),
            Blocker::NoGo { role } => {
                format!("{}: {}", Phase::NoGo.label(lang), role_label(role, lang))
            }
            Blocker::OutsideWindow { start, end } => format!(
                "{} ({} – {}); {}",
                lang.pick(
                    "Outside the go-live window",
                    "Außerhalb des Go-Live-Fensters"
                ),
                berlin_display(start),
                berlin_display(end),
                lang.pick(
                    "only the release captain can override, with a reason",
                    "nur der Release Captain kann mit Begründung übersteuern"
                )
            ),
            Blocker::Frozen {
                environment,
                reason,
                until,
            } => format!(
                "{} {environment} {} {}: {reason}",
                lang.pick("Freeze on", "Freeze auf"),
                lang.pick("until", "bis"),
                berlin_display(until)
            ),
            Blocker::GoLiveStarted => lang
                .pick(
                    "The go-live has started already",
                    "Das Go-Live läuft bereits",
                )
                .into(),
            Blocker::GoLiveNotStarted => lang
                .pick(
                    "The go-live has not started",
                    "Das Go-Live hat nicht begonnen",
                )
                .into(),
            Blocker::StepOutOfOrder { expected } => match expected {
                Some(next) => format!(
                    "{}: {}",
                    lang.pick("Next step", "Nächster Schritt"),
                    step_label(lang, next)
                ),
                None => lang
                    .pick("All steps are recorded", "Alle Schritte sind erfasst")
                    .into(),
            },
            Blocker::TargetNotHealthy { environment, state } => format!(
                "{environment} {} ({})",
                lang.pick("is not healthy", "ist nicht gesund"),
                HealthState::parse(state)
                    .map(|s| s.label(lang))
                    .unwrap_or_else(|| state.clone().into())
            ),
            Blocker::TargetOpenP1 { environment } => format!(
                "{} {environment}",
                lang.pick("Open P1 alert in", "Offener P1-Alert in")
            ),
            Blocker::NoteRequired { environment } => format!(
                "{environment} {}",
                lang.pick(
                    "is not probed: note what you checked",
                    "wird nicht überwacht: bitte notieren, was geprüft wurde"
                )
            ),
            Blocker::HoldRunning { until } => format!(
                "{} {}",
                lang.pick("Stability hold until", "Stabilitätsphase bis"),
                berlin_display(until)
            ),
            Blocker::PostReleaseOpen { text, text_de, .. } => format!(
                "{}: {}",
                lang.pick("Documentation missing", "Dokumentation fehlt"),
                item_text(lang, text, text_de)
            ),
            Blocker::ReasonRequired => lang
                .pick("A reason is required", "Ein Grund ist erforderlich")
                .into(),
        };
        words.into()
    }
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
    fn labels_read_as_before() {
        assert_eq!(Phase::GoLive.label(Lang::De), "Go-Live");
        assert_eq!(SignerRole::ProductOwner.label(Lang::En), "Product owner");
        assert_eq!(Decision::NoGo.label(Lang::De), "NO-GO");
        assert_eq!(
            PlannedStep {
                kind: StepKind::CanaryStage,
                stage_pct: Some(25)
            }
            .label(Lang::De),
            "Canary 25 %"
        );
        assert_eq!(StepKind::Start.label(Lang::En), "Start go-live");
        assert_eq!(
            Blocker::KnownIssueOpen {
                key: "K-1".into(),
                severity: Severity::P1
            }
            .label(Lang::En),
            "Open known issue K-1 (P1)"
        );
        assert_eq!(
            Blocker::StepOutOfOrder {
                expected: Some("canary_stage_50".into())
            }
            .label(Lang::En),
            "Next step: Canary 50 %"
        );
        assert_eq!(
            Blocker::WrongPhase { phase: Phase::Done }.label(Lang::De),
            "Nicht möglich in Phase Abgeschlossen"
        );
    }

    #[test]
    fn blockers_name_items_and_roles_in_the_readers_language() {
        let open = Blocker::ItemNotSettled {
            key: "staging_smoke".into(),
            text: "Smoke tests on staging".into(),
            text_de: "Smoke-Tests auf Staging".into(),
            state: ItemState::Open,
        };
        assert_eq!(
            open.label(Lang::De),
            "Checklistenpunkt offen: Smoke-Tests auf Staging"
        );
        assert_eq!(
            open.label(Lang::En),
            "Checklist item open: Smoke tests on staging"
        );
        let missing = Blocker::SignOffMissing {
            role: "product_owner".into(),
        };
        assert_eq!(missing.label(Lang::En), "Sign-off missing: Product owner");
        assert_eq!(missing.label(Lang::De), "Freigabe fehlt: Product Owner");
        assert_eq!(role_label("someone_else", Lang::De), "someone_else");
    }

    #[test]
    fn strategies_and_plans_read_as_words() {
        assert_eq!(Strategy::BlueGreen.label(Lang::De), "Blue/Green");
        assert_eq!(
            plan_label(Strategy::Canary, &[10, 50, 100], 30, Lang::De),
            "Canary 10 % → 50 % → 100 % (30 Min. Stabilitätsphase)"
        );
    }

    #[test]
    fn remembered_choice_beats_browser() {
        assert_eq!(Lang::negotiate(Some("en"), Some("de")), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), Some("de-AT")), Lang::De);
        assert_eq!(Lang::negotiate(None, None), Lang::En);
    }
}
