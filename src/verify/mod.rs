//! Token verification: algorithm, key, signature, issuer, audience, time.

mod cache;
#[cfg(feature = "remote-keys")]
mod introspect;
#[cfg(feature = "remote-keys")]
mod jwks;
pub(crate) mod keys;
mod token;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};
#[cfg(feature = "remote-keys")]
use url::Url;

#[cfg(feature = "remote-keys")]
pub use introspect::Introspection;
#[cfg(feature = "remote-keys")]
pub use jwks::FetchPolicy;
pub use keys::{KeyError, KeySet};

use self::cache::TokenCache;
#[cfg(feature = "remote-keys")]
use self::introspect::{Answer, Introspector};
#[cfg(feature = "remote-keys")]
use self::jwks::RemoteKeys;
use self::keys::{Algorithms, Lookup};
use self::token::Parts;
use crate::credential::Credential;
use crate::error::{Error, InvalidToken};
use crate::principal::{Principal, PrincipalMapping};
use crate::resource::ProtectedResource;
use crate::telemetry;

/// Default capacity of the verified-token cache.
pub const DEFAULT_CACHE_CAPACITY: u64 = 10_000;

/// Largest time claim accepted (9999-12-31T23:59:59Z): larger values are not
/// dates, and would overflow once leeway is added.
const MAX_TIMESTAMP: u64 = 253_402_300_799;

/// One accepted issuer: its `iss`, audiences and keys.
///
/// ```
/// use authorizer::Issuer;
/// let issuer = Issuer::discover("https://auth.example.com").audience("api://orders");
/// let by_url = Issuer::jwks("https://auth.example.com", "https://auth.example.com/jwks.json");
/// ```
#[derive(Debug, Clone)]
pub struct Issuer {
    iss: String,
    audiences: Vec<String>,
    access_token_profile: bool,
    keys: IssuerKeys,
    #[cfg(feature = "remote-keys")]
    policy: FetchPolicy,
    #[cfg(feature = "remote-keys")]
    introspection: Option<Introspection>,
}

#[derive(Debug, Clone)]
enum IssuerKeys {
    Static(KeySet),
    #[cfg(feature = "remote-keys")]
    Jwks(String),
    #[cfg(feature = "remote-keys")]
    Discovery,
}

impl Issuer {
    /// Keys found through `{iss}/.well-known/openid-configuration`.
    #[cfg(feature = "remote-keys")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
    pub fn discover(iss: impl Into<String>) -> Self {
        Issuer::with_keys(iss, IssuerKeys::Discovery)
    }

    /// Keys fetched from a JWKS URL.
    #[cfg(feature = "remote-keys")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
    pub fn jwks(iss: impl Into<String>, jwks_url: impl Into<String>) -> Self {
        Issuer::with_keys(iss, IssuerKeys::Jwks(jwks_url.into()))
    }

    /// Fixed keys (PEM, JWK, JWKS document or shared secret).
    pub fn static_keys(iss: impl Into<String>, keys: KeySet) -> Self {
        Issuer::with_keys(iss, IssuerKeys::Static(keys))
    }

    fn with_keys(iss: impl Into<String>, keys: IssuerKeys) -> Self {
        Issuer {
            iss: iss.into(),
            audiences: Vec::new(),
            access_token_profile: false,
            keys,
            #[cfg(feature = "remote-keys")]
            policy: FetchPolicy::default(),
            #[cfg(feature = "remote-keys")]
            introspection: None,
        }
    }

    /// Accepts tokens whose `aud` names this audience (may be called again for more).
    /// With no audience configured, `aud` is not checked.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Accepts tokens whose `aud` names any of these audiences.
    pub fn audiences(mut self, audiences: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.audiences.extend(audiences.into_iter().map(Into::into));
        self
    }

