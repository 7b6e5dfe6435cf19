//! Sender-constrained tokens: DPoP proofs (RFC 9449) and certificate-bound
//! tokens (RFC 8705).
//!
//! A bearer token works for whoever holds it; a sender-constrained token
//! works only beside proof of a key the holder of a stolen copy lacks. The
//! binding stage runs after verification, on every request (a cached token
//! too: the proof changes every time):
//!
//! - a token with `cnf.jkt` must come with the `DPoP` scheme and a `DPoP`
//!   proof signed by that key, made for this request (method and URL), fresh,
//!   used once, and carrying the token's hash (`ath`); sent as `Bearer`, it
//!   is refused in every mode;
//! - a token with `cnf.x5t#S256` must come over a connection whose client
//!   certificate has that thumbprint ([`ClientCertificate`], a trusted
//!   proxy's header, or API Gateway's mutual TLS).
//!
//! [`DpopMode`] says which schemes a layer (or a [route](crate::routes::RouteRule::dpop))
//! takes: `off`, `allowed` (the default) or `required`.
//!
//! ```
//! use authorizer::binding::{Binding, DpopMode};
//! use authorizer::testing::TestIssuer;
//! use authorizer::Authenticator;
//!
//! # fn main() -> Result<(), authorizer::ConfigError> {
//! let issuer = TestIssuer::new();
//! let auth = Authenticator::new(issuer.verifier()).binding(
//!     Binding::new()
//!         .dpop(DpopMode::Required)
//!         .public_url("https://api.example.com")?,
//! );
//! # let _ = auth;
//! # Ok(()) }
//! ```

mod certificate;
mod jwk;
mod nonce;
mod proof;
mod replay;
mod url;

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(feature = "lambda")]
pub(crate) use certificate::der_from_pem;
pub use certificate::{ClientCertificate, certificate_thumbprint};
pub use jwk::jwk_thumbprint;
pub use nonce::{DEFAULT_NONCE_ROTATION, Nonces};
pub use replay::{LocalReplayCache, ReplayError, ReplayFuture, ReplayStore};

use self::nonce::NonceCheck;
use self::proof::{CheckedProof, Expected};
use self::url::Origin;
use crate::credential::Headers;
use crate::crypto;
use crate::error::{Error, InvalidProof, InvalidToken};
use crate::pipeline::RequestParts;
use crate::principal::{Principal, Source};
use crate::verify::ConfigError;

/// Which authorization schemes are taken: a layer's (on its
/// [`Binding`]) or a route's ([`RouteRule::dpop`](crate::routes::RouteRule::dpop)).
///
/// Whatever the mode, a DPoP-bound token (`cnf.jkt`) sent as `Bearer` is
/// refused: binding that a client can drop protects nothing.
///
/// ```
/// use authorizer::binding::DpopMode;
///
/// assert_eq!("required".parse::<DpopMode>(), Ok(DpopMode::Required));
/// assert_eq!(DpopMode::default(), DpopMode::Allowed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DpopMode {
    /// The `DPoP` scheme is refused; bearer tokens only (bound ones refused).
    Off,
    /// Both schemes: bearer tokens as `Bearer`, DPoP-bound ones as `DPoP`.
    #[default]
    Allowed,
    /// Only the `DPoP` scheme: every other credential is refused.
    Required,
}

impl DpopMode {
    /// Whether a credential from `source` passes this mode.
    pub(crate) fn admits(self, source: Source) -> bool {
        match self {
            DpopMode::Off => source != Source::Dpop,
            DpopMode::Allowed => true,
            DpopMode::Required => source == Source::Dpop,
        }
    }
}

impl std::str::FromStr for DpopMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Ok(DpopMode::Off),
            "allowed" => Ok(DpopMode::Allowed),
            "required" => Ok(DpopMode::Required),
            other => Err(format!(
                "unknown DPoP mode `{other}` (expected `off`, `allowed` or `required`)"
            )),
        }
    }
}

