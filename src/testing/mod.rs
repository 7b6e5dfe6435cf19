//! A test issuer: signing keys of every supported algorithm, a token minter
//! (well-formed or deliberately broken), and a JWKS / OIDC discovery server on
//! 127.0.0.1 with a fetch counter and switches to simulate an outage.
//!
//! The keys are fixed test keys compiled into this module: never use them
//! outside tests and local demos.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use authorizer::testing::TestIssuer;
//! use authorizer::credential::Credential;
//! use authorizer::{Algorithm, Source};
//!
//! let issuer = TestIssuer::start().await;
//! let verifier = issuer.verifier();
//! let token = issuer.token().subject("alice").claim("st-ev", serde_json::json!({"v": true})).sign();
//! let principal = verifier.verify(Credential::new(&token, Source::Bearer)).await.unwrap();
//! assert_eq!(principal.id(), "alice");
//!
//! let es256 = issuer.token().alg(Algorithm::ES256).sign();
//! assert!(verifier.verify(Credential::new(&es256, Source::Bearer)).await.is_ok());
//! # }
//! ```

mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value, json};

use crate::verify::{FetchPolicy, Issuer, KeySet, Verifier, VerifierBuilder};

/// The audience every minted token carries unless changed.
pub const TEST_AUDIENCE: &str = "authorizer-test";
/// The issuer of an offline [`TestIssuer`] (one that serves nothing).
pub const OFFLINE_ISSUER: &str = "https://issuer.test.invalid";
/// The HS256 shared secret (32 bytes).
pub const HS256_SECRET: &[u8] = b"authorizer-test-hs256-secret-key";

const RSA_PEM: &[u8] = include_bytes!("keys/rsa.pem");
const RSA_NEXT_PEM: &[u8] = include_bytes!("keys/rsa_next.pem");
const P256_PEM: &[u8] = include_bytes!("keys/p256.pem");
const P384_PEM: &[u8] = include_bytes!("keys/p384.pem");
const ED25519_PEM: &[u8] = include_bytes!("keys/ed25519.pem");
/// The public half of the RSA key (for the HMAC-with-public-key attack, say).
pub const RSA_PUBLIC_PEM: &[u8] = include_bytes!("keys/rsa.pub.pem");

/// One signing key with its public JWK.
struct SigningKey {
    alg: Algorithm,
    kid: &'static str,
    encoding: EncodingKey,
    public: Option<Value>,
}

/// The key ids of the published keys, one per algorithm.
pub fn kid_of(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "rs256",
        Algorithm::RS384 => "rs384",
        Algorithm::RS512 => "rs512",
        Algorithm::PS256 => "ps256",
        Algorithm::PS384 => "ps384",
        Algorithm::PS512 => "ps512",
        Algorithm::ES256 => "es256",
        Algorithm::ES384 => "es384",
        Algorithm::EdDSA => "eddsa",
        Algorithm::HS256 => "hs256",
        _ => "other",
    }
}

/// The `kid` of the rotation key, published only after [`TestIssuer::rotate`].
pub const NEXT_KID: &str = "rs256-next";

fn signing_keys() -> Vec<SigningKey> {
    crate::crypto::ensure_provider();
    let rsa = |alg| (alg, EncodingKey::from_rsa_pem(RSA_PEM));
    let mut keys = Vec::new();
    let pairs = [
        rsa(Algorithm::RS256),
        rsa(Algorithm::RS384),
        rsa(Algorithm::RS512),
        rsa(Algorithm::PS256),
        rsa(Algorithm::PS384),
        rsa(Algorithm::PS512),
        (Algorithm::ES256, EncodingKey::from_ec_pem(P256_PEM)),
        (Algorithm::ES384, EncodingKey::from_ec_pem(P384_PEM)),
        (Algorithm::EdDSA, EncodingKey::from_ed_pem(ED25519_PEM)),
    ];
    for (alg, encoding) in pairs {
        let encoding = encoding.expect("embedded test key parses");
        keys.push(SigningKey {
            alg,
            kid: kid_of(alg),
            public: Some(public_jwk(&encoding, alg, kid_of(alg))),
            encoding,
        });
    }
    let next = EncodingKey::from_rsa_pem(RSA_NEXT_PEM).expect("embedded test key parses");
    keys.push(SigningKey {
        alg: Algorithm::RS256,
        kid: NEXT_KID,
        public: Some(public_jwk(&next, Algorithm::RS256, NEXT_KID)),
        encoding: next,
    });
    keys.push(SigningKey {
        alg: Algorithm::HS256,
        kid: kid_of(Algorithm::HS256),
        encoding: EncodingKey::from_secret(HS256_SECRET),
        public: None,
    });
    keys
}

