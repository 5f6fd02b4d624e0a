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

    /// Starts a sign-in attempt: `Err(wait)` while the account or the address is locked
    /// out, otherwise the attempt is counted *before* the password is checked, so a burst
    /// of parallel guesses cannot all slip through. A successful attempt is taken back by
    /// [`LoginThrottle::record_success`].
    pub fn begin_attempt(
        &self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Duration> {
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
        if let Some(wait) = by_account.max(by_address) {
            return Err(wait);
        }
        f.by_account
            .entry(account.to_string())
            .or_default()
            .push(now);
        if let Some(a) = address {
            f.by_address.entry(a).or_default().push(now);
        }
        // Keep the maps from growing without bound under a spray of usernames.
        if f.by_account.len() > 10_000 {
            f.by_account
                .retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < window));
            f.by_address
                .retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < window));
        }
        Ok(())
    }

    /// The attempt succeeded: the account starts afresh and the address gets its attempt back.
    pub fn record_success(&self, account: &str, address: Option<IpAddr>) {
        let mut f = self.failures.lock().expect("throttle lock");
        f.by_account.remove(account);
        if let Some(entries) = address.and_then(|a| f.by_address.get_mut(&a)) {
            entries.pop();
        }
    }
}

/// The throttle key for first-admin registration from one client address. Registration
/// checks no password of an existing account, so it is keyed by where it comes from: each
/// address gets the per-account allowance, and its attempts count against the address as
/// sign-ins do. The key holds no `@`, so it never shares a count with an account.
pub fn registration_key(address: Option<IpAddr>) -> String {
    match address {
        Some(a) => format!("register from {a}"),
        None => "register".to_string(),
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
            assert_eq!(t.begin_attempt("a@x.org", None, now), Ok(()), "attempt {i}");
        }
        let wait = t.begin_attempt("a@x.org", None, now).unwrap_err();
        assert_eq!(wait, Duration::from_secs(60));
        assert_eq!(t.begin_attempt("b@x.org", None, now), Ok(()));
        let later = now + Duration::from_secs(61);
        assert_eq!(t.begin_attempt("a@x.org", None, later), Ok(()));
    }

    #[test]
    fn locks_an_address_spraying_many_accounts() {
        let t = LoginThrottle::new(policy());
        let now = Instant::now();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..5 {
            assert_eq!(
                t.begin_attempt(&format!("u{i}@x.org"), Some(ip), now),
                Ok(())
            );
        }
        assert!(t.begin_attempt("fresh@x.org", Some(ip), now).is_err());
        assert_eq!(t.begin_attempt("fresh@x.org", None, now), Ok(()));
    }

    #[test]
    fn registration_is_counted_per_address_apart_from_accounts() {
        let t = LoginThrottle::new(policy());
        let now = Instant::now();
        let a: IpAddr = "10.0.0.3".parse().unwrap();
        let b: IpAddr = "10.0.0.4".parse().unwrap();
        let key = registration_key(Some(a));
        for _ in 0..3 {
            assert_eq!(t.begin_attempt(&key, Some(a), now), Ok(()));
        }
        assert!(t.begin_attempt(&key, Some(a), now).is_err());
        assert_eq!(
            t.begin_attempt(&registration_key(Some(b)), Some(b), now),
            Ok(())
        );
        assert_ne!(registration_key(Some(a)), registration_key(Some(b)));
        assert!(!registration_key(Some(a)).contains('@'));
    }

    #[test]
    fn success_clears_the_account() {
        let t = LoginThrottle::new(policy());
        let now = Instant::now();
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..2 {
            assert_eq!(t.begin_attempt("a@x.org", Some(ip), now), Ok(()));
        }
        t.record_success("a@x.org", Some(ip));
        // The account starts afresh: three more attempts before it locks.
        for _ in 0..3 {
            assert_eq!(t.begin_attempt("a@x.org", Some(ip), now), Ok(()));
        }
        assert!(t.begin_attempt("a@x.org", Some(ip), now).is_err());
    }
}
