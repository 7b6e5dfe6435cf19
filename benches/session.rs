//! The session stage's cost per request: a verified-token cache hit without
//! the stage, with a cached session answer (the common case: no round trip),
//! and with a lookup on every request (recheck interval zero) in the
//! in-memory store and, with the `redis` feature, in a local `redis-server`
//! (started on 127.0.0.1 as the tests start theirs).
//!
//! `cargo bench --all-features --bench session`

use std::time::Duration;

use authorizer::Authenticator;
use authorizer::pipeline::{Mode, RequestParts};
use authorizer::session::{MemoryStore, SessionCheck, SessionStore};
use authorizer::testing::TestIssuer;
use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use serde_json::json;

#[cfg(feature = "redis")]
#[path = "../tests/common/redis.rs"]
#[allow(dead_code)]
mod redis_server;

fn headers(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    headers
}

fn checked(issuer: &TestIssuer, store: impl SessionStore, recheck: Duration) -> Authenticator {
    let check = SessionCheck::new(store)
        .recheck_interval(recheck)
        .timeout(Duration::from_secs(1));
    Authenticator::new(issuer.verifier()).session_check(check)
}

fn session(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let issuer = TestIssuer::new();
    let token = issuer
        .token()
        .claim("sessionHandle", json!("s-1"))
        .claim("jti", json!("t-1"))
        .sign();
    let headers = headers(&token);
    let parts = RequestParts::new("GET", "/me", &headers);

    let mut scenarios = vec![
        ("no_stage", Authenticator::new(issuer.verifier())),
        ("memory_lookup", checked(&issuer, MemoryStore::new(), Duration::ZERO)),
    ];
    // The answer cached from a Redis store (the common case), and a lookup
    // on every request; without the `redis` feature, the in-memory store's
    // cached answer (the same code: a cached answer never asks the store).
    #[cfg(feature = "redis")]
    let _server = {
        let server = redis_server::RedisServer::start();
        let store = || {
            runtime.block_on(async {
                let store = authorizer::session::RedisStore::new(&server.url()).unwrap();
                store.subscription().wait_for(|s| s.connected).await.unwrap();
                store
            })
        };
        scenarios.push(("cached_answer", checked(&issuer, store(), Duration::from_secs(600))));
        scenarios.push(("redis_lookup", checked(&issuer, store(), Duration::ZERO)));
        server
    };
    #[cfg(not(feature = "redis"))]
    scenarios.push((
        "cached_answer",
        checked(&issuer, MemoryStore::new(), Duration::from_secs(600)),
    ));

    let mut group = c.benchmark_group("session");
    for (name, auth) in &scenarios {
        // Warm the verified-token cache (and the session answer, where cached).
        let outcome = runtime.block_on(async { auth.authenticate(&parts, Mode::Required).await });
        assert!(outcome.principal().is_some(), "{name}: {:?}", outcome.error());
        group.bench_function(*name, |b| {
            b.to_async(&runtime)
                .iter(|| async { auth.authenticate(&parts, Mode::Required).await })
        });
    }
    group.finish();
}

criterion_group!(benches, session);
criterion_main!(benches);
