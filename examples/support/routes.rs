//! The demo API's axum routes, shared by the quickstart and the Lambda API
//! example (and the tests), so every demo answers the same way.

use authorizer::credential::DEFAULT_PROTOCOL_MARKER;
use authorizer::require::{scope, supertokens};
use authorizer::tower::{AuthLayer, RequireLayer};
use authorizer::{Authenticator, Principal};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::support;

/// `/public` with an optional session; `/me`, `/verified`, `/admin`, `/scoped`,
/// the step-up routes `/mfa` and `/fresh`, `POST /logout`, and the WebSocket
/// `/ws` with a required one; all authenticated by `auth`.
pub fn demo_router(auth: Authenticator) -> Router {
    let websocket = Router::new()
        .route("/ws", get(ws))
        .layer(AuthLayer::required(support::websocket_auth(auth.clone())));
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
        .route(
            "/mfa",
            get(me).route_layer(RequireLayer::new(support::mfa_requirement())),
        )
        .route(
            "/fresh",
            get(me).route_layer(RequireLayer::new(support::fresh_requirement())),
        )
        .route("/logout", post(logout).with_state(auth.clone()))
        .layer(AuthLayer::required(auth));
    public.merge(private).merge(websocket)
}

/// `POST /logout`: see `support::logout`.
async fn logout(State(auth): State<Authenticator>, principal: Principal) -> Response {
    let (status, body) = support::logout(&auth, &principal).await;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Some(body) => (status, Json(body)).into_response(),
        None => status.into_response(),
    }
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

/// `GET /ws`: upgrades, sends the principal (the `/me` shape) as one text
/// message, then echoes text messages until the credential expires.
async fn ws(principal: Principal, upgrade: WebSocketUpgrade) -> Response {
    // The chosen protocol is the marker, never the token after it.
    upgrade
        .protocols([DEFAULT_PROTOCOL_MARKER])
        .on_upgrade(move |socket| echo(socket, principal))
}

async fn echo(mut socket: WebSocket, principal: Principal) {
    let greeting = serde_json::to_string(&principal).expect("a principal serializes");
    if socket.send(Message::Text(greeting.into())).await.is_err() {
        return;
    }
    let expiry = support::credential_expiry(&principal);
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            () = &mut expiry => {
                let frame = CloseFrame {
                    code: support::CLOSE_CREDENTIAL_EXPIRED,
                    reason: "credential expired".into(),
                };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return;
            }
            message = socket.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(_) )) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
