use super::*;
use crate::domain::release::Severity;
use chrono::{DateTime, Duration, TimeZone, Utc};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

/// A synthetic series: one sample every `every_s` seconds ending at `t0`, each made by `f(i)`.
fn series(n: usize, every_s: i64, f: impl Fn(usize) -> (Option<i32>, i32)) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let (status, latency_ms) = f(i);
            Sample {
                at: t0() - Duration::seconds(every_s * (n - 1 - i) as i64),
                ok: status == Some(200),
                status,
                latency_ms,
            }
        })
        .collect()
}

fn facts(kind: EndpointKind, samples: &[Sample]) -> EndpointFacts {
    let last_ok = samples.iter().rev().find(|s| s.ok).map(|s| s.at);
    let trailing = samples.iter().rev().take_while(|s| !s.ok).count() as i32;
    EndpointFacts {
        kind,
        interval_ms: 1000,
        window: WindowStats::of(samples),
        last_checked_at: samples.last().map(|s| s.at),
        last_ok_at: last_ok,
        consecutive_failures: trailing,
        watched_since: t0() - Duration::hours(1),
    }
}

fn rules(f: &EndpointFacts) -> Vec<Rule> {
    firing(f, &Thresholds::default(), t0())
        .into_iter()
        .map(|x| x.rule)
        .collect()
}

#[test]
fn rules_have_one_name_in_code_tables_and_api() {
    for rule in Rule::ALL {
        assert_eq!(serde_json::to_value(rule).unwrap(), rule.as_str());
        assert_eq!(Rule::parse(rule.as_str()), Some(rule));
    }
}

#[test]
fn percentiles_are_nearest_rank() {
    let v: Vec<i32> = (1..=100).collect();
    assert_eq!(percentile(&v, 50.0), Some(50));
    assert_eq!(percentile(&v, 95.0), Some(95));
    assert_eq!(percentile(&v, 99.0), Some(99));
    assert_eq!(percentile(&[7], 99.0), Some(7));
    assert_eq!(percentile(&[], 50.0), None);
    assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
}

#[test]
fn window_stats_count_errors_and_time_outs_as_slow() {
    let s = series(10, 1, |i| match i {
        0 => (None, 2000),
        1 => (Some(503), 5),
        2 => (Some(500), 7),
        3 => (Some(404), 3),
        _ => (Some(200), 10 + i as i32),
    });
    let w = WindowStats::of(&s);
    assert_eq!((w.total, w.ok, w.errors, w.unavailable), (10, 6, 3, 1));
    // The timed-out probe counts with the 2000 ms it waited: timing out is not fast.
    assert_eq!(w.p99_ms, Some(2000));
    assert_eq!(w.p50_ms, Some(15));
    assert!((w.error_pct() - 30.0).abs() < 1e-9);
}

#[test]
fn a_healthy_series_fires_nothing_and_is_up() {
    let s = series(300, 1, |_| (Some(200), 20));
    let f = facts(EndpointKind::Readiness, &s);
    assert!(rules(&f).is_empty());
    assert_eq!(endpoint_state(&f, &[], t0()), HealthState::Up);
}

#[test]
fn readiness_503_rate_fires_just_above_half_a_percent() {
    // 1 of 200 = 0.5 %: not above the threshold.
    let s = series(200, 1, |i| (Some(if i == 50 { 503 } else { 200 }), 20));
    assert!(!rules(&facts(EndpointKind::Readiness, &s)).contains(&Rule::Readiness503Rate));
    // 2 of 200 = 1 %.
    let s = series(200, 1, |i| {
        (Some(if i == 50 || i == 60 { 503 } else { 200 }), 20)
    });
    let f = facts(EndpointKind::Readiness, &s);
    let fired = firing(&f, &Thresholds::default(), t0());
    let r = fired
        .iter()
        .find(|x| x.rule == Rule::Readiness503Rate)
        .expect("503 rule fires");
    assert!((r.value - 1.0).abs() < 1e-9);
    assert_eq!(r.rule.severity(), Severity::P1);
    // The same series on /health is no readiness alert.
    assert!(!rules(&facts(EndpointKind::Health, &s)).contains(&Rule::Readiness503Rate));
}

