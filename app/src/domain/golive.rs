//! Go-live and rollback (section 4 of the procedure): the guided sequence of steps, the
//! go-live window and freeze windows, the stability hold, and what completing needs.
//! Pure: callers pass `now` and what the probes say in.

use super::monitoring::HealthState;
use super::monitoring_model::EnvironmentStatus;
use super::release::{backup_is_current, Blocker, ItemState, Phase, Strategy};
use super::templates::ChecklistKind;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// One kind of recorded go-live step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Start,
    PreChecks,
    DeployGreen,
    SmokeTests,
    SwitchTraffic,
    CanaryStage,
    MarkGreenProd,
    Complete,
    Rollback,
}

impl StepKind {
    pub const ALL: [StepKind; 9] = [
        StepKind::Start,
        StepKind::PreChecks,
        StepKind::DeployGreen,
        StepKind::SmokeTests,
        StepKind::SwitchTraffic,
        StepKind::CanaryStage,
        StepKind::MarkGreenProd,
        StepKind::Complete,
        StepKind::Rollback,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Start => "start",
            StepKind::PreChecks => "pre_checks",
            StepKind::DeployGreen => "deploy_green",
            StepKind::SmokeTests => "smoke_tests",
            StepKind::SwitchTraffic => "switch_traffic",
            StepKind::CanaryStage => "canary_stage",
            StepKind::MarkGreenProd => "mark_green_prod",
            StepKind::Complete => "complete",
            StepKind::Rollback => "rollback",
        }
    }

    pub fn parse(s: &str) -> Option<StepKind> {
        StepKind::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    /// Whether the step moves users' traffic (a canary stage or the switch to Green).
    pub fn moves_traffic(self) -> bool {
        matches!(self, StepKind::SwitchTraffic | StepKind::CanaryStage)
    }
}

/// A step of the plan: its kind and, for a canary stage, the traffic share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub kind: StepKind,
    pub stage_pct: Option<i32>,
}

impl PlannedStep {
    fn of(kind: StepKind) -> PlannedStep {
        PlannedStep {
            kind,
            stage_pct: None,
        }
    }
}

/// A recorded step as the rules see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedStep {
    pub kind: StepKind,
    pub stage_pct: Option<i32>,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub note: String,
    #[serde(default)]
    pub detail: serde_json::Value,
}

/// The spec's sequence after the start: pre-checks, deploy to Green, smoke tests, then
/// traffic to Green (at once for blue/green, stage by stage for canary), then Green is
/// marked the new production.
pub fn plan(strategy: Strategy, canary_stages: &[i32]) -> Vec<PlannedStep> {
    let mut steps = vec![
        PlannedStep::of(StepKind::PreChecks),
        PlannedStep::of(StepKind::DeployGreen),
        PlannedStep::of(StepKind::SmokeTests),
    ];
    match strategy {
        Strategy::BlueGreen => steps.push(PlannedStep::of(StepKind::SwitchTraffic)),
        Strategy::Canary => steps.extend(canary_stages.iter().map(|p| PlannedStep {
            kind: StepKind::CanaryStage,
            stage_pct: Some(*p),
        })),
    }
    steps.push(PlannedStep::of(StepKind::MarkGreenProd));
    steps
}

/// Where a go-live stands: started or not, what was done, what comes next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub started: Option<DateTime<Utc>>,
    /// The planned steps with when each was recorded.
    pub plan: Vec<(PlannedStep, Option<DateTime<Utc>>)>,
    /// The next planned step; `None` before the start and once all are done.
    pub next: Option<PlannedStep>,
    pub ended: bool,
}

pub fn progress(strategy: Strategy, canary_stages: &[i32], steps: &[RecordedStep]) -> Progress {
    let started = steps
        .iter()
        .find(|s| s.kind == StepKind::Start)
        .map(|s| s.at);
    let mut done = steps
        .iter()
        .filter(|s| s.kind != StepKind::Start)
        .peekable();
    // Steps are recorded in plan order only, so they pair up with the plan front to back.
    let with_times: Vec<(PlannedStep, Option<DateTime<Utc>>)> = plan(strategy, canary_stages)
        .into_iter()
        .map(|p| {
            let at = done
                .next_if(|s| s.kind == p.kind && s.stage_pct == p.stage_pct)
                .map(|s| s.at);
            (p, at)
        })
        .collect();
    let ended = steps
        .iter()
        .any(|s| matches!(s.kind, StepKind::Complete | StepKind::Rollback));
    let next = started.filter(|_| !ended).and_then(|_| {
        with_times
            .iter()
            .find(|(_, at)| at.is_none())
            .map(|(p, _)| *p)
    });
    Progress {
        started,
        plan: with_times,
        next,
        ended,
    }
}

