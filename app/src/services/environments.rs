//! Environments (what the prober watches) and the monitoring settings: alert thresholds
//! and the public status page switch. Admins change them; everyone signed in reads them.

use super::audit::{self, Entry};
use super::error::unique_violation_as;
use super::events::notify;
use super::{Actor, ServiceError};
use crate::domain::monitoring::{
    carry_headers, Component, EndpointKind, EnvironmentSpec, ProbeHeader, Problem, TargetPolicy,
    Thresholds,
};
use crate::domain::monitoring_model::{Environment, MonitoringSettings};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

fn problem(p: Problem) -> ServiceError {
    ServiceError::Invalid {
        field: p.field,
        en: p.en,
        de: p.de,
    }
}

/// Absent stays `None`; `null` becomes `Some(None)`: "clear this".
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// An environment's fields as sent; on create `name` and `base_url` are required and the
/// rest defaults; on update what is absent stays as it is and `null` clears an option.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvironmentInput {
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub health_path: Option<String>,
    pub readiness_path: Option<String>,
    pub interval_seconds: Option<i32>,
    pub timeout_ms: Option<i32>,
    pub expected_status: Option<i32>,
    #[serde(deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<Option<String>>,
    #[serde(deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub json_pointer: Option<Option<String>>,
    #[serde(deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub json_equals: Option<Option<Value>>,
    /// Replaces the header list. A secret header sent without a value keeps the value
    /// stored under its name.
    pub headers: Option<Vec<ProbeHeader>>,
    #[serde(deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub health_component: Option<Option<String>>,
    #[serde(deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub readiness_component: Option<Option<String>>,
    pub enabled: Option<bool>,
}

fn defaults(name: String, base_url: String) -> EnvironmentSpec {
    EnvironmentSpec {
        name,
        base_url,
        health_path: "/health".into(),
        readiness_path: "/readiness".into(),
        interval_seconds: 15,
        timeout_ms: 2000,
        expected_status: 200,
        body_contains: None,
        json_pointer: None,
        json_equals: None,
        headers: Vec::new(),
        health_component: None,
        readiness_component: None,
        enabled: true,
    }
}

fn component(
    v: Option<Option<String>>,
    current: Option<Component>,
) -> Result<Option<Component>, ServiceError> {
    match v {
        None => Ok(current),
        Some(None) => Ok(None),
        Some(Some(s)) if s.trim().is_empty() => Ok(None),
        Some(Some(s)) => Component::parse(s.trim())
            .map(Some)
            .ok_or(ServiceError::invalid(
                "health_component",
                "Components are api, push, database or storage.",
                "Komponenten sind api, push, database oder storage.",
            )),
    }
}

fn text(v: Option<Option<String>>, current: Option<String>) -> Option<String> {
    match v {
        None => current,
        Some(v) => v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
    }
}

/// The stored spec with `input` applied, checked; with the names of the secret headers
/// dropped because the base URL moved to another host.
fn apply(
    current: EnvironmentSpec,
    input: EnvironmentInput,
    targets: TargetPolicy,
) -> Result<(EnvironmentSpec, Vec<String>), ServiceError> {
    let base_url = input
        .base_url
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .unwrap_or_else(|| current.base_url.clone());
    let (headers, dropped) = carry_headers(
        &current.headers,
        input.headers,
        current.host_differs(&base_url),
    );
    let spec = EnvironmentSpec {
        name: input
            .name
            .map(|s| s.trim().to_string())
            .unwrap_or(current.name),
        base_url,
        health_path: input
            .health_path
            .map(|s| s.trim().to_string())
            .unwrap_or(current.health_path),
        readiness_path: input
            .readiness_path
            .map(|s| s.trim().to_string())
            .unwrap_or(current.readiness_path),
        interval_seconds: input.interval_seconds.unwrap_or(current.interval_seconds),
        timeout_ms: input.timeout_ms.unwrap_or(current.timeout_ms),
        expected_status: input.expected_status.unwrap_or(current.expected_status),
        body_contains: text(input.body_contains, current.body_contains),
        json_pointer: match input.json_pointer {
            None => current.json_pointer,
            Some(p) => p.map(|s| s.trim().to_string()),
        },
        json_equals: match input.json_equals {
            None => current.json_equals,
            Some(v) => v,
        },
        headers,
        health_component: component(input.health_component, current.health_component)?,
        readiness_component: component(input.readiness_component, current.readiness_component)?,
        enabled: input.enabled.unwrap_or(current.enabled),
    };
    spec.check().map_err(problem)?;
    spec.check_target(targets).map_err(problem)?;
    Ok((spec, dropped))
}

