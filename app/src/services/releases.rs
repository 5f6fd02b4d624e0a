//! Releases: create and edit, phase changes, and the gates. Every change runs in one
//! transaction with its audit row and bumps the release's revision.

use super::audit::{self, Entry};
use super::error::unique_violation_as;
use super::{Actor, ServiceError};
use crate::domain::account::Role;
use crate::domain::evidence::Evidence;
use crate::domain::release::{
    check_canary_stages, requested_transition_blockers, staging_gate_blockers, Blocker, GateIssue,
    GateItem, Phase, Preconditions, Strategy, TransitionFacts, DEFAULT_CANARY_HOLD_MINUTES,
    DEFAULT_CANARY_STAGES, DEFAULT_REQUIRED_ENV_VARS,
};
use crate::domain::release_model::{ChecklistItem, GateReport, KnownIssue, Links, Release};
use crate::domain::templates::ChecklistKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

fn invalid(field: &'static str, en: &'static str, de: &'static str) -> ServiceError {
    ServiceError::invalid(field, en, de)
}

pub fn stale_write() -> ServiceError {
    ServiceError::Conflict {
        en: "Someone else changed this release in the meantime. Reload it and apply your change again.",
        de: "Jemand anderes hat dieses Release inzwischen geändert. Bitte neu laden und die Änderung erneut vornehmen.",
    }
}

/// Who may plan and edit releases.
pub fn require_planner(actor: &Actor) -> Result<(), ServiceError> {
    match actor {
        Actor::Cli | Actor::Probes => Ok(()),
        Actor::User(u) if u.has_role(Role::Admin) || u.has_role(Role::ReleaseCaptain) => Ok(()),
        Actor::User(_) => Err(ServiceError::Forbidden),
    }
}

/// Who may work on a release: tick checklists, report deployments, record known issues.
pub fn require_worker(actor: &Actor) -> Result<(), ServiceError> {
    match actor {
        Actor::Cli | Actor::Probes => Ok(()),
        Actor::User(u) if u.is_worker() => Ok(()),
        Actor::User(_) => Err(ServiceError::Forbidden),
    }
}

/// Who may move this release along (phases, go-live steps): its captain or an admin.
pub fn require_steer(actor: &Actor, r: &Release) -> Result<(), ServiceError> {
    match actor {
        Actor::Cli | Actor::Probes => Ok(()),
        Actor::User(u) if r.may_steer(u) => Ok(()),
        Actor::User(_) => Err(ServiceError::Forbidden),
    }
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

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn check_text(field: &'static str, v: &str, max: usize) -> Result<(), ServiceError> {
    if v.trim().is_empty() {
        return Err(ServiceError::Invalid {
            field,
            en: "This field is required.",
            de: "Dieses Feld ist erforderlich.",
        });
    }
    if v.chars().count() > max {
        return Err(ServiceError::Invalid {
            field,
            en: "This value is too long.",
            de: "Dieser Wert ist zu lang.",
        });
    }
    Ok(())
}

fn check_url(field: &'static str, v: &str) -> Result<(), ServiceError> {
    let ok = (v.starts_with("https://") || v.starts_with("http://"))
        && v.len() <= 2000
        && !v.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(ServiceError::Invalid {
            field,
            en: "Enter a full http(s):// link.",
            de: "Bitte einen vollständigen http(s)://-Link eingeben.",
        })
    }
}

/// Applies an input onto a release (or a blank one), validating every field it touches.
fn merge(mut r: Release, input: &ReleaseInput) -> Result<Release, ServiceError> {
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

fn blank(now: DateTime<Utc>) -> Release {
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

/// Resolves an assigned person by email; they must hold the role.
async fn person(
    conn: &mut PgConnection,
    field: &'static str,
    email: &Option<String>,
    role: Role,
) -> Result<Option<i64>, ServiceError> {
    let Some(email) = trimmed(email) else {
        return Ok(None);
    };
    let row = sqlx::query!(
        "SELECT id, roles FROM users WHERE email = $1 AND NOT disabled",
        email.to_lowercase()
    )
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) if r.roles.iter().any(|x| x == role.as_str()) => Ok(Some(r.id)),
        Some(_) => Err(invalid(
            field,
            "This person does not hold the role needed for this assignment.",
            "Diese Person hat nicht die für diese Zuordnung nötige Rolle.",
        )),
        None => Err(invalid(
            field,
            "No active account with this email address.",
            "Kein aktives Konto mit dieser E-Mail-Adresse.",
        )),
    }
}

