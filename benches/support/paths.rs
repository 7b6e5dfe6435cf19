//! The hot paths that `benches/layer.rs`, `benches/lambda.rs` and
//! `examples/hot_path.rs` measure, built one way for all three, so that the
//! criterion medians and the instruction counts are of the same requests.

#[cfg(feature = "lambda")]
use authorizer::lambda::LambdaAuthorizer;
#[cfg(feature = "lambda")]
use authorizer::routes::{RouteRule, RouteTable};
use authorizer::testing::TestIssuer;
use authorizer::tower::AuthLayer;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::Request;
#[cfg(feature = "lambda")]
use serde_json::{Value, json};
use tower::ServiceExt;

/// The method ARN of the warm Lambda event.
pub const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/me";

async fn anonymous() -> &'static str {
    "ok"
}

/// A `GET /` with one header, or none.
pub fn request(header: Option<(&str, &str)>) -> Request<Body> {
    let mut builder = Request::get("/");
    if let Some((name, value)) = header {
        builder = builder.header(name, value);
    }
    builder.body(Body::empty()).unwrap()
}

/// One route, one handler that extracts nothing, finalised as `axum::serve`
/// does: without the layer, under an optional one, under a required one;
/// and the bearer and cookie headers of a token already in the cache.
pub struct Routers {
    pub bare: Router,
    pub optional: Router,
    pub required: Router,
    pub bearer: String,
    pub cookie: String,
}

impl Routers {
    pub fn new(runtime: &tokio::runtime::Runtime, issuer: &TestIssuer) -> Self {
        let verifier = issuer.verifier();
        let app = || Router::new().route("/", get(anonymous));
        let token = issuer.token().sign();
        let routers = Routers {
            bare: app().with_state(()),
            optional: app().layer(AuthLayer::optional(verifier.clone())).with_state(()),
            required: app().layer(AuthLayer::required(verifier)).with_state(()),
            bearer: format!("Bearer {token}"),
            cookie: format!("sAccessToken={token}"),
        };
        // Warm the verified-token cache for both credential sources.
        for header in [("authorization", &routers.bearer), ("cookie", &routers.cookie)] {
            let request = request(Some((header.0, header.1.as_str())));
            let response = runtime.block_on(routers.required.clone().oneshot(request)).unwrap();
            assert_eq!(response.status(), 200);
        }
        routers
    }
}

#[cfg(feature = "lambda")]
/// A Lambda authorizer and a REST `TOKEN` event whose token it has cached.
pub fn warm_token_event(runtime: &tokio::runtime::Runtime, issuer: &TestIssuer) -> (LambdaAuthorizer, Value) {
    let routes = RouteTable::new().route("GET /me", RouteRule::session()).unwrap();
    let authorizer = LambdaAuthorizer::new(issuer.verifier(), routes);
    let event = json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {}", issuer.token().sign()),
        "methodArn": METHOD_ARN,
    });
    let allowed = runtime.block_on(authorizer.handle(event.clone())).unwrap();
    assert!(allowed.allows(METHOD_ARN));
    (authorizer, event)
}
