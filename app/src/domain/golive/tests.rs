use super::*;
use chrono::TimeZone;

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap()
}

fn step(kind: StepKind, pct: Option<i32>, at: DateTime<Utc>) -> RecordedStep {
    RecordedStep {
        kind,
        stage_pct: pct,
        at,
        actor: "rc@example.org".into(),
        note: String::new(),
        detail: serde_json::Value::Null,
    }
}

fn healthy(since: DateTime<Utc>) -> TargetHealth {
    TargetHealth {
        environment: "prod".into(),
        probed: true,
        up: true,
        state: "up".into(),
        healthy_since: Some(since),
        open_p1: false,
    }
}

fn facts<'a>(
    progress: &'a Progress,
    steps: &'a [RecordedStep],
    target: &'a TargetHealth,
    note: Option<&'a str>,
) -> StepFacts<'a> {
    StepFacts {
        progress,
        steps,
        hold_minutes: 30,
        target,
        last_backup_at: Some(t(10, 0)),
        note,
    }
}

#[test]
fn plans_follow_the_strategy() {
    let bg: Vec<String> = plan(Strategy::BlueGreen, &[10, 50, 100])
        .into_iter()
        .map(step_label_key)
        .collect();
    assert_eq!(
        bg,
        [
            "pre_checks",
            "deploy_green",
            "smoke_tests",
            "switch_traffic",
            "mark_green_prod"
        ]
    );
    let canary: Vec<String> = plan(Strategy::Canary, &[10, 50, 100])
        .into_iter()
        .map(step_label_key)
        .collect();
    assert_eq!(
        canary,
        [
            "pre_checks",
            "deploy_green",
            "smoke_tests",
            "canary_stage_10",
            "canary_stage_50",
            "canary_stage_100",
            "mark_green_prod"
        ]
    );
}

#[test]
fn progress_pairs_steps_with_the_plan() {
    let steps = vec![
        step(StepKind::Start, None, t(20, 0)),
        step(StepKind::PreChecks, None, t(20, 1)),
        step(StepKind::DeployGreen, None, t(20, 5)),
    ];
    let p = progress(Strategy::Canary, &[10, 50, 100], &steps);
    assert_eq!(p.started, Some(t(20, 0)));
    assert_eq!(p.next.map(step_label_key).as_deref(), Some("smoke_tests"));
    assert_eq!(p.plan[1].1, Some(t(20, 5)));
    assert!(!p.ended);
    let none = progress(Strategy::Canary, &[10, 50, 100], &[]);
    assert_eq!(none.next, None, "nothing is next before the start");
}

fn start_facts<'a>(
    freezes: &'a [Freeze],
    gate: &'a [Blocker],
    captain: bool,
    reason: Option<&'a str>,
) -> StartFacts<'a> {
    StartFacts {
        phase: Phase::GoLive,
        already_started: false,
        window_start: t(20, 0),
        window_end: t(22, 0),
        environment: "prod",
        freezes,
        gate_blockers: gate,
        actor_is_captain: captain,
        override_reason: reason,
    }
}

#[test]
fn the_window_holds_unless_the_captain_overrides_with_a_reason() {
    assert!(start_blockers(&start_facts(&[], &[], false, None), t(20, 30)).is_empty());
    let early = start_blockers(&start_facts(&[], &[], true, None), t(18, 0));
    assert!(
        matches!(early[..], [Blocker::OutsideWindow { .. }]),
        "{early:?}"
    );
    // An admin (not the captain) cannot override, reason or not.
    let admin = start_blockers(&start_facts(&[], &[], false, Some("hotfix")), t(18, 0));
    assert!(matches!(admin[..], [Blocker::OutsideWindow { .. }]));
    let blank = start_blockers(&start_facts(&[], &[], true, Some("  ")), t(18, 0));
    assert!(matches!(blank[..], [Blocker::OutsideWindow { .. }]));
    assert!(start_blockers(&start_facts(&[], &[], true, Some("hotfix")), t(18, 0)).is_empty());
}

