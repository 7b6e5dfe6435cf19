//! Token introspection (RFC 7662): opaque access tokens, and optionally JWTs
//! too, checked by asking the issuer.
//!
//! The issuer's answer becomes claims like a JWT's, and from them the same
//! [`Principal`](crate::Principal). An active answer is cached with the
//! verified tokens, no longer than its `exp` and the configured maximum; an
//! answer that cannot be read is a failure (503 when nothing cached can
//! answer), never an active token. Concurrent requests for one token share
//! one call, and no lock is held across it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Map, Value};
use tokio::sync::{OnceCell, Semaphore};
use url::Url;

use super::jwks::{FetchError, FetchPolicy, check_url, read_body};
use crate::error::{Error, InvalidToken};

/// How an issuer's tokens are introspected: the endpoint (given, or found in
/// the issuer's metadata), the client credentials the resource server
/// authenticates with, and how long an answer may be cached.
///
/// ```
/// use std::time::Duration;
/// use authorizer::{Introspection, Issuer, Verifier};
///
/// let issuer = Issuer::discover("https://auth.example.com")
///     .audience("https://api.example.com")
///     .introspection(
///         Introspection::new("api-client", "s3cret") // endpoint from discovery
///             .max_cache_ttl(Duration::from_secs(30)),
///     );
/// let verifier = Verifier::builder().issuer(issuer).build()?;
/// # Ok::<(), authorizer::ConfigError>(())
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
#[derive(Clone, PartialEq, Eq)]
pub struct Introspection {
    endpoint: Option<String>,
    client_id: String,
    client_secret: String,
    max_cache_ttl: Duration,
    jwts: bool,
}

impl fmt::Debug for Introspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspection")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("max_cache_ttl", &self.max_cache_ttl)
            .field("jwts", &self.jwts)
            .finish()
    }
}

impl Introspection {
    /// Introspects with these client credentials (sent as HTTP Basic, RFC
    /// 6749 §2.3.1), at the `introspection_endpoint` the issuer's metadata
    /// names, unless [`endpoint`](Introspection::endpoint) gives it.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Introspection {
            endpoint: None,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            max_cache_ttl: Duration::from_secs(60),
            jwts: false,
        }
    }

    /// The introspection endpoint: `https`, or `http` on loopback (anywhere
    /// only when the issuer's [`FetchPolicy`] allows plain http).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// The longest an active answer is cached (default 60 s), whatever its
    /// `exp` says: how long a token revoked at the issuer may still pass.
    pub fn max_cache_ttl(mut self, ttl: Duration) -> Self {
        self.max_cache_ttl = ttl;
        self
    }

    /// Introspects JWT access tokens too, after they verify locally: for
    /// issuers that revoke at the source. A JWT the issuer calls inactive is
    /// refused.
    pub fn jwts_too(mut self) -> Self {
        self.jwts = true;
        self
    }

    pub(super) fn introspects_jwts(&self) -> bool {
        self.jwts
    }

    pub(super) fn max_ttl(&self) -> Duration {
        self.max_cache_ttl
    }
}

/// What the issuer said of a token.
#[derive(Debug, Clone)]
pub(super) enum Answer {
    /// Active, with these claims (the answer without `active`).
    Active(Arc<Map<String, Value>>),
    /// Not active: expired, revoked, unknown, or not for this client.
    Inactive,
}

/// An issuer's introspection client: its endpoint, and the calls in flight.
pub(super) struct Introspector {
    iss: String,
    config: Introspection,
    policy: FetchPolicy,
    client: reqwest::Client,
    endpoint: OnceLock<Url>,
    in_flight: Mutex<HashMap<Box<str>, Arc<Call>>>,
    calls: Semaphore,
}

/// Introspection calls one issuer may have in flight at once.
const MAX_CALLS: usize = 32;

/// One introspection call, awaited by every request for its token.
type Call = OnceCell<Result<Answer, Error>>;