fn public_jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Value {
    let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(key, alg).expect("public JWK of a test key");
    let mut value = serde_json::to_value(jwk).expect("JWK serializes");
    value["kid"] = Value::String(kid.to_owned());
    value["use"] = Value::String("sig".to_owned());
    value
}

/// What the server does; shared with its task.
pub(crate) struct Shared {
    pub(crate) issuer: String,
    pub(crate) jwks_fetches: AtomicU64,
    pub(crate) discovery_fetches: AtomicU64,
    pub(crate) outage: AtomicBool,
    pub(crate) delay_ms: AtomicU64,
    pub(crate) jwks: std::sync::Mutex<JwksResponse>,
    pub(crate) introspections: AtomicU64,
    /// Opaque tokens and their introspection answers (`active` and all).
    pub(crate) opaque: std::sync::Mutex<std::collections::HashMap<String, Value>>,
    /// Served instead of the real introspection answer, when set.
    pub(crate) introspection_body: std::sync::Mutex<Option<String>>,
}

/// The client id the test issuer's introspection endpoint accepts.
pub const TEST_CLIENT_ID: &str = "test-client";
/// The client secret that goes with [`TEST_CLIENT_ID`].
pub const TEST_CLIENT_SECRET: &str = "test-client-secret";

/// The JWKS response the server gives.
#[derive(Clone)]
pub(crate) struct JwksResponse {
    pub(crate) body: String,
    pub(crate) cache_control: Option<String>,
}

/// A token issuer for tests and demos. See the [module docs](self).
///
/// ```
/// use authorizer::testing::TestIssuer;
/// use authorizer::{Authenticator, Source};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let issuer = TestIssuer::start().await; // JWKS and discovery on 127.0.0.1
/// let auth = Authenticator::new(issuer.verifier());
/// let token = issuer.token().subject("user-1").claim("scope", "read:items".into()).sign();
/// let outcome = auth.authenticate_token(&token, Source::Bearer).await;
/// assert!(outcome.principal().unwrap().has_scope("read:items"));
/// let expired = issuer.token().expires_in(-3600).sign();
/// assert!(auth.authenticate_token(&expired, Source::Bearer).await.error().is_some());
/// # }
/// ```
pub struct TestIssuer {
    keys: Arc<Vec<SigningKey>>,
    issuer: String,
    shared: Arc<Shared>,
    addr: Option<SocketAddr>,
    server: Option<tokio::task::JoinHandle<()>>,
    published: std::sync::Mutex<Vec<&'static str>>,
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

impl TestIssuer {
    /// An issuer that serves nothing: verify its tokens with [`TestIssuer::key_set`]
    /// (which [`TestIssuer::verifier`] does).
    pub fn new() -> Self {
        TestIssuer::build(OFFLINE_ISSUER.to_owned(), None, None)
    }

    /// An issuer serving `/.well-known/openid-configuration` and `/jwks.json`
    /// on 127.0.0.1 (a free port); its `iss` is `http://127.0.0.1:PORT`.
    pub async fn start() -> Self {
        TestIssuer::start_on(0).await.expect("bind 127.0.0.1")
    }

    /// Like [`TestIssuer::start`], on a chosen port (0 for any).
    pub async fn start_on(port: u16) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let mut issuer = TestIssuer::build(format!("http://{addr}"), Some(addr), None);
        issuer.server = Some(tokio::spawn(server::serve(listener, issuer.shared.clone())));
        Ok(issuer)
    }

    fn build(issuer: String, addr: Option<SocketAddr>, server: Option<tokio::task::JoinHandle<()>>) -> Self {
        let keys = Arc::new(signing_keys());
        let published: Vec<&'static str> = keys
            .iter()
            .filter(|k| k.public.is_some() && k.kid != NEXT_KID)
            .map(|k| k.kid)
            .collect();
        let shared = Arc::new(Shared {
            issuer: issuer.clone(),
            jwks_fetches: AtomicU64::new(0),
            discovery_fetches: AtomicU64::new(0),
            outage: AtomicBool::new(false),
            delay_ms: AtomicU64::new(0),
            jwks: std::sync::Mutex::new(JwksResponse {
                body: String::new(),
                cache_control: None,
            }),
            introspections: AtomicU64::new(0),
            opaque: std::sync::Mutex::new(std::collections::HashMap::new()),
            introspection_body: std::sync::Mutex::new(None),
        });
        let test_issuer = TestIssuer {
            keys,
            issuer,
            shared,
            addr,
            server,
            published: std::sync::Mutex::new(published),
        };
        test_issuer.republish();
        test_issuer
    }

