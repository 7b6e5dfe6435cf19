//! RFC 9728 over real HTTP on 127.0.0.1: the metadata document served by
//! axum and actix-web, `resource_metadata` in every challenge, the resource
//! as the default audience, and an API's own error format behind both
//! frameworks with the protocol's status and challenges intact.

#![cfg(all(feature = "axum", feature = "testing"))]

use authorizer::require::scope;
use authorizer::resource::ProtectedResource;
use authorizer::testing::TestIssuer;
use authorizer::tower::{AuthLayer, MetadataService, RequireLayer};
use authorizer::{Authenticator, Error, ErrorBody, ErrorFormat, ErrorStyle, Issuer, Verifier};
use axum::Router;
use axum::routing::post;
use http::StatusCode;
use serde_json::{Value, json};

use crate::common::{client, parts, serve};

const RESOURCE: &str = "https://api.example.com/mcp";
const METADATA: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";
const METADATA_PATH: &str = "/.well-known/oauth-protected-resource/mcp";

/// Problem Details (RFC 9457) with a header of the API's own.
struct Problem;

impl ErrorFormat for Problem {
    fn body(&self, error: &Error, status: StatusCode) -> ErrorBody {
        let title = if status == StatusCode::FORBIDDEN {
            "not allowed"
        } else {
            "sign in"
        };
        let problem =
            json!({ "type": "about:blank", "title": title, "status": status.as_u16(), "detail": error.grpc_message() });
        ErrorBody::new("application/problem+json", problem.to_string()).header("x-problem", "1")
    }
}

fn authenticator(issuer: &TestIssuer, problem: bool) -> Authenticator {
    let resource = ProtectedResource::new(RESOURCE)
        .unwrap()
        .scopes_supported(["mcp:tools", "mcp:admin"]);
    let verifier = Verifier::builder()
        .issuer(Issuer::static_keys(issuer.issuer(), issuer.key_set()))
        .protected_resource(resource)
        .build()
        .unwrap();
    let auth = Authenticator::new(verifier).error_style(ErrorStyle::Rfc6750);
    if problem { auth.error_format(Problem) } else { auth }
}

fn axum_app(auth: Authenticator) -> Router {
    let metadata = auth.resource_metadata().expect("a resource is configured");
    Router::new()
        .route("/mcp", post(|| async { "served" }))
        .route_layer(RequireLayer::new(scope("mcp:tools")))
        .route_layer(AuthLayer::required(auth))
        .route_service(metadata.path(), MetadataService::new(&metadata))
}

#[cfg(feature = "actix-web")]
async fn actix_app(auth: Authenticator) -> String {
    use actix_web::{App, HttpServer, web};
    use authorizer::actix::{AuthMiddleware, RequireMiddleware, metadata_resource};
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let metadata = auth.resource_metadata().expect("a resource is configured");
                App::new().service(metadata_resource(&metadata)).service(
                    web::resource("/mcp")
                        .wrap(RequireMiddleware::new(scope("mcp:tools")))
                        .wrap(AuthMiddleware::required(auth.clone()))
                        .route(web::post().to(|| async { "served" })),
                )
            })
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind 127.0.0.1");
            sender.send(server.addrs()[0]).expect("test waits for the address");
            server.run().await.expect("actix server runs");
        })
    });
    format!("http://{}", receiver.await.expect("actix server started"))
}

async fn servers(issuer: &TestIssuer, problem: bool) -> Vec<String> {
    #[allow(unused_mut)]
    let mut bases = vec![serve(axum_app(authenticator(issuer, problem))).await];
    #[cfg(feature = "actix-web")]
    bases.push(actix_app(authenticator(issuer, problem)).await);
    bases
}

