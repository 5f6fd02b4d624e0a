//! A short-lived memory of who a bearer token or a session's user is, so that a busy CI
//! pipeline or a team watching a release page does not ask the database the same question
//! on every request.
//!
//! Correctness does not rest on the time limit: every change that could make an answer
//! wrong (roles, disabling, a password change, revoking a token) calls [`invalidate`], which
//! drops every remembered answer in this process at once. The time limit only bounds how
//! long a change made outside this process (another instance, hand-written SQL) takes to
//! be seen.

use crate::domain::account::UserInfo;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bumped by every change to accounts or tokens, in any database this process talks to.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Forgets every remembered answer, in every cache of this process.
pub fn invalidate() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Read before asking the database; an answer is remembered under the generation it was
/// asked in, so a change that lands while the question is in flight is never masked.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

/// How long an answer is trusted without a change being announced.
pub const TTL: Duration = Duration::from_secs(10);
/// More entries than this and the cache starts afresh: it is a cache, not a store.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug)]
struct Entry<V> {
    value: V,
    generation: u64,
    at: Instant,
}

#[derive(Debug)]
pub struct Cache<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
}

impl<K: Eq + Hash, V: Clone> Default for Cache<K, V> {
    fn default() -> Self {
        Cache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let e = entries.get(key)?;
        (e.generation == generation() && e.at.elapsed() < TTL).then(|| e.value.clone())
    }

    /// Remembers `value`, looked up while `asked_in` was the generation.
    pub fn put(&self, key: K, value: V, asked_in: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                value,
                generation: asked_in,
                at: Instant::now(),
            },
        );
    }
}

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    /// Replaces a remembered value without making it any younger.
    pub fn update(&self, key: &K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = entries.get_mut(key) {
            e.value = value;
        }
    }
}

/// A token's owner, and when the token was last marked as used.
#[derive(Clone, Debug)]
pub struct TokenOwner {
    pub token_id: i64,
    pub user: UserInfo,
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The caches one running Shipgate keeps.
#[derive(Debug, Default)]
pub struct AuthCache {
    /// sha256 of the token secret → its owner.
    pub tokens: Cache<Vec<u8>, TokenOwner>,
    /// (user id, session epoch) → the active user.
    pub sessions: Cache<(i64, i32), UserInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_until_invalidated() {
        let c: Cache<i64, String> = Cache::default();
        c.put(1, "a".into(), generation());
        assert_eq!(c.get(&1).as_deref(), Some("a"));
        invalidate();
        assert_eq!(c.get(&1), None);
    }

    #[test]
    fn an_answer_asked_before_a_change_is_not_trusted() {
        let c: Cache<i64, String> = Cache::default();
        let asked = generation();
        invalidate(); // the change lands while the question is in flight
        c.put(1, "stale".into(), asked);
        assert_eq!(c.get(&1), None);
    }
}
