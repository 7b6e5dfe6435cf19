//! Shared by the integration tests: real servers on 127.0.0.1.

#![allow(dead_code)]

#[path = "../../examples/support/routes.rs"]
pub mod routes;

use authorizer::Authenticator;
use axum::Router;
use serde_json::Value;

/// Serves `app` on 127.0.0.1 (a free port) and returns its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// The demo API of the quickstart: `/public` (optional), `/me` (required),
/// `/verified`, `/admin`, `/scoped` (claim requirements).
pub fn demo_app(auth: Authenticator) -> Router {
    routes::demo_router(auth)
}

/// A plain HTTP client that never touches a proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Status, `WWW-Authenticate` and JSON body of a response.
pub async fn parts(response: reqwest::Response) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, challenge, body)
}
pub mod redis;