/// The proof algorithms accepted by default: the asymmetric ones clients use.
pub const DEFAULT_PROOF_ALGORITHMS: [Algorithm; 5] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::PS256,
    Algorithm::RS256,
];
/// Default leeway on a proof's `iat`, both ways.
pub const DEFAULT_PROOF_LEEWAY: Duration = Duration::from_secs(5);
/// Default maximum age of a proof: a proof is made for one request, now.
pub const DEFAULT_PROOF_MAX_AGE: Duration = Duration::from_secs(60);
/// Default size of the local replay cache.
pub const DEFAULT_REPLAY_CAPACITY: u64 = 100_000;

/// How sender-constrained tokens are checked: the DPoP mode and proof rules,
/// the replay store, server nonces, the URL clients use, and where client
/// certificates come from. Set on an [`Authenticator`](crate::Authenticator);
/// the default allows both schemes with the local replay cache.
#[derive(Clone)]
pub struct Binding {
    mode: DpopMode,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    max_age: Duration,
    nonces: Option<Nonces>,
    replay_capacity: u64,
    /// Made on the first proof: an authenticator that never sees one pays nothing.
    local: Arc<OnceLock<LocalReplayCache>>,
    shared: Option<Arc<dyn ReplayStore>>,
    origin: Origin,
    certificate_header: Option<http::HeaderName>,
}

impl fmt::Debug for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Binding")
            .field("mode", &self.mode)
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("max_age", &self.max_age)
            .field("nonces", &self.nonces)
            .field("shared_replay_store", &self.shared.is_some())
            .field("origin", &self.origin)
            .field("certificate_header", &self.certificate_header)
            .finish()
    }
}

impl Default for Binding {
    fn default() -> Self {
        Binding::new()
    }
}

impl Binding {
    /// DPoP allowed beside bearer tokens, default proof rules, the local
    /// replay cache, no nonces, URLs from the request (`https` unless the
    /// request line names a scheme), no certificate header.
    pub fn new() -> Self {
        Binding {
            mode: DpopMode::Allowed,
            algorithms: DEFAULT_PROOF_ALGORITHMS.to_vec(),
            leeway: DEFAULT_PROOF_LEEWAY,
            max_age: DEFAULT_PROOF_MAX_AGE,
            nonces: None,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            local: Arc::new(OnceLock::new()),
            shared: None,
            origin: Origin::Request {
                default_scheme: "https".to_owned(),
            },
            certificate_header: None,
        }
    }

    /// Which schemes are taken (default [`DpopMode::Allowed`]).
    pub fn dpop(mut self, mode: DpopMode) -> Self {
        self.mode = mode;
        self
    }

    /// The configured DPoP mode.
    pub fn mode(&self) -> DpopMode {
        self.mode
    }

