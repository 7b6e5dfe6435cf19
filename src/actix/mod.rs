//! actix-web adapter: the [`AuthMiddleware`] and [`RequireMiddleware`], and extractors.
//!
//! actix-web is not tower-based, so it gets its own thin glue: it builds the
//! pipeline's [`RequestParts`](crate::pipeline::RequestParts) from actix's
//! request, records the outcome, and renders a rejection as an actix response.
//! Every decision is the core's, and the answers are the tower layer's, status,
//! `WWW-Authenticate` and body alike.
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, HttpServer, web};
//! use authorizer::actix::{AuthMiddleware, RequireMiddleware};
//! use authorizer::require::supertokens;
//! use authorizer::{Authenticator, Issuer, Principal, Verifier};
//!
//! async fn me(principal: Principal) -> HttpResponse {
//!     HttpResponse::Ok().json(principal)
//! }
//!
//! async fn hello(principal: Option<Principal>) -> String {
//!     format!("hello {}", principal.as_ref().map_or("stranger", |p| p.id()))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let verifier = Verifier::builder()
//!         .issuer(Issuer::discover("https://auth.example.com").audience("orders-api"))
//!         .build()?;
//!     let auth = Authenticator::new(verifier);
//!
//!     HttpServer::new(move || {
//!         App::new()
//!             .service(
//!                 web::scope("/api")
//!                     .route("/me", web::get().to(me))
//!                     .service(
//!                         web::scope("/admin")
//!                             .wrap(RequireMiddleware::new(supertokens::has_role("admin")))
//!                             .route("/settings", web::get().to(me)),
//!                     )
//!                     .wrap(AuthMiddleware::required(auth.clone())),
//!             )
//!             .service(web::resource("/hello").wrap(AuthMiddleware::optional(auth.clone())).get(hello))
//!     })
//!     .bind(("127.0.0.1", 3000))?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! # Middleware
//!
//! - [`AuthMiddleware::required`] / [`AuthMiddleware::optional`]: the pipeline,
//!   as [`AuthLayer`](crate::tower::AuthLayer) runs it for tower, putting the
//!   [`Principal`](crate::Principal) in the request extensions. Optional mode lets requests
//!   without a credential through anonymously, never ones with a bad credential.
//! - [`RequireMiddleware::new`]: a [`Requirement`](crate::require::Requirement) for a scope, resource or
//!   route, as [`RequireLayer`](crate::tower::RequireLayer); 403 with every
//!   failed check, 401 for an anonymous request, 500 when no [`AuthMiddleware`]
//!   ran. [`RequireMiddleware::routes`] takes a [route table](crate::routes)
//!   instead, decided as everywhere else. It reads what [`AuthMiddleware`] recorded, so [`AuthMiddleware`] must
//!   wrap outside it (actix runs the *last* `.wrap` first, and an `App`'s
//!   middleware before a scope's).
//!
//! # Extractors
//!
//! Each reads what the middleware recorded through the
//! [principal protocol](crate::pipeline::Authentication), as the axum
//! extractors do:
//!
//! - [`Principal`](crate::Principal): 401 when an optional [`AuthMiddleware`] let an anonymous
//!   request through, **500** when none ran (a server bug, logged as an error).
//! - `Option<Principal>`: `None` for an anonymous request. actix-web turns
//!   *every* extractor error into `None` here, so a missing [`AuthMiddleware`]
//!   is logged but also yields `None`; [`MaybePrincipal`] answers 500 instead.
//! - [`Claims<T>`](crate::Claims): the claims deserialized into `T` (401 when
//!   they do not fit).
//! - [`Require<R>`](crate::require::Require): the principal, when it meets `R`'s
//!   requirement.
//! - [`Authenticated`]: runs the pipeline by itself when no [`AuthMiddleware`]
//!   ran, with the [`Authenticator`](crate::Authenticator) in the app data
//!   (`web::Data<Authenticator>` or a plain `Authenticator`), so one handler can
//!   be protected without a scope.
//!
//! Every error is a [`Rejection`](crate::Rejection), which implements
//! [`ResponseError`](actix_web::ResponseError).

mod extract;
mod metadata;
mod middleware;
mod translate;

pub use extract::{Authenticated, AuthenticatedFuture, MaybePrincipal};
pub use metadata::metadata_resource;
pub use middleware::{AuthFuture, AuthMiddleware, AuthService, RequireFuture, RequireMiddleware, RequireService};
