//! Where probes may go, how much of an answer their errors quote, and which checklist
//! items they prove.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Which addresses probes may reach. Link-local addresses hold the cloud metadata
/// services (credentials, instance secrets), so they are refused unless an operator allows
/// them (`PROBE_ALLOW_LINK_LOCAL=true`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    pub allow_link_local: bool,
}

impl TargetPolicy {
    /// Whether a probe may connect to `ip`.
    pub fn allows(self, ip: IpAddr) -> bool {
        self.allow_link_local || !is_link_local(ip)
    }
}

/// Link-local addresses and the cloud metadata services that live there or nearby:
/// 169.254.0.0/16 (AWS, GCP, Azure, OpenStack at 169.254.169.254), fe80::/10,
/// fd00:ec2::254 (AWS over IPv6) and 100.100.100.200 (Alibaba Cloud). An IPv4 address
/// written as IPv6 (`::ffff:a.b.c.d`, `64:ff9b::a.b.c.d`) counts as itself.
pub fn is_link_local(ip: IpAddr) -> bool {
    fn v4(ip: Ipv4Addr) -> bool {
        ip.is_link_local() || ip == Ipv4Addr::new(100, 100, 100, 200)
    }
    match ip {
        IpAddr::V4(ip) => v4(ip),
        IpAddr::V6(ip) => {
            let s = ip.segments();
            let nat64 = s[..6] == [0x64u16, 0xff9b, 0, 0, 0, 0];
            (s[0] & 0xffc0) == 0xfe80
                || ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || ip.to_ipv4().is_some_and(v4)
                || (nat64 && v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32)))
        }
    }
}

/// The host of an http(s) URL as written: lowercase, without user, port or brackets.
pub fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let scheme_end = url.find("://")?;
    let rest = &url[scheme_end + 3..];
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The address a URL host names literally, read the way the probe's HTTP client (and a
/// browser) reads it: `2852039166`, `0xa9.0xfe.0xa9.0xfe` and `169.254.43518` all name
/// 169.254.169.254. `None` for a name that DNS has to answer.
pub fn literal_ip(host: &str) -> Option<IpAddr> {
    let host = percent_decoded(host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // A zone (`fe80::1%eth0`) does not make a link-local address any less so.
    let unzoned = host.split('%').next().unwrap_or_default();
    if let Ok(ip) = unzoned.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(ip));
    }
    whatwg_ipv4(host).map(IpAddr::V4)
}

fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied(),
            bytes.get(i + 2).copied(),
        ) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The URL standard's IPv4 parser: one to four dot-separated numbers, each decimal, octal
/// (leading 0) or hex (0x), the last filling the bytes that remain.
fn whatwg_ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let numbers = parts
        .iter()
        .map(|p| {
            let hex = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X"));
            let octal = p.strip_prefix('0').filter(|o| !o.is_empty());
            let (digits, radix) = match (hex, octal) {
                (Some(h), _) => (h, 16),
                (None, Some(o)) => (o, 8),
                (None, None) => (*p, 10),
            };
            if p.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            if digits.is_empty() {
                return Some(0);
            }
            u64::from_str_radix(digits, radix).ok()
        })
        .collect::<Option<Vec<u64>>>()?;
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|n| *n > 255) || *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let ip = init
        .iter()
        .enumerate()
        .fold(*last, |ip, (i, n)| ip + (*n << (8 * (3 - i))));
    Some(Ipv4Addr::from(ip as u32))
}

/// Errors quote at most this many characters of what a probed target answered: an error
/// is shown to every viewer and sealed into dossiers, a target's body is neither's business.
pub const QUOTE_MAX_CHARS: usize = 200;

/// A probe error is stored with at most this many characters, whatever produced it.
pub const ERROR_MAX_CHARS: usize = 600;

/// `text` as an error may quote it: at most [`QUOTE_MAX_CHARS`] characters, cut on a
/// character boundary, "…" marking the cut.
pub fn quote_response(text: &str) -> String {
    clip_chars(text, QUOTE_MAX_CHARS)
}

/// At most `max` characters of `text`, cut on a character boundary, "…" marking the cut.
pub fn clip_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// Checklist items whose proof the probes provide: the staging gate's "Health checks
/// /health + /readiness = 200". They pass from a probe snapshot, never by hand.
pub const PROBED_ITEMS: [&str; 1] = ["staging_health"];

pub fn is_probed_item(key: &str) -> bool {
    PROBED_ITEMS.contains(&key)
}
