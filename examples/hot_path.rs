//! One request path run N times, for instruction counts under callgrind:
//! `scripts/instructions.sh` runs every scenario and prints the instructions
//! per request (a figure that, unlike time, does not move with the machine's
//! load). Scenarios:
//!
//! - `bare_none`, `bare_bearer`, `bare_cookie`: an axum `Router` without the
//!   layer, the request without a credential, with the bearer header, with
//!   the cookie (the floor of the next three);
//! - `optional_none`, `bearer`, `cookie`: the same through `AuthLayer`, the
//!   token already in the verified-token cache;
//! - `auth_plain`, `auth_session`: `Authenticator::authenticate` on a cached
//!   token, without and with the session stage (its answer cached);
//! - `lambda_clone`, `lambda`: the Lambda authorizer on a warm REST `TOKEN`
//!   event, and the copy of the event alone (the floor).
//!
//! ```sh
//! cargo build --release --all-features --example hot_path
//! valgrind --tool=callgrind --toggle-collect='hot_path::requests' target/release/examples/hot_path bearer 5000
//! ```
#[path = "../benches/support/paths.rs"]
// Each target uses part of it.
#[allow(dead_code)]
mod paths;

use authorizer::testing::TestIssuer;
use axum::Router;
use paths::{Routers, request};
use tower::ServiceExt;

fn main() {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().unwrap();
    let n: usize = args.next().unwrap().parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let issuer = TestIssuer::new();
    let Routers {
        bare,
        optional,
        required,
        bearer,
        cookie,
    } = Routers::new(&runtime, &issuer);
    if scenario.starts_with("lambda") {
        let (lambda, event) = paths::warm_token_event(&runtime, &issuer);
        lambda_events(&runtime, &lambda, &event, n, scenario == "lambda");
        return;
    }
    if let Some(stage) = scenario.strip_prefix("auth_") {
        let token = issuer
            .token()
            .claim("sessionHandle", serde_json::json!("s-1"))
            .claim("jti", serde_json::json!("t-1"))
            .sign();
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        let auth = authorizer::Authenticator::new(issuer.verifier());
        let auth = match stage {
            "plain" => auth,
            "session" => auth.session_check(
                authorizer::session::SessionCheck::new(authorizer::session::MemoryStore::new())
                    .recheck_interval(std::time::Duration::from_secs(600)),
            ),
            _ => panic!("stage"),
        };
        let parts = authorizer::pipeline::RequestParts::new("GET", "/me", &headers);
        let mode = authorizer::pipeline::Mode::Required;
        assert!(
            runtime
                .block_on(async { auth.authenticate(&parts, mode).await })
                .principal()
                .is_some()
        );
        authenticate(&runtime, &auth, &parts, n);
        return;
    }
    let (router, header) = match scenario.as_str() {
        "bare_none" => (&bare, None),
        "optional_none" => (&optional, None),
        "bare_bearer" => (&bare, Some(("authorization", bearer.as_str()))),
        "bearer" => (&required, Some(("authorization", bearer.as_str()))),
        "bare_cookie" => (&bare, Some(("cookie", cookie.as_str()))),
        "cookie" => (&required, Some(("cookie", cookie.as_str()))),
        _ => panic!("scenario"),
    };
    requests(&runtime, router, header, n);
}

/// The measured part: callgrind counts this function alone (`--toggle-collect`).
#[inline(never)]
fn requests(runtime: &tokio::runtime::Runtime, router: &Router, header: Option<(&str, &str)>, n: usize) {
    runtime.block_on(async {
        for _ in 0..n {
            let response = router.clone().oneshot(request(header)).await.unwrap();
            std::hint::black_box(response);
        }
    });
}

#[inline(never)]
fn authenticate(
    runtime: &tokio::runtime::Runtime,
    auth: &authorizer::Authenticator,
    parts: &authorizer::pipeline::RequestParts<'_>,
    n: usize,
) {
    runtime.block_on(async {
        for _ in 0..n {
            let outcome = auth.authenticate(parts, authorizer::pipeline::Mode::Required).await;
            std::hint::black_box(outcome);
        }
    });
}

#[inline(never)]
fn lambda_events(
    runtime: &tokio::runtime::Runtime,
    lambda: &authorizer::lambda::LambdaAuthorizer,
    event: &serde_json::Value,
    n: usize,
    handle: bool,
) {
    runtime.block_on(async {
        for _ in 0..n {
            let event = event.clone();
            if handle {
                let answer = lambda.handle(event).await.unwrap();
                std::hint::black_box(answer);
            } else {
                std::hint::black_box(event);
            }
        }
    });
}
