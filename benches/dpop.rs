//! A DPoP request through the tower layer, beside a cached bearer request and
//! a cold verification: what the proof's own signature check costs while the
//! access token stays cached.
//!
//! `cargo bench --all-features --bench dpop`

use authorizer::Authenticator;
use authorizer::binding::Binding;
use authorizer::testing::{DpopKey, TestIssuer};
use authorizer::tower::AuthLayer;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use http::Request;
use jsonwebtoken::{Algorithm, DecodingKey};
use tower::ServiceExt;

const URL: &str = "https://api.example.com/";

async fn ok() -> &'static str {
    "ok"
}

fn request(headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::get("/").header("host", "api.example.com");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

fn dpop(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let issuer = TestIssuer::new();
    let auth = Authenticator::new(issuer.verifier()).binding(Binding::new());
    let app = Router::new()
        .route("/", get(ok))
        .layer(AuthLayer::required(auth))
        .with_state(());
    let client = DpopKey::es256();
    let bound = issuer.token().bound_to(&client).sign();
    let plain = issuer.token().sign();
    let bearer = format!("Bearer {plain}");
    let dpop_scheme = format!("DPoP {bound}");

    // Warm the token cache for both tokens.
    let proof = client.proof("GET", URL).access_token(&bound).sign();
    for headers in [
        vec![("authorization", bearer.as_str())],
        vec![("authorization", dpop_scheme.as_str()), ("dpop", proof.as_str())],
    ] {
        let response = runtime.block_on(app.clone().oneshot(request(&headers))).unwrap();
        assert_eq!(response.status(), 200);
    }

    let mut group = c.benchmark_group("dpop");
    group.bench_function("cached_bearer", |b| {
        b.to_async(&runtime)
            .iter(|| app.clone().oneshot(request(&[("authorization", bearer.as_str())])))
    });
    // A fresh proof per request (made outside the measurement): the token is
    // a cache hit, the proof is parsed, checked and its signature verified.
    group.bench_function("dpop_cached_token", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                let proof = client.proof("GET", URL).access_token(&bound).sign();
                request(&[("authorization", dpop_scheme.as_str()), ("dpop", proof.as_str())])
            },
            |request| app.clone().oneshot(request),
            BatchSize::SmallInput,
        )
    });
    // The floor of a DPoP request: the same cached bearer request, plus one
    // check of a fresh proof's ES256 signature with its own public key (the
    // key read from its JWK, as a verifier must), and nothing else of DPoP.
    let jwk = client.public_jwk();
    let (x, y) = (jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap());
    group.bench_function("floor_cached_bearer_plus_es256_signature", |b| {
        b.to_async(&runtime).iter_batched(
            || client.proof("GET", URL).access_token(&bound).sign(),
            |proof| {
                let request = request(&[("authorization", bearer.as_str())]);
                let app = app.clone();
                async move {
                    let response = app.oneshot(request).await;
                    let (input, signature) = proof.rsplit_once('.').unwrap();
                    let key = DecodingKey::from_ec_components(x, y).unwrap();
                    assert!(jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key, Algorithm::ES256).unwrap());
                    response
                }
            },
            BatchSize::SmallInput,
        )
    });
    // A new token per request (made outside the measurement): a cache miss,
    // the token's RS256 signature and claims checked.
    let mut serial = 0u64;
    group.bench_function("cold_bearer_verification", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                serial += 1;
                let token = issuer.token().claim("jti", serial.into()).sign();
                let header = format!("Bearer {token}");
                request(&[("authorization", header.as_str())])
            },
            |request| app.clone().oneshot(request),
            BatchSize::SmallInput,
        )
    });
    // The same with ES256 tokens: the signature check a DPoP proof adds.
    let mut serial = 0u64;
    group.bench_function("cold_es256_bearer_verification", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                serial += 1;
                let token = issuer
                    .token()
                    .alg(authorizer::Algorithm::ES256)
                    .claim("jti", serial.into())
                    .sign();
                let header = format!("Bearer {token}");
                request(&[("authorization", header.as_str())])
            },
            |request| app.clone().oneshot(request),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, dpop);
criterion_main!(benches);
