//! The demo API's axum routes, shared by the quickstart and the Lambda API
//! example (and the tests), so every demo answers the same way.

use authorizer::require::{scope, supertokens};
use authorizer::tower::{AuthLayer, RequireLayer};
use authorizer::{Authenticator, Principal};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

/// `/public` with an optional session; `/me`, `/verified`, `/admin`, `/scoped`
/// with a required one; both authenticated by `auth`.
pub fn demo_router(auth: Authenticator) -> Router {
    let public = Router::new()
        .route("/public", get(public))
        .layer(AuthLayer::optional(auth.clone()));
    let private = Router::new()
        .route("/me", get(me).post(me))
        .route(
            "/verified",
            get(me).route_layer(RequireLayer::new(supertokens::email_verified())),
        )
        .route(
            "/admin",
            get(me).route_layer(RequireLayer::new(supertokens::has_role("admin"))),
        )
        .route("/scoped", get(me).route_layer(RequireLayer::new(scope("read:items"))))
        .layer(AuthLayer::required(auth));
    public.merge(private)
}

async fn public(principal: Option<Principal>) -> Json<Value> {
    Json(match principal {
        Some(p) => json!({ "authenticated": true, "id": p.id() }),
        None => json!({ "authenticated": false, "id": null }),
    })
}

async fn me(principal: Principal) -> Json<Principal> {
    Json(principal)
}
