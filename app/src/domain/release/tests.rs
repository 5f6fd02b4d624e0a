use super::*;
use crate::domain::templates::ChecklistKind;
use chrono::{DateTime, Duration, TimeZone, Utc};

fn t(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap() + Duration::hours(h)
}

fn item(key: &str, kind: ChecklistKind, state: ItemState) -> GateItem {
    GateItem {
        key: key.into(),
        kind,
        text: key.into(),
        text_de: format!("{key} (de)"),
        state,
    }
}

#[test]
fn phases_round_trip_and_final_ones_are_final() {
    for p in Phase::ALL {
        assert_eq!(Phase::parse(p.as_str()), Some(p));
    }
    let finals: Vec<_> = Phase::ALL.into_iter().filter(|p| p.is_final()).collect();
    assert_eq!(finals, vec![Phase::Done, Phase::NoGo, Phase::RolledBack]);
}

#[test]
fn canary_stages_rise_and_end_at_100() {
    assert!(check_canary_stages(&DEFAULT_CANARY_STAGES));
    assert!(check_canary_stages(&[100]));
    assert!(!check_canary_stages(&[]));
    assert!(!check_canary_stages(&[10, 50]));
    assert!(!check_canary_stages(&[50, 10, 100]));
    assert!(!check_canary_stages(&[0, 100]));
    assert!(!check_canary_stages(&[10, 10, 100]));
}

#[test]
fn item_changes_need_reasons_evidence_and_the_right_people() {
    use ItemRefusal::*;
    let ok = |s, r, ev, n, cap| check_item_change(Phase::StagingGate, s, r, ev, n, cap);
    assert_eq!(
        ok(ItemState::NotApplicable, None, false, 0, false),
        Err(ReasonRequired)
    );
    assert_eq!(
        ok(ItemState::NotApplicable, Some("  "), false, 0, false),
        Err(ReasonRequired)
    );
    assert_eq!(
        ok(ItemState::NotApplicable, Some("no push"), false, 0, false),
        Ok(())
    );
    assert_eq!(
        ok(ItemState::AcceptedRisk, None, false, 0, true),
        Err(ReasonRequired)
    );
    assert_eq!(
        ok(ItemState::AcceptedRisk, Some("known"), false, 0, false),
        Err(OnlyCaptainOrOwnerAcceptRisk)
    );
    assert_eq!(
        ok(ItemState::AcceptedRisk, Some("known"), false, 0, true),
        Ok(())
    );
    assert_eq!(
        ok(ItemState::Passed, None, true, 0, false),
        Err(EvidenceRequired)
    );
    assert_eq!(ok(ItemState::Passed, None, true, 1, false), Ok(()));
    assert_eq!(ok(ItemState::Failed, None, true, 0, false), Ok(()));
    assert_eq!(ok(ItemState::Open, None, true, 0, false), Ok(()));
    for closed in [Phase::Done, Phase::NoGo, Phase::RolledBack] {
        assert_eq!(
            check_item_change(closed, ItemState::Passed, None, false, 0, true),
            Err(ReleaseClosed)
        );
    }
}

#[test]
fn staging_gate_needs_every_staging_item_settled() {
    let items = vec![
        item(
            "staging_deploy",
            ChecklistKind::StagingGate,
            ItemState::Passed,
        ),
        item(
            "staging_smoke",
            ChecklistKind::StagingGate,
            ItemState::NotApplicable,
        ),
        item(
            "staging_health",
            ChecklistKind::StagingGate,
            ItemState::AcceptedRisk,
        ),
        // Items of other checklists do not hold up the staging gate.
        item(
            "smoke_app_start",
            ChecklistKind::ReleaseChecklist,
            ItemState::Open,
        ),
    ];
    assert_eq!(staging_gate_blockers(&items, &[]), vec![]);

    for state in [ItemState::Open, ItemState::Failed] {
        let mut items = items.clone();
        items[1].state = state;
        let b = staging_gate_blockers(&items, &[]);
        assert_eq!(
            b,
            vec![Blocker::ItemNotSettled {
                key: "staging_smoke".into(),
                text: "staging_smoke".into(),
                text_de: "staging_smoke (de)".into(),
                state
            }]
        );
    }
}