#[test]
fn a_freeze_blocks_even_the_override_and_names_its_reason() {
    let freeze = Freeze {
        id: 1,
        environment: "PROD".into(),
        starts_at: t(19, 0),
        ends_at: t(23, 0),
        reason: "Black Friday".into(),
        created_by: None,
    };
    let b = start_blockers(
        &start_facts(std::slice::from_ref(&freeze), &[], true, Some("hotfix")),
        t(20, 30),
    );
    assert_eq!(
        b,
        vec![Blocker::Frozen {
            environment: "PROD".into(),
            reason: "Black Friday".into(),
            until: t(23, 0)
        }]
    );
    // Over at its end, and not for other environments.
    assert!(!freeze.holds_at("prod", t(23, 0)));
    assert!(!freeze.holds_at("staging", t(20, 0)));
}

#[test]
fn start_needs_the_phase_and_the_open_gate() {
    let gate = [Blocker::SignOffStale {
        role: "product_owner".into(),
    }];
    assert_eq!(
        start_blockers(&start_facts(&[], &gate, false, None), t(20, 30)),
        gate.to_vec()
    );
    let mut f = start_facts(&[], &[], false, None);
    f.phase = Phase::GoNoGo;
    assert_eq!(
        start_blockers(&f, t(20, 30)),
        vec![Blocker::WrongPhase {
            phase: Phase::GoNoGo
        }]
    );
    f.phase = Phase::GoLive;
    f.already_started = true;
    assert_eq!(start_blockers(&f, t(20, 30)), vec![Blocker::GoLiveStarted]);
}

#[test]
fn pre_checks_come_from_the_probes_or_from_a_note() {
    let steps = vec![step(StepKind::Start, None, t(20, 0))];
    let p = progress(Strategy::BlueGreen, &[], &steps);
    let pre = PlannedStep::of(StepKind::PreChecks);
    let up = healthy(t(12, 0));
    assert!(step_blockers(pre, &facts(&p, &steps, &up, None), t(20, 1)).is_empty());
    let down = TargetHealth {
        up: false,
        state: "down".into(),
        open_p1: true,
        ..up.clone()
    };
    let b = step_blockers(pre, &facts(&p, &steps, &down, None), t(20, 1));
    assert!(b.contains(&Blocker::TargetOpenP1 {
        environment: "prod".into()
    }));
    assert!(b
        .iter()
        .any(|b| matches!(b, Blocker::TargetNotHealthy { state, .. } if state == "down")));
    let unprobed = TargetHealth::unprobed("prod");
    assert_eq!(
        step_blockers(pre, &facts(&p, &steps, &unprobed, None), t(20, 1)),
        vec![Blocker::NoteRequired {
            environment: "prod".into()
        }]
    );
    assert!(step_blockers(
        pre,
        &facts(&p, &steps, &unprobed, Some("Grafana green")),
        t(20, 1)
    )
    .is_empty());
    // Backups a day old fail the pre-checks.
    let mut old = facts(&p, &steps, &up, None);
    old.last_backup_at = Some(t(20, 1) - Duration::hours(25));
    assert_eq!(
        step_blockers(pre, &old, t(20, 1)),
        vec![Blocker::BackupTooOld]
    );
}

#[test]
fn steps_go_in_order() {
    let steps = vec![step(StepKind::Start, None, t(20, 0))];
    let p = progress(Strategy::BlueGreen, &[], &steps);
    let up = healthy(t(12, 0));
    let b = step_blockers(
        PlannedStep::of(StepKind::SmokeTests),
        &facts(&p, &steps, &up, None),
        t(20, 1),
    );
    assert_eq!(
        b,
        vec![Blocker::StepOutOfOrder {
            expected: Some("pre_checks".into())
        }]
    );
    let p0 = progress(Strategy::BlueGreen, &[], &[]);
    assert_eq!(
        step_blockers(
            PlannedStep::of(StepKind::PreChecks),
            &facts(&p0, &[], &up, None),
            t(20, 1)
        ),
        vec![Blocker::GoLiveNotStarted]
    );
}