/// Copies the current templates into a new release (seeding the shipped ones on first use),
/// so later template edits do not change releases that exist.
async fn copy_templates(conn: &mut PgConnection, release_id: i64) -> Result<(), ServiceError> {
    super::templates::seed_defaults(conn).await?;
    sqlx::query!(
        "INSERT INTO checklist_items
           (release_id, kind, position, key, section_de, section_en, text_de, text_en, evidence_required)
         SELECT $1, kind, position, key, section_de, section_en, text_de, text_en, evidence_required
         FROM checklist_template_items",
        release_id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    input: ReleaseInput,
) -> Result<Release, ServiceError> {
    require_planner(actor)?;
    for (field, missing) in [
        ("title", input.title.is_none()),
        ("version", input.version.is_none()),
        ("environment", input.environment.is_none()),
        ("window_start", input.window_start.is_none()),
        ("window_end", input.window_end.is_none()),
    ] {
        if missing {
            return Err(ServiceError::Invalid {
                field,
                en: "This field is required.",
                de: "Dieses Feld ist erforderlich.",
            });
        }
    }
    let r = merge(blank(Utc::now()), &input)?;
    let mut tx = pool.begin().await?;
    let captain = person(
        &mut tx,
        "release_captain",
        &input.release_captain,
        Role::ReleaseCaptain,
    )
    .await?;
    let owner = person(
        &mut tx,
        "product_owner",
        &input.product_owner,
        Role::ProductOwner,
    )
    .await?;
    let created_by = actor.user_id();
    let id = sqlx::query_scalar!(
        "INSERT INTO releases (title, version, artifact_version, commit_sha, environment,
            staging_environment, window_start, window_end, strategy, canary_stages,
            canary_hold_minutes, links, release_captain_id, product_owner_id,
            last_backup_at, last_restore_test_at, on_call, required_env_vars, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         RETURNING id",
        r.title,
        r.version,
        r.artifact_version,
        r.commit_sha,
        r.environment,
        r.staging_environment,
        r.window_start as _,
        r.window_end as _,
        r.strategy.as_str(),
        &r.canary_stages,
        r.canary_hold_minutes,
        json!(r.links),
        captain,
        owner,
        r.last_backup_at as _,
        r.last_restore_test_at as _,
        r.on_call,
        &r.required_env_vars,
        created_by
    )
    .fetch_one(&mut *tx)
    .await?;
    copy_templates(&mut tx, id).await?;
    let created = load(&mut tx, id).await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "release.create",
            release_id: Some(id),
            old: None,
            new: Some(json!(created)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// Loads one release (with people as emails).
pub async fn load(conn: &mut PgConnection, id: i64) -> Result<Release, ServiceError> {
    let r = sqlx::query!(
        r#"SELECT r.id, r.title, r.version, r.artifact_version, r.commit_sha, r.environment,
                  r.staging_environment,
                  r.window_start AS "window_start: DateTime<Utc>",
                  r.window_end AS "window_end: DateTime<Utc>",
                  r.strategy, r.canary_stages, r.canary_hold_minutes, r.links,
                  rc.email AS "release_captain?", po.email AS "product_owner?", r.phase,
                  r.last_backup_at AS "last_backup_at: DateTime<Utc>",
                  r.last_restore_test_at AS "last_restore_test_at: DateTime<Utc>",
                  r.on_call, r.required_env_vars, r.revision,
                  r.created_at AS "created_at: DateTime<Utc>",
                  r.updated_at AS "updated_at: DateTime<Utc>"
           FROM releases r
           LEFT JOIN users rc ON rc.id = r.release_captain_id
           LEFT JOIN users po ON po.id = r.product_owner_id
           WHERE r.id = $1"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ServiceError::NotFound)?;
    Ok(Release {
        id: r.id,
        title: r.title,
        version: r.version,
        artifact_version: r.artifact_version,
        commit_sha: r.commit_sha,
        environment: r.environment,
        staging_environment: r.staging_environment,
        window_start: r.window_start,
        window_end: r.window_end,
        strategy: Strategy::parse(&r.strategy).unwrap_or(Strategy::BlueGreen),
        canary_stages: r.canary_stages,
        canary_hold_minutes: r.canary_hold_minutes,
        links: serde_json::from_value(r.links).unwrap_or_default(),
        release_captain: r.release_captain,
        product_owner: r.product_owner,
        phase: Phase::parse(&r.phase).unwrap_or(Phase::Draft),
        last_backup_at: r.last_backup_at,
        last_restore_test_at: r.last_restore_test_at,
        on_call: r.on_call,
        required_env_vars: r.required_env_vars,
        revision: r.revision,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Release, ServiceError> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, id).await
}

/// The ids of releases not yet ended, by go-live window; or of all of them (at most 500).
pub async fn list_ids(pool: &PgPool, include_ended: bool) -> Result<Vec<i64>, ServiceError> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM releases
         WHERE $1 OR phase NOT IN ('done', 'no_go', 'rolled_back')
         ORDER BY window_start, id LIMIT 500",
        include_ended
    )
    .fetch_all(pool)
    .await?)
}

/// Releases not yet ended, by go-live window; or all of them.
pub async fn list(pool: &PgPool, include_ended: bool) -> Result<Vec<Release>, ServiceError> {
    let ids = list_ids(pool, include_ended).await?;
    let mut conn = pool.acquire().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(load(&mut conn, id).await?);
    }
    Ok(out)
}

/// Locks the release row for the rest of the transaction and checks the writer's revision.
pub async fn lock(
    conn: &mut PgConnection,
    id: i64,
    expected_revision: Option<i32>,
) -> Result<Release, ServiceError> {
    sqlx::query_scalar!("SELECT id FROM releases WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let current = load(conn, id).await?;
    if expected_revision.is_some_and(|r| r != current.revision) {
        return Err(stale_write());
    }
    Ok(current)
}

/// Marks the release changed: a new revision, which also makes earlier sign-offs stale.
pub async fn bump(conn: &mut PgConnection, id: i64) -> Result<(), ServiceError> {
    sqlx::query!(
        "UPDATE releases SET revision = revision + 1, updated_at = now() WHERE id = $1",
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    input: ReleaseInput,
) -> Result<Release, ServiceError> {
    require_planner(actor)?;
    let Some(expected) = input.revision else {
        return Err(invalid(
            "revision",
            "Send the revision you edited, so no one else's change is overwritten.",
            "Bitte die bearbeitete Revision mitsenden, damit keine fremde Änderung überschrieben wird.",
        ));
    };
    let mut tx = pool.begin().await?;
    let before = lock(&mut tx, id, Some(expected)).await?;
    // Editing is steering: only this release's captain or an admin, not any captain.
    require_steer(actor, &before)?;
    if before.phase.is_final() {
        return Err(ServiceError::Conflict {
            en: "This release has ended and can no longer be changed.",
            de: "Dieses Release ist abgeschlossen und kann nicht mehr geändert werden.",
        });
    }
    let after = merge(before.clone(), &input)?;
    let plan_changed = (
        &after.strategy,
        &after.canary_stages,
        after.canary_hold_minutes,
        &after.environment,
        after.window_start,
        after.window_end,
    ) != (
        &before.strategy,
        &before.canary_stages,
        before.canary_hold_minutes,
        &before.environment,
        before.window_start,
        before.window_end,
    );
    if plan_changed
        && crate::domain::golive::plan_locked(before.phase, go_live_started(&mut tx, id).await?)
    {
        return Err(ServiceError::Conflict {
            en: "The go-live has started: its plan (strategy, stages, hold, target, window) no longer changes.",
            de: "Das Go-Live läuft: sein Plan (Strategie, Stufen, Haltezeit, Ziel, Fenster) ändert sich nicht mehr.",
        });
    }
    if !after
        .staging_environment
        .trim()
        .eq_ignore_ascii_case(before.staging_environment.trim())
        && probed(&mut tx, &before.staging_environment).await?
        && !probed(&mut tx, &after.staging_environment).await?
    {
        // Pointing a release away from its probed staging to a name nobody probes would
        // let its health item be settled by hand.
        return Err(invalid(
            "staging_environment",
            "Staging is probed under its current name; choose another environment that Shipgate probes.",
            "Staging wird unter dem jetzigen Namen geprüft; bitte eine andere Umgebung wählen, die Shipgate prüft.",
        ));
    }
    let captain = match &input.release_captain {
        Some(_) => Some(
            person(
                &mut tx,
                "release_captain",
                &input.release_captain,
                Role::ReleaseCaptain,
            )
            .await?,
        ),
        None => None,
    };
    let owner = match &input.product_owner {
        Some(_) => Some(
            person(
                &mut tx,
                "product_owner",
                &input.product_owner,
                Role::ProductOwner,
            )
            .await?,
        ),
        None => None,
    };
    sqlx::query!(
        "UPDATE releases SET title = $2, version = $3, artifact_version = $4, commit_sha = $5,
            environment = $6, staging_environment = $7, window_start = $8, window_end = $9,
            strategy = $10, canary_stages = $11, canary_hold_minutes = $12, links = $13,
            release_captain_id = CASE WHEN $14 THEN $15 ELSE release_captain_id END,
            product_owner_id = CASE WHEN $16 THEN $17 ELSE product_owner_id END,
            last_backup_at = $18, last_restore_test_at = $19, on_call = $20,
            required_env_vars = $21
         WHERE id = $1",
        id,
        after.title,
        after.version,
        after.artifact_version,
        after.commit_sha,
        after.environment,
        after.staging_environment,
        after.window_start as _,
        after.window_end as _,
        after.strategy.as_str(),
        &after.canary_stages,
        after.canary_hold_minutes,
        json!(after.links),
        captain.is_some(),
        captain.flatten(),
        owner.is_some(),
        owner.flatten(),
        after.last_backup_at as _,
        after.last_restore_test_at as _,
        after.on_call,
        &after.required_env_vars
    )
    .execute(&mut *tx)
    .await?;
    bump(&mut tx, id).await?;
    let updated = load(&mut tx, id).await?;
    let assigned = |r: &Release| (r.release_captain.clone(), r.product_owner.clone());
    if assigned(&updated) != assigned(&before) {
        require_reassignment(&mut tx, actor, &before).await?;
        // The signed content names the people, so sign-offs given before are stale now.
        audit::append(
            &mut tx,
            actor,
            Entry {
                action: "release.reassign",
                release_id: Some(id),
                old: Some(json!({ "release_captain": before.release_captain, "product_owner": before.product_owner })),
                new: Some(json!({ "release_captain": updated.release_captain, "product_owner": updated.product_owner })),
            },
        )
        .await?;
    }
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "release.update",
            release_id: Some(id),
            old: Some(json!(before)),
            new: Some(json!(updated)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// Whether Shipgate probes an environment of this name (its probes prove its health).
pub async fn probed(conn: &mut PgConnection, environment: &str) -> Result<bool, ServiceError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM environments
                          WHERE lower(name) = lower($1) AND enabled) AS "probed!""#,
        environment.trim()
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// Refuses a change of the assigned people that [`Release::reassignment`] does not allow.
async fn require_reassignment(
    conn: &mut PgConnection,
    actor: &Actor,
    r: &Release,
) -> Result<(), ServiceError> {
    use crate::domain::release_model::Reassignment;
    let sign_offs = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM sign_offs WHERE release_id = $1"#,
        r.id
    )
    .fetch_one(&mut *conn)
    .await?;
    let admin = match actor {
        Actor::Cli | Actor::Probes => true,
        Actor::User(u) => u.is_admin(),
    };
    match r.reassignment(sign_offs as usize) {
        Reassignment::Editors => Ok(()),
        Reassignment::AdminsOnly if admin => Ok(()),
        Reassignment::AdminsOnly => Err(ServiceError::Forbidden),
        Reassignment::Closed => Err(ServiceError::Conflict {
            en: "Both have signed: who is assigned as release captain and product owner no longer changes.",
            de: "Beide haben unterschrieben: Wer als Release Captain und Product Owner zugeordnet ist, ändert sich nicht mehr.",
        }),
    }
}

pub async fn checklist(
    conn: &mut PgConnection,
    release_id: i64,
) -> Result<Vec<ChecklistItem>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.kind, c.position, c.key, c.section_de, c.section_en, c.text_de,
                c.text_en, c.evidence_required, c.state, c.note, c.reason, c.links,
                (SELECT count(*) FROM evidence e WHERE e.release_id = c.release_id
                 AND e.item_key = c.key AND e.retracted_at IS NULL) AS "attachments!"
         FROM checklist_items c WHERE c.release_id = $1
         ORDER BY CASE c.kind WHEN 'release_checklist' THEN 0 WHEN 'staging_gate' THEN 1 WHEN 'go_live' THEN 2 ELSE 3 END, c.position"#,
        release_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ChecklistItem {
            id: r.id,
            kind: ChecklistKind::parse(&r.kind).unwrap_or(ChecklistKind::ReleaseChecklist),
            position: r.position,
            key: r.key,
            section_de: r.section_de,
            section_en: r.section_en,
            text_de: r.text_de,
            text_en: r.text_en,
            evidence_required: r.evidence_required,
            state: crate::domain::release::ItemState::parse(&r.state)
                .unwrap_or(crate::domain::release::ItemState::Open),
            note: r.note,
            reason: r.reason,
            links: r.links,
            attachments: r.attachments,
        })
        .collect())
}

