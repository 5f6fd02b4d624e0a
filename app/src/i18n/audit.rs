//! Audit rows' actions in words, for the audit log and a release page's trail.

use super::Lang;
use std::borrow::Cow;

/// An audit row's action (`checklist.item`, `release.phase`, …) in words; an action this
/// version does not know reads as it was recorded.
pub fn audit_action_label(action: &str, lang: Lang) -> Cow<'static, str> {
    let (en, de) = match action {
        "user.register" => ("First admin registered", "Erster Admin registriert"),
        "user.create" => ("Account created", "Konto angelegt"),
        "user.roles" => ("Roles changed", "Rollen geändert"),
        "user.disable" => ("Account disabled", "Konto gesperrt"),
        "user.enable" => ("Account enabled", "Konto entsperrt"),
        "user.password" => ("Password changed", "Passwort geändert"),
        "user.sso_create" => (
            "Account created at single sign-on",
            "Konto bei Single Sign-on angelegt",
        ),
        "user.sso_link" => (
            "Account linked to single sign-on",
            "Konto mit Single Sign-on verknüpft",
        ),
        "user.sso_roles" => (
            "Roles changed by the provider's groups",
            "Rollen durch Gruppen des Anmeldedienstes geändert",
        ),
        "user.notifications" => (
            "Notification settings changed",
            "Benachrichtigungen geändert",
        ),
        "token.issue" => ("API token created", "API-Token erstellt"),
        "token.revoke" => ("API token revoked", "API-Token widerrufen"),
        "calendar.issue" => ("Calendar feed link created", "Kalender-Feed-Link erstellt"),
        "calendar.revoke" => (
            "Calendar feed link revoked",
            "Kalender-Feed-Link widerrufen",
        ),
        "release.create" => ("Release created", "Release angelegt"),
        "release.update" => ("Release edited", "Release bearbeitet"),
        "release.reassign" => ("People reassigned", "Personen neu zugeordnet"),
        "release.phase" => ("Phase changed", "Phase gewechselt"),
        "release.sealed" => ("Dossier sealed", "Dossier versiegelt"),
        "release.rollback_suggested" => ("Rollback suggested", "Rollback empfohlen"),
        "release.environment_renamed" => ("Environment renamed", "Umgebung umbenannt"),
        "checklist.item" => ("Checklist item updated", "Checklistenpunkt aktualisiert"),
        "known_issue.add" => ("Known issue added", "Bekanntes Problem erfasst"),
        "known_issue.resolve" => ("Known issue resolved", "Bekanntes Problem behoben"),
        "known_issue.accept" => ("Known issue accepted", "Bekanntes Problem akzeptiert"),
        "deployment.record" => ("Staging deployment recorded", "Staging-Deployment erfasst"),
        "env_check.report" => ("Variable report", "Variablen-Bericht"),
        "go_no_go.sign_off" => ("Go/No-Go sign-off", "Go/No-Go-Freigabe"),
        "evidence.attach" => ("Evidence attached", "Nachweis angehängt"),
        "evidence.retract" => ("Evidence retracted", "Nachweis zurückgezogen"),
        "go_live.start" => ("Go-live started", "Go-Live gestartet"),
        "go_live.step" => ("Go-live step recorded", "Go-Live-Schritt erfasst"),
        "go_live.complete" => ("Go-live completed", "Go-Live abgeschlossen"),
        "go_live.rollback" => ("Rolled back", "Zurückgerollt"),
        "template.add" => ("Template item added", "Vorlagenpunkt hinzugefügt"),
        "template.change" => ("Template item changed", "Vorlagenpunkt geändert"),
        "template.remove" => ("Template item removed", "Vorlagenpunkt entfernt"),
        "environment.create" => ("Environment registered", "Umgebung registriert"),
        "environment.update" => ("Environment changed", "Umgebung geändert"),
        "environment.delete" => ("Environment removed", "Umgebung entfernt"),
        "monitoring.settings" => (
            "Monitoring settings changed",
            "Monitoring-Einstellungen geändert",
        ),
        "freeze.create" => ("Freeze window added", "Freeze-Fenster angelegt"),
        "freeze.remove" => ("Freeze window removed", "Freeze-Fenster entfernt"),
        "webhook.add" => ("Webhook added", "Webhook hinzugefügt"),
        "webhook.remove" => ("Webhook removed", "Webhook entfernt"),
        "webhook.events" => ("Webhook events changed", "Webhook-Ereignisse geändert"),
        other => return other.to_string().into(),
    };
    lang.pick(en, de).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_as_words_and_unknown_ones_as_recorded() {
        assert_eq!(
            audit_action_label("checklist.item", Lang::De),
            "Checklistenpunkt aktualisiert"
        );
        assert_eq!(
            audit_action_label("go_no_go.sign_off", Lang::En),
            "Go/No-Go sign-off"
        );
        assert_eq!(audit_action_label("future.thing", Lang::En), "future.thing");
    }
}
