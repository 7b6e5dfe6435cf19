//! How a refusal is answered: the status and challenges the protocol fixes,
//! and a body the API may shape.
//!
//! An [`ErrorRenderer`] is what every adapter renders a [`Rejection`](super::Rejection)
//! with. It joins an [`ErrorFormat`] (the body: one of the two built-in
//! [`ErrorStyle`]s, or the API's own) with what every `WWW-Authenticate`
//! challenge carries (the RFC 9728 `resource_metadata` URL). A format writes
//! the body and may add headers; it never chooses the status or the challenge,
//! so a client's OAuth library reads the same answer whatever the body says.

use std::fmt;
use std::sync::Arc;

use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::{Error, ErrorStyle};

/// Writes the body of a refusal for an API with an error shape of its own.
///
/// The status and the `WWW-Authenticate` challenges are the protocol's and are
/// set by the [`ErrorRenderer`]; a format only writes the body (and may add
/// headers of its own). The two [`ErrorStyle`]s are the built-in formats.
///
/// ```
/// use authorizer::{Authenticator, Error, ErrorBody, ErrorFormat, ErrorRenderer};
/// use http::StatusCode;
/// use serde_json::json;
///
/// /// Problem Details (RFC 9457), with a correlation header.
/// struct Problem;
///
/// impl ErrorFormat for Problem {
///     fn body(&self, error: &Error, status: StatusCode) -> ErrorBody {
///         let title = match error {
///             Error::Forbidden(_) => "Not allowed",
///             _ => "Not signed in",
///         };
///         let problem = json!({ "title": title, "status": status.as_u16() });
///         ErrorBody::new("application/problem+json", problem.to_string())
///             .header("x-error-kind", if status == 403 { "forbidden" } else { "auth" })
///     }
/// }
///
/// let response = ErrorRenderer::new(Problem).render(&Error::Expired);
/// assert_eq!(response.status, 401); // the protocol's
/// assert!(response.www_authenticate[0].to_str().unwrap().contains("invalid_token")); // the protocol's
/// assert_eq!(response.headers["content-type"], "application/problem+json");
/// assert!(response.body.contains("Not signed in")); // the API's
///
/// // In a layer: every refusal of this authenticator is written by `Problem`.
/// # let verifier = authorizer::testing::TestIssuer::new().verifier();
/// let auth = Authenticator::new(verifier).error_format(Problem);
/// ```
///
/// A refusal that signing in again would fix ([step-up](crate::require::step_up))
/// is answered as OAuth clients expect, 401 with RFC 9470's challenge, under
/// every format but the SuperTokens style, whose frontends expect every
/// failed claim as a 403.
pub trait ErrorFormat: Send + Sync + 'static {
    /// The body for `error`, which is answered with `status`.
    fn body(&self, error: &Error, status: StatusCode) -> ErrorBody;
}

impl ErrorFormat for ErrorStyle {
    fn body(&self, error: &Error, _: StatusCode) -> ErrorBody {
        ErrorBody::json(&error.body(*self))
    }
}

impl ErrorStyle {
    /// Whether step-up refusals get RFC 9470's 401 and challenge (OAuth
    /// clients), or a 403 without one (SuperTokens' frontends).
    pub(super) fn challenges_step_up(self) -> bool {
        self == ErrorStyle::Rfc6750
    }
}

/// The body of a refusal, its content type, and any headers of the API's own.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBody {
    text: String,
    headers: HeaderMap,
}

impl ErrorBody {
    /// A body of the given content type.
    ///
    /// A content type that is not a valid header value is answered as
    /// `application/octet-stream`.
    pub fn new(content_type: &str, text: impl Into<String>) -> Self {
        let content_type = HeaderValue::from_str(content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, content_type);
        ErrorBody {
            text: text.into(),
            headers,
        }
    }

    /// A JSON body (`application/json`).
    pub fn json(value: &serde_json::Value) -> Self {
        ErrorBody::new("application/json", value.to_string())
    }

    /// Adds a header to the answer. Left out: `WWW-Authenticate` (the
    /// challenge is the protocol's), `Content-Type` ([`new`](ErrorBody::new)'s),
    /// the headers that frame a message (`Content-Length`,
    /// `Transfer-Encoding`, `Connection` and the other hop-by-hop ones: the
    /// server's), and a name or value that is not a valid header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(value))
            && !RESERVED.contains(&name.as_str())
        {
            self.headers.append(name, value);
        }
        self
    }
}

/// Headers a format may not set (lowercase, as `HeaderName` spells them).
const RESERVED: [&str; 11] = [
    "www-authenticate",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "host",
];

/// A rendered refusal: status, `WWW-Authenticate` challenges, headers (the
/// content type among them) and body. Every adapter writes exactly this.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorResponse {
    /// The status code.
    pub status: StatusCode,
    /// The challenges (RFC 9110 §11.6.1), one `WWW-Authenticate` header each,
    /// when any apply.
    pub www_authenticate: Vec<HeaderValue>,
    /// `Content-Type` and any headers the [`ErrorFormat`] added.
    pub headers: HeaderMap,
    /// The body.
    pub body: String,
}