    /// The proof algorithms accepted (default [`DEFAULT_PROOF_ALGORITHMS`]).
    /// HMAC algorithms are refused: a proof's key is public.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Result<Self, ConfigError> {
        let algorithms: Vec<Algorithm> = algorithms.into_iter().collect();
        if algorithms.is_empty() {
            return Err(ConfigError::NoAlgorithm);
        }
        if algorithms
            .iter()
            .any(|alg| matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(ConfigError::Binding("DPoP proofs take no HMAC algorithm"));
        }
        self.algorithms = algorithms;
        Ok(self)
    }

    /// What RFC 9728 §2 metadata says of DPoP: the proof algorithms (unless
    /// DPoP is off), and whether DPoP-bound tokens are required.
    pub(crate) fn metadata(&self) -> serde_json::Map<String, Value> {
        let mut members = serde_json::Map::new();
        if self.mode != DpopMode::Off {
            let algs: Vec<Value> = self
                .algorithms
                .iter()
                .map(|alg| Value::from(format!("{alg:?}")))
                .collect();
            members.insert("dpop_signing_alg_values_supported".into(), Value::Array(algs));
        }
        if self.mode == DpopMode::Required {
            members.insert("dpop_bound_access_tokens_required".into(), Value::Bool(true));
        }
        members
    }

    /// The accepted proof algorithms, in the order configured (the `algs` of
    /// the `DPoP` challenge).
    pub fn proof_algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The window of a proof's `iat`: at most `max_age` old and at most
    /// `leeway` ahead, each give or take `leeway` (defaults
    /// [`DEFAULT_PROOF_MAX_AGE`], [`DEFAULT_PROOF_LEEWAY`]). Proof
    /// identifiers are remembered as long as their proof could be accepted.
    pub fn proof_window(mut self, leeway: Duration, max_age: Duration) -> Self {
        self.leeway = leeway;
        self.max_age = max_age;
        self
    }

    /// Requires server nonces in proofs (RFC 9449 §9).
    pub fn nonces(mut self, nonces: Nonces) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// The size of the local replay cache (default [`DEFAULT_REPLAY_CAPACITY`];
    /// at least 1: the local check is never off).
    pub fn replay_capacity(mut self, capacity: u64) -> Self {
        self.replay_capacity = capacity;
        self.local = Arc::new(OnceLock::new());
        self
    }

    /// A replay store shared by every instance, asked after the local cache:
    /// a proof replayed to another instance is refused too.
    pub fn replay_store(mut self, store: impl ReplayStore) -> Self {
        self.shared = Some(Arc::new(store));
        self
    }

    /// The URL clients use, when the server sees another (behind a proxy or
    /// gateway): `https://api.example.com`, or with a path prefix the proxy
    /// strips (`https://example.com/api`). The request's path is appended.
    pub fn public_url(mut self, base: &str) -> Result<Self, ConfigError> {
        let normalized = url::normalize(base).ok_or(ConfigError::Binding(
            "the public URL must be an absolute http(s) URL without userinfo",
        ))?;
        self.origin = Origin::Public(normalized.trim_end_matches('/').to_owned());
        Ok(self)
    }

    /// Reads the scheme and host clients used from `Forwarded` (RFC 7239),
    /// else `X-Forwarded-Proto` and `X-Forwarded-Host`. Only behind a proxy
    /// that sets (and so overwrites) them: a client can send them too.
    pub fn trust_forwarded_headers(mut self) -> Self {
        self.origin = Origin::Forwarded {
            default_scheme: "https".to_owned(),
        };
        self
    }

    /// The scheme assumed when neither the request line nor a trusted
    /// header names one (default `https`; `http` for plain-text development
    /// servers).
    pub fn default_scheme(mut self, scheme: &str) -> Self {
        let scheme = scheme.to_ascii_lowercase();
        self.origin = match self.origin {
            Origin::Forwarded { .. } => Origin::Forwarded { default_scheme: scheme },
            Origin::Request { .. } => Origin::Request { default_scheme: scheme },
            public => public,
        };
        self
    }

    /// Reads the client certificate from request header `name`, set by a
    /// trusted proxy that terminates TLS: URL-encoded PEM (nginx's
    /// `$ssl_client_escaped_cert`, AWS ALB's `X-Amzn-Mtls-Clientcert`) or
    /// Envoy's `x-forwarded-client-cert`. Off by default: only a proxy that
    /// removes the header from clients' requests may be trusted with it.
    pub fn certificate_header(mut self, name: http::HeaderName) -> Self {
        self.certificate_header = Some(name);
        self
    }

    /// The evidence of a token read without a request (a Lambda `TOKEN`
    /// event): no proof, no certificate; the mode still applies.
    pub(crate) fn evidence_of_token(&self, source: Source) -> Result<Evidence, Error> {
        if !self.mode.admits(source) {
            return Err(InvalidToken::Scheme.into());
        }
        Ok(Evidence::default())
    }

    /// What the binding stage needs of a request, read before verification
    /// so that a pending verification owns it. Refuses at once a scheme the
    /// mode does not take and a `DPoP` scheme without exactly one proof.
    pub(crate) fn evidence<H: Headers + ?Sized>(
        &self,
        parts: &RequestParts<'_, H>,
        source: Source,
    ) -> Result<Evidence, Error> {
        if !self.mode.admits(source) {
            return Err(InvalidToken::Scheme.into());
        }
        let proof = if source == Source::Dpop {
            Some(self.proof_of(parts)?)
        } else {
            None
        };
        Ok(Evidence {
            proof,
            certificate: self.certificate_of(parts),
        })
    }

    fn proof_of<H: Headers + ?Sized>(&self, parts: &RequestParts<'_, H>) -> Result<ProofEvidence, Error> {
        let mut values = parts.headers().header_values("dpop");
        let value = values.next().ok_or(InvalidProof::Missing)?;
        if values.next().is_some() {
            return Err(InvalidProof::Multiple.into());
        }
        if value.len() > proof::MAX_PROOF_BYTES {
            return Err(InvalidProof::TooLarge.into());
        }
        let proof = std::str::from_utf8(value).map_err(|_| InvalidProof::Malformed)?;
        Ok(ProofEvidence {
            proof: proof.trim().to_owned(),
            method: parts.method().to_owned(),
            url: self.origin.url_of(parts),
        })
    }

    /// The thumbprint of the request's client certificate: the connection's,
    /// else the trusted proxy header's.
    fn certificate_of<H: Headers + ?Sized>(&self, parts: &RequestParts<'_, H>) -> Option<String> {
        if let Some(der) = parts.client_certificate() {
            return Some(certificate_thumbprint(der));
        }
        let name = self.certificate_header.as_ref()?;
        let mut values = parts.headers().header_values(name.as_str());
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        certificate::from_proxy_header(value).map(|der| certificate_thumbprint(&der))
    }

    /// The binding stage: the principal's token checked against the
    /// request's evidence. Decided at once unless a shared replay store must
    /// be asked.
    pub(crate) fn check(&self, evidence: &Evidence, token: &str, principal: &Principal) -> Checked {
        match self.check_now(evidence, token, principal) {
            Ok(Some(proof)) => self.replay_check(&proof.0, proof.1),
            Ok(None) => Checked::Done(Ok(None)),
            Err(error) => Checked::Done(Err(error)),
        }
    }

    /// Everything but the replay check: the proof (with the nonce to offer
    /// on success, if any) when the `DPoP` scheme was used.
    fn check_now(
        &self,
        evidence: &Evidence,
        token: &str,
        principal: &Principal,
    ) -> Result<Option<(CheckedProof, Option<String>)>, Error> {
        let confirmation = Confirmation::of(principal)?;
        if let Some(x5t) = confirmation.x5t_s256
            && evidence.certificate.as_deref() != Some(x5t)
        {
            return Err(InvalidToken::Certificate.into());
        }
        let Some(found) = &evidence.proof else {
            if confirmation.jkt.is_some() {
                return Err(InvalidToken::Binding.into());
            }
            return Ok(None);
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let checked = proof::check(
            &found.proof,
            &Expected {
                algorithms: &self.algorithms,
                method: &found.method,
                url: found.url.as_deref(),
                access_token: token,
                leeway: self.leeway,
                max_age: self.max_age,
                now,
            },
        )?;
        proof::check_key_binding(confirmation.jkt, &checked)?;
        let offer = match &self.nonces {
            None => None,
            Some(nonces) => match nonces.check(checked.nonce.as_deref()) {
                NonceCheck::Current => None,
                NonceCheck::Rotated(fresh) => Some(fresh),
                NonceCheck::Refused(fresh) => return Err(Error::UseDpopNonce(fresh)),
            },
        };
        Ok(Some((checked, offer)))
    }

    /// The proof's first use: the local cache decides at once; a shared
    /// store, asked after it, may have to be waited for.
    fn replay_check(&self, proof: &CheckedProof, offer: Option<String>) -> Checked {
        // Keyed by key and `jti`: identifiers are unique per client, not across them.
        let key = format!(
            "dpop:{}",
            crypto::sha256_base64url(format!("{}.{}", proof.thumbprint, proof.jti).as_bytes())
        );
        let local = self.local.get_or_init(|| LocalReplayCache::new(self.replay_capacity));
        if !local.first_use_now(&key, proof.remaining) {
            return Checked::Done(Err(InvalidProof::Replayed.into()));
        }
        match &self.shared {
            None => Checked::Done(Ok(offer)),
            Some(store) => Checked::Shared(SharedCheck {
                store: store.clone(),
                key,
                ttl: proof.remaining,
                offer,
            }),
        }
    }
}