pub async fn known_issues(
    conn: &mut PgConnection,
    release_id: i64,
) -> Result<Vec<KnownIssue>, ServiceError> {
    let rows = sqlx::query!(
        r#"SELECT k.id, k.key, k.severity, k.title,
                  k.resolved_at AS "resolved_at: DateTime<Utc>",
                  u.email AS "accepted_by?",
                  k.accepted_at AS "accepted_at: DateTime<Utc>",
                  k.accept_reason
           FROM known_issues k LEFT JOIN users u ON u.id = k.accepted_by
           WHERE k.release_id = $1 ORDER BY k.severity, k.id"#,
        release_id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| KnownIssue {
            id: r.id,
            key: r.key,
            severity: crate::domain::release::Severity::parse(&r.severity)
                .unwrap_or(crate::domain::release::Severity::P1),
            title: r.title,
            resolved_at: r.resolved_at,
            accepted_by: r.accepted_by,
            accepted_at: r.accepted_at,
            accept_reason: r.accept_reason,
        })
        .collect())
}

/// A known issue as signed: key, severity, resolved, accepted by, acceptance reason.
type SignedIssue<'a> = (&'a str, &'a str, bool, Option<&'a str>, Option<&'a str>);

/// Everything a Go/No-Go sign-off approves, and its hash.
#[derive(Serialize)]
struct Signed<'a> {
    release: serde_json::Value,
    checklist: Vec<(&'a str, &'a str, &'a str, &'a str, &'a [String])>,
    known_issues: Vec<SignedIssue<'a>>,
    /// Evidence in force (id, sha256); absent when there is none, so what was signed
    /// before evidence existed keeps its hash.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evidence: Vec<(i64, &'a str)>,
}