impl ErrorResponse {
    /// As an `http::Response`.
    pub fn into_http<B: From<String>>(self) -> http::Response<B> {
        let mut response = http::Response::new(B::from(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        *headers = self.headers;
        for challenge in self.www_authenticate {
            headers.append(WWW_AUTHENTICATE, challenge);
        }
        response
    }

    /// The first challenge, for clients that read one.
    pub fn challenge(&self) -> Option<&HeaderValue> {
        self.www_authenticate.first()
    }
}

/// How every refusal of an [`Authenticator`](crate::Authenticator) is written:
/// its [`ErrorFormat`], and the RFC 9728 metadata URL every challenge points
/// to. Cheap to clone; carried with the principal protocol, so that
/// requirement checks and extractors answer as the layer does.
///
/// ```
/// use authorizer::{Error, ErrorRenderer, ErrorStyle};
///
/// let renderer = ErrorRenderer::from(ErrorStyle::Rfc6750)
///     .resource_metadata("https://api.example.com/.well-known/oauth-protected-resource")
///     .unwrap();
/// let missing = renderer.render(&Error::MissingCredential);
/// assert_eq!(
///     missing.www_authenticate[0],
///     r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#
/// );
/// ```
#[derive(Clone, Default)]
pub struct ErrorRenderer {
    format: Format,
    resource_metadata: Option<Arc<str>>,
}

/// A built-in style needs no allocation: the common case clones for free.
#[derive(Clone)]
enum Format {
    Style(ErrorStyle),
    Custom(Arc<dyn ErrorFormat>),
}

impl Default for Format {
    fn default() -> Self {
        Format::Style(ErrorStyle::default())
    }
}

impl fmt::Debug for ErrorRenderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format: &dyn fmt::Debug = match &self.format {
            Format::Style(style) => style,
            Format::Custom(_) => &"custom",
        };
        f.debug_struct("ErrorRenderer")
            .field("format", format)
            .field("resource_metadata", &self.resource_metadata)
            .finish()
    }
}

impl From<ErrorStyle> for ErrorRenderer {
    fn from(style: ErrorStyle) -> Self {
        ErrorRenderer {
            format: Format::Style(style),
            resource_metadata: None,
        }
    }
}

/// A metadata URL that cannot be quoted in a challenge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the resource metadata URL must be an absolute http(s) URL of visible ASCII without quotes or backslashes")]
pub struct UnquotableUrl;

impl ErrorRenderer {
    /// Writes bodies with `format`.
    pub fn new(format: impl ErrorFormat) -> Self {
        ErrorRenderer {
            format: Format::Custom(Arc::new(format)),
            resource_metadata: None,
        }
    }

    /// Writes bodies in a built-in style, keeping the metadata URL.
    pub fn with_style(mut self, style: ErrorStyle) -> Self {
        self.format = Format::Style(style);
        self
    }

    /// Writes bodies with `format`, keeping the metadata URL.
    pub fn with_format(mut self, format: impl ErrorFormat) -> Self {
        self.format = Format::Custom(Arc::new(format));
        self
    }

    /// Every challenge carries `resource_metadata="<url>"` (RFC 9728 §5.1),
    /// so that a client can discover how to get a token for this resource.
    /// Refused when the URL could break the header's quoting.
    pub fn resource_metadata(mut self, url: &str) -> Result<Self, UnquotableUrl> {
        self.resource_metadata = Some(quotable_url(url)?.into());
        Ok(self)
    }

    /// The built-in style, when the format is one.
    pub fn style(&self) -> Option<ErrorStyle> {
        match self.format {
            Format::Style(style) => Some(style),
            Format::Custom(_) => None,
        }
    }

    fn format(&self) -> &dyn ErrorFormat {
        match &self.format {
            Format::Style(style) => style,
            Format::Custom(format) => &**format,
        }
    }

    /// Only the SuperTokens style answers step-ups with a plain 403.
    fn challenges_step_up(&self) -> bool {
        match self.format {
            Format::Style(style) => style.challenges_step_up(),
            Format::Custom(_) => true,
        }
    }

    /// The status `error` is answered with.
    pub fn status(&self, error: &Error) -> StatusCode {
        error.status_with(self.challenges_step_up())
    }

    /// Renders `error`: the protocol's status and challenges, the format's body.
    pub fn render(&self, error: &Error) -> ErrorResponse {
        let step_up = self.challenges_step_up();
        let status = error.status_with(step_up);
        let ErrorBody { text, headers } = self.format().body(error, status);
        ErrorResponse {
            status,
            www_authenticate: self.challenges(error, step_up),
            headers,
            body: text,
        }
    }

    fn challenges(&self, error: &Error, step_up: bool) -> Vec<HeaderValue> {
        let Some(params) = error.bearer_params(step_up) else {
            return Vec::new();
        };
        let challenge = self.challenge("Bearer", &params);
        HeaderValue::from_str(&challenge).into_iter().collect()
    }

