//! Step-up requirements (RFC 9470) over real HTTP on 127.0.0.1: the demo
//! routes `/mfa` and `/fresh` on axum and actix-web in both error styles,
//! step-ups combined with other requirements, requirements read from a
//! document, and the gRPC status.

#![cfg(all(feature = "axum", feature = "testing"))]

use std::time::Duration;

use crate::common::{client, demo_app, parts, serve};
use crate::support::{self, DemoTokens, MFA_ACR};
use authorizer::require::{Requirement, all, scope, step_up, supertokens};
use authorizer::testing::TestIssuer;
use authorizer::tower::{AuthLayer, RequireLayer};
use authorizer::{Authenticator, ErrorStyle, Principal};
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

type Answer = (u16, Option<String>, Value);

async fn call(base: &str, path: &str, token: &str) -> Answer {
    let response = client()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("server answers");
    parts(response).await
}

fn auth(issuer: &TestIssuer, style: ErrorStyle) -> Authenticator {
    Authenticator::new(issuer.verifier()).error_style(style)
}

/// The base URLs of the demo API on axum and, with the feature, on actix-web.
async fn demo_servers(issuer: &TestIssuer, style: ErrorStyle) -> Vec<String> {
    #[allow(unused_mut)]
    let mut bases = vec![serve(demo_app(auth(issuer, style))).await];
    #[cfg(feature = "actix-web")]
    {
        let (base, handle) = crate::parity::serve_actix(auth(issuer, style)).await;
        // The server thread ends with the test process.
        std::mem::forget(handle);
        bases.push(base);
    }
    bases
}

const STRONGER: &str = "a stronger authentication is required";
const FRESHER: &str = "a more recent authentication is required";

fn challenge(description: &str, parameters: &str) -> Option<String> {
    Some(format!(
        r#"Bearer error="insufficient_user_authentication", error_description="{description}"{parameters}"#
    ))
}

