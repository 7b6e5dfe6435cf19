//! `AuthLayer` and `RequireLayer` on a tonic server: a real gRPC server on
//! 127.0.0.1 (the standard health service), called by a real tonic client.

#![cfg(all(feature = "testing", feature = "axum"))]

use authorizer::require::scope;
use authorizer::testing::TestIssuer;
use authorizer::tower::{AuthLayer, RequireLayer};
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// Serves the health service behind `AuthLayer::required` and `RequireLayer`
/// (scope `read:health`) on 127.0.0.1; answers a connected client.
async fn guarded_server(issuer: &TestIssuer) -> HealthClient<Channel> {
    let (_reporter, health) = tonic_health::server::health_reporter();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = Server::builder()
        .layer(AuthLayer::required(issuer.verifier()))
        .layer(RequireLayer::new(scope("read:health")))
        .add_service(health)
        .serve_with_incoming(TcpIncoming::from(listener));
    tokio::spawn(server);
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
}

async fn check(client: &mut HealthClient<Channel>, token: Option<&str>) -> Result<HealthCheckResponse, tonic::Status> {
    let mut request = Request::new(HealthCheckRequest { service: String::new() });
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    client.check(request).await.map(tonic::Response::into_inner)
}

#[tokio::test]
async fn the_layers_guard_a_tonic_server() {
    let issuer = TestIssuer::start().await;
    let mut client = guarded_server(&issuer).await;

    let allowed = issuer.token().claim("scope", "read:health".into()).sign();
    let answer = check(&mut client, Some(&allowed))
        .await
        .expect("a valid token with the scope");
    assert_eq!(answer.status(), ServingStatus::Serving);

    // A refusal reaches the client as a gRPC error, never as a served answer.
    let missing = check(&mut client, None).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated, "{missing:?}");
    let invalid = check(&mut client, Some("not.a.token")).await.unwrap_err();
    assert_eq!(invalid.code(), Code::Unauthenticated, "{invalid:?}");
    let unscoped = issuer.token().sign();
    let forbidden = check(&mut client, Some(&unscoped)).await.unwrap_err();
    assert_eq!(forbidden.code(), Code::PermissionDenied, "{forbidden:?}");

    // The server kept serving.
    assert!(check(&mut client, Some(&allowed)).await.is_ok());
}

/// Only HTTP/2 requests are gRPC: an HTTP/1.1 request that claims the gRPC
/// content type is answered as any HTTP request is.
#[tokio::test]
async fn a_grpc_content_type_over_http1_is_answered_as_http() {
    let issuer = TestIssuer::start().await;
    let app = axum::Router::new()
        .route("/me", axum::routing::get(|| async { "me" }))
        .layer(AuthLayer::required(issuer.verifier()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let response = reqwest::Client::new()
        .get(format!("http://{address}/me"))
        .header("content-type", "application/grpc")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().get("grpc-status").is_none());
    assert_eq!(response.text().await.unwrap(), r#"{"message":"unauthorised"}"#);
}