    /// Accepts only JWT access tokens as RFC 9068 profiles them: the `typ`
    /// header `at+jwt` (or `application/at+jwt`), and the claims `iss`,
    /// `exp`, `aud`, `sub`, `client_id`, `iat` and `jti` present (`sub`,
    /// `client_id` and `jti` as strings). Any other token from this issuer
    /// is refused as `invalid_token` (401), whatever the verifier's own `typ`
    /// and `require_exp` settings say.
    ///
    /// The recommended setting for an OAuth authorization server's access
    /// tokens: it keeps an ID token or another JWT from the same issuer from
    /// passing as an access token. The profile requires checking `aud`, so
    /// [`build`](VerifierBuilder::build) refuses it without an
    /// [`audience`](Issuer::audience).
    ///
    /// ```
    /// use authorizer::{Issuer, Verifier};
    ///
    /// let verifier = Verifier::builder()
    ///     .issuer(
    ///         Issuer::discover("https://auth.example.com")
    ///             .audience("https://api.example.com")
    ///             .access_token_profile(),
    ///     )
    ///     .build()?;
    /// # Ok::<(), authorizer::ConfigError>(())
    /// ```
    pub fn access_token_profile(mut self) -> Self {
        self.access_token_profile = true;
        self
    }

    /// How the remote key set is fetched and cached (and, with
    /// [`introspection`](Issuer::introspection), how the endpoint is called:
    /// its timeout, body limit and `https` rule).
    #[cfg(feature = "remote-keys")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
    pub fn fetch_policy(mut self, policy: FetchPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Accepts opaque access tokens (anything but a compact JWS) by asking
    /// this issuer (RFC 7662); see [`Introspection`]. An opaque token is only
    /// ever sent to this one issuer, so at most one issuer of a verifier may
    /// introspect. Its answer is checked as a JWT would be (`iss`, `aud`,
    /// times) and becomes the same [`Principal`].
    #[cfg(feature = "remote-keys")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
    pub fn introspection(mut self, introspection: Introspection) -> Self {
        self.introspection = Some(introspection);
        self
    }
}

/// The verifier could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No issuer was configured.
    #[error("no issuer configured")]
    NoIssuer,
    /// Two issuers share an `iss`.
    #[error("issuer {0} is configured twice")]
    DuplicateIssuer(String),
    /// A URL does not parse or is not allowed.
    #[cfg(feature = "remote-keys")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
    #[error("issuer {iss}: {reason}")]
    Url {
        /// The issuer.
        iss: String,
        /// What is wrong.
        reason: String,
    },
    /// The RFC 9068 access-token profile is on without an audience to check.
    #[error("issuer {0}: the access-token profile needs an audience")]
    ProfileWithoutAudience(String),
    /// Static keys were empty or none fits the allowed algorithms.
    #[error("issuer {0}: no static key fits the allowed algorithms")]
    NoUsableKey(String),
    /// `none` or another algorithm that is never allowed.
    #[error("algorithm list is empty")]
    NoAlgorithm,
    /// More than one issuer introspects: an opaque token names no issuer, and
    /// must never be sent to one that did not issue it.
    #[cfg(feature = "remote-keys")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
    #[error("issuers {0} and {1} both introspect; an opaque token can go to one issuer only")]
    SeveralIntrospections(String, String),
    /// The HTTP client could not be built.
    #[cfg(feature = "remote-keys")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
    #[error("HTTP client: {0}")]
    Client(String),
}

/// Builds a [`Verifier`].
#[derive(Debug, Clone)]
pub struct VerifierBuilder {
    issuers: Vec<Issuer>,
    algorithms: Option<Vec<Algorithm>>,
    leeway: Duration,
    require_exp: bool,
    typ: Option<String>,
    max_age: Option<Duration>,
    mapping: PrincipalMapping,
    cache_capacity: u64,
    resource: Option<ProtectedResource>,
    #[cfg(feature = "remote-keys")]
    client: Option<reqwest::Client>,
}

impl VerifierBuilder {
    /// Adds an issuer. Tokens are matched to issuers by their `iss`.
    pub fn issuer(mut self, issuer: Issuer) -> Self {
        self.issuers.push(issuer);
        self
    }

    /// The algorithm allow-list. Default: every asymmetric algorithm (RS*, PS*,
    /// ES256, ES384, EdDSA), plus HS* only for issuers with a shared secret.
    /// A token's `alg` must be on this list *and* fit the key it names.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Whether `exp` must be present (default yes).
    pub fn require_exp(mut self, require: bool) -> Self {
        self.require_exp = require;
        self
    }

