//! One DPoP proof, checked as RFC 9449 §4.3 says (all but the key binding
//! and the replay check, which need the token's claims and the store).

use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::jwk::proof_key;
use super::url::normalize;
use crate::crypto;
use crate::error::{Error, InvalidProof, InvalidToken};
use crate::verify::token::Parts;

/// No proof a client makes is longer: an RSA-4096 `jwk` and every claim fit
/// in a quarter of it.
pub(crate) const MAX_PROOF_BYTES: usize = 8 * 1024;
/// A `jti` longer than this is not an identifier but a payload.
const MAX_JTI_BYTES: usize = 256;
/// The one `typ` of a DPoP proof (RFC 9449 §4.2).
const PROOF_TYPE: &str = "dpop+jwt";

/// What a proof must fit besides its own signature.
pub(crate) struct Expected<'a> {
    pub(crate) algorithms: &'a [Algorithm],
    pub(crate) method: &'a str,
    /// The request's URL, normalised; `None` when it cannot be known.
    pub(crate) url: Option<&'a str>,
    pub(crate) access_token: &'a str,
    pub(crate) leeway: Duration,
    pub(crate) max_age: Duration,
    pub(crate) now: u64,
}

/// A proof that passed every check of its own.
#[derive(Debug)]
pub(crate) struct CheckedProof {
    /// The RFC 7638 thumbprint of the proof's key.
    pub(crate) thumbprint: String,
    pub(crate) jti: String,
    pub(crate) nonce: Option<String>,
    /// How long the proof stays acceptable: how long its `jti` is remembered.
    pub(crate) remaining: Duration,
}

/// Checks `proof` against `expected`; cheap checks first, the signature last.
pub(crate) fn check(proof: &str, expected: &Expected<'_>) -> Result<CheckedProof, InvalidProof> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(InvalidProof::TooLarge);
    }
    let malformed = |_: Error| InvalidProof::Malformed;
    let parts = Parts::parse(proof).map_err(malformed)?;
    let header = parts.header_members().map_err(malformed)?;
    if header.contains_key("crit") || header.contains_key("b64") {
        return Err(InvalidProof::Type);
    }
    let typ = header.get("typ").and_then(Value::as_str);
    if !typ.is_some_and(|typ| typ.eq_ignore_ascii_case(PROOF_TYPE)) {
        return Err(InvalidProof::Type);
    }
    // Exact names only; `none` and every HMAC are never on the list.
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(|alg| alg.parse::<Algorithm>().ok())
        .filter(|alg| expected.algorithms.contains(alg))
        .ok_or(InvalidProof::Algorithm)?;
    let key = proof_key(header.get("jwk").ok_or(InvalidProof::Key)?, alg)?;
    let claims = parts.claims().map_err(malformed)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let jti = text("jti")
        .filter(|jti| !jti.is_empty() && jti.len() <= MAX_JTI_BYTES)
        .ok_or(InvalidProof::MissingClaim)?;
    let (Some(htm), Some(htu)) = (text("htm"), text("htu")) else {
        return Err(InvalidProof::MissingClaim);
    };
    let iat = claims
        .get("iat")
        .and_then(Value::as_f64)
        .filter(|iat| iat.is_finite() && *iat >= 0.0)
        .ok_or(InvalidProof::MissingClaim)? as u64;
    if htm != expected.method {
        return Err(InvalidProof::Method);
    }
    if expected.url.is_none() || normalize(htu).as_deref() != expected.url {
        return Err(InvalidProof::Url);
    }
    let remaining = window_left(iat, expected).ok_or(InvalidProof::IssuedAt)?;
    let ath = crypto::sha256_base64url(expected.access_token.as_bytes());
    if text("ath") != Some(ath.as_str()) {
        return Err(InvalidProof::AccessTokenHash);
    }
    let signed = jsonwebtoken::crypto::verify(parts.signature, parts.signing_input.as_bytes(), &key.key, alg);
    if !matches!(signed, Ok(true)) {
        return Err(InvalidProof::Signature);
    }
    Ok(CheckedProof {
        thumbprint: key.thumbprint,
        jti: jti.to_owned(),
        nonce: text("nonce").map(str::to_owned),
        remaining,
    })
}

/// How long a proof issued at `iat` stays acceptable, or `None` if it is
/// not acceptable now: issued more than `max_age` ago, or in the future,
/// each give or take the leeway.
fn window_left(iat: u64, expected: &Expected<'_>) -> Option<Duration> {
    let leeway = expected.leeway.as_secs();
    let closes = iat.checked_add(expected.max_age.as_secs())?.checked_add(leeway)?;
    if iat > expected.now.saturating_add(leeway) || closes < expected.now {
        return None;
    }
    Some(Duration::from_secs(closes - expected.now + 1))
}

/// The key binding of a token checked against the proof's key (RFC 9449
/// §4.3 point 12): `cnf.jkt` must be the proof key's thumbprint.
pub(crate) fn check_key_binding(jkt: Option<&str>, proof: &CheckedProof) -> Result<(), Error> {
    match jkt {
        Some(jkt) if jkt == proof.thumbprint => Ok(()),
        Some(_) => Err(InvalidToken::KeyMismatch.into()),
        // The `DPoP` scheme with a token bound to nothing.
        None => Err(InvalidToken::Binding.into()),
    }
}
