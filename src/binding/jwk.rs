//! The proof's own key: public parts only, fitting its algorithm, and its
//! RFC 7638 thumbprint (what `cnf.jkt` names).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::crypto;
use crate::error::InvalidProof;

/// Members that only a private (or symmetric) key has: a proof carrying one
/// leaks its key, and is refused rather than used.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// RSA moduli below 2048 bits are refused (RFC 8725 §3.5 and NIST guidance).
const MIN_RSA_MODULUS_BYTES: usize = 256;
/// Beyond 8192 bits a modulus is a denial-of-service vector, not a key.
const MAX_RSA_MODULUS_BYTES: usize = 1024;

/// A proof key, checked against the proof's algorithm.
pub(crate) struct ProofKey {
    pub(crate) key: DecodingKey,
    /// The RFC 7638 thumbprint, base64url SHA-256.
    pub(crate) thumbprint: String,
}

/// The key a proof's `jwk` header names, if it is a public key that fits `alg`.
pub(crate) fn proof_key(jwk: &Value, alg: Algorithm) -> Result<ProofKey, InvalidProof> {
    let jwk = jwk.as_object().ok_or(InvalidProof::Key)?;
    if PRIVATE_MEMBERS.iter().any(|member| jwk.contains_key(*member)) {
        return Err(InvalidProof::Key);
    }
    let text = |name: &str| jwk.get(name).and_then(Value::as_str).ok_or(InvalidProof::Key);
    let bytes = |name: &str| -> Result<Vec<u8>, InvalidProof> {
        URL_SAFE_NO_PAD.decode(text(name)?).map_err(|_| InvalidProof::Key)
    };
    let key = match (text("kty")?, alg) {
        ("EC", Algorithm::ES256 | Algorithm::ES384) => {
            let (curve, size) = if alg == Algorithm::ES256 {
                ("P-256", 32)
            } else {
                ("P-384", 48)
            };
            if text("crv")? != curve || bytes("x")?.len() != size || bytes("y")?.len() != size {
                return Err(InvalidProof::Key);
            }
            DecodingKey::from_ec_components(text("x")?, text("y")?).map_err(|_| InvalidProof::Key)?
        }
        ("OKP", Algorithm::EdDSA) => {
            if text("crv")? != "Ed25519" || bytes("x")?.len() != 32 {
                return Err(InvalidProof::Key);
            }
            DecodingKey::from_ed_components(text("x")?).map_err(|_| InvalidProof::Key)?
        }
        (
            "RSA",
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => {
            let n = bytes("n")?;
            let e = bytes("e")?;
            // Leading zero octets are not allowed in JWK integers (RFC 7518 §6.3.1).
            let significant = n.first() != Some(&0) && e.first() != Some(&0);
            if !significant || !(MIN_RSA_MODULUS_BYTES..=MAX_RSA_MODULUS_BYTES).contains(&n.len()) || e.len() > 8 {
                return Err(InvalidProof::Key);
            }
            DecodingKey::from_rsa_raw_components(&n, &e)
        }
        _ => return Err(InvalidProof::Key),
    };
    Ok(ProofKey {
        key,
        thumbprint: jwk_thumbprint(jwk).ok_or(InvalidProof::Key)?,
    })
}

/// The RFC 7638 thumbprint (base64url SHA-256) of a public JWK: `EC`, `RSA`
/// or `OKP`. This is what an authorization server puts in `cnf.jkt` of a
/// DPoP-bound token. `None` for another key type or missing members.
///
/// ```
/// use authorizer::binding::jwk_thumbprint;
///
/// // RFC 7638 §3.1's example key.
/// let jwk = serde_json::json!({
///     "kty": "RSA",
///     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
///     "e": "AQAB",
///     "alg": "RS256",
///     "kid": "2011-04-29"
/// });
/// assert_eq!(
///     jwk_thumbprint(jwk.as_object().unwrap()).as_deref(),
///     Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
/// );
/// ```
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    // The required members in lexicographic order, no whitespace (RFC 7638
    // §3.2-3.3); JSON string escaping via serde_json, as §3.2 asks.
    let members: &[&str] = match text("kty")? {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (index, name) in members.iter().enumerate() {
        if index > 0 {
            canonical.push(',');
        }
        canonical.push_str(&serde_json::to_string(name).ok()?);
        canonical.push(':');
        canonical.push_str(&serde_json::to_string(text(name)?).ok()?);
    }
    canonical.push('}');
    Some(crypto::sha256_base64url(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn thumbprints_of_each_key_type() {
        // RFC 8037 Appendix A.3: the Ed25519 example key's thumbprint.
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
        assert_eq!(
            jwk_thumbprint(okp.as_object().unwrap()).as_deref(),
            Some("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        );
        // Members other than the required ones do not count.
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b"});
        let ec_more = json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "kid": "k", "use": "sig"});
        assert_eq!(
            jwk_thumbprint(ec.as_object().unwrap()),
            jwk_thumbprint(ec_more.as_object().unwrap())
        );
        assert!(jwk_thumbprint(json!({"kty": "oct", "k": "c2VjcmV0"}).as_object().unwrap()).is_none());
        assert!(jwk_thumbprint(json!({"kty": "EC", "crv": "P-256", "x": "a"}).as_object().unwrap()).is_none());
    }

    #[test]
    fn private_and_misfit_keys_are_refused() {
        let ec = json!({"kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])});
        let mut private = ec.clone();
        private["d"] = json!(URL_SAFE_NO_PAD.encode([3u8; 32]));
        assert!(matches!(proof_key(&private, Algorithm::ES256), Err(InvalidProof::Key)));
        assert!(
            matches!(proof_key(&ec, Algorithm::ES384), Err(InvalidProof::Key)),
            "P-256 key, ES384 alg"
        );
        assert!(matches!(proof_key(&ec, Algorithm::RS256), Err(InvalidProof::Key)));
        assert!(matches!(proof_key(&ec, Algorithm::EdDSA), Err(InvalidProof::Key)));
        let short_rsa = json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc1u8; 128]), "e": "AQAB"});
        assert!(
            matches!(proof_key(&short_rsa, Algorithm::RS256), Err(InvalidProof::Key)),
            "1024-bit RSA"
        );
        assert!(matches!(
            proof_key(&json!("not an object"), Algorithm::ES256),
            Err(InvalidProof::Key)
        ));
        assert!(matches!(
            proof_key(&json!({"kty": "oct", "k": "c2VjcmV0"}), Algorithm::ES256),
            Err(InvalidProof::Key)
        ));
    }
}
