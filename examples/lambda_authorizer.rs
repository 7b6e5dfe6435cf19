//! An API Gateway Lambda authorizer with the quickstart's rules.
//!
//! Routes (matched against the event's `methodArn` or `routeArn`): `GET /public`
//! optional, `ANY /me` a valid session, `GET /verified` a verified email,
//! `GET /admin` the `admin` role, `GET /scoped` the `read:items` scope; any other
//! path needs a valid session. It answers REST `TOKEN` and `REQUEST` events and
//! HTTP API payload 2.0 events (simple responses).
//!
//! Run it where a Lambda Runtime API is (`AWS_LAMBDA_RUNTIME_API`): deployed,
//! under `cargo lambda watch` in a crate of your own (then `cargo lambda invoke
//! <function> --data-file tests/fixtures/authorizer_token.json`), or with
//! `cargo test --all-features --test lambda_e2e`, which serves one on 127.0.0.1
//! and feeds this binary the events API Gateway sends.
//!
//! Environment: `AUTHORIZER_ISSUER`, `AUTHORIZER_JWKS_URL`, `AUTHORIZER_AUDIENCE`,
//! `AUTHORIZER_ERROR_STYLE` (see `examples/support/mod.rs`). Without
//! `AUTHORIZER_ISSUER` an in-process test issuer signs the tokens printed at start.

#[path = "support/mod.rs"]
mod support;

use authorizer::lambda::LambdaAuthorizer;

#[tokio::main]
async fn main() {
    let demo = support::lambda_demo("lambda_authorizer").await;
    let routes = match support::lambda_routes() {
        Ok(routes) => routes,
        Err(error) => {
            eprintln!("route table: {error}");
            std::process::exit(2);
        }
    };
    // In the init phase, so the first event pays no key fetch.
    if let Some(verifier) = demo.authenticator.verifier()
        && let Err(error) = verifier.fetch_keys().await
    {
        eprintln!("keys not fetched during init ({error}); they will be on first need");
    }
    if let Err(error) = LambdaAuthorizer::new(demo.authenticator, routes).run().await {
        eprintln!("Lambda runtime: {error}");
        std::process::exit(1);
    }
}
