//! The gRPC demo (`examples/grpc.rs`, compiled whole) on 127.0.0.1 with a
//! test issuer, called by a real tonic client: every method under its rule,
//! the health service without a token, bad tokens, failed requirements and
//! unreachable keys, each as its gRPC status.

#![cfg(all(feature = "tonic", feature = "testing"))]

use authorizer::Authenticator;
use authorizer::routes::RouteTable;
use authorizer::testing::TestIssuer;
use serde_json::json;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::grpc_example;
use crate::grpc_example::pb::demo_client::DemoClient;
use crate::grpc_example::pb::{WhoAmIReply, WhoAmIRequest};
use crate::support;

/// The demo served on 127.0.0.1 (a free port), and a channel to it.
pub async fn start_demo(auth: Authenticator) -> Channel {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { grpc_example::serve(auth, listener).await.expect("the demo serves") });
    Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// A demo method, as the client calls it.
#[derive(Clone, Copy, Debug)]
pub enum Method {
    WhoAmI,
    Admin,
    Items,
}

/// Calls `method` with `token` (as `authorization: Bearer`, when given).
pub async fn call(channel: &Channel, method: Method, token: Option<&str>) -> Result<WhoAmIReply, Status> {
    let mut request = Request::new(WhoAmIRequest {});
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    let mut client = DemoClient::new(channel.clone());
    let answer = match method {
        Method::WhoAmI => client.who_am_i(request).await,
        Method::Admin => client.admin(request).await,
        Method::Items => client.items(request).await,
    };
    answer.map(tonic::Response::into_inner)
}

async fn health(channel: &Channel, service: &str, token: Option<&str>) -> Result<HealthCheckResponse, Status> {
    let mut request = Request::new(HealthCheckRequest {
        service: service.to_owned(),
    });
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
    }
    HealthClient::new(channel.clone())
        .check(request)
        .await
        .map(tonic::Response::into_inner)
}

fn refused(answer: Result<WhoAmIReply, Status>) -> (Code, String) {
    let status = answer.expect_err("refused, never served");
    (status.code(), status.message().to_owned())
}

const EXPIRED: &str = "the access token expired";
const INVALID: &str = "the access token is invalid";
const MISSING: &str = "authentication required";
const UNMET: &str = "the credential does not meet this method's requirements";

#[tokio::test]
async fn every_method_answers_under_its_rule() {
    let issuer = TestIssuer::start().await;
    let channel = start_demo(Authenticator::new(issuer.verifier())).await;
    let tokens = support::demo_tokens(&issuer);

    // A valid session: WhoAmI answers the caller; the user has neither the
    // admin role nor the read:items scope.
    let user = call(&channel, Method::WhoAmI, Some(&tokens.user)).await.unwrap();
    assert_eq!(
        user,
        WhoAmIReply {
            id: "user-1".into(),
            scopes: vec![]
        }
    );
    for method in [Method::Admin, Method::Items] {
        let answer = call(&channel, method, Some(&tokens.user)).await;
        assert_eq!(refused(answer), (Code::PermissionDenied, UNMET.into()), "{method:?}");
    }

    // The admin has both.
    let admin = WhoAmIReply {
        id: "admin-1".into(),
        scopes: vec!["read:items".into(), "write:items".into()],
    };
    for method in [Method::WhoAmI, Method::Admin, Method::Items] {
        assert_eq!(
            call(&channel, method, Some(&tokens.admin)).await.unwrap(),
            admin,
            "{method:?}"
        );
    }

    // Each rule on its own: the role without the scope, the scope without the role.
    let role_only = issuer
        .token()
        .subject("role-only")
        .claim("st-role", json!({"v": ["admin"], "t": 0}))
        .sign();
    assert_eq!(
        call(&channel, Method::Admin, Some(&role_only)).await.unwrap().id,
        "role-only"
    );
    assert_eq!(
        refused(call(&channel, Method::Items, Some(&role_only)).await).0,
        Code::PermissionDenied
    );
    let scope_only = issuer
        .token()
        .subject("scope-only")
        .claim("scope", json!("read:items"))
        .sign();
    assert_eq!(
        call(&channel, Method::Items, Some(&scope_only)).await.unwrap().scopes,
        ["read:items"]
    );
    assert_eq!(
        refused(call(&channel, Method::Admin, Some(&scope_only)).await).0,
        Code::PermissionDenied
    );

    // No token: every demo method needs a session.
    for method in [Method::WhoAmI, Method::Admin, Method::Items] {
        let answer = call(&channel, method, None).await;
        assert_eq!(refused(answer), (Code::Unauthenticated, MISSING.into()), "{method:?}");
    }
}