    /// Requires this `typ` header (compared case-insensitively, an
    /// `application/` prefix allowed), e.g. `at+jwt` (RFC 9068).
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }

    /// Rejects tokens issued (`iat`) longer ago than this; `iat` becomes required.
    pub fn max_token_age(mut self, age: Duration) -> Self {
        self.max_age = Some(age);
        self
    }

    /// How claims become a [`Principal`] (id claim, context claims).
    pub fn principal_mapping(mut self, mapping: PrincipalMapping) -> Self {
        self.mapping = mapping;
        self
    }

    /// The OAuth protected resource (RFC 9728) this verifier guards: issuers
    /// configured without an audience accept only tokens whose `aud` names
    /// its identifier, and an [`Authenticator`](crate::Authenticator) built on
    /// this verifier points every challenge to its metadata. See
    /// [`resource`](crate::resource).
    pub fn protected_resource(mut self, resource: ProtectedResource) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Capacity of the verified-token cache (default 10,000; 0 turns it off).
    pub fn cache_capacity(mut self, capacity: u64) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// The HTTP client for key fetches and introspection (custom CA, proxy,
    /// mTLS). Its own timeouts apply besides [`FetchPolicy::timeout`]. Build
    /// it with `redirect::Policy::none()`, as the default client is: an
    /// answer that comes from another URL than the one asked is refused
    /// anyway, but a client that follows a redirect has already sent the
    /// request (with an introspection call, the token and client secret) on. With `rust-crypto`
    /// alone, reqwest has no rustls crypto provider of its own: give this
    /// client one, or install a process default before building it.
    #[cfg(feature = "remote-keys")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Checks the configuration and builds the verifier. No network traffic
    /// happens here: remote keys are fetched on first need.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        crate::crypto::ensure_provider();
        if self.issuers.is_empty() {
            return Err(ConfigError::NoIssuer);
        }
        #[cfg(feature = "remote-keys")]
        let client = match self.client {
            Some(client) => client,
            None => default_client()?,
        };
        let allowed = match &self.algorithms {
            Some(list) => Algorithms::of(list),
            None => Algorithms::ASYMMETRIC.union(Algorithms::HMAC),
        };
        if allowed.is_empty() {
            return Err(ConfigError::NoAlgorithm);
        }
        let mut issuers: Vec<IssuerState> = Vec::with_capacity(self.issuers.len());
        for mut issuer in self.issuers {
            if let (Some(resource), true) = (&self.resource, issuer.audiences.is_empty()) {
                issuer.audiences.push(resource.identifier().to_owned());
            }
            if issuers.iter().any(|i| i.iss == issuer.iss) {
                return Err(ConfigError::DuplicateIssuer(issuer.iss));
            }
            issuers.push(IssuerState::new(
                issuer,
                allowed,
                #[cfg(feature = "remote-keys")]
                &client,
            )?);
        }
        #[cfg(feature = "remote-keys")]
        if let [first, second, ..] = issuers
            .iter()
            .filter(|issuer| issuer.introspector.is_some())
            .collect::<Vec<_>>()[..]
        {
            return Err(ConfigError::SeveralIntrospections(
                first.iss.clone(),
                second.iss.clone(),
            ));
        }
        Ok(Verifier {
            inner: Arc::new(Inner {
                issuers,
                leeway: self.leeway.as_secs(),
                require_exp: self.require_exp,
                typ: self.typ,
                max_age: self.max_age.map(|d| d.as_secs()),
                mapping: self.mapping,
                cache: (self.cache_capacity > 0).then(|| TokenCache::new(self.cache_capacity)),
                resource: self.resource.map(Arc::new),
            }),
        })
    }
}

/// The client for key fetches when none is given: rustls, no redirects.
#[cfg(feature = "remote-keys")]
fn default_client() -> Result<reqwest::Client, ConfigError> {
    let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    // With aws-lc-rs, reqwest's own rustls setup uses that provider; without
    // it, reqwest has no provider of its own and takes ours.
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    let builder =
        builder.tls_backend_preconfigured(crate::crypto::tls_config().map_err(|e| ConfigError::Client(e.to_string()))?);
    builder.build().map_err(|e| ConfigError::Client(e.to_string()))
}

struct IssuerState {
    iss: String,
    audiences: Vec<String>,
    access_token_profile: bool,
    algorithms: Algorithms,
    keys: KeySource,
    #[cfg(feature = "remote-keys")]
    introspector: Option<Introspector>,
}

enum KeySource {
    Static(Arc<KeySet>),
    #[cfg(feature = "remote-keys")]
    Remote(Box<RemoteKeys>),
}