fn canary_until_stage_50(at50: DateTime<Utc>) -> Vec<RecordedStep> {
    vec![
        step(StepKind::Start, None, t(20, 0)),
        step(StepKind::PreChecks, None, t(20, 1)),
        step(StepKind::DeployGreen, None, t(20, 2)),
        step(StepKind::SmokeTests, None, t(20, 3)),
        step(StepKind::CanaryStage, Some(10), t(20, 4)),
        step(StepKind::CanaryStage, Some(50), at50),
    ]
}

#[test]
fn the_last_canary_stage_waits_for_the_hold_with_the_target_healthy() {
    let steps = canary_until_stage_50(t(20, 5));
    let p = progress(Strategy::Canary, &[10, 50, 100], &steps);
    let last = PlannedStep {
        kind: StepKind::CanaryStage,
        stage_pct: Some(100),
    };
    assert_eq!(p.next, Some(last));
    let up = healthy(t(12, 0));
    let f = facts(&p, &steps, &up, None);
    assert_eq!(
        hold_for_next(&f),
        Some(Hold {
            after: t(20, 5),
            until: t(20, 35),
            minutes: 30
        })
    );
    assert_eq!(
        step_blockers(last, &f, t(20, 20)),
        vec![Blocker::HoldRunning { until: t(20, 35) }]
    );
    assert!(step_blockers(last, &f, t(20, 35)).is_empty());
    // A flap during the hold starts it again from when the target came back.
    let flapped = healthy(t(20, 30));
    let f = facts(&p, &steps, &flapped, None);
    assert_eq!(
        step_blockers(last, &f, t(20, 40)),
        vec![Blocker::HoldRunning { until: t(21, 0) }]
    );
    // Unhealthy now: blocked, whatever the clock says.
    let down = TargetHealth {
        up: false,
        state: "degraded".into(),
        ..up
    };
    let f = facts(&p, &steps, &down, None);
    assert!(step_blockers(last, &f, t(23, 0))
        .iter()
        .any(|b| matches!(b, Blocker::TargetNotHealthy { .. })));
}

#[test]
fn intermediate_stages_need_no_hold_but_marking_green_does() {
    let steps = vec![
        step(StepKind::Start, None, t(20, 0)),
        step(StepKind::PreChecks, None, t(20, 1)),
        step(StepKind::DeployGreen, None, t(20, 2)),
        step(StepKind::SmokeTests, None, t(20, 3)),
        step(StepKind::CanaryStage, Some(10), t(20, 4)),
    ];
    let p = progress(Strategy::Canary, &[10, 50, 100], &steps);
    let up = healthy(t(12, 0));
    let f = facts(&p, &steps, &up, None);
    assert_eq!(hold_for_next(&f), None);
    assert!(step_blockers(p.next.unwrap(), &f, t(20, 5)).is_empty());

    let mut steps = canary_until_stage_50(t(20, 5));
    steps.push(step(StepKind::CanaryStage, Some(100), t(20, 40)));
    let p = progress(Strategy::Canary, &[10, 50, 100], &steps);
    let mark = PlannedStep::of(StepKind::MarkGreenProd);
    assert_eq!(p.next, Some(mark));
    let f = facts(&p, &steps, &up, None);
    assert_eq!(
        step_blockers(mark, &f, t(21, 0)),
        vec![Blocker::HoldRunning { until: t(21, 10) }]
    );
    // Not probed: the hold is time alone.
    let unprobed = TargetHealth::unprobed("prod");
    let f = facts(&p, &steps, &unprobed, None);
    assert!(step_blockers(mark, &f, t(21, 10)).is_empty());
}

