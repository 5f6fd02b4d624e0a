//! Attaching evidence: files stream into storage one by one (each described and checked as
//! it lands), then all of them are recorded together or not at all. Whatever is not
//! recorded does not stay in storage.

use super::{record_all, NewEvidence, Place};
use crate::domain::evidence::{recorded_name, sanitize_filename, Evidence};
use crate::services::storage::{Storage, UploadError};
use crate::services::{Actor, ServiceError};
use futures_util::Stream;
use sqlx::PgPool;

/// Why attaching failed. Nothing of it stays in storage either way.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// The bytes did not arrive whole, were too many, or the storage refused them.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// A rule refused the file, or recording it failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// The files of one attach request, stored but not yet recorded. The storage's size limit
/// holds for the batch as a whole.
pub struct Batch<'a> {
    storage: &'a Storage,
    stored: Vec<NewEvidence>,
}

impl<'a> Batch<'a> {
    pub fn new(storage: &'a Storage) -> Self {
        Batch {
            storage,
            stored: Vec::new(),
        }
    }

    /// Streams one file into storage (at most what the batch has left of the limit) and
    /// describes it; nothing is recorded yet. A failed or empty file leaves no object.
    pub async fn store<S, E>(
        &mut self,
        place: &Place,
        filename: &str,
        claimed: Option<String>,
        body: S,
    ) -> Result<(), AttachError>
    where
        S: Stream<Item = Result<bytes::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let used: u64 = self.stored.iter().map(|n| n.size as u64).sum();
        let budget = self.storage.max_bytes.saturating_sub(used);
        let key = Storage::new_key(place.release_id);
        let stored = self.storage.put_stream(&key, body, budget).await?;
        let new = NewEvidence {
            place: place.clone(),
            storage_key: stored.key.clone(),
            filename: sanitize_filename(filename),
            original_name: recorded_name(filename),
            size: stored.size as i64,
            content_type: stored.sniffed.content_type.to_string(),
            kind: stored.sniffed.kind,
            claimed_type: claimed.map(|c| c.chars().take(200).collect()),
            sha256: stored.sha256,
        };
        if stored.size == 0 {
            discard(self.storage, std::slice::from_ref(&new)).await;
            return Err(ServiceError::invalid(
                "file",
                "The file is empty; an empty file proves nothing.",
                "Die Datei ist leer; eine leere Datei belegt nichts.",
            )
            .into());
        }
        self.stored.push(new);
        Ok(())
    }

    /// Removes everything stored so far: the request failed before recording.
    pub async fn discard(self) {
        discard(self.storage, &self.stored).await;
    }

    /// Records everything stored in one transaction; if that fails, the objects go. A
    /// batch without a single file is refused.
    pub async fn record(self, pool: &PgPool, actor: &Actor) -> Result<Vec<Evidence>, ServiceError> {
        if self.stored.is_empty() {
            return Err(ServiceError::invalid(
                "file",
                "Choose at least one file.",
                "Bitte mindestens eine Datei auswählen.",
            ));
        }
        record(pool, self.storage, actor, self.stored).await
    }
}

/// Removes stored objects that will not be recorded.
pub async fn discard(storage: &Storage, stored: &[NewEvidence]) {
    for n in stored {
        if let Err(e) = storage.delete(&n.storage_key).await {
            tracing::error!(error = %e, key = %n.storage_key, "could not remove an unrecorded upload");
        }
    }
}

/// Records stored objects in one transaction (see [`record_all`]); if that fails, the
/// objects are removed from storage.
pub async fn record(
    pool: &PgPool,
    storage: &Storage,
    actor: &Actor,
    stored: Vec<NewEvidence>,
) -> Result<Vec<Evidence>, ServiceError> {
    match record_all(pool, actor, stored.clone()).await {
        Ok(list) => Ok(list),
        Err(err) => {
            discard(storage, &stored).await;
            Err(err)
        }
    }
}
