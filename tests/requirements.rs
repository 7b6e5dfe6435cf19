//! Claim requirements over real HTTP: the quickstart's routes, the extractor
//! form, and a route table read from configuration.

use crate::common;

use std::collections::BTreeMap;

use authorizer::require::Require;
use authorizer::require::Requirement;
use authorizer::require::supertokens::EmailVerified;
use authorizer::testing::TestIssuer;
use authorizer::tower::AuthLayer;
use authorizer::tower::RequireLayer;
use authorizer::{Authenticator, ErrorStyle};
use axum::Router;
use axum::routing::get;
use common::{client, demo_app, parts, serve};
use serde_json::{Value, json};

async fn demo(style: ErrorStyle) -> (TestIssuer, String) {
    let issuer = TestIssuer::start().await;
    let base = serve(demo_app(Authenticator::new(issuer.verifier()).error_style(style))).await;
    (issuer, base)
}

async fn get_with(base: &str, path: &str, token: &str) -> (u16, Option<String>, Value) {
    parts(
        client()
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn user(issuer: &TestIssuer) -> String {
    issuer
        .token()
        .claim("st-ev", json!({"v": false, "t": 0}))
        .claim("st-role", json!({"v": ["user"], "t": 0}))
        .claim("scope", json!("write:items"))
        .sign()
}

fn admin(issuer: &TestIssuer) -> String {
    issuer
        .token()
        .subject("admin-1")
        .claim("st-ev", json!({"v": true, "t": 0}))
        .claim("st-role", json!({"v": ["admin"], "t": 0}))
        .claim("scope", json!("read:items write:items"))
        .sign()
}

#[tokio::test]
async fn each_route_passes_for_the_right_principal() {
    let (issuer, base) = demo(ErrorStyle::SuperTokens).await;
    let token = admin(&issuer);
    for path in ["/verified", "/admin", "/scoped"] {
        let (status, _, body) = get_with(&base, path, &token).await;
        assert_eq!((status, &body["id"]), (200, &json!("admin-1")), "{path}");
    }
}

#[tokio::test]
async fn failures_in_supertokens_style() {
    let (issuer, base) = demo(ErrorStyle::SuperTokens).await;
    let token = user(&issuer);
    let (status, challenge, body) = get_with(&base, "/verified", &token).await;
    assert_eq!((status, challenge), (403, None));
    assert_eq!(
        body,
        json!({"message": "invalid claim", "claimValidationErrors": [
            {"id": "st-ev", "reason": {"message": "wrong value", "expectedValue": true, "actualValue": false}}
        ]})
    );
    let (status, _, body) = get_with(&base, "/admin", &token).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["claimValidationErrors"],
        json!([{"id": "st-role", "reason": {"message": "wrong value", "expectedValue": "admin", "actualValue": ["user"]}}])
    );
    let (status, challenge, body) = get_with(&base, "/scoped", &token).await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="insufficient_scope", scope="read:items""#)
    );
    assert_eq!(body["claimValidationErrors"][0]["id"], "scope");
    let no_claim = issuer.token().sign();
    let (_, _, body) = get_with(&base, "/verified", &no_claim).await;
    assert_eq!(
        body["claimValidationErrors"][0]["reason"]["message"],
        "value does not exist"
    );
}

#[tokio::test]
async fn failures_in_rfc6750_style() {
    let (issuer, base) = demo(ErrorStyle::Rfc6750).await;
    let token = user(&issuer);
    let (status, challenge, body) = get_with(&base, "/scoped", &token).await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="insufficient_scope", scope="read:items""#)
    );
    assert_eq!(body["error"], "insufficient_scope");
    assert_eq!(body["scope"], "read:items");
    let (status, challenge, body) = get_with(&base, "/verified", &token).await;
    assert_eq!((status, challenge), (403, None));
    assert_eq!(body["error"], "forbidden");
    assert_eq!(body["claim_errors"][0]["id"], "st-ev");
}

#[tokio::test]
async fn no_principal_on_a_route_with_requirements_is_401() {
    let issuer = TestIssuer::start().await;
    let app = Router::new()
        .route("/verified", get(|| async { "ok" }))
        .route_layer(RequireLayer::new(authorizer::require::supertokens::email_verified()))
        .layer(AuthLayer::optional(issuer.verifier()));
    let base = serve(app).await;
    let (status, challenge, body) = parts(client().get(format!("{base}/verified")).send().await.unwrap()).await;
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")));
    assert_eq!(body, json!({"message": "unauthorised"}));
}

#[tokio::test]
async fn the_extractor_form() {
    async fn verified(user: Require<EmailVerified>) -> String {
        user.id().to_owned()
    }
    let issuer = TestIssuer::start().await;
    let app = Router::new()
        .route("/v", get(verified))
        .layer(AuthLayer::required(issuer.verifier()));
    let base = serve(app).await;
    let ok = client()
        .get(format!("{base}/v"))
        .bearer_auth(admin(&issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.text().await.unwrap(), "admin-1");
    let (status, _, body) = get_with(&base, "/v", &user(&issuer)).await;
    assert_eq!(status, 403);
    assert_eq!(body["claimValidationErrors"][0]["id"], "st-ev");
}

/// A route table kept in configuration (TOML), applied per route.
#[tokio::test]
async fn a_route_table_from_toml() {
    #[derive(serde::Deserialize)]
    struct Config {
        routes: BTreeMap<String, Requirement>,
    }
    let config: Config = toml::from_str(
        r#"
        [routes."/reports"]
        all = [
          { claim = "st-ev", at = "v", eq = true },
          { any_scope = ["read:items", "reports"] },
        ]

        [routes."/billing"]
        id = "billing-admin"
        claim = "st-role"
        at = ["v"]
        contains_any = ["admin", "billing"]
        "#,
    )
    .unwrap();
    let issuer = TestIssuer::start().await;
    let mut app = Router::new();
    for (path, requirement) in config.routes {
        app = app.route(
            &path,
            get(|| async { "ok" }).route_layer(RequireLayer::new(requirement)),
        );
    }
    let base = serve(app.layer(AuthLayer::required(issuer.verifier()))).await;
    for path in ["/reports", "/billing"] {
        assert_eq!(get_with(&base, path, &admin(&issuer)).await.0, 200, "{path}");
        let (status, _, body) = get_with(&base, path, &user(&issuer)).await;
        assert_eq!(status, 403, "{path}");
        assert!(!body["claimValidationErrors"].as_array().unwrap().is_empty());
    }
    let (_, _, body) = get_with(&base, "/billing", &user(&issuer)).await;
    assert_eq!(body["claimValidationErrors"][0]["id"], "billing-admin");
}

#[test]
fn a_bad_route_table_fails_at_start_up_naming_the_place() {
    let error = Requirement::from_json(r#"{"all": [{"scope": "a"}, {"claim": "x", "eqq": 1}]}"#).unwrap_err();
    assert!(error.path().contains("all[1]"), "{error}");
}
