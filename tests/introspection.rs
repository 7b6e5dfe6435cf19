//! Opaque tokens by introspection (RFC 7662), against the test issuer's
//! endpoint and servers of the test's own on 127.0.0.1: active and inactive
//! answers, caching, one call for concurrent requests, answers that cannot be
//! trusted, an endpoint that is down, and JWTs introspected too.

#![cfg(all(feature = "axum", feature = "testing"))]

use std::time::Duration;

use authorizer::require::scope;
use authorizer::testing::{TEST_CLIENT_ID, TEST_CLIENT_SECRET, TestIssuer};
use authorizer::tower::{AuthLayer, RequireLayer};
use authorizer::{
    Authenticator, ConfigError, Error, ErrorStyle, FetchPolicy, Introspection, InvalidToken, Issuer, Source, Verifier,
};
use axum::Router;
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::common::{client, parts, serve};

fn policy() -> FetchPolicy {
    FetchPolicy {
        timeout: Duration::from_millis(500),
        max_body_bytes: 4096,
        ..FetchPolicy::default()
    }
}

fn auth_with(issuer: Issuer) -> Authenticator {
    Authenticator::new(Verifier::builder().issuer(issuer).build().unwrap()).error_style(ErrorStyle::Rfc6750)
}

/// Keys from the issuer's JWKS, opaque tokens from its `/introspect`.
fn auth(issuer: &TestIssuer, introspection: Introspection) -> Authenticator {
    auth_with(
        Issuer::jwks(issuer.issuer(), issuer.jwks_url())
            .fetch_policy(policy())
            .introspection(introspection),
    )
}

async fn decide(auth: &Authenticator, token: &str) -> Result<String, Error> {
    let outcome = auth.authenticate_token(token, Source::Bearer).await;
    match outcome.error() {
        Some(error) => Err(error.clone()),
        None => Ok(outcome.principal().expect("a principal").id().to_owned()),
    }
}

fn unavailable(result: Result<String, Error>) -> bool {
    matches!(result, Err(Error::IntrospectionUnavailable))
}

