//! What the log viewer shows: lines with their level, search hits, and highlighting.

use crate::domain::evidence::human_size;
use crate::i18n::Lang;
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

/// A gzip log is unpacked for the viewer to at most this many times its packed size. Real
/// logs pack 5–20×; deflate's ceiling is about 1000×, which only a crafted file (a "gzip
/// bomb") comes near.
pub const UNPACK_RATIO: u64 = 100;
/// However large the packed file, the viewer never unpacks more than this (decimal MB, as
/// `EVIDENCE_MAX_MB`): millions of lines, and beyond it a download serves better.
pub const MAX_UNPACKED_BYTES: u64 = 512_000_000;
/// A small gzip may always unpack to this much: harmless, and a few KB of very repetitive
/// lines do pack better than [`UNPACK_RATIO`].
pub const MIN_UNPACK_ALLOWANCE: u64 = 1_000_000;

/// How much text a gzip log of `packed` bytes may unpack to before unpacking stops.
pub fn unpack_limit(packed: u64) -> u64 {
    packed
        .saturating_mul(UNPACK_RATIO)
        .clamp(MIN_UNPACK_ALLOWANCE, MAX_UNPACKED_BYTES)
}

/// Why the viewer does not show a piece of evidence as text. A gzip log refused once is
/// remembered, so later views say the same at once instead of unpacking again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unviewable {
    /// Not text (an image, a binary, a gzip of something other than text).
    NotText,
    /// A gzip that is damaged or cut off.
    Damaged,
    /// A gzip whose text is larger than `limit` bytes ([`unpack_limit`]).
    TooLarge { limit: u64 },
}

impl Unviewable {
    /// What the log viewer says instead of lines.
    pub fn text(self, lang: Lang) -> String {
        match self {
            Unviewable::NotText => lang
                .pick(
                    "This file cannot be shown here; download it instead.",
                    "Diese Datei kann hier nicht angezeigt werden; bitte herunterladen.",
                )
                .to_string(),
            Unviewable::Damaged => lang
                .pick(
                    "This gzip file is damaged or incomplete, so it cannot be unpacked for viewing; download it instead.",
                    "Diese gzip-Datei ist beschädigt oder unvollständig und kann zum Ansehen nicht entpackt werden; bitte herunterladen.",
                )
                .to_string(),
            Unviewable::TooLarge { limit } => {
                let (limit, max) = (
                    human_size(limit.min(i64::MAX as u64) as i64),
                    human_size(MAX_UNPACKED_BYTES as i64),
                );
                match lang {
                    Lang::En => format!(
                        "This log unpacks to more than {limit}. The viewer unpacks a gzip log to at most {UNPACK_RATIO} times its packed size and never to more than {max}, so it was not unpacked; download it instead."
                    ),
                    Lang::De => format!(
                        "Dieses Log ergibt entpackt mehr als {limit}. Der Log-Viewer entpackt ein gzip-Log höchstens auf das {UNPACK_RATIO}-Fache seiner gepackten Größe und nie auf mehr als {max}; es wurde daher nicht entpackt. Bitte herunterladen."
                    ),
                }
            }
        }
    }
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
    fn gzip_logs_unpack_to_at_most_a_hundredfold_and_512_mb() {
        assert_eq!(unpack_limit(0), MIN_UNPACK_ALLOWANCE);
        assert_eq!(unpack_limit(5_000), MIN_UNPACK_ALLOWANCE);
        assert_eq!(unpack_limit(60_000), 6_000_000);
        assert_eq!(unpack_limit(4_000_000), 400_000_000);
        assert_eq!(unpack_limit(50_000_000), MAX_UNPACKED_BYTES);
        assert_eq!(unpack_limit(u64::MAX), MAX_UNPACKED_BYTES);
    }

    #[test]
    fn refusals_say_why_in_both_languages() {
        let big = Unviewable::TooLarge { limit: 6_000_000 };
        assert!(big.text(Lang::En).contains("more than 6.0 MB"));
        assert!(big.text(Lang::En).contains("512.0 MB"));
        assert!(big.text(Lang::De).contains("nicht entpackt"));
        assert_ne!(
            Unviewable::Damaged.text(Lang::De),
            Unviewable::Damaged.text(Lang::En)
        );
        // Remembered in storage as JSON, read back the same.
        let json = serde_json::to_string(&big).unwrap();
        assert_eq!(serde_json::from_str::<Unviewable>(&json).unwrap(), big);
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
