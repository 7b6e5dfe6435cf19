//! Tower glue: [`AuthLayer`] runs the pipeline, [`RequireLayer`] checks a
//! route's requirement.
//!
//! Both answer with a [`ResponseBody`] around the inner service's body, so
//! they fit any tower HTTP server whose bodies carry `Bytes`: axum, hyper and
//! tonic alike.
//!
//! ```
//! use authorizer::require::scope;
//! use authorizer::tower::{AuthLayer, RequireLayer};
//! use authorizer::{Issuer, Verifier};
//! use tower::ServiceBuilder;
//!
//! # fn main() -> Result<(), authorizer::ConfigError> {
//! let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
//! let service = ServiceBuilder::new()
//!     .layer(AuthLayer::required(verifier))
//!     .layer(RequireLayer::new(scope("read:items")))
//!     .service_fn(|_request: http::Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("items")))
//!     });
//! # let _ = service;
//! # Ok(()) }
//! ```

mod auth;
mod body;
mod require;

pub use auth::{AuthFuture, AuthLayer, AuthService};
pub use body::ResponseBody;
pub use require::{RequireFuture, RequireLayer, RequireService};

use crate::error::Rejection;

/// A rejection as an `http` response: status, `WWW-Authenticate` and JSON body.
fn rejection_response(rejection: &Rejection) -> http::Response<bytes::Bytes> {
    rejection.to_response().into_http()
}
