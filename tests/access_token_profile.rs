//! The RFC 9068 access-token profile (`Issuer::access_token_profile`):
//! tokens from the test issuer (its keys as a static set) with every required claim
//! and the `at+jwt` type pass; a token missing any of them, or with another
//! type, is refused, over HTTP with 401 `invalid_token`.

#![cfg(all(feature = "axum", feature = "testing"))]

use crate::common::{client, demo_app, parts, serve};
use authorizer::credential::Credential;
use authorizer::testing::{TEST_AUDIENCE, TestIssuer, TokenBuilder};
use authorizer::{Authenticator, ConfigError, Error, ErrorStyle, InvalidToken, Issuer, Source, Verifier};
use serde_json::json;

fn profiled(issuer: &TestIssuer) -> Verifier {
    Verifier::builder()
        .issuer(
            Issuer::static_keys(issuer.issuer(), issuer.key_set())
                .audience(TEST_AUDIENCE)
                .access_token_profile(),
        )
        .build()
        .unwrap()
}

/// A token with every claim RFC 9068 requires, typed `at+jwt`.
fn access_token(issuer: &TestIssuer) -> TokenBuilder<'_> {
    issuer
        .token()
        .header("typ", json!("at+jwt"))
        .claim("client_id", json!("client-7"))
        .claim("jti", json!("7f3c2a"))
}

async fn verify(verifier: &Verifier, token: &str) -> Result<(), Error> {
    verifier
        .verify(Credential::new(token, Source::Bearer))
        .await
        .map(|_| ())
}

#[tokio::test]
async fn profiled_tokens_pass_with_either_typ_spelling() {
    let issuer = TestIssuer::new();
    let verifier = profiled(&issuer);
    assert!(verify(&verifier, &access_token(&issuer).sign()).await.is_ok());
    let long_typ = access_token(&issuer).header("typ", json!("application/at+jwt")).sign();
    assert!(verify(&verifier, &long_typ).await.is_ok());
}

#[tokio::test]
async fn every_required_claim_is_required() {
    let issuer = TestIssuer::new();
    let verifier = profiled(&issuer);
    for claim in ["exp", "aud", "sub", "client_id", "iat", "jti"] {
        let token = access_token(&issuer).without(claim).sign();
        let error = verify(&verifier, &token).await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidToken(InvalidToken::MissingClaim | InvalidToken::Audience)
            ),
            "without {claim}: {error:?}"
        );
        let null = access_token(&issuer).claim(claim, json!(null)).sign();
        assert!(verify(&verifier, &null).await.is_err(), "{claim}: null");
    }
    let token = access_token(&issuer).without("iss").sign();
    assert!(matches!(
        verify(&verifier, &token).await,
        Err(Error::InvalidToken(InvalidToken::Issuer))
    ));
    for claim in ["sub", "client_id", "jti"] {
        let token = access_token(&issuer).claim(claim, json!(42)).sign();
        assert!(
            matches!(
                verify(&verifier, &token).await,
                Err(Error::InvalidToken(InvalidToken::ClaimType))
            ),
            "{claim} as a number"
        );
    }
}

#[tokio::test]
async fn another_typ_is_refused() {
    let issuer = TestIssuer::new();
    let verifier = profiled(&issuer);
    for typ in [json!("JWT"), json!("at+jwt+extra"), json!("id_token"), json!(7)] {
        let token = access_token(&issuer).header("typ", typ.clone()).sign();
        assert!(
            matches!(
                verify(&verifier, &token).await,
                Err(Error::InvalidToken(InvalidToken::Type | InvalidToken::Malformed))
            ),
            "typ {typ}"
        );
    }
    // The issuer's ordinary tokens (`typ: JWT`, no client_id) pass without the profile.
    assert!(verify(&issuer.verifier(), &issuer.token().sign()).await.is_ok());
}

#[test]
fn the_profile_needs_an_audience() {
    let issuer = TestIssuer::new();
    let built = Verifier::builder()
        .issuer(Issuer::static_keys(issuer.issuer(), issuer.key_set()).access_token_profile())
        .build();
    assert!(matches!(built, Err(ConfigError::ProfileWithoutAudience(_))));
}

/// Over HTTP: 401 `invalid_token`, the same answer as any invalid token.
#[tokio::test]
async fn refused_over_http_as_invalid_token() {
    let issuer = TestIssuer::new();
    let auth = Authenticator::new(profiled(&issuer)).error_style(ErrorStyle::Rfc6750);
    let base = serve(demo_app(auth)).await;
    let get = |token: String| {
        let request = client().get(format!("{base}/me")).bearer_auth(token);
        async move { parts(request.send().await.unwrap()).await }
    };
    let (status, _, body) = get(access_token(&issuer).sign()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["claims"]["client_id"], "client-7");
    for token in [
        issuer.token().sign(),
        access_token(&issuer).without("jti").sign(),
        access_token(&issuer).header("typ", json!("JWT")).sign(),
    ] {
        let (status, challenge, body) = get(token).await;
        assert_eq!(status, 401);
        assert_eq!(
            challenge.as_deref(),
            Some(r#"Bearer error="invalid_token", error_description="the access token is invalid""#)
        );
        assert_eq!(body["error"], "invalid_token");
    }
}
