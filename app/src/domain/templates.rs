//! The default checklist templates shipped with Shipgate, taken item by item from the
//! release procedure (section 1, the staging-gate protocol at T-12h and the Go-Live
//! decision at T-1h). German is the source; English is the translation.

use serde::{Deserialize, Serialize};

/// Which of the shipped checklist templates an item or checklist belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecklistKind {
    ReleaseChecklist,
    StagingGate,
    GoLive,
    /// The documentation filed after go-live (section 4, "Dokumentation"); completing the
    /// go-live waits for it.
    PostRelease,
}

impl ChecklistKind {
    pub const ALL: [ChecklistKind; 4] = [
        ChecklistKind::ReleaseChecklist,
        ChecklistKind::StagingGate,
        ChecklistKind::GoLive,
        ChecklistKind::PostRelease,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChecklistKind::ReleaseChecklist => "release_checklist",
            ChecklistKind::StagingGate => "staging_gate",
            ChecklistKind::GoLive => "go_live",
            ChecklistKind::PostRelease => "post_release",
        }
    }

    pub fn parse(s: &str) -> Option<ChecklistKind> {
        match s.trim() {
            "release_checklist" => Some(ChecklistKind::ReleaseChecklist),
            "staging_gate" => Some(ChecklistKind::StagingGate),
            "go_live" => Some(ChecklistKind::GoLive),
            "post_release" => Some(ChecklistKind::PostRelease),
            _ => None,
        }
    }

    pub fn title_de(self) -> &'static str {
        match self {
            ChecklistKind::ReleaseChecklist => "Release-Checklist",
            ChecklistKind::StagingGate => STAGING_GATE_DE,
            ChecklistKind::GoLive => GO_LIVE_DE,
            ChecklistKind::PostRelease => POST_RELEASE_DE,
        }
    }

    pub fn title_en(self) -> &'static str {
        match self {
            ChecklistKind::ReleaseChecklist => "Release checklist",
            ChecklistKind::StagingGate => STAGING_GATE_EN,
            ChecklistKind::GoLive => GO_LIVE_EN,
            ChecklistKind::PostRelease => POST_RELEASE_EN,
        }
    }
}

/// One shipped checklist item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DefaultItem {
    /// Stable identifier, unique across all templates.
    pub key: &'static str,
    /// Group heading; for the gate templates this is the template title.
    pub section_de: &'static str,
    pub section_en: &'static str,
    pub text_de: &'static str,
    pub text_en: &'static str,
    /// Whether ticking the item should come with proof (screenshots, logs, links).
    pub evidence_required: bool,
}

/// The shipped items of one template, in the spec's order.
pub fn default_items(kind: ChecklistKind) -> &'static [DefaultItem] {
    match kind {
        ChecklistKind::ReleaseChecklist => &RELEASE_CHECKLIST,
        ChecklistKind::StagingGate => &STAGING_GATE,
        ChecklistKind::GoLive => &GO_LIVE,
        ChecklistKind::PostRelease => &POST_RELEASE,
    }
}

const SMOKE_DE: &str = "Smoke-Tests (App/UI)";
const SMOKE_EN: &str = "Smoke tests (app/UI)";
const API_DE: &str = "Haupt-API-Flows";
const API_EN: &str = "Main API flows";
const REGRESSION_DE: &str = "Regression/Querschnitt";
const REGRESSION_EN: &str = "Regression/cross-cutting";
const SIGNOFF_DE: &str = "Freigabe-Check";
const SIGNOFF_EN: &str = "Sign-off check";
const STAGING_GATE_DE: &str = "Staging-Gate-Protokoll (T-12h)";
const STAGING_GATE_EN: &str = "Staging gate protocol (T-12h)";
const GO_LIVE_DE: &str = "Go-Live-Entscheid (T-1h)";
const GO_LIVE_EN: &str = "Go-live decision (T-1h)";
const POST_RELEASE_DE: &str = "Dokumentation nach dem Release";
const POST_RELEASE_EN: &str = "Post-release documentation";