#[tokio::test]
async fn demo_step_up_routes_answer_rfc9470_challenges() {
    let issuer = TestIssuer::start().await;
    let DemoTokens {
        user,
        stepped_up,
        stale,
        ..
    } = support::demo_tokens(&issuer);
    for base in demo_servers(&issuer, ErrorStyle::Rfc6750).await {
        let (status, header, body) = call(&base, "/mfa", &user).await;
        assert_eq!(status, 401, "{base}: {body}");
        assert_eq!(header, challenge(STRONGER, &format!(r#", acr_values="{MFA_ACR}""#)));
        assert_eq!(body["error"], "insufficient_user_authentication");
        assert_eq!(body["acr_values"], MFA_ACR);
        assert_eq!(
            body["claim_errors"],
            json!([{"id": "acr", "reason": {"message": "value does not exist", "expectedValue": {"one_of": [MFA_ACR]}}}])
        );

        let (status, header, body) = call(&base, "/fresh", &stale).await;
        assert_eq!(status, 401, "{base}: {body}");
        assert_eq!(header, challenge(FRESHER, r#", max_age="300""#));
        assert_eq!(body["max_age"], 300);
        assert_eq!(body["claim_errors"][0]["reason"]["message"], "expired");

        for path in ["/mfa", "/fresh"] {
            let (status, _, body) = call(&base, path, &stepped_up).await;
            assert_eq!(status, 200, "{base}{path}: {body}");
            assert_eq!(body["claims"]["acr"], MFA_ACR);
        }
        let (status, _, _) = call(&base, "/mfa", &stale).await;
        assert_eq!(status, 200, "an old sign-in still has its acr");
    }
}

#[tokio::test]
async fn supertokens_style_keeps_its_403_invalid_claim() {
    let issuer = TestIssuer::start().await;
    let tokens = support::demo_tokens(&issuer);
    for base in demo_servers(&issuer, ErrorStyle::SuperTokens).await {
        let (status, header, body) = call(&base, "/mfa", &tokens.user).await;
        assert_eq!((status, header), (403, None), "{base}");
        assert_eq!(
            body,
            json!({"message": "invalid claim", "claimValidationErrors": [
                {"id": "acr", "reason": {"message": "value does not exist", "expectedValue": {"one_of": [MFA_ACR]}}}
            ]})
        );
        let (status, header, body) = call(&base, "/fresh", &tokens.user).await;
        assert_eq!((status, header), (403, None), "{base}");
        assert_eq!(body["claimValidationErrors"][0]["id"], "auth_time");
        assert_eq!(
            body["claimValidationErrors"][0]["reason"]["expectedValue"],
            json!({"maxAgeInSeconds": 300})
        );
    }
}

async fn guarded(issuer: &TestIssuer, requirement: Requirement) -> String {
    let app = Router::new()
        .route(
            "/",
            get(|p: Principal| async move { p.id().to_owned() }).route_layer(RequireLayer::new(requirement)),
        )
        .layer(AuthLayer::required(auth(issuer, ErrorStyle::Rfc6750)));
    serve(app).await
}

/// A missing scope rides along in the step-up challenge; a failure that
/// signing in again cannot cure (a role) makes the answer a plain 403.
#[tokio::test]
async fn step_ups_combine_with_scopes_and_other_checks() {
    let issuer = TestIssuer::start().await;
    let token = issuer.token().claim("acr", json!("urn:example:pwd")).sign();
    let acr = || step_up::acr_one_of([MFA_ACR]).unwrap();

    let base = guarded(&issuer, all([scope("read:items"), acr()])).await;
    let (status, header, body) = call(&base, "/", &token).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        header,
        challenge(STRONGER, &format!(r#", acr_values="{MFA_ACR}", scope="read:items""#))
    );
    assert_eq!(body["scope"], "read:items");

    let base = guarded(&issuer, all([supertokens::has_role("admin"), acr()])).await;
    let (status, header, body) = call(&base, "/", &token).await;
    assert_eq!((status, header), (403, None));
    assert_eq!(body["error"], "forbidden");
    assert_eq!(body["claim_errors"].as_array().unwrap().len(), 2);

    let met = issuer.token().claim("acr", json!(MFA_ACR)).sign();
    let base = guarded(&issuer, acr()).await;
    assert_eq!(call(&base, "/", &met).await.0, 200);
}

/// Both kinds failing, from a requirement document: one challenge with both
/// parameters, as RFC 9470 §3 allows.
#[tokio::test]
async fn a_document_step_up_sends_acr_values_and_max_age_together() {
    let issuer = TestIssuer::start().await;
    let requirement = Requirement::from_json(
        r#"{"all": [{"acr_one_of": ["urn:example:hwk", "urn:example:mfa"]}, {"authenticated_within": 60}]}"#,
    )
    .unwrap();
    let base = guarded(&issuer, requirement).await;
    let an_hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600;
    let token = issuer.token().claim("auth_time", json!(an_hour_ago)).sign();
    let (status, header, _) = call(&base, "/", &token).await;
    assert_eq!(status, 401);
    assert_eq!(
        header,
        challenge(
            "a stronger and more recent authentication is required",
            r#", acr_values="urn:example:hwk urn:example:mfa", max_age="60""#
        )
    );
    let amr = guarded(&issuer, step_up::amr_contains(["hwk"])).await;
    let (status, header, _) = call(&amr, "/", &token).await;
    assert_eq!((status, header), (401, challenge(STRONGER, "")));
}

/// On gRPC a step-up is `UNAUTHENTICATED` with a message that says so and
/// names no claim value.
#[tokio::test]
async fn grpc_step_up_is_unauthenticated() {
    use tonic::transport::server::TcpIncoming;
    use tonic::transport::{Channel, Server};
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    let issuer = TestIssuer::start().await;
    let (_reporter, health) = tonic_health::server::health_reporter();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = Server::builder()
        .layer(AuthLayer::required(issuer.verifier()))
        .layer(RequireLayer::new(step_up::authenticated_within(Duration::from_secs(
            60,
        ))))
        .add_service(health)
        .serve_with_incoming(TcpIncoming::from(listener));
    tokio::spawn(server);
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client = HealthClient::new(channel);
    let mut request = tonic::Request::new(HealthCheckRequest::default());
    let secret_time = 1_234_567_890u64;
    let token = issuer.token().claim("auth_time", json!(secret_time)).sign();
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let status = client.check(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert!(status.message().contains("step-up"), "{}", status.message());
    assert!(!status.message().contains(&secret_time.to_string()));
}
