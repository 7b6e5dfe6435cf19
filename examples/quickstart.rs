//! A demo API protected by `authorizer`, with an in-process test issuer.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! Routes: `GET /public` (optional session), `GET /me` and `POST /me` (session
//! required), `GET /verified`, `GET /admin`, `GET /scoped` (claim requirements),
//! `GET /mfa`, `GET /fresh` (step-up requirements), `POST /logout` (session
//! required: revokes the caller's session, or its token when it has no
//! session handle; 204, and the same token then gets 401), the WebSocket `GET /ws`
//! (session required; the principal, then an echo; closed with code 4401 when
//! the credential expires), and `GET /metrics` (the library's metrics in the
//! Prometheus text format; no credential).
//! Environment: see `examples/support/mod.rs` (`PORT`, `AUTHORIZER_ISSUER`,
//! `AUTHORIZER_JWKS_URL`, `AUTHORIZER_AUDIENCE`, `AUTHORIZER_ERROR_STYLE`,
//! `AUTHORIZER_REDIS_URL`: revocations shared through Redis, with
//! `--features redis`; without it, in this process).

#[path = "support/routes.rs"]
mod routes;
#[path = "support/mod.rs"]
mod support;

use authorizer::Authenticator;
use authorizer::telemetry::VERIFICATION_DURATION;
use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

#[tokio::main]
async fn main() {
    let recorder = prometheus();
    let metrics = recorder.handle();
    metrics::set_global_recorder(recorder).expect("no other metrics recorder is installed");
    authorizer::telemetry::describe();
    let demo = support::from_env_or_exit().await;
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", demo.port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on 127.0.0.1:{}: {error}", demo.port);
            std::process::exit(1);
        }
    };
    let base = format!("http://{}", listener.local_addr().expect("bound address"));
    println!("authorizer quickstart listening on {base}");
    if let Some(issuer) = &demo.test_issuer {
        support::print_curl_lines(&base, issuer);
        println!();
    }
    println!("# metrics, in the Prometheus text format");
    println!("curl {base}/metrics");
    axum::serve(listener, app(demo.authenticator, metrics))
        .await
        .expect("server runs");
}

/// The Prometheus recorder `main` installs: verification times in buckets
/// from 100 µs to 5 s (key fetches included).
pub fn prometheus() -> PrometheusRecorder {
    const BUCKETS: [f64; 10] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1, 1.0, 5.0];
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(VERIFICATION_DURATION.to_owned()), &BUCKETS)
        .expect("the bucket list is not empty")
        .build_recorder()
}

/// The demo routes, and `GET /metrics` rendering what `metrics` recorded.
pub fn app(auth: Authenticator, metrics: PrometheusHandle) -> Router {
    routes::demo_router(auth).route(
        "/metrics",
        get(move || {
            // No background task drains the histograms: each scrape does.
            metrics.run_upkeep();
            std::future::ready(metrics.render())
        }),
    )
}