    /// `scheme` with its parameters, and the metadata URL last.
    fn challenge(&self, scheme: &str, params: &str) -> String {
        let mut challenge = String::from(scheme);
        let mut separator = " ";
        if !params.is_empty() {
            challenge.push_str(separator);
            challenge.push_str(params);
            separator = ", ";
        }
        if let Some(url) = &self.resource_metadata {
            challenge.push_str(separator);
            challenge.push_str("resource_metadata=\"");
            challenge.push_str(url);
            challenge.push('"');
        }
        challenge
    }
}

/// An absolute http(s) URL that can sit in a quoted-string as it is.
pub(crate) fn quotable_url(url: &str) -> Result<&str, UnquotableUrl> {
    let visible = url
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
    let absolute = url.starts_with("https://") || url.starts_with("http://");
    if visible && absolute && url.len() <= 2048 {
        Ok(url)
    } else {
        Err(UnquotableUrl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Denied, InvalidToken};
    use crate::require::step_up::StepUp;

    struct Plain;

    impl ErrorFormat for Plain {
        fn body(&self, error: &Error, status: StatusCode) -> ErrorBody {
            ErrorBody::new("text/plain", format!("{} {}", status.as_u16(), error.grpc_message()))
                .header("www-authenticate", "Basic")
                .header("content-type", "text/html")
                .header("x-request-kind", "auth")
                .header("content-length", "0")
                .header("Transfer-Encoding", "chunked")
                .header("connection", "close")
                .header("bad header", "x")
        }
    }

    const METADATA: &str = "https://api.example.com/.well-known/oauth-protected-resource";

    #[test]
    fn a_format_writes_the_body_but_never_the_status_or_the_challenge() {
        let renderer = ErrorRenderer::new(Plain);
        for error in [
            Error::MissingCredential,
            Error::Expired,
            Error::InvalidToken(InvalidToken::Signature),
            Error::CsrfRejected,
            Error::KeysUnavailable,
        ] {
            let custom = renderer.render(&error);
            let builtin = error.to_response(ErrorStyle::Rfc6750);
            assert_eq!(custom.status, builtin.status, "{error}");
            assert_eq!(custom.www_authenticate, builtin.www_authenticate, "{error}");
            assert_eq!(custom.headers["content-type"], "text/plain");
            assert_eq!(custom.headers["x-request-kind"], "auth");
            assert!(custom.headers.get("www-authenticate").is_none());
            assert_eq!(custom.headers.len(), 2, "bad and reserved headers are left out");
            assert!(custom.body.starts_with(&custom.status.as_u16().to_string()));
        }
    }

    #[test]
    fn every_challenge_points_to_the_metadata() {
        let renderer = ErrorRenderer::from(ErrorStyle::Rfc6750)
            .resource_metadata(METADATA)
            .unwrap();
        let challenge = |error: Error| {
            let response = renderer.render(&error);
            response.challenge().map(|c| c.to_str().unwrap().to_owned())
        };
        assert_eq!(
            challenge(Error::MissingCredential).unwrap(),
            format!(r#"Bearer resource_metadata="{METADATA}""#)
        );
        assert!(
            challenge(Error::Expired)
                .unwrap()
                .ends_with(&format!(r#"", resource_metadata="{METADATA}""#))
        );
        let scope = Error::Forbidden(Denied {
            missing_scopes: vec!["mcp:admin".into()],
            ..Denied::default()
        });
        assert_eq!(
            challenge(scope).unwrap(),
            format!(r#"Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="{METADATA}""#)
        );
        assert_eq!(
            challenge(Error::CsrfRejected),
            None,
            "no challenge, nothing to point from"
        );
    }

    #[test]
    fn step_up_follows_the_format() {
        let step_up = Error::Forbidden(Denied {
            step_up: Some(StepUp::for_tests()),
            ..Denied::default()
        });
        let rfc = ErrorRenderer::from(ErrorStyle::Rfc6750).render(&step_up);
        assert_eq!(rfc.status, 401);
        assert!(!rfc.www_authenticate.is_empty());
        let supertokens = ErrorRenderer::from(ErrorStyle::SuperTokens).render(&step_up);
        assert_eq!(supertokens.status, 403);
        assert!(supertokens.www_authenticate.is_empty());
        assert_eq!(ErrorRenderer::new(Plain).render(&step_up).status, 401);
    }

    #[test]
    fn unquotable_urls_are_refused() {
        for url in [
            "api.example.com/meta",
            "https://a\"b",
            "https://a b",
            "https://a\\b",
            "ftp://a",
            "https://é",
        ] {
            assert!(ErrorRenderer::default().resource_metadata(url).is_err(), "{url}");
        }
    }

    #[test]
    fn into_http_writes_every_challenge_and_header() {
        let response = ErrorRenderer::new(Plain).render(&Error::Expired);
        let http: http::Response<String> = response.clone().into_http();
        assert_eq!(http.status(), 401);
        assert_eq!(http.headers()["content-type"], "text/plain");
        assert_eq!(http.headers().get_all("www-authenticate").iter().count(), 1);
        assert_eq!(http.body(), &response.body);
    }
}
