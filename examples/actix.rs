//! The quickstart's demo API on actix-web, with an in-process test issuer.
//!
//! ```sh
//! cargo run --example actix --features actix-web
//! ```
//!
//! The same routes, environment and answers as `examples/quickstart.rs` (axum),
//! so any client of one works against the other: `GET /public` (optional
//! session), `GET /me` and `POST /me` (session required), `GET /verified`,
//! `GET /admin`, `GET /scoped` (claim requirements), `GET /mfa`, `GET /fresh`
//! (step-up requirements), `POST /logout` (revokes the caller's session), and
//! the WebSocket `GET /ws` (session required). Environment: see
//! `examples/support/mod.rs` (`PORT`, `AUTHORIZER_ISSUER`,
//! `AUTHORIZER_JWKS_URL`, `AUTHORIZER_AUDIENCE`, `AUTHORIZER_ERROR_STYLE`,
//! `AUTHORIZER_REDIS_URL`).

#[path = "support/mod.rs"]
mod support;

use actix_web::dev::HttpServiceFactory;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, guard, web};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use authorizer::actix::{AuthMiddleware, RequireMiddleware};
use authorizer::credential::DEFAULT_PROTOCOL_MARKER;
use authorizer::require::{Requirement, scope, supertokens};
use authorizer::{Authenticator, Principal};
use serde_json::json;

/// The demo API: every route is a resource with its own middleware, so the
/// optional `/public` and the required `/me` sit side by side. (The parity
/// test serves these very routes beside the quickstart's.)
pub fn routes(auth: Authenticator) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .service(
                web::resource("/public")
                    .wrap(AuthMiddleware::optional(auth.clone()))
                    .route(get().to(public)),
            )
            .service(
                web::resource("/me")
                    .wrap(AuthMiddleware::required(auth.clone()))
                    .route(get().to(me))
                    .post(me),
            )
            .service(guarded("/verified", supertokens::email_verified(), &auth))
            .service(guarded("/admin", supertokens::has_role("admin"), &auth))
            .service(guarded("/scoped", scope("read:items"), &auth))
            .service(guarded("/mfa", support::mfa_requirement(), &auth))
            .service(guarded("/fresh", support::fresh_requirement(), &auth))
            .service(
                web::resource("/logout")
                    .wrap(AuthMiddleware::required(auth.clone()))
                    .app_data(web::Data::new(auth.clone()))
                    .route(web::post().to(logout)),
            )
            .service(
                web::resource("/ws")
                    .wrap(AuthMiddleware::required(support::websocket_auth(auth.clone())))
                    .route(web::get().to(ws)),
            );
    }
}

/// `GET path` (and `HEAD`) for a signed-in caller who meets `requirement`: 401 without a
/// session, 403 with every failed check, the principal otherwise.
fn guarded(path: &str, requirement: Requirement, auth: &Authenticator) -> impl HttpServiceFactory + use<> {
    web::resource(path)
        .wrap(AuthMiddleware::required(auth.clone()))
        .route(get().to(me).wrap(RequireMiddleware::new(requirement)))
}

/// GET, and HEAD as axum's `get` also answers it.
fn get() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

async fn public(principal: Option<Principal>) -> HttpResponse {
    HttpResponse::Ok().json(match principal {
        Some(p) => json!({ "authenticated": true, "id": p.id() }),
        None => json!({ "authenticated": false, "id": null }),
    })
}

async fn me(principal: Principal) -> HttpResponse {
    HttpResponse::Ok().json(principal)
}

/// `POST /logout`: see `support::logout`.
async fn logout(auth: web::Data<Authenticator>, principal: Principal) -> HttpResponse {
    let (status, body) = support::logout(&auth, &principal).await;
    let status =
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    match body {
        Some(body) => HttpResponse::build(status).json(body),
        None => HttpResponse::build(status).finish(),
    }
}

/// `GET /ws`: upgrades, sends the principal (the `/me` shape) as one text
/// message, then echoes text messages until the credential expires.
async fn ws(request: HttpRequest, body: web::Payload, principal: Principal) -> actix_web::Result<HttpResponse> {
    // The chosen protocol is the marker, never the token after it.
    let (response, session, messages) = actix_ws::handle_with_protocols(&request, body, &[DEFAULT_PROTOCOL_MARKER])?;
    actix_web::rt::spawn(echo(session, messages, principal));
    Ok(response)
}

async fn echo(mut session: Session, mut messages: MessageStream, principal: Principal) {
    let greeting = serde_json::to_string(&principal).expect("a principal serializes");
    if session.text(greeting).await.is_err() {
        return;
    }
    let expiry = support::credential_expiry(&principal);
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            () = &mut expiry => {
                let reason = CloseReason {
                    code: CloseCode::Other(support::CLOSE_CREDENTIAL_EXPIRED),
                    description: Some("credential expired".into()),
                };
                let _ = session.close(Some(reason)).await;
                return;
            }
            message = messages.recv() => match message {
                Some(Ok(Message::Text(text))) => {
                    if session.text(text).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Ping(bytes))) => {
                    if session.pong(&bytes).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    let _ = session.close(None).await;
                    return;
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

#[actix_web::main]
async fn main() {
    let demo = support::from_env_or_exit().await;
    let auth = demo.authenticator.clone();
    let server =
        match HttpServer::new(move || App::new().configure(routes(auth.clone()))).bind(("127.0.0.1", demo.port)) {
            Ok(server) => server,
            Err(error) => {
                eprintln!("cannot listen on 127.0.0.1:{}: {error}", demo.port);
                std::process::exit(1);
            }
        };
    let base = format!("http://{}", server.addrs()[0]);
    println!("authorizer actix-web example listening on {base}");
    if let Some(issuer) = &demo.test_issuer {
        support::print_curl_lines(&base, issuer);
    }
    server.run().await.expect("server runs");
}