impl IssuerState {
    fn new(
        issuer: Issuer,
        allowed: Algorithms,
        #[cfg(feature = "remote-keys")] client: &reqwest::Client,
    ) -> Result<Self, ConfigError> {
        if issuer.access_token_profile && issuer.audiences.is_empty() {
            return Err(ConfigError::ProfileWithoutAudience(issuer.iss));
        }
        #[cfg(feature = "remote-keys")]
        let url_error = |reason: String| ConfigError::Url {
            iss: issuer.iss.clone(),
            reason,
        };
        // Symmetric algorithms only ever with a configured secret.
        #[cfg(feature = "remote-keys")]
        let asymmetric = allowed.intersect(Algorithms::ASYMMETRIC);
        let (keys, algorithms) = match issuer.keys {
            IssuerKeys::Static(set) => {
                let algorithms = allowed.intersect(set.algorithms());
                if algorithms.is_empty() {
                    return Err(ConfigError::NoUsableKey(issuer.iss));
                }
                (KeySource::Static(Arc::new(set)), algorithms)
            }
            #[cfg(feature = "remote-keys")]
            IssuerKeys::Jwks(url) => {
                let url = Url::parse(&url).map_err(|e| url_error(e.to_string()))?;
                jwks::check_url(&url, issuer.policy.allow_plain_http).map_err(url_error)?;
                let remote = RemoteKeys::new(
                    issuer.iss.clone(),
                    jwks::Location::Jwks(url),
                    issuer.policy.clone(),
                    client.clone(),
                );
                (KeySource::Remote(Box::new(remote)), asymmetric)
            }
            #[cfg(feature = "remote-keys")]
            IssuerKeys::Discovery => {
                let url = Url::parse(&issuer.iss).map_err(|e| url_error(e.to_string()))?;
                jwks::check_url(&url, issuer.policy.allow_plain_http).map_err(url_error)?;
                let location = jwks::Location::Discovery {
                    issuer: issuer.iss.clone(),
                };
                (
                    KeySource::Remote(Box::new(RemoteKeys::new(
                        issuer.iss.clone(),
                        location,
                        issuer.policy.clone(),
                        client.clone(),
                    ))),
                    asymmetric,
                )
            }
        };
        #[cfg(feature = "remote-keys")]
        let introspector = match issuer.introspection {
            Some(config) => {
                Some(Introspector::new(&issuer.iss, config, issuer.policy.clone(), client.clone()).map_err(url_error)?)
            }
            None => None,
        };
        Ok(IssuerState {
            iss: issuer.iss,
            audiences: issuer.audiences,
            access_token_profile: issuer.access_token_profile,
            algorithms,
            keys,
            #[cfg(feature = "remote-keys")]
            introspector,
        })
    }

    #[cfg_attr(not(feature = "remote-keys"), allow(unused_variables))]
    async fn keys_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<Arc<KeySet>, Error> {
        match &self.keys {
            KeySource::Static(keys) => Ok(keys.clone()),
            #[cfg(feature = "remote-keys")]
            KeySource::Remote(remote) => remote.keys_for(kid, alg).await,
        }
    }
}