pub fn content_hash(
    release: &Release,
    items: &[ChecklistItem],
    issues: &[KnownIssue],
    evidence: &[Evidence],
) -> String {
    // What is signed excludes bookkeeping (revision, timestamps) and the phase itself.
    let mut rel = json!(release);
    if let Some(m) = rel.as_object_mut() {
        for k in ["revision", "created_at", "updated_at", "phase", "id"] {
            m.remove(k);
        }
    }
    // The post-release documentation comes after the decision: it is not what was signed.
    let documentation: Vec<&str> = items
        .iter()
        .filter(|i| i.kind == ChecklistKind::PostRelease)
        .map(|i| i.key.as_str())
        .collect();
    let signed = Signed {
        release: rel,
        checklist: items
            .iter()
            .filter(|i| i.kind != ChecklistKind::PostRelease)
            .map(|i| {
                (
                    i.key.as_str(),
                    i.state.as_str(),
                    i.note.as_str(),
                    i.reason.as_str(),
                    i.links.as_slice(),
                )
            })
            .collect(),
        known_issues: issues
            .iter()
            .map(|k| {
                (
                    k.key.as_str(),
                    k.severity.as_str(),
                    k.resolved_at.is_some(),
                    k.accepted_by.as_deref(),
                    k.accept_reason.as_deref(),
                )
            })
            .collect(),
        evidence: evidence
            .iter()
            .filter(|e| !e.is_retracted())
            .filter(|e| {
                e.attached_to != crate::domain::evidence::AttachedTo::PostRelease
                    && !e
                        .item_key
                        .as_deref()
                        .is_some_and(|k| documentation.contains(&k))
            })
            .map(|e| (e.id, e.sha256.as_str()))
            .collect(),
    };
    let text = serde_json::to_string(&signed).unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub fn gate_items(items: &[ChecklistItem]) -> Vec<GateItem> {
    items
        .iter()
        .map(|i| GateItem {
            key: i.key.clone(),
            kind: i.kind,
            text: i.text_en.clone(),
            state: i.state,
        })
        .collect()
}

pub fn gate_issues(issues: &[KnownIssue]) -> Vec<GateIssue> {
    issues
        .iter()
        .map(|k| GateIssue {
            key: k.key.clone(),
            severity: k.severity,
            resolved: k.resolved_at.is_some(),
            accepted: k.accepted_at.is_some(),
        })
        .collect()
}

pub fn preconditions(r: &Release) -> Preconditions {
    Preconditions {
        last_backup_at: r.last_backup_at,
        last_restore_test_at: r.last_restore_test_at,
        down_migration_url: r.links.down_migration.clone(),
        on_call: r.on_call.clone(),
    }
}

/// A release with everything its gates and sign-offs are judged on, read once.
pub struct Snapshot {
    pub release: Release,
    pub checklist: Vec<ChecklistItem>,
    pub known_issues: Vec<KnownIssue>,
    pub sign_offs: Vec<super::signoffs::SignOffRow>,
    /// Everything attached, retracted pieces included.
    pub evidence: Vec<Evidence>,
}

pub async fn snapshot(conn: &mut PgConnection, id: i64) -> Result<Snapshot, ServiceError> {
    Ok(Snapshot {
        release: load(conn, id).await?,
        checklist: checklist(conn, id).await?,
        known_issues: known_issues(conn, id).await?,
        sign_offs: super::signoffs::rows(conn, id).await?,
        evidence: super::evidence::list(conn, id).await?,
    })
}

impl Snapshot {
    pub fn content_hash(&self) -> String {
        content_hash(
            &self.release,
            &self.checklist,
            &self.known_issues,
            &self.evidence,
        )
    }

    pub fn staging_gate(&self) -> GateReport {
        GateReport::of(crate::domain::release::staging_gate_status(
            self.release.phase,
            &gate_items(&self.checklist),
            &gate_issues(&self.known_issues),
        ))
    }

    pub fn go_live_gate(&self, now: DateTime<Utc>) -> GateReport {
        self.go_live_gate_for(&self.content_hash(), now)
    }

    /// The go-live gate, given the snapshot's [`Snapshot::content_hash`].
    pub fn go_live_gate_for(&self, content_hash: &str, now: DateTime<Utc>) -> GateReport {
        let sign_offs: Vec<_> = self.sign_offs.iter().map(|r| r.sign_off.clone()).collect();
        GateReport::of(crate::domain::release::go_live_gate_status(
            self.release.phase,
            &preconditions(&self.release),
            &sign_offs,
            content_hash,
            now,
        ))
    }

    pub fn sign_off_views(&self) -> Vec<crate::domain::release_model::SignOffView> {
        super::signoffs::views(&self.sign_offs, &self.content_hash())
    }

    /// The sign-offs, given the snapshot's [`Snapshot::content_hash`].
    pub fn sign_off_views_for(
        &self,
        content_hash: &str,
    ) -> Vec<crate::domain::release_model::SignOffView> {
        super::signoffs::views(&self.sign_offs, content_hash)
    }
}

/// A release's checklist; `NotFound` when there is no such release.
pub async fn checklist_of(pool: &PgPool, id: i64) -> Result<Vec<ChecklistItem>, ServiceError> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, id).await?;
    checklist(&mut conn, id).await
}

