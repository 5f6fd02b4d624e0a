//! Evidence: what a file attached to a release is, decided from its bytes, and the name it
//! is shown under. Pure code, shared by browser and server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a piece of evidence proves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachedTo {
    Release,
    Item,
    StagingGate,
    PostRelease,
}

impl AttachedTo {
    pub fn as_str(self) -> &'static str {
        match self {
            AttachedTo::Release => "release",
            AttachedTo::Item => "item",
            AttachedTo::StagingGate => "staging_gate",
            AttachedTo::PostRelease => "post_release",
        }
    }

    pub fn parse(s: &str) -> Option<AttachedTo> {
        [
            AttachedTo::Release,
            AttachedTo::Item,
            AttachedTo::StagingGate,
            AttachedTo::PostRelease,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// Whether evidence can be attached to (or retracted from) `to` in a release's `phase`: a
/// closed release keeps its checklist and staging-gate proof as it was; its release-level
/// evidence and post-release documentation stay open.
pub fn evidence_open(phase: crate::domain::release::Phase, to: AttachedTo) -> bool {
    !(phase.is_final() && matches!(to, AttachedTo::Item | AttachedTo::StagingGate))
}

/// How Shipgate shows a file: a picture in the gallery, a log in the viewer, or a download.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Image,
    Log,
    File,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Log => "log",
            Kind::File => "file",
        }
    }

    pub fn parse(s: &str) -> Kind {
        match s {
            "image" => Kind::Image,
            "log" => Kind::Log,
            _ => Kind::File,
        }
    }
}

/// The type decided from a file's first bytes. The type a client claims is recorded but
/// never trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: &'static str,
    pub kind: Kind,
}

/// How many leading bytes [`sniff`] wants to see.
pub const SNIFF_LEN: usize = 8192;

pub const OCTET_STREAM: &str = "application/octet-stream";
pub const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
pub const GZIP: &str = "application/gzip";

/// Decides a file's type from its first bytes (up to [`SNIFF_LEN`]); `complete` says
/// whether `head` is the whole file.
pub fn sniff(head: &[u8], complete: bool) -> Sniffed {
    let image = |content_type| Sniffed {
        content_type,
        kind: Kind::Image,
    };
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return image("image/png");
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return image("image/jpeg");
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return image("image/gif");
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return image("image/webp");
    }
    if head.starts_with(&[0x1F, 0x8B]) {
        return Sniffed {
            content_type: GZIP,
            kind: Kind::Log,
        };
    }
    if !head.is_empty() && is_text(head, complete) && !looks_like_markup(head) {
        return Sniffed {
            content_type: TEXT_PLAIN,
            kind: Kind::Log,
        };
    }
    Sniffed {
        content_type: OCTET_STREAM,
        kind: Kind::File,
    }
}

/// UTF-8 without NUL or other binary control bytes; a multi-byte character cut off at the
/// end of an incomplete head does not count against it.
fn is_text(head: &[u8], complete: bool) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    };
    valid
        && !head
            .iter()
            .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B))
}

/// HTML and SVG are never shown inline, whatever they are called: a page of script
/// served from Shipgate's origin would run with the viewer's session.
fn looks_like_markup(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(1024)]).to_ascii_lowercase();
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.starts_with('<')
        && [
            "<html",
            "<!doctype",
            "<svg",
            "<script",
            "<?xml",
            "<body",
            "<head",
            "<iframe",
        ]
        .iter()
        .any(|m| t.contains(m))
}

/// A client's file name as recorded: NUL cannot be stored, length is bounded.
pub fn recorded_name(raw: &str) -> String {
    raw.chars().filter(|c| *c != '\0').take(1000).collect()
}

/// The longest file name kept, in bytes.
pub const MAX_FILENAME_BYTES: usize = 255;