async fn call(base: &str, token: Option<&str>) -> (u16, Option<String>, Value) {
    let mut request = client().post(format!("{base}/mcp"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    parts(request.send().await.expect("server answers")).await
}

fn with_metadata(params: &str) -> String {
    if params.is_empty() {
        format!(r#"Bearer resource_metadata="{METADATA}""#)
    } else {
        format!(r#"Bearer {params}, resource_metadata="{METADATA}""#)
    }
}

#[tokio::test]
async fn the_metadata_document_is_served_where_rfc_9728_puts_it() {
    let issuer = TestIssuer::new();
    for base in servers(&issuer, false).await {
        let response = client().get(format!("{base}{METADATA_PATH}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{base}");
        assert_eq!(response.headers()["content-type"], "application/json");
        assert!(response.headers().contains_key("cache-control"));
        let document: Value = response.json().await.unwrap();
        assert_eq!(
            document,
            json!({
                "resource": RESOURCE,
                "authorization_servers": [issuer.issuer()],
                "bearer_methods_supported": ["header"],
                "scopes_supported": ["mcp:tools", "mcp:admin"],
            }),
            "{base}"
        );
        let written = client().post(format!("{base}{METADATA_PATH}")).send().await.unwrap();
        assert_eq!(written.status(), 405, "{base}: the document is read-only");
    }
}

#[tokio::test]
async fn odd_metadata_requests_answer_as_a_static_resource_would() {
    let issuer = TestIssuer::new();
    let expected = json!({
        "resource": RESOURCE,
        "authorization_servers": [issuer.issuer()],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["mcp:tools", "mcp:admin"],
    });
    for base in servers(&issuer, false).await {
        for path in [
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/mcp/extra",
            "/.well-known/oauth-protected-resource/other",
            "/.well-known/openid-configuration",
        ] {
            let response = client().get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(response.status(), 404, "{base}{path}");
        }
        let head = client().head(format!("{base}{METADATA_PATH}")).send().await.unwrap();
        assert_eq!(head.status(), 200, "{base}: HEAD");
        for method in [http::Method::PUT, http::Method::DELETE, http::Method::PATCH] {
            let response = client()
                .request(method.clone(), format!("{base}{METADATA_PATH}"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{base}: {method}");
        }
        // The document is static: no Host, query or header changes it.
        let odd = client()
            .get(format!("{base}{METADATA_PATH}?resource=https://evil.example"))
            .header("host", "evil.example")
            .header("x-forwarded-host", "evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(odd.status(), 200);
        assert_eq!(odd.json::<Value>().await.unwrap(), expected, "{base}");
    }
}

#[tokio::test]
async fn every_challenge_points_to_the_metadata_and_the_resource_is_the_audience() {
    let issuer = TestIssuer::new();
    let for_us = issuer
        .token()
        .claim("aud", json!(RESOURCE))
        .claim("scope", json!("mcp:tools"))
        .sign();
    let for_another = issuer
        .token()
        .claim("aud", json!("https://other.example.com/mcp"))
        .claim("scope", json!("mcp:tools"))
        .sign();
    let no_scope = issuer.token().claim("aud", json!(RESOURCE)).sign();
    for base in servers(&issuer, false).await {
        let (status, challenge, _) = call(&base, None).await;
        assert_eq!((status, challenge), (401, Some(with_metadata(""))), "{base}");

        let (status, challenge, body) = call(&base, Some(&for_another)).await;
        assert_eq!(status, 401, "{base}: a token minted for another resource");
        assert_eq!(
            challenge,
            Some(with_metadata(
                r#"error="invalid_token", error_description="the access token is invalid""#
            ))
        );
        assert_eq!(body["error"], "invalid_token");

        let (status, challenge, _) = call(&base, Some(&no_scope)).await;
        assert_eq!(status, 403, "{base}");
        assert_eq!(
            challenge,
            Some(with_metadata(r#"error="insufficient_scope", scope="mcp:tools""#))
        );

        let (status, _, body) = call(&base, Some(&for_us)).await;
        assert_eq!((status, body), (200, Value::from("served")), "{base}");
    }
}

#[tokio::test]
async fn an_api_error_format_shapes_the_body_and_keeps_status_and_challenge() {
    let issuer = TestIssuer::new();
    let no_scope = issuer.token().claim("aud", json!(RESOURCE)).sign();
    for base in servers(&issuer, true).await {
        for (token, status, title) in [(None, 401, "sign in"), (Some(no_scope.as_str()), 403, "not allowed")] {
            let mut request = client().post(format!("{base}/mcp"));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), status, "{base}");
            assert_eq!(response.headers()["content-type"], "application/problem+json");
            assert_eq!(response.headers()["x-problem"], "1");
            let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
            assert!(
                challenge.ends_with(&format!(r#"resource_metadata="{METADATA}""#)),
                "{challenge}"
            );
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                (body["title"].as_str(), body["status"].as_u64()),
                (Some(title), Some(status.into()))
            );
        }
    }
}
