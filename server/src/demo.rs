//! `shipgate demo`: seeds an empty instance with a team and releases in every phase, so a
//! fresh `make run` shows a lived-in product.

use anyhow::{bail, Context};
use app::domain::account::{Credential, CurrentUser};
use app::domain::release::input::ReleaseInput;
use app::domain::release::{Decision, Phase, SignerRole};
use app::services::accounts::{self, NewUser};
use app::services::checklists::{self, ItemChange, NewKnownIssue};
use app::services::{lifecycle, release_store, releases};
use app::services::{signoffs, Actor, ServiceError};
use chrono::{Duration, Utc};
use sqlx::PgPool;

pub const DEMO_PASSWORD: &str = "shipgate-demo";

const TEAM: [(&str, &str, &str); 5] = [
    ("admin@demo.example", "Ada Admin", "admin"),
    ("captain@demo.example", "Rhea Captain", "release_captain"),
    ("owner@demo.example", "Paula Owner", "product_owner"),
    ("engineer@demo.example", "Emil Engineer", "engineer"),
    ("viewer@demo.example", "Vera Viewer", "viewer"),
];

fn err(e: ServiceError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}

pub async fn seed(pool: &PgPool) -> anyhow::Result<()> {
    if accounts::has_users(pool).await.map_err(err)? {
        bail!("the instance has accounts already; `shipgate demo` only seeds an empty one");
    }
    let mut people = vec![];
    for (email, name, role) in TEAM {
        let u = accounts::create_user(
            pool,
            &Actor::Cli,
            NewUser {
                email: email.into(),
                name: name.into(),
                password: DEMO_PASSWORD.into(),
                roles: vec![role.into()],
            },
        )
        .await
        .map_err(err)?;
        people.push(u.user);
    }
    let captain = Actor::User(people[1].clone());
    let session = |i: usize| CurrentUser {
        user: people[i].clone(),
        via: Credential::Session,
    };
    let now = Utc::now();

    let plan = [
        ("Mobile app 4.2", "4.2.0", 5 * 24, Phase::Draft),
        ("Public API 2.8", "2.8.0", 20, Phase::StagingGate),
        ("Payments 1.9", "1.9.0", 3, Phase::GoNoGo),
        ("Search 5.0", "5.0.0", 1, Phase::GoLive),
        ("Notifications 3.3", "3.3.1", -48, Phase::Done),
        ("Billing export 0.9", "0.9.0", -24, Phase::NoGo),
        ("Profiles 2.1", "2.1.0", -72, Phase::RolledBack),
    ];
    for (title, version, hours, target) in plan {
        let start = now + Duration::hours(hours);
        let r = releases::create(
            pool,
            &captain,
            ReleaseInput {
                title: Some(title.into()),
                version: Some(version.into()),
                artifact_version: Some(format!("{version}+build.{}", 100 + hours.abs())),
                environment: Some("prod".into()),
                window_start: Some(start),
                window_end: Some(start + Duration::hours(2)),
                strategy: Some(
                    if hours % 2 == 0 {
                        "blue_green"
                    } else {
                        "canary"
                    }
                    .into(),
                ),
                release_captain: Some(people[1].email.clone()),
                product_owner: Some(people[2].email.clone()),
                links: Some(app::domain::release_model::Links {
                    changelog: Some(format!("https://git.example/shipgate/releases/{version}")),
                    rollback_plan: Some("https://wiki.example/runbook/rollback".into()),
                    down_migration: Some(format!(
                        "https://git.example/shipgate/migrations/{version}-down"
                    )),
                    ..Default::default()
                }),
                last_backup_at: Some(now - Duration::hours(4)),
                last_restore_test_at: Some(now - Duration::days(12)),
                on_call: Some("Oskar (PagerDuty: platform)".into()),
                ..Default::default()
            },
        )
        .await
        .map_err(err)?;
        if target == Phase::Draft {
            continue;
        }
        lifecycle::change_phase(pool, &captain, r.id, Phase::StagingGate, None)
            .await
            .map_err(err)?;
        if target == Phase::StagingGate {
            for key in ["staging_deploy", "staging_health"] {
                pass(pool, &captain, r.id, key).await?;
            }
            checklists::add_known_issue(
                pool,
                &Actor::User(people[3].clone()),
                r.id,
                NewKnownIssue {
                    key: "API-412".into(),
                    severity: "p2".into(),
                    title: "Rate-limit errors are HTML instead of JSON".into(),
                },
            )
            .await
            .map_err(err)?;
            continue;
        }
        for item in release_store::checklist(&mut *pool.acquire().await?, r.id)
            .await
            .map_err(err)?
            .into_iter()
            .filter(|i| i.kind == app::domain::templates::ChecklistKind::StagingGate)
        {
            pass(pool, &captain, r.id, &item.key).await?;
        }
        let (_, blockers) = lifecycle::change_phase(pool, &captain, r.id, Phase::GoNoGo, None)
            .await
            .map_err(err)?;
        if !blockers.is_empty() {
            bail!("demo release {title} could not reach Go/No-Go: {blockers:?}");
        }
        match target {
            Phase::GoNoGo => {
                sign(
                    pool,
                    &session(2),
                    r.id,
                    SignerRole::ProductOwner,
                    Decision::Go,
                    None,
                )
                .await?;
            }
            Phase::NoGo => {
                sign(
                    pool,
                    &session(2),
                    r.id,
                    SignerRole::ProductOwner,
                    Decision::NoGo,
                    Some("Restore test of the export database failed"),
                )
                .await?;
            }
            _ => {
                sign(
                    pool,
                    &session(2),
                    r.id,
                    SignerRole::ProductOwner,
                    Decision::Go,
                    None,
                )
                .await?;
                sign(
                    pool,
                    &session(1),
                    r.id,
                    SignerRole::ReleaseCaptain,
                    Decision::Go,
                    None,
                )
                .await?;
                if target == Phase::RolledBack {
                    let blockers = app::services::golive::rollback(
                        pool,
                        &captain,
                        r.id,
                        app::services::golive::RollbackInput {
                            reason: "5xx rate above 2 % after the switch to Green".into(),
                            status_page_updated: true,
                            team_alerted: true,
                        },
                    )
                    .await
                    .map_err(err)?;
                    if !blockers.is_empty() {
                        bail!("demo release {title} could not roll back: {blockers:?}");
                    }
                } else if target == Phase::Done {
                    // The demo records the outcome; its window lies in the past, so the
                    // guided steps (and their hold) are not replayed.
                    let mut tx = pool.begin().await?;
                    let current = release_store::lock(&mut tx, r.id, None)
                        .await
                        .map_err(err)?;
                    lifecycle::apply_phase_change(&mut tx, &captain, &current, target)
                        .await
                        .map_err(err)?;
                    tx.commit().await?;
                }
            }
        }
    }
    println!("Demo data created. Sign in with any of these (password: {DEMO_PASSWORD}):");
    for (email, name, role) in TEAM {
        println!("  {email:<24} {name:<16} {role}");
    }
    Ok(())
}

async fn pass(pool: &PgPool, actor: &Actor, release_id: i64, key: &str) -> anyhow::Result<()> {
    checklists::set_item(
        pool,
        actor,
        release_id,
        key,
        ItemChange {
            state: Some("passed".into()),
            link: Some(format!("https://ci.example/evidence/{release_id}/{key}")),
            ..Default::default()
        },
    )
    .await
    .map_err(err)
    .with_context(|| format!("passing {key}"))?;
    Ok(())
}

async fn sign(
    pool: &PgPool,
    who: &CurrentUser,
    release_id: i64,
    role: SignerRole,
    decision: Decision,
    comment: Option<&str>,
) -> anyhow::Result<()> {
    signoffs::sign_off(pool, who, release_id, role, decision, comment, Utc::now())
        .await
        .map_err(err)?;
    Ok(())
}
