//! The binding stage through the [`Authenticator`]: every check of RFC 9449
//! §4.3 and RFC 8705 §3, and each bad input refused with its reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::HeaderMap;
use jsonwebtoken::Algorithm;
use serde_json::json;

use super::*;
use crate::Authenticator;
use crate::pipeline::{Attempt, Mode, Outcome};
use crate::testing::{DpopKey, TestIssuer};

const URL: &str = "https://api.example.com/items";

fn auth(issuer: &TestIssuer, binding: Binding) -> Authenticator {
    Authenticator::new(issuer.verifier()).binding(binding.public_url("https://api.example.com").unwrap())
}

fn dpop_headers(token: &str, proofs: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", format!("DPoP {token}").parse().unwrap());
    for proof in proofs {
        headers.append("dpop", proof.parse().unwrap());
    }
    headers
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    headers
}

async fn run(auth: &Authenticator, method: &str, headers: &HeaderMap) -> Outcome {
    auth.authenticate(&RequestParts::new(method, "/items?page=2", headers), Mode::Required)
        .await
}

fn reason(outcome: &Outcome) -> Option<String> {
    outcome.error().map(|error| format!("{error:?}"))
}

#[tokio::test]
async fn a_valid_proof_passes_and_its_replay_does_not() {
    let issuer = TestIssuer::new();
    let auth = auth(&issuer, Binding::new());
    let client = DpopKey::es256();
    let token = issuer.token().bound_to(&client).sign();
    let proof = client.proof("GET", URL).access_token(&token).sign();
    let headers = dpop_headers(&token, &[&proof]);
    let outcome = run(&auth, "GET", &headers).await;
    let principal = outcome.principal().expect("a valid proof passes");
    assert_eq!(principal.source(), Source::Dpop);
    let replay = run(&auth, "GET", &headers).await;
    assert!(matches!(
        replay.error(),
        Some(Error::InvalidProof(InvalidProof::Replayed))
    ));
    // The token stays cached: a new proof passes without verifying again.
    let again = client.proof("GET", URL).access_token(&token).sign();
    assert!(matches!(
        auth.authenticate(
            &RequestParts::new("GET", "/items", &dpop_headers(&token, &[&again])),
            Mode::Required
        ),
        Attempt::Ready(_)
    ));
}

#[tokio::test]
async fn every_key_type_and_algorithm_on_the_list() {
    let issuer = TestIssuer::new();
    let auth = auth(&issuer, Binding::new().algorithms(DEFAULT_PROOF_ALGORITHMS).unwrap());
    for alg in DEFAULT_PROOF_ALGORITHMS {
        let client = DpopKey::new(alg).unwrap();
        let token = issuer.token().bound_to(&client).sign();
        let proof = client.proof("POST", URL).access_token(&token).sign();
        let outcome = run(&auth, "POST", &dpop_headers(&token, &[&proof])).await;
        assert!(outcome.principal().is_some(), "{alg:?}: {:?}", reason(&outcome));
    }
    let es384_only = auth_with_algorithms(&issuer, [Algorithm::ES384]);
    let client = DpopKey::es256();
    let token = issuer.token().bound_to(&client).sign();
    let proof = client.proof("GET", URL).access_token(&token).sign();
    assert!(matches!(
        run(&es384_only, "GET", &dpop_headers(&token, &[&proof])).await.error(),
        Some(Error::InvalidProof(InvalidProof::Algorithm))
    ));
}

fn auth_with_algorithms(issuer: &TestIssuer, algorithms: impl IntoIterator<Item = Algorithm>) -> Authenticator {
    auth(issuer, Binding::new().algorithms(algorithms).unwrap())
}

#[test]
fn hmac_is_never_a_proof_algorithm() {
    assert!(Binding::new().algorithms([Algorithm::HS256]).is_err());
    assert!(Binding::new().algorithms([]).is_err());
    assert!(Binding::new().public_url("not a url").is_err());
    assert!(Binding::new().public_url("https://user@api.example.com").is_err());
}

