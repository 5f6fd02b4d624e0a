//! The log viewer's reading: a line index built once per log by streaming it, pages of
//! lines read by byte range from the nearest indexed line, and search by streaming. A 50 MB
//! log is never loaded whole, neither by the server nor by the page.

use super::storage::Storage;
use super::ServiceError;
use crate::domain::evidence::{Evidence, GZIP, TEXT_PLAIN};
use crate::domain::logs::{contains_folded, level_of, Level, LogHit, LogLine};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Every this many lines the index remembers where a line starts.
const STRIDE: u64 = 1000;
/// Lines longer than this are cut for display and search.
pub const MAX_LINE_CHARS: usize = 4000;
/// At most this many ERROR/WARN lines are remembered for jumping.
const MAX_MARKS: usize = 10_000;
/// Logs whose index is kept.
const MAX_INDEXES: usize = 64;

#[derive(Debug, Default)]
pub struct LineIndex {
    /// Byte offset of line `k * STRIDE`.
    checkpoints: Vec<u64>,
    pub total_lines: u64,
    /// Line numbers (0-based) of ERROR and WARN lines, in order.
    pub marks: Vec<(u64, Level)>,
}

#[derive(Debug, Default)]
pub struct LogIndexes {
    by_evidence: Mutex<HashMap<i64, Arc<LineIndex>>>,
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

/// The most text a gzip log is unpacked to.
const MAX_UNPACKED: u64 = 2_000_000_000;

/// The text the viewer can show for a piece of evidence, if any: plain text as stored, or a
/// gzip log's text (unpacked on first view, streaming, and kept).
pub async fn text_source(
    storage: &Storage,
    e: &Evidence,
    key: &str,
) -> Result<Option<Source>, ServiceError> {
    let source = |key: String, size| Source {
        evidence_id: e.id,
        key,
        size,
    };
    if e.content_type == TEXT_PLAIN {
        return Ok(Some(source(key.to_string(), e.size.max(0) as u64)));
    }
    if e.content_type != GZIP {
        return Ok(None);
    }
    let text_key = format!("unpacked/{key}.log");
    if let Ok(size) = storage.size_of(&text_key).await {
        return Ok(Some(source(text_key, size)));
    }
    let compressed = storage
        .get(key, None)
        .await
        .map_err(storage_err)?
        .into_stream();
    let stored = match storage
        .put_stream(&text_key, Box::pin(gunzip(compressed)), MAX_UNPACKED)
        .await
    {
        Ok(stored) => stored,
        // Not gzip after all, cut, or too large to show: a download only.
        Err(_) => return Ok(None),
    };
    if stored.sniffed.content_type != TEXT_PLAIN {
        let _ = storage.delete(&text_key).await;
        return Ok(None);
    }
    Ok(Some(source(text_key, stored.size)))
}

/// Unpacks a gzip byte stream as it arrives (several members, as `cat a.gz b.gz`, too).
fn gunzip(
    input: impl futures_util::Stream<Item = object_store::Result<bytes::Bytes>> + Send + Unpin + 'static,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, String>> + Send {
    use std::io::Write;
    struct State<S> {
        input: S,
        decoder: Option<flate2::write::MultiGzDecoder<Vec<u8>>>,
    }
    let start = State {
        input,
        decoder: Some(flate2::write::MultiGzDecoder::new(Vec::new())),
    };
    futures_util::stream::unfold(start, |mut st| async move {
        loop {
            let decoder = st.decoder.as_mut()?;
            match st.input.next().await {
                Some(Ok(chunk)) => {
                    if let Err(e) = decoder.write_all(&chunk) {
                        st.decoder = None;
                        return Some((Err(e.to_string()), st));
                    }
                    let out = std::mem::take(decoder.get_mut());
                    if !out.is_empty() {
                        return Some((Ok(bytes::Bytes::from(out)), st));
                    }
                }
                Some(Err(e)) => {
                    st.decoder = None;
                    return Some((Err(e.to_string()), st));
                }
                None => {
                    let mut decoder = st.decoder.take()?;
                    let item = match decoder.try_finish() {
                        Err(e) => Err(e.to_string()),
                        Ok(()) => Ok(bytes::Bytes::from(std::mem::take(decoder.get_mut()))),
                    };
                    return match item {
                        Ok(b) if b.is_empty() => None,
                        item => Some((item, st)),
                    };
                }
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
    /// The line index of a log, built on first use.
    pub async fn index(
        &self,
        storage: &Storage,
        src: &Source,
    ) -> Result<Arc<LineIndex>, ServiceError> {
        if let Some(ix) = self
            .by_evidence
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&src.evidence_id)
        {
            return Ok(ix.clone());
        }
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
        let ix = Arc::new(ix);
        let mut all = self.by_evidence.lock().unwrap_or_else(|p| p.into_inner());
        if all.len() >= MAX_INDEXES {
            all.clear();
        }
        all.insert(src.evidence_id, ix.clone());
        Ok(ix)
    }
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