/// Verifies tokens and turns them into [`Principal`]s. Cheap to clone; share one.
///
/// ```
/// # use authorizer::{Issuer, Verifier};
/// let verifier = Verifier::builder()
///     .issuer(Issuer::discover("https://auth.example.com").audience("orders"))
///     .build()?;
/// # Ok::<(), authorizer::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuers: Vec<IssuerState>,
    leeway: u64,
    require_exp: bool,
    typ: Option<String>,
    max_age: Option<u64>,
    mapping: PrincipalMapping,
    cache: Option<TokenCache>,
    resource: Option<Arc<ProtectedResource>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field(
                "issuers",
                &self.inner.issuers.iter().map(|i| &i.iss).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// What a successful verification yields besides the principal.
struct Verified {
    principal: Principal,
    /// The earliest of `exp` and `iat + max age`, as a Unix time.
    valid_until: Option<u64>,
}

impl Verifier {
    /// Starts a configuration.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder {
            issuers: Vec::new(),
            algorithms: None,
            leeway: Duration::from_secs(60),
            require_exp: true,
            typ: None,
            max_age: None,
            mapping: PrincipalMapping::default(),
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            resource: None,
            #[cfg(feature = "remote-keys")]
            client: None,
        }
    }

    /// The protected resource this verifier guards, if configured.
    pub fn protected_resource(&self) -> Option<&ProtectedResource> {
        self.inner.resource.as_deref()
    }

    /// The `iss` of every configured issuer, in configuration order.
    pub fn issuer_ids(&self) -> impl Iterator<Item = &str> {
        self.inner.issuers.iter().map(|issuer| issuer.iss.as_str())
    }

    /// Fetches every remote key set now, instead of on the first request
    /// that needs it: for a Lambda function's init phase (billed apart, and
    /// free of the request's latency) or a server's start. Key sets already
    /// held are not fetched again.
    ///
    /// [`Error::KeysUnavailable`] when an issuer's set could not be had; the
    /// verifier still works, and tries again on first need once the short
    /// retry interval has passed.
    ///
    /// ```no_run
    /// # use authorizer::{Issuer, Verifier};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
    /// if let Err(error) = verifier.fetch_keys().await {
    ///     eprintln!("keys not fetched at start ({error}); fetched on first need");
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "remote-keys")]
    #[cfg_attr(docsrs, doc(cfg(feature = "remote-keys")))]
    pub async fn fetch_keys(&self) -> Result<(), Error> {
        let mut result = Ok(());
        for issuer in &self.inner.issuers {
            if let KeySource::Remote(remote) = &issuer.keys
                && let Err(error) = remote.prefetch().await
            {
                result = Err(error);
            }
        }
        result
    }

    /// Verifies a credential, answering from the verified-token cache when it can.
    pub async fn verify(&self, credential: Credential<'_>) -> Result<Principal, Error> {
        if let Some(principal) = self.cached(&credential) {
            return Ok(principal);
        }
        self.verify_missed(credential).await
    }

    /// The cached principal for a credential, without verifying anything.
    pub(crate) fn cached(&self, credential: &Credential<'_>) -> Option<Principal> {
        let found = self.inner.cache.as_ref()?.get(credential.token(), credential.source());
        telemetry::cache_lookup(found.is_some());
        found
    }

    /// Verifies a credential that [`Verifier::cached`] did not find, and
    /// caches it if it verifies.
    pub(crate) async fn verify_missed(&self, credential: Credential<'_>) -> Result<Principal, Error> {
        let verified = self.verify_uncached(&credential).await?;
        if let Some(cache) = &self.inner.cache
            && let Some(deadline) = verified.valid_until.and_then(instant_at)
        {
            cache.insert(credential.token(), verified.principal.clone(), deadline);
        }
        Ok(verified.principal)
    }

    async fn verify_uncached(&self, credential: &Credential<'_>) -> Result<Verified, Error> {
        #[cfg(feature = "remote-keys")]
        if introspect::is_opaque(credential.token())
            && let Some((issuer, introspector)) = self.introspecting_issuer()
        {
            return self.introspect_opaque(issuer, introspector, credential).await;
        }
        let (verified, _issuer) = self.verify_jwt(credential).await?;
        #[cfg(feature = "remote-keys")]
        if let Some(introspector) = _issuer
            .introspector
            .as_ref()
            .filter(|introspector| introspector.config().introspects_jwts())
        {
            return confirm_active(introspector, credential.token(), verified).await;
        }
        Ok(verified)
    }

    /// The one issuer that introspects, if any.
    #[cfg(feature = "remote-keys")]
    fn introspecting_issuer(&self) -> Option<(&IssuerState, &Introspector)> {
        self.inner
            .issuers
            .iter()
            .find_map(|issuer| Some((issuer, issuer.introspector.as_ref()?)))
    }

    /// An opaque token, by the issuer's answer: checked as a JWT's claims
    /// would be, and cached no longer than the configured maximum.
    #[cfg(feature = "remote-keys")]
    async fn introspect_opaque(
        &self,
        issuer: &IssuerState,
        introspector: &Introspector,
        credential: &Credential<'_>,
    ) -> Result<Verified, Error> {
        telemetry::record_current("issuer", &issuer.iss.as_str());
        let Answer::Active(answer) = introspector.introspect(credential.token()).await? else {
            return Err(InvalidToken::Inactive.into());
        };
        let claims = introspect::claims_of(&issuer.iss, &answer)?;
        let now = unix_now();
        let valid_until = self.check_time(&claims, now, false)?;
        check_audience(&claims, &issuer.audiences)?;
        let principal = self
            .inner
            .mapping
            .principal(claims, credential.source())
            .ok_or(InvalidToken::MissingClaim)?;
        let verified = Verified { principal, valid_until };
        Ok(capped(verified, now, introspector.config().max_ttl()))
    }

    /// A compact JWS, verified locally; with the issuer that signed it.
    async fn verify_jwt(&self, credential: &Credential<'_>) -> Result<(Verified, &IssuerState), Error> {
        let parts = Parts::parse(credential.token())?;
        let header = parts.header()?;
        if let Some(expected) = &self.inner.typ
            && !header.typ.as_deref().is_some_and(|typ| typ_matches(typ, expected))
        {
            return Err(InvalidToken::Type.into());
        }
        let claims = parts.claims()?;
        let issuer = self.issuer_of(&claims)?;
        telemetry::record_current("issuer", &issuer.iss.as_str());
        if issuer.access_token_profile
            && !header
                .typ
                .as_deref()
                .is_some_and(|typ| typ_matches(typ, ACCESS_TOKEN_TYP))
        {
            return Err(InvalidToken::Type.into());
        }
        if !issuer.algorithms.contains(header.alg) {
            return Err(InvalidToken::Algorithm.into());
        }
        telemetry::record_current("alg", &tracing::field::debug(header.alg));
        let keys = issuer.keys_for(header.kid.as_deref(), header.alg).await?;
        let key = match keys.find(header.kid.as_deref(), header.alg) {
            Lookup::Found(key) => {
                if let Some(kid) = &key.kid {
                    telemetry::record_current("kid", &kid.as_str());
                }
                key
            }
            Lookup::UnknownKid => return Err(InvalidToken::UnknownKey.into()),
            Lookup::WrongAlgorithm => return Err(InvalidToken::Algorithm.into()),
        };
        let signed =
            jsonwebtoken::crypto::verify(parts.signature, parts.signing_input.as_bytes(), &key.key, header.alg);
        if !matches!(signed, Ok(true)) {
            return Err(InvalidToken::Signature.into());
        }
        let valid_until = self.check_time(&claims, unix_now(), self.inner.require_exp)?;
        check_audience(&claims, &issuer.audiences)?;
        if issuer.access_token_profile {
            check_access_token_claims(&claims)?;
        }
        let principal = self
            .inner
            .mapping
            .principal(claims, credential.source())
            .ok_or(InvalidToken::MissingClaim)?;
        Ok((Verified { principal, valid_until }, issuer))
    }

    /// How this verifier turns claims into principals (adapters that read
    /// claims some other way apply the same rule).
    pub(crate) fn mapping(&self) -> &PrincipalMapping {
        &self.inner.mapping
    }

    fn issuer_of(&self, claims: &Map<String, Value>) -> Result<&IssuerState, Error> {
        let iss = claims.get("iss").and_then(Value::as_str).ok_or(InvalidToken::Issuer)?;
        self.inner
            .issuers
            .iter()
            .find(|i| i.iss == iss)
            .ok_or_else(|| InvalidToken::Issuer.into())
    }

    /// Checks `exp`, `nbf`, `iat` and the maximum age; returns when the token
    /// stops being valid (for the cache), if it ever does.
    /// `require_exp`: introspection answers may leave `exp` out (their
    /// cache time is capped instead).
    fn check_time(&self, claims: &Map<String, Value>, now: u64, require_exp: bool) -> Result<Option<u64>, Error> {
        let leeway = self.inner.leeway;
        let exp = timestamp(claims, "exp")?;
        let nbf = timestamp(claims, "nbf")?;
        let iat = timestamp(claims, "iat")?;
        match exp {
            Some(exp) if now > exp.saturating_add(leeway) => return Err(Error::Expired),
            None if require_exp => return Err(InvalidToken::MissingClaim.into()),
            _ => {}
        }
        let latest_start = now.saturating_add(leeway);
        if nbf.is_some_and(|nbf| nbf > latest_start) || iat.is_some_and(|iat| iat > latest_start) {
            return Err(InvalidToken::NotYetValid.into());
        }
        let mut valid_until = exp;
        if let Some(max_age) = self.inner.max_age {
            let iat = iat.ok_or(InvalidToken::MissingClaim)?;
            let too_old_at = iat.saturating_add(max_age);
            if now > too_old_at.saturating_add(leeway) {
                return Err(InvalidToken::TooOld.into());
            }
            valid_until = Some(valid_until.map_or(too_old_at, |v| v.min(too_old_at)));
        }
        Ok(valid_until)
    }
}