#[test]
fn open_p1_p2_issues_block_until_resolved_or_accepted() {
    let issue = |sev, resolved, accepted| GateIssue {
        key: "BUG-1".into(),
        severity: sev,
        resolved,
        accepted,
    };
    for sev in [Severity::P1, Severity::P2] {
        assert_eq!(
            staging_gate_blockers(&[], &[issue(sev, false, false)]),
            vec![Blocker::KnownIssueOpen {
                key: "BUG-1".into(),
                severity: sev
            }]
        );
        assert!(staging_gate_blockers(&[], &[issue(sev, true, false)]).is_empty());
        assert!(staging_gate_blockers(&[], &[issue(sev, false, true)]).is_empty());
    }
    assert!(staging_gate_blockers(&[], &[issue(Severity::P3, false, false)]).is_empty());
}

#[test]
fn preconditions_are_checked_against_the_clock() {
    let now = t(0);
    let good = Preconditions {
        last_backup_at: Some(now - Duration::hours(23)),
        last_restore_test_at: Some(now - Duration::days(29)),
        down_migration_url: Some("https://git.example/migrations/42-down".into()),
        on_call: Some("Oskar".into()),
    };
    assert!(precondition_blockers(&good, now).is_empty());

    let mut old = good.clone();
    old.last_backup_at = Some(now - Duration::hours(24));
    old.last_restore_test_at = Some(now - Duration::days(30));
    assert_eq!(
        precondition_blockers(&old, now),
        vec![Blocker::BackupTooOld, Blocker::RestoreTestTooOld]
    );

    // A backup "from the future" is a typo, not a fresh backup.
    let mut future = good.clone();
    future.last_backup_at = Some(now + Duration::hours(2));
    assert_eq!(
        precondition_blockers(&future, now),
        vec![Blocker::BackupTooOld]
    );

    assert_eq!(
        precondition_blockers(&Preconditions::default(), now),
        vec![
            Blocker::BackupTooOld,
            Blocker::RestoreTestTooOld,
            Blocker::DownMigrationMissing,
            Blocker::OnCallMissing
        ]
    );
    let mut blank = good;
    blank.on_call = Some(" ".into());
    assert_eq!(
        precondition_blockers(&blank, now),
        vec![Blocker::OnCallMissing]
    );
}

fn attempt<'a>(pre: &'a [Blocker]) -> SignAttempt<'a> {
    SignAttempt {
        role: SignerRole::ProductOwner,
        decision: Decision::Go,
        comment: None,
        signer_id: 7,
        signer_holds_role: true,
        via_browser_session: true,
        phase: Phase::GoNoGo,
        assigned_id: Some(7),
        other_signer_id: Some(8),
        preconditions: pre,
    }
}

#[test]
fn sign_off_policy() {
    use SignRefusal::*;
    assert_eq!(check_sign_off(&attempt(&[])), Ok(()));

    let mut a = attempt(&[]);
    a.via_browser_session = false;
    assert_eq!(check_sign_off(&a), Err(BrowserSessionRequired));

    for phase in [
        Phase::Draft,
        Phase::StagingGate,
        Phase::GoLive,
        Phase::NoGo,
        Phase::Done,
    ] {
        let mut a = attempt(&[]);
        a.phase = phase;
        assert_eq!(check_sign_off(&a), Err(WrongPhase(phase)));
    }

    let mut a = attempt(&[]);
    a.signer_holds_role = false;
    assert_eq!(check_sign_off(&a), Err(MissingRole), "wrong role");

    let mut a = attempt(&[]);
    a.assigned_id = Some(9);
    assert_eq!(check_sign_off(&a), Err(NotAssigned));
    a.assigned_id = None;
    assert_eq!(check_sign_off(&a), Err(NotAssigned));

    let mut a = attempt(&[]);
    a.other_signer_id = Some(7);
    assert_eq!(check_sign_off(&a), Err(SamePersonTwice));

    let mut a = attempt(&[]);
    a.decision = Decision::NoGo;
    assert_eq!(check_sign_off(&a), Err(CommentRequired));
    a.comment = Some("  ");
    assert_eq!(check_sign_off(&a), Err(CommentRequired));
    a.comment = Some("restore test failed");
    assert_eq!(check_sign_off(&a), Ok(()));

    // Expired preconditions: no `go`, but a `no_go` is always possible.
    let expired = [Blocker::BackupTooOld];
    assert_eq!(check_sign_off(&attempt(&expired)), Err(PreconditionsUnmet));
    let mut a = attempt(&expired);
    a.decision = Decision::NoGo;
    a.comment = Some("backup too old");
    assert_eq!(check_sign_off(&a), Ok(()));
}

