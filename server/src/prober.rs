//! Background work inside `shipgate serve`: the prober (claims due endpoints, probes them
//! with one shared HTTP client, writes results in batches), the evaluator (states, alerts,
//! rollups, retention), webhook deliveries, and the status refresher that listens on the
//! status channel so every replica's viewers see the same snapshot.

use crate::config::ProbeSettings;
use app::domain::monitoring::{quote_response, TargetPolicy};
use app::services::probe_evidence;
use app::services::probes::{self, DueProbe, ProbeResult};
use app::services::status::{Changed, HubSettings};
use app::services::{alerts, environments::STATUS_CHANNEL};
use app::state::AppState;
use chrono::Utc;
use futures_util::FutureExt;
use sqlx::postgres::PgListener;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

/// A probe reads at most this much of a body: a target that streams forever cannot hold
/// a probe past its timeout or fill memory.
pub const BODY_CAP: usize = 64 * 1024;
/// Endpoints due within this horizon are claimed in one go; each probe then waits for
/// its own moment.
const CLAIM_HORIZON_MS: i64 = 1000;
const CLAIM_EVERY: Duration = Duration::from_millis(400);
const CLAIM_LIMIT: i64 = 2000;
const BATCH_EVERY: Duration = Duration::from_millis(250);
const BATCH_MAX: usize = 2000;
/// Without a notification the status is rebuilt this often anyway (countdowns move on).
const STATUS_FALLBACK: Duration = Duration::from_secs(10);

/// The one HTTP client every probe shares: no redirects followed, no cookies, no proxy
/// (a proxy would resolve names where the address rule cannot see them), and names that
/// resolve to addresses `targets` refuses are not connected to.
pub fn probe_client(targets: TargetPolicy) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver { targets }))
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("Shipgate-Probe/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the probe client builds")
}

/// A probe refused because of where it would have gone.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The short error a refused probe records; `name` when a name led to the address.
fn refusal(name: Option<&str>, ip: IpAddr) -> Refused {
    let rule = "a link-local or cloud metadata address; probes there are refused \
                (PROBE_ALLOW_LINK_LOCAL)";
    Refused(match name {
        Some(name) => format!("{name} resolves to {ip}, {rule}"),
        None => format!("{ip} is {rule}"),
    })
}

/// The system's resolver, with the address rule applied to its answers. Any refused
/// address among them refuses the name: a name that sometimes points at the metadata
/// service is not a probe target.
struct GuardedResolver {
    targets: TargetPolicy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(resolve_guarded(name.as_str().to_string(), self.targets))
    }
}

async fn resolve_guarded(
    host: String,
    targets: TargetPolicy,
) -> Result<reqwest::dns::Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
    if let Some(bad) = addrs.iter().find(|a| !targets.allows(a.ip())) {
        return Err(Box::new(refusal(Some(&host), bad.ip())));
    }
    Ok(Box::new(addrs.into_iter()))
}

/// Why a URL that names its address literally may not be requested (names are checked
/// when resolved, see [`GuardedResolver`]).
fn refused_literal(url: &str, targets: TargetPolicy) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?;
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    (!targets.allows(ip)).then(|| refusal(None, ip).0)
}

/// The address rule's refusal somewhere in an error's causes, if that is what it was.
fn refused_in(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r.0.clone());
        }
        cur = err.source();
    }
    None
}

fn targets(settings: &ProbeSettings) -> TargetPolicy {
    TargetPolicy {
        allow_link_local: settings.allow_link_local,
    }
}