/// A NumericDate claim: absent, or an integer between 0 and [`MAX_TIMESTAMP`].
/// Strings, floats, negatives and huge values fail closed.
fn timestamp(claims: &Map<String, Value>, name: &str) -> Result<Option<u64>, Error> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .filter(|t| *t <= MAX_TIMESTAMP)
            .map(Some)
            .ok_or_else(|| InvalidToken::ClaimType.into()),
    }
}

/// A JWT that verified locally, confirmed active by its issuer (RFC 7662),
/// for issuers that revoke at the source.
#[cfg(feature = "remote-keys")]
async fn confirm_active(introspector: &Introspector, token: &str, verified: Verified) -> Result<Verified, Error> {
    match introspector.introspect(token).await? {
        Answer::Active(_) => Ok(capped(verified, unix_now(), introspector.config().max_ttl())),
        Answer::Inactive => Err(InvalidToken::Inactive.into()),
    }
}

/// Cached no longer than `max` from `now`: how long a token revoked at the
/// issuer may still pass.
#[cfg(feature = "remote-keys")]
fn capped(verified: Verified, now: u64, max: Duration) -> Verified {
    let cap = now.saturating_add(max.as_secs());
    Verified {
        valid_until: Some(verified.valid_until.map_or(cap, |until| until.min(cap))),
        ..verified
    }
}

