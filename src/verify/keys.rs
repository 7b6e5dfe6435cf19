//! Verification keys: static PEM/secret/JWK, and JWKS documents parsed with care.

use std::collections::HashMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use num_bigint::BigUint;
use serde_json::{Map, Value};

/// A set of algorithms, as a bit mask (the hot path asks `contains` per token).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Algorithms(u16);

/// Every algorithm this crate verifies, in bit order: HMAC, RSA, ECDSA, EdDSA.
pub(crate) const ALL: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

impl Algorithms {
    pub(crate) const HMAC: Algorithms = Algorithms::of(ALL.split_at(3).0);
    pub(crate) const ASYMMETRIC: Algorithms = Algorithms::of(ALL.split_at(3).1);
    const RSA: Algorithms = Algorithms::of(ALL.split_at(9).0).difference(Algorithms::HMAC);

    const fn difference(self, other: Algorithms) -> Algorithms {
        Algorithms(self.0 & !other.0)
    }

    pub(crate) const fn of(algs: &[Algorithm]) -> Algorithms {
        let mut bits = 0u16;
        let mut i = 0;
        while i < algs.len() {
            bits |= bit(algs[i]);
            i += 1;
        }
        Algorithms(bits)
    }

    pub(crate) fn contains(self, alg: Algorithm) -> bool {
        self.0 & bit(alg) != 0
    }

    pub(crate) fn union(self, other: Algorithms) -> Algorithms {
        Algorithms(self.0 | other.0)
    }

    pub(crate) fn intersect(self, other: Algorithms) -> Algorithms {
        Algorithms(self.0 & other.0)
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Debug for Algorithms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(ALL.iter().filter(|a| self.contains(**a)))
            .finish()
    }
}

/// Algorithms this crate does not know get no bit, so no set contains them.
const fn bit(alg: Algorithm) -> u16 {
    let index = match alg {
        Algorithm::HS256 => 0,
        Algorithm::HS384 => 1,
        Algorithm::HS512 => 2,
        Algorithm::RS256 => 3,
        Algorithm::RS384 => 4,
        Algorithm::RS512 => 5,
        Algorithm::PS256 => 6,
        Algorithm::PS384 => 7,
        Algorithm::PS512 => 8,
        Algorithm::ES256 => 9,
        Algorithm::ES384 => 10,
        Algorithm::EdDSA => 11,
        _ => return 0,
    };
    1 << index
}

/// A key that can verify signatures of some algorithms.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    pub(crate) kid: Option<String>,
    pub(crate) algorithms: Algorithms,
    pub(crate) key: DecodingKey,
}

/// A key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The PEM or JWK did not parse as a key of that algorithm.
    #[error("the key does not parse as a key for {0:?}")]
    Unparsable(Algorithm),
    /// A shared secret shorter than the hash output (RFC 7518 §3.2).
    #[error("an HMAC secret must be at least {0} bytes")]
    SecretTooShort(usize),
    /// A secret given for a non-HMAC algorithm, or a public key for HMAC.
    #[error("algorithm {0:?} does not fit this kind of key")]
    WrongAlgorithm(Algorithm),
    /// The JWKS document is not a JSON object with a `keys` array.
    #[error("the JWKS document is not valid: {0}")]
    InvalidJwks(String),
    /// The JWK was skipped by the hygiene rules.
    #[error("the JWK is not usable: {0}")]
    Rejected(&'static str),
}

/// A set of verification keys, each with the algorithms it may verify.
///
/// Static keys are added with [`KeySet::with_pem`], [`KeySet::with_secret`] and
/// [`KeySet::with_jwk`], or parsed from a whole document with [`KeySet::from_jwks`].
/// JWKS parsing skips any key that is not plainly a public signature key
/// (`use: enc`, `key_ops` without `verify`, private parts, symmetric keys,
/// unknown `kty`, an `alg` or curve that does not fit the key, RSA under 2048
/// bits, with a bad exponent or with the ROCA fingerprint (CVE-2017-15361: a
/// modulus from a vulnerable generator, which can be factored), a `kid`
/// shared by two keys) and keeps the rest.
///
/// ```
/// use authorizer::{Algorithm, Issuer, KeySet, Verifier};
/// # let pem = authorizer::testing::RSA_PUBLIC_PEM;
///
/// // A PEM public key for RS256 under the `kid` the issuer puts in its tokens.
/// let keys = KeySet::new().with_pem(Algorithm::RS256, pem, Some("2026-01"))?;
/// let verifier = Verifier::builder()
///     .issuer(Issuer::static_keys("https://auth.example.com", keys).audience("orders"))
///     .build()?;
/// # let _ = verifier;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<VerifyingKey>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet").field("keys", &self.keys.len()).finish()
    }
}

