//! Client keys and DPoP proofs for tests: valid, and broken in each way the
//! binding stage must refuse.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value, json};

use super::{ED25519_PEM, P384_PEM, RSA_NEXT_PEM, encode_parts, public_jwk};
use crate::binding::jwk_thumbprint;
use crate::crypto;

const CLIENT_P256_PEM: &[u8] = include_bytes!("keys/dpop_p256.pem");
const OTHER_CLIENT_P256_PEM: &[u8] = include_bytes!("keys/dpop_p256_other.pem");

/// A client's DPoP key pair (fixed test keys): its public JWK and
/// thumbprint, for binding tokens ([`TokenBuilder::bound_to`](super::TokenBuilder::bound_to)),
/// and a maker of proofs.
///
/// ```
/// use authorizer::binding::{Binding, DpopMode};
/// use authorizer::pipeline::{Mode, RequestParts};
/// use authorizer::testing::{DpopKey, TestIssuer};
/// use authorizer::{Authenticator, Source};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), authorizer::ConfigError> {
/// let issuer = TestIssuer::new();
/// let auth = Authenticator::new(issuer.verifier())
///     .binding(Binding::new().dpop(DpopMode::Required).public_url("https://api.example.com")?);
///
/// let client = DpopKey::es256();
/// let token = issuer.token().bound_to(&client).sign();
/// let proof = client.proof("GET", "https://api.example.com/me").access_token(&token).sign();
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("authorization", format!("DPoP {token}").parse().unwrap());
/// headers.insert("dpop", proof.parse().unwrap());
/// let outcome = auth.authenticate(&RequestParts::new("GET", "/me", &headers), Mode::Required).await;
/// assert_eq!(outcome.principal().map(|p| p.source()), Some(Source::Dpop));
///
/// // The same proof again is a replay; the token as a bearer token is refused.
/// let replayed = auth.authenticate(&RequestParts::new("GET", "/me", &headers), Mode::Required).await;
/// assert!(replayed.error().is_some());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DpopKey {
    alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("alg", &self.alg)
            .field("thumbprint", &self.thumbprint())
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A P-256 key (ES256), the algorithm most clients use.
    pub fn es256() -> Self {
        DpopKey::from_pem(Algorithm::ES256, CLIENT_P256_PEM)
    }

    /// Another P-256 key: a second client, or a thief's key.
    pub fn other_es256() -> Self {
        DpopKey::from_pem(Algorithm::ES256, OTHER_CLIENT_P256_PEM)
    }

    /// A key for `alg`: `ES256`, `ES384`, `EdDSA`, or an RSA algorithm
    /// (`RS256`, `PS256`, ...). `None` for HMAC algorithms: a proof key is public.
    pub fn new(alg: Algorithm) -> Option<Self> {
        let pem = match alg {
            Algorithm::ES256 => CLIENT_P256_PEM,
            Algorithm::ES384 => P384_PEM,
            Algorithm::EdDSA => ED25519_PEM,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => RSA_NEXT_PEM,
            _ => return None,
        };
        Some(DpopKey::from_pem(alg, pem))
    }

    fn from_pem(alg: Algorithm, pem: &[u8]) -> Self {
        crypto::ensure_provider();
        let encoding = match alg {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
            _ => EncodingKey::from_rsa_pem(pem),
        }
        .expect("embedded test key parses");
        let mut jwk = public_jwk(&encoding, alg, "unused");
        // A proof's `jwk` is the bare public key.
        if let Some(members) = jwk.as_object_mut() {
            members.retain(|name, _| matches!(name.as_str(), "kty" | "crv" | "x" | "y" | "n" | "e"));
        }
        DpopKey { alg, encoding, jwk }
    }

    /// The algorithm proofs are signed with.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The public JWK, as a proof's `jwk` header carries it.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// The RFC 7638 thumbprint: what `cnf.jkt` of a token bound to this key holds.
    pub fn thumbprint(&self) -> String {
        self.jwk.as_object().and_then(jwk_thumbprint).unwrap_or_default()
    }

    /// Starts a proof for a request: `htm` `method`, `htu` `url`, `iat` now,
    /// a fresh `jti`. Add [`access_token`](ProofBuilder::access_token) for a
    /// resource request (it sets `ath`).
    pub fn proof(&self, method: &str, url: &str) -> ProofBuilder<'_> {
        let mut claims = Map::new();
        claims.insert("jti".into(), json!(fresh_jti()));
        claims.insert("htm".into(), json!(method));
        claims.insert("htu".into(), json!(url));
        claims.insert("iat".into(), json!(unix_now()));
        let mut header = Map::new();
        header.insert("typ".into(), json!("dpop+jwt"));
        header.insert("alg".into(), json!(format!("{:?}", self.alg)));
        header.insert("jwk".into(), self.jwk.clone());
        ProofBuilder {
            key: self,
            header,
            claims,
        }
    }
}