fn check_audience(claims: &Map<String, Value>, accepted: &[String]) -> Result<(), Error> {
    if accepted.is_empty() {
        return Ok(());
    }
    let accepted_one = |aud: &Value| aud.as_str().is_some_and(|aud| accepted.iter().any(|a| a == aud));
    let ok = match claims.get("aud") {
        Some(aud @ Value::String(_)) => accepted_one(aud),
        Some(Value::Array(auds)) => auds.iter().all(Value::is_string) && auds.iter().any(accepted_one),
        _ => false,
    };
    if ok { Ok(()) } else { Err(InvalidToken::Audience.into()) }
}

/// The `typ` of an RFC 9068 access token.
const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// RFC 9068 §2.2: every JWT access token carries these. (`exp`, `iat` and
/// `aud` have had their types checked by now.)
fn check_access_token_claims(claims: &Map<String, Value>) -> Result<(), Error> {
    const REQUIRED: [&str; 7] = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"];
    if REQUIRED.iter().any(|name| claims.get(*name).is_none_or(Value::is_null)) {
        return Err(InvalidToken::MissingClaim.into());
    }
    if ["sub", "client_id", "jti"]
        .iter()
        .any(|name| !claims[*name].is_string())
    {
        return Err(InvalidToken::ClaimType.into());
    }
    Ok(())
}