/// Smallest RSA modulus accepted from a JWKS (RFC 7518 §3.3).
const MIN_RSA_BITS: usize = 2048;

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        KeySet::default()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds a PEM public key (SPKI or PKCS#1 for RSA) for one asymmetric algorithm.
    pub fn with_pem(mut self, algorithm: Algorithm, pem: &[u8], kid: Option<&str>) -> Result<Self, KeyError> {
        let key = match algorithm {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => DecodingKey::from_rsa_pem(pem),
            Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
            Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
            _ => return Err(KeyError::WrongAlgorithm(algorithm)),
        }
        .map_err(|_| KeyError::Unparsable(algorithm))?;
        self.keys.push(VerifyingKey {
            kid: kid.map(str::to_owned),
            algorithms: Algorithms::of(&[algorithm]),
            key,
        });
        Ok(self)
    }

    /// Adds a shared secret for one HMAC algorithm. This is the only way HS* is
    /// ever accepted: remote key sets never supply symmetric keys.
    pub fn with_secret(mut self, algorithm: Algorithm, secret: &[u8], kid: Option<&str>) -> Result<Self, KeyError> {
        let min = match algorithm {
            Algorithm::HS256 => 32,
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            other => return Err(KeyError::WrongAlgorithm(other)),
        };
        if secret.len() < min {
            return Err(KeyError::SecretTooShort(min));
        }
        self.keys.push(VerifyingKey {
            kid: kid.map(str::to_owned),
            algorithms: Algorithms::of(&[algorithm]),
            key: DecodingKey::from_secret(secret),
        });
        Ok(self)
    }

    /// Adds one public JWK (a JSON object), under the same rules as [`KeySet::from_jwks`].
    pub fn with_jwk(mut self, jwk: &Value) -> Result<Self, KeyError> {
        let object = jwk.as_object().ok_or(KeyError::Rejected("not a JSON object"))?;
        self.keys.push(parse_jwk(object)?);
        Ok(self)
    }

    /// Parses a JWKS document (`{"keys": [...]}`), skipping unusable keys.
    pub fn from_jwks(json: &[u8]) -> Result<Self, KeyError> {
        let document: Value = serde_json::from_slice(json).map_err(|e| KeyError::InvalidJwks(e.to_string()))?;
        let keys = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| KeyError::InvalidJwks("no `keys` array".to_owned()))?;
        let mut parsed = Vec::with_capacity(keys.len());
        for (index, jwk) in keys.iter().enumerate() {
            let result = jwk
                .as_object()
                .ok_or(KeyError::Rejected("not a JSON object"))
                .and_then(parse_jwk);
            match result {
                Ok(key) => parsed.push(key),
                Err(reason) => tracing::warn!(index, %reason, "skipping a key in the JWKS"),
            }
        }
        Ok(KeySet {
            keys: drop_duplicate_kids(parsed),
        })
    }

    /// Adds every key of `other`.
    pub fn merge(mut self, other: KeySet) -> Self {
        self.keys.extend(other.keys);
        self
    }

    /// The key for a token: by `kid` when it has one; without a `kid`, the one
    /// key that fits the algorithm (several would mean trying each, which an
    /// attacker could use to multiply our work).
    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Lookup<'_> {
        match kid {
            Some(kid) => match self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)) {
                Some(key) if key.algorithms.contains(alg) => Lookup::Found(key),
                Some(_) => Lookup::WrongAlgorithm,
                None => Lookup::UnknownKid,
            },
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.algorithms.contains(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Lookup::Found(key),
                    _ => Lookup::UnknownKid,
                }
            }
        }
    }

    pub(crate) fn algorithms(&self) -> Algorithms {
        self.keys
            .iter()
            .fold(Algorithms::default(), |acc, k| acc.union(k.algorithms))
    }
}

