//! What each fuzz target checks. The targets in `fuzz_targets/` are one line
//! each; this file holds the inputs' decoding and the properties (oracles),
//! and `tests/fuzz_regressions.rs` in the main crate includes it to replay the
//! seed corpora and every kept crash input under `cargo test`.
//!
//! Only crates the main package already depends on are used here (authorizer,
//! http, serde, serde_json, jsonwebtoken, base64), so the same file compiles in
//! both places.

#![allow(dead_code)]

use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authorizer::credential::{Credential, Credentials};
use authorizer::credential::{DEFAULT_MAX_LEN, Location};
use authorizer::require::Requirement;
use authorizer::require::not;
use authorizer::testing::{HS256_SECRET, OFFLINE_ISSUER, TEST_AUDIENCE, TestIssuer};
use authorizer::{Algorithm, Error, ErrorStyle, Principal, Source, Verifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

#[cfg(feature = "lambda")]
mod gateway;
#[cfg(feature = "lambda")]
pub use gateway::gateway;

/// Largest NumericDate the verifier accepts (9999-12-31T23:59:59Z).
const MAX_TIMESTAMP: u64 = 253_402_300_799;
/// The verifier's default leeway.
const LEEWAY: u64 = 60;

/// Static keys never wait, so one poll with a no-op waker finishes a
/// verification; a `Pending` would itself be a bug.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a static-key verification waited"),
    }
}

struct Fixture {
    issuer: TestIssuer,
    /// Every algorithm's key and the HS256 secret, audience `authorizer-test`,
    /// no token cache (every input is verified in full).
    verifier: Verifier,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let issuer = TestIssuer::new();
        let verifier = issuer.verifier_builder().cache_capacity(0).build().expect("verifier");
        Fixture { issuer, verifier }
    })
}

/// `data` split at its first 0xFF byte (which no UTF-8 text holds).
fn split(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = data.iter().position(|b| *b == 0xff)?;
    Some((&data[..at], &data[at + 1..]))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------- credentials

/// Input: the first line is the method, every further line `name:value` a header.
pub fn credentials(data: &[u8]) {
    let mut lines = data.split(|b| *b == b'\n');
    let method = lines
        .next()
        .and_then(|m| Method::from_bytes(m).ok())
        .unwrap_or(Method::GET);
    let mut headers = HeaderMap::new();
    for line in lines.take(64) {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = HeaderName::from_bytes(&line[..colon]);
        let value = HeaderValue::from_bytes(&line[colon + 1..]);
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.append(name, value);
        }
    }
    let origins = ["https://app.example.com"];
    let rules = [
        (Credentials::default(), DEFAULT_MAX_LEN, true, &[][..]),
        (
            Credentials::default().max_len(40).allowed_origins(origins),
            40,
            true,
            &origins[..],
        ),
        (
            Credentials::default()
                .order([
                    Location::Cookie("sAccessToken".into()),
                    Location::Header(HeaderName::from_static("x-token")),
                ])
                .accept_rid_header(false)
                .allowed_origins(origins),
            DEFAULT_MAX_LEN,
            false,
            &origins[..],
        ),
        (
            Credentials::default()
                .order([
                    Location::Bearer,
                    Location::WebSocketProtocol("access_token".into()),
                    Location::Cookie("sAccessToken".into()),
                ])
                .allowed_origins(origins),
            DEFAULT_MAX_LEN,
            true,
            &origins[..],
        ),
    ];
    // A WebSocket handshake is a GET that browsers send cross-site with cookies.
    let handshake = headers.contains_key("sec-websocket-key")
        || headers.get_all("upgrade").iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|item| item.trim().eq_ignore_ascii_case("websocket")))
        });
    let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE) && !handshake;
    for (index, (rules, max_len, rid_is_proof, origins)) in rules.into_iter().enumerate() {
        match rules.extract(&method, &headers) {
            Ok(Some(credential)) => {
                let token = credential.token();
                assert!(!token.is_empty(), "an empty credential");
                assert!(token.len() <= max_len, "a credential over the limit");
                assert!(token.is_ascii(), "a non-ASCII credential");
                assert!(
                    headers.values().any(|v| contains(v.as_bytes(), token.as_bytes())),
                    "the credential is not in any header"
                );
                if credential.source() == Source::Cookie && !safe {
                    let rid = rid_is_proof && headers.contains_key("rid");
                    let origin = headers
                        .get("origin")
                        .and_then(|o| o.to_str().ok())
                        .map(|o| o.trim().trim_end_matches('/'));
                    let allowed = origin.is_some_and(|o| origins.iter().any(|a| a.eq_ignore_ascii_case(o)));
                    assert!(rid || allowed, "a cookie on {method} without anti-CSRF proof");
                }
                // Exactly the redacted form: a token that merely spells part of
                // that form (as one found by this target did) is no leak.
                assert_eq!(
                    format!("{credential:?}"),
                    format!(
                        "Credential {{ source: {:?}, token: <{} bytes redacted> }}",
                        credential.source(),
                        token.len()
                    ),
                    "Debug prints more than the source and the length"
                );
            }
            Ok(None) => {
                if index == 0 {
                    assert!(
                        !headers.contains_key("st-access-token"),
                        "a present st-access-token header was not read"
                    );
                }
            }
            Err(error) => {
                let status = error.status().as_u16();
                assert!(status == 401 || status == 403, "{error}: {status}");
            }
        }
    }
}

