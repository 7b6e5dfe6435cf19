//! Where a token is read from, in which order, and the CSRF rule for cookies.

use std::fmt;

use http::{HeaderMap, Method, header};

use crate::error::{Error, InvalidToken};
use crate::principal::Source;

/// One place a credential can be read from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// `Authorization: Bearer <token>` (scheme matched case-insensitively).
    Bearer,
    /// A request header carrying the bare token (SuperTokens: `st-access-token`).
    Header(http::HeaderName),
    /// A cookie (SuperTokens: `sAccessToken`).
    Cookie(String),
}

impl Location {
    fn source(&self) -> Source {
        match self {
            Location::Bearer => Source::Bearer,
            Location::Header(_) => Source::Header,
            Location::Cookie(_) => Source::Cookie,
        }
    }
}

/// A token read from a request. `Debug` never prints the token itself.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Credential<'a> {
    token: &'a str,
    source: Source,
}

impl<'a> Credential<'a> {
    /// A credential read by other means (a Lambda authorizer event, say).
    pub fn new(token: &'a str, source: Source) -> Self {
        Credential { token, source }
    }

    /// The raw token.
    pub fn token(&self) -> &'a str {
        self.token
    }

    /// Where it was read from.
    pub fn source(&self) -> Source {
        self.source
    }
}

impl fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("source", &self.source)
            .field("token", &format_args!("<{} bytes redacted>", self.token.len()))
            .finish()
    }
}

/// Default cookie name (SuperTokens' access token cookie).
pub const DEFAULT_COOKIE: &str = "sAccessToken";
/// Default header name (SuperTokens' header-based sessions).
pub const DEFAULT_HEADER: &str = "st-access-token";
/// Default upper bound on a credential's length in bytes.
pub const DEFAULT_MAX_LEN: usize = 8 * 1024;

/// Rules for reading a credential from a request.
///
/// The default reads `Authorization: Bearer`, then the `st-access-token`
/// header, then the `sAccessToken` cookie, and the first location present wins:
/// a credential the client sent on purpose beats one the browser attaches by
/// itself. A location present twice (two cookies of the same name, two
/// `Authorization` headers) is rejected rather than guessed at.
#[derive(Debug, Clone)]
pub struct Credentials {
    order: Vec<Location>,
    max_len: usize,
    csrf: CsrfRule,
}

/// What proves that a cookie-authenticated unsafe request is not cross-site.
#[derive(Debug, Clone)]
struct CsrfRule {
    accept_rid_header: bool,
    allowed_origins: Vec<String>,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            order: vec![
                Location::Bearer,
                Location::Header(http::HeaderName::from_static(DEFAULT_HEADER)),
                Location::Cookie(DEFAULT_COOKIE.to_owned()),
            ],
            max_len: DEFAULT_MAX_LEN,
            csrf: CsrfRule {
                accept_rid_header: true,
                allowed_origins: Vec::new(),
            },
        }
    }
}

impl Credentials {
    /// Reads from these locations, in this order (first present wins).
    pub fn order(mut self, order: impl IntoIterator<Item = Location>) -> Self {
        self.order = order.into_iter().collect();
        self
    }

    /// Longest credential accepted, in bytes; longer ones are rejected unparsed.
    pub fn max_len(mut self, bytes: usize) -> Self {
        self.max_len = bytes;
        self
    }

    /// The configured limit.
    pub(crate) fn max_len_bytes(&self) -> usize {
        self.max_len
    }

    /// Whether an `rid` header proves a cookie request is same-site (SuperTokens'
    /// custom-header mode; a cross-site form cannot set it). Default: yes.
    pub fn accept_rid_header(mut self, accept: bool) -> Self {
        self.csrf.accept_rid_header = accept;
        self
    }

    /// Origins (`https://app.example.com`) whose unsafe cookie requests are allowed.
    pub fn allowed_origins(mut self, origins: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.csrf.allowed_origins = origins
            .into_iter()
            .map(|o| o.into().trim_end_matches('/').to_ascii_lowercase())
            .collect();
        self
    }

