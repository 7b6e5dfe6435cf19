//! Remote key sets (a JWKS URL, or one found by OIDC discovery).
//!
//! The current keys are readable at all times; a refetch swaps a new set in.
//! No lock is held across a fetch except the one that keeps fetches single
//! file, and a request whose key is already known never waits on it. Nothing
//! runs in the background: staleness is noticed by the requests themselves, so
//! this works on Lambda, where tasks freeze between invocations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use http::header::{CACHE_CONTROL, CONTENT_LENGTH};
use jsonwebtoken::Algorithm;
use url::Url;

use super::keys::{KeySet, Lookup};
use crate::error::Error;

/// How remote key sets are fetched and cached.
///
/// ```
/// use std::time::Duration;
/// use authorizer::{FetchPolicy, Issuer};
///
/// let issuer = Issuer::discover("https://auth.example.com").fetch_policy(FetchPolicy {
///     cooldown: Duration::from_secs(60),
///     timeout: Duration::from_secs(2),
///     ..FetchPolicy::default()
/// });
/// # let _ = issuer;
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// How long keys are fresh when the response has no `Cache-Control: max-age` (default 10 min).
    pub default_ttl: Duration,
    /// Bounds on a `max-age` from the issuer (default 1 min to 24 h).
    pub min_ttl: Duration,
    /// See `min_ttl`.
    pub max_ttl: Duration,
    /// At most one fetch attempt per this interval (a refetch for an unknown `kid`, a refresh
    /// of stale keys, a retry after a failure), however many requests ask (default 30 s).
    pub cooldown: Duration,
    /// Per-request timeout (default 5 s).
    pub timeout: Duration,
    /// Largest accepted JWKS or discovery document (default 256 KiB).
    pub max_body_bytes: usize,
    /// Allow `http://` URLs for hosts other than loopback (default no).
    pub allow_plain_http: bool,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            default_ttl: Duration::from_secs(600),
            min_ttl: Duration::from_secs(60),
            max_ttl: Duration::from_secs(24 * 3600),
            cooldown: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            max_body_bytes: 256 * 1024,
            allow_plain_http: false,
        }
    }
}

/// After a failed fetch with nothing cached, try again no sooner than this
/// (or the cool-down, if shorter): an outage must not become a fetch per request.
const RETRY_WITH_NOTHING_CACHED: Duration = Duration::from_secs(5);

/// Where the key set lives.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    Jwks(Url),
    Discovery { issuer: String },
}

struct Snapshot {
    keys: Arc<KeySet>,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fetched_at: Instant,
    fresh_until: Instant,
    generation: u64,
}

pub(crate) struct RemoteKeys {
    /// The configured `iss`, the one label of this set's metrics.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    issuer: String,
    location: Location,
    policy: FetchPolicy,
    client: reqwest::Client,
    discovered: Mutex<Option<Url>>,
    current: RwLock<Option<Arc<Snapshot>>>,
    fetch_lock: tokio::sync::Mutex<()>,
    last_attempt: Mutex<Option<Instant>>,
    generation: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
pub(super) enum FetchError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("status {0}")]
    Status(u16),
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    #[error("timed out")]
    Timeout,
    #[error("not a key set: {0}")]
    Unparsable(String),
    #[error("discovery: {0}")]
    Discovery(String),
}

impl FetchError {
    /// The `result` label of a failed fetch.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    fn label(&self) -> &'static str {
        match self {
            FetchError::Http(error) if error.is_timeout() => "timeout",
            FetchError::Http(_) => "http",
            FetchError::Status(_) => "status",
            FetchError::TooLarge(_) => "too_large",
            FetchError::Timeout => "timeout",
            FetchError::Unparsable(_) => "unparsable",
            FetchError::Discovery(_) => "discovery",
        }
    }
}