// ---------------------------------------------------------------- tokens

/// Input: a token, as text.
pub fn token(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    verify_and_check(fixture(), token);
}

/// Input: a header and claims as raw bytes, split at 0xFF (the claims alone
/// under a default header without one). They are base64url-encoded and the
/// signing input is MACed with the HS256 test secret, so the fuzzer reaches
/// past the signature into header and claims handling.
pub fn signed(data: &[u8]) {
    let fixture = fixture(); // installs the crypto backend before the first signature
    let (header, claims) = split(data).unwrap_or((br#"{"alg":"HS256","kid":"hs256"}"#, data));
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(claims));
    let key = jsonwebtoken::EncodingKey::from_secret(HS256_SECRET);
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).expect("HMAC signs");
    verify_and_check(fixture, &format!("{input}.{signature}"));
}

fn verify_and_check(fixture: &Fixture, token: &str) {
    let verifier = &fixture.verifier;
    for source in [Source::Bearer, Source::Cookie] {
        let before = unix_now();
        match now(verifier.verify(Credential::new(token, source))) {
            Ok(principal) => check_accepted(token, &principal, source, before..=unix_now()),
            Err(error) => {
                assert_eq!(error.status().as_u16(), 401, "{error}");
                // The body is one of a fixed few: nothing of the input is echoed.
                for style in [ErrorStyle::Rfc6750, ErrorStyle::SuperTokens] {
                    let body = error.to_response(style).body;
                    assert!(
                        fixed_bodies().contains(&body),
                        "an error body depends on the input: {body}"
                    );
                }
            }
        }
    }
}

/// Every body a refusal can have, for errors that carry no input.
fn fixed_bodies() -> &'static Vec<String> {
    static BODIES: OnceLock<Vec<String>> = OnceLock::new();
    BODIES.get_or_init(|| {
        let errors = [
            Error::MissingCredential,
            Error::InvalidToken(authorizer::InvalidToken::Malformed),
            Error::Expired,
            Error::CsrfRejected,
            Error::KeysUnavailable,
        ];
        errors
            .iter()
            .flat_map(|e| [ErrorStyle::Rfc6750, ErrorStyle::SuperTokens].map(|style| e.to_response(style).body))
            .collect()
    })
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// What an accepted token must be, restated independently of the verifier,
/// which read its clock somewhen in `verified` (a loaded machine must not make
/// a token at the `exp` edge look like a false accept).
fn check_accepted(token: &str, principal: &Principal, source: Source, verified: std::ops::RangeInclusive<u64>) {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "accepted a token without exactly three segments");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
        "accepted a token outside the base64url alphabet"
    );
    let decode = |s: &str| {
        URL_SAFE_NO_PAD
            .decode(s)
            .expect("accepted a segment that is not base64url")
    };
    let header_bytes = decode(segments[0]);
    let claims_bytes = decode(segments[1]);
    // RFC 7515 §4 and RFC 8725 §3.7: the header and claims are UTF-8 JSON.
    assert!(
        std::str::from_utf8(&header_bytes).is_ok(),
        "accepted a header that is not UTF-8"
    );
    assert!(
        std::str::from_utf8(&claims_bytes).is_ok(),
        "accepted claims that are not UTF-8"
    );
    assert!(
        !has_duplicate_members(&header_bytes),
        "accepted a header with duplicate members"
    );
    assert!(
        !has_duplicate_members(&claims_bytes),
        "accepted claims with duplicate members"
    );
    let header: Map<String, Value> =
        serde_json::from_slice(&header_bytes).expect("accepted a header that is not an object");
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .expect("accepted a header without alg");
    let known = [
        "HS256", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
    ];
    assert!(known.contains(&alg), "accepted alg {alg:?}");
    for member in ["crit", "b64"] {
        assert!(!header.contains_key(member), "accepted a header with {member}");
    }
    if let Some(cty) = header.get("cty") {
        let cty = cty.as_str().unwrap_or_default().to_ascii_lowercase();
        assert!(
            cty != "jwt" && cty != "application/jwt",
            "accepted a nested JWT (cty {cty})"
        );
    }
    let claims: Map<String, Value> =
        serde_json::from_slice(&claims_bytes).expect("accepted claims that are not an object");
    assert_eq!(
        claims.get("iss").and_then(Value::as_str),
        Some(OFFLINE_ISSUER),
        "accepted another iss"
    );
    let aud_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == TEST_AUDIENCE,
        Some(Value::Array(auds)) => auds.iter().all(Value::is_string) && auds.iter().any(|a| a == TEST_AUDIENCE),
        _ => false,
    };
    assert!(aud_ok, "accepted aud {:?}", claims.get("aud"));
    let time = |name: &str| {
        claims.get(name).map(|v| {
            let t = v
                .as_u64()
                .unwrap_or_else(|| panic!("accepted a non-integer {name}: {v}"));
            assert!(t <= MAX_TIMESTAMP, "accepted {name} past year 9999");
            t
        })
    };
    let exp = time("exp").expect("accepted a token without exp");
    assert!(*verified.start() <= exp + LEEWAY + 1, "accepted an expired token");
    for name in ["nbf", "iat"] {
        if let Some(t) = time(name) {
            assert!(
                t <= verified.end() + LEEWAY + 1,
                "accepted a token whose {name} is in the future"
            );
        }
    }
    assert_eq!(
        claims.get("sub").and_then(Value::as_str),
        Some(principal.id()),
        "id is not sub"
    );
    assert_eq!(
        principal.claims(),
        &claims,
        "the principal's claims are not the token's"
    );
    assert_eq!(principal.source(), source);
    let debug = format!("{principal:?}");
    assert!(
        !debug.contains(segments[2]),
        "Debug of a principal prints the signature"
    );
}

