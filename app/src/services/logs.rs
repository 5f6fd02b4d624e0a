//! The log viewer's reading: a line index built once per log by streaming it, pages of
//! lines read by byte range from the nearest indexed line, and search by streaming. A 50 MB
//! log is never loaded whole, neither by the server nor by the page. A gzip log is unpacked
//! into storage once, up to [`unpack_limit`]; one that cannot be shown stays refused.

use super::storage::{Storage, UploadError};
use super::ServiceError;
use crate::domain::evidence::{sniff, Evidence, GZIP, SNIFF_LEN, TEXT_PLAIN};
use crate::domain::logs::{
    contains_folded, level_of, unpack_limit, Level, LogHit, LogLine, Unviewable,
};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use tokio::sync::{Mutex as AsyncMutex, OnceCell, Semaphore};

/// Every this many lines the index remembers where a line starts.
const STRIDE: u64 = 1000;
/// Lines longer than this are cut for display and search.
pub const MAX_LINE_CHARS: usize = 4000;
/// At most this many ERROR/WARN lines are remembered for jumping.
const MAX_MARKS: usize = 10_000;
/// Logs whose index is kept.
const MAX_INDEXES: usize = 64;
/// Gzip logs unpacked at once across the server: unpacking is CPU-bound, and each one
/// writes to storage.
static UNPACKERS: Semaphore = Semaphore::const_new(2);
/// Packed bytes handed to the decoder at a time. Deflate unpacks at most about 1000×, so a
/// step yields at most about 4 MB before the size cap is checked again.
const FEED_BYTES: usize = 4096;

#[derive(Debug, Default)]
pub struct LineIndex {
    /// Byte offset of line `k * STRIDE`.
    checkpoints: Vec<u64>,
    pub total_lines: u64,
    /// Line numbers (0-based) of ERROR and WARN lines, in order.
    pub marks: Vec<(u64, Level)>,
}

/// The viewer's work per log, each done once however many people look at the same time:
/// line indexes (concurrent viewers wait for the one being built) and gzip unpacking (one
/// per stored object at a time; the result, or why there is none, is kept in storage).
#[derive(Debug, Default)]
pub struct LogIndexes {
    by_evidence: Mutex<HashMap<i64, Arc<OnceCell<Arc<LineIndex>>>>>,
    /// A lock per gzip log being unpacked, by object key; gone once nobody holds or awaits it.
    unpacking: Mutex<HashMap<String, Weak<AsyncMutex<()>>>>,
}

fn storage_err(e: object_store::Error) -> ServiceError {
    ServiceError::Internal(format!("evidence storage: {e}"))
}

/// Where the viewer reads a log's text: the stored object, or for a gzip log its text,
/// unpacked once into storage beside it.
#[derive(Clone, Debug)]
pub struct Source {
    pub evidence_id: i64,
    pub key: String,
    pub size: u64,
}

impl LogIndexes {
    /// The text the viewer can show for a piece of evidence, or why there is none: plain
    /// text as stored, or a gzip log's text, unpacked on first view (streaming, at most
    /// [`unpack_limit`] of its packed size) and kept. Viewers arriving while it is being
    /// unpacked wait for that one unpack; a refused gzip is remembered beside it, so later
    /// views get the same answer without unpacking again. `Err` is a storage failure only.
    pub async fn text_source(
        &self,
        storage: &Storage,
        e: &Evidence,
        key: &str,
    ) -> Result<Result<Source, Unviewable>, ServiceError> {
        let source = |key: String, size| Source {
            evidence_id: e.id,
            key,
            size,
        };
        if e.content_type == TEXT_PLAIN {
            return Ok(Ok(source(key.to_string(), e.size.max(0) as u64)));
        }
        if e.content_type != GZIP {
            return Ok(Err(Unviewable::NotText));
        }
        let text_key = format!("unpacked/{key}.log");
        let refused_key = format!("unpacked/{key}.refused");
        if let Some(known) = unpacked_before(storage, &text_key, &refused_key).await {
            return Ok(known.map(|size| source(text_key, size)));
        }
        let held = self.unpack_lock(key).lock_owned().await;
        // Whoever held the lock before may just have done the work.
        if let Some(known) = unpacked_before(storage, &text_key, &refused_key).await {
            return Ok(known.map(|size| source(text_key, size)));
        }
        // Its own task, holding the lock: a viewer who leaves neither cuts the unpack short
        // (leaving a partial object) nor lets a second one start beside it.
        let job = Unpack {
            storage: storage.clone(),
            key: key.to_string(),
            packed: e.size.max(0) as u64,
            text_key: text_key.clone(),
            refused_key,
        };
        let outcome = tokio::spawn(async move {
            let _held = held;
            let Ok(_slot) = UNPACKERS.acquire().await else {
                return Err(ServiceError::Internal("gzip unpackers closed".into()));
            };
            job.run().await
        })
        .await
        .map_err(|err| ServiceError::Internal(format!("gzip unpack task: {err}")))??;
        Ok(outcome.map(|size| source(text_key, size)))
    }

