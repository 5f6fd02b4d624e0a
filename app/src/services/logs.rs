//! The log viewer's reading: a line index built once per log by streaming it, pages of
//! lines read by byte range from the nearest indexed line, and search by streaming. A 50 MB
//! log is never loaded whole, neither by the server nor by the page.

use super::storage::Storage;
use super::ServiceError;
use crate::domain::evidence::{Evidence, TEXT_PLAIN};
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

/// Whether the viewer can show a piece of evidence.
pub fn viewable(e: &Evidence) -> bool {
    e.content_type == TEXT_PLAIN
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
        e: &Evidence,
        key: &str,
    ) -> Result<Arc<LineIndex>, ServiceError> {
        if let Some(ix) = self
            .by_evidence
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&e.id)
        {
            return Ok(ix.clone());
        }
        let mut ix = LineIndex::default();
        for_each_line(storage, key, 0, e.size as u64, |n, line, start| {
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
        all.insert(e.id, ix.clone());
        Ok(ix)
    }
}

/// `count` lines from line `from` (0-based).
pub async fn lines(
    storage: &Storage,
    ix: &LineIndex,
    e: &Evidence,
    key: &str,
    from: u64,
    count: u64,
) -> Result<Vec<LogLine>, ServiceError> {
    let checkpoint = (from / STRIDE) as usize;
    let Some(&offset) = ix.checkpoints.get(checkpoint) else {
        return Ok(Vec::new());
    };
    let first = checkpoint as u64 * STRIDE;
    let mut out = Vec::new();
    for_each_line(storage, key, offset, e.size as u64, |n, line, _| {
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
    e: &Evidence,
    key: &str,
    needle: &str,
    limit: usize,
) -> Result<(Vec<LogHit>, bool), ServiceError> {
    let mut hits = Vec::new();
    let mut more = false;
    if needle.is_empty() {
        return Ok((hits, more));
    }
    for_each_line(storage, key, 0, e.size as u64, |n, line, _| {
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