/// What the probes say about the release's target environment right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealth {
    pub environment: String,
    /// Registered and probed; otherwise Shipgate has nothing to judge it by.
    pub probed: bool,
    /// Every endpoint up (`/health` and `/readiness`).
    pub up: bool,
    pub state: String,
    /// Since when it has been healthy without a break: every endpoint up, and no P1 open
    /// since then.
    pub healthy_since: Option<DateTime<Utc>>,
    pub open_p1: bool,
}

impl TargetHealth {
    /// Judged from the probes' status and when the environment's last P1 resolved.
    pub fn of(status: &EnvironmentStatus, last_p1_resolved: Option<DateTime<Utc>>) -> TargetHealth {
        let probed = status.enabled && !status.endpoints.is_empty();
        let up = probed && status.endpoints.iter().all(|p| p.state == HealthState::Up);
        let open_p1 = status.has_open_p1();
        let up_since = status.endpoints.iter().map(|p| p.state_since).max();
        TargetHealth {
            environment: status.name.clone(),
            probed,
            up,
            state: status.state.as_str().to_string(),
            healthy_since: (up && !open_p1)
                .then(|| up_since.max(last_p1_resolved))
                .flatten(),
            open_p1,
        }
    }

    pub fn unprobed(environment: &str) -> TargetHealth {
        TargetHealth {
            environment: environment.to_string(),
            probed: false,
            up: false,
            state: "unknown".into(),
            healthy_since: None,
            open_p1: false,
        }
    }

    /// Green as the pre-checks and the hold need it: up, and no open P1.
    fn blockers(&self) -> Vec<Blocker> {
        let mut out = vec![];
        if !self.probed {
            return out;
        }
        if !self.up {
            out.push(Blocker::TargetNotHealthy {
                environment: self.environment.clone(),
                state: self.state.clone(),
            });
        }
        if self.open_p1 {
            out.push(Blocker::TargetOpenP1 {
                environment: self.environment.clone(),
            });
        }
        out
    }
}

/// A freeze window on an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    pub id: i64,
    pub environment: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub reason: String,
    #[serde(default)]
    pub created_by: Option<String>,
}

impl Freeze {
    pub fn holds_at(&self, environment: &str, now: DateTime<Utc>) -> bool {
        self.environment.trim().to_lowercase() == environment.trim().to_lowercase()
            && self.starts_at <= now
            && now < self.ends_at
    }
}

/// Everything starting the go-live is judged on.
pub struct StartFacts<'a> {
    pub phase: Phase,
    pub already_started: bool,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub environment: &'a str,
    pub freezes: &'a [Freeze],
    /// What still closes the go-live gate (preconditions, sign-offs).
    pub gate_blockers: &'a [Blocker],
    pub actor_is_captain: bool,
    pub override_reason: Option<&'a str>,
}

fn has_text(s: Option<&str>) -> bool {
    s.is_some_and(|s| !s.trim().is_empty())
}

/// Whether now lies inside the planned go-live window.
pub fn in_window(start: DateTime<Utc>, end: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    start <= now && now <= end
}

/// Starting the go-live: in phase `go_live` with the gate open, not frozen, and inside the
/// window, or outside it by the release captain's override with a reason.
pub fn start_blockers(f: &StartFacts<'_>, now: DateTime<Utc>) -> Vec<Blocker> {
    let mut out = vec![];
    if f.phase != Phase::GoLive {
        out.push(Blocker::WrongPhase { phase: f.phase });
        return out;
    }
    if f.already_started {
        out.push(Blocker::GoLiveStarted);
        return out;
    }
    out.extend(f.gate_blockers.iter().cloned());
    out.extend(
        f.freezes
            .iter()
            .filter(|z| z.holds_at(f.environment, now))
            .map(|z| Blocker::Frozen {
                environment: z.environment.clone(),
                reason: z.reason.clone(),
                until: z.ends_at,
            }),
    );
    let window = Blocker::OutsideWindow {
        start: f.window_start,
        end: f.window_end,
    };
    let overridden =
        !blocks_despite_override(&window, f.actor_is_captain) && has_text(f.override_reason);
    if !in_window(f.window_start, f.window_end, now) && !overridden {
        out.push(window);
    }
    out
}