fn signed(role: SignerRole, decision: Decision, hash: &str) -> SignOff {
    SignOff {
        role,
        signer_id: match role {
            SignerRole::ProductOwner => 1,
            SignerRole::ReleaseCaptain => 2,
        },
        decision,
        content_hash: hash.into(),
        signed_at: t(0),
    }
}

#[test]
fn verdict_needs_two_fresh_go_and_any_no_go_decides() {
    let po = signed(SignerRole::ProductOwner, Decision::Go, "h1");
    let rc = signed(SignerRole::ReleaseCaptain, Decision::Go, "h1");
    assert_eq!(
        go_no_go_verdict(&[po.clone(), rc.clone()], "h1"),
        Verdict::Go
    );
    assert_eq!(
        go_no_go_verdict(std::slice::from_ref(&po), "h1"),
        Verdict::Pending {
            blockers: vec![Blocker::SignOffMissing {
                role: "release_captain".into()
            }]
        }
    );
    // A change after signing makes both stale.
    assert_eq!(
        go_no_go_verdict(&[po.clone(), rc.clone()], "h2"),
        Verdict::Pending {
            blockers: vec![
                Blocker::SignOffStale {
                    role: "product_owner".into()
                },
                Blocker::SignOffStale {
                    role: "release_captain".into()
                }
            ]
        }
    );
    assert!(is_stale(&po, "h2") && !is_stale(&po, "h1"));
    let no = signed(SignerRole::ReleaseCaptain, Decision::NoGo, "h1");
    assert_eq!(
        go_no_go_verdict(&[po, no], "h1"),
        Verdict::NoGo {
            role: SignerRole::ReleaseCaptain
        }
    );
    assert!(matches!(
        go_no_go_verdict(&[], "h1"),
        Verdict::Pending { .. }
    ));
}

fn facts(phase: Phase, blockers: &[Blocker]) -> PhaseChangeFacts<'_> {
    PhaseChangeFacts {
        phase,
        has_window: true,
        captain_assigned: true,
        owner_assigned: true,
        staging_blockers: blockers,
        go_live_started: false,
    }
}

#[test]
fn every_requested_phase_change() {
    let open = [Blocker::OnCallMissing];
    for from in Phase::ALL {
        for to in Phase::ALL {
            let allowed_clean = phase_change_blockers(to, &facts(from, &[])).is_empty();
            let expected = matches!(
                (from, to),
                (Phase::Draft, Phase::StagingGate)
                    | (Phase::StagingGate, Phase::GoNoGo)
                    | (Phase::StagingGate | Phase::GoNoGo, Phase::Draft)
                    | (Phase::GoLive, Phase::GoNoGo)
            );
            assert_eq!(allowed_clean, expected, "{from:?} -> {to:?}");
        }
    }
    assert_eq!(
        phase_change_blockers(Phase::GoNoGo, &facts(Phase::StagingGate, &open)),
        open.to_vec()
    );
    // Back from go-live to the decision only before the go-live started.
    let mut started = facts(Phase::GoLive, &[]);
    started.go_live_started = true;
    assert_eq!(
        phase_change_blockers(Phase::GoNoGo, &started),
        vec![Blocker::GoLiveStarted]
    );
    let mut f = facts(Phase::Draft, &[]);
    f.has_window = false;
    f.owner_assigned = false;
    assert_eq!(
        phase_change_blockers(Phase::StagingGate, &f),
        vec![
            Blocker::WindowMissing,
            Blocker::MissingAssignment {
                role: "product_owner".into()
            }
        ]
    );
}

