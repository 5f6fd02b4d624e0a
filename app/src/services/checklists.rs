//! Work on a release: checklist items, known issues, deployments and environment checks.

use super::audit::{self, Entry};
use super::error::unique_violation_as;
use super::release_store::{self as store, bump, checklist, lock};
use super::{Actor, ServiceError};
use crate::domain::release::{
    check_item_change, check_not_applicable, ItemRefusal, ItemState, Severity,
};
use crate::domain::release_model::{ChecklistItem, KnownIssue, Release};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

/// A change to one checklist item; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ItemChange {
    pub state: Option<String>,
    pub note: Option<String>,
    pub reason: Option<String>,
    /// Appended to the item's links (evidence).
    pub link: Option<String>,
    pub revision: Option<i32>,
}

fn is_captain_or_owner(actor: &Actor, r: &Release) -> bool {
    match actor {
        Actor::Cli | Actor::Probes => true,
        Actor::User(u) => r.is_captain_or_owner(u),
    }
}

fn item_refusal(r: ItemRefusal) -> ServiceError {
    match r {
        ItemRefusal::ReasonRequired => ServiceError::Invalid {
            field: "reason",
            en: "Give a reason for not applicable or accepted risk.",
            de: "Bitte für „nicht anwendbar“ oder „Risiko akzeptiert“ einen Grund angeben.",
        },
        ItemRefusal::EvidenceRequired => ServiceError::Invalid {
            field: "link",
            en: "This item needs evidence (a link or an attached file) before it can pass.",
            de: "Dieser Punkt braucht einen Nachweis (Link oder angehängte Datei), bevor er bestanden sein kann.",
        },
        ItemRefusal::OnlyCaptainOrOwnerAcceptRisk => ServiceError::OnlyFor {
            en: "Only the release's captain or product owner may accept a risk.",
            de: "Keine Berechtigung: Nur der Release Captain oder der Product Owner dieses Releases darf ein Risiko akzeptieren.",
        },
        ItemRefusal::OnlyCaptainOrOwnerNotApplicable => ServiceError::OnlyFor {
            en: "Only the release's captain or product owner may mark an item that needs proof as not applicable.",
            de: "Keine Berechtigung: Nur der Release Captain oder der Product Owner dieses Releases darf einen Punkt, der einen Nachweis braucht, als „nicht anwendbar“ markieren.",
        },
        ItemRefusal::ReleaseClosed => ServiceError::Conflict {
            en: "This release has ended and can no longer be changed.",
            de: "Dieses Release ist abgeschlossen und kann nicht mehr geändert werden.",
        },
    }
}

async fn find_item(
    conn: &mut PgConnection,
    release_id: i64,
    item: &str,
) -> Result<ChecklistItem, ServiceError> {
    checklist(conn, release_id)
        .await?
        .into_iter()
        .find(|i| i.key == item || i.id.to_string() == item)
        .ok_or(ServiceError::NotFound)
}

/// Links one checklist item may carry: enough for any real proof, not a dumping ground.
pub const MAX_LINKS_PER_ITEM: usize = 20;

/// A known issue the release lists already (by its key).
fn duplicate_issue(e: sqlx::Error) -> ServiceError {
    unique_violation_as(
        e,
        ServiceError::Conflict {
            en: "This release lists that issue already.",
            de: "Dieses Release führt das Issue bereits.",
        },
    )
}

pub async fn set_item(
    pool: &PgPool,
    actor: &Actor,
    release_id: i64,
    item: &str,
    change: ItemChange,
) -> Result<ChecklistItem, ServiceError> {
    set_item_as(pool, actor, release_id, item, change, false).await
}