/// Whether `b` still blocks the start when the release captain starts with a reason: all
/// but the window do.
pub fn blocks_despite_override(b: &Blocker, actor_is_captain: bool) -> bool {
    !(actor_is_captain && matches!(b, Blocker::OutsideWindow { .. }))
}

/// Whether recording `step` needs a note of what was checked by hand: the pre-checks of a
/// target the probes do not watch.
pub fn note_required(step: PlannedStep, target: &TargetHealth) -> bool {
    step.kind == StepKind::PreChecks && !target.probed
}

/// Everything a step after the start is judged on.
pub struct StepFacts<'a> {
    pub progress: &'a Progress,
    pub steps: &'a [RecordedStep],
    pub hold_minutes: i32,
    pub target: &'a TargetHealth,
    pub last_backup_at: Option<DateTime<Utc>>,
    pub note: Option<&'a str>,
}

/// A stability hold: since when it counts and when it is over.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// The traffic step the hold follows.
    pub after: DateTime<Utc>,
    /// When it is over, if the target stays healthy (later when it was not healthy all
    /// along: the hold counts from when it last became healthy).
    pub until: DateTime<Utc>,
    pub minutes: i32,
}

/// Whether the planned step waits for a stability hold: the last canary stage and marking
/// Green as the new production do.
pub fn needs_hold(plan: &[(PlannedStep, Option<DateTime<Utc>>)], step: PlannedStep) -> bool {
    match step.kind {
        StepKind::MarkGreenProd => true,
        StepKind::CanaryStage => {
            let stages = plan
                .iter()
                .filter(|(p, _)| p.kind == StepKind::CanaryStage)
                .count();
            let last = plan
                .iter()
                .rev()
                .find(|(p, _)| p.kind == StepKind::CanaryStage)
                .map(|(p, _)| *p);
            stages > 1 && last == Some(step)
        }
        _ => false,
    }
}

/// The hold in force before the next step, if it needs one: counted from the latest
/// traffic step (and from when the target last became healthy, if later).
pub fn hold_for_next(f: &StepFacts<'_>) -> Option<Hold> {
    let next = f.progress.next?;
    if !needs_hold(&f.progress.plan, next) {
        return None;
    }
    let after = f
        .steps
        .iter()
        .rev()
        .find(|s| s.kind.moves_traffic())
        .map(|s| s.at)?;
    let counted_from = match (f.target.probed, f.target.healthy_since) {
        (true, Some(since)) if since > after => since,
        _ => after,
    };
    Some(Hold {
        after,
        until: counted_from + Duration::minutes(f.hold_minutes.into()),
        minutes: f.hold_minutes,
    })
}

/// Recording `requested` as the next step of a started go-live.
pub fn step_blockers(
    requested: PlannedStep,
    f: &StepFacts<'_>,
    now: DateTime<Utc>,
) -> Vec<Blocker> {
    if f.progress.started.is_none() {
        return vec![Blocker::GoLiveNotStarted];
    }
    let Some(next) = f.progress.next else {
        return vec![Blocker::StepOutOfOrder { expected: None }];
    };
    if next != requested {
        return vec![Blocker::StepOutOfOrder {
            expected: Some(step_label_key(next)),
        }];
    }
    let mut out = vec![];
    match next.kind {
        StepKind::PreChecks => {
            // Monitoring and readiness green from the probes, backups current.
            out.extend(f.target.blockers());
            if note_required(next, f.target) && !has_text(f.note) {
                out.push(Blocker::NoteRequired {
                    environment: f.target.environment.clone(),
                });
            }
            if !backup_is_current(f.last_backup_at, now) {
                out.push(Blocker::BackupTooOld);
            }
        }
        _ if needs_hold(&f.progress.plan, next) => {
            out.extend(f.target.blockers());
            if let Some(h) = hold_for_next(f) {
                if now < h.until {
                    out.push(Blocker::HoldRunning { until: h.until });
                }
            }
        }
        _ => {}
    }
    out
}

