//! The release page's data, remembered per release while nothing has changed. Every change
//! to a release writes its audit row in the same transaction, so the release's revision and
//! its newest audit row id name its state exactly: one small indexed query tells whether
//! what is remembered is still true, and only a change pays for reading it all again.
//! Nothing here depends on who looks or when; the caller judges gates against its own clock.

use super::releases::{snapshot, Snapshot};
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
    version: (i32, i64),
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
        let v = sqlx::query!(
            r#"SELECT r.revision,
                      (SELECT max(a.id) FROM audit_log a WHERE a.release_id = r.id) AS "last_audit"
               FROM releases r WHERE r.id = $1"#,
            id
        )
        .fetch_optional(pool)
        .await?
        .ok_or(ServiceError::NotFound)?;
        let version = (v.revision, v.last_audit.unwrap_or(0));
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
