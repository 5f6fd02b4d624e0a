//! Session records remembered in memory in front of the Postgres session store, so a
//! signed-in page view does not start with a database round trip. Every save and delete
//! goes through to Postgres as well (see [`Sessions`]), so the database stays the
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

/// The session store: Postgres, with [`MemoryCache`] in front. Unlike an upsert store, a
/// save only ever updates a session that still exists: a renewal that races a sign-out (a
/// request in flight, or another replica) finds the row gone and leaves it gone, and
/// forgets the session here too. Only `create` (sign-in, a cycled id) makes a row.
#[derive(Clone, Debug)]
pub struct Sessions {
    cache: MemoryCache,
    db: tower_sessions_sqlx_store::PostgresStore,
    pool: sqlx::PgPool,
}

impl Sessions {
    pub fn new(pool: sqlx::PgPool) -> Self {
        Sessions {
            cache: MemoryCache::default(),
            db: tower_sessions_sqlx_store::PostgresStore::new(pool.clone()),
            pool,
        }
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.db.create(record).await?;
        self.cache.save(record).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = rmp_serde::to_vec(record).map_err(backend)?;
        let updated = sqlx::query!(
            "UPDATE tower_sessions.session SET data = $2, expiry_date = $3 WHERE id = $1",
            record.id.to_string(),
            data,
            record.expiry_date as _
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        if updated.rows_affected() == 0 {
            // Signed out meanwhile: stay signed out.
            return self.cache.delete(&record.id).await;
        }
        self.cache.save(record).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(r) = self.cache.load(id).await? {
            return Ok(Some(r));
        }
        let r = self.db.load(id).await?;
        if let Some(r) = &r {
            self.cache.save(r).await?;
        }
        Ok(r)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.db.delete(id).await?;
        self.cache.delete(id).await
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