impl RemoteKeys {
    pub(crate) fn new(issuer: String, location: Location, policy: FetchPolicy, client: reqwest::Client) -> Self {
        RemoteKeys {
            issuer,
            location,
            policy,
            client,
            discovered: Mutex::new(None),
            current: RwLock::new(None),
            fetch_lock: tokio::sync::Mutex::new(()),
            last_attempt: Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }

    fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The key set to verify a token with `kid`/`alg` against.
    pub(crate) async fn keys_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<KeySet>, Error> {
        let Some(snapshot) = self.current() else {
            return self.first_fetch().await;
        };
        #[cfg(feature = "metrics")]
        crate::telemetry::key_set_age(&self.issuer, snapshot.fetched_at.elapsed());
        let known = !matches!(snapshot.keys.find(kid, alg), Lookup::UnknownKid);
        if known {
            if Instant::now() >= snapshot.fresh_until {
                self.refresh_in_passing().await;
                return Ok(self.current().map_or(snapshot.keys.clone(), |s| s.keys.clone()));
            }
            return Ok(snapshot.keys.clone());
        }
        Ok(self.refetch_for_unknown_kid(snapshot).await)
    }

    /// Fetches the key set now unless one is already held.
    pub(crate) async fn prefetch(&self) -> Result<(), Error> {
        match self.current() {
            Some(_) => Ok(()),
            None => self.first_fetch().await.map(|_| ()),
        }
    }

    async fn first_fetch(&self) -> Result<Arc<KeySet>, Error> {
        let _single_flight = self.fetch_lock.lock().await;
        if let Some(snapshot) = self.current() {
            return Ok(snapshot.keys.clone());
        }
        if !self.may_fetch(self.policy.cooldown.min(RETRY_WITH_NOTHING_CACHED)) {
            return Err(Error::KeysUnavailable);
        }
        self.fetch_and_store().await;
        self.current().map(|s| s.keys.clone()).ok_or(Error::KeysUnavailable)
    }

    /// Stale keys are still served; the one request that gets the fetch lock
    /// refreshes them, and everyone else goes on with what is there.
    async fn refresh_in_passing(&self) {
        let Ok(_single_flight) = self.fetch_lock.try_lock() else {
            return;
        };
        let still_stale = self.current().is_none_or(|s| Instant::now() >= s.fresh_until);
        if still_stale && self.may_fetch(self.policy.cooldown) {
            self.fetch_and_store().await;
        }
    }

    /// An unknown `kid` may mean the issuer rotated keys: refetch, but at most
    /// once per cool-down, and not at all if another request just did.
    async fn refetch_for_unknown_kid(&self, seen: Arc<Snapshot>) -> Arc<KeySet> {
        if !self.cooldown_elapsed(self.policy.cooldown) {
            return seen.keys.clone();
        }
        let _single_flight = self.fetch_lock.lock().await;
        if let Some(latest) = self.current().filter(|latest| latest.generation != seen.generation) {
            return latest.keys.clone();
        }
        if self.may_fetch(self.policy.cooldown) {
            self.fetch_and_store().await;
        }
        self.current().map_or(seen.keys.clone(), |s| s.keys.clone())
    }

    fn cooldown_elapsed(&self, cooldown: Duration) -> bool {
        let last = self.last_attempt.lock().unwrap_or_else(|e| e.into_inner());
        last.is_none_or(|t| t.elapsed() >= cooldown)
    }

    /// Claims the right to fetch now, if the last attempt is old enough.
    fn may_fetch(&self, cooldown: Duration) -> bool {
        let mut last = self.last_attempt.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < cooldown) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    async fn fetch_and_store(&self) {
        #[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
        let result = match self.fetch().await {
            Ok((keys, ttl)) if !keys.is_empty() => {
                let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
                let now = Instant::now();
                let snapshot = Snapshot {
                    keys: Arc::new(keys),
                    fetched_at: now,
                    fresh_until: now + ttl,
                    generation,
                };
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(snapshot));
                #[cfg(feature = "metrics")]
                crate::telemetry::key_set_age(&self.issuer, Duration::ZERO);
                tracing::debug!(generation, "key set refreshed");
                "ok"
            }
            Ok(_) => {
                tracing::warn!("key set has no usable keys; keeping the last good one");
                "empty"
            }
            Err(error) => {
                tracing::warn!(%error, "key set fetch failed; keeping the last good one");
                error.label()
            }
        };
        #[cfg(feature = "metrics")]
        crate::telemetry::key_fetch(&self.issuer, result);
    }

    async fn fetch(&self) -> Result<(KeySet, Duration), FetchError> {
        let url = self.jwks_url().await?;
        let (body, max_age) = self.get(url).await?;
        let keys = KeySet::from_jwks(&body).map_err(|e| FetchError::Unparsable(e.to_string()))?;
        let ttl = max_age.map_or(self.policy.default_ttl, |age| {
            age.clamp(self.policy.min_ttl, self.policy.max_ttl)
        });
        Ok((keys, ttl))
    }