/// A file name as it will be shown and offered for download: the last path component,
/// without control or bidirectional-override characters, without leading dots, and at most
/// [`MAX_FILENAME_BYTES`] bytes long with the extension kept. Storage never uses it.
pub fn sanitize_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let trimmed = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .trim();
    let name = if trimmed.is_empty() {
        "evidence".to_string()
    } else {
        trimmed.to_string()
    };
    if name.len() <= MAX_FILENAME_BYTES {
        return name;
    }
    // Keep a short extension, cut the stem on a character boundary.
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.len() <= 16)
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let budget = MAX_FILENAME_BYTES - ext.len();
    let mut stem = String::new();
    for c in name[..name.len() - ext.len()].chars() {
        if stem.len() + c.len_utf8() > budget {
            break;
        }
        stem.push(c);
    }
    format!("{stem}{ext}")
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One attached file, as the release page and the API show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub id: i64,
    pub release_id: i64,
    pub attached_to: AttachedTo,
    pub item_key: Option<String>,
    /// The name shown and offered for download ([`sanitize_filename`]).
    pub filename: String,
    /// The name as the client sent it, for the record (NUL removed, at most 1000 chars).
    pub original_name: String,
    pub size: i64,
    pub content_type: String,
    pub kind: Kind,
    pub sha256: String,
    pub uploaded_by: Option<String>,
    pub uploaded_at: DateTime<Utc>,
    pub retracted_at: Option<DateTime<Utc>>,
    pub retracted_by: Option<String>,
    pub retract_reason: Option<String>,
}

impl Evidence {
    pub fn is_retracted(&self) -> bool {
        self.retracted_at.is_some()
    }

    /// Whether a browser may show it in place; anything else is only downloaded.
    pub fn inline(&self) -> bool {
        self.kind == Kind::Image || self.content_type == TEXT_PLAIN
    }
}

/// "1.2 MB", "340 kB", "12 B".
pub fn human_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b >= 1_000_000_000.0 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1_000_000.0 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1_000.0 {
        format!("{:.0} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_bytes() {
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n....", false).content_type,
            "image/png"
        );
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0], false).content_type,
            "image/jpeg"
        );
        assert_eq!(sniff(b"GIF89a..", false).content_type, "image/gif");
        assert_eq!(
            sniff(b"RIFF\0\0\0\0WEBPVP8 ", false).content_type,
            "image/webp"
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n", true).kind, Kind::Image);
    }

    #[test]
    fn text_is_a_log_and_markup_or_binary_is_a_download() {
        let log = sniff(b"2026-11-28 INFO started\n2026-11-28 ERROR boom\n", true);
        assert_eq!((log.content_type, log.kind), (TEXT_PLAIN, Kind::Log));
        assert_eq!(sniff(&[0x1F, 0x8B, 8, 0], true).kind, Kind::Log);
        for markup in [
            &b"<!DOCTYPE html><html><script>alert(1)</script>"[..],
            b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
            b"\xef\xbb\xbf<?xml version='1.0'?><svg/>",
        ] {
            assert_eq!(sniff(markup, true).content_type, OCTET_STREAM);
        }
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\0\0\0", true).kind, Kind::File);
        assert_eq!(sniff(b"", true).kind, Kind::File);
        // A UTF-8 character cut at the end of the sniffed head is still text...
        assert_eq!(
            sniff("ok ü".as_bytes().split_at(4).0, false).kind,
            Kind::Log
        );
        // ...but not when that is the whole file.
        assert_eq!(
            sniff("ok ü".as_bytes().split_at(4).0, true).kind,
            Kind::File
        );
    }

    #[test]
    fn names_are_made_harmless() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(sanitize_filename("a\0b.log"), "ab.log");
        assert_eq!(
            sanitize_filename("invoice\u{202E}gpj.exe"),
            "invoicegpj.exe"
        );
        assert_eq!(sanitize_filename(".."), "evidence");
        assert_eq!(sanitize_filename(""), "evidence");
        assert_eq!(sanitize_filename(".bashrc"), "bashrc");
        let long = format!("{}.png", "ä".repeat(2048));
        let s = sanitize_filename(&long);
        assert!(s.len() <= MAX_FILENAME_BYTES, "{}", s.len());
        assert!(s.ends_with(".png"));
        assert_eq!(
            sanitize_filename("Screenshot 2026-11-28.png"),
            "Screenshot 2026-11-28.png"
        );
    }

    #[test]
    fn closed_releases_keep_their_checklist_evidence() {
        use crate::domain::release::Phase;
        for to in [AttachedTo::Item, AttachedTo::StagingGate] {
            assert!(evidence_open(Phase::GoNoGo, to));
            for p in [Phase::Done, Phase::NoGo, Phase::RolledBack] {
                assert!(!evidence_open(p, to));
            }
        }
        for to in [AttachedTo::Release, AttachedTo::PostRelease] {
            assert!(evidence_open(Phase::Done, to));
        }
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(340_000), "340 kB");
        assert_eq!(human_size(1_200_000), "1.2 MB");
    }
}
