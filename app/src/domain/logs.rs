//! What the log viewer shows: lines with their level, search hits, and highlighting.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Error,
    Warn,
}

/// ERROR (also FATAL, CRITICAL, PANIC) or WARN (also WARNING) as a word in the line, in
/// upper case as loggers write levels.
pub fn level_of(line: &[u8]) -> Option<Level> {
    let words = line.split(|b| !b.is_ascii_alphanumeric());
    let mut warn = false;
    for w in words {
        match w {
            b"ERROR" | b"FATAL" | b"CRITICAL" | b"PANIC" | b"ERR" => return Some(Level::Error),
            b"WARN" | b"WARNING" => warn = true,
            _ => {}
        }
    }
    warn.then_some(Level::Warn)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// 0-based; shown 1-based.
    pub number: u64,
    pub text: String,
    pub level: Option<Level>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogHit {
    pub number: u64,
    pub text: String,
}

/// Whether `text` contains `needle`, ignoring ASCII case (as the search does).
pub fn contains_folded(text: &str, needle: &str) -> bool {
    text.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

/// Cuts `text` into (piece, is_match) runs for highlighting `needle`, ignoring ASCII case.
/// ASCII folding keeps every byte where it is, so the runs never cut a character.
pub fn highlight(text: &str, needle: &str) -> Vec<(String, bool)> {
    if needle.is_empty() {
        return vec![(text.to_string(), false)];
    }
    let lower = text.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(&needle) {
        let start = at + i;
        let end = start + needle.len();
        if start > at {
            out.push((text[at..start].to_string(), false));
        }
        out.push((text[start..end].to_string(), true));
        at = end;
    }
    if at < text.len() || out.is_empty() {
        out.push((text[at..].to_string(), false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_words() {
        assert_eq!(level_of(b"2026-11-28 ERROR db down"), Some(Level::Error));
        assert_eq!(level_of(b"[WARN] slow"), Some(Level::Warn));
        assert_eq!(level_of(b"WARNING: x ERROR: y"), Some(Level::Error));
        assert_eq!(level_of(b"no errors here, TERROR"), None);
        assert_eq!(level_of(b"warn in lower case is prose"), None);
    }

    #[test]
    fn highlights_every_match() {
        assert_eq!(
            highlight("Timeout, then timeout", "TIMEOUT"),
            vec![
                ("Timeout".to_string(), true),
                (", then ".to_string(), false),
                ("timeout".to_string(), true)
            ]
        );
        assert_eq!(highlight("abc", "x"), vec![("abc".to_string(), false)]);
        assert_eq!(highlight("", "x"), vec![(String::new(), false)]);
        // Characters whose lower case is longer never cut a character in two.
        assert_eq!(
            highlight("İΩ ω", "ω"),
            vec![("İΩ ".to_string(), false), ("ω".to_string(), true)]
        );
        assert!(contains_folded("Upstream TIMEOUT", "timeout"));
    }
}
