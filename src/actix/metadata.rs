//! [`metadata_resource`]: serves a protected resource's RFC 9728 metadata.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, Resource, web};

use crate::resource::ResourceMetadata;

/// An actix-web resource that answers `GET` (and `HEAD`) at
/// [`ResourceMetadata::path`] with the metadata document of a
/// [protected resource](crate::resource), as the tower
/// [`MetadataService`](crate::tower::MetadataService) does. Register it
/// outside the [`AuthMiddleware`](super::AuthMiddleware)'s scope: a client
/// reads it before it has a token.
///
/// ```
/// use actix_web::{App, web};
/// use authorizer::actix::{AuthMiddleware, metadata_resource};
/// use authorizer::resource::ProtectedResource;
/// use authorizer::{Authenticator, Issuer, Verifier};
/// # use authorizer::testing::TestIssuer;
/// # let issuer = TestIssuer::new();
///
/// let verifier = Verifier::builder()
///     .issuer(Issuer::static_keys(issuer.issuer(), issuer.key_set()))
///     .protected_resource(ProtectedResource::new("https://api.example.com/mcp")?)
///     .build()?;
/// let auth = Authenticator::new(verifier);
/// let metadata = auth.resource_metadata().expect("a resource is configured");
/// let app = App::new()
///     .service(metadata_resource(&metadata))
///     .service(web::scope("/mcp").wrap(AuthMiddleware::required(auth)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn metadata_resource(metadata: &ResourceMetadata) -> Resource {
    let body = web::Bytes::copy_from_slice(metadata.body().as_bytes());
    let get = body.clone();
    web::resource(metadata.path())
        .route(web::get().to(move || std::future::ready(document(get.clone()))))
        .route(web::head().to(|| std::future::ready(document(web::Bytes::new()))))
}

fn document(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")))
        // Public and the same for every caller (see the tower service).
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")))
        .body(body)
}