    /// The credential of a request: `Ok(None)` when none is present.
    ///
    /// Errors: [`InvalidToken::TooLarge`], [`InvalidToken::Ambiguous`] and
    /// [`InvalidToken::Malformed`] as 401s; [`Error::CsrfRejected`] for a cookie on
    /// an unsafe method without proof.
    pub fn extract<'a>(&self, method: &Method, headers: &'a HeaderMap) -> Result<Option<Credential<'a>>, Error> {
        self.extract_from(is_safe(method.as_str()), headers)
    }

    /// [`Credentials::extract`] over any header map (adapters for frameworks
    /// on other `http` versions implement [`Headers`]).
    pub(crate) fn extract_from<'a, H: Headers + ?Sized>(
        &self,
        safe_method: bool,
        headers: &'a H,
    ) -> Result<Option<Credential<'a>>, Error> {
        for location in &self.order {
            let token = match location {
                Location::Bearer => bearer(headers)?,
                Location::Header(name) => only_value(headers, name.as_str())?.map(str::trim),
                Location::Cookie(name) => cookie(headers, name)?,
            };
            let Some(token) = token else { continue };
            if token.len() > self.max_len {
                return Err(InvalidToken::TooLarge.into());
            }
            if token.is_empty() {
                return Err(InvalidToken::Malformed.into());
            }
            let source = location.source();
            if source == Source::Cookie && !safe_method && !self.csrf_proven(headers) {
                return Err(Error::CsrfRejected);
            }
            return Ok(Some(Credential { token, source }));
        }
        Ok(None)
    }

    fn csrf_proven<H: Headers + ?Sized>(&self, headers: &H) -> bool {
        if self.csrf.accept_rid_header && headers.header_values("rid").next().is_some() {
            return true;
        }
        let Some(origin) = headers
            .header_values(header::ORIGIN.as_str())
            .next()
            .and_then(visible_ascii)
        else {
            return false;
        };
        let origin = origin.trim().trim_end_matches('/');
        self.csrf
            .allowed_origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }
}

/// Read access to request headers, whatever `http` version a framework uses.
///
/// Implemented for [`http::HeaderMap`]; an adapter for a framework on another
/// `http` version (actix-web) or for an event format (API Gateway's authorizer
/// events) implements it over its own header storage, without copying.
///
/// ```
/// use authorizer::credential::Headers;
///
/// /// Headers as name/value pairs, names in lowercase.
/// struct Pairs(Vec<(String, String)>);
///
/// impl Headers for Pairs {
///     fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
///         self.0.iter().filter(move |(key, _)| key == name).map(|(_, value)| value.as_bytes())
///     }
/// }
/// ```
pub trait Headers {
    /// Every value of the header `name` (given in lowercase), in order.
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]>;
}

impl Headers for HeaderMap {
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.get_all(name).iter().map(http::HeaderValue::as_bytes)
    }
}

/// Safe methods (RFC 9110 §9.2.1), by name: case-sensitive, as methods are.
pub(crate) fn is_safe(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// A header value as text, if it is ASCII. Header maps already refuse control
/// characters, so ASCII here means visible ASCII, as `HeaderValue::to_str`
/// requires; both checks below are word-at-a-time, which matters for the
/// kilobyte-long values tokens are.
fn visible_ascii(value: &[u8]) -> Option<&str> {
    std::str::from_utf8(value).ok().filter(|text| text.is_ascii())
}

/// The one value of header `name`, if present; two values are ambiguous.
fn only_value<'a, H: Headers + ?Sized>(headers: &'a H, name: &str) -> Result<Option<&'a str>, Error> {
    let mut values = headers.header_values(name);
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(InvalidToken::Ambiguous.into());
    }
    visible_ascii(first)
        .map(Some)
        .ok_or_else(|| InvalidToken::Malformed.into())
}

fn bearer<H: Headers + ?Sized>(headers: &H) -> Result<Option<&str>, Error> {
    let Some(value) = only_value(headers, header::AUTHORIZATION.as_str())? else {
        return Ok(None);
    };
    let value = value.trim_start();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Another scheme (Basic, SigV4) is not ours to judge.
        return Ok(None);
    }
    Ok(Some(rest.trim()))
}