/// What a key lookup found.
pub(crate) enum Lookup<'a> {
    Found(&'a VerifyingKey),
    UnknownKid,
    WrongAlgorithm,
}

/// Two keys under one `kid` cannot both be right, and choosing one is a guess.
fn drop_duplicate_kids(keys: Vec<VerifyingKey>) -> Vec<VerifyingKey> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for kid in keys.iter().filter_map(|k| k.kid.as_deref()) {
        *counts.entry(kid).or_default() += 1;
    }
    let duplicated: Vec<String> = counts
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(kid, _)| kid.to_owned())
        .collect();
    if duplicated.is_empty() {
        return keys;
    }
    tracing::warn!(count = duplicated.len(), "skipping JWKS keys that share a kid");
    keys.into_iter()
        .filter(|k| !k.kid.as_ref().is_some_and(|kid| duplicated.contains(kid)))
        .collect()
}

fn parse_jwk(jwk: &Map<String, Value>) -> Result<VerifyingKey, KeyError> {
    check_usage(jwk)?;
    for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
        if jwk.contains_key(private) {
            return Err(KeyError::Rejected("carries private or symmetric key material"));
        }
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(KeyError::Rejected("kid is not a string")),
    };
    let (fits, key) = match jwk.get("kty").and_then(Value::as_str) {
        Some("RSA") => rsa_key(jwk)?,
        Some("EC") => ec_key(jwk)?,
        Some("OKP") => okp_key(jwk)?,
        Some("oct") => return Err(KeyError::Rejected("symmetric keys are never taken from a key set")),
        _ => return Err(KeyError::Rejected("unknown kty")),
    };
    let algorithms = match jwk.get("alg") {
        None => fits,
        Some(Value::String(alg)) => {
            let alg: Algorithm = alg.parse().map_err(|_| KeyError::Rejected("unknown alg"))?;
            if !fits.contains(alg) {
                return Err(KeyError::Rejected("alg does not fit the key type or curve"));
            }
            Algorithms::of(&[alg])
        }
        Some(_) => return Err(KeyError::Rejected("alg is not a string")),
    };
    Ok(VerifyingKey { kid, algorithms, key })
}

fn check_usage(jwk: &Map<String, Value>) -> Result<(), KeyError> {
    match jwk.get("use") {
        None => {}
        Some(Value::String(u)) if u == "sig" => {}
        Some(_) => return Err(KeyError::Rejected("use is not sig")),
    }
    match jwk.get("key_ops") {
        None => Ok(()),
        Some(Value::Array(ops)) if ops.iter().any(|op| op == "verify") => Ok(()),
        Some(_) => Err(KeyError::Rejected("key_ops does not include verify")),
    }
}

fn b64_field(jwk: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, KeyError> {
    let text = jwk
        .get(name)
        .and_then(Value::as_str)
        .ok_or(KeyError::Rejected("a required member is missing"))?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| KeyError::Rejected("a member is not base64url"))
}

fn rsa_key(jwk: &Map<String, Value>) -> Result<(Algorithms, DecodingKey), KeyError> {
    let n = b64_field(jwk, "n")?;
    let e = b64_field(jwk, "e")?;
    let n = strip_leading_zeros(&n);
    let e = strip_leading_zeros(&e);
    let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
    if bits < MIN_RSA_BITS {
        return Err(KeyError::Rejected("RSA modulus under 2048 bits"));
    }
    if n.last().is_some_and(|b| b & 1 == 0) {
        return Err(KeyError::Rejected("RSA modulus is even"));
    }
    if has_roca_fingerprint(n) {
        return Err(KeyError::Rejected(
            "RSA modulus has the ROCA fingerprint (CVE-2017-15361)",
        ));
    }
    // An even exponent is not RSA, and e = 1 makes every "signature" its own message.
    let odd = e.last().is_some_and(|b| b & 1 == 1);
    if !odd || e == [1] || e.len() > 8 {
        return Err(KeyError::Rejected("bad RSA exponent"));
    }
    Ok((Algorithms::RSA, DecodingKey::from_rsa_raw_components(n, e)))
}