const RELEASE_CHECKLIST: [DefaultItem; 18] = [
    // Smoke-Tests (App/UI)
    DefaultItem {
        key: "smoke_app_start",
        section_de: SMOKE_DE,
        section_en: SMOKE_EN,
        text_de: "App-Start (Splash → Home) ohne Fehler.",
        text_en: "App start (splash → home) without errors.",
        evidence_required: true,
    },
    DefaultItem {
        key: "smoke_login_registration",
        section_de: SMOKE_DE,
        section_en: SMOKE_EN,
        text_de: "Login & Registrierung (E-Mail/Passwort) inkl. Validierung und Reset-Flows.",
        text_en: "Login & registration (email/password) including validation and reset flows.",
        evidence_required: true,
    },
    DefaultItem {
        key: "smoke_role_switch",
        section_de: SMOKE_DE,
        section_en: SMOKE_EN,
        text_de: "Rollenwechsel Eltern ↔ Betreuungsperson per Account oder Feature-Toggle.",
        text_en: "Role switch parent ↔ caregiver via account or feature toggle.",
        evidence_required: true,
    },
    DefaultItem {
        key: "smoke_push_notifications",
        section_de: SMOKE_DE,
        section_en: SMOKE_EN,
        text_de: "Push/Notifications (falls Backend-Konfiguration vorhanden): \
                  Opt-in/Token-Registrierung, Empfang einer Test-Nachricht, \
                  Verhalten im Hintergrund/Vordergrund.",
        text_en: "Push/notifications (if a backend configuration exists): \
                  opt-in/token registration, receipt of a test message, \
                  behaviour in background/foreground.",
        evidence_required: true,
    },
    // Haupt-API-Flows
    DefaultItem {
        key: "api_auth",
        section_de: API_DE,
        section_en: API_EN,
        text_de: "Auth: /api/auth/login, /api/auth/register \
                  (happy path + ungültige Credentials → 401).",
        text_en: "Auth: /api/auth/login, /api/auth/register \
                  (happy path + invalid credentials → 401).",
        evidence_required: true,
    },
    DefaultItem {
        key: "api_profiles",
        section_de: API_DE,
        section_en: API_EN,
        text_de: "Profile: Eltern/Betreuungsperson lesen/aktualisieren \
                  (/api/parents, /api/caregivers).",
        text_en: "Profiles: read/update parent/caregiver (/api/parents, /api/caregivers).",
        evidence_required: true,
    },
    DefaultItem {
        key: "api_matching",
        section_de: API_DE,
        section_en: API_EN,
        text_de: "Matching: Anfrage anlegen, Liste laden, Match akzeptieren/ablehnen \
                  (/api/matches).",
        text_en: "Matching: create a request, load the list, accept/decline a match \
                  (/api/matches).",
        evidence_required: true,
    },
    DefaultItem {
        key: "api_messaging",
        section_de: API_DE,
        section_en: API_EN,
        text_de: "Messaging: Nachrichten senden/lesen, Anhänge hochladen \
                  (/api/messages, /api/files).",
        text_en: "Messaging: send/read messages, upload attachments \
                  (/api/messages, /api/files).",
        evidence_required: true,
    },
    DefaultItem {
        key: "api_documents",
        section_de: API_DE,
        section_en: API_EN,
        text_de: "Dokumente: Hoch-/Runterladen (/api/documents, /api/files).",
        text_en: "Documents: upload/download (/api/documents, /api/files).",
        evidence_required: true,
    },
    DefaultItem {
        key: "api_health_readiness",
        section_de: API_DE,
        section_en: API_EN,
        text_de: "Health/Readiness: /health (Prozess), /readiness (DB-Ping) müssen 200 \
                  bzw. 503 bei Ausfall liefern.",
        text_en: "Health/readiness: /health (process), /readiness (DB ping) must return 200, \
                  or 503 on failure.",
        evidence_required: true,
    },
    // Regression/Querschnitt
    DefaultItem {
        key: "regression_error_json",
        section_de: REGRESSION_DE,
        section_en: REGRESSION_EN,
        text_de: "Rate-Limits/API-Fehler werden sauber als JSON gemeldet.",
        text_en: "Rate limits/API errors are reported cleanly as JSON.",
        evidence_required: false,
    },
    DefaultItem {
        key: "regression_log_level",
        section_de: REGRESSION_DE,
        section_en: REGRESSION_EN,
        text_de: "Logging-Level passend zur Umgebung (Staging: debug, Prod: info, \
                  überschreibbar via LOG_LEVEL).",
        text_en: "Logging level appropriate for the environment (staging: debug, prod: info, \
                  overridable via LOG_LEVEL).",
        evidence_required: false,
    },
    DefaultItem {
        key: "regression_env_config",
        section_de: REGRESSION_DE,
        section_en: REGRESSION_EN,
        text_de: "Feature-Flags/Environment-Vars final \
                  (MONGO_DB_URL, FILE_STORAGE_MODE, Push-Keys etc.).",
        text_en: "Feature flags/environment variables final \
                  (MONGO_DB_URL, FILE_STORAGE_MODE, push keys etc.).",
        evidence_required: false,
    },
    // Freigabe-Check
    DefaultItem {
        key: "release_changelog_reviewed",
        section_de: SIGNOFF_DE,
        section_en: SIGNOFF_EN,
        text_de: "Changelog und Tickets reviewed.",
        text_en: "Changelog and tickets reviewed.",
        evidence_required: true,
    },
    DefaultItem {
        key: "release_monitoring_green",
        section_de: SIGNOFF_DE,
        section_en: SIGNOFF_EN,
        text_de: "Monitoring/Alerts grün (siehe unten).",
        text_en: "Monitoring/alerts green (see below).",
        evidence_required: true,
    },
    DefaultItem {
        key: "release_rollback_plan",
        section_de: SIGNOFF_DE,
        section_en: SIGNOFF_EN,
        text_de: "Rollback-Plan verlinkt.",
        text_en: "Rollback plan linked.",
        evidence_required: true,
    },
    DefaultItem {
        key: "release_secrets",
        section_de: SIGNOFF_DE,
        section_en: SIGNOFF_EN,
        text_de: "Pflicht-Secrets/Env-Vars für Zielumgebung hinterlegt (Prod: MONGODB_URI, \
                  AUTH_SECRET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, \
                  FILE_STORAGE_MODE=s3, AWS_REGION, LOG_ENDPOINT, \
                  OTEL_EXPORTER_OTLP_ENDPOINT + Prod-Token; Staging: Gegenstücke mit \
                  Staging-Token und ggf. FILE_STORAGE_MODE=local). CI/CD-Gate schlägt fehl, \
                  wenn eine Variable leer ist.",
        text_en: "Mandatory secrets/env vars stored for the target environment (prod: \
                  MONGODB_URI, AUTH_SECRET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, \
                  FILE_STORAGE_MODE=s3, AWS_REGION, LOG_ENDPOINT, \
                  OTEL_EXPORTER_OTLP_ENDPOINT + prod token; staging: counterparts with \
                  staging token and, if applicable, FILE_STORAGE_MODE=local). The CI/CD gate \
                  fails if any variable is empty.",
        evidence_required: false,
    },
    DefaultItem {
        key: "release_comms_plan",
        section_de: SIGNOFF_DE,
        section_en: SIGNOFF_EN,
        text_de: "Kommunikationsplan bestätigt (Slack-Kanal, Statuspage-Template, \
                  On-Call aktiviert).",
        text_en: "Communication plan confirmed (Slack channel, status page template, \
                  on-call activated).",
        evidence_required: false,
    },
];

