//! Verification cost beside its floor, a bare `jsonwebtoken::decode` with the
//! same key and checks, and the verified-token cache hit.
//!
//! `cargo bench --all-features --bench verify`

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use authorizer::credential::Credential;
use authorizer::testing::{TEST_AUDIENCE, TestIssuer};
use authorizer::{Algorithm, Source, Verifier};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value};

/// Static keys never wait, so one poll finishes the verification; this keeps
/// an executor's own cost out of the figures.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a static-key verification never waits"),
    }
}

fn cold_verification(c: &mut Criterion) {
    let issuer = TestIssuer::new();
    let uncached: Verifier = issuer.verifier_builder().cache_capacity(0).build().unwrap();
    let mut group = c.benchmark_group("cold");
    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::EdDSA,
        Algorithm::HS256,
    ] {
        let token = issuer.token().alg(alg).sign();
        let key = issuer.decoding_key(alg);
        let mut validation = jsonwebtoken::Validation::new(alg);
        validation.set_issuer(&[issuer.issuer()]);
        validation.set_audience(&[TEST_AUDIENCE]);
        assert!(jsonwebtoken::decode::<Map<String, Value>>(&token, &key, &validation).is_ok());
        assert!(now(uncached.verify(Credential::new(&token, Source::Bearer))).is_ok());

        group.bench_function(format!("{alg:?}/jsonwebtoken"), |b| {
            b.iter(|| jsonwebtoken::decode::<Map<String, Value>>(&token, &key, &validation).unwrap())
        });
        group.bench_function(format!("{alg:?}/authorizer"), |b| {
            b.iter(|| now(uncached.verify(Credential::new(&token, Source::Bearer))).unwrap())
        });
    }
    group.finish();
}

fn cache_hit(c: &mut Criterion) {
    let issuer = TestIssuer::new();
    let cached = issuer.verifier();
    let token = issuer.token().sign();
    now(cached.verify(Credential::new(&token, Source::Bearer))).unwrap();
    c.bench_function("cache_hit", |b| {
        b.iter(|| now(cached.verify(Credential::new(&token, Source::Bearer))).unwrap())
    });
}

criterion_group!(benches, cold_verification, cache_hit);
criterion_main!(benches);