/// [`set_item`], saying whether the change comes from a probe snapshot: an item the
/// probes prove passes only that way.
pub(crate) async fn set_item_as(
    pool: &PgPool,
    actor: &Actor,
    release_id: i64,
    item: &str,
    change: ItemChange,
    from_probes: bool,
) -> Result<ChecklistItem, ServiceError> {
    actor.require_worker()?;
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, release_id, change.revision).await?;
    let before = find_item(&mut tx, release_id, item).await?;
    let state = match change.state.as_deref() {
        None => before.state,
        Some(s) => ItemState::parse(s).ok_or(ServiceError::Invalid {
            field: "state",
            en: "Unknown state (open, passed, failed, not_applicable, accepted_risk).",
            de: "Unbekannter Zustand (open, passed, failed, not_applicable, accepted_risk).",
        })?,
    };
    // Where Shipgate probes the staging environment, the probes are the proof of its
    // health item: it passes from a probe snapshot, not by hand.
    let probe_only = crate::domain::monitoring::is_probed_item(&before.key);
    if !from_probes
        && matches!(state, ItemState::Passed | ItemState::NotApplicable)
        && before.state != state
        && probe_only
        && store::probed(&mut tx, &r.staging_environment).await?
    {
        return Err(ServiceError::invalid(
            "state",
            "The staging environment is probed: this item passes from the probes (“Check now from the probes”).",
            "Die Staging-Umgebung wird geprüft: dieser Punkt wird aus den Checks bestanden („Jetzt aus den Checks prüfen“).",
        ));
    }
    let mut links = before.links.clone();
    if let Some(link) = change
        .link
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if !(link.starts_with("https://") || link.starts_with("http://")) || link.len() > 2000 {
            return Err(ServiceError::Invalid {
                field: "link",
                en: "Enter a full http(s):// link.",
                de: "Bitte einen vollständigen http(s)://-Link eingeben.",
            });
        }
        if !links.iter().any(|l| l == link) {
            if links.len() >= MAX_LINKS_PER_ITEM {
                return Err(ServiceError::Invalid {
                    field: "link",
                    en: "This item already has 20 links; attach a file or remove one first.",
                    de: "Dieser Punkt hat bereits 20 Links; bitte eine Datei anhängen oder zuerst einen entfernen.",
                });
            }
            links.push(link.to_string());
        }
    }
    let reason = change.reason.clone().unwrap_or(before.reason.clone());
    let note = change.note.clone().unwrap_or(before.note.clone());
    if note.chars().count() > 4000 || reason.chars().count() > 2000 {
        return Err(ServiceError::Invalid {
            field: "note",
            en: "The text is too long.",
            de: "Der Text ist zu lang.",
        });
    }
    // The resulting item is judged, whatever part of it changes: a note-only edit of an
    // accepted risk still needs the captain or owner, a cleared reason still counts.
    check_item_change(
        r.phase,
        state,
        Some(reason.as_str()),
        before.evidence_required,
        links.len() + before.evidence_count.max(0) as usize,
        is_captain_or_owner(actor, &r),
    )
    .map_err(item_refusal)?;
    check_not_applicable(
        state,
        before.evidence_required || probe_only,
        is_captain_or_owner(actor, &r),
    )
    .map_err(item_refusal)?;
    let updated_by = actor.user_id();
    sqlx::query!(
        "UPDATE checklist_items SET state = $2, note = $3, reason = $4, links = $5,
                updated_by = $6, updated_at = now()
         WHERE id = $1",
        before.id,
        state.as_str(),
        note,
        reason,
        &links,
        updated_by
    )
    .execute(&mut *tx)
    .await?;
    bump(&mut tx, release_id).await?;
    let after = find_item(&mut tx, release_id, &before.key).await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "checklist.item",
            release_id: Some(release_id),
            old: Some(json!({ "key": before.key, "state": before.state, "note": before.note, "reason": before.reason, "links": before.links })),
            new: Some(json!({ "key": after.key, "state": after.state, "note": after.note, "reason": after.reason, "links": after.links })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKnownIssue {
    pub key: String,
    pub severity: String,
    pub title: String,
}

pub async fn add_known_issue(
    pool: &PgPool,
    actor: &Actor,
    release_id: i64,
    new: NewKnownIssue,
) -> Result<KnownIssue, ServiceError> {
    actor.require_worker()?;
    let severity = Severity::parse(new.severity.trim()).ok_or(ServiceError::Invalid {
        field: "severity",
        en: "Severity is p1, p2 or p3.",
        de: "Schweregrad ist p1, p2 oder p3.",
    })?;
    for (field, v) in [("key", &new.key), ("title", &new.title)] {
        if v.trim().is_empty() || v.chars().count() > 300 {
            return Err(ServiceError::Invalid {
                field,
                en: "Required, at most 300 characters.",
                de: "Erforderlich, höchstens 300 Zeichen.",
            });
        }
    }
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, release_id, None).await?;
    if r.phase.is_final() {
        return Err(item_refusal(ItemRefusal::ReleaseClosed));
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO known_issues (release_id, key, severity, title) VALUES ($1, $2, $3, $4) RETURNING id",
        release_id,
        new.key.trim(),
        severity.as_str(),
        new.title.trim()
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(duplicate_issue)?;
    bump(&mut tx, release_id).await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "known_issue.add",
            release_id: Some(release_id),
            old: None,
            new: Some(
                json!({ "key": new.key.trim(), "severity": severity, "title": new.title.trim() }),
            ),
        },
    )
    .await?;
    let issue = store::known_issues(&mut tx, release_id)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or(ServiceError::NotFound)?;
    tx.commit().await?;
    Ok(issue)
}

