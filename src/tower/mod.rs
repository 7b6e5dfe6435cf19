//! Tower glue: [`AuthLayer`] runs the pipeline, [`RequireLayer`] checks a
//! route's requirement, or each route's rule from a [route table](crate::routes).
//!
//! Both answer with a [`ResponseBody`] around the inner service's body, so
//! they fit any tower HTTP server whose bodies carry `Bytes`: axum, hyper and
//! tonic alike. A refusal is written for the kind of request it answers: a
//! gRPC request (HTTP/2 with `content-type: application/grpc...`) gets a trailers-only
//! response (HTTP 200, `grpc-status` 16 `UNAUTHENTICATED`, 7
//! `PERMISSION_DENIED`, 14 `UNAVAILABLE`, and a `grpc-message` that says
//! expired or invalid, never why), any other request the status,
//! `WWW-Authenticate` and JSON body of the configured error style. One layer
//! can so front a server that speaks both.
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
mod metadata;
mod require;

pub use auth::{AuthFuture, AuthLayer, AuthService};
pub use body::ResponseBody;
pub use metadata::MetadataService;
pub use require::{RequireFuture, RequireLayer, RequireService};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, Response};

use crate::error::Rejection;

/// A rejection as the response `request` expects: gRPC's trailers-only form
/// for a gRPC request, else status, `WWW-Authenticate` and JSON body.
fn rejection_response<B>(rejection: &Rejection, request: &Request<B>) -> Response<Bytes> {
    let rendered = rejection.to_response();
    if !is_grpc(request) {
        return rendered.into_http();
    }
    let error = rejection.error();
    let mut response = Response::new(Bytes::new());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert("grpc-status", HeaderValue::from(error.grpc_code()));
    headers.insert("grpc-message", HeaderValue::from_static(error.grpc_message()));
    for challenge in rendered.www_authenticate {
        headers.append(http::header::WWW_AUTHENTICATE, challenge);
    }
    response
}

/// gRPC requests are told apart by their content type (`application/grpc`,
/// `application/grpc+proto`, ...), as gRPC servers do, over HTTP/2, which gRPC
/// requires: an HTTP/1.1 request that merely claims the content type is
/// answered as any HTTP request (a 401 that logs and caches show as one).
fn is_grpc<B>(request: &Request<B>) -> bool {
    request.version() == http::Version::HTTP_2
        && request.headers().get(CONTENT_TYPE).is_some_and(|value| {
            let value = value.as_bytes();
            value.len() >= 16
                && value[..16].eq_ignore_ascii_case(b"application/grpc")
                && matches!(value.get(16), None | Some(b'+' | b';'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorStyle};

    fn request(content_type: Option<&str>) -> Request<()> {
        let mut request = Request::new(());
        *request.version_mut() = http::Version::HTTP_2;
        if let Some(value) = content_type {
            request.headers_mut().insert(CONTENT_TYPE, value.parse().unwrap());
        }
        request
    }

    #[test]
    fn layers_services_and_bodies_are_shareable() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<AuthLayer>();
        assert_send_sync::<RequireLayer>();
        assert_send_sync::<AuthService<()>>();
        assert_send_sync::<RequireService<()>>();
        assert_send_sync::<ResponseBody<String>>();
    }

    #[test]
    fn grpc_requests_by_content_type() {
        for grpc in [
            "application/grpc",
            "application/grpc+proto",
            "Application/GRPC;charset=x",
        ] {
            assert!(is_grpc(&request(Some(grpc))), "{grpc}");
        }
        for other in [
            "application/json",
            "application/grpc-web",
            "application/grpcx",
            "text/plain",
        ] {
            assert!(!is_grpc(&request(Some(other))), "{other}");
        }
        assert!(!is_grpc(&request(None)));
        let mut http1 = request(Some("application/grpc"));
        *http1.version_mut() = http::Version::HTTP_11;
        assert!(!is_grpc(&http1), "gRPC needs HTTP/2");
    }

    #[test]
    fn a_grpc_refusal_is_trailers_only() {
        let rejection = Rejection::new(Error::Expired, ErrorStyle::Rfc6750);
        let response = rejection_response(&rejection, &request(Some("application/grpc")));
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["grpc-status"], "16");
        assert_eq!(response.headers()["grpc-message"], "the access token expired");
        assert!(response.body().is_empty());
        let http = rejection_response(&rejection, &request(Some("application/json")));
        assert_eq!(http.status(), 401);
        assert!(!http.body().is_empty());
    }
}