fn typ_matches(typ: &str, expected: &str) -> bool {
    let strip = |t: &str| {
        let lower = t.to_ascii_lowercase();
        lower.strip_prefix("application/").map(str::to_owned).unwrap_or(lower)
    };
    strip(typ) == strip(expected)
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The monotonic instant at a Unix time (for cache deadlines).
fn instant_at(unix: u64) -> Option<Instant> {
    let remaining = unix.checked_sub(unix_now())?;
    Instant::now().checked_add(Duration::from_secs(remaining))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn verifier() -> Verifier {
        let keys = KeySet::new().with_secret(Algorithm::HS256, &[1; 32], None).unwrap();
        Verifier::builder()
            .issuer(Issuer::static_keys("iss", keys))
            .max_token_age(Duration::from_secs(100))
            .build()
            .unwrap()
    }

    #[test]
    fn time_claims() {
        let v = verifier();
        let now = 1_000_000;
        let ok = |c: Value| v.check_time(&claims(c), now, true);
        assert_eq!(ok(json!({"exp": now + 10, "iat": now})).unwrap(), Some(now + 10));
        assert_eq!(ok(json!({"exp": now + 1000, "iat": now})).unwrap(), Some(now + 100));
        assert!(ok(json!({"exp": now - 30, "iat": now - 50})).is_ok(), "within leeway");
        assert!(matches!(
            ok(json!({"exp": now - 61, "iat": now - 70})),
            Err(Error::Expired)
        ));
        assert!(ok(json!({"exp": now + 10, "iat": now, "nbf": now + 50})).is_ok());
        let invalid = |c: Value| match ok(c) {
            Err(Error::InvalidToken(reason)) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            invalid(json!({"exp": now + 10, "iat": now, "nbf": now + 61})),
            InvalidToken::NotYetValid
        );
        assert_eq!(
            invalid(json!({"exp": now + 10, "iat": now + 61})),
            InvalidToken::NotYetValid
        );
        assert_eq!(invalid(json!({"iat": now})), InvalidToken::MissingClaim);
        assert_eq!(invalid(json!({"exp": now + 10})), InvalidToken::MissingClaim);
        assert_eq!(
            invalid(json!({"exp": now + 10, "iat": now - 200})),
            InvalidToken::TooOld
        );
        for bad in [
            json!("1"),
            json!(1.5),
            json!(-1),
            json!(u64::MAX),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(invalid(json!({"exp": bad, "iat": now})), InvalidToken::ClaimType);
            assert_eq!(
                invalid(json!({"exp": now + 10, "iat": now, "nbf": bad})),
                InvalidToken::ClaimType
            );
        }
    }

    #[test]
    fn audiences() {
        let accepted = ["a".to_owned(), "b".to_owned()];
        let check = |aud: Value| check_audience(&claims(json!({ "aud": aud })), &accepted).is_ok();
        assert!(check(json!("a")));
        assert!(check(json!(["x", "b"])));
        assert!(!check(json!("x")));
        assert!(!check(json!(["x"])));
        assert!(!check(json!(["a", 1])));
        assert!(!check(json!(1)));
        assert!(!check(json!({"a": 1})));
        assert!(check_audience(&claims(json!({})), &accepted).is_err());
        assert!(check_audience(&claims(json!({"aud": 5})), &[]).is_ok());
    }

    #[test]
    fn typ_comparison() {
        assert!(typ_matches("at+jwt", "at+JWT"));
        assert!(typ_matches("application/at+jwt", "at+jwt"));
        assert!(!typ_matches("JWT", "at+jwt"));
    }

    #[test]
    fn configuration_errors() {
        assert!(matches!(Verifier::builder().build(), Err(ConfigError::NoIssuer)));
        let hs_only = KeySet::new().with_secret(Algorithm::HS256, &[1; 32], None).unwrap();
        let twice = Verifier::builder()
            .issuer(Issuer::static_keys("x", hs_only.clone()))
            .issuer(Issuer::static_keys("x", hs_only.clone()))
            .build();
        assert!(matches!(twice, Err(ConfigError::DuplicateIssuer(_))));
        let no_fit = Verifier::builder()
            .issuer(Issuer::static_keys("x", hs_only.clone()))
            .algorithms([Algorithm::RS256])
            .build();
        assert!(matches!(no_fit, Err(ConfigError::NoUsableKey(_))));
        assert!(matches!(
            Verifier::builder()
                .issuer(Issuer::static_keys("x", hs_only))
                .algorithms([])
                .build(),
            Err(ConfigError::NoAlgorithm)
        ));
    }

    #[cfg(feature = "remote-keys")]
    #[test]
    fn remote_configuration_errors() {
        let twice = Verifier::builder()
            .issuer(Issuer::discover("https://a"))
            .issuer(Issuer::discover("https://a"))
            .build();
        assert!(matches!(twice, Err(ConfigError::DuplicateIssuer(_))));
        let plain = Verifier::builder()
            .issuer(Issuer::jwks("x", "http://idp.example.com/jwks"))
            .build();
        assert!(matches!(plain, Err(ConfigError::Url { .. })));
        assert!(matches!(
            Verifier::builder()
                .issuer(Issuer::discover("https://a"))
                .algorithms([])
                .build(),
            Err(ConfigError::NoAlgorithm)
        ));
    }

    /// reqwest sets up TLS when the client is built, for http and https alike:
    /// with a backend whose TLS provider is missing this panics or fails here.
    #[cfg(feature = "remote-keys")]
    #[test]
    fn default_client_builds() {
        default_client().expect("the key-fetch client builds");
        assert!(
            Verifier::builder()
                .issuer(Issuer::discover("https://auth.example.com"))
                .build()
                .is_ok()
        );
    }
}
