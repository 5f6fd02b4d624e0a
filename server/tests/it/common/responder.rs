//! A probe target the tests start and steer: every path `/{name}/{anything}` answers the
//! way `name` is set to (200, 503, slow, hanging, a huge or trickling body, a redirect,
//! invalid UTF-8), and every hit is counted. An HTTPS twin answers with a self-signed
//! certificate. Loopback only.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use bytes::Bytes;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Status(u16),
    /// 200 after this long.
    Slow(Duration),
    /// Headers never come.
    Hang,
    /// 200 with a body of this many bytes.
    Huge(usize),
    /// 200, then a byte every 100 ms, forever.
    Trickle,
    Redirect,
    InvalidUtf8,
    Json(serde_json::Value),
}

#[derive(Default)]
struct Inner {
    modes: HashMap<String, Mode>,
    hits: HashMap<String, Vec<Instant>>,
    /// The request headers of the latest hit per path.
    headers: HashMap<String, axum::http::HeaderMap>,
    hooks: Vec<serde_json::Value>,
}

#[derive(Clone, Default)]
pub struct Responder {
    inner: Arc<Mutex<Inner>>,
    pub addr: Option<SocketAddr>,
    pub tls_addr: Option<SocketAddr>,
}

impl Responder {
    pub async fn start() -> Responder {
        let mut r = Responder::default();
        let app = Router::new()
            .route("/hook/{status}", post(hook))
            .route("/{name}/{*rest}", any(answer))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        r.addr = Some(listener.local_addr().unwrap());
        tokio::spawn(std::future::IntoFuture::into_future(axum::serve(
            listener, app,
        )));
        r.tls_addr = Some(serve_tls().await);
        r
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr.unwrap())
    }

    pub fn tls_url(&self) -> String {
        format!("https://{}", self.tls_addr.unwrap())
    }

    pub fn set(&self, name: &str, mode: Mode) {
        self.inner.lock().unwrap().modes.insert(name.into(), mode);
    }

    /// When each `/{name}/{path}` was asked for.
    pub fn hits(&self, name_and_path: &str) -> Vec<Instant> {
        self.inner
            .lock()
            .unwrap()
            .hits
            .get(name_and_path)
            .cloned()
            .unwrap_or_default()
    }

    /// A request header of the latest hit of `/{name}/{path}`.
    pub fn header(&self, name_and_path: &str, header: &str) -> Option<String> {
        self.inner
            .lock()
            .unwrap()
            .headers
            .get(name_and_path)
            .and_then(|h| h.get(header))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// Webhook bodies received at `/hook/…`.
    pub fn hooks(&self) -> Vec<serde_json::Value> {
        self.inner.lock().unwrap().hooks.clone()
    }
}

async fn hook(
    State(r): State<Responder>,
    Path(status): Path<u16>,
    Json(body): Json<serde_json::Value>,
) -> StatusCode {
    r.inner.lock().unwrap().hooks.push(body);
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

async fn answer(
    State(r): State<Responder>,
    Path((name, rest)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Response {
    let mode = {
        let mut inner = r.inner.lock().unwrap();
        let key = format!("{name}/{rest}");
        inner
            .hits
            .entry(key.clone())
            .or_default()
            .push(Instant::now());
        inner.headers.insert(key, headers);
        inner.modes.get(&name).cloned().unwrap_or(Mode::Status(200))
    };
    match mode {
        Mode::Status(s) => (StatusCode::from_u16(s).unwrap(), "status").into_response(),
        Mode::Slow(d) => {
            tokio::time::sleep(d).await;
            "ok, slowly".into_response()
        }
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            "never".into_response()
        }
        Mode::Huge(n) => {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let chunks = n.div_ceil(chunk.len());
            let stream = futures_util::stream::iter(
                (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
            );
            Body::from_stream(stream).into_response()
        }
        Mode::Trickle => {
            let stream = futures_util::stream::unfold((), |_| async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Some((Ok::<_, std::io::Error>(Bytes::from_static(b"o")), ()))
            });
            Body::from_stream(stream).into_response()
        }
        Mode::Redirect => (
            StatusCode::FOUND,
            [(header::LOCATION, "https://elsewhere.example/health")],
        )
            .into_response(),
        Mode::InvalidUtf8 => (StatusCode::OK, vec![b'o', b'k', 0xff, 0xfe, 0xfd]).into_response(),
        Mode::Json(v) => Json(v).into_response(),
    }
}

/// A TLS endpoint with a certificate nobody trusts.
async fn serve_tls() -> SocketAddr {
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::rustls::{crypto::ring, ServerConfig};
    let cert = CertificateDer::from(include_bytes!("../../fixtures/self-signed-cert.der").to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        include_bytes!("../../fixtures/self-signed-key.der").to_vec(),
    ));
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            // The client refuses the certificate: the handshake fails, and that is all a
            // probe of this target should ever see.
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    addr
}