/// Once the go-live has started, its plan (strategy, stages, hold, target, window) is what
/// the recorded steps follow: it no longer changes.
pub fn plan_locked(phase: Phase, started: bool) -> bool {
    phase == Phase::GoLive && started
}

/// A stable name for a planned step: `canary_stage_50` for a stage, else the kind.
pub fn step_label_key(p: PlannedStep) -> String {
    match p.stage_pct {
        Some(pct) => format!("{}_{pct}", p.kind.as_str()),
        None => p.kind.as_str().to_string(),
    }
}

/// A post-release documentation item as completion sees it.
pub struct DocItem<'a> {
    pub kind: ChecklistKind,
    pub key: &'a str,
    /// English and German, as the blocker naming it carries them.
    pub text: &'a str,
    pub text_de: &'a str,
    pub state: ItemState,
}

/// Completing the go-live: every planned step done, and the post-release documentation
/// settled.
pub fn complete_blockers(progress: &Progress, items: &[DocItem<'_>]) -> Vec<Blocker> {
    let mut out = vec![];
    if progress.started.is_none() {
        out.push(Blocker::GoLiveNotStarted);
    } else if let Some(next) = progress.next {
        out.push(Blocker::StepOutOfOrder {
            expected: Some(step_label_key(next)),
        });
    }
    out.extend(
        items
            .iter()
            .filter(|i| i.kind == ChecklistKind::PostRelease && !i.state.settles_gate())
            .map(|i| Blocker::PostReleaseOpen {
                key: i.key.to_string(),
                text: i.text.to_string(),
                text_de: i.text_de.to_string(),
            }),
    );
    out
}

/// Who may roll back: the release's captain or product owner.
pub fn may_roll_back(
    release: &super::release_model::Release,
    u: &super::account::UserInfo,
) -> bool {
    release.is_captain_or_owner(u)
}

/// Rolling back: only while going live, and only with a reason.
pub fn rollback_blockers(phase: Phase, reason: Option<&str>) -> Vec<Blocker> {
    let mut out = vec![];
    if phase != Phase::GoLive {
        out.push(Blocker::WrongPhase { phase });
    }
    if !has_text(reason) {
        out.push(Blocker::ReasonRequired);
    }
    out
}

/// When service was restored after a rollback, counted from when trouble began: the
/// "rollback suggested" mark if there was one, else the first traffic step, else the start.
pub fn restore_seconds(
    steps: &[RecordedStep],
    rollback_suggested_at: Option<DateTime<Utc>>,
) -> Option<f64> {
    let rolled_back = steps.iter().find(|s| s.kind == StepKind::Rollback)?.at;
    let began = rollback_suggested_at
        .or_else(|| steps.iter().find(|s| s.kind.moves_traffic()).map(|s| s.at))
        .or_else(|| {
            steps
                .iter()
                .find(|s| s.kind == StepKind::Start)
                .map(|s| s.at)
        })?;
    Some((rolled_back - began).num_milliseconds().max(0) as f64 / 1000.0)
}

/// Everything the go-live panel and `GET …/go-live` show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoLiveOverview {
    pub release_id: i64,
    pub phase: Phase,
    pub strategy: Strategy,
    pub steps: Vec<RecordedStep>,
    pub progress: Progress,
    /// Why the go-live cannot start now, as judged for someone without an override.
    pub start_blockers: Vec<Blocker>,
    pub in_window: bool,
    /// What holds up the next step; empty when it may be recorded now.
    pub next_blockers: Vec<Blocker>,
    pub hold: Option<Hold>,
    pub complete_blockers: Vec<Blocker>,
    pub target: TargetHealth,
    /// Freeze windows on the target environment, current and coming.
    pub freezes: Vec<Freeze>,
    /// The clock this was judged by; the browser counts the hold on from here.
    pub as_of: DateTime<Utc>,
}

impl GoLiveOverview {
    pub fn rollback(&self) -> Option<&RecordedStep> {
        self.steps.iter().find(|s| s.kind == StepKind::Rollback)
    }
}

#[cfg(test)]
mod tests;