/// Resolving needs a worker; accepting an open P1/P2 needs the release's captain or owner
/// and a reason (who, when, why are recorded).
pub async fn settle_known_issue(
    pool: &PgPool,
    actor: &Actor,
    release_id: i64,
    issue_id: i64,
    accept_reason: Option<&str>,
) -> Result<KnownIssue, ServiceError> {
    actor.require_worker()?;
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, release_id, None).await?;
    if r.phase.is_final() {
        return Err(item_refusal(ItemRefusal::ReleaseClosed));
    }
    let action = match accept_reason.map(str::trim) {
        None => {
            sqlx::query!(
                "UPDATE known_issues SET resolved_at = COALESCE(resolved_at, now())
                 WHERE id = $1 AND release_id = $2",
                issue_id,
                release_id
            )
            .execute(&mut *tx)
            .await?;
            "known_issue.resolve"
        }
        Some("") => {
            return Err(ServiceError::Invalid {
                field: "reason",
                en: "Say why the risk is accepted.",
                de: "Bitte begründen, warum das Risiko akzeptiert wird.",
            })
        }
        Some(reason) => {
            if !is_captain_or_owner(actor, &r) {
                return Err(ServiceError::OnlyFor {
                    en: "Only the release's captain or product owner may accept a known issue.",
                    de: "Keine Berechtigung: Nur der Release Captain oder der Product Owner dieses Releases darf ein bekanntes Problem akzeptieren.",
                });
            }
            let by = actor.user_id();
            sqlx::query!(
                "UPDATE known_issues SET accepted_by = $3, accepted_at = now(), accept_reason = $4
                 WHERE id = $1 AND release_id = $2",
                issue_id,
                release_id,
                by,
                reason
            )
            .execute(&mut *tx)
            .await?;
            "known_issue.accept"
        }
    };
    let issue = store::known_issues(&mut tx, release_id)
        .await?
        .into_iter()
        .find(|k| k.id == issue_id)
        .ok_or(ServiceError::NotFound)?;
    bump(&mut tx, release_id).await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action,
            release_id: Some(release_id),
            old: None,
            new: Some(json!(issue)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(issue)
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    pub environment: String,
    pub artifact_version: String,
    pub commit_sha: String,
    #[serde(default)]
    pub ci_run_url: Option<String>,
}

/// The staging-gate item filled by a deployment report.
pub const DEPLOY_ITEM: &str = "staging_deploy";

