//! tonic handlers (feature `tonic`): the [`Principal`] that
//! [`AuthLayer`](crate::tower::AuthLayer) recorded, and refusals as
//! [`Status`].
//!
//! The layers go on a tonic server as on any tower server: every method
//! passes through [`AuthLayer`](crate::tower::AuthLayer), and a
//! [`RequireLayer::routes`](crate::tower::RequireLayer::routes) table gives
//! each method its rule (a method is `POST /package.Service/Method`). A
//! refused call never reaches a handler: the client gets `UNAUTHENTICATED`
//! (16), `PERMISSION_DENIED` (7), `UNAVAILABLE` (14) or `INTERNAL` (13). In
//! the handler, [`principal`] or [`optional_principal`] reads the caller
//! through the [principal protocol](crate::pipeline::Authentication), and a
//! [`Rejection`] converts into the same `Status`, so `?` works for any
//! protocol reader:
//!
//! ```no_run
//! use authorizer::pipeline::Authentication;
//! use authorizer::require::{scope, supertokens};
//! use authorizer::routes::{RouteRule, RouteTable};
//! use authorizer::tower::{AuthLayer, RequireLayer};
//! use authorizer::{Issuer, Verifier};
//! use tonic::{Request, Response, Status};
//!
//! /// The body of a handler: who is calling.
//! fn who_am_i<T>(request: &Request<T>) -> Result<Response<String>, Status> {
//!     let caller = authorizer::tonic::principal(request)?;
//!     Ok(Response::new(caller.id().to_owned()))
//! }
//!
//! /// A check in the handler itself, for what a table cannot say.
//! fn may_export<T>(request: &Request<T>) -> Result<(), Status> {
//!     Authentication::authorize(request.extensions(), &scope("export"))?;
//!     Ok(())
//! }
//!
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
//! let routes = RouteTable::new()
//!     .route("ANY /grpc.health.v1.Health/{method}", RouteRule::optional())?
//!     .route("POST /shop.v1.Admin/{method}", RouteRule::require(supertokens::has_role("admin")))?;
//! let (_, health) = tonic_health::server::health_reporter();
//! tonic::transport::Server::builder()
//!     .layer(AuthLayer::optional(verifier))
//!     .layer(RequireLayer::routes(routes))
//!     .add_service(health)
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(()) }
//! ```

use ::tonic::{Code, Request, Status};

use crate::error::Rejection;
use crate::pipeline::Authentication;
use crate::principal::Principal;

/// The caller: `UNAUTHENTICATED` for an anonymous call (an optional
/// [`AuthLayer`](crate::tower::AuthLayer) let it through), `INTERNAL` when no
/// layer ran (a server bug, logged as an error with the fix; the client
/// learns nothing more).
pub fn principal<T>(request: &Request<T>) -> Result<&Principal, Status> {
    Authentication::required_principal(request.extensions()).map_err(Status::from)
}

/// The caller, or `None` for an anonymous call; still `INTERNAL` when no
/// layer ran, so a forgotten layer is not mistaken for anonymity.
pub fn optional_principal<T>(request: &Request<T>) -> Result<Option<&Principal>, Status> {
    Authentication::principal(request.extensions()).map_err(Status::from)
}

/// The status the layers answer a gRPC request with: the code of
/// [`Error::grpc_code`](crate::Error::grpc_code) and the message of
/// [`Error::grpc_message`](crate::Error::grpc_message), never the reason.
impl From<Rejection> for Status {
    fn from(rejection: Rejection) -> Status {
        let error = rejection.error();
        Status::new(Code::from(i32::from(error.grpc_code())), error.grpc_message())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::{Denied, Error, ErrorStyle, InvalidToken};
    use crate::principal::Source;
    use crate::require::scope;

    fn request(style: Option<ErrorStyle>, principal: Option<Principal>) -> Request<()> {
        let mut request = Request::new(());
        if let Some(style) = style {
            Authentication::record(request.extensions_mut(), style, principal);
        }
        request
    }

    #[test]
    fn the_caller_or_the_status_the_layers_would_answer() {
        let caller = Principal::new("user-1", Source::Bearer);
        let signed_in = request(Some(ErrorStyle::Rfc6750), Some(caller));
        assert_eq!(principal(&signed_in).unwrap().id(), "user-1");
        assert_eq!(optional_principal(&signed_in).unwrap().unwrap().id(), "user-1");

        let anonymous = request(Some(ErrorStyle::SuperTokens), None);
        assert!(optional_principal(&anonymous).unwrap().is_none());
        let refused = principal(&anonymous).unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated);
        assert_eq!(refused.message(), "authentication required");

        // No layer ran: INTERNAL, with nothing of the fix-it log line.
        let bare = request(None, None);
        for status in [principal(&bare).unwrap_err(), optional_principal(&bare).unwrap_err()] {
            assert_eq!(status.code(), Code::Internal);
            assert_eq!(status.message(), "internal server error");
        }
    }

    #[test]
    fn rejections_become_their_grpc_status() {
        let cases = [
            (Error::MissingCredential, Code::Unauthenticated),
            (Error::InvalidToken(InvalidToken::Signature), Code::Unauthenticated),
            (Error::Expired, Code::Unauthenticated),
            (Error::Forbidden(Denied::default()), Code::PermissionDenied),
            (Error::CsrfRejected, Code::PermissionDenied),
            (Error::KeysUnavailable, Code::Unavailable),
            (Error::MissingLayer, Code::Internal),
        ];
        for (error, code) in cases {
            let message = error.grpc_message();
            let status = Status::from(Rejection::new(error, ErrorStyle::Rfc6750));
            assert_eq!((status.code(), status.message()), (code, message));
            assert!(status.details().is_empty() && status.metadata().is_empty());
        }
        let expired = Status::from(Rejection::new(Error::Expired, ErrorStyle::SuperTokens));
        assert_eq!(expired.message(), "the access token expired");
    }

    #[test]
    fn a_failed_requirement_in_a_handler_says_no_claim_value() {
        let caller = Principal::new("user-1", Source::Bearer)
            .with_claims(json!({"secret-claim": "s3cr3t"}).as_object().unwrap().clone());
        let signed_in = request(Some(ErrorStyle::SuperTokens), Some(caller));
        let status = Status::from(Authentication::authorize(signed_in.extensions(), &scope("export")).unwrap_err());
        assert_eq!(status.code(), Code::PermissionDenied);
        assert!(!status.message().contains("export") && !status.message().contains("s3cr3t"));
    }
}