/// Each bad proof, and the reason it is refused for.
#[tokio::test]
async fn bad_proofs_are_refused_each_for_its_reason() {
    let issuer = TestIssuer::new();
    let auth = auth(&issuer, Binding::new());
    let client = DpopKey::es256();
    let token = issuer.token().bound_to(&client).sign();
    let other_token = issuer.token().bound_to(&client).subject("user-2").sign();
    let proof = || client.proof("GET", URL).access_token(&token);
    let ed_key = DpopKey::new(Algorithm::EdDSA).unwrap();
    let cases: Vec<(&str, String, InvalidProof)> = vec![
        (
            "oversized",
            format!("{}.{}.{}", "a".repeat(5000), "b".repeat(5000), "c"),
            InvalidProof::TooLarge,
        ),
        ("not a JWT", "not-a-jwt".into(), InvalidProof::Malformed),
        (
            "not JSON",
            format!("{}.{}.sig", URL_SAFE.encode("{nope"), URL_SAFE.encode("{}")),
            InvalidProof::Malformed,
        ),
        (
            "typ JWT",
            proof().header("typ", json!("JWT")).sign(),
            InvalidProof::Type,
        ),
        ("no typ", proof().header("typ", json!(null)).sign(), InvalidProof::Type),
        (
            "crit",
            proof().header("crit", json!(["exp"])).sign(),
            InvalidProof::Type,
        ),
        ("private key", proof().with_private_jwk().sign(), InvalidProof::Key),
        ("alg none", proof().unsigned(), InvalidProof::Malformed),
        (
            "alg none, signed",
            proof().header("alg", json!("none")).sign(),
            InvalidProof::Algorithm,
        ),
        (
            "HMAC",
            proof().sign_hmac(b"0123456789abcdef0123456789abcdef"),
            InvalidProof::Algorithm,
        ),
        (
            "jwk of another type than alg",
            proof().header("jwk", ed_key.public_jwk().clone()).sign(),
            InvalidProof::Key,
        ),
        ("no jwk", proof().header("jwk", json!(null)).sign(), InvalidProof::Key),
        ("bad signature", proof().with_bad_signature(), InvalidProof::Signature),
        ("no jti", proof().without("jti").sign(), InvalidProof::MissingClaim),
        (
            "numeric htm",
            proof().claim("htm", json!(1)).sign(),
            InvalidProof::MissingClaim,
        ),
        (
            "string iat",
            proof().claim("iat", json!("now")).sign(),
            InvalidProof::MissingClaim,
        ),
        (
            "other method",
            client.proof("POST", URL).access_token(&token).sign(),
            InvalidProof::Method,
        ),
        (
            "lowercase method",
            client.proof("get", URL).access_token(&token).sign(),
            InvalidProof::Method,
        ),
        (
            "other host",
            client
                .proof("GET", "https://evil.example.com/items")
                .access_token(&token)
                .sign(),
            InvalidProof::Url,
        ),
        (
            "other path",
            client
                .proof("GET", "https://api.example.com/other")
                .access_token(&token)
                .sign(),
            InvalidProof::Url,
        ),
        (
            "other scheme",
            client
                .proof("GET", "http://api.example.com/items")
                .access_token(&token)
                .sign(),
            InvalidProof::Url,
        ),
        (
            "other port",
            client
                .proof("GET", "https://api.example.com:8443/items")
                .access_token(&token)
                .sign(),
            InvalidProof::Url,
        ),
        (
            "iat an hour ago",
            proof().issued_in(-3600).sign(),
            InvalidProof::IssuedAt,
        ),
        ("iat in a minute", proof().issued_in(60).sign(), InvalidProof::IssuedAt),
        (
            "iat far past",
            proof().claim("iat", json!(0)).sign(),
            InvalidProof::IssuedAt,
        ),
        (
            "iat far future",
            proof().claim("iat", json!(u64::MAX)).sign(),
            InvalidProof::IssuedAt,
        ),
        ("no ath", proof().without("ath").sign(), InvalidProof::AccessTokenHash),
        (
            "another token's ath",
            client.proof("GET", URL).access_token(&other_token).sign(),
            InvalidProof::AccessTokenHash,
        ),
    ];
    for (name, bad, expected) in cases {
        let outcome = run(&auth, "GET", &dpop_headers(&token, &[&bad])).await;
        match outcome.error() {
            Some(Error::InvalidProof(found)) => assert_eq!(*found, expected, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        let response = outcome.error().unwrap().to_response(crate::ErrorStyle::Rfc6750);
        assert_eq!(response.status, 401, "{name}");
        assert!(!response.body.contains(&bad), "{name}: the proof is not echoed");
    }
    // URLs equal after normalisation pass: host case, default port, the query left out.
    for url in [
        "https://API.example.com:443/items",
        "https://api.example.com/items?page=2#x",
    ] {
        let proof = client.proof("GET", url).access_token(&token).sign();
        let outcome = run(&auth, "GET", &dpop_headers(&token, &[&proof])).await;
        assert!(outcome.principal().is_some(), "{url}: {:?}", reason(&outcome));
    }
}

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as URL_SAFE;

#[tokio::test]
async fn proofs_missing_or_twice_and_keys_that_do_not_match() {
    let issuer = TestIssuer::new();
    let auth = auth(&issuer, Binding::new());
    let client = DpopKey::es256();
    let token = issuer.token().bound_to(&client).sign();
    let proof = client.proof("GET", URL).access_token(&token).sign();
    let second = client.proof("GET", URL).access_token(&token).sign();
    let cases = [
        (dpop_headers(&token, &[]), "Missing"),
        (dpop_headers(&token, &[&proof, &second]), "Multiple"),
    ];
    for (headers, expected) in cases {
        let outcome = run(&auth, "GET", &headers).await;
        assert_eq!(reason(&outcome), Some(format!("InvalidProof({expected})")));
    }
    // A thief's key: the proof is good, but not by the key the token names.
    let thief = DpopKey::other_es256();
    let stolen = thief.proof("GET", URL).access_token(&token).sign();
    assert!(matches!(
        run(&auth, "GET", &dpop_headers(&token, &[&stolen])).await.error(),
        Some(Error::InvalidToken(InvalidToken::KeyMismatch))
    ));
    // An unbound token with the DPoP scheme.
    let unbound = issuer.token().sign();
    let proof = client.proof("GET", URL).access_token(&unbound).sign();
    assert!(matches!(
        run(&auth, "GET", &dpop_headers(&unbound, &[&proof])).await.error(),
        Some(Error::InvalidToken(InvalidToken::Binding))
    ));
    // A `cnf` of the wrong shape binds to something unknown.
    let odd = issuer.token().claim("cnf", json!({"jkt": 7})).sign();
    assert!(matches!(
        run(&auth, "GET", &bearer(&odd)).await.error(),
        Some(Error::InvalidToken(InvalidToken::ClaimType))
    ));
}

#[tokio::test]
async fn a_bound_token_is_never_a_bearer_token_and_modes_choose_schemes() {
    let issuer = TestIssuer::new();
    let client = DpopKey::es256();
    let bound = issuer.token().bound_to(&client).sign();
    let plain = issuer.token().sign();
    for mode in [DpopMode::Off, DpopMode::Allowed, DpopMode::Required] {
        let auth = auth(&issuer, Binding::new().dpop(mode));
        let outcome = run(&auth, "GET", &bearer(&bound)).await;
        assert!(outcome.error().is_some(), "{mode:?}: a bound token as bearer");
        let proof = client.proof("GET", URL).access_token(&bound).sign();
        let dpop = run(&auth, "GET", &dpop_headers(&bound, &[&proof])).await;
        let plain_bearer = run(&auth, "GET", &bearer(&plain)).await;
        match mode {
            DpopMode::Off => {
                assert!(matches!(dpop.error(), Some(Error::InvalidToken(InvalidToken::Scheme))));
                assert!(plain_bearer.principal().is_some());
            }
            DpopMode::Allowed => {
                assert!(dpop.principal().is_some());
                assert!(plain_bearer.principal().is_some());
            }
            DpopMode::Required => {
                assert!(dpop.principal().is_some());
                assert!(matches!(
                    plain_bearer.error(),
                    Some(Error::InvalidToken(InvalidToken::Scheme))
                ));
            }
        }
    }
}

#[tokio::test]
async fn nonces_are_asked_for_then_accepted_and_offered_when_rotated() {
    let issuer = TestIssuer::new();
    let nonces = Nonces::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
    let auth = auth(&issuer, Binding::new().nonces(nonces.clone()));
    let client = DpopKey::es256();
    let token = issuer.token().bound_to(&client).sign();
    let without = client.proof("GET", URL).access_token(&token).sign();
    let outcome = run(&auth, "GET", &dpop_headers(&token, &[&without])).await;
    let Some(Error::UseDpopNonce(nonce)) = outcome.error() else {
        panic!("{:?}", outcome.error());
    };
    assert!(nonces.accepts(nonce));
    let with = client.proof("GET", URL).access_token(&token).nonce(nonce).sign();
    let outcome = run(&auth, "GET", &dpop_headers(&token, &[&with])).await;
    assert!(outcome.principal().is_some());
    assert_eq!(outcome.dpop_nonce(), None, "the nonce is current: nothing to offer");
    // The previous nonce is still accepted, and the answer offers the current one.
    let previous = nonces.at(nonces.step_now() - 1);
    let rotated = client.proof("GET", URL).access_token(&token).nonce(&previous).sign();
    let outcome = run(&auth, "GET", &dpop_headers(&token, &[&rotated])).await;
    assert!(outcome.principal().is_some());
    assert_eq!(outcome.dpop_nonce(), Some(nonces.current().as_str()));
    let forged = client.proof("GET", URL).access_token(&token).nonce("1.AAAA").sign();
    assert!(matches!(
        run(&auth, "GET", &dpop_headers(&token, &[&forged])).await.error(),
        Some(Error::UseDpopNonce(_))
    ));
}

#[tokio::test]
async fn certificate_bound_tokens_need_their_certificate() {
    let issuer = TestIssuer::new();
    let auth = Authenticator::new(issuer.verifier())
        .binding(Binding::new().certificate_header(http::HeaderName::from_static("x-client-cert")));
    let der = b"\x30\x82 the client's certificate".as_slice();
    let token = issuer.token().bound_to_certificate(der).sign();
    let headers = bearer(&token);
    let with = RequestParts::new("GET", "/", &headers).with_client_certificate(der);
    assert!(auth.authenticate(&with, Mode::Required).await.principal().is_some());
    let other = RequestParts::new("GET", "/", &headers).with_client_certificate(b"another");
    let without = RequestParts::new("GET", "/", &headers);
    for parts in [other, without] {
        assert!(matches!(
            auth.authenticate(&parts, Mode::Required).await.error(),
            Some(Error::InvalidToken(InvalidToken::Certificate))
        ));
    }
    // From a trusted proxy's header: URL-encoded PEM.
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    );
    let escaped: String = pem
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut headers = bearer(&token);
    headers.insert("x-client-cert", escaped.parse().unwrap());
    let parts = RequestParts::new("GET", "/", &headers);
    assert!(auth.authenticate(&parts, Mode::Required).await.principal().is_some());
    // Not read unless configured.
    let untrusting = Authenticator::new(issuer.verifier());
    assert!(untrusting.authenticate(&parts, Mode::Required).await.error().is_some());
}

/// A shared store that remembers keys and counts calls, or fails.
#[derive(Default)]
struct Shared {
    seen: std::sync::Mutex<std::collections::HashSet<String>>,
    calls: AtomicUsize,
    down: bool,
}

impl ReplayStore for Arc<Shared> {
    fn first_use<'a>(&'a self, key: &'a str, _ttl: Duration) -> ReplayFuture<'a> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.down {
                return Err(ReplayError::new("connection refused"));
            }
            Ok(self.seen.lock().unwrap().insert(key.to_owned()))
        })
    }
}