/// Records a deployment. A deployment to the release's staging environment fills the
/// staging-gate item "Deployment develop → Staging … Artefakt-Version/Commit notiert".
pub async fn record_deployment(
    pool: &PgPool,
    actor: &Actor,
    release_id: i64,
    d: Deployment,
) -> Result<Option<ChecklistItem>, ServiceError> {
    actor.require_worker()?;
    for (field, v) in [
        ("environment", &d.environment),
        ("artifact_version", &d.artifact_version),
        ("commit_sha", &d.commit_sha),
    ] {
        if v.trim().is_empty() || v.len() > 200 {
            return Err(ServiceError::Invalid {
                field,
                en: "Required, at most 200 characters.",
                de: "Erforderlich, höchstens 200 Zeichen.",
            });
        }
    }
    if let Some(url) = d.ci_run_url.as_deref() {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ServiceError::Invalid {
                field: "ci_run_url",
                en: "Enter a full http(s):// link.",
                de: "Bitte einen vollständigen http(s)://-Link eingeben.",
            });
        }
    }
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, release_id, None).await?;
    if r.phase.is_final() {
        return Err(item_refusal(ItemRefusal::ReleaseClosed));
    }
    let by = actor.user_id();
    sqlx::query!(
        "INSERT INTO deployments (release_id, environment, artifact_version, commit_sha, ci_run_url, reported_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
        release_id,
        d.environment.trim(),
        d.artifact_version.trim(),
        d.commit_sha.trim(),
        d.ci_run_url,
        by
    )
    .execute(&mut *tx)
    .await?;
    let mut filled = None;
    if d.environment.trim() == r.staging_environment {
        let note = format!("{} @ {}", d.artifact_version.trim(), d.commit_sha.trim());
        let links: Vec<String> = d.ci_run_url.iter().cloned().collect();
        sqlx::query!(
            "UPDATE checklist_items
             SET state = CASE WHEN evidence_required AND cardinality(links || $4::text[]) = 0
                              THEN state ELSE 'passed' END,
                 note = $3,
                 links = ARRAY(SELECT DISTINCT unnest(links || $4::text[])), updated_by = $5, updated_at = now()
             WHERE release_id = $1 AND key = $2",
            release_id,
            DEPLOY_ITEM,
            note,
            &links,
            by
        )
        .execute(&mut *tx)
        .await?;
        filled = checklist(&mut tx, release_id)
            .await?
            .into_iter()
            .find(|i| i.key == DEPLOY_ITEM);
    }
    bump(&mut tx, release_id).await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "deployment.record",
            release_id: Some(release_id),
            old: None,
            new: Some(json!(d)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(filled)
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
/// What a pipeline reports about the variables a release requires (names only).
pub struct VariableReport {
    #[serde(default)]
    pub environment: Option<String>,
    /// Names of variables that are set and not empty. Names only, never values.
    #[serde(default)]
    pub present: Vec<String>,
    /// Names of variables that are set but empty.
    #[serde(default)]
    pub empty: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
/// Whether the reported variables cover what the release requires.
pub struct VariableCheck {
    pub passed: bool,
    pub missing: Vec<String>,
    pub empty: Vec<String>,
}

/// The item of the release checklist that names the required secrets and variables.
pub const ENV_ITEM: &str = "release_secrets";

/// A pipeline reports which required variables are present; any missing or empty one
/// fails the checklist item, all present passes it.
pub async fn check_variables(
    pool: &PgPool,
    actor: &Actor,
    release_id: i64,
    c: VariableReport,
) -> Result<VariableCheck, ServiceError> {
    actor.require_worker()?;
    let valid = |n: &String| {
        !n.is_empty() && n.len() <= 100 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !c.present.iter().chain(c.empty.iter()).all(valid) {
        return Err(ServiceError::Invalid {
            field: "present",
            en: "Send variable names only (letters, digits, underscores), never values.",
            de: "Nur Variablennamen senden (Buchstaben, Ziffern, Unterstriche), niemals Werte.",
        });
    }
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, release_id, None).await?;
    if r.phase.is_final() {
        return Err(item_refusal(ItemRefusal::ReleaseClosed));
    }
    let empty: Vec<String> = r
        .required_env_vars
        .iter()
        .filter(|v| c.empty.contains(v))
        .cloned()
        .collect();
    let missing: Vec<String> = r
        .required_env_vars
        .iter()
        .filter(|v| !c.present.contains(v) && !c.empty.contains(v))
        .cloned()
        .collect();
    let passed = missing.is_empty() && empty.is_empty();
    let note = if passed {
        format!(
            "all {} required variables present",
            r.required_env_vars.len()
        )
    } else {
        format!(
            "missing: {}; empty: {}",
            missing.join(", "),
            empty.join(", ")
        )
    };
    let by = actor.user_id();
    sqlx::query!(
        "UPDATE checklist_items SET state = $3, note = $4, updated_by = $5, updated_at = now()
         WHERE release_id = $1 AND key = $2",
        release_id,
        ENV_ITEM,
        if passed { "passed" } else { "failed" },
        note,
        by
    )
    .execute(&mut *tx)
    .await?;
    bump(&mut tx, release_id).await?;
    let result = VariableCheck {
        passed,
        missing,
        empty,
    };
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "env_check.report",
            release_id: Some(release_id),
            old: None,
            new: Some(json!({ "environment": c.environment, "result": result })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}