    /// The lock for unpacking one object: the one others hold or await, else a new one.
    fn unpack_lock(&self, key: &str) -> Arc<AsyncMutex<()>> {
        let mut all = self.unpacking.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(lock) = all.get(key).and_then(|w| w.upgrade()) {
            return lock;
        }
        all.retain(|_, w| w.strong_count() > 0);
        let lock = Arc::new(AsyncMutex::new(()));
        all.insert(key.to_string(), Arc::downgrade(&lock));
        lock
    }
}

/// What an earlier unpack of a gzip log left: its text's size, or why it is not shown.
async fn unpacked_before(
    storage: &Storage,
    text_key: &str,
    refused_key: &str,
) -> Option<Result<u64, Unviewable>> {
    if let Ok(size) = storage.size_of(text_key).await {
        return Some(Ok(size));
    }
    let why = storage.read(refused_key).await.ok()?;
    serde_json::from_slice::<Unviewable>(&why).ok().map(Err)
}

/// One gzip log to unpack into storage.
struct Unpack {
    storage: Storage,
    key: String,
    packed: u64,
    text_key: String,
    refused_key: String,
}

impl Unpack {
    /// Unpacks into `text_key` and answers the text's size. Past the cap, damaged, or not
    /// text: the partial object is aborted (nothing stays at `text_key`) and the reason is
    /// written to `refused_key`. A storage failure is an error and is not remembered.
    async fn run(self) -> Result<Result<u64, Unviewable>, ServiceError> {
        let limit = unpack_limit(self.packed);
        let packed = self
            .storage
            .get(&self.key, None)
            .await
            .map_err(storage_err)?
            .into_stream();
        let stop = Arc::new(OnceLock::new());
        let text = Box::pin(gunzip(packed, stop.clone()));
        let why = match self.storage.put_stream(&self.text_key, text, limit).await {
            Ok(stored) if stored.sniffed.content_type == TEXT_PLAIN => return Ok(Ok(stored.size)),
            // `gunzip` already refuses what does not look like text; this is a safety net.
            Ok(_) => {
                if let Err(err) = self.storage.delete(&self.text_key).await {
                    tracing::warn!(
                        error = %err,
                        key = %self.text_key,
                        "unpacked non-text not removed"
                    );
                }
                Unviewable::NotText
            }
            Err(UploadError::TooLarge { .. }) => Unviewable::TooLarge { limit },
            Err(UploadError::Body(_)) => match stop.get() {
                Some(Stop::NotText) => Unviewable::NotText,
                Some(Stop::Damaged(detail)) => {
                    tracing::info!(key = %self.key, %detail, "gzip log damaged");
                    Unviewable::Damaged
                }
                Some(Stop::Read(why)) => {
                    return Err(ServiceError::Internal(format!(
                        "reading {} to unpack: {why}",
                        self.key
                    )))
                }
                None => return Err(ServiceError::Internal(format!("unpacking {}", self.key))),
            },
            Err(UploadError::Store(err)) => return Err(storage_err(err)),
        };
        tracing::info!(key = %self.key, ?why, "gzip log not unpacked for viewing");
        if let Ok(json) = serde_json::to_vec(&why) {
            if let Err(err) = self.storage.put_small(&self.refused_key, json).await {
                tracing::warn!(
                    error = %err,
                    key = %self.refused_key,
                    "refused gzip log not remembered"
                );
            }
        }
        Ok(Err(why))
    }
}

