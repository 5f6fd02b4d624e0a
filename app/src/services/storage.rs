//! Where evidence bytes live: a local folder or an S3-compatible bucket, through
//! `object_store`. Uploads stream through in parts while being hashed; nothing is ever held
//! whole in memory, and an upload that fails or is too large leaves no object behind.

use crate::domain::evidence::{sniff, Sniffed, SNIFF_LEN};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, GetResult, ObjectStore, PutPayload, WriteMultipart};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// Parts are cut at 5 MiB for S3 (its smallest part) and at 1 MiB for a local folder, and
/// at most two are in flight: an upload holds at most three parts, whatever its size.
const S3_PART_BYTES: usize = 5 * 1024 * 1024;
const LOCAL_PART_BYTES: usize = 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 2;
/// Received chunks (up to a few hundred KB each) waiting for the hashing thread: enough
/// to keep it busy, few enough to bound the memory an upload holds.
const HASH_QUEUE: usize = 8;

/// Uploads one person may stream at once. Each holds up to three parts in memory, a hashing
/// thread and a storage connection; past this a person (or a leaked token) only piles up
/// work, so the next one is refused at once (429) rather than queued.
pub const UPLOADS_PER_USER: usize = 4;

/// Where evidence files are kept (`FILE_STORAGE_MODE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageSettings {
    /// `local`: a folder (`FILE_STORAGE_DIR`, default `data/evidence`).
    Local { dir: std::path::PathBuf },
    /// `s3`: a bucket on AWS or an S3-compatible server (`S3_ENDPOINT_URL`).
    S3 {
        region: String,
        access_key_id: String,
        secret_access_key: String,
        bucket: String,
        endpoint: Option<String>,
    },
}

#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    part_bytes: usize,
    /// The largest upload accepted, in bytes.
    pub max_bytes: u64,
    /// "local /var/lib/shipgate/evidence" or "s3 bucket-name", for logs.
    pub label: String,
    /// Uploads in flight per user.
    uploads: Arc<Mutex<HashMap<i64, usize>>>,
}

/// One of a person's [`UPLOADS_PER_USER`] upload slots; given back when dropped.
#[derive(Debug)]
pub struct UploadSlot {
    uploads: Arc<Mutex<HashMap<i64, usize>>>,
    user_id: i64,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut all = self.uploads.lock().unwrap_or_else(|p| p.into_inner());
        let left = match all.get_mut(&self.user_id) {
            Some(n) => {
                *n = n.saturating_sub(1);
                *n
            }
            None => return,
        };
        if left == 0 {
            all.remove(&self.user_id);
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: u64 },
    #[error("the upload was cut off: {0}")]
    Body(String),
    #[error("storage: {0}")]
    Store(#[from] object_store::Error),
}

/// What was stored: the generated key, the bytes' hash and size, and their type.
#[derive(Clone, Debug)]
pub struct Stored {
    pub key: String,
    pub sha256: String,
    pub size: u64,
    pub sniffed: Sniffed,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Storage({})", self.label)
    }
}

impl Storage {
    pub fn from_settings(settings: &StorageSettings, max_bytes: u64) -> Result<Storage, String> {
        let (store, label, part_bytes): (Arc<dyn ObjectStore>, String, usize) = match settings {
            StorageSettings::Local { dir } => {
                let problem =
                    |e: &dyn std::fmt::Display| format!("FILE_STORAGE_DIR {}: {e}", dir.display());
                std::fs::create_dir_all(dir).map_err(|e| problem(&e))?;
                (
                    Arc::new(LocalFileSystem::new_with_prefix(dir).map_err(|e| problem(&e))?),
                    format!("local {}", dir.display()),
                    LOCAL_PART_BYTES,
                )
            }
            StorageSettings::S3 {
                region,
                access_key_id,
                secret_access_key,
                bucket,
                endpoint,
            } => {
                let mut b = AmazonS3Builder::new()
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key)
                    .with_bucket_name(bucket);
                if let Some(endpoint) = endpoint {
                    b = b
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                let s3 = b.build().map_err(|e| format!("S3 storage: {e}"))?;
                (Arc::new(s3), format!("s3 {bucket}"), S3_PART_BYTES)
            }
        };
        Ok(Storage {
            store,
            part_bytes,
            max_bytes,
            label,
            uploads: Arc::default(),
        })
    }

    /// A slot for one more upload by `user_id`, or `None` when they already have
    /// [`UPLOADS_PER_USER`] streaming.
    pub fn upload_slot(&self, user_id: i64) -> Option<UploadSlot> {
        let mut all = self.uploads.lock().unwrap_or_else(|p| p.into_inner());
        let n = all.entry(user_id).or_insert(0);
        if *n >= UPLOADS_PER_USER {
            return None;
        }
        *n += 1;
        Some(UploadSlot {
            uploads: self.uploads.clone(),
            user_id,
        })
    }