/// The `cnf` claim's members this stage acts on.
struct Confirmation<'a> {
    jkt: Option<&'a str>,
    x5t_s256: Option<&'a str>,
}

impl<'a> Confirmation<'a> {
    /// A `cnf` that is not an object, or a member of the wrong type, binds
    /// the token to something unknown: refused rather than ignored.
    fn of(principal: &'a Principal) -> Result<Self, Error> {
        let Some(cnf) = principal.claims().get("cnf") else {
            return Ok(Confirmation {
                jkt: None,
                x5t_s256: None,
            });
        };
        let cnf = cnf.as_object().ok_or(InvalidToken::ClaimType)?;
        let member = |name: &str| match cnf.get(name) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.as_str())),
            Some(_) => Err(Error::from(InvalidToken::ClaimType)),
        };
        Ok(Confirmation {
            jkt: member("jkt")?,
            x5t_s256: member("x5t#S256")?,
        })
    }
}

/// What the binding stage reads of a request, owned.
#[derive(Debug, Default)]
pub(crate) struct Evidence {
    /// Present when the `DPoP` scheme was used.
    proof: Option<ProofEvidence>,
    /// The client certificate's `x5t#S256`, if one came.
    certificate: Option<String>,
}

/// The proof and what it must fit. `Debug` leaves the proof out.
struct ProofEvidence {
    proof: String,
    method: String,
    url: Option<String>,
}