/// Builds one DPoP proof. Every part can be set, including to values no
/// client would send, to test how servers treat them.
#[derive(Debug)]
pub struct ProofBuilder<'a> {
    key: &'a DpopKey,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

impl ProofBuilder<'_> {
    /// Sets `ath` to the hash of `token` (RFC 9449 §4.2).
    pub fn access_token(self, token: &str) -> Self {
        let ath = crypto::sha256_base64url(token.as_bytes());
        self.claim("ath", json!(ath))
    }

    /// Sets `nonce` (a server's `DPoP-Nonce`).
    pub fn nonce(self, nonce: &str) -> Self {
        self.claim("nonce", json!(nonce))
    }

    /// Sets `iat` relative to now (negative: in the past).
    pub fn issued_in(self, seconds: i64) -> Self {
        let iat = unix_now() as i64 + seconds;
        self.claim("iat", json!(iat))
    }

    /// Sets `jti` (the same twice makes a replay).
    pub fn jti(self, jti: &str) -> Self {
        self.claim("jti", json!(jti))
    }

    /// Sets any claim.
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.to_owned(), value);
        self
    }

    /// Removes a claim (`ath`, `jti`, ...).
    pub fn without(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Sets any header member (`typ`, `alg`, `jwk`, ...); the signing key
    /// does not change.
    pub fn header(mut self, name: &str, value: Value) -> Self {
        self.header.insert(name.to_owned(), value);
        self
    }

    /// Puts the private key in `jwk` (the `d` member, made up): a proof a
    /// server must refuse.
    pub fn with_private_jwk(self) -> Self {
        let mut jwk = self.key.jwk.clone();
        jwk["d"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32]));
        self.header("jwk", jwk)
    }

    /// `header.payload`, base64url-encoded.
    pub fn signing_input(&self) -> String {
        encode_parts(
            &Value::Object(self.header.clone()).to_string(),
            &Value::Object(self.claims.clone()).to_string(),
        )
    }

    /// The signed proof.
    pub fn sign(self) -> String {
        let input = self.signing_input();
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &self.key.encoding, self.key.alg).expect("test key signs");
        format!("{input}.{signature}")
    }

    /// The proof with `alg: none` and no signature.
    pub fn unsigned(self) -> String {
        let input = self.header("alg", json!("none")).signing_input();
        format!("{input}.")
    }

    /// The proof signed HS256 with `secret`, `alg` saying so.
    pub fn sign_hmac(self, secret: &[u8]) -> String {
        let input = self.header("alg", json!("HS256")).signing_input();
        crypto::ensure_provider();
        let key = EncodingKey::from_secret(secret);
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).expect("HMAC signs");
        format!("{input}.{signature}")
    }

    /// The proof with a signature that does not verify.
    pub fn with_bad_signature(self) -> String {
        let other = DpopKey::other_es256();
        let input = self.signing_input();
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &other.encoding, other.alg).expect("test key signs");
        format!("{input}.{signature}")
    }
}

fn fresh_jti() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    URL_SAFE_NO_PAD.encode(crypto::sha256(
        format!("{nanos}:{count}:{}", std::process::id()).as_bytes(),
    ))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