    /// The `iss` of minted tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The JWKS URL (only meaningful for a started issuer).
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks.json", self.issuer)
    }

    /// The address served on, if started.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The published public keys (and the HS256 secret) as a static key set.
    pub fn key_set(&self) -> KeySet {
        let published = self.published.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let document = jwks_document(&self.keys, &published);
        KeySet::from_jwks(document.as_bytes())
            .expect("test JWKS parses")
            .with_secret(Algorithm::HS256, HS256_SECRET, Some(kid_of(Algorithm::HS256)))
            .expect("test secret is long enough")
    }

    /// A verifier configuration for this issuer and [`TEST_AUDIENCE`]: the JWKS
    /// URL when started (with a 1 s refetch cool-down), static keys otherwise.
    pub fn verifier_builder(&self) -> VerifierBuilder {
        let issuer = match self.addr {
            Some(_) => Issuer::jwks(&self.issuer, self.jwks_url()).fetch_policy(FetchPolicy {
                cooldown: Duration::from_secs(1),
                timeout: Duration::from_secs(2),
                ..FetchPolicy::default()
            }),
            None => Issuer::static_keys(&self.issuer, self.key_set()),
        };
        Verifier::builder().issuer(issuer.audience(TEST_AUDIENCE))
    }

    /// [`TestIssuer::verifier_builder`], built.
    pub fn verifier(&self) -> Verifier {
        self.verifier_builder()
            .build()
            .expect("test verifier configuration is valid")
    }

    /// Starts a token with `iss`, `aud`, `sub` (`user-1`), `iat` (now) and `exp`
    /// (in one hour), signed RS256 with the published key.
    pub fn token(&self) -> TokenBuilder<'_> {
        let now = unix_now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("aud".into(), json!(TEST_AUDIENCE));
        claims.insert("sub".into(), json!("user-1"));
        claims.insert("iat".into(), json!(now));
        claims.insert("exp".into(), json!(now + 3600));
        TokenBuilder {
            issuer: self,
            header: Map::new(),
            claims,
            alg: Algorithm::RS256,
            kid: Some(kid_of(Algorithm::RS256).to_owned()),
            signing_kid: kid_of(Algorithm::RS256),
        }
    }

    /// How many times the JWKS was fetched.
    pub fn jwks_fetches(&self) -> u64 {
        self.shared.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many introspection requests arrived (with the right client credentials or not).
    pub fn introspections(&self) -> u64 {
        self.shared.introspections.load(Ordering::SeqCst)
    }

    /// The introspection settings for this issuer: its endpoint and the test
    /// client's credentials (only meaningful for a started issuer).
    #[cfg(feature = "remote-keys")]
    pub fn introspection(&self) -> crate::Introspection {
        crate::Introspection::new(TEST_CLIENT_ID, TEST_CLIENT_SECRET).endpoint(format!("{}/introspect", self.issuer))
    }

    /// From now on, the introspection endpoint calls `token` (opaque, or a
    /// JWT) inactive, as if revoked at the issuer.
    pub fn deactivate(&self, token: &str) {
        self.shared
            .opaque
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.to_owned(), json!({ "active": false }));
    }

    /// Serves this body as every introspection answer instead of the real one
    /// (garbage, huge, `active` missing, ...); `None` restores the real ones.
    pub fn serve_introspection_body(&self, body: Option<&str>) {
        *self.shared.introspection_body.lock().unwrap_or_else(|e| e.into_inner()) = body.map(str::to_owned);
    }

    /// How many times the discovery document was fetched.
    pub fn discovery_fetches(&self) -> u64 {
        self.shared.discovery_fetches.load(Ordering::SeqCst)
    }

    /// While on, every request is answered 503.
    pub fn set_outage(&self, down: bool) {
        self.shared.outage.store(down, Ordering::SeqCst);
    }

    /// Delays every answer (to simulate a slow issuer).
    pub fn set_delay(&self, delay: Duration) {
        self.shared.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Serves this body as the JWKS instead of the real one (garbage, huge, ...).
    pub fn serve_jwks_body(&self, body: impl Into<String>) {
        self.shared.jwks.lock().unwrap_or_else(|e| e.into_inner()).body = body.into();
    }

    /// Sends `Cache-Control` with the JWKS (`max-age=60`, say).
    pub fn set_cache_control(&self, value: Option<&str>) {
        self.shared.jwks.lock().unwrap_or_else(|e| e.into_inner()).cache_control = value.map(str::to_owned);
    }

    /// Key rotation: publishes the next RSA key ([`NEXT_KID`]) beside the others.
    pub fn rotate(&self) {
        self.publish(NEXT_KID);
    }

    /// Stops publishing the key with this `kid`.
    pub fn unpublish(&self, kid: &str) {
        self.published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|k| *k != kid);
        self.republish();
    }

    fn publish(&self, kid: &'static str) {
        let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
        if !published.contains(&kid) {
            published.push(kid);
        }
        drop(published);
        self.republish();
    }

    /// Serves the real JWKS of the published keys again.
    pub fn republish(&self) {
        let published = self.published.lock().unwrap_or_else(|e| e.into_inner()).clone();
        self.serve_jwks_body(jwks_document(&self.keys, &published));
    }

    /// The public key of a published algorithm as a bare `jsonwebtoken` key
    /// (for comparisons against `jsonwebtoken::decode`, as the benches make).
    pub fn decoding_key(&self, alg: Algorithm) -> jsonwebtoken::DecodingKey {
        let key = self.key(kid_of(alg));
        match &key.public {
            Some(jwk) => {
                let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).expect("test JWK parses");
                jsonwebtoken::DecodingKey::from_jwk(&jwk).expect("test JWK is a key")
            }
            None => jsonwebtoken::DecodingKey::from_secret(HS256_SECRET),
        }
    }

    fn key(&self, kid: &str) -> &SigningKey {
        self.keys
            .iter()
            .find(|k| k.kid == kid)
            .expect("a test key with this kid")
    }
}