fn duplicate_name(e: sqlx::Error) -> ServiceError {
    unique_violation_as(
        e,
        ServiceError::Conflict {
            en: "An environment with this name exists already.",
            de: "Eine Umgebung mit diesem Namen gibt es bereits.",
        },
    )
}

/// What may be shown of a spec: secret header values blanked.
fn shown(
    id: i64,
    mut spec: EnvironmentSpec,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
) -> Environment {
    for h in spec.headers.iter_mut().filter(|h| h.secret) {
        h.value = None;
    }
    Environment {
        id,
        spec,
        created_at,
        updated_at,
        dropped_secret_headers: Vec::new(),
    }
}

struct Row {
    id: i64,
    spec: EnvironmentSpec,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

async fn rows(conn: &mut PgConnection, id: Option<i64>) -> Result<Vec<Row>, ServiceError> {
    let found = sqlx::query!(
        r#"SELECT id, name, base_url, health_path, readiness_path, interval_seconds, timeout_ms,
                  expected_status, body_contains, json_pointer, json_equals, headers,
                  health_component, readiness_component, enabled,
                  created_at AS "created_at: chrono::DateTime<chrono::Utc>",
                  updated_at AS "updated_at: chrono::DateTime<chrono::Utc>"
           FROM environments WHERE $1::bigint IS NULL OR id = $1 ORDER BY lower(name)"#,
        id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(found
        .into_iter()
        .map(|r| Row {
            id: r.id,
            spec: EnvironmentSpec {
                name: r.name,
                base_url: r.base_url,
                health_path: r.health_path,
                readiness_path: r.readiness_path,
                interval_seconds: r.interval_seconds,
                timeout_ms: r.timeout_ms,
                expected_status: r.expected_status,
                body_contains: r.body_contains,
                json_pointer: r.json_pointer,
                json_equals: r.json_equals,
                headers: serde_json::from_value(r.headers).unwrap_or_default(),
                health_component: r.health_component.as_deref().and_then(Component::parse),
                readiness_component: r.readiness_component.as_deref().and_then(Component::parse),
                enabled: r.enabled,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

/// The audit trail never sees a secret: header values are left out.
fn audited(spec: &EnvironmentSpec) -> Value {
    let mut v = serde_json::to_value(spec).unwrap_or(Value::Null);
    v["headers"] = json!(spec
        .headers
        .iter()
        .map(|h| json!({ "name": h.name, "secret": h.secret }))
        .collect::<Vec<_>>());
    v
}

/// The registered environment of that name (names are matched without case), if any.
pub async fn id_by_name<'e>(
    db: impl sqlx::PgExecutor<'e>,
    name: &str,
) -> Result<Option<i64>, ServiceError> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM environments WHERE lower(name) = lower($1)",
        name.trim()
    )
    .fetch_optional(db)
    .await?)
}

/// Moves the probe schedule to the spec: an endpoint per kind, due at a random point of
/// its first interval so that many environments spread out. `moved`: the URL changed, so
/// what was known about the old one no longer counts.
async fn schedule(
    conn: &mut PgConnection,
    id: i64,
    spec: &EnvironmentSpec,
    moved: bool,
) -> Result<(), ServiceError> {
    let interval_ms = spec.interval_seconds * 1000;
    for kind in EndpointKind::ALL {
        sqlx::query!(
            "INSERT INTO probe_endpoints (environment_id, kind, interval_ms, next_due, enabled)
             VALUES ($1, $2, $3, now() + random() * make_interval(secs => $3::int / 1000.0), $4)
             ON CONFLICT (environment_id, kind) DO UPDATE
             SET interval_ms = EXCLUDED.interval_ms, enabled = EXCLUDED.enabled,
                 next_due = CASE WHEN probe_endpoints.interval_ms = EXCLUDED.interval_ms
                                 THEN probe_endpoints.next_due ELSE EXCLUDED.next_due END,
                 watched_since = CASE WHEN $5 OR (EXCLUDED.enabled AND NOT probe_endpoints.enabled)
                                      THEN now() ELSE probe_endpoints.watched_since END,
                 last_ok_at = CASE WHEN $5 THEN NULL ELSE probe_endpoints.last_ok_at END,
                 consecutive_failures = CASE WHEN $5 THEN 0
                                             ELSE probe_endpoints.consecutive_failures END",
            id,
            kind.as_str(),
            interval_ms,
            spec.enabled,
            moved
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Registers an environment; `targets` says which addresses it may point at.
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    input: EnvironmentInput,
    targets: TargetPolicy,
) -> Result<Environment, ServiceError> {
    actor.require_admin()?;
    let (Some(name), Some(base_url)) = (input.name.clone(), input.base_url.clone()) else {
        return Err(ServiceError::invalid(
            "name",
            "An environment needs a name and a base URL.",
            "Eine Umgebung braucht einen Namen und eine Basis-URL.",
        ));
    };
    let (spec, _) = apply(defaults(name, base_url), input, targets)?;
    if spec.headers.iter().any(|h| h.value.is_none()) {
        return Err(ServiceError::invalid(
            "headers",
            "Each header needs a value.",
            "Jeder Header braucht einen Wert.",
        ));
    }
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "INSERT INTO environments (name, base_url, health_path, readiness_path, interval_seconds,
                                   timeout_ms, expected_status, body_contains, json_pointer,
                                   json_equals, headers, health_component, readiness_component,
                                   enabled, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         RETURNING id",
        spec.name,
        spec.base_url,
        spec.health_path,
        spec.readiness_path,
        spec.interval_seconds,
        spec.timeout_ms,
        spec.expected_status,
        spec.body_contains,
        spec.json_pointer,
        spec.json_equals,
        json!(spec.headers),
        spec.health_component.map(Component::as_str),
        spec.readiness_component.map(Component::as_str),
        spec.enabled,
        actor.user_id()
    )
    .fetch_one(&mut *tx)
    .await
    .map_err(duplicate_name)?;
    schedule(&mut tx, id, &spec, false).await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "environment.create",
            release_id: None,
            old: None,
            new: Some(json!({ "id": id, "environment": audited(&spec) })),
        },
    )
    .await?;
    notify(&mut tx, "environments").await?;
    let row = rows(&mut tx, Some(id))
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)?;
    tx.commit().await?;
    Ok(shown(row.id, row.spec, row.created_at, row.updated_at))
}

/// Changes an environment. Moving it to another host drops its secret headers unless they
/// are entered again in the same change; the answer and the audit row name those dropped.
pub async fn update(
    pool: &PgPool,
    actor: &Actor,
    id: i64,
    input: EnvironmentInput,
    targets: TargetPolicy,
) -> Result<Environment, ServiceError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    sqlx::query!("SELECT id FROM environments WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let before = rows(&mut tx, Some(id))
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)?;
    let (spec, dropped) = apply(before.spec.clone(), input, targets)?;
    sqlx::query!(
        "UPDATE environments SET name = $2, base_url = $3, health_path = $4, readiness_path = $5,
                interval_seconds = $6, timeout_ms = $7, expected_status = $8, body_contains = $9,
                json_pointer = $10, json_equals = $11, headers = $12, health_component = $13,
                readiness_component = $14, enabled = $15, updated_at = now()
         WHERE id = $1",
        id,
        spec.name,
        spec.base_url,
        spec.health_path,
        spec.readiness_path,
        spec.interval_seconds,
        spec.timeout_ms,
        spec.expected_status,
        spec.body_contains,
        spec.json_pointer,
        spec.json_equals,
        json!(spec.headers),
        spec.health_component.map(Component::as_str),
        spec.readiness_component.map(Component::as_str),
        spec.enabled
    )
    .execute(&mut *tx)
    .await
    .map_err(duplicate_name)?;
    let moved = (&spec.base_url, &spec.health_path, &spec.readiness_path)
        != (
            &before.spec.base_url,
            &before.spec.health_path,
            &before.spec.readiness_path,
        );
    schedule(&mut tx, id, &spec, moved).await?;
    if !spec.name.eq_ignore_ascii_case(&before.spec.name) {
        carry_releases_along(&mut tx, actor, &before.spec.name, &spec.name).await?;
    }
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "environment.update",
            release_id: None,
            old: Some(json!({ "id": id, "environment": audited(&before.spec) })),
            new: Some(json!({
                "id": id,
                "environment": audited(&spec),
                "dropped_secret_headers": dropped,
            })),
        },
    )
    .await?;
    notify(&mut tx, "environments").await?;
    let row = rows(&mut tx, Some(id))
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)?;
    tx.commit().await?;
    Ok(Environment {
        dropped_secret_headers: dropped,
        ..shown(row.id, row.spec, row.created_at, row.updated_at)
    })
}

