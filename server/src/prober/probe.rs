//! One probe: the HTTP request (capped, timed, never following redirects) and whether its
//! answer passes.

use super::guard::{refused_in, refused_literal};
use app::domain::monitoring::{quote_response, TargetPolicy};
use app::services::probes::{DueProbe, ProbeResult};
use chrono::Utc;
use std::time::{Duration, Instant};

/// A probe reads at most this much of a body: a target that streams forever cannot hold
/// a probe past its timeout or fill memory.
pub const BODY_CAP: usize = 64 * 1024;

/// Probes one endpoint. Whatever happens — refused, hanging, trickling, endless, a
/// redirect, bad TLS — the result is back within the endpoint's timeout. An address
/// `targets` refuses is not asked at all.
pub async fn probe(client: &reqwest::Client, due: &DueProbe, targets: TargetPolicy) -> ProbeResult {
    let started_at = Utc::now();
    let clock = Instant::now();
    let timeout = Duration::from_millis(due.timeout_ms.max(1) as u64);
    let answer = match refused_literal(&due.url, targets) {
        Some(why) => Ok(Err((None, why))),
        None => tokio::time::timeout(timeout, fetch(client, due)).await,
    };
    let latency_ms = clock.elapsed().as_millis().min(i32::MAX as u128) as i32;
    let (status, verdict) = match answer {
        Err(_) => (
            None,
            Err(format!("no complete answer within {} ms", due.timeout_ms)),
        ),
        Ok(Err(e)) => (e.0, Err(e.1)),
        Ok(Ok((status, body, truncated))) => {
            (Some(status as i32), judge(due, status, &body, truncated))
        }
    };
    ProbeResult {
        endpoint_id: due.endpoint_id,
        scheduled_at: due.scheduled_at,
        started_at,
        ok: verdict.is_ok(),
        status,
        latency_ms,
        error: verdict.err(),
    }
}

type Fetched = Result<(u16, Vec<u8>, bool), (Option<i32>, String)>;

async fn fetch(client: &reqwest::Client, due: &DueProbe) -> Fetched {
    let mut req = client.get(&due.url);
    for (name, value) in &due.headers {
        req = req.header(name.as_str(), value.as_str());
    }
    let mut resp = req
        .send()
        .await
        .map_err(|e| (None, refused_in(&e).unwrap_or_else(|| describe(&e))))?;
    let status = resp.status();
    if status.is_redirection() {
        let to = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(no location)")
            .to_string();
        return Err((
            Some(status.as_u16() as i32),
            format!(
                "redirect ({}) to {}; redirects are not followed",
                status.as_u16(),
                quote_response(&to)
            ),
        ));
    }
    let mut body = Vec::new();
    let mut truncated = false;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = BODY_CAP - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err((Some(status.as_u16() as i32), describe(&e))),
        }
    }
    Ok((status.as_u16(), body, truncated))
}

/// The error and its causes on one line ("error sending request: … : invalid peer certificate").
pub(super) fn describe(e: &dyn std::error::Error) -> String {
    let mut chain: Vec<String> = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !chain.iter().any(|c| c.contains(&text)) {
            chain.push(text);
        }
        cur = err.source();
    }
    chain.join(": ").chars().take(500).collect()
}

/// Whether an answer passes: the expected status, then the body assertions.
fn judge(due: &DueProbe, status: u16, body: &[u8], truncated: bool) -> Result<(), String> {
    if status as i32 != due.expected_status {
        return Err(format!("status {status}, expected {}", due.expected_status));
    }
    if due.body_contains.is_none() && due.json_pointer.is_none() {
        return Ok(());
    }
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        // A cap can cut a character in half; that is not the target's fault.
        Err(e) if truncated && e.error_len().is_none() => {
            std::str::from_utf8(&body[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return Err("the body is not valid UTF-8".into()),
    };
    if let Some(needle) = &due.body_contains {
        if !text.contains(needle.as_str()) {
            return Err(format!("the body does not contain “{needle}”"));
        }
    }
    if let (Some(pointer), Some(expected)) = (&due.json_pointer, &due.json_equals) {
        if truncated {
            return Err(format!(
                "the body is larger than {BODY_CAP} bytes; cannot check its JSON"
            ));
        }
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("the body is not JSON: {e}"))?;
        // The empty pointer is the whole document: quote it, never copy it.
        let at = if pointer.is_empty() {
            "document"
        } else {
            pointer.as_str()
        };
        match doc.pointer(pointer) {
            Some(v) if v == expected => {}
            Some(v) => {
                return Err(format!(
                    "JSON {at} is {}, expected {expected}",
                    quote_response(&v.to_string())
                ))
            }
            None => return Err(format!("JSON {at} is missing")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prober::probe_client;
    use app::domain::monitoring::EndpointKind;

    fn due(url: &str) -> DueProbe {
        DueProbe {
            endpoint_id: 1,
            environment_id: 1,
            kind: EndpointKind::Health,
            scheduled_at: Utc::now(),
            url: url.into(),
            timeout_ms: 3000,
            expected_status: 200,
            body_contains: None,
            json_pointer: None,
            json_equals: None,
            headers: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_literal_link_local_url_is_refused_without_connecting() {
        let refuse = TargetPolicy::default();
        let clock = Instant::now();
        let r = probe(
            &probe_client(refuse),
            &due("http://169.254.169.254/latest/meta-data"),
            refuse,
        )
        .await;
        assert!(!r.ok);
        assert_eq!(r.status, None);
        let e = r.error.unwrap_or_default();
        assert!(e.contains("link-local") && e.len() < 200, "{e}");
        assert!(clock.elapsed() < Duration::from_secs(1));
        assert!(refused_literal("http://[fd00:ec2::254]/", refuse).is_some());
        assert!(refused_literal("http://2852039166/", refuse).is_some());
        assert!(refused_literal("http://127.0.0.1:8080/", refuse).is_none());
    }

    #[test]
    fn an_empty_json_pointer_quotes_the_body_briefly() {
        let mut d = due("http://127.0.0.1/");
        d.json_pointer = Some(String::new());
        d.json_equals = Some(serde_json::json!("ok"));
        let body =
            serde_json::to_vec(&serde_json::json!({ "secret": "s".repeat(50_000) })).expect("json");
        let e = judge(&d, 200, &body, false).unwrap_err();
        assert!(e.chars().count() < 300, "{} chars", e.chars().count());
        assert!(e.contains("JSON document is"), "{e}");
    }
}