impl Default for TestIssuer {
    fn default() -> Self {
        TestIssuer::new()
    }
}

fn jwks_document(keys: &[SigningKey], published: &[&str]) -> String {
    let keys: Vec<&Value> = keys
        .iter()
        .filter(|k| published.contains(&k.kid))
        .filter_map(|k| k.public.as_ref())
        .collect();
    json!({ "keys": keys }).to_string()
}

/// 64 bits no one outside the process can predict: SipHash under the
/// process's random keys (the demos hand opaque tokens out on a network).
fn unguessable() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(NEXT.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// Builds one token. Every part can be set, including to values no real
/// issuer would produce, to test how verifiers treat them.
pub struct TokenBuilder<'a> {
    issuer: &'a TestIssuer,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    alg: Algorithm,
    kid: Option<String>,
    signing_kid: &'static str,
}

impl TokenBuilder<'_> {
    /// Signs with the published key of this algorithm (`HS256` uses [`HS256_SECRET`]).
    pub fn alg(mut self, alg: Algorithm) -> Self {
        self.alg = alg;
        self.signing_kid = kid_of(alg);
        self.kid = Some(kid_of(alg).to_owned());
        self
    }

    /// Signs RS256 with the rotation key ([`NEXT_KID`]).
    pub fn next_key(mut self) -> Self {
        self.alg = Algorithm::RS256;
        self.signing_kid = NEXT_KID;
        self.kid = Some(NEXT_KID.to_owned());
        self
    }

    /// The `kid` header (`None` leaves it out); the signing key does not change.
    pub fn kid(mut self, kid: Option<&str>) -> Self {
        self.kid = kid.map(str::to_owned);
        self
    }

    /// Sets any header member (it overrides `alg` and `kid` too).
    pub fn header(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.to_owned(), value);
        self
    }

    /// Sets a claim.
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Removes a claim (`exp`, say).
    pub fn without(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Sets `sub`.
    pub fn subject(self, sub: &str) -> Self {
        self.claim("sub", json!(sub))
    }

    /// Sets `exp` relative to now (negative: already expired).
    pub fn expires_in(self, seconds: i64) -> Self {
        let exp = unix_now() as i64 + seconds;
        self.claim("exp", json!(exp))
    }

    /// The header as it will be encoded.
    fn header_json(&self) -> Value {
        let mut header = Map::new();
        header.insert("alg".into(), json!(format!("{:?}", self.alg)));
        header.insert("typ".into(), json!("JWT"));
        if let Some(kid) = &self.kid {
            header.insert("kid".into(), json!(kid));
        }
        for (k, v) in &self.header {
            header.insert(k.clone(), v.clone());
        }
        Value::Object(header)
    }

    /// `header.payload`, base64url-encoded.
    pub fn signing_input(&self) -> String {
        encode_parts(
            &self.header_json().to_string(),
            &Value::Object(self.claims.clone()).to_string(),
        )
    }

    /// The signed token.
    pub fn sign(self) -> String {
        let input = self.signing_input();
        let key = self.issuer.key(self.signing_kid);
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key.encoding, key.alg).expect("test key signs");
        format!("{input}.{signature}")
    }

    /// An opaque token (no JWT: a unique string) whose claims only the
    /// issuer's introspection endpoint (`/introspect` of a started issuer)
    /// tells, as `{"active": true, ...claims}`. A JWT whose payload names this
    /// issuer is introspected as active with its claims, until
    /// [deactivated](TestIssuer::deactivate).
    ///
    /// ```
    /// use authorizer::testing::TestIssuer;
    /// use authorizer::{Authenticator, Issuer, Source, Verifier};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = TestIssuer::start().await;
    /// let verifier = Verifier::builder()
    ///     .issuer(Issuer::jwks(issuer.issuer(), issuer.jwks_url()).introspection(issuer.introspection()))
    ///     .build()?;
    /// let auth = Authenticator::new(verifier);
    /// let opaque = issuer.token().subject("user-1").opaque();
    /// let outcome = auth.authenticate_token(&opaque, Source::Bearer).await;
    /// assert_eq!(outcome.principal().unwrap().id(), "user-1");
    /// # Ok(()) }
    /// ```
    pub fn opaque(self) -> String {
        let token = format!("opaque_{:016x}{:016x}", unguessable(), unguessable());
        let mut answer = self.claims;
        answer.insert("active".to_owned(), Value::Bool(true));
        self.issuer
            .shared
            .opaque
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), Value::Object(answer));
        token
    }

    /// The token with an arbitrary signature (raw bytes, base64url-encoded here).
    pub fn with_signature(self, signature: &[u8]) -> String {
        format!("{}.{}", self.signing_input(), URL_SAFE_NO_PAD.encode(signature))
    }

    /// The token signed with HMAC using `secret` (e.g. the RSA public key, for
    /// the algorithm-confusion attack): the HMAC its `alg` names (`HS384`,
    /// `HS512`), HS256 for any other `alg`.
    pub fn sign_hmac_with(self, secret: &[u8]) -> String {
        let named = match self.header.get("alg") {
            Some(alg) => alg.as_str().map(str::to_owned),
            None => Some(format!("{:?}", self.alg)),
        };
        let hmac = match named.as_deref() {
            Some("HS384") => Algorithm::HS384,
            Some("HS512") => Algorithm::HS512,
            _ => Algorithm::HS256,
        };
        let input = self.signing_input();
        let key = EncodingKey::from_secret(secret);
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, hmac).expect("HMAC signs");
        format!("{input}.{signature}")
    }
}