    async fn jwks_url(&self) -> Result<Url, FetchError> {
        let issuer = match &self.location {
            Location::Jwks(url) => return Ok(url.clone()),
            Location::Discovery { issuer } => issuer,
        };
        if let Some(url) = self.discovered.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(url);
        }
        let url = discover(self, issuer).await?;
        *self.discovered.lock().unwrap_or_else(|e| e.into_inner()) = Some(url.clone());
        Ok(url)
    }

    async fn get(&self, url: Url) -> Result<(Vec<u8>, Option<Duration>), FetchError> {
        let mut response = self.client.get(url).timeout(self.policy.timeout).send().await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let max_age = response
            .headers()
            .get_all(CACHE_CONTROL)
            .iter()
            .find_map(|v| max_age(v.to_str().ok()?));
        let body = read_body(&mut response, &self.policy).await?;
        Ok((body, max_age))
    }
}

/// A response body, refused past the policy's size limit or time-out (each
/// chunk must come within it, so a trickling server cannot hold a request).
pub(super) async fn read_body(response: &mut reqwest::Response, policy: &FetchPolicy) -> Result<Vec<u8>, FetchError> {
    let limit = policy.max_body_bytes;
    let declared = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(FetchError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = tokio::time::timeout(policy.timeout, response.chunk())
        .await
        .map_err(|_| FetchError::Timeout)??
    {
        if body.len() + chunk.len() > limit {
            return Err(FetchError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn discover(remote: &RemoteKeys, issuer: &str) -> Result<Url, FetchError> {
    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let url = Url::parse(&url).map_err(|e| FetchError::Discovery(e.to_string()))?;
    let (body, _) = remote.get(url).await?;
    let document: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| FetchError::Discovery("discovery document is not JSON".to_owned()))?;
    // OpenID Connect Discovery §4.3: the document must name the issuer we asked.
    if document.get("issuer").and_then(|v| v.as_str()) != Some(issuer) {
        return Err(FetchError::Discovery(
            "discovery document names another issuer".to_owned(),
        ));
    }
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(|v| v.as_str())
        .ok_or_else(|| FetchError::Discovery("discovery document has no jwks_uri".to_owned()))?;
    let jwks_uri = Url::parse(jwks_uri).map_err(|e| FetchError::Discovery(e.to_string()))?;
    check_url(&jwks_uri, remote.policy.allow_plain_http).map_err(FetchError::Discovery)?;
    Ok(jwks_uri)
}

/// `https`, or `http` to a loopback host (tests, sidecars), or `http` anywhere when allowed.
pub(crate) fn check_url(url: &Url, allow_plain_http: bool) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_plain_http || is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "{url} is plain http; use https (or allow plain http explicitly)"
        )),
        other => Err(format!("{url}: unsupported scheme {other}")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// `max-age` from a `Cache-Control` value; `no-store`/`no-cache` count as zero
/// (and so are raised to the minimum TTL).
fn max_age(value: &str) -> Option<Duration> {
    value.split(',').map(str::trim).find_map(|directive| {
        if directive.eq_ignore_ascii_case("no-store") || directive.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        let (name, seconds) = directive.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        seconds.trim().trim_matches('"').parse().ok().map(Duration::from_secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_max_age() {
        assert_eq!(max_age("public, max-age=300"), Some(Duration::from_secs(300)));
        assert_eq!(max_age("MAX-AGE=\"60\""), Some(Duration::from_secs(60)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=-1"), None);
    }

    #[test]
    fn urls_must_be_https_unless_loopback() {
        let ok = |u: &str, allow| check_url(&Url::parse(u).unwrap(), allow).is_ok();
        assert!(ok("https://idp.example.com/jwks", false));
        assert!(ok("http://127.0.0.1:8080/jwks", false));
        assert!(ok("http://[::1]/jwks", false));
        assert!(ok("http://localhost/jwks", false));
        assert!(!ok("http://idp.example.com/jwks", false));
        assert!(ok("http://idp.example.com/jwks", true));
        assert!(!ok("file:///etc/passwd", true));
    }
}