#[test]
fn completing_needs_every_step_and_the_documentation() {
    let mut steps = vec![
        step(StepKind::Start, None, t(20, 0)),
        step(StepKind::PreChecks, None, t(20, 1)),
        step(StepKind::DeployGreen, None, t(20, 2)),
        step(StepKind::SmokeTests, None, t(20, 3)),
        step(StepKind::SwitchTraffic, None, t(20, 4)),
    ];
    let docs = [
        DocItem {
            kind: ChecklistKind::PostRelease,
            key: "post_dashboards",
            text: "Dashboards",
            text_de: "Dashboards (de)",
            state: ItemState::Open,
        },
        DocItem {
            kind: ChecklistKind::ReleaseChecklist,
            key: "smoke_app_start",
            text: "App start",
            text_de: "App-Start",
            state: ItemState::Open,
        },
    ];
    let p = progress(Strategy::BlueGreen, &[], &steps);
    assert_eq!(
        complete_blockers(&p, &docs),
        vec![
            Blocker::StepOutOfOrder {
                expected: Some("mark_green_prod".into())
            },
            Blocker::PostReleaseOpen {
                key: "post_dashboards".into(),
                text: "Dashboards".into(),
                text_de: "Dashboards (de)".into()
            }
        ]
    );
    steps.push(step(StepKind::MarkGreenProd, None, t(20, 40)));
    let p = progress(Strategy::BlueGreen, &[], &steps);
    let settled = [DocItem {
        state: ItemState::Passed,
        ..docs[0]
    }];
    assert!(complete_blockers(&p, &settled).is_empty());
}

#[test]
fn rollback_needs_a_reason_while_going_live() {
    assert!(rollback_blockers(Phase::GoLive, Some("5xx after switch")).is_empty());
    assert_eq!(
        rollback_blockers(Phase::GoLive, Some(" ")),
        vec![Blocker::ReasonRequired]
    );
    assert_eq!(
        rollback_blockers(Phase::Done, Some("late")),
        vec![Blocker::WrongPhase { phase: Phase::Done }]
    );
}

#[test]
fn time_to_restore_counts_from_the_first_sign_of_trouble() {
    let mut steps = canary_until_stage_50(t(20, 5));
    steps.push(step(StepKind::Rollback, None, t(20, 25)));
    // From the first traffic step without a mark …
    assert_eq!(restore_seconds(&steps, None), Some(21.0 * 60.0));
    // … from the mark when there is one.
    assert_eq!(restore_seconds(&steps, Some(t(20, 20))), Some(300.0));
    assert_eq!(restore_seconds(&steps[..3], None), None, "no rollback");
}

#[test]
fn healthy_since_counts_from_the_last_p1_too() {
    use crate::domain::monitoring::{EndpointKind, HealthState};
    use crate::domain::monitoring_model::{EndpointStatus, EnvironmentStatus};
    let endpoint = |kind, since| EndpointStatus {
        kind,
        url: String::new(),
        state: HealthState::Up,
        state_since: since,
        p50_ms: None,
        p95_ms: None,
        p99_ms: None,
        samples: 0,
        error_rate_pct: None,
        rate_503_pct: None,
        last_checked_at: None,
        last_ok_at: None,
        last_status: None,
        last_error: None,
        uptime_24h: None,
        uptime_7d: None,
        uptime_30d: None,
        sparkline: vec![],
        component: None,
    };
    let mut status = EnvironmentStatus {
        id: 1,
        name: "prod".into(),
        enabled: true,
        state: HealthState::Up,
        endpoints: vec![
            endpoint(EndpointKind::Health, t(18, 0)),
            endpoint(EndpointKind::Readiness, t(19, 0)),
        ],
        open_alerts: vec![],
    };
    let h = TargetHealth::of(&status, None);
    assert!(h.probed && h.up && !h.open_p1);
    assert_eq!(h.healthy_since, Some(t(19, 0)), "the later endpoint");
    // A P1 that resolved during the hold starts it again.
    assert_eq!(
        TargetHealth::of(&status, Some(t(20, 10))).healthy_since,
        Some(t(20, 10))
    );
    status.endpoints[1].state = HealthState::Down;
    let down = TargetHealth::of(&status, None);
    assert!(!down.up && down.healthy_since.is_none());
    status.enabled = false;
    assert!(!TargetHealth::of(&status, None).probed);
}