#[test]
fn error_rate_fires_above_two_percent_and_counts_timeouts() {
    // 2 of 100 = 2 %: not above.
    let s = series(
        100,
        3,
        |i| if i < 2 { (None, 2000) } else { (Some(200), 10) },
    );
    assert!(!rules(&facts(EndpointKind::Health, &s)).contains(&Rule::ErrorRate));
    let s = series(100, 3, |i| {
        if i < 2 {
            (None, 2000)
        } else if i == 2 {
            (Some(502), 10)
        } else {
            (Some(200), 10)
        }
    });
    assert!(rules(&facts(EndpointKind::Health, &s)).contains(&Rule::ErrorRate));
}

#[test]
fn latency_p95_fires_above_500_ms() {
    // 5 % slow: p95 is still fast.
    let s = series(100, 3, |i| (Some(200), if i < 5 { 900 } else { 40 }));
    assert!(!rules(&facts(EndpointKind::Health, &s)).contains(&Rule::LatencyP95));
    let s = series(100, 3, |i| (Some(200), if i < 6 { 900 } else { 40 }));
    let f = facts(EndpointKind::Health, &s);
    assert!(rules(&f).contains(&Rule::LatencyP95));
    // A slow but answering endpoint is degraded, not down.
    let fired = firing(&f, &Thresholds::default(), t0());
    assert_eq!(endpoint_state(&f, &fired, t0()), HealthState::Degraded);
}

#[test]
fn no_success_for_ten_minutes_is_p2() {
    let mut f = facts(EndpointKind::Health, &series(5, 1, |_| (None, 2000)));
    f.last_ok_at = Some(t0() - Duration::minutes(9));
    assert!(!rules(&f).contains(&Rule::NoSuccess));
    f.last_ok_at = Some(t0() - Duration::minutes(11));
    let fired = firing(&f, &Thresholds::default(), t0());
    let r = fired.iter().find(|x| x.rule == Rule::NoSuccess).unwrap();
    assert_eq!(r.rule.severity(), Severity::P2);
    assert!((r.value - 11.0).abs() < 1e-9);
    // A new endpoint gets its ten minutes from when probing started.
    f.last_ok_at = None;
    f.watched_since = t0() - Duration::minutes(3);
    assert!(!rules(&f).contains(&Rule::NoSuccess));
}

#[test]
fn thresholds_are_configurable() {
    let s = series(100, 3, |i| (Some(200), if i < 10 { 300 } else { 40 }));
    let f = facts(EndpointKind::Health, &s);
    let strict = Thresholds {
        latency_p95_ms: 250,
        ..Thresholds::default()
    };
    assert!(firing(&f, &strict, t0())
        .iter()
        .any(|x| x.rule == Rule::LatencyP95));
    assert!(!rules(&f).contains(&Rule::LatencyP95));
    assert!(Thresholds::default().check().is_ok());
    assert!(Thresholds {
        error_rate_pct: 101.0,
        ..Thresholds::default()
    }
    .check()
    .is_err());
    assert!(Thresholds {
        window_seconds: 5,
        ..Thresholds::default()
    }
    .check()
    .is_err());
}

#[test]
fn states_follow_failures_in_a_row() {
    let up_then = |tail: usize| {
        series(20, 1, |i| {
            if i >= 20 - tail {
                (Some(503), 5)
            } else {
                (Some(200), 5)
            }
        })
    };
    let f = facts(EndpointKind::Readiness, &up_then(1));
    assert_eq!(f.consecutive_failures, 1);
    let fired = firing(&f, &Thresholds::default(), t0());
    assert_eq!(endpoint_state(&f, &fired, t0()), HealthState::Degraded);
    let f = facts(EndpointKind::Readiness, &up_then(2));
    assert_eq!(endpoint_state(&f, &[], t0()), HealthState::Down);
    // Never answered well, one failure: down.
    let f = facts(EndpointKind::Health, &series(1, 1, |_| (None, 2000)));
    assert_eq!(endpoint_state(&f, &[], t0()), HealthState::Down);
}

#[test]
fn no_results_or_stale_results_are_unknown() {
    let mut f = facts(EndpointKind::Health, &[]);
    assert_eq!(endpoint_state(&f, &[], t0()), HealthState::Unknown);
    f.last_checked_at = Some(t0() - Duration::seconds(61));
    assert_eq!(endpoint_state(&f, &[], t0()), HealthState::Unknown);
    f.last_checked_at = Some(t0() - Duration::seconds(59));
    assert_eq!(endpoint_state(&f, &[], t0()), HealthState::Up);
}