#[test]
fn deadlines_count_back_from_the_window() {
    let start = t(24);
    let d = next_deadline(Phase::Draft, start, t(0)).unwrap();
    assert_eq!(
        (d.what, d.due, d.overdue),
        (Phase::StagingGate, t(12), false)
    );
    let d = next_deadline(Phase::StagingGate, start, t(13)).unwrap();
    assert!(d.overdue);
    let d = next_deadline(Phase::GoNoGo, start, t(22)).unwrap();
    assert_eq!((d.what, d.due, d.overdue), (Phase::GoNoGo, t(23), false));
    assert!(
        next_deadline(Phase::GoNoGo, start, t(23) + Duration::seconds(1))
            .unwrap()
            .overdue
    );
    for p in [Phase::GoLive, Phase::Done, Phase::NoGo, Phase::RolledBack] {
        assert_eq!(next_deadline(p, start, t(0)), None);
    }
}

#[test]
fn countdowns_speak_in_the_two_largest_units() {
    use crate::i18n::Lang;
    let due = t(24);
    let c = Countdown::between(due, due - Duration::minutes(3 * 60 + 12));
    assert_eq!(c.text(Lang::En), "in 3 h 12 min");
    assert_eq!(c.text(Lang::De), "in 3 Std. 12 Min.");
    let c = Countdown::between(due, due - Duration::hours(51) - Duration::minutes(5));
    assert_eq!(c.text(Lang::En), "in 2 d 3 h");
    // 59 seconds left is still a minute left; due is not yet overdue.
    let c = Countdown::between(due, due - Duration::seconds(59));
    assert_eq!((c.overdue, c.text(Lang::En).as_str()), (false, "in 1 min"));
    assert!(!Countdown::between(due, due).overdue);
    let c = Countdown::between(due, due + Duration::minutes(20) + Duration::seconds(30));
    assert_eq!(c.text(Lang::En), "overdue by 20 min");
    assert_eq!(c.text(Lang::De), "seit 20 Min. überfällig");
}

#[test]
fn a_passed_item_reopens_only_when_its_required_evidence_is_gone() {
    assert!(reopens_without_evidence(ItemState::Passed, true, 0));
    assert!(!reopens_without_evidence(ItemState::Passed, true, 1));
    assert!(!reopens_without_evidence(ItemState::Passed, false, 0));
    assert!(!reopens_without_evidence(ItemState::Failed, true, 0));
    assert!(!reopens_without_evidence(ItemState::AcceptedRisk, true, 0));
}

#[test]
fn only_the_captain_or_owner_waives_an_item_that_needs_evidence() {
    use ItemState::*;
    assert_eq!(
        check_not_applicable(NotApplicable, true, false),
        Err(ItemRefusal::OnlyCaptainOrOwnerNotApplicable)
    );
    assert_eq!(check_not_applicable(NotApplicable, true, true), Ok(()));
    assert_eq!(check_not_applicable(NotApplicable, false, false), Ok(()));
    assert_eq!(check_not_applicable(Passed, true, false), Ok(()));
}

#[test]
fn an_item_form_offers_only_the_states_its_reader_may_save() {
    use ItemState::*;
    // An engineer: no accepted risk, and no waiving an item that needs proof.
    assert!(!role_allows_state(AcceptedRisk, false, false));
    assert!(!role_allows_state(NotApplicable, true, false));
    assert!(role_allows_state(NotApplicable, false, false));
    for s in [Open, Passed, Failed] {
        assert!(role_allows_state(s, true, false));
    }
    // The release's captain or owner: every state.
    for s in ItemState::ALL {
        assert!(role_allows_state(s, true, true));
    }
}

#[test]
fn the_page_offers_the_next_phase_only_where_a_person_may_ask_for_it() {
    use super::next_requested_phase as next;
    assert_eq!(next(Phase::Draft, false, false), Some(Phase::StagingGate));
    assert_eq!(next(Phase::StagingGate, false, false), Some(Phase::GoNoGo));
    assert_eq!(next(Phase::GoNoGo, false, true), None);
    // Back to the decision only while nothing went live and a sign-off is stale.
    assert_eq!(next(Phase::GoLive, false, true), Some(Phase::GoNoGo));
    assert_eq!(next(Phase::GoLive, true, true), None);
    assert_eq!(next(Phase::GoLive, false, false), None);
    for ended in [Phase::Done, Phase::NoGo, Phase::RolledBack] {
        assert_eq!(next(ended, false, true), None);
    }
}
