//! The pipeline's input: what a decision needs from a request, whatever the framework.

use http::HeaderMap;

use crate::binding::ClientCertificate;
use crate::credential::{Headers, is_safe};

/// What the pipeline reads from a request: the method, the request target as
/// the client sent it, the headers, and what a transport or gateway knows
/// beyond them (the request's `http` extensions, a client certificate).
///
/// ```
/// use authorizer::pipeline::RequestParts;
///
/// let request = http::Request::get("/items?page=2").body(()).unwrap();
/// let parts = RequestParts::from_request(&request);
/// assert_eq!((parts.method(), parts.target()), ("GET", "/items?page=2"));
/// ```
#[derive(Debug)]
pub struct RequestParts<'a, H: ?Sized = HeaderMap> {
    method: &'a str,
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    target: &'a str,
    headers: &'a H,
    extensions: Option<&'a http::Extensions>,
    client_certificate: Option<&'a [u8]>,
    route: Option<(&'a str, &'a str)>,
}

// Not derived: a derive would ask `H: Copy`, and the parts hold only references.
impl<H: ?Sized> Clone for RequestParts<'_, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H: ?Sized> Copy for RequestParts<'_, H> {}

impl<'a, H: Headers + ?Sized> RequestParts<'a, H> {
    /// A request's method (`GET`), target (path and query: `/items?page=2`)
    /// and headers.
    pub fn new(method: &'a str, target: &'a str, headers: &'a H) -> Self {
        RequestParts {
            method,
            scheme: None,
            authority: None,
            target,
            headers,
            extensions: None,
            client_certificate: None,
            route: None,
        }
    }

    /// The method and path route rules judge this request by, where they
    /// are not the request's own: the Lambda authorizer judges by the method
    /// ARN's route (`GET /me`), while the target is the path the client used
    /// (`/prod/me`).
    pub fn with_route(mut self, method: &'a str, path: &'a str) -> Self {
        self.route = Some((method, path));
        self
    }

    /// The method and path route rules judge by: [`with_route`](Self::with_route)'s,
    /// else the method and the target's path without the query.
    pub fn route(&self) -> (&'a str, &'a str) {
        self.route.unwrap_or_else(|| {
            let path = self.target.split_once('?').map_or(self.target, |(path, _)| path);
            (self.method, path)
        })
    }

    /// The scheme and authority the request line named (an absolute-form
    /// request, or HTTP/2's `:scheme` and `:authority`), so that the URL the
    /// client used can be rebuilt.
    pub fn with_origin(mut self, scheme: Option<&'a str>, authority: Option<&'a str>) -> Self {
        self.scheme = scheme;
        self.authority = authority;
        self
    }

    /// The request's `http` extensions, where an [`Upstream`](super::Upstream)
    /// source finds what a gateway established.
    pub fn with_extensions(mut self, extensions: &'a http::Extensions) -> Self {
        self.extensions = Some(extensions);
        self
    }

    /// The client's TLS certificate (DER), when the connection presented one;
    /// what certificate-bound tokens are checked against.
    pub fn with_client_certificate(mut self, der: &'a [u8]) -> Self {
        self.client_certificate = Some(der);
        self
    }

    /// The method, as sent (`GET`).
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The request target's path and query, as sent (`/items?page=2`).
    pub fn target(&self) -> &'a str {
        self.target
    }

    /// The scheme of the request line (`https`), when it named one; whether
    /// the client's connection used it is for a trusted configuration to say.
    pub fn scheme(&self) -> Option<&'a str> {
        self.scheme
    }

    /// The authority the client addressed: from the request line (HTTP/2's
    /// `:authority`, an absolute-form request), else the one `Host` header.
    pub fn authority(&self) -> Option<&'a str> {
        self.authority.or_else(|| {
            let mut hosts = self.headers.header_values("host");
            let host = hosts.next()?;
            if hosts.next().is_some() {
                return None;
            }
            std::str::from_utf8(host).ok()
        })
    }

    /// The headers.
    pub fn headers(&self) -> &'a H {
        self.headers
    }

    /// The request's `http` extensions, if the adapter has them.
    pub fn extensions(&self) -> Option<&'a http::Extensions> {
        self.extensions
    }

    /// The client certificate (DER), if any.
    pub fn client_certificate(&self) -> Option<&'a [u8]> {
        self.client_certificate
    }

    /// Whether the method is safe (RFC 9110 §9.2.1): such requests cannot
    /// change state, so a cookie credential needs no anti-CSRF proof on them.
    pub fn is_safe_method(&self) -> bool {
        is_safe(self.method)
    }
}

impl<'a> RequestParts<'a, HeaderMap> {
    /// The parts of an `http` request (tower, axum, hyper, tonic, `lambda_http`),
    /// with its extensions, and the [`ClientCertificate`] the server put there.
    pub fn from_request<B>(request: &'a http::Request<B>) -> Self {
        let uri = request.uri();
        let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let parts = RequestParts::new(request.method().as_str(), target, request.headers())
            .with_origin(uri.scheme_str(), uri.authority().map(|a| a.as_str()))
            .with_extensions(request.extensions());
        match request.extensions().get::<ClientCertificate>() {
            Some(certificate) => parts.with_client_certificate(certificate.der()),
            None => parts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_an_http_request() {
        let request = http::Request::post("https://api.example.com/a/b?c=d")
            .header("x-one", "1")
            .header("x-one", "2")
            .body(())
            .unwrap();
        let parts = RequestParts::from_request(&request);
        assert_eq!(parts.method(), "POST");
        assert_eq!(parts.target(), "/a/b?c=d");
        assert_eq!(
            (parts.scheme(), parts.authority()),
            (Some("https"), Some("api.example.com"))
        );
        assert!(!parts.is_safe_method());
        assert!(parts.extensions().is_some());
        assert!(parts.client_certificate().is_none());
        let values: Vec<&[u8]> = parts.headers().header_values("x-one").collect();
        assert_eq!(values, [b"1".as_slice(), b"2".as_slice()]);
    }

    #[test]
    fn the_authority_falls_back_to_one_host_header() {
        let request = http::Request::get("/x")
            .header("host", "api.example.com:8443")
            .body(())
            .unwrap();
        let parts = RequestParts::from_request(&request);
        assert_eq!(
            (parts.scheme(), parts.authority()),
            (None, Some("api.example.com:8443"))
        );
        let two = http::Request::get("/x")
            .header("host", "a")
            .header("host", "b")
            .body(())
            .unwrap();
        assert_eq!(
            RequestParts::from_request(&two).authority(),
            None,
            "two Host headers name no one authority"
        );
    }
}