#[tokio::test]
async fn the_health_service_needs_no_token() {
    let issuer = TestIssuer::start().await;
    let channel = start_demo(Authenticator::new(issuer.verifier())).await;
    for service in ["", "authorizer.demo.v1.Demo"] {
        let answer = health(&channel, service, None).await.expect("health without a token");
        assert_eq!(answer.status(), ServingStatus::Serving, "{service:?}");
    }
    let user = support::demo_tokens(&issuer).user;
    assert!(health(&channel, "", Some(&user)).await.is_ok());
    // Optional is not careless: a bad token is refused even here.
    let bad = health(&channel, "", Some("not.a.token")).await.unwrap_err();
    assert_eq!((bad.code(), bad.message()), (Code::Unauthenticated, INVALID));
    assert_eq!(
        health(&channel, "unknown.Service", None).await.unwrap_err().code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated_and_say_expired_or_invalid() {
    let issuer = TestIssuer::start().await;
    let channel = start_demo(Authenticator::new(issuer.verifier())).await;
    let tokens = support::demo_tokens(&issuer);

    let expired = call(&channel, Method::WhoAmI, Some(&tokens.expired)).await;
    assert_eq!(refused(expired), (Code::Unauthenticated, EXPIRED.into()));

    let elsewhere = TestIssuer::new().token().sign();
    let mut tampered = tokens.admin.clone();
    tampered.pop();
    tampered.push(if tokens.admin.ends_with('A') { 'B' } else { 'A' });
    let unknown_key = issuer.token().kid(Some("no-such-key")).sign();
    let wrong_audience = issuer.token().claim("aud", json!("another-api")).sign();
    for (name, token) in [
        ("garbage", "not.a.token"),
        ("another issuer", elsewhere.as_str()),
        ("a tampered signature", tampered.as_str()),
        ("an unknown key", unknown_key.as_str()),
        ("another audience", wrong_audience.as_str()),
    ] {
        for method in [Method::WhoAmI, Method::Admin] {
            let answer = call(&channel, method, Some(token)).await;
            assert_eq!(
                refused(answer),
                (Code::Unauthenticated, INVALID.into()),
                "{name}, {method:?}"
            );
        }
    }

    // The server kept serving.
    assert_eq!(
        call(&channel, Method::WhoAmI, Some(&tokens.user)).await.unwrap().id,
        "user-1"
    );
}

/// A method the table does not name is refused (7), not reported unknown (12).
#[tokio::test]
async fn methods_the_table_does_not_name_are_refused() {
    let issuer = TestIssuer::start().await;
    let channel = start_demo(Authenticator::new(issuer.verifier())).await;
    let admin = support::demo_tokens(&issuer).admin;
    for path in [
        "/authorizer.demo.v1.Demo/Delete",
        "/authorizer.demo.v1.Demo/whoami",
        "/authorizer.demo.v1.Other/WhoAmI",
    ] {
        let mut request = Request::new(WhoAmIRequest {});
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {admin}").parse().unwrap());
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready().await.unwrap();
        let codec = tonic_prost::ProstCodec::<WhoAmIRequest, WhoAmIReply>::default();
        let answer = grpc
            .unary(request, http::uri::PathAndQuery::from_static(path), codec)
            .await;
        let status = answer.expect_err("refused, never served");
        assert_eq!(
            (status.code(), status.message()),
            (Code::PermissionDenied, UNMET),
            "{path}"
        );
    }
}

#[tokio::test]
async fn unreachable_keys_are_unavailable() {
    let issuer = TestIssuer::start().await;
    // The JWKS endpoint is down before the first key fetch: nothing is cached.
    issuer.set_outage(true);
    let channel = start_demo(Authenticator::new(issuer.verifier())).await;
    let user = support::demo_tokens(&issuer).user;
    for method in [Method::WhoAmI, Method::Admin, Method::Items] {
        let answer = call(&channel, method, Some(&user)).await;
        let expected = (
            Code::Unavailable,
            "the service cannot verify credentials right now".into(),
        );
        assert_eq!(refused(answer), expected, "{method:?}");
    }
    // No token needs no key: the health service still answers.
    assert!(health(&channel, "", None).await.is_ok());
}

/// The rules are the demo's public contract: here as data, the same table.
#[test]
fn the_demo_table_as_data() {
    let data: RouteTable = serde_json::from_value(json!({
        "routes": {
            "POST /authorizer.demo.v1.Demo/WhoAmI": {},
            "POST /authorizer.demo.v1.Demo/Admin": {"require": {"claim": "st-role", "at": "v", "contains": "admin"}},
            "POST /authorizer.demo.v1.Demo/Items": {"require": {"scope": "read:items"}},
            "ANY /grpc.health.v1.Health/{method}": {"optional": true}
        },
        "fallback": {"deny": true}
    }))
    .unwrap();
    let demo = grpc_example::routes().unwrap();
    assert_eq!(
        serde_json::to_value(&demo).unwrap(),
        serde_json::to_value(&data).unwrap()
    );
}