/// Starts the background tasks; the status refresher always, the rest unless probes are
/// switched off. They get a pool of their own, so that neither the status listener's
/// standing connection nor a busy evaluator takes a connection a request is waiting for.
pub fn spawn(state: &AppState, settings: &ProbeSettings) -> Vec<JoinHandle<()>> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(6)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(state.pool.connect_options().as_ref().clone());
    let state = &AppState {
        pool,
        ..state.clone()
    };
    // Requests check environments and stream viewers against the same settings.
    state.status.configure(HubSettings {
        targets: targets(settings),
        stream_recheck: settings.status_stream_recheck,
        streams_per_user: settings.status_streams_per_user,
    });
    let mut tasks = vec![tokio::spawn(refresh_status(state.clone()))];
    if !settings.enabled {
        return tasks;
    }
    let (to_writer, results) = mpsc::channel::<ProbeResult>(65_536);
    let client = probe_client(targets(settings));
    tasks.push(tokio::spawn(write_results(
        state.pool.clone(),
        settings.replica.clone(),
        results,
    )));
    tasks.push(tokio::spawn(schedule(
        state.pool.clone(),
        settings.clone(),
        client.clone(),
        to_writer,
    )));
    tasks.push(tokio::spawn(evaluate(state.clone(), settings.clone())));
    tasks.push(tokio::spawn(deliver(
        state.pool.clone(),
        settings.clone(),
        client,
    )));
    tasks
}

