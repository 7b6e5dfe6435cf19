//! The Lambda authorizer on a warm REST TOKEN event (the token already in the
//! verified-token cache), beside the cache hit of the verifier it wraps.
//!
//! `cargo bench --all-features --bench lambda`

#[path = "support/paths.rs"]
// Each target uses part of it.
#[allow(dead_code)]
mod paths;

use authorizer::Source;
use authorizer::credential::Credential;
use authorizer::testing::TestIssuer;
use criterion::{Criterion, criterion_group, criterion_main};

fn warm_token_event(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let issuer = TestIssuer::new();
    let (authorizer, event) = paths::warm_token_event(&runtime, &issuer);
    // The floor: a verifier's cache hit on a token of the same issuer.
    let verifier = issuer.verifier();
    let token = issuer.token().sign();
    runtime
        .block_on(verifier.verify(Credential::new(&token, Source::Bearer)))
        .unwrap();

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
