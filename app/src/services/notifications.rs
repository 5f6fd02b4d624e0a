//! What people and team channels are told about releases. Called by [`super::audit`]
//! for every audited change of a release, inside that change's transaction, so a notice is
//! queued exactly when its cause commits: assignments, Go/No-Go opening, stale sign-offs,
//! go-live steps, a P1 during the go-live, and the reminders counted back from the window
//! (planned again whenever the window, the phase or the people change). The worker in
//! `server/src/notify` sends them (see [`outbox`]).

pub mod outbox;

use super::release_store::{self, go_live_steps, load};
use super::{Actor, ServiceError};
use crate::domain::golive::{needs_hold, progress, StepKind};
use crate::domain::notify::{dedupe_key, plan_reminders, Condition, Event, Recipient};
use crate::domain::release::{Phase, SignerRole};
use crate::domain::release_model::Release;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::PgConnection;

/// One notice to queue.
struct Notice {
    event: Event,
    release_id: i64,
    payload: Value,
    /// When it is due; `None` for now.
    due: Option<DateTime<Utc>>,
    condition: Option<Condition>,
    /// What makes it unique besides event, release and recipient (`None`: not deduplicated).
    about: Option<String>,
}

impl Notice {
    /// A notice about `r` to send at once.
    fn now(
        event: Event,
        r: &Release,
        actor: &Actor,
        extra: Value,
        about: Option<String>,
    ) -> Notice {
        Notice {
            event,
            release_id: r.id,
            payload: payload(event, r, actor, extra),
            due: None,
            condition: None,
            about,
        }
    }
}

/// "Go/No-Go is open for your sign-off", once per revision and person.
fn go_no_go_open(r: &Release, actor: &Actor) -> Notice {
    let about = Some(r.revision.to_string());
    Notice::now(Event::GoNoGoOpen, r, actor, json!({}), about)
}

/// The accounts behind a release's people.
struct People {
    captain: Option<i64>,
    owner: Option<i64>,
    on_call: Option<i64>,
}

impl People {
    /// The owner and the captain, as far as they are assigned.
    fn signers(&self) -> Vec<i64> {
        [self.owner, self.captain].into_iter().flatten().collect()
    }

    /// Whether `account` holds the signer role named `role` (as `sign_offs` stores it).
    fn holds(&self, role: &str, account: i64) -> bool {
        let holder = if role == SignerRole::ProductOwner.as_str() {
            self.owner
        } else {
            self.captain
        };
        holder == Some(account)
    }
}