impl fmt::Debug for ProofEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProofEvidence")
            .field("proof", &format_args!("<{} bytes redacted>", self.proof.len()))
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// The binding stage's answer: decided (with a nonce to offer on success),
/// or a shared replay store still to ask.
pub(crate) enum Checked {
    Done(Result<Option<String>, Error>),
    Shared(SharedCheck),
}

/// A first-use question for the shared store, owning what it needs.
pub(crate) struct SharedCheck {
    store: Arc<dyn ReplayStore>,
    key: String,
    ttl: Duration,
    offer: Option<String>,
}

/// The longest a request waits on the shared replay store: past it, the
/// proof's freshness is unknown and the request is refused (503).
pub const REPLAY_STORE_TIMEOUT: Duration = Duration::from_millis(250);

impl SharedCheck {
    /// Asks the store, for at most [`REPLAY_STORE_TIMEOUT`]; a store that
    /// fails or is slower refuses the request (503).
    pub(crate) async fn run(self) -> Result<Option<String>, Error> {
        let asked = tokio::time::timeout(REPLAY_STORE_TIMEOUT, self.store.first_use(&self.key, self.ttl)).await;
        match asked {
            Ok(Ok(true)) => Ok(self.offer),
            Ok(Ok(false)) => Err(InvalidProof::Replayed.into()),
            Ok(Err(error)) => {
                tracing::warn!(%error, "DPoP replay store unavailable: request refused");
                Err(Error::ReplayStoreUnavailable)
            }
            Err(_) => {
                tracing::warn!("DPoP replay store did not answer in time: request refused");
                Err(Error::ReplayStoreUnavailable)
            }
        }
    }
}