/// A release's known issues; `NotFound` when there is no such release.
pub async fn known_issues_of(pool: &PgPool, id: i64) -> Result<Vec<KnownIssue>, ServiceError> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, id).await?;
    known_issues(&mut conn, id).await
}

/// The sign-offs as the Go/No-Go panel shows them, with stale marks.
pub async fn sign_off_views(
    pool: &PgPool,
    id: i64,
) -> Result<Vec<crate::domain::release_model::SignOffView>, ServiceError> {
    let mut conn = pool.acquire().await?;
    Ok(snapshot(&mut conn, id).await?.sign_off_views())
}

pub async fn staging_gate(pool: &PgPool, id: i64) -> Result<GateReport, ServiceError> {
    let mut conn = pool.acquire().await?;
    Ok(snapshot(&mut conn, id).await?.staging_gate())
}

pub async fn go_live_gate(
    pool: &PgPool,
    id: i64,
    now: DateTime<Utc>,
) -> Result<GateReport, ServiceError> {
    let mut conn = pool.acquire().await?;
    Ok(snapshot(&mut conn, id).await?.go_live_gate(now))
}

/// A phase change someone asked for (start the staging gate, move on to Go/No-Go, back to
/// draft). Only the assigned release captain or an admin.
pub async fn transition(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    to: Phase,
    expected_revision: Option<i32>,
) -> Result<(Release, Vec<Blocker>), ServiceError> {
    let mut tx = pool.begin().await?;
    let r = lock(&mut tx, id, expected_revision).await?;
    require_steer(actor, &r)?;
    let items = checklist(&mut tx, id).await?;
    let issues = known_issues(&mut tx, id).await?;
    let staging = staging_gate_blockers(&gate_items(&items), &gate_issues(&issues));
    let blockers = requested_transition_blockers(
        to,
        &TransitionFacts {
            phase: r.phase,
            has_window: r.window_end > r.window_start,
            captain_assigned: r.release_captain.is_some(),
            owner_assigned: r.product_owner.is_some(),
            staging_blockers: &staging,
            go_live_started: go_live_started(&mut tx, id).await?,
        },
    );
    if !blockers.is_empty() {
        return Ok((r, blockers));
    }
    set_phase(&mut tx, actor, &r, to).await?;
    let after = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok((after, vec![]))
}