async fn people(conn: &mut PgConnection, release_id: i64) -> Result<People, ServiceError> {
    let r = sqlx::query!(
        r#"SELECT r.release_captain_id, r.product_owner_id,
                  (SELECT u.id FROM users u
                   WHERE NOT u.disabled AND u.email = lower(btrim(r.on_call))) AS "on_call?"
           FROM releases r WHERE r.id = $1"#,
        release_id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(People {
        captain: r.release_captain_id,
        owner: r.product_owner_id,
        on_call: r.on_call,
    })
}

/// The release as notices describe it.
fn release_json(r: &Release) -> Value {
    json!({
        "id": r.id, "title": r.title, "version": r.version, "environment": r.environment,
        "window_start": r.window_start, "window_end": r.window_end, "phase": r.phase,
        "release_captain": r.release_captain, "product_owner": r.product_owner,
    })
}

fn payload(event: Event, r: &Release, actor: &Actor, extra: Value) -> Value {
    let mut p = json!({
        "event": event.as_str(),
        "release": release_json(r),
        "by": match actor {
            Actor::User(u) => u.email.as_str(),
            Actor::Cli => "cli",
            Actor::Probes => "shipgate probes",
        },
        "link": event.release_path(r.id),
    });
    if let (Some(p), Value::Object(extra)) = (p.as_object_mut(), extra) {
        p.extend(extra);
    }
    p
}

/// Queues `n` by e-mail for each of `to` once, leaving out whoever caused it.
async fn to_people(
    conn: &mut PgConnection,
    n: &Notice,
    to: &[i64],
    caused_by: Option<i64>,
) -> Result<(), ServiceError> {
    let mut ids: Vec<i64> = to
        .iter()
        .copied()
        .filter(|&u| Some(u) != caused_by)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    queue(conn, n, "email", &ids).await
}

/// Queues `n` for every enabled team channel that takes its group.
async fn to_channels(conn: &mut PgConnection, n: &Notice) -> Result<(), ServiceError> {
    if !n.event.for_channels() {
        return Ok(());
    }
    let hooks = sqlx::query_scalar!(
        "SELECT id FROM webhooks WHERE enabled AND $1 = ANY (events) ORDER BY id",
        n.event.group().as_str()
    )
    .fetch_all(&mut *conn)
    .await?;
    queue(conn, n, "webhook", &hooks).await
}

/// The stem of a notice's dedupe keys on `channel`; each recipient's key is the stem, `#`
/// and the recipient's id.
fn key_stem(event: Event, release_id: i64, channel: &str, about: &str) -> String {
    let who = if channel == "email" { "u" } else { "w" };
    dedupe_key(event, release_id, who, about)
}

/// One outbox row per recipient (people for `email`, webhooks for `webhook`); a notice
/// with a dedupe key already queued for a recipient is not queued again.
async fn queue(
    conn: &mut PgConnection,
    n: &Notice,
    channel: &str,
    recipients: &[i64],
) -> Result<(), ServiceError> {
    if recipients.is_empty() {
        return Ok(());
    }
    let stem = n
        .about
        .as_deref()
        .map(|a| key_stem(n.event, n.release_id, channel, a) + "#");
    sqlx::query!(
        "INSERT INTO outbox (channel, user_id, webhook_id, release_id, event, event_group,
                             payload, condition, dedupe_key, next_attempt_at)
         SELECT $1, CASE WHEN $1 = 'email' THEN r END, CASE WHEN $1 = 'webhook' THEN r END,
                $3, $4, $5, $6, $7, $8 || r::text, COALESCE($9, now())
         FROM unnest($2::bigint[]) AS r
         ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING",
        channel,
        recipients,
        n.release_id,
        n.event.as_str(),
        n.event.group().as_str(),
        n.payload,
        n.condition.as_ref().map(|c| json!(c)),
        stem,
        n.due as _
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn admins(conn: &mut PgConnection) -> Result<Vec<i64>, ServiceError> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM users WHERE 'admin' = ANY (roles) AND NOT disabled ORDER BY id"
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Called for every audited change of a release, in its transaction.
pub async fn on_release_change(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    release_id: i64,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Result<(), ServiceError> {
    let r = load(conn, release_id).await?;
    let p = people(conn, release_id).await?;
    let by = actor.user_id();
    let both = p.signers();
    let field = |v: Option<&Value>, k: &str| {
        v.and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match action {
        "release.create" | "release.reassign" => {
            for (role, uid, key) in [
                (SignerRole::ReleaseCaptain, p.captain, "release_captain"),
                (SignerRole::ProductOwner, p.owner, "product_owner"),
            ] {
                let Some(uid) = uid else { continue };
                if action == "release.reassign" && field(old, key) == field(new, key) {
                    continue;
                }
                if r.phase == Phase::GoNoGo {
                    // Reassigned while the decision is open: the new holder signs for it.
                    to_people(conn, &go_no_go_open(&r, actor), &[uid], by).await?;
                }
                let n = Notice::now(
                    Event::Assigned,
                    &r,
                    actor,
                    json!({ "role": role }),
                    Some(format!("{}:{}", role.as_str(), r.revision)),
                );
                to_people(conn, &n, &[uid], by).await?;
            }
        }
        "release.phase" if r.phase == Phase::GoNoGo => {
            let n = go_no_go_open(&r, actor);
            to_people(conn, &n, &both, by).await?;
            to_channels(conn, &n).await?;
        }
        "go_live.start" | "go_live.step" | "go_live.complete" | "go_live.rollback" => {
            go_live_notices(conn, actor, &r, &p, action, new).await?;
        }
        _ => {}
    }
    if r.phase == Phase::GoNoGo {
        stale_sign_offs(conn, actor, &r, &p, action, old, new).await?;
    }
    if matches!(
        action,
        "release.create" | "release.update" | "release.reassign" | "release.phase"
    ) {
        replan(conn, &r, &p).await?;
    }
    Ok(())
}

/// A P1 alert opened in `environment`: the captain, the owner and the on-call person of
/// each release going live there hear of it (in the transaction that opens the alert).
pub async fn p1_opened(
    conn: &mut PgConnection,
    alert_id: i64,
    environment: &str,
    message: &str,
) -> Result<(), ServiceError> {
    let live = sqlx::query_scalar!(
        "SELECT id FROM releases
         WHERE phase = 'go_live' AND lower(btrim(environment)) = lower(btrim($1))",
        environment
    )
    .fetch_all(&mut *conn)
    .await?;
    for id in live {
        let r = load(conn, id).await?;
        let p = people(conn, id).await?;
        let n = Notice::now(
            Event::P1DuringGoLive,
            &r,
            &Actor::Probes,
            json!({ "because": message }),
            Some(format!("alert{alert_id}")),
        );
        let to: Vec<i64> = [p.captain, p.owner, p.on_call]
            .into_iter()
            .flatten()
            .collect();
        to_people(conn, &n, &to, None).await?;
    }
    Ok(())
}

/// Go-live started, each stage, done, rolled back: the team channels, captain and owner;
/// and when a traffic step starts a stability hold, its end.
async fn go_live_notices(
    conn: &mut PgConnection,
    actor: &Actor,
    r: &Release,
    p: &People,
    action: &str,
    new: Option<&Value>,
) -> Result<(), ServiceError> {
    let step = new
        .and_then(|v| v.get("step"))
        .and_then(|s| serde_json::from_value::<StepKind>(s.clone()).ok());
    let stage = new.and_then(|v| v.get("stage_pct")).cloned();
    let event = match (action, step) {
        ("go_live.start", _) => Event::GoLiveStarted,
        ("go_live.complete", _) => Event::GoLiveDone,
        ("go_live.rollback", _) => Event::RolledBack,
        (_, Some(StepKind::CanaryStage | StepKind::SwitchTraffic)) => Event::GoLiveStage,
        _ => return plan_hold(conn, actor, r, p).await,
    };
    let extra = match event {
        Event::RolledBack => json!({
            "reason": new.and_then(|v| v.get("note")),
            "rollback_plan": r.links.rollback_plan,
        }),
        Event::GoLiveStage => json!({
            "stage_pct": if step == Some(StepKind::SwitchTraffic) { json!(100) } else { stage.unwrap_or(Value::Null) },
        }),
        _ => json!({}),
    };
    let n = Notice::now(event, r, actor, extra, None);
    to_people(conn, &n, &p.signers(), actor.user_id()).await?;
    to_channels(conn, &n).await?;
    plan_hold(conn, actor, r, p).await
}

/// When the next step waits for a stability hold, its end is announced (unless the
/// go-live has moved on or ended by then).
async fn plan_hold(
    conn: &mut PgConnection,
    actor: &Actor,
    r: &Release,
    p: &People,
) -> Result<(), ServiceError> {
    if r.phase != Phase::GoLive {
        return Ok(());
    }
    let steps = go_live_steps(conn, r.id).await?;
    let prog = progress(r.strategy, &r.canary_stages, &steps);
    let Some(next) = prog.next else {
        return Ok(());
    };
    let Some(last) = steps.last().filter(|s| s.kind.moves_traffic()) else {
        return Ok(());
    };
    if !needs_hold(&prog.plan, next) {
        return Ok(());
    }
    let due = last.at + Duration::minutes(r.canary_hold_minutes.into());
    let n = Notice {
        event: Event::GoLiveHoldFinished,
        release_id: r.id,
        payload: payload(
            Event::GoLiveHoldFinished,
            r,
            actor,
            json!({ "hold_minutes": r.canary_hold_minutes }),
        ),
        due: Some(due),
        condition: Some(Condition::HoldRunning {
            steps: steps.len() as i64,
        }),
        about: Some(steps.len().to_string()),
    };
    // The hold ends by time, not by anyone's hand: everyone hears of it.
    to_people(conn, &n, &p.signers(), None).await?;
    to_channels(conn, &n).await
}

/// Tells each signer whose sign-off no longer matches the release that it went stale, once
/// per sign-off, with the change that did it.
async fn stale_sign_offs(
    conn: &mut PgConnection,
    actor: &Actor,
    r: &Release,
    p: &People,
    action: &str,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Result<(), ServiceError> {
    if action == "go_no_go.sign_off" {
        return Ok(());
    }
    let signed = sqlx::query!(
        r#"SELECT id, signer_id, role, content_hash, signed_at AS "signed_at: DateTime<Utc>"
           FROM sign_offs WHERE release_id = $1"#,
        r.id
    )
    .fetch_all(&mut *conn)
    .await?;
    if signed.is_empty() {
        return Ok(());
    }
    let current = release_store::snapshot(conn, r.id).await?.content_hash();
    // A signer replaced since is not asked again; the new holder heard Go/No-Go is open.
    for s in signed
        .into_iter()
        .filter(|s| s.content_hash != current && p.holds(&s.role, s.signer_id))
    {
        let n = Notice::now(
            Event::SignOffStale,
            r,
            actor,
            json!({
                "role": s.role,
                "signed_at": s.signed_at,
                "change": { "action": action, "what": changed_fields(old, new) },
            }),
            Some(format!("{}:{}", s.id, s.content_hash)),
        );
        to_people(conn, &n, &[s.signer_id], actor.user_id()).await?;
    }
    Ok(())
}

/// The top-level fields that differ between an audit row's old and new value (for
/// "what changed"), or the new value's own fields when there was no old one.
fn changed_fields(old: Option<&Value>, new: Option<&Value>) -> Vec<String> {
    let (Some(Value::Object(n)), o) = (new, old) else {
        return vec![];
    };
    let o = o.and_then(Value::as_object);
    let mut out: Vec<String> = n
        .iter()
        .filter(|(k, v)| {
            !matches!(k.as_str(), "revision" | "updated_at")
                && o.is_none_or(|o| o.get(*k) != Some(*v))
        })
        .map(|(k, _)| k.clone())
        .collect();
    out.truncate(12);
    out
}

/// Plans the release's reminders again: pending ones that no longer fit (the window moved,
/// the phase went on, other people were assigned) are dropped, the fitting ones are queued
/// once (a reminder already sent is not sent again).
async fn replan(conn: &mut PgConnection, r: &Release, p: &People) -> Result<(), ServiceError> {
    let plan = plan_reminders(r.phase, r.window_start, r.window_end, Utc::now());
    let admins = if plan.iter().any(|x| x.to.contains(&Recipient::Admins)) {
        admins(conn).await?
    } else {
        vec![]
    };
    let mut keep: Vec<String> = vec![];
    let mut queue: Vec<(Notice, Vec<i64>)> = vec![];
    for planned in plan {
        let mut to = vec![];
        for who in &planned.to {
            match who {
                Recipient::Captain => to.extend(p.captain),
                Recipient::Owner => to.extend(p.owner),
                Recipient::Admins => to.extend(admins.iter().copied()),
            }
        }
        let about = format!("{}", planned.due.timestamp());
        let role = match &planned.condition {
            Condition::Unsigned { role, .. } => Some(*role),
            _ => None,
        };
        let about = match role {
            Some(role) => format!("{}:{about}", role.as_str()),
            None => about,
        };
        let stem = key_stem(planned.event, r.id, "email", &about);
        keep.extend(to.iter().map(|uid| format!("{stem}#{uid}")));
        let n = Notice {
            event: planned.event,
            release_id: r.id,
            payload: json!({
                "event": planned.event.as_str(),
                "release": release_json(r),
                "deadline": planned.deadline,
                "role": role,
                "link": planned.event.release_path(r.id),
            }),
            due: Some(planned.due),
            condition: Some(planned.condition),
            about: Some(about.clone()),
        };
        if planned.event.for_channels() {
            keep.push(key_stem(planned.event, r.id, "webhook", &about));
        }
        queue.push((n, to));
    }
    // Kept: people's keys as they are, channels' by their stem (any webhook).
    sqlx::query!(
        "DELETE FROM outbox
         WHERE release_id = $1 AND state = 'pending' AND condition IS NOT NULL
           AND condition->>'kind' <> 'hold_running'
           AND NOT (dedupe_key = ANY ($2)
                    OR split_part(dedupe_key, '#', 1) = ANY ($2))",
        r.id,
        &keep
    )
    .execute(&mut *conn)
    .await?;
    for (n, to) in queue {
        to_people(conn, &n, &to, None).await?;
        to_channels(conn, &n).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::changed_fields;
    use serde_json::json;

    #[test]
    fn what_changed_names_the_fields_that_differ() {
        let old = json!({ "title": "A", "window_start": "x", "revision": 1 });
        let new = json!({ "title": "A", "window_start": "y", "revision": 2 });
        assert_eq!(changed_fields(Some(&old), Some(&new)), vec!["window_start"]);
        let item = json!({ "key": "smoke", "state": "failed" });
        assert_eq!(changed_fields(None, Some(&item)), vec!["key", "state"]);
        assert!(changed_fields(Some(&old), None).is_empty());
    }
}