/// The small primes of the ROCA fingerprint (Nemec et al., "The Return of
/// Coppersmith's Attack", CCS 2017): Infineon's RSALib made primes of the
/// form `k * M + (65537^a mod M)`, with `M` the product of these primes, so
/// their product `n` is, modulo each of them, a power of 65537. Such moduli
/// can be factored; a random modulus passes all 38 tests with a probability
/// of about 2^-154.
const ROCA_PRIMES: [u32; 38] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109,
    113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

/// Whether the big-endian modulus `n` has the ROCA fingerprint: for every
/// prime `p` of the list, `n mod p` is in the subgroup 65537 generates.
/// Read once per key, never per request; most moduli fail the first primes.
fn has_roca_fingerprint(n: &[u8]) -> bool {
    ROCA_PRIMES.iter().all(|&p| {
        let residue = n.iter().fold(0u32, |r, &byte| (r * 256 + u32::from(byte)) % p);
        generated_by_65537(residue, p)
    })
}

/// Whether `residue` is a power of 65537 modulo the prime `p`.
fn generated_by_65537(residue: u32, p: u32) -> bool {
    let generator = 65537 % p;
    let mut power = 1;
    // The powers repeat within p - 1 steps (Fermat).
    for _ in 0..p {
        if power == residue {
            return true;
        }
        power = power * generator % p;
    }
    false
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn ec_key(jwk: &Map<String, Value>) -> Result<(Algorithms, DecodingKey), KeyError> {
    let (alg, size) = match jwk.get("crv").and_then(Value::as_str) {
        Some("P-256") => (Algorithm::ES256, 32),
        Some("P-384") => (Algorithm::ES384, 48),
        _ => return Err(KeyError::Rejected("unsupported EC curve")),
    };
    let x = b64_field(jwk, "x")?;
    let y = b64_field(jwk, "y")?;
    if x.len() != size || y.len() != size {
        return Err(KeyError::Rejected("EC coordinates do not fit the curve"));
    }
    if !on_curve(alg, &x, &y) {
        return Err(KeyError::Rejected("EC point is not on the curve"));
    }
    let mut point = Vec::with_capacity(1 + 2 * size);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    Ok((Algorithms::of(&[alg]), DecodingKey::from_ec_der(&point)))
}

/// Whether (x, y) is a point of the curve: both coordinates below the field
/// prime and y² = x³ − 3x + b (mod p). An off-curve public key invites
/// invalid-curve attacks; whether the backend would catch it at verification
/// time, it is never admitted to a key set.
fn on_curve(alg: Algorithm, x: &[u8], y: &[u8]) -> bool {
    let (p, b) = match alg {
        Algorithm::ES256 => (
            "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
            "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
        ),
        Algorithm::ES384 => (
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff",
            "b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef",
        ),
        _ => return false,
    };
    let hex = |h: &str| BigUint::parse_bytes(h.as_bytes(), 16).unwrap_or_default();
    let (p, b) = (hex(p), hex(b));
    let (x, y) = (BigUint::from_bytes_be(x), BigUint::from_bytes_be(y));
    if x >= p || y >= p {
        return false;
    }
    let left = (&y * &y) % &p;
    let right = ((&x * &x % &p) * &x + &b + (&p - (BigUint::from(3u8) * &x) % &p)) % &p;
    left == right
}

fn okp_key(jwk: &Map<String, Value>) -> Result<(Algorithms, DecodingKey), KeyError> {
    if jwk.get("crv").and_then(Value::as_str) != Some("Ed25519") {
        return Err(KeyError::Rejected("unsupported OKP curve"));
    }
    let x = b64_field(jwk, "x")?;
    if x.len() != 32 {
        return Err(KeyError::Rejected("Ed25519 key is not 32 bytes"));
    }
    Ok((Algorithms::of(&[Algorithm::EdDSA]), DecodingKey::from_ed_der(&x)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rsa_jwk(bits: usize) -> Value {
        let mut n = vec![0xffu8; bits / 8];
        n[0] = 0xc1;
        // odd, as every RSA modulus is
        json!({"kty": "RSA", "kid": "r", "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB"})
    }

    /// The P-256 base point: a real point on the curve.
    const P256_GX: &str = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
    const P256_GY: &str = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

    fn unhex(h: &str) -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    }

    fn ec_jwk() -> Value {
        json!({"kty": "EC", "crv": "P-256", "kid": "e", "x": URL_SAFE_NO_PAD.encode(unhex(P256_GX)), "y": URL_SAFE_NO_PAD.encode(unhex(P256_GY))})
    }

    fn with(base: Value, extra: Value) -> Value {
        let mut v = base;
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    }

    fn jwks(keys: Vec<Value>) -> KeySet {
        KeySet::from_jwks(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn algorithm_bits() {
        let a = Algorithms::of(&[Algorithm::RS256, Algorithm::EdDSA]);
        assert!(a.contains(Algorithm::RS256) && a.contains(Algorithm::EdDSA));
        assert!(!a.contains(Algorithm::HS256));
        assert!(Algorithms::ASYMMETRIC.intersect(Algorithms::HMAC).is_empty());
        assert_eq!(format!("{:?}", Algorithms::HMAC), "{HS256, HS384, HS512}");
        assert_eq!(
            format!("{:?}", Algorithms::RSA),
            "{RS256, RS384, RS512, PS256, PS384, PS512}"
        );
        assert_eq!(
            format!("{:?}", Algorithms::ASYMMETRIC.difference(Algorithms::RSA)),
            "{ES256, ES384, EdDSA}"
        );
    }

    #[test]
    fn keeps_good_keys_and_infers_algorithms() {
        let set = jwks(vec![rsa_jwk(2048), ec_jwk()]);
        assert_eq!(set.len(), 2);
        assert!(matches!(set.find(Some("r"), Algorithm::PS256), Lookup::Found(_)));
        assert!(matches!(set.find(Some("e"), Algorithm::ES256), Lookup::Found(_)));
        assert!(matches!(set.find(Some("e"), Algorithm::ES384), Lookup::WrongAlgorithm));
        assert!(matches!(set.find(Some("zz"), Algorithm::ES256), Lookup::UnknownKid));
        assert!(matches!(set.find(None, Algorithm::ES256), Lookup::Found(_)));
    }

    // Moduli from the reference detector's test data (github.com/crocs-muni/roca,
    // roca/tests/data/mod01, mod03, mod09 fingerprinted; mod04 to mod07 not;
    // mod06 and mod07 differ from mod03 in one digit).
    const ROCA_512: &str = "\
        944e13208a280c37efc31c3114485e590192adbb8e11c87cad60cdef0037ce99278330d3f471a2538fa667802ed2a3c4\
        4a8b7dea826e888d0aa341fd664f7fa7";
    const ROCA_2048: &str = "\
        9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b005\
        8c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a\
        097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af\
        2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb\
        45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf411\
        4e5ecf50034a60a412523af9e6f4aa11";
    const ROCA_4096: &str = "\
        c39a928060db513091b604eadad719ed94e246de8fe15fb76efab5cfabbc3fc5486fe2ef2a5a5a8472f0c5be089edec0\
        71fb284df4467fa1fa6c8f0b013d3173fe636744666289bf67b5c998c87b59015d94bb9c20d30a70cfe275e42fd3c6f4\
        4d4c5252f9c6b6803f92afd928153bdb90ef08ede934c076f33543f9a1c362130929b9a1324c5ebee6831c251c48a7de\
        e24d75ac538ce9a58d7ff09c12a5d772b6c33f4265a4e4830bd73ad221d24d4d3f092e24279c15fc1d10ca69561f4f07\
        1313c86b11ab36a5dd28df392f581834eecfdc9e183a466198e33cf01d273bd41d4b7e288cc66f24eba04676bd2090f6\
        f73830336a317bc2d423b558b9d8f632e12af7b0e7fc9bdb69282e81fdf41a68cf4e85f01fc343dfe52a3ad01f67459d\
        380165159e1209ef1ce4ecd26648e061faf0896551f7f1f92d6b6a19af0ab7f1f092d7e168bcec0ee478b8618489a896\
        7a71e5e0a5c197662d8e9756f090a177109d4a34ae20a18c5629efea5ca66623960fc325f779cdae891a7ec051f00e83\
        7b8f2fb9fd19f6a35832ca0e5ce8375972c42a308f7d5ca0434022c131874087e826ed737994e46fbe44f5f1e908934f\
        6033e6851ebd05447dddbaa51c0671849cafd3a503cdc150101914edf33b140c168c3dbea4791e74ea619ab1b31c9069\
        1de1d425b746b222a2b26ed54222cbcaf27a054f9f66f77be6466198c33e37dd";
    const SAFE_2048_A: &str = "\
        af659676197f1db06da7ac111a0a0ec175b8b7ef07192ffcd1f6b854c327785f1a7fd3db7da45cd4a31b2b2e5ce0d823\
        a68e28c8adf1747316becce1fe5768064039ad2062260c8d1a34e0586dce9bc13090fcc9fb8b8b2c08ed3ae8d61b2981\
        8a669689a7d9c1dab053b557fb8d3f9c44faad3e18c55e739b00d3c9126558bc8e980cd2af377126ef5b1374136774b8\
        bd370e3c1c149db395c8f99696b628b105946fea20106fe24d103ac062661a9248e8c3f628e00b308d33953aabe55513\
        2e218e74ef4b578716b4fe7cf340e8e604a319bf6e9951e1942601d34291032db54999d09e5d036dde3544ad35256bbb\
        97d5e3fffd38166c21eae9199548853b";
    const SAFE_2048_B: &str = "\
        ba68fc5fbb606c4d428ab98b355d66214db4f7e475b5f7ffddc349c73f7d659965121ab16a4014e6c465c111d8502058\
        53d113f712127e4a230aa97f481eed6410f6c345f48e25fb81c42ec6815dc35cdd839e0de91fb2bec848d0910fa77e2c\
        31f99ec9bcc7ed167812bd724318b0adf492d6b47c5ce050184e877ea64045f9501bf70569cffd102db7299f49e9c002\
        22af9115d0aada967dfe759b7e4576e85c3a4ff594039231b90b448b90c3236083bcf819bc318d53a2018ec9b401f102\
        ba9ee13dde592a42b032df136689d9c5619db55d519853a422d3100624d2d9e478218375f460c26930eda8cd0d947e58\
        ffe9b7be2445356deaed988223e3ed1d";
    const SAFE_2048_C: &str = "\
        8dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b005\
        8c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a\
        097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af\
        2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb\
        45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf411\
        4e5ecf50034a60a412523af9e6f4aa11";
    const SAFE_2048_D: &str = "\
        9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b005\
        8c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a\
        097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af\
        2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb\
        45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf411\
        4e5ecf50034a60a412523af9e6f4aa21";

    fn modulus(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn the_roca_fingerprint_is_found_where_the_reference_finds_it() {
        for (name, hex) in [("512", ROCA_512), ("2048", ROCA_2048), ("4096", ROCA_4096)] {
            assert!(
                has_roca_fingerprint(&modulus(hex)),
                "the fingerprinted {name}-bit modulus"
            );
        }
        for (name, hex) in [
            ("A", SAFE_2048_A),
            ("B", SAFE_2048_B),
            ("C", SAFE_2048_C),
            ("D", SAFE_2048_D),
        ] {
            assert!(!has_roca_fingerprint(&modulus(hex)), "the safe modulus {name}");
        }
        // Leading zero bytes change nothing. (The test issuer's own RSA keys
        // pass through this check in every RS256 test of the suite.)
        let mut padded = vec![0, 0];
        padded.extend(modulus(ROCA_2048));
        assert!(has_roca_fingerprint(&padded));
    }

    #[test]
    fn a_roca_key_is_skipped_and_the_rest_kept() {
        let roca = with(
            rsa_jwk(2048),
            json!({"n": URL_SAFE_NO_PAD.encode(modulus(ROCA_2048)), "kid": "roca"}),
        );
        assert!(matches!(
            KeySet::new().with_jwk(&roca),
            Err(KeyError::Rejected(reason)) if reason.contains("ROCA")
        ));
        let safe = with(
            rsa_jwk(2048),
            json!({"n": URL_SAFE_NO_PAD.encode(modulus(SAFE_2048_A)), "kid": "safe"}),
        );
        let set = jwks(vec![roca, safe]);
        assert_eq!(set.len(), 1);
        assert!(matches!(set.find(Some("safe"), Algorithm::RS256), Lookup::Found(_)));
        assert!(matches!(set.find(Some("roca"), Algorithm::RS256), Lookup::UnknownKid));
    }

    #[test]
    fn skips_bad_keys_and_keeps_the_rest() {
        let bad = vec![
            with(rsa_jwk(2048), json!({"use": "enc", "kid": "1"})),
            with(rsa_jwk(2048), json!({"key_ops": ["encrypt"], "kid": "2"})),
            with(rsa_jwk(2048), json!({"d": "AAAA", "kid": "3"})),
            with(rsa_jwk(1024), json!({"kid": "4"})),
            with(rsa_jwk(2048), json!({"e": "AQ", "kid": "5"})),
            with(rsa_jwk(2048), json!({"e": "Ag", "kid": "5b"})),
            with(rsa_jwk(2048), json!({"alg": "ES256", "kid": "6"})),
            with(rsa_jwk(2048), json!({"alg": "none", "kid": "6b"})),
            with(ec_jwk(), json!({"crv": "P-384", "kid": "7"})),
            with(ec_jwk(), json!({"alg": "ES384", "kid": "8"})),
            with(
                ec_jwk(),
                json!({"y": URL_SAFE_NO_PAD.encode([2u8; 32]), "kid": "off-curve"}),
            ),
            with(
                ec_jwk(),
                json!({"x": URL_SAFE_NO_PAD.encode([0xffu8; 32]), "kid": "x-past-p"}),
            ),
            with(
                rsa_jwk(2048),
                json!({"n": URL_SAFE_NO_PAD.encode([0xc2u8; 256]), "kid": "even-n"}),
            ),
            json!({"kty": "oct", "k": "c2VjcmV0", "kid": "9"}),
            json!({"kty": "XYZ", "kid": "10"}),
            with(rsa_jwk(2048), json!({"kid": 11})),
            json!("not an object"),
            with(rsa_jwk(2048), json!({"kid": "dup"})),
            with(ec_jwk(), json!({"kid": "dup"})),
        ];
        let mut keys = bad;
        keys.push(with(
            rsa_jwk(2048),
            json!({"kid": "good", "use": "sig", "key_ops": ["verify"]}),
        ));
        let set = jwks(keys);
        assert_eq!(set.len(), 1);
        assert!(matches!(set.find(Some("good"), Algorithm::RS256), Lookup::Found(_)));
        assert!(matches!(set.find(Some("dup"), Algorithm::RS256), Lookup::UnknownKid));
    }

    #[test]
    fn rejects_documents_that_are_not_jwks() {
        assert!(KeySet::from_jwks(b"garbage").is_err());
        assert!(KeySet::from_jwks(b"{\"keys\": 3}").is_err());
        assert!(KeySet::from_jwks(b"{\"keys\": []}").unwrap().is_empty());
    }

    #[test]
    fn secrets_must_be_long_enough_and_hmac_only() {
        assert_eq!(
            KeySet::new().with_secret(Algorithm::HS256, b"short", None).unwrap_err(),
            KeyError::SecretTooShort(32)
        );
        assert!(KeySet::new().with_secret(Algorithm::RS256, &[0; 64], None).is_err());
        assert!(KeySet::new().with_pem(Algorithm::HS256, b"", None).is_err());
        let set = KeySet::new().with_secret(Algorithm::HS256, &[7; 32], None).unwrap();
        assert!(matches!(set.find(None, Algorithm::HS256), Lookup::Found(_)));
        assert!(matches!(set.find(None, Algorithm::HS384), Lookup::UnknownKid));
    }

    #[test]
    fn without_kid_two_fitting_keys_are_not_guessed_between() {
        let set = KeySet::new()
            .with_secret(Algorithm::HS256, &[1; 32], None)
            .unwrap()
            .with_secret(Algorithm::HS256, &[2; 32], None)
            .unwrap();
        assert!(matches!(set.find(None, Algorithm::HS256), Lookup::UnknownKid));
    }
}