async fn schedule(
    pool: sqlx::PgPool,
    settings: ProbeSettings,
    client: reqwest::Client,
    to_writer: mpsc::Sender<ProbeResult>,
) {
    let permits = Arc::new(Semaphore::new(settings.concurrency));
    let targets = targets(&settings);
    loop {
        let claimed = match probes::claim_due(
            &pool,
            &settings.replica,
            CLAIM_HORIZON_MS,
            CLAIM_LIMIT,
        )
        .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "claiming due probes failed");
                Vec::new()
            }
        };
        let full = claimed.len() as i64 == CLAIM_LIMIT;
        for due in claimed {
            let client = client.clone();
            let permits = permits.clone();
            let to_writer = to_writer.clone();
            tokio::spawn(async move {
                let wait = (due.scheduled_at - Utc::now()).to_std().unwrap_or_default();
                tokio::time::sleep(wait).await;
                let Ok(_permit) = permits.acquire_owned().await else {
                    return;
                };
                let result = probe(&client, &due, targets).await;
                let _ = to_writer.send(result).await;
            });
        }
        if !full {
            tokio::time::sleep(CLAIM_EVERY).await;
        }
    }
}

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
fn describe(e: &dyn std::error::Error) -> String {
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

async fn write_results(
    pool: sqlx::PgPool,
    replica: String,
    mut results: mpsc::Receiver<ProbeResult>,
) {
    let mut batch = Vec::with_capacity(BATCH_MAX);
    loop {
        let Some(first) = results.recv().await else {
            return;
        };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + BATCH_EVERY;
        while batch.len() < BATCH_MAX {
            match tokio::time::timeout_at(deadline, results.recv()).await {
                Ok(Some(r)) => batch.push(r),
                Ok(None) | Err(_) => break,
            }
        }
        for attempt in 1..=3 {
            match probes::record_probe_batch(&pool, &replica, &batch).await {
                Ok(()) => break,
                Err(e) if attempt < 3 => {
                    tracing::debug!(error = %e, attempt, "writing probe results failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, results = batch.len(), "writing probe results failed")
                }
            }
        }
        batch.clear();
    }
}

async fn evaluate(state: AppState, settings: ProbeSettings) {
    let pool = state.pool.clone();
    let mut tick = tokio::time::interval(settings.evaluate_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut forgot = Instant::now();
    loop {
        tick.tick().await;
        match probes::evaluate(&pool, Utc::now()).await {
            Ok(Some(e)) if !e.alerts.is_empty() || e.state_changes > 0 => {
                if !e.alerts.is_empty() {
                    tracing::info!(
                        alerts = e.alerts.len(),
                        state_changes = e.state_changes,
                        "alerts changed"
                    );
                }
                // A staging environment that went down fails the health items it passed.
                let (storage, hub) = (&state.storage, &state.status);
                match probe_evidence::recheck_after_change(&pool, storage, hub, Utc::now()).await {
                    Ok(checked) if !checked.is_empty() => {
                        tracing::info!(releases = ?checked, "health items checked again")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "checking health items again failed"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "evaluating probes failed"),
        }
        if forgot.elapsed() > Duration::from_secs(600) {
            forgot = Instant::now();
            if let Err(e) = probes::forget_old(
                &pool,
                settings.raw_retention_days,
                settings.rollup_retention_days,
            )
            .await
            {
                tracing::warn!(error = %e, "forgetting old probe results failed");
            }
        }
    }
}

async fn deliver(pool: sqlx::PgPool, settings: ProbeSettings, client: reqwest::Client) {
    let base_ms = settings.webhook_retry_base.as_millis() as u64;
    let targets = targets(&settings);
    loop {
        let due = alerts::claim_deliveries(&pool, 20)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "claiming webhook deliveries failed");
                Vec::new()
            });
        let idle = due.is_empty();
        // All at once: a claim holds a minute, each try at most ten seconds.
        futures_util::future::join_all(due.into_iter().map(|d| {
            let (client, pool) = (client.clone(), pool.clone());
            async move {
                let outcome = match refused_literal(&d.url, targets) {
                    Some(why) => Err(why),
                    None => send_hook(&client, &d).await,
                };
                if let Err(e) = &outcome {
                    tracing::warn!(delivery = d.id, attempt = d.attempts, error = %e, "webhook delivery failed");
                }
                if let Err(e) = alerts::delivery_done(&pool, &d, outcome, base_ms).await {
                    tracing::warn!(error = %e, "recording a webhook delivery failed");
                }
            }
        }))
        .await;
        if idle {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// One try of a webhook delivery.
async fn send_hook(client: &reqwest::Client, d: &alerts::DueDelivery) -> Result<(), String> {
    match client
        .post(&d.url)
        .timeout(Duration::from_secs(10))
        .json(&alerts::body_for(&d.format, &d.payload))
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("answered {}", r.status())),
        // The URL may carry a token: errors name the failure, not the URL.
        Err(e) => Err(refused_in(&e).unwrap_or_else(|| describe(&e.without_url()))),
    }
}

/// Rebuilds the in-memory status whenever the status channel speaks (and every few
/// seconds regardless); notifications arriving together cause one rebuild. A round of
/// probes re-reads probes only; anything else re-reads the releases too.
async fn refresh_status(state: AppState) {
    let rebuild = |state: &AppState, changed: Changed| {
        let state = state.clone();
        async move {
            if let Err(e) = state
                .status
                .refresh(&state.pool, &state.release_views, changed, Utc::now())
                .await
            {
                tracing::warn!(error = %e, "refreshing the status view failed");
            }
        }
    };
    let kind = |payload: &str| {
        if payload == "probes" {
            Changed::Probes
        } else {
            Changed::Everything
        }
    };
    loop {
        let mut listener = match PgListener::connect_with(&state.pool).await {
            Ok(mut l) => match l.listen(STATUS_CHANNEL).await {
                Ok(()) => Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen on the status channel");
                    None
                }
            },
            Err(e) => {
                tracing::debug!(error = %e, "status listener cannot connect yet");
                None
            }
        };
        rebuild(&state, Changed::Everything).await;
        loop {
            let Some(l) = listener.as_mut() else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                break;
            };
            match tokio::time::timeout(STATUS_FALLBACK, l.recv()).await {
                Ok(Ok(first)) => {
                    // Let a burst of notifications settle, then drain it.
                    let mut changed = kind(first.payload());
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    while let Some(Ok(Some(n))) = l.try_recv().now_or_never() {
                        if kind(n.payload()) == Changed::Everything {
                            changed = Changed::Everything;
                        }
                    }
                    rebuild(&state, changed).await;
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "status listener lost its connection");
                    break;
                }
                Err(_) => rebuild(&state, Changed::Everything).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    async fn names_resolving_to_link_local_addresses_are_refused() {
        let refuse = TargetPolicy::default();
        let e = resolve_guarded("169.254.169.254".into(), refuse)
            .await
            .err()
            .expect("refused");
        assert!(e.to_string().contains("link-local"), "{e}");
        assert!(resolve_guarded("fe80::1".into(), refuse).await.is_err());
        let allow = TargetPolicy {
            allow_link_local: true,
        };
        assert!(resolve_guarded("169.254.169.254".into(), allow)
            .await
            .is_ok());
        assert!(resolve_guarded("127.0.0.1".into(), refuse).await.is_ok());
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