const STAGING_GATE: [DefaultItem; 4] = [
    DefaultItem {
        key: "staging_deploy",
        section_de: STAGING_GATE_DE,
        section_en: STAGING_GATE_EN,
        text_de: "Deployment develop → Staging durchgeführt, Artefakt-Version/Commit notiert.",
        text_en: "Deployment develop → staging done, artifact version/commit recorded.",
        evidence_required: true,
    },
    DefaultItem {
        key: "staging_smoke_tests",
        section_de: STAGING_GATE_DE,
        section_en: STAGING_GATE_EN,
        text_de: "Smoke-Tests (App + API) dokumentiert, Screenshots/Logs abgelegt.",
        text_en: "Smoke tests (app + API) documented, screenshots/logs filed.",
        evidence_required: true,
    },
    DefaultItem {
        key: "staging_health",
        section_de: STAGING_GATE_DE,
        section_en: STAGING_GATE_EN,
        text_de: "Health-Checks /health + /readiness = 200; Logs fließen in backend-staging-*; \
                  OTEL-Events mit Staging-Token sichtbar.",
        text_en: "Health checks /health + /readiness = 200; logs flow into backend-staging-*; \
                  OTEL events with the staging token visible.",
        evidence_required: true,
    },
    DefaultItem {
        key: "staging_known_issues",
        section_de: STAGING_GATE_DE,
        section_en: STAGING_GATE_EN,
        text_de: "Bekannte offene P1/P2 in Staging adressiert oder explizit akzeptiert.",
        text_en: "Known open P1/P2 issues in staging addressed or explicitly accepted.",
        evidence_required: false,
    },
];