/// The value of cookie `name` across every `Cookie` header (HTTP/2 may split
/// them). A name present twice is rejected: cookie tossing from a sibling
/// subdomain adds a second cookie, and picking either would be a guess.
fn cookie<'a, H: Headers + ?Sized>(headers: &'a H, name: &str) -> Result<Option<&'a str>, Error> {
    let mut found = None;
    for value in headers.header_values(header::COOKIE.as_str()) {
        let Some(value) = visible_ascii(value) else { continue };
        for pair in value.split(';') {
            let Some((k, v)) = pair.split_once('=') else { continue };
            if k.trim() != name {
                continue;
            }
            if found.is_some() {
                return Err(InvalidToken::Ambiguous.into());
            }
            let v = v.trim();
            found = Some(v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn get(pairs: &[(&str, &str)]) -> Result<Option<(String, Source)>, Error> {
        get_with(&Credentials::default(), Method::GET, pairs)
    }

    fn get_with(c: &Credentials, m: Method, pairs: &[(&str, &str)]) -> Result<Option<(String, Source)>, Error> {
        let h = headers(pairs);
        c.extract(&m, &h).map(|o| o.map(|c| (c.token().to_owned(), c.source())))
    }

    #[test]
    fn safe_methods() {
        for m in ["GET", "HEAD", "OPTIONS", "TRACE"] {
            assert!(is_safe(m), "{m}");
        }
        for m in ["POST", "PUT", "PATCH", "DELETE", "CONNECT", "PROPFIND", "get", ""] {
            assert!(!is_safe(m), "{m}");
        }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for v in ["Bearer abc", "bearer abc", "BEARER  abc "] {
            assert_eq!(
                get(&[("authorization", v)]).unwrap(),
                Some(("abc".into(), Source::Bearer))
            );
        }
        assert_eq!(get(&[("authorization", "Basic abc")]).unwrap(), None);
        assert!(matches!(
            get(&[("authorization", "Bearer")]),
            Err(Error::InvalidToken(InvalidToken::Malformed))
        ));
    }

    #[test]
    fn header_and_cookie() {
        assert_eq!(
            get(&[("st-access-token", "t1")]).unwrap(),
            Some(("t1".into(), Source::Header))
        );
        assert_eq!(
            get(&[("cookie", "a=b; sAccessToken=t2; c=d")]).unwrap(),
            Some(("t2".into(), Source::Cookie))
        );
        assert_eq!(
            get(&[("cookie", "sAccessToken=\"t3\"")]).unwrap(),
            Some(("t3".into(), Source::Cookie))
        );
        assert_eq!(get(&[("cookie", "xsAccessToken=t")]).unwrap(), None);
        assert_eq!(get(&[]).unwrap(), None);
    }

    #[test]
    fn first_location_in_order_wins() {
        let both = [("authorization", "Bearer b"), ("cookie", "sAccessToken=c")];
        assert_eq!(get(&both).unwrap().unwrap().1, Source::Bearer);
        let cookie_first = Credentials::default().order([Location::Cookie("sAccessToken".into()), Location::Bearer]);
        assert_eq!(
            get_with(&cookie_first, Method::GET, &both).unwrap().unwrap().1,
            Source::Cookie
        );
        let bearer_only = Credentials::default().order([Location::Bearer]);
        assert_eq!(
            get_with(&bearer_only, Method::GET, &[("cookie", "sAccessToken=c")]).unwrap(),
            None
        );
    }

    #[test]
    fn duplicates_are_ambiguous() {
        let ambiguous = |r: Result<_, Error>| matches!(r, Err(Error::InvalidToken(InvalidToken::Ambiguous)));
        assert!(ambiguous(get(&[("cookie", "sAccessToken=a; sAccessToken=b")])));
        assert!(ambiguous(get(&[
            ("cookie", "sAccessToken=a"),
            ("cookie", "sAccessToken=b")
        ])));
        assert!(ambiguous(get(&[
            ("authorization", "Bearer a"),
            ("authorization", "Bearer b")
        ])));
        assert!(ambiguous(get(&[("st-access-token", "a"), ("st-access-token", "b")])));
    }

    #[test]
    fn size_is_bounded() {
        let small = Credentials::default().max_len(4);
        assert!(get_with(&small, Method::GET, &[("authorization", "Bearer abcd")]).is_ok());
        assert!(matches!(
            get_with(&small, Method::GET, &[("authorization", "Bearer abcde")]),
            Err(Error::InvalidToken(InvalidToken::TooLarge))
        ));
    }

    #[test]
    fn cookie_on_unsafe_method_needs_proof() {
        let c = Credentials::default().allowed_origins(["https://app.example.com/"]);
        let cookie = ("cookie", "sAccessToken=t");
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(matches!(get_with(&c, m.clone(), &[cookie]), Err(Error::CsrfRejected)));
            assert!(
                get_with(&c, m.clone(), &[cookie, ("rid", "session")])
                    .unwrap()
                    .is_some()
            );
            assert!(
                get_with(&c, m.clone(), &[cookie, ("origin", "https://APP.example.com")])
                    .unwrap()
                    .is_some()
            );
            assert!(matches!(
                get_with(&c, m.clone(), &[cookie, ("origin", "https://evil.example.com")]),
                Err(Error::CsrfRejected)
            ));
        }
        assert!(get_with(&c, Method::GET, &[cookie]).unwrap().is_some());
        assert!(
            get_with(&c, Method::POST, &[("authorization", "Bearer t")])
                .unwrap()
                .is_some()
        );
        assert!(
            get_with(&c, Method::POST, &[("st-access-token", "t")])
                .unwrap()
                .is_some()
        );
        let no_rid = c.accept_rid_header(false);
        assert!(matches!(
            get_with(&no_rid, Method::POST, &[cookie, ("rid", "x")]),
            Err(Error::CsrfRejected)
        ));
    }

    #[test]
    fn debug_redacts_the_token() {
        let c = Credential::new("secret.token.value", Source::Bearer);
        let d = format!("{c:?}");
        assert!(!d.contains("secret") && d.contains("18 bytes"));
    }
}