/// `base64url(header).base64url(payload)` from raw JSON texts (which may be
/// invalid or carry duplicate members, on purpose).
pub fn encode_parts(header: &str, payload: &str) -> String {
    format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Source;
    use crate::credential::Credential;

    #[tokio::test]
    async fn every_algorithm_verifies_offline_and_served() {
        let offline = TestIssuer::new();
        let served = TestIssuer::start().await;
        for issuer in [&offline, &served] {
            let verifier = issuer.verifier();
            // Every asymmetric algorithm: the HMAC ones come first in `ALL`.
            for alg in crate::verify::keys::ALL[3..].iter().copied() {
                let token = issuer.token().alg(alg).sign();
                let principal = verifier.verify(Credential::new(&token, Source::Bearer)).await;
                assert_eq!(principal.unwrap().id(), "user-1", "{alg:?}");
            }
        }
        let hs = offline.token().alg(Algorithm::HS256).sign();
        assert!(
            offline
                .verifier()
                .verify(Credential::new(&hs, Source::Bearer))
                .await
                .is_ok()
        );
        let hs = served.token().alg(Algorithm::HS256).sign();
        assert!(
            served
                .verifier()
                .verify(Credential::new(&hs, Source::Bearer))
                .await
                .is_err()
        );
        assert_eq!(served.jwks_fetches(), 1);
    }
}