#[tokio::test]
async fn a_shared_store_refuses_a_proof_replayed_to_another_instance() {
    let issuer = TestIssuer::new();
    let shared = Arc::new(Shared::default());
    let one = auth(&issuer, Binding::new().replay_store(shared.clone()));
    let two = auth(&issuer, Binding::new().replay_store(shared.clone()));
    let client = DpopKey::es256();
    let token = issuer.token().bound_to(&client).sign();
    let proof = client.proof("GET", URL).access_token(&token).sign();
    let headers = dpop_headers(&token, &[&proof]);
    assert!(run(&one, "GET", &headers).await.principal().is_some());
    assert!(matches!(
        run(&two, "GET", &headers).await.error(),
        Some(Error::InvalidProof(InvalidProof::Replayed))
    ));
    assert_eq!(shared.calls.load(Ordering::SeqCst), 2);

    let down = Arc::new(Shared {
        down: true,
        ..Shared::default()
    });
    let failing = auth(&issuer, Binding::new().replay_store(down));
    let proof = client.proof("GET", URL).access_token(&token).sign();
    let outcome = run(&failing, "GET", &dpop_headers(&token, &[&proof])).await;
    assert!(matches!(outcome.error(), Some(Error::ReplayStoreUnavailable)));
    assert_eq!(outcome.error().unwrap().status(), 503);
}