    /// A fresh key for a release's upload; never derived from anything a client sent.
    pub fn new_key(release_id: i64) -> String {
        let mut raw = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut raw);
        format!("evidence/{release_id}/{}", hex::encode(raw))
    }

    /// Streams `body` into a new object at `key`, hashing it on the way; larger than
    /// `limit` is refused (uploads pass at most [`Storage::max_bytes`]). Too large, cut
    /// off, or refused by the store: the partial upload is aborted and nothing remains.
    pub async fn put_stream<S, E>(
        &self,
        key: &str,
        mut body: S,
        limit: u64,
    ) -> Result<Stored, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let path = Path::from(key);
        let upload = self.store.put_multipart(&path).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_bytes);
        // Hashing runs on its own thread beside receiving and writing: on a small machine
        // it is the largest single cost of an upload, and the two overlap.
        let (to_hasher, mut chunks) = tokio::sync::mpsc::channel::<Bytes>(HASH_QUEUE);
        let hashing = tokio::task::spawn_blocking(move || {
            let mut hasher = Sha256::new();
            while let Some(chunk) = chunks.blocking_recv() {
                hasher.update(&chunk);
            }
            hex::encode(hasher.finalize())
        });
        let mut size = 0u64;
        let mut head: Vec<u8> = Vec::with_capacity(SNIFF_LEN);
        let failure = loop {
            let chunk = match body.next().await {
                None => break None,
                Some(Ok(c)) => c,
                Some(Err(e)) => break Some(UploadError::Body(e.to_string())),
            };
            size += chunk.len() as u64;
            if size > limit {
                break Some(UploadError::TooLarge {
                    max: self.max_bytes,
                });
            }
            if head.len() < SNIFF_LEN {
                let take = (SNIFF_LEN - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            if to_hasher.send(chunk.clone()).await.is_err() {
                break Some(UploadError::Body("the hashing thread stopped".into()));
            }
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                break Some(e.into());
            }
            writer.put(chunk);
        };
        // Parts still in flight must land before completing: `finish` would return a
        // failed part's error without aborting the upload.
        let failure = match failure {
            None => writer
                .wait_for_capacity(0)
                .await
                .err()
                .map(UploadError::from),
            some => some,
        };
        drop(to_hasher);
        if let Some(e) = failure {
            let _ = writer.abort().await;
            return Err(e);
        }
        let sha256 = match hashing.await {
            Ok(hash) => hash,
            Err(e) => {
                let _ = writer.abort().await;
                return Err(UploadError::Body(format!("hashing failed: {e}")));
            }
        };
        writer.finish().await?;
        Ok(Stored {
            key: key.to_string(),
            sha256,
            size,
            sniffed: sniff(&head, size as usize <= head.len()),
        })
    }

    /// The object's bytes, or a range of them (end exclusive), as a stream.
    pub async fn get(
        &self,
        key: &str,
        range: Option<Range<u64>>,
    ) -> object_store::Result<GetResult> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        self.store.get_opts(&Path::from(key), options).await
    }

    /// An object's size.
    pub async fn size_of(&self, key: &str) -> object_store::Result<u64> {
        Ok(self.store.head(&Path::from(key)).await?.size)
    }

    /// A small object whole (thumbnails, images to make thumbnails of).
    pub async fn read(&self, key: &str) -> object_store::Result<Bytes> {
        self.store.get(&Path::from(key)).await?.bytes().await
    }

    pub async fn put_small(&self, key: &str, bytes: Vec<u8>) -> object_store::Result<()> {
        self.store
            .put(&Path::from(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
    }

    /// Removes an object; used only to undo an upload whose metadata could not be saved.
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        self.store.delete(&Path::from(key)).await
    }

    /// Reads an object through and returns its sha256 and size.
    pub async fn rehash(&self, key: &str) -> object_store::Result<(String, u64)> {
        let mut stream = self.store.get(&Path::from(key)).await?.into_stream();
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((hex::encode(hasher.finalize()), size))
    }

    /// Every key under a prefix (tests use it to prove nothing was left behind).
    pub async fn keys(&self, prefix: &str) -> object_store::Result<Vec<String>> {
        let prefix = Path::from(prefix);
        let mut list = self.store.list(Some(&prefix));
        let mut keys = Vec::new();
        while let Some(meta) = list.next().await {
            keys.push(meta?.location.to_string());
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_has_a_few_upload_slots_and_gets_them_back() {
        let dir =
            std::env::temp_dir().join(format!("shipgate-upload-slots-{}", std::process::id()));
        let storage = Storage::from_settings(&StorageSettings::Local { dir }, 1).unwrap();
        let mut held: Vec<UploadSlot> = (0..UPLOADS_PER_USER)
            .map(|_| storage.upload_slot(1).unwrap())
            .collect();
        assert!(storage.upload_slot(1).is_none());
        assert!(storage.upload_slot(2).is_some(), "others are not held up");
        held.pop();
        assert!(
            storage.upload_slot(1).is_some(),
            "a finished upload frees its slot"
        );
        drop(held);
        assert!(storage.uploads.lock().unwrap().is_empty());
    }
}
