//! Key rotation: a request whose `kid` is known must not wait on a key-set
//! refetch that is in flight. Both figures verify a fresh (uncached) token
//! against a JWKS served on 127.0.0.1; in the first, another request is
//! holding a refetch open against an issuer that takes a minute to answer.
//!
//! `cargo bench --all-features --bench rotation`

use std::time::Duration;

use authorizer::credential::Credential;
use authorizer::testing::{TEST_AUDIENCE, TestIssuer};
use authorizer::{FetchPolicy, Issuer, Source, Verifier};
use criterion::{Criterion, criterion_group, criterion_main};

fn verifier(issuer: &TestIssuer, ttl: Duration) -> Verifier {
    let policy = FetchPolicy {
        default_ttl: ttl,
        min_ttl: Duration::ZERO,
        cooldown: Duration::ZERO,
        timeout: Duration::from_secs(120),
        ..FetchPolicy::default()
    };
    Verifier::builder()
        .issuer(
            Issuer::jwks(issuer.issuer(), issuer.jwks_url())
                .audience(TEST_AUDIENCE)
                .fetch_policy(policy),
        )
        .cache_capacity(0)
        .build()
        .unwrap()
}

fn rotation(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let issuer = runtime.block_on(TestIssuer::start());
    let token = issuer.token().sign();
    let verify = |v: &Verifier| {
        runtime
            .block_on(v.verify(Credential::new(&token, Source::Bearer)))
            .unwrap()
    };

    let fresh = verifier(&issuer, Duration::from_secs(3600));
    verify(&fresh);
    let stale = verifier(&issuer, Duration::from_millis(10));
    verify(&stale);
    std::thread::sleep(Duration::from_millis(20));
    issuer.set_delay(Duration::from_secs(60));
    let fetches = issuer.jwks_fetches();
    let refetch = {
        let stale = stale.clone();
        let token = issuer.token().subject("refresher").sign();
        runtime.spawn(async move { stale.verify(Credential::new(&token, Source::Bearer)).await })
    };
    while issuer.jwks_fetches() == fetches {
        std::thread::sleep(Duration::from_millis(5));
    }

    let mut group = c.benchmark_group("rotation");
    group.bench_function("known_kid/fresh_keys", |b| b.iter(|| verify(&fresh)));
    group.bench_function("known_kid/refetch_in_flight", |b| b.iter(|| verify(&stale)));
    group.finish();
    assert!(
        !refetch.is_finished(),
        "the refetch stayed in flight for the whole measurement"
    );
    refetch.abort();
}

criterion_group!(benches, rotation);
criterion_main!(benches);
