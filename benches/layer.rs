//! The tower layer through an axum `Router`, beside the same router without it.
//!
//! `cargo bench --all-features --bench layer`

use authorizer::testing::TestIssuer;
use authorizer::tower::AuthLayer;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use tower::ServiceExt;

async fn anonymous() -> &'static str {
    "ok"
}

fn request(header: Option<(&str, &str)>) -> Request<Body> {
    let mut builder = Request::get("/");
    if let Some((name, value)) = header {
        builder = builder.header(name, value);
    }
    builder.body(Body::empty()).unwrap()
}

fn layer(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier();
    let bare = Router::new().route("/", get(anonymous)).with_state(());
    let optional = Router::new()
        .route("/", get(anonymous))
        .layer(AuthLayer::optional(verifier.clone()))
        .with_state(());
    let required = Router::new()
        .route("/", get(anonymous))
        .layer(AuthLayer::required(verifier))
        .with_state(());
    let token = issuer.token().sign();
    let bearer = format!("Bearer {token}");
    let cookie = format!("sAccessToken={token}");

    // Warm the verified-token cache for both credential sources.
    for header in [("authorization", bearer.as_str()), ("cookie", cookie.as_str())] {
        let response = runtime
            .block_on(required.clone().oneshot(request(Some(header))))
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    // Each scenario sends the same request to the bare router and to the
    // layered one, so the difference is the layer's cost alone.
    let scenarios = [
        ("no_credential_optional", None, &optional),
        ("cached_bearer", Some(("authorization", bearer.as_str())), &required),
        ("cached_cookie", Some(("cookie", cookie.as_str())), &required),
    ];
    let mut group = c.benchmark_group("layer");
    for (name, header, layered) in scenarios {
        group.bench_function(format!("{name}/bare"), |b| {
            b.to_async(&runtime).iter(|| bare.clone().oneshot(request(header)))
        });
        group.bench_function(format!("{name}/layer"), |b| {
            b.to_async(&runtime).iter(|| layered.clone().oneshot(request(header)))
        });
    }
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
