//! A demo API protected by `authorizer`, with an in-process test issuer.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! Routes: `GET /public` (optional session), `GET /me` and `POST /me` (session
//! required), `GET /verified`, `GET /admin`, `GET /scoped` (claim requirements),
//! `GET /mfa`, `GET /fresh` (step-up requirements), and the WebSocket `GET /ws` (session required; the principal, then an echo;
//! closed with code 4401 when the credential expires).
//! Environment: see `examples/support/mod.rs` (`PORT`, `AUTHORIZER_ISSUER`,
//! `AUTHORIZER_JWKS_URL`, `AUTHORIZER_AUDIENCE`, `AUTHORIZER_ERROR_STYLE`).

#[path = "support/routes.rs"]
mod routes;
#[path = "support/mod.rs"]
mod support;

#[tokio::main]
async fn main() {
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
    }
    let app = routes::demo_router(demo.authenticator);
    axum::serve(listener, app).await.expect("server runs");
}
