//! The release page's data, remembered per release while nothing has changed. Every change
//! to a release writes its audit row in the same transaction, so the release's revision and
//! its newest audit row id name its state exactly: one small indexed query tells whether
//! what is remembered is still true, and only a change pays for reading it all again.
//! Nothing here depends on who looks or when; the caller judges gates against its own clock.

use super::release_store::{rollback_marks, snapshot, Snapshot};
use super::{audit, ServiceError};
use crate::domain::release_model::AuditLine;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many audit rows the page shows.
pub const AUDIT_ROWS: i64 = 50;
/// More releases than this and the memory starts afresh.
const MAX_RELEASES: usize = 1_000;

pub struct ReleaseView {
    pub snapshot: Snapshot,
    /// The hash sign-offs are bound to, computed once per state.
    pub content_hash: String,
    pub audit: Vec<AuditLine>,
    /// Marked "rollback suggested" (the mark writes an audit row, so it is part of the
    /// version).
    pub rollback: Option<crate::domain::monitoring_model::RollbackMark>,
    version: Version,
}

/// What names a release's state: its revision and its newest audit row.
pub type Version = (i32, i64);

/// The release's current [`Version`]; `NotFound` when there is no such release.
pub async fn version(pool: &PgPool, id: i64) -> Result<Version, ServiceError> {
    let v = sqlx::query!(
        r#"SELECT r.revision,
                  (SELECT max(a.id) FROM audit_log a WHERE a.release_id = r.id) AS "last_audit"
           FROM releases r WHERE r.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(ServiceError::NotFound)?;
    Ok((v.revision, v.last_audit.unwrap_or(0)))
}

#[derive(Default)]
pub struct ReleaseViews {
    entries: Mutex<HashMap<i64, Arc<ReleaseView>>>,
}

impl std::fmt::Debug for ReleaseViews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReleaseViews")
    }
}

impl ReleaseViews {
    /// A release as the page shows it; `NotFound` when there is no such release.
    pub async fn get(&self, pool: &PgPool, id: i64) -> Result<Arc<ReleaseView>, ServiceError> {
        let version = version(pool, id).await?;
        if let Some(hit) = self.lock().get(&id).filter(|e| e.version == version) {
            return Ok(hit.clone());
        }
        // Read after the version: a change landing in between is stored under the older
        // version, which the next request no longer matches, so it is read again.
        let mut conn = pool.acquire().await?;
        let snapshot = snapshot(&mut conn, id).await?;
        drop(conn);
        let view = Arc::new(ReleaseView {
            content_hash: snapshot.content_hash(),
            audit: audit::for_release(pool, id, AUDIT_ROWS)
                .await?
                .iter()
                .map(AuditLine::from)
                .collect(),
            rollback: rollback_marks(pool, &[id]).await?.remove(&id),
            snapshot,
            version,
        });
        let mut entries = self.lock();
        if entries.len() >= MAX_RELEASES {
            entries.clear();
        }
        entries.insert(id, view.clone());
        Ok(view)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<ReleaseView>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Rendered release pages, per reader: the same person asking again for a release that has
/// not changed gets the page rendered a moment ago. Keyed by release, [`Version`], user,
/// session epoch and language, so any change to the release, or to who is asking, renders
/// afresh; the time limit bounds how old the clock-dependent parts (countdown, precondition
/// freshness) can be.
#[derive(Default)]
pub struct RenderedPages {
    entries: Mutex<HashMap<PageKey, (std::time::Instant, Arc<RenderedPage>)>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub release_id: i64,
    pub version: Version,
    pub user_id: i64,
    pub lang: &'static str,
}

/// A rendered page: its headers and body.
pub struct RenderedPage {
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: bytes::Bytes,
}

/// How long a rendered page is served again.
pub const RENDERED_TTL: std::time::Duration = std::time::Duration::from_secs(2);
const MAX_PAGES: usize = 256;

impl std::fmt::Debug for RenderedPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RenderedPages")
    }
}

impl RenderedPages {
    pub fn get(&self, key: &PageKey) -> Option<Arc<RenderedPage>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < RENDERED_TTL)
            .map(|(_, page)| page.clone())
    }

    pub fn put(&self, key: PageKey, page: RenderedPage) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_PAGES {
            entries.retain(|_, (at, _)| at.elapsed() < RENDERED_TTL);
            if entries.len() >= MAX_PAGES {
                entries.clear();
            }
        }
        entries.insert(key, (std::time::Instant::now(), Arc::new(page)));
    }
}
