//! The Lambda authorizer on a warm REST TOKEN event (the token already in the
//! verified-token cache), beside the cache hit of the verifier it wraps.
//!
//! `cargo bench --all-features --bench lambda`

use authorizer::Source;
use authorizer::credential::Credential;
use authorizer::lambda::LambdaAuthorizer;
use authorizer::routes::{RouteRule, RouteTable};
use authorizer::testing::TestIssuer;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn warm_token_event(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let issuer = TestIssuer::new();
    let verifier = issuer.verifier();
    let routes = RouteTable::new().route("GET /me", RouteRule::session()).unwrap();
    let authorizer = LambdaAuthorizer::new(verifier.clone(), routes);
    let token = issuer.token().sign();
    let event = json!({
        "type": "TOKEN",
        "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/me",
    });
    let allowed = runtime.block_on(authorizer.handle(event.clone())).unwrap();
    assert!(allowed.allows("arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/me"));

    let mut group = c.benchmark_group("lambda");
    group.bench_function("verifier_cache_hit", |b| {
        b.to_async(&runtime)
            .iter(|| verifier.verify(Credential::new(&token, Source::Bearer)))
    });
    group.bench_function("authorizer/warm_token_event", |b| {
        b.to_async(&runtime).iter(|| authorizer.handle(event.clone()))
    });
    group.finish();
}

criterion_group!(benches, warm_token_event);
criterion_main!(benches);