/// Whether a JSON object (at the top level) names a member twice.
fn has_duplicate_members(json: &[u8]) -> bool {
    struct Names;
    impl<'de> Visitor<'de> for Names {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut seen = std::collections::HashSet::new();
            let mut duplicate = false;
            while let Some(name) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                duplicate |= !seen.insert(name);
            }
            Ok(duplicate)
        }
    }
    serde_json::Deserializer::from_slice(json)
        .deserialize_map(Names)
        .unwrap_or(false)
}

// ---------------------------------------------------------------- requirements

/// Input: a requirement document (JSON) and claims (JSON), split at 0xFF.
pub fn requirement(data: &[u8]) {
    let (document, claims) = split(data).unwrap_or((data, b"{}"));
    let Ok(document) = std::str::from_utf8(document) else {
        return;
    };
    let Ok(requirement) = Requirement::from_json(document) else {
        return;
    };
    let written = serde_json::to_string(&requirement).expect("a requirement read from JSON serializes");
    let reread = Requirement::from_json(&written)
        .unwrap_or_else(|e| panic!("its serialization {written} reads back: {}: {}", e.path(), e.message()));
    assert_eq!(
        serde_json::to_string(&reread).unwrap(),
        written,
        "round trip changed it"
    );

    let claims = match serde_json::from_slice::<Value>(claims) {
        Ok(Value::Object(claims)) => claims,
        _ => Map::new(),
    };
    let scopes = claims
        .get("scope")
        .and_then(Value::as_str)
        .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let principal = Principal::new("fuzz", Source::Bearer)
        .with_claims(claims)
        .with_scopes(scopes);
    let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let outcome = requirement.evaluate_at(&principal, at);
    if let Err(denied) = &outcome {
        assert!(!denied.errors.is_empty(), "a failure with no reason");
        let error = Error::Forbidden(denied.clone());
        assert_eq!(error.status().as_u16(), 403);
        for style in [ErrorStyle::Rfc6750, ErrorStyle::SuperTokens] {
            let response = error.to_response(style);
            serde_json::from_str::<Value>(&response.body).expect("a 403 body is JSON");
        }
    }
    let negated = not(requirement.clone()).evaluate_at(&principal, at);
    assert_eq!(negated.is_ok(), outcome.is_err(), "not(r) is not the negation of r");
    assert_eq!(
        requirement.evaluate_at(&principal, at).is_ok(),
        outcome.is_ok(),
        "not deterministic"
    );
    assert!(matches!(requirement.authorize(None), Err(Error::MissingCredential)));
}
