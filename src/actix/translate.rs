//! Translation between actix-web (`http` 0.2) and the core: headers, request
//! parts, extensions, and rejections as actix responses.

use actix_web::body::BoxBody;
use actix_web::dev::Extensions;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::credential::Headers;
use crate::error::{ErrorResponse, Rejection};
use crate::pipeline::{RequestExtensions, RequestParts};

/// Lets the core read credentials straight from actix's header map, without
/// copying it. Standard names are looked up by hash; others (`rid`,
/// `st-access-token`) by a scan of the names, since building an actix
/// `HeaderName` from a non-standard `&str` would allocate.
impl Headers for HeaderMap {
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        let values = match name {
            "authorization" => self.get_all(header::AUTHORIZATION),
            "cookie" => self.get_all(header::COOKIE),
            "origin" => self.get_all(header::ORIGIN),
            _ => match self.keys().find(|key| key.as_str() == name) {
                Some(key) => self.get_all(key),
                None => [].iter(),
            },
        };
        values.map(HeaderValue::as_bytes)
    }
}

/// actix's request extensions hold the principal protocol's values too.
impl RequestExtensions for Extensions {
    fn get_value<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.get::<T>()
    }

    fn insert_value<T: Clone + Send + Sync + 'static>(&mut self, value: T) {
        self.insert(value);
    }
}

/// The pipeline's input from an actix request.
pub(super) fn parts_of(request: &HttpRequest) -> RequestParts<'_, HeaderMap> {
    let uri = request.uri();
    let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
    RequestParts::new(request.method().as_str(), target, request.headers())
        .with_origin(uri.scheme_str(), uri.authority().map(|a| a.as_str()))
}

/// The core's rendering as an actix response: same status, headers and body.
fn to_actix(rendered: ErrorResponse) -> HttpResponse {
    let status = StatusCode::from_u16(rendered.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in &rendered.headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.append_header((name, value));
        }
    }
    for challenge in &rendered.www_authenticate {
        if let Ok(challenge) = HeaderValue::from_bytes(challenge.as_bytes()) {
            response.append_header((header::WWW_AUTHENTICATE, challenge));
        }
    }
    response.body(rendered.body)
}

/// A [`Rejection`] is answered as the tower layer answers it: the same status,
/// `WWW-Authenticate` and JSON body, in the configured style.
impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        to_actix(self.to_response())
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderName;

    use super::*;
    use crate::error::{Error, ErrorStyle, InvalidToken};

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn values(map: &HeaderMap, name: &str) -> Vec<String> {
        map.header_values(name)
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn header_values_in_order_for_standard_and_custom_names() {
        let m = map(&[
            ("cookie", "a=1"),
            ("rid", "x"),
            ("Cookie", "b=2"),
            ("st-access-token", "t"),
            ("origin", "https://app.example.com"),
            ("authorization", "Bearer z"),
        ]);
        assert_eq!(values(&m, "cookie"), ["a=1", "b=2"]);
        assert_eq!(values(&m, "rid"), ["x"]);
        assert_eq!(values(&m, "st-access-token"), ["t"]);
        assert_eq!(values(&m, "origin"), ["https://app.example.com"]);
        assert_eq!(values(&m, "authorization"), ["Bearer z"]);
        assert!(values(&m, "x-missing").is_empty());
        assert!(values(&HeaderMap::new(), "authorization").is_empty());
    }

    #[test]
    fn credentials_read_from_an_actix_header_map() {
        let c = crate::credential::Credentials::default();
        let m = map(&[("cookie", "sAccessToken=abc")]);
        let credential = c.extract_from("GET", "/", &m).unwrap().unwrap();
        assert_eq!(credential.token(), "abc");
        assert!(matches!(c.extract_from("POST", "/", &m), Err(Error::CsrfRejected)));
        let with_rid = map(&[("cookie", "sAccessToken=abc"), ("rid", "session")]);
        assert!(c.extract_from("POST", "/", &with_rid).unwrap().is_some());
        let twice = map(&[("st-access-token", "a"), ("st-access-token", "b")]);
        assert!(matches!(
            c.extract_from("GET", "/", &twice),
            Err(Error::InvalidToken(InvalidToken::Ambiguous))
        ));
    }

    #[test]
    fn request_parts_follow_the_request() {
        let request = actix_web::test::TestRequest::post()
            .uri("/items/7?x=1")
            .insert_header(("authorization", "Bearer t"))
            .to_http_request();
        let parts = parts_of(&request);
        assert_eq!((parts.method(), parts.target()), ("POST", "/items/7?x=1"));
        assert!(!parts.is_safe_method());
        assert_eq!(values(parts.headers(), "authorization"), ["Bearer t"]);
    }

    #[test]
    fn rejections_render_like_the_core() {
        for style in [ErrorStyle::SuperTokens, ErrorStyle::Rfc6750] {
            for error in [
                Error::MissingCredential,
                Error::Expired,
                Error::CsrfRejected,
                Error::MissingLayer,
            ] {
                let rejection = Rejection::new(error.clone(), style);
                let core = rejection.to_response();
                let response = rejection.error_response();
                assert_eq!(response.status().as_u16(), core.status.as_u16());
                assert_eq!(rejection.status_code().as_u16(), core.status.as_u16());
                assert_eq!(
                    response
                        .headers()
                        .get_all(header::WWW_AUTHENTICATE)
                        .map(|v| v.as_bytes().to_vec())
                        .collect::<Vec<_>>(),
                    core.www_authenticate
                        .iter()
                        .map(|v| v.as_bytes().to_vec())
                        .collect::<Vec<_>>()
                );
                assert_eq!(
                    response.headers().get(header::CONTENT_TYPE).unwrap(),
                    "application/json"
                );
            }
        }
    }
}
