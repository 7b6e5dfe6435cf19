//! The quickstart's API as a Lambda function behind API Gateway.
//!
//! Routes and answers are the quickstart's: `GET /public` (optional session),
//! `GET`/`POST /me` (session), `GET /verified`, `GET /admin`, `GET /scoped`
//! (claim requirements, checked here: the gateway cannot). The caller is the
//! principal API Gateway's authorizer established (JWT, Lambda, Cognito or IAM);
//! a request without an authorizer context has its credential verified here, so
//! the same binary runs under `cargo lambda watch` without a gateway.
//!
//! Run it where a Lambda Runtime API is (`AWS_LAMBDA_RUNTIME_API`): deployed,
//! under `cargo lambda watch` in a crate of your own (then `curl -H
//! "Authorization: Bearer <token>" http://localhost:9000/lambda-url/<function>/me`:
//! no authorizer there, so the token is verified here), or with `cargo test
//! --all-features --test lambda_e2e`, which serves one on 127.0.0.1 and feeds
//! this binary the events API Gateway sends behind each kind of authorizer.
//!
//! Behind a REST API stage, set `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH=true` on the
//! function so `lambda_http` does not put the stage name in front of the paths.
//! Environment: `AUTHORIZER_ISSUER`, `AUTHORIZER_JWKS_URL`, `AUTHORIZER_AUDIENCE`,
//! `AUTHORIZER_ERROR_STYLE` (see `examples/support/mod.rs`).

#[path = "support/routes.rs"]
mod routes;
#[path = "support/mod.rs"]
mod support;

use authorizer::lambda;

#[tokio::main]
async fn main() {
    let demo = support::lambda_demo("lambda_api").await;
    let app = routes::demo_router(lambda::gateway_or_verify(demo.authenticator));
    if let Err(error) = lambda_http::run(app).await {
        eprintln!("Lambda runtime: {error}");
        std::process::exit(1);
    }
}