#[tokio::test]
async fn an_opaque_token_passes_the_layer_with_the_claims_the_issuer_tells() {
    let issuer = TestIssuer::start().await;
    let app = Router::new()
        .route("/items", get(|| async { "items" }))
        .layer(RequireLayer::new(scope("read:items")))
        .layer(AuthLayer::required(auth(&issuer, issuer.introspection())));
    let base = serve(app).await;
    let reader = issuer
        .token()
        .subject("user-1")
        .claim("scope", json!("read:items"))
        .opaque();
    let writer = issuer.token().subject("user-2").claim("scope", json!("write")).opaque();
    let call = |token: String| {
        let url = format!("{base}/items");
        async move { parts(client().get(url).bearer_auth(token).send().await.unwrap()).await }
    };
    assert_eq!(call(reader.clone()).await.0, 200);
    let (status, challenge, _) = call(writer).await;
    assert_eq!(status, 403);
    assert!(challenge.unwrap().contains("insufficient_scope"));

    issuer.deactivate(&reader);
    let revoked_elsewhere = issuer.token().subject("user-3").opaque();
    issuer.deactivate(&revoked_elsewhere);
    let (status, challenge, body) = call(revoked_elsewhere).await;
    assert_eq!(status, 401, "inactive is a 401");
    assert!(challenge.unwrap().starts_with(r#"Bearer error="invalid_token""#));
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn answers_are_cached_up_to_the_maximum_and_never_past_exp() {
    let issuer = TestIssuer::start().await;
    let cached = auth(&issuer, issuer.introspection());
    let token = issuer.token().subject("user-1").opaque();
    assert_eq!(decide(&cached, &token).await.unwrap(), "user-1");
    assert_eq!(decide(&cached, &token).await.unwrap(), "user-1");
    assert_eq!(
        issuer.introspections(),
        1,
        "the second request is answered from the cache"
    );

    issuer.deactivate(&token);
    assert!(
        decide(&cached, &token).await.is_ok(),
        "a cached answer holds until it expires"
    );
    let uncached = auth(&issuer, issuer.introspection().max_cache_ttl(Duration::ZERO));
    assert!(matches!(
        decide(&uncached, &token).await,
        Err(Error::InvalidToken(InvalidToken::Inactive))
    ));
    assert!(decide(&uncached, &token).await.is_err());
    assert_eq!(issuer.introspections(), 3, "a zero maximum asks every time");

    let expired = issuer.token().subject("user-1").expires_in(-120).opaque();
    assert!(
        matches!(decide(&cached, &expired).await, Err(Error::Expired)),
        "an active answer with a past exp is still expired"
    );
}

#[tokio::test]
async fn concurrent_requests_for_one_token_share_one_call() {
    let issuer = TestIssuer::start().await;
    let auth = auth(&issuer, issuer.introspection());
    let token = issuer.token().subject("user-1").opaque();
    // Polled together on one task: every request is waiting before the first
    // call can have been answered.
    let decisions = futures_util::future::join_all((0..16).map(|_| decide(&auth, &token))).await;
    assert!(decisions.iter().all(|d| matches!(d.as_deref(), Ok("user-1"))));
    assert_eq!(issuer.introspections(), 1);
}

#[tokio::test]
async fn answers_that_cannot_be_trusted_are_failures_never_active() {
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("user-1").opaque();
    let huge = format!(r#"{{"active": true, "sub": "user-1", "pad": "{}"}}"#, "x".repeat(8192));
    for body in [
        "not json",
        r#"{"sub": "user-1"}"#,
        r#"{"active": "true", "sub": "user-1"}"#,
        r#"{"active": 1, "sub": "user-1"}"#,
        r#"[{"active": true}]"#,
        huge.as_str(),
    ] {
        issuer.serve_introspection_body(Some(body));
        let fresh = auth(&issuer, issuer.introspection());
        assert!(unavailable(decide(&fresh, &token).await), "{:.40}", body);
    }
    issuer.serve_introspection_body(Some(
        r#"{"active": true, "sub": "user-1", "iss": "https://evil.example"}"#,
    ));
    let fresh = auth(&issuer, issuer.introspection());
    assert!(matches!(
        decide(&fresh, &token).await,
        Err(Error::InvalidToken(InvalidToken::Issuer))
    ));
    issuer.serve_introspection_body(None);

    let wrong_secret = Introspection::new(TEST_CLIENT_ID, "guess").endpoint(format!("{}/introspect", issuer.issuer()));
    assert!(unavailable(decide(&auth(&issuer, wrong_secret), &token).await));

    issuer.set_delay(Duration::from_secs(3));
    assert!(
        unavailable(decide(&auth(&issuer, issuer.introspection()), &token).await),
        "slower than the timeout"
    );
    issuer.set_delay(Duration::ZERO);
}

#[tokio::test]
async fn a_redirecting_endpoint_is_never_followed() {
    let issuer = TestIssuer::start().await;
    let target = format!("{}/introspect", issuer.issuer());
    let redirect = Router::new().route(
        "/introspect",
        post(move || {
            let target = target.clone();
            async move { (http::StatusCode::TEMPORARY_REDIRECT, [("location", target)]) }
        }),
    );
    let base = serve(redirect).await;
    let token = issuer.token().subject("user-1").opaque();
    let redirected = Introspection::new(TEST_CLIENT_ID, TEST_CLIENT_SECRET).endpoint(format!("{base}/introspect"));
    assert!(unavailable(decide(&auth(&issuer, redirected), &token).await));
    assert_eq!(
        issuer.introspections(),
        0,
        "the token never reached the redirect's target"
    );
}

#[tokio::test]
async fn a_down_endpoint_is_503_only_when_nothing_cached_answers() {
    let issuer = TestIssuer::start().await;
    let auth = auth(&issuer, issuer.introspection());
    let seen = issuer.token().subject("user-1").opaque();
    let unseen = issuer.token().subject("user-2").opaque();
    assert!(decide(&auth, &seen).await.is_ok());
    issuer.set_outage(true);
    assert_eq!(decide(&auth, &seen).await.unwrap(), "user-1", "cached");
    let refused = auth.authenticate_token(&unseen, Source::Bearer).await;
    assert!(matches!(refused.error(), Some(Error::IntrospectionUnavailable)));
    let response = refused.into_result().unwrap_err().to_response();
    assert_eq!(response.status, 503);
    let body: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["error"], "temporarily_unavailable");
    issuer.set_outage(false);
    assert_eq!(
        decide(&auth, &unseen).await.unwrap(),
        "user-2",
        "back once the endpoint is"
    );
}

#[tokio::test]
async fn the_endpoint_comes_from_discovery_and_the_audience_is_checked() {
    let issuer = TestIssuer::start().await;
    let discovered = auth_with(
        Issuer::discover(issuer.issuer())
            .audience("https://api.example.com")
            .fetch_policy(policy())
            .introspection(Introspection::new(TEST_CLIENT_ID, TEST_CLIENT_SECRET)),
    );
    let for_us = issuer
        .token()
        .subject("user-1")
        .claim("aud", json!("https://api.example.com"))
        .opaque();
    let for_others = issuer
        .token()
        .subject("user-1")
        .claim("aud", json!("https://other.example.com"))
        .opaque();
    let for_anyone = issuer.token().subject("user-1").without("aud").opaque();
    assert_eq!(decide(&discovered, &for_us).await.unwrap(), "user-1");
    for token in [for_others, for_anyone] {
        assert!(matches!(
            decide(&discovered, &token).await,
            Err(Error::InvalidToken(InvalidToken::Audience))
        ));
    }
}

#[tokio::test]
async fn jwts_can_be_introspected_too() {
    let issuer = TestIssuer::start().await;
    let jwt = issuer.token().subject("user-1").sign();
    assert!(
        decide(&auth(&issuer, issuer.introspection().jwts_too()), &jwt)
            .await
            .is_ok()
    );
    assert_eq!(issuer.introspections(), 1);
    issuer.deactivate(&jwt);
    assert!(
        decide(&auth(&issuer, issuer.introspection()), &jwt).await.is_ok(),
        "by default a JWT is verified locally only"
    );
    assert!(matches!(
        decide(&auth(&issuer, issuer.introspection().jwts_too()), &jwt).await,
        Err(Error::InvalidToken(InvalidToken::Inactive))
    ));
}

#[tokio::test]
async fn an_opaque_token_goes_to_one_issuer_only() {
    let first = TestIssuer::start().await;
    let second = TestIssuer::start().await;
    let built = Verifier::builder()
        .issuer(Issuer::jwks(first.issuer(), first.jwks_url()).introspection(first.introspection()))
        .issuer(Issuer::jwks(second.issuer(), second.jwks_url()).introspection(second.introspection()))
        .build();
    assert!(matches!(built, Err(ConfigError::SeveralIntrospections(..))));

    let without = auth_with(Issuer::jwks(first.issuer(), first.jwks_url()));
    let opaque = first.token().subject("user-1").opaque();
    assert!(matches!(
        decide(&without, &opaque).await,
        Err(Error::InvalidToken(InvalidToken::Malformed))
    ));
    assert_eq!(
        first.introspections(),
        0,
        "without introspection an opaque token is malformed"
    );
}

/// The demo servers as `cargo run --example quickstart` configures them with no
/// issuer given (the test reads no `AUTHORIZER_*` variable: none is set in
/// the test process): the test issuer's opaque tokens pass on the demo routes.
#[tokio::test]
async fn the_quickstart_accepts_opaque_tokens() {
    let demo = crate::support::from_env_on(0).await.expect("the default configuration");
    let issuer = demo.test_issuer.as_ref().expect("no issuer given: a test issuer");
    let tokens = crate::support::demo_tokens(issuer);
    let base = serve(crate::common::demo_app(demo.authenticator.clone())).await;
    let (status, _, body) = parts(
        client()
            .get(format!("{base}/admin"))
            .bearer_auth(&tokens.opaque)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["id"].as_str()), (200, Some("admin-1")));
    issuer.deactivate(&tokens.opaque);
    let junk = parts(
        client()
            .get(format!("{base}/me"))
            .bearer_auth("not-a-jwt")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(junk.0, 401, "an opaque token the issuer does not know");
}