#[test]
fn combined_state_is_the_worst_and_unknown_is_not_up() {
    use HealthState::*;
    assert_eq!(HealthState::combine([Up, Up]), Up);
    assert_eq!(HealthState::combine([Up, Down]), Down);
    assert_eq!(HealthState::combine([Degraded, Up]), Degraded);
    assert_eq!(HealthState::combine([Unknown, Unknown]), Unknown);
    assert_eq!(HealthState::combine([Up, Unknown]), Degraded);
    assert_eq!(HealthState::combine([]), Unknown);
    let c = component_states([
        (Component::Api, Up),
        (Component::Database, Down),
        (Component::Api, Degraded),
    ]);
    assert_eq!(
        c,
        vec![(Component::Api, Degraded), (Component::Database, Down)]
    );
}

#[test]
fn retries_back_off_and_stop() {
    assert_eq!(retry_delay_ms(1, 1000), Some(1000));
    assert_eq!(retry_delay_ms(2, 1000), Some(2000));
    assert_eq!(retry_delay_ms(5, 1000), Some(16000));
    assert_eq!(retry_delay_ms(DELIVERY_ATTEMPTS, 1000), None);
}

#[test]
fn rollback_is_suggested_only_in_go_live() {
    use super::super::release::Phase;
    assert!(rollback_suggested(Phase::GoLive, true));
    assert!(!rollback_suggested(Phase::GoLive, false));
    assert!(!rollback_suggested(Phase::GoNoGo, true));
}

fn spec() -> EnvironmentSpec {
    EnvironmentSpec {
        name: "staging".into(),
        base_url: "https://staging.example.com".into(),
        health_path: "/health".into(),
        readiness_path: "/readiness".into(),
        interval_seconds: 15,
        timeout_ms: 2000,
        expected_status: 200,
        body_contains: None,
        json_pointer: None,
        json_equals: None,
        headers: vec![],
        health_component: None,
        readiness_component: None,
        enabled: true,
    }
}

#[test]
fn environment_settings_are_checked() {
    assert!(spec().check().is_ok());
    let field = |s: EnvironmentSpec| s.check().unwrap_err().field;
    assert_eq!(
        field(EnvironmentSpec {
            base_url: "ftp://x".into(),
            ..spec()
        }),
        "base_url"
    );
    assert_eq!(
        field(EnvironmentSpec {
            base_url: "https://".into(),
            ..spec()
        }),
        "base_url"
    );
    assert_eq!(
        field(EnvironmentSpec {
            interval_seconds: 0,
            ..spec()
        }),
        "interval_seconds"
    );
    assert_eq!(
        field(EnvironmentSpec {
            interval_seconds: 1,
            ..spec()
        }),
        "timeout_ms"
    );
    assert_eq!(
        field(EnvironmentSpec {
            base_url: "https://ops:hunter2@staging.example.com".into(),
            ..spec()
        }),
        "base_url"
    );
    assert!(EnvironmentSpec {
        interval_seconds: 1,
        timeout_ms: 1000,
        ..spec()
    }
    .check()
    .is_ok());
    assert_eq!(
        field(EnvironmentSpec {
            health_path: "health".into(),
            ..spec()
        }),
        "health_path"
    );
    assert_eq!(
        field(EnvironmentSpec {
            json_pointer: Some("/status".into()),
            ..spec()
        }),
        "json_pointer"
    );
    assert_eq!(
        field(EnvironmentSpec {
            headers: vec![ProbeHeader {
                name: "X-Token".into(),
                value: Some("a\r\nInjected: yes".into()),
                secret: true
            }],
            ..spec()
        }),
        "headers"
    );
    assert_eq!(
        field(EnvironmentSpec {
            name: " ".into(),
            ..spec()
        }),
        "name"
    );
}

#[test]
fn the_health_item_passes_only_with_every_endpoint_up_and_no_p1() {
    use crate::domain::monitoring_model::{EndpointStatus, EnvironmentStatus};
    let endpoint = |kind, state| EndpointStatus {
        kind,
        url: "https://staging.example.com/health".into(),
        state,
        state_since: t0(),
        p50_ms: None,
        p95_ms: None,
        p99_ms: None,
        samples: 0,
        error_rate_pct: None,
        rate_503_pct: None,
        last_checked_at: None,
        last_ok_at: None,
        last_status: Some(503),
        last_error: Some("status 503, expected 200".into()),
        uptime_24h: None,
        uptime_7d: None,
        uptime_30d: None,
        sparkline: vec![],
        component: None,
    };
    let mut s = EnvironmentStatus {
        id: 1,
        name: "staging".into(),
        enabled: true,
        state: HealthState::Up,
        endpoints: vec![
            endpoint(EndpointKind::Health, HealthState::Up),
            endpoint(EndpointKind::Readiness, HealthState::Up),
        ],
        open_alerts: vec![],
    };
    assert!(s.health_item_failures().is_empty());
    s.endpoints[1].state = HealthState::Down;
    assert_eq!(
        s.health_item_failures(),
        vec!["staging /readiness is down (status 503, expected 200)"]
    );
    s.enabled = false;
    assert_eq!(s.health_item_failures().len(), 2);
}

