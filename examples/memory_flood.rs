//! Resident memory under a flood of distinct valid tokens, with every cache of
//! the pipeline on: the verified-token cache, the DPoP replay cache (every
//! request is a DPoP request with a fresh proof) and the session stage's
//! answer cache (every token has its own `jti` and session handle).
//!
//! ```sh
//! cargo run --release --all-features --example memory_flood            # 1,000,000 tokens
//! TOKENS=200000 TOKEN_CAPACITY=10000 REPLAY_CAPACITY=100000 \
//!     cargo run --release --all-features --example memory_flood
//! ```
//!
//! Each request: a new HS256 token (new subject, `jti`, `sessionHandle`),
//! bound to the client's EdDSA key, and a new proof; all of them pass, and
//! each one is a miss in every cache, so every cache fills to its capacity
//! and then evicts. Prints the process's resident memory (`VmRSS`) at
//! checkpoints: a bounded pipeline levels off once the caches are full.

use std::time::Duration;

use authorizer::binding::Binding;
use authorizer::pipeline::{Mode, RequestParts};
use authorizer::session::{MemoryStore, SessionCheck};
use authorizer::testing::{DpopKey, TestIssuer};
use authorizer::{Algorithm, Authenticator};
use serde_json::json;

fn count(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let tokens = count("TOKENS", 1_000_000);
    let token_capacity = count("TOKEN_CAPACITY", authorizer::DEFAULT_CACHE_CAPACITY);
    let replay_capacity = count("REPLAY_CAPACITY", authorizer::binding::DEFAULT_REPLAY_CAPACITY);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;

    let issuer = TestIssuer::new();
    let verifier = issuer
        .verifier_builder()
        .cache_capacity(token_capacity)
        .build()
        .unwrap();
    let binding = Binding::new()
        .replay_capacity(replay_capacity)
        .public_url("https://api.example.com")
        .unwrap();
    let session = SessionCheck::new(MemoryStore::new()).recheck_interval(Duration::from_secs(600));
    let auth = Authenticator::new(verifier).binding(binding).session_check(session);
    let client = DpopKey::new(Algorithm::EdDSA).expect("an EdDSA key");

    println!(
        "tokens: {tokens}; token cache {token_capacity}, replay cache {replay_capacity}, \
         session answers 100000 (entries); {workers} threads"
    );
    println!("{:>10} {:>10}", "requests", "RSS KiB");
    println!("{:>10} {:>10}", 0, rss_kib());
    let checkpoints = [10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000];
    let mut done = 0;
    for checkpoint in checkpoints.into_iter().filter(|&c| c <= tokens).chain([tokens]) {
        if checkpoint <= done {
            continue;
        }
        let batch = checkpoint - done;
        std::thread::scope(|scope| {
            for worker in 0..workers {
                let (auth, issuer, client) = (&auth, &issuer, &client);
                let (each, extra) = (batch / workers, batch % workers);
                let share = each + u64::from(worker < extra);
                let first = done + worker * each + worker.min(extra);
                scope.spawn(move || flood(auth, issuer, client, first, share));
            }
        });
        done = checkpoint;
        println!("{done:>10} {:>10}", rss_kib());
    }
}

/// `n` requests, each with a new token and a new proof, all of which must pass.
fn flood(auth: &Authenticator, issuer: &TestIssuer, client: &DpopKey, first: u64, n: u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for i in first..first + n {
        let token = issuer
            .token()
            .alg(Algorithm::HS256)
            .subject(&format!("user-{i}"))
            .claim("jti", json!(format!("t-{i}")))
            .claim("sessionHandle", json!(format!("s-{i}")))
            .bound_to(client)
            .sign();
        let proof = client
            .proof("GET", "https://api.example.com/me")
            .access_token(&token)
            .sign();
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", format!("DPoP {token}").parse().unwrap());
        headers.insert("dpop", proof.parse().unwrap());
        let parts = RequestParts::new("GET", "/me", &headers);
        let outcome = runtime.block_on(async { auth.authenticate(&parts, Mode::Required).await });
        assert!(outcome.principal().is_some(), "request {i}: {:?}", outcome.error());
    }
}
