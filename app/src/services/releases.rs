//! Releases as planned: create one (with its checklists copied from the templates) and
//! edit it, including who is assigned. Every change runs in one transaction with its
//! audit row and bumps the release's revision. Phase changes live in [`super::lifecycle`].

use super::audit::{self, Entry};
use super::release_store::{bump, go_live_started, load, lock, probed, sign_off_count};
use super::{templates, Actor, ServiceError};
use crate::domain::account::Role;
use crate::domain::release::input::{self, ReleaseInput};
use crate::domain::release_model::Release;
use chrono::Utc;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

/// Resolves an assigned person by email; they must hold the role.
async fn person(
    conn: &mut PgConnection,
    field: &'static str,
    email: &Option<String>,
    role: Role,
) -> Result<Option<i64>, ServiceError> {
    let Some(email) = input::trimmed(email) else {
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
        Some(_) => Err(ServiceError::invalid(
            field,
            "This person does not hold the role needed for this assignment.",
            "Diese Person hat nicht die für diese Zuordnung nötige Rolle.",
        )),
        None => Err(ServiceError::invalid(
            field,
            "No active account with this email address.",
            "Kein aktives Konto mit dieser E-Mail-Adresse.",
        )),
    }
}

/// Copies the current templates into a new release (seeding the shipped ones on first use),
/// so later template edits do not change releases that exist.
async fn copy_templates(conn: &mut PgConnection, release_id: i64) -> Result<(), ServiceError> {
    templates::seed_defaults(conn).await?;
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
    actor.require_planner()?;
    if let Some(missing) = input.missing_for_create() {
        return Err(missing.into());
    }
    let r = input::merge(input::blank(Utc::now()), &input)?;
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

pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    input: ReleaseInput,
) -> Result<Release, ServiceError> {
    actor.require_planner()?;
    let Some(expected) = input.revision else {
        return Err(ServiceError::invalid(
            "revision",
            "Send the revision you edited, so no one else's change is overwritten.",
            "Bitte die bearbeitete Revision mitsenden, damit keine fremde Änderung überschrieben wird.",
        ));
    };
    let mut tx = pool.begin().await?;
    let before = lock(&mut tx, id, Some(expected)).await?;
    // Editing is steering: only this release's captain or an admin, not any captain.
    actor.require_steer(&before)?;
    if before.phase.is_final() {
        return Err(ServiceError::Conflict {
            en: "This release has ended and can no longer be changed.",
            de: "Dieses Release ist abgeschlossen und kann nicht mehr geändert werden.",
        });
    }
    let after = input::merge(before.clone(), &input)?;
    if after.plan_differs(&before)
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
        return Err(ServiceError::invalid(
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

/// Refuses a change of the assigned people that [`Release::reassignment`] does not allow.
async fn require_reassignment(
    conn: &mut PgConnection,
    actor: &Actor,
    r: &Release,
) -> Result<(), ServiceError> {
    use crate::domain::release_model::Reassignment;
    let sign_offs = sign_off_count(conn, r.id).await?;
    match r.reassignment(sign_offs as usize) {
        Reassignment::Editors => Ok(()),
        Reassignment::AdminsOnly => actor.require_admin(),
        Reassignment::Closed => Err(ServiceError::Conflict {
            en: "Both have signed: who is assigned as release captain and product owner no longer changes.",
            de: "Beide haben unterschrieben: Wer als Release Captain und Product Owner zugeordnet ist, ändert sich nicht mehr.",
        }),
    }
}