/// Where probes may go, how much of an answer they quote, which secret headers move along.
mod targets {
    use super::*;

    fn spec(base_url: &str) -> EnvironmentSpec {
        EnvironmentSpec {
            base_url: base_url.into(),
            ..super::spec()
        }
    }

    #[test]
    fn metadata_addresses_are_refused_however_they_are_written() {
        let refuse = TargetPolicy::default();
        for url in [
            "http://169.254.169.254",
            "http://169.254.169.254:80/latest",
            "http://2852039166",
            "http://0xa9.0xfe.0xa9.0xfe",
            "http://0251.0376.0251.0376",
            "http://169.254.43518",
            "http://%31%36%39.254.169.254",
            "http://169.254.169.254.",
            "https://user@169.254.1.1",
            "http://[fe80::1]:8080",
            "http://[fe80::1%25eth0]",
            "http://[FE80::abcd]",
            "http://[fd00:ec2::254]",
            "http://[::ffff:169.254.169.254]",
            "http://[64:ff9b::a9fe:a9fe]",
            "http://100.100.100.200",
        ] {
            let p = spec(url).check_target(refuse).unwrap_err();
            assert_eq!(p.field, "base_url", "{url}");
        }
        for url in [
            "http://127.0.0.1:8080",
            "https://api.example.com",
            "http://10.0.0.5",
            "http://[::1]:3000",
            "http://169.255.0.1",
            "http://metadata.internal",
        ] {
            assert_eq!(spec(url).check_target(refuse), Ok(()), "{url}");
        }
        let allow = TargetPolicy {
            allow_link_local: true,
        };
        assert_eq!(spec("http://169.254.169.254").check_target(allow), Ok(()));
    }

    #[test]
    fn quotes_are_cut_on_a_character_boundary() {
        assert_eq!(quote_response("short"), "short");
        let long = "ä".repeat(500);
        let q = quote_response(&long);
        assert_eq!(q.chars().count(), QUOTE_MAX_CHARS + 1);
        assert!(q.ends_with('…'));
        assert_eq!(quote_response(&"x".repeat(200)), "x".repeat(200));
    }

    #[test]
    fn secrets_stay_with_their_host() {
        let stored = vec![
            ProbeHeader {
                name: "Authorization".into(),
                value: Some("Bearer s".into()),
                secret: true,
            },
            ProbeHeader {
                name: "X-Team".into(),
                value: Some("core".into()),
                secret: false,
            },
        ];
        let (same, dropped) = carry_headers(&stored, None, false);
        assert_eq!(same, stored);
        assert!(dropped.is_empty());
        let (moved, dropped) = carry_headers(&stored, None, true);
        assert_eq!(moved, vec![stored[1].clone()]);
        assert_eq!(dropped, vec!["Authorization".to_string()]);
        let blank = ProbeHeader {
            name: "authorization".into(),
            value: None,
            secret: true,
        };
        let (kept, dropped) = carry_headers(&stored, Some(vec![blank.clone()]), false);
        assert_eq!(kept[0].value.as_deref(), Some("Bearer s"));
        assert!(dropped.is_empty());
        let (kept, dropped) = carry_headers(&stored, Some(vec![blank]), true);
        assert!(kept.is_empty());
        assert_eq!(dropped, vec!["Authorization".to_string()]);
        let again = ProbeHeader {
            name: "Authorization".into(),
            value: Some("Bearer new".into()),
            secret: true,
        };
        let (kept, dropped) = carry_headers(&stored, Some(vec![again.clone()]), true);
        assert_eq!(kept, vec![again]);
        assert!(dropped.is_empty());
        assert!(spec("http://a.example:1").host_differs("http://b.example:1"));
        assert!(!spec("http://A.example:1/x").host_differs("https://a.example/y"));
    }
}
