//! [`MetadataService`]: serves a protected resource's RFC 9728 metadata.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use tower_service::Service;

use crate::resource::ResourceMetadata;

/// A tower service that answers `GET` (and `HEAD`) with the metadata document
/// of a [protected resource](crate::resource), and 405 to other methods.
/// Mount it at [`ResourceMetadata::path`], outside any [`AuthLayer`](super::AuthLayer):
/// a client reads it before it has a token.
///
/// ```
/// use authorizer::resource::ProtectedResource;
/// use authorizer::tower::{AuthLayer, MetadataService};
/// use authorizer::{Authenticator, Issuer, Verifier};
/// use axum::{Router, routing::post};
/// # use authorizer::testing::TestIssuer;
/// # let issuer = TestIssuer::new();
///
/// let verifier = Verifier::builder()
///     .issuer(Issuer::static_keys(issuer.issuer(), issuer.key_set()))
///     .protected_resource(ProtectedResource::new("https://api.example.com/mcp")?)
///     .build()?;
/// let auth = Authenticator::new(verifier);
/// let metadata = auth.resource_metadata().expect("a resource is configured");
/// let app: Router = Router::new()
///     .route("/mcp", post(|| async { "protected" }))
///     .route_layer(AuthLayer::required(auth))
///     .route_service(metadata.path(), MetadataService::new(&metadata));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct MetadataService {
    body: Arc<str>,
}

impl MetadataService {
    /// Serves `metadata`.
    pub fn new(metadata: &ResourceMetadata) -> Self {
        MetadataService {
            body: metadata.body().into(),
        }
    }

    fn answer(&self, method: &Method) -> Response<String> {
        let readable = method == Method::GET || method == Method::HEAD;
        let mut response = if readable {
            Response::new(if method == Method::HEAD {
                String::new()
            } else {
                self.body.to_string()
            })
        } else {
            let mut refused = Response::new(String::new());
            *refused.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            refused
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return refused;
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        // Public and the same for every caller; an hour keeps clients current
        // after a change of authorization servers.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
        response
    }
}

impl<B> Service<Request<B>> for MetadataService {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(self.answer(request.method())))
    }
}
