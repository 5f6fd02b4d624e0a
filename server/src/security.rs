//! Browser hardening for every response: the headers that keep pages from being framed,
//! sniffed or leaking their address, HSTS under https, a locked-down CSP for what is not
//! a page (pages set their own, with a nonce, in the shell), and the CSP report sink.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// For responses that are not pages (JSON, files, evidence downloads): nothing may run,
/// load or frame them, even if a browser is tricked into rendering one as a document.
const NON_PAGE_CSP: &str =
    "default-src 'none'; img-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox";

/// Whether Shipgate is reached over https (`PUBLIC_BASE_URL`), for HSTS.
#[derive(Clone, Copy)]
pub struct Https(pub bool);

pub async fn security_headers(
    State(Https(https)): State<Https>,
    req: Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(NON_PAGE_CSP),
        );
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    resp
}

/// A fresh nonce for a page served again from the page cache: a nonce is good for one
/// response only, so the cached body and policy get a new one.
pub fn renonce(headers: &mut axum::http::HeaderMap, body: &[u8]) -> Option<Bytes> {
    let csp = headers
        .get(header::CONTENT_SECURITY_POLICY)?
        .to_str()
        .ok()?;
    let old = csp.split("'nonce-").nth(1)?.split('\'').next()?.to_string();
    if old.is_empty() {
        return None;
    }
    let new = new_nonce();
    let value = HeaderValue::from_str(&csp.replace(&old, &new)).ok()?;
    headers.insert(header::CONTENT_SECURITY_POLICY, value);
    let body = std::str::from_utf8(body).ok()?;
    Some(Bytes::from(body.replace(
        &format!("nonce=\"{old}\""),
        &format!("nonce=\"{new}\""),
    )))
}

fn new_nonce() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Where browsers report what the policy blocked. A report means either an attack that
/// the policy stopped or a page that breaks its own policy; both deserve a look, neither
/// is an error of the server. Logged short, since the report itself is untrusted.
pub async fn csp_report(body: Bytes) -> Response {
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let report = report.get("csp-report").unwrap_or(&report);
    let field = |name: &str| -> String {
        report
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or("-")
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect()
    };
    tracing::warn!(
        document = %field("document-uri"),
        directive = %field("violated-directive"),
        blocked = %field("blocked-uri"),
        "CSP violation reported"
    );
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_page_gets_a_new_nonce_in_policy_and_body() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"),
        );
        let body = b"<script nonce=\"abc123\">x()</script><p>abc123</p>";
        let fresh = renonce(&mut headers, body).expect("renonced");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(!csp.contains("abc123"));
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap();
        let fresh = std::str::from_utf8(&fresh).unwrap();
        assert!(fresh.contains(&format!("nonce=\"{nonce}\"")));
        // Text that merely equals the nonce is not touched.
        assert!(fresh.contains("<p>abc123</p>"));
    }
}
