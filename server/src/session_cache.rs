//! Session records remembered in memory in front of the Postgres session store, so a
//! signed-in page view does not start with a database round trip. Every save and delete
//! goes through to Postgres as well (see `CachingSessionStore`), so the database stays the
//! truth; the memory is bounded, expired records are never served from it, and a record is
//! re-read from Postgres after [`app::services::auth_cache::TTL`], so a sign-out through
//! another process is seen within that time.

use app::services::auth_cache::TTL;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// More records than this and the memory starts afresh; the next requests reload theirs.
const MAX_RECORDS: usize = 10_000;

#[derive(Clone, Debug, Default)]
pub struct MemoryCache {
    records: Arc<Mutex<HashMap<Id, (Record, Instant)>>>,
}

impl MemoryCache {
    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<Id, (Record, Instant)>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl SessionStore for MemoryCache {
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let mut records = self.records();
        if records.len() >= MAX_RECORDS && !records.contains_key(&record.id) {
            records.clear();
        }
        records.insert(record.id, (record.clone(), Instant::now()));
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut records = self.records();
        match records.get(id) {
            Some((r, at))
                if r.expiry_date > time::OffsetDateTime::now_utc() && at.elapsed() < TTL =>
            {
                Ok(Some(r.clone()))
            }
            Some(_) => {
                records.remove(id);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.records().remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_in: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[tokio::test]
    async fn serves_live_records_and_forgets_expired_and_deleted_ones() {
        let cache = MemoryCache::default();
        let live = record(time::Duration::minutes(5));
        let expired = record(time::Duration::seconds(-1));
        cache.save(&live).await.unwrap();
        cache.save(&expired).await.unwrap();
        assert!(cache.load(&live.id).await.unwrap().is_some());
        assert!(cache.load(&expired.id).await.unwrap().is_none());
        cache.delete(&live.id).await.unwrap();
        assert!(cache.load(&live.id).await.unwrap().is_none());
    }
}