/// A shared store that accepts the call and never answers.
struct Silent;

impl ReplayStore for Silent {
    fn first_use<'a>(&'a self, _: &'a str, _: Duration) -> ReplayFuture<'a> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn a_shared_store_that_never_answers_is_a_503_not_a_hang() {
    let issuer = TestIssuer::new();
    let auth = auth(&issuer, Binding::new().replay_store(Silent));
    let client = DpopKey::es256();
    let token = issuer.token().bound_to(&client).sign();
    let proof = client.proof("GET", URL).access_token(&token).sign();
    let outcome = run(&auth, "GET", &dpop_headers(&token, &[&proof])).await;
    assert!(matches!(outcome.error(), Some(Error::ReplayStoreUnavailable)));
}

#[tokio::test]
async fn the_session_store_is_the_shared_replay_store() {
    use crate::session::{MemoryStore, SessionCheck};
    let issuer = TestIssuer::new();
    let check = SessionCheck::new(MemoryStore::new());
    let one = auth(&issuer, Binding::new().replay_store(check.store().clone()));
    let two = auth(&issuer, Binding::new().replay_store(check.store().clone()));
    let client = DpopKey::es256();
    let token = issuer.token().bound_to(&client).sign();
    let proof = client.proof("GET", URL).access_token(&token).sign();
    let headers = dpop_headers(&token, &[&proof]);
    assert!(run(&one, "GET", &headers).await.principal().is_some());
    assert!(matches!(
        run(&two, "GET", &headers).await.error(),
        Some(Error::InvalidProof(InvalidProof::Replayed))
    ));
}

#[tokio::test]
async fn the_url_comes_from_trusted_forwarded_headers_only() {
    let issuer = TestIssuer::new();
    let client = DpopKey::es256();
    let token = issuer.token().bound_to(&client).sign();
    let mut headers = dpop_headers(&token, &[]);
    headers.insert("host", "internal:8080".parse().unwrap());
    headers.insert("x-forwarded-proto", "https".parse().unwrap());
    headers.insert("x-forwarded-host", "api.example.com".parse().unwrap());
    let with_proof = |headers: &HeaderMap| {
        let mut headers = headers.clone();
        let proof = client.proof("GET", URL).access_token(&token).sign();
        headers.insert("dpop", proof.parse().unwrap());
        headers
    };
    let trusting = Authenticator::new(issuer.verifier()).binding(Binding::new().trust_forwarded_headers());
    let untrusting = Authenticator::new(issuer.verifier());
    let target = |auth: &Authenticator, headers: HeaderMap| {
        let auth = auth.clone();
        async move {
            auth.authenticate(&RequestParts::new("GET", "/items", &headers), Mode::Required)
                .await
        }
    };
    assert!(target(&trusting, with_proof(&headers)).await.principal().is_some());
    assert!(matches!(
        target(&untrusting, with_proof(&headers)).await.error(),
        Some(Error::InvalidProof(InvalidProof::Url))
    ));
}

#[test]
fn challenges_name_the_schemes_each_mode_takes_in_both_styles() {
    let issuer = TestIssuer::new();
    for style in [crate::ErrorStyle::Rfc6750, crate::ErrorStyle::SuperTokens] {
        let challenges = |mode: DpopMode, error: &Error| {
            let auth = Authenticator::new(issuer.verifier())
                .binding(
                    Binding::new()
                        .dpop(mode)
                        .algorithms([Algorithm::ES256, Algorithm::EdDSA])
                        .unwrap(),
                )
                .error_style(style);
            let response = auth.renderer().render(error);
            assert_eq!(response.status, 401, "{style:?} {mode:?} {error}");
            let challenges: Vec<String> = response
                .www_authenticate
                .iter()
                .map(|value| value.to_str().unwrap().to_owned())
                .collect();
            (challenges, response)
        };
        let (missing, _) = challenges(DpopMode::Allowed, &Error::MissingCredential);
        assert_eq!(missing, ["Bearer", r#"DPoP algs="ES256 EdDSA""#]);
        let (missing, _) = challenges(DpopMode::Required, &Error::MissingCredential);
        assert_eq!(missing, [r#"DPoP algs="ES256 EdDSA""#]);
        let (missing, _) = challenges(DpopMode::Off, &Error::MissingCredential);
        assert_eq!(missing, ["Bearer"]);
        let (invalid, _) = challenges(DpopMode::Allowed, &InvalidToken::KeyMismatch.into());
        assert_eq!(invalid.len(), 2);
        assert!(invalid[0].starts_with(r#"Bearer error="invalid_token""#));
        assert!(
            invalid[1].starts_with(r#"DPoP error="invalid_token""#) && invalid[1].ends_with(r#"algs="ES256 EdDSA""#)
        );
        let (proof, response) = challenges(DpopMode::Allowed, &InvalidProof::Replayed.into());
        assert_eq!(proof.len(), 1, "a proof's error concerns DPoP alone");
        assert!(proof[0].starts_with(r#"DPoP error="invalid_dpop_proof""#));
        assert!(!response.body.contains("replay"), "the reason stays in the logs");
        let (nonce, response) = challenges(DpopMode::Allowed, &Error::UseDpopNonce("1.abc".into()));
        assert!(nonce[0].starts_with(r#"DPoP error="use_dpop_nonce""#));
        assert_eq!(response.headers["dpop-nonce"], "1.abc");
        if style == crate::ErrorStyle::Rfc6750 {
            let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
            assert_eq!(body["error"], "use_dpop_nonce");
        }
    }
}
