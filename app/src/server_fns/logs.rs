//! Server functions for the log viewer: a page of an attached log, and searching it.

use super::Refusal;
use crate::domain::evidence::Evidence;
use crate::domain::logs::{Level, LogHit, LogLine, Unviewable};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr;

/// Lines shown per page of the log viewer.
pub const LOG_PAGE_LINES: u64 = 500;
/// Search hits shown at most.
pub const LOG_MAX_HITS: usize = 200;

/// One page of the log viewer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LogPage {
    pub evidence: Evidence,
    /// Why the log is not shown, if it is not (and then there are no lines).
    pub unviewable: Option<Unviewable>,
    pub total_lines: u64,
    pub from: u64,
    pub lines: Vec<LogLine>,
    /// ERROR and WARN lines (the first few thousand), for jumping.
    pub marks: Vec<(u64, Level)>,
    pub query: String,
    pub hits: Vec<LogHit>,
    pub more_hits: bool,
}

#[server]
pub async fn load_log_page(
    release_id: i64,
    evidence_id: i64,
    from: u64,
    query: String,
) -> Result<LogPage, Refusal> {
    use crate::services::{evidence, logs};
    ssr::current_user()?;
    let state = ssr::state();
    let (e, key) = evidence::locate(&state.pool, Some(release_id), evidence_id).await?;
    let query: String = query.trim().chars().take(200).collect();
    let source = state
        .log_indexes
        .text_source(&state.storage, &e, &key)
        .await?;
    let source = match source {
        Ok(source) => source,
        Err(why) => {
            return Ok(LogPage {
                evidence: e,
                unviewable: Some(why),
                total_lines: 0,
                from: 0,
                lines: Vec::new(),
                marks: Vec::new(),
                query,
                hits: Vec::new(),
                more_hits: false,
            })
        }
    };
    let ix = state.log_indexes.index(&state.storage, &source).await?;
    let from = from.min(ix.total_lines.saturating_sub(1));
    let lines = logs::lines(&state.storage, &ix, &source, from, LOG_PAGE_LINES).await?;
    let (hits, more_hits) = if query.is_empty() {
        (Vec::new(), false)
    } else {
        logs::search(&state.storage, &source, &query, LOG_MAX_HITS).await?
    };
    Ok(LogPage {
        evidence: e,
        unviewable: None,
        total_lines: ix.total_lines,
        from,
        lines,
        marks: ix.marks.iter().take(5000).copied().collect(),
        query,
        hits,
        more_hits,
    })
}