/// Whether the release's go-live has its first step recorded.
pub async fn go_live_started(conn: &mut PgConnection, id: i64) -> Result<bool, ServiceError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM go_live_steps WHERE release_id = $1) AS "e!""#,
        id
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// The "rollback suggested" mark of one release (in the caller's transaction).
pub async fn rollback_mark(
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<crate::domain::monitoring_model::RollbackMark>, ServiceError> {
    Ok(sqlx::query!(
        r#"SELECT rollback_suggested_at AS "at!: DateTime<Utc>",
                  coalesce(rollback_suggested_because, '') AS "because!"
           FROM releases WHERE id = $1 AND rollback_suggested_at IS NOT NULL"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| crate::domain::monitoring_model::RollbackMark {
        at: r.at,
        because: r.because,
    }))
}

/// Writes a phase change with its audit row (inside the caller's transaction).
pub async fn set_phase(
    conn: &mut PgConnection,
    actor: &Actor,
    before: &Release,
    to: Phase,
) -> Result<(), ServiceError> {
    sqlx::query!(
        "UPDATE releases SET phase = $2 WHERE id = $1",
        before.id,
        to.as_str()
    )
    .execute(&mut *conn)
    .await?;
    bump(conn, before.id).await?;
    audit::append(
        conn,
        actor,
        Entry {
            action: "release.phase",
            release_id: Some(before.id),
            old: Some(json!({ "phase": before.phase })),
            new: Some(json!({ "phase": to })),
        },
    )
    .await?;
    // An ended release is sealed in the same transaction: its dossier is what it ended as.
    if to.is_final() {
        super::dossier::seal(conn, actor, before.id).await?;
    }
    Ok(())
}

/// Checks that a title/key is free; used by known issues.
pub fn duplicate_key() -> impl Fn(sqlx::Error) -> ServiceError {
    |e| {
        unique_violation_as(
            e,
            ServiceError::Conflict {
                en: "This release lists that issue already.",
                de: "Dieses Release führt das Issue bereits.",
            },
        )
    }
}

/// The "rollback suggested" marks of these releases (see [`RollbackMark`]).
pub async fn rollback_marks(
    pool: &PgPool,
    ids: &[i64],
) -> Result<
    std::collections::HashMap<i64, crate::domain::monitoring_model::RollbackMark>,
    ServiceError,
> {
    let rows = sqlx::query!(
        r#"SELECT id, rollback_suggested_at AS "at!: DateTime<Utc>",
                  coalesce(rollback_suggested_because, '') AS "because!"
           FROM releases WHERE id = ANY($1) AND rollback_suggested_at IS NOT NULL"#,
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                crate::domain::monitoring_model::RollbackMark {
                    at: r.at,
                    because: r.because,
                },
            )
        })
        .collect())
}