impl Introspector {
    pub(super) fn new(
        iss: &str,
        config: Introspection,
        policy: FetchPolicy,
        client: reqwest::Client,
    ) -> Result<Self, String> {
        let endpoint = OnceLock::new();
        if let Some(url) = &config.endpoint {
            let url = Url::parse(url).map_err(|e| format!("introspection endpoint {url}: {e}"))?;
            check_url(&url, policy.allow_plain_http)?;
            let _ = endpoint.set(url);
        }
        Ok(Introspector {
            iss: iss.to_owned(),
            config,
            policy,
            client,
            endpoint,
            in_flight: Mutex::new(HashMap::new()),
            calls: Semaphore::new(MAX_CALLS),
        })
    }

    pub(super) fn config(&self) -> &Introspection {
        &self.config
    }

    /// The issuer's answer for `token`. Concurrent asks for one token share
    /// the first one's call; the map is locked only to find or drop the call.
    pub(super) async fn introspect(&self, token: &str) -> Result<Answer, Error> {
        let call = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            in_flight.entry(token.into()).or_default().clone()
        };
        // Dropped on every way out, a cancelled request's too (a client that
        // hangs up mid-call), so the map never keeps a finished call.
        let _leave = Leave {
            in_flight: &self.in_flight,
            token,
            call: &call,
        };
        call.get_or_init(|| self.ask(token)).await.clone()
    }

    async fn ask(&self, token: &str) -> Result<Answer, Error> {
        // Bounds the load one client can put on the issuer with new tokens:
        // past the limit, a request waits at most the timeout for a turn.
        let turn = tokio::time::timeout(self.policy.timeout, self.calls.acquire()).await;
        let Ok(Ok(_turn)) = turn else {
            tracing::warn!(issuer = %self.iss, "introspection calls at their limit");
            return Err(Error::IntrospectionUnavailable);
        };
        let answer = self.call(token).await;
        if let Err(error) = &answer {
            // Never the token: only what went wrong, and where.
            tracing::warn!(issuer = %self.iss, %error, "introspection failed");
        }
        answer.map_err(|_| Error::IntrospectionUnavailable)
    }

    async fn call(&self, token: &str) -> Result<Answer, FetchError> {
        let endpoint = self.endpoint().await?;
        let credentials = format!(
            "{}:{}",
            form_encode(&self.config.client_id),
            form_encode(&self.config.client_secret)
        );
        let form = format!("token={}&token_type_hint=access_token", form_encode(token));
        let mut response = self
            .client
            .post(endpoint.clone())
            .timeout(self.policy.timeout)
            .header(AUTHORIZATION, format!("Basic {}", STANDARD.encode(credentials)))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(form)
            .send()
            .await?;
        // Redirects are never followed: a 3xx is a failure, and a client of
        // the user's that followed one answered from somewhere else.
        if !response.status().is_success() || response.url() != &endpoint {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let body = read_body(&mut response, &self.policy).await?;
        parse_answer(&body)
    }

    async fn endpoint(&self) -> Result<Url, FetchError> {
        if let Some(url) = self.endpoint.get() {
            return Ok(url.clone());
        }
        let url = self.discover().await?;
        Ok(self.endpoint.get_or_init(|| url).clone())
    }

    /// The `introspection_endpoint` of the issuer's metadata: OpenID
    /// discovery (appended to the issuer), then RFC 8414's
    /// authorization-server metadata (inserted before the issuer's path).
    async fn discover(&self) -> Result<Url, FetchError> {
        let mut last = FetchError::Discovery("no metadata".to_owned());
        for url in metadata_urls(&self.iss) {
            match self.endpoint_from(&url).await {
                Ok(url) => return Ok(url),
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    async fn endpoint_from(&self, metadata_url: &str) -> Result<Url, FetchError> {
        let url = Url::parse(metadata_url).map_err(|e| FetchError::Discovery(e.to_string()))?;
        check_url(&url, self.policy.allow_plain_http).map_err(FetchError::Discovery)?;
        let mut response = self.client.get(url.clone()).timeout(self.policy.timeout).send().await?;
        if !response.status().is_success() || response.url() != &url {
            return Err(FetchError::Status(response.status().as_u16()));
        }
        let document: Value = serde_json::from_slice(&read_body(&mut response, &self.policy).await?)
            .map_err(|_| FetchError::Discovery("metadata is not JSON".to_owned()))?;
        if document.get("issuer").and_then(Value::as_str) != Some(self.iss.as_str()) {
            return Err(FetchError::Discovery("metadata names another issuer".to_owned()));
        }
        let endpoint = document
            .get("introspection_endpoint")
            .and_then(Value::as_str)
            .ok_or_else(|| FetchError::Discovery("metadata has no introspection_endpoint".to_owned()))?;
        let endpoint = Url::parse(endpoint).map_err(|e| FetchError::Discovery(e.to_string()))?;
        check_url(&endpoint, self.policy.allow_plain_http).map_err(FetchError::Discovery)?;
        Ok(endpoint)
    }
}

/// Removes a finished call from the in-flight map (when it is still the
/// map's call for that token).
struct Leave<'a> {
    in_flight: &'a Mutex<HashMap<Box<str>, Arc<Call>>>,
    token: &'a str,
    call: &'a Arc<Call>,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if in_flight
            .get(self.token)
            .is_some_and(|current| Arc::ptr_eq(current, self.call))
            // Another request still waiting holds the call too: it removes it.
            && Arc::strong_count(self.call) <= 2
        {
            in_flight.remove(self.token);
        }
    }
}

/// Where the issuer's metadata may be: OpenID discovery's
/// `{iss}/.well-known/openid-configuration`, and RFC 8414 §3's
/// `{origin}/.well-known/oauth-authorization-server{path}`.
fn metadata_urls(iss: &str) -> Vec<String> {
    let trimmed = iss.trim_end_matches('/');
    let mut urls = vec![format!("{trimmed}/.well-known/openid-configuration")];
    let path_start = trimmed.split_once("://").map_or(trimmed.len(), |(scheme, rest)| {
        scheme.len() + 3 + rest.find('/').unwrap_or(rest.len())
    });
    let (origin, path) = trimmed.split_at(path_start);
    urls.push(format!("{origin}/.well-known/oauth-authorization-server{path}"));
    urls
}

/// An introspection response: a JSON object whose `active` is a boolean.
/// Anything else is a failure, never an active token.
fn parse_answer(body: &[u8]) -> Result<Answer, FetchError> {
    let Ok(Value::Object(mut members)) = serde_json::from_slice::<Value>(body) else {
        return Err(FetchError::Unparsable("not a JSON object".to_owned()));
    };
    match members.remove("active") {
        Some(Value::Bool(true)) => Ok(Answer::Active(Arc::new(members))),
        Some(Value::Bool(false)) => Ok(Answer::Inactive),
        _ => Err(FetchError::Unparsable("no boolean `active`".to_owned())),
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => encoded.push(byte as char),
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

/// Whether a token is a compact JWS (three dot-separated parts); anything
/// else is an opaque token, for introspection.
pub(super) fn is_opaque(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() != 2
}

/// The claims of an active answer, checked as a JWT's would be: an `iss`
/// that names this issuer (filled in when the answer omits it), and no sign
/// of a refresh token (`token_type_hint` is only a hint: many servers call
/// a refresh token active, which must never pass as an access token).
pub(super) fn claims_of(iss: &str, claims: &Map<String, Value>) -> Result<Map<String, Value>, Error> {
    let refresh = ["token_type", "token_use"].iter().any(|member| {
        claims
            .get(*member)
            .and_then(Value::as_str)
            .is_some_and(|kind| kind.eq_ignore_ascii_case("refresh_token") || kind.eq_ignore_ascii_case("refresh"))
    });
    if refresh {
        return Err(InvalidToken::Type.into());
    }
    let mut claims = claims.clone();
    match claims.get("iss") {
        None => {
            claims.insert("iss".to_owned(), Value::from(iss));
        }
        Some(Value::String(named)) if named == iss => {}
        Some(_) => return Err(InvalidToken::Issuer.into()),
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_a_boolean_active_counts() {
        assert!(matches!(parse_answer(br#"{"active": true, "sub": "u"}"#), Ok(Answer::Active(c)) if c["sub"] == "u"));
        assert!(matches!(parse_answer(br#"{"active": false}"#), Ok(Answer::Inactive)));
        for bad in [
            &br#"{"active": "true"}"#[..],
            br#"{"active": 1}"#,
            br#"{"sub": "u"}"#,
            br#"[{"active": true}]"#,
            b"active=true",
            b"",
        ] {
            assert!(parse_answer(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn form_values_are_encoded() {
        assert_eq!(form_encode("a b+c/d=é"), "a+b%2Bc%2Fd%3D%C3%A9");
        assert_eq!(form_encode("Az09-._*"), "Az09-._*");
    }

    #[test]
    fn opaque_tokens_are_not_three_parts() {
        assert!(is_opaque("2YotnFZFEjr1zCsicMWpAA"));
        assert!(is_opaque("a.b"));
        assert!(is_opaque("a.b.c.d"));
        assert!(!is_opaque("a.b.c"));
    }

    #[test]
    fn an_answer_for_another_issuer_is_refused() {
        let claims = |value: Value| value.as_object().unwrap().clone();
        assert_eq!(
            claims_of("https://i", &claims(json!({"sub": "u"}))).unwrap()["iss"],
            "https://i"
        );
        assert!(claims_of("https://i", &claims(json!({"iss": "https://i"}))).is_ok());
        assert!(claims_of("https://i", &claims(json!({"iss": "https://evil"}))).is_err());
        assert!(claims_of("https://i", &claims(json!({"iss": 5}))).is_err());
        for refresh in [json!({"token_type": "refresh_token"}), json!({"token_use": "Refresh"})] {
            assert!(matches!(
                claims_of("https://i", &claims(refresh)),
                Err(Error::InvalidToken(InvalidToken::Type))
            ));
        }
        assert!(claims_of("https://i", &claims(json!({"token_type": "Bearer"}))).is_ok());
    }

    #[test]
    fn rfc_8414_inserts_the_well_known_path_before_the_issuer_path() {
        assert_eq!(
            metadata_urls("https://as.example.com/tenant1/"),
            [
                "https://as.example.com/tenant1/.well-known/openid-configuration",
                "https://as.example.com/.well-known/oauth-authorization-server/tenant1",
            ]
        );
        assert_eq!(
            metadata_urls("https://as.example.com")[1],
            "https://as.example.com/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn the_secret_never_shows_in_debug() {
        let debug = format!("{:?}", Introspection::new("client", "hunter2"));
        assert!(!debug.contains("hunter2") && debug.contains("client"));
    }
}

#[cfg(all(test, feature = "testing"))]
mod cancellation {
    use std::time::Duration;

    use super::*;
    use crate::testing::TestIssuer;

    #[tokio::test]
    async fn a_request_that_hangs_up_mid_call_leaves_nothing_in_flight() {
        let issuer = TestIssuer::start().await;
        issuer.set_delay(Duration::from_secs(30));
        let introspector = Introspector::new(
            issuer.issuer(),
            issuer.introspection(),
            FetchPolicy::default(),
            reqwest::Client::builder().no_proxy().build().unwrap(),
        )
        .unwrap();
        let token = issuer.token().opaque();
        let mut call = Box::pin(introspector.introspect(&token));
        // Polled until the call is on the wire, then dropped: a client that hung up.
        while issuer.introspections() == 0 {
            tokio::select! {
                _ = &mut call => panic!("the issuer answers only after 30 s"),
                _ = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
        }
        assert_eq!(introspector.in_flight.lock().unwrap().len(), 1);
        drop(call);
        assert!(introspector.in_flight.lock().unwrap().is_empty());
    }
}