/// Why [`gunzip`] stopped before the end.
#[derive(Debug, thiserror::Error)]
enum Stop {
    #[error("the packed log cannot be read: {0}")]
    Read(String),
    #[error("not a complete gzip file: {0}")]
    Damaged(String),
    #[error("the packed file is not text")]
    NotText,
}

/// Unpacks a gzip byte stream as it arrives (several members, as `cat a.gz b.gz`, too), a
/// few KB of input at a time so no step yields much, and stops as soon as the text's first
/// bytes show it is not text. Why it stopped is left in `stop`.
fn gunzip(
    input: impl futures_util::Stream<Item = object_store::Result<bytes::Bytes>> + Send + Unpin + 'static,
    stop: Arc<OnceLock<Stop>>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, String>> + Send {
    use std::io::Write;
    struct State<S> {
        input: S,
        /// Received but not yet decoded.
        pending: bytes::Bytes,
        decoder: Option<flate2::write::MultiGzDecoder<Vec<u8>>>,
        /// The text's first bytes, until they have been judged.
        head: Option<Vec<u8>>,
        unpacked: u64,
        stop: Arc<OnceLock<Stop>>,
    }
    impl<S> State<S> {
        fn halt(mut self, why: Stop) -> Option<(Result<bytes::Bytes, String>, Self)> {
            self.decoder = None;
            let text = why.to_string();
            let _ = self.stop.set(why);
            Some((Err(text), self))
        }

        /// Adds to the head; false once it is known not to be text.
        fn judge(&mut self, out: &[u8], complete: bool) -> bool {
            let Some(head) = self.head.as_mut() else {
                return true;
            };
            let take = (SNIFF_LEN - head.len()).min(out.len());
            head.extend_from_slice(&out[..take]);
            if head.len() < SNIFF_LEN && !complete {
                return true;
            }
            let whole = complete && self.unpacked <= head.len() as u64;
            let text = sniff(&head[..], whole).content_type == TEXT_PLAIN;
            self.head = None;
            text
        }
    }
    let start = State {
        input,
        pending: bytes::Bytes::new(),
        decoder: Some(flate2::write::MultiGzDecoder::new(Vec::new())),
        head: Some(Vec::with_capacity(SNIFF_LEN)),
        unpacked: 0,
        stop,
    };
    futures_util::stream::unfold(start, |mut st| async move {
        loop {
            let decoder = st.decoder.as_mut()?;
            if st.pending.is_empty() {
                match st.input.next().await {
                    Some(Ok(chunk)) => {
                        st.pending = chunk;
                        continue;
                    }
                    Some(Err(e)) => return st.halt(Stop::Read(e.to_string())),
                    None => {
                        let mut decoder = st.decoder.take()?;
                        if let Err(e) = decoder.try_finish() {
                            return st.halt(Stop::Damaged(e.to_string()));
                        }
                        let out = std::mem::take(decoder.get_mut());
                        st.unpacked += out.len() as u64;
                        if !st.judge(&out, true) {
                            return st.halt(Stop::NotText);
                        }
                        return (!out.is_empty()).then(|| (Ok(bytes::Bytes::from(out)), st));
                    }
                }
            }
            let piece = st.pending.split_to(st.pending.len().min(FEED_BYTES));
            if let Err(e) = decoder.write_all(&piece) {
                return st.halt(Stop::Damaged(e.to_string()));
            }
            let out = std::mem::take(decoder.get_mut());
            st.unpacked += out.len() as u64;
            if !st.judge(&out, false) {
                return st.halt(Stop::NotText);
            }
            if !out.is_empty() {
                return Some((Ok(bytes::Bytes::from(out)), st));
            }
        }
    })
}

/// Splits a byte stream into lines (without the newline), calling `each` with the line
/// number and the first bytes of the line (at most 4 chars per allowed char, so cut lines
/// still decode) and the byte offset where the line starts. `each` returns false to stop.
async fn for_each_line(
    storage: &Storage,
    key: &str,
    start_offset: u64,
    size: u64,
    mut each: impl FnMut(u64, &[u8], u64) -> bool,
) -> Result<(), ServiceError> {
    if start_offset >= size {
        return Ok(());
    }
    let mut stream = storage
        .get(key, Some(start_offset..size))
        .await
        .map_err(storage_err)?
        .into_stream();
    let keep = MAX_LINE_CHARS * 4;
    let mut line: Vec<u8> = Vec::new();
    let mut line_start = start_offset;
    let mut offset = start_offset;
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(storage_err)?;
        let mut rest = &chunk[..];
        while let Some(pos) = rest.iter().position(|&b| b == b'\n') {
            let room = keep.saturating_sub(line.len());
            line.extend_from_slice(&rest[..pos.min(room)]);
            if !each(n, trim_cr(&line), line_start) {
                return Ok(());
            }
            n += 1;
            offset += pos as u64 + 1;
            line_start = offset;
            line.clear();
            rest = &rest[pos + 1..];
        }
        let room = keep.saturating_sub(line.len());
        line.extend_from_slice(&rest[..rest.len().min(room)]);
        offset += rest.len() as u64;
    }
    if line_start < size {
        each(n, trim_cr(&line), line_start);
    }
    Ok(())
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn text_of(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    match s.char_indices().nth(MAX_LINE_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.into_owned(),
    }
}

impl LogIndexes {
    /// The line index of a log, built on first use; viewers arriving while it is being
    /// built wait for that one build.
    pub async fn index(
        &self,
        storage: &Storage,
        src: &Source,
    ) -> Result<Arc<LineIndex>, ServiceError> {
        let cell = {
            let mut all = self.by_evidence.lock().unwrap_or_else(|p| p.into_inner());
            if !all.contains_key(&src.evidence_id) && all.len() >= MAX_INDEXES {
                // Finished indexes go; ones being built have viewers waiting for them.
                all.retain(|_, cell| !cell.initialized());
            }
            all.entry(src.evidence_id).or_default().clone()
        };
        let ix = cell.get_or_try_init(|| build_index(storage, src)).await?;
        Ok(ix.clone())
    }
}

async fn build_index(storage: &Storage, src: &Source) -> Result<Arc<LineIndex>, ServiceError> {
    let mut ix = LineIndex::default();
    for_each_line(storage, &src.key, 0, src.size, |n, line, start| {
        if n % STRIDE == 0 {
            ix.checkpoints.push(start);
        }
        ix.total_lines = n + 1;
        if ix.marks.len() < MAX_MARKS {
            if let Some(level) = level_of(line) {
                ix.marks.push((n, level));
            }
        }
        true
    })
    .await?;
    Ok(Arc::new(ix))
}

/// `count` lines from line `from` (0-based).
pub async fn lines(
    storage: &Storage,
    ix: &LineIndex,
    src: &Source,
    from: u64,
    count: u64,
) -> Result<Vec<LogLine>, ServiceError> {
    let checkpoint = (from / STRIDE) as usize;
    let Some(&offset) = ix.checkpoints.get(checkpoint) else {
        return Ok(Vec::new());
    };
    let first = checkpoint as u64 * STRIDE;
    let mut out = Vec::new();
    for_each_line(storage, &src.key, offset, src.size, |n, line, _| {
        let number = first + n;
        if number >= from {
            out.push(LogLine {
                number,
                text: text_of(line),
                level: level_of(line),
            });
        }
        (out.len() as u64) < count
    })
    .await?;
    Ok(out)
}

/// Lines containing `needle` (case-insensitive), at most `limit` of them; the flag says
/// whether there were more.
pub async fn search(
    storage: &Storage,
    src: &Source,
    needle: &str,
    limit: usize,
) -> Result<(Vec<LogHit>, bool), ServiceError> {
    let mut hits = Vec::new();
    let mut more = false;
    if needle.is_empty() {
        return Ok((hits, more));
    }
    for_each_line(storage, &src.key, 0, src.size, |n, line, _| {
        let text = String::from_utf8_lossy(line);
        if contains_folded(&text, needle) {
            if hits.len() == limit {
                more = true;
                return false;
            }
            hits.push(LogHit {
                number: n,
                text: text_of(line),
            });
        }
        true
    })
    .await?;
    Ok((hits, more))
}