/// Releases name their environments by name. When an environment is renamed, the releases
/// still running on it follow, so that renaming staging cannot take a release out of the
/// rule that its health item passes from the probes.
async fn carry_releases_along(
    conn: &mut sqlx::PgConnection,
    actor: &Actor,
    old_name: &str,
    new_name: &str,
) -> Result<(), ServiceError> {
    let moved = sqlx::query!(
        r#"UPDATE releases
              SET environment = CASE WHEN lower(environment) = lower($1) THEN $2 ELSE environment END,
                  staging_environment = CASE WHEN lower(staging_environment) = lower($1) THEN $2
                                             ELSE staging_environment END,
                  revision = revision + 1, updated_at = now()
            WHERE phase NOT IN ('done', 'no_go', 'rolled_back')
              AND (lower(environment) = lower($1) OR lower(staging_environment) = lower($1))
        RETURNING id"#,
        old_name,
        new_name
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in moved {
        audit::append(
            &mut *conn,
            actor,
            Entry {
                action: "release.environment_renamed",
                release_id: Some(r.id),
                old: Some(json!({ "environment": old_name })),
                new: Some(json!({ "environment": new_name })),
            },
        )
        .await?;
    }
    Ok(())
}

/// Removes an environment with its probe history and alerts (the audit trail keeps a
/// record of it).
pub async fn delete(pool: &PgPool, actor: &Actor, id: i64) -> Result<(), ServiceError> {
    actor.require_admin()?;
    let mut tx = pool.begin().await?;
    let before = rows(&mut tx, Some(id))
        .await?
        .pop()
        .ok_or(ServiceError::NotFound)?;
    sqlx::query!("DELETE FROM environments WHERE id = $1", id)
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "environment.delete",
            release_id: None,
            old: Some(json!({ "id": id, "environment": audited(&before.spec) })),
            new: None,
        },
    )
    .await?;
    notify(&mut tx, "environments").await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list(pool: &PgPool) -> Result<Vec<Environment>, ServiceError> {
    let mut conn = pool.acquire().await?;
    Ok(rows(&mut conn, None)
        .await?
        .into_iter()
        .map(|r| shown(r.id, r.spec, r.created_at, r.updated_at))
        .collect())
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Environment, ServiceError> {
    let mut conn = pool.acquire().await?;
    rows(&mut conn, Some(id))
        .await?
        .pop()
        .map(|r| shown(r.id, r.spec, r.created_at, r.updated_at))
        .ok_or(ServiceError::NotFound)
}

pub async fn settings(conn: &mut PgConnection) -> Result<MonitoringSettings, ServiceError> {
    let r = sqlx::query!(
        "SELECT readiness_503_pct, error_rate_pct, latency_p95_ms, window_seconds,
                no_success_seconds, public_status_page
         FROM monitoring_settings WHERE id = 1"
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(MonitoringSettings {
        thresholds: Thresholds {
            readiness_503_pct: r.readiness_503_pct,
            error_rate_pct: r.error_rate_pct,
            latency_p95_ms: r.latency_p95_ms,
            window_seconds: r.window_seconds,
            no_success_seconds: r.no_success_seconds,
        },
        public_status_page: r.public_status_page,
    })
}

pub async fn settings_of(pool: &PgPool) -> Result<MonitoringSettings, ServiceError> {
    let mut conn = pool.acquire().await?;
    settings(&mut conn).await
}

pub async fn set_settings(
    pool: &PgPool,
    actor: &Actor,
    new: MonitoringSettings,
) -> Result<MonitoringSettings, ServiceError> {
    actor.require_admin()?;
    new.thresholds.check().map_err(problem)?;
    let mut tx = pool.begin().await?;
    let before = settings(&mut tx).await?;
    let t = &new.thresholds;
    sqlx::query!(
        "UPDATE monitoring_settings SET readiness_503_pct = $1, error_rate_pct = $2,
                latency_p95_ms = $3, window_seconds = $4, no_success_seconds = $5,
                public_status_page = $6, updated_at = now()
         WHERE id = 1",
        t.readiness_503_pct,
        t.error_rate_pct,
        t.latency_p95_ms,
        t.window_seconds,
        t.no_success_seconds,
        new.public_status_page
    )
    .execute(&mut *tx)
    .await?;
    audit::append(
        &mut tx,
        actor,
        Entry {
            action: "monitoring.settings",
            release_id: None,
            old: Some(json!(before)),
            new: Some(json!(new)),
        },
    )
    .await?;
    notify(&mut tx, "settings").await?;
    tx.commit().await?;
    Ok(new)
}
