//! Login throttling, per account and per client address, kept in memory: a restart forgets
//! it, which is acceptable for a single Shipgate process.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    pub window: Duration,
    pub max_failures_per_account: usize,
    pub max_failures_per_address: usize,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            window: Duration::from_secs(15 * 60),
            max_failures_per_account: 5,
            max_failures_per_address: 20,
        }
    }
}

#[derive(Debug, Default)]
struct Failures {
    by_account: HashMap<String, Vec<Instant>>,
    by_address: HashMap<IpAddr, Vec<Instant>>,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    failures: Mutex<Failures>,
}

impl LoginThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        LoginThrottle {
            policy,
            failures: Mutex::default(),
        }
    }

    /// `Some(wait)` while the account or the address is locked out.
    pub fn check(&self, account: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let mut f = self.failures.lock().expect("throttle lock");
        let window = self.policy.window;
        let by_account = locked_for(
            f.by_account.get_mut(account),
            self.policy.max_failures_per_account,
            window,
            now,
        );
        let by_address = address.and_then(|a| {
            locked_for(
                f.by_address.get_mut(&a),
                self.policy.max_failures_per_address,
                window,
                now,
            )
        });
        by_account.max(by_address)
    }

    pub fn record_failure(&self, account: &str, address: Option<IpAddr>, now: Instant) {
        let mut f = self.failures.lock().expect("throttle lock");
        f.by_account
            .entry(account.to_string())
            .or_default()
            .push(now);
        if let Some(a) = address {
            f.by_address.entry(a).or_default().push(now);
        }
        // Keep the maps from growing without bound under a spray of usernames.
        if f.by_account.len() > 10_000 {
            let window = self.policy.window;
            f.by_account
                .retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < window));
        }
    }

    pub fn record_success(&self, account: &str) {
        self.failures
            .lock()
            .expect("throttle lock")
            .by_account
            .remove(account);
    }
}

fn locked_for(
    entries: Option<&mut Vec<Instant>>,
    max: usize,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    let entries = entries?;
    entries.retain(|t| now.duration_since(*t) < window);
    if entries.len() >= max {
        let oldest = entries[entries.len() - max];
        Some(window.saturating_sub(now.duration_since(oldest)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            window: Duration::from_secs(60),
            max_failures_per_account: 3,
            max_failures_per_address: 5,
        }
    }

    #[test]
    fn locks_an_account_after_max_failures_until_the_window_passes() {
        let t = LoginThrottle::new(policy());
        let now = Instant::now();
        for i in 0..3 {
            assert_eq!(t.check("a@x.org", None, now), None, "attempt {i}");
            t.record_failure("a@x.org", None, now);
        }
        assert!(t.check("a@x.org", None, now).is_some());
        assert_eq!(t.check("b@x.org", None, now), None);
        assert_eq!(
            t.check("a@x.org", None, now + Duration::from_secs(61)),
            None
        );
    }

    #[test]
    fn locks_an_address_spraying_many_accounts() {
        let t = LoginThrottle::new(policy());
        let now = Instant::now();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..5 {
            t.record_failure(&format!("u{i}@x.org"), Some(ip), now);
        }
        assert!(t.check("fresh@x.org", Some(ip), now).is_some());
        assert_eq!(t.check("fresh@x.org", None, now), None);
    }

    #[test]
    fn success_clears_the_account() {
        let t = LoginThrottle::new(policy());
        let now = Instant::now();
        t.record_failure("a@x.org", None, now);
        t.record_failure("a@x.org", None, now);
        t.record_success("a@x.org");
        t.record_failure("a@x.org", None, now);
        assert_eq!(t.check("a@x.org", None, now), None);
    }
}