const GO_LIVE: [DefaultItem; 3] = [
    DefaultItem {
        key: "golive_signoff",
        section_de: GO_LIVE_DE,
        section_en: GO_LIVE_EN,
        text_de: "Product Owner + Release Captain bestätigen Go/No-Go.",
        text_en: "Product owner + release captain confirm go/no-go.",
        evidence_required: false,
    },
    DefaultItem {
        key: "golive_backups",
        section_de: GO_LIVE_DE,
        section_en: GO_LIVE_EN,
        text_de: "Backups <24h alt, Restore-Test <30 Tage; Down-Migration vorhanden.",
        text_en: "Backups less than 24h old, restore test less than 30 days ago; \
                  down migration available.",
        evidence_required: true,
    },
    DefaultItem {
        key: "golive_oncall",
        section_de: GO_LIVE_DE,
        section_en: GO_LIVE_EN,
        text_de: "On-Call/PagerDuty aktiv; Eskalationskette klar (siehe Runbook).",
        text_en: "On-call/PagerDuty active; escalation chain clear (see runbook).",
        evidence_required: false,
    },
];

// Also in migration 0005, for instances seeded before this checklist existed.
const POST_RELEASE: [DefaultItem; 2] = [
    DefaultItem {
        key: "post_dashboards",
        section_de: "Dokumentation",
        section_en: "Documentation",
        text_de: "Dashboard-Screenshots nach dem Release im Release-Ordner abgelegt.",
        text_en: "Dashboard screenshots after the release filed in the release folder.",
        evidence_required: true,
    },
    DefaultItem {
        key: "post_alert_logs",
        section_de: "Dokumentation",
        section_en: "Documentation",
        text_de: "Alert-Logs des Release-Zeitraums abgelegt.",
        text_en: "Alert logs of the release period filed.",
        evidence_required: true,
    },
];

/// An item of an editable template, as stored and as the admin page and the API show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateItem {
    pub id: i64,
    pub kind: ChecklistKind,
    pub position: i32,
    pub key: String,
    pub section_de: String,
    pub section_en: String,
    pub text_de: String,
    pub text_en: String,
    pub evidence_required: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_kind_has_items() {
        for kind in ChecklistKind::ALL {
            assert!(
                !default_items(kind).is_empty(),
                "{} has no items",
                kind.as_str()
            );
        }
    }

    #[test]
    fn kind_round_trips_through_str() {
        for kind in ChecklistKind::ALL {
            assert_eq!(ChecklistKind::parse(kind.as_str()), Some(kind));
            assert!(!kind.title_de().is_empty());
            assert!(!kind.title_en().is_empty());
        }
        assert_eq!(ChecklistKind::parse("nope"), None);
    }

    #[test]
    fn keys_are_unique_across_templates() {
        let mut seen = HashSet::new();
        for kind in ChecklistKind::ALL {
            for item in default_items(kind) {
                assert!(seen.insert(item.key), "duplicate key {}", item.key);
            }
        }
    }

    #[test]
    fn no_text_is_empty() {
        for kind in ChecklistKind::ALL {
            for item in default_items(kind) {
                assert!(!item.key.trim().is_empty());
                assert!(!item.section_de.trim().is_empty(), "{}", item.key);
                assert!(!item.section_en.trim().is_empty(), "{}", item.key);
                assert!(!item.text_de.trim().is_empty(), "{}", item.key);
                assert!(!item.text_en.trim().is_empty(), "{}", item.key);
            }
        }
    }

    #[test]
    fn keys_are_snake_case() {
        for kind in ChecklistKind::ALL {
            for item in default_items(kind) {
                assert!(
                    item.key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "{} is not snake_case",
                    item.key
                );
            }
        }
    }

    #[test]
    fn staging_gate_covers_deployment_and_open_issues() {
        let items = default_items(ChecklistKind::StagingGate);
        assert!(items.iter().any(|i| i.text_de.contains("Deployment")));
        assert!(items.iter().any(|i| i.text_de.contains("P1/P2")));
    }

    #[test]
    fn go_live_covers_backups() {
        let items = default_items(ChecklistKind::GoLive);
        assert!(items.iter().any(|i| i.text_de.contains("Backups")));
    }

    #[test]
    fn release_checklist_has_the_four_groups_in_order() {
        let mut sections: Vec<&str> = Vec::new();
        for item in default_items(ChecklistKind::ReleaseChecklist) {
            if sections.last() != Some(&item.section_de) {
                sections.push(item.section_de);
            }
        }
        assert_eq!(sections, vec![SMOKE_DE, API_DE, REGRESSION_DE, SIGNOFF_DE]);
    }
}
