//! Where probes and webhooks may go: the shared HTTP client, whose resolver refuses names
//! that lead to refused addresses, and the same rule for URLs that name an address.

use app::domain::monitoring::TargetPolicy;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

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
pub(crate) fn refused_literal(url: &str, targets: TargetPolicy) -> Option<String> {
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
pub(crate) fn refused_in(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r.0.clone());
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
