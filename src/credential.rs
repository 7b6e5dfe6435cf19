//! Where a token is read from, in which order, and the CSRF rule for cookies.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, Method, header};

use crate::error::{Error, InvalidToken};
use crate::principal::Source;

/// One place a credential can be read from.
///
/// The last three are *explicit* locations: a credential found in one of them
/// must be the request's only credential, or the request is refused as
/// ambiguous (a token in both `Authorization` and the WebSocket protocol list
/// is two claims of identity, and picking either would be a guess).
#[derive(Clone)]
#[non_exhaustive]
pub enum Location {
    /// `Authorization: Bearer <token>`, or `Authorization: DPoP <token>` (a
    /// sender-constrained token, RFC 9449, whose proof the binding stage
    /// checks); schemes matched case-insensitively. The credential's
    /// [`Source`] says which: [`Source::Bearer`] or [`Source::Dpop`].
    Bearer,
    /// A request header carrying the bare token (SuperTokens: `st-access-token`).
    Header(http::HeaderName),
    /// A cookie (SuperTokens: `sAccessToken`).
    Cookie(String),
    /// A query parameter of the request target, percent-decoded.
    ///
    /// For browser WebSocket clients, which cannot set headers on the upgrade
    /// (`new WebSocket("wss://api.example.com/ws?access_token=...")`). A
    /// token in a URL lands in access logs, proxy logs and browser history:
    /// enable it only on the routes that need it, with short-lived tokens.
    Query(String),
    /// The token offered as a WebSocket subprotocol, right after a marker
    /// protocol: `Sec-WebSocket-Protocol: <marker>, <token>`, from
    /// `new WebSocket(url, ["<marker>", token])` in a browser.
    ///
    /// Answer the handshake with the marker as the chosen protocol (axum:
    /// `WebSocketUpgrade::protocols([marker])`), never with the token; the
    /// tower and actix-web layers remove the token from the header before
    /// the handler sees it. See [`DEFAULT_PROTOCOL_MARKER`].
    WebSocketProtocol(String),
    /// A source of the application's own (an API-key header, another scheme).
    Custom(Arc<dyn CredentialSource>),
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Bearer => f.write_str("Bearer"),
            Location::Header(name) => f.debug_tuple("Header").field(name).finish(),
            Location::Cookie(name) => f.debug_tuple("Cookie").field(name).finish(),
            Location::Query(name) => f.debug_tuple("Query").field(name).finish(),
            Location::WebSocketProtocol(marker) => f.debug_tuple("WebSocketProtocol").field(marker).finish(),
            Location::Custom(source) => f.debug_tuple("Custom").field(&source.name()).finish(),
        }
    }
}

impl PartialEq for Location {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Location::Bearer, Location::Bearer) => true,
            (Location::Header(a), Location::Header(b)) => a == b,
            (Location::Cookie(a), Location::Cookie(b))
            | (Location::Query(a), Location::Query(b))
            | (Location::WebSocketProtocol(a), Location::WebSocketProtocol(b)) => a == b,
            (Location::Custom(a), Location::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Location {}

impl Location {
    /// A location for a source of the application's own.
    pub fn custom(source: impl CredentialSource) -> Self {
        Location::Custom(Arc::new(source))
    }

    fn source(&self) -> Source {
        match self {
            Location::Bearer => Source::Bearer,
            Location::Header(_) => Source::Header,
            Location::Cookie(_) => Source::Cookie,
            Location::Query(_) => Source::Query,
            Location::WebSocketProtocol(_) => Source::WebSocketProtocol,
            Location::Custom(_) => Source::Custom,
        }
    }

    fn is_explicit(&self) -> bool {
        matches!(
            self,
            Location::Query(_) | Location::WebSocketProtocol(_) | Location::Custom(_)
        )
    }

    /// Whether a browser attaches this credential by itself, so that a
    /// cross-site page can make it ride along (the CSRF rule applies).
    fn is_ambient(&self) -> bool {
        match self {
            Location::Cookie(_) => true,
            Location::Custom(source) => source.is_ambient(),
            _ => false,
        }
    }

    fn read<'a, H: Headers>(&self, request: Request<'a, H>) -> Result<Option<(Cow<'a, str>, Source)>, Error> {
        if let Location::Bearer = self {
            return Ok(authorization(request.headers)?.map(|(token, source)| (Cow::Borrowed(token), source)));
        }
        let token = match self {
            Location::Bearer => None,
            Location::Header(name) => only_value(request.headers.named_values(name))?
                .map(str::trim)
                .map(Cow::Borrowed),
            Location::Cookie(name) => cookie(request.headers, name)?.map(Cow::Borrowed),
            Location::Query(name) => query_parameter(request.query(), name)?,
            Location::WebSocketProtocol(marker) => protocol_token(request.headers, marker)?.map(Cow::Borrowed),
            Location::Custom(source) => source.read(&CredentialRequest {
                method: request.method,
                target: request.target,
                headers: request.headers,
            })?,
        };
        Ok(token.map(|token| (token, self.source())))
    }
}

/// What the locations read: the built-in ones through the framework's own
/// header type, without dynamic dispatch.
struct Request<'a, H> {
    method: &'a str,
    target: &'a str,
    headers: &'a H,
}

// Not derived: a derive would ask `H: Copy`.
impl<H> Clone for Request<'_, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H> Copy for Request<'_, H> {}

impl<'a, H> Request<'a, H> {
    fn query(&self) -> Option<&'a str> {
        self.target.split_once('?').map(|(_, query)| query)
    }
}

/// What a [`CredentialSource`] sees of a request: its method, target and
/// headers, whatever the framework.
pub struct CredentialRequest<'a> {
    method: &'a str,
    target: &'a str,
    headers: &'a (dyn HeaderLookup + 'a),
}

impl<'a> CredentialRequest<'a> {
    /// The method, as sent (`GET`).
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The path of the request target (`/items`).
    pub fn path(&self) -> &'a str {
        self.target.split_once('?').map_or(self.target, |(path, _)| path)
    }

    /// The query of the request target, without the `?` (`page=2`), if any.
    pub fn query(&self) -> Option<&'a str> {
        self.target.split_once('?').map(|(_, query)| query)
    }

    /// The one value of header `name` (lowercase), trimmed. Two values are
    /// refused as ambiguous, a value that is not visible ASCII as malformed,
    /// as for the built-in header locations.
    pub fn header(&self, name: &str) -> Result<Option<&'a str>, Error> {
        Ok(only_value(self.headers.header_values(name))?.map(str::trim))
    }

    /// Every value of header `name` (lowercase), raw, in order.
    pub fn header_values(&self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.headers.header_values(name)
    }
}

/// Header access through a trait object, for whatever header type the
/// framework has.
trait HeaderLookup {
    /// Value number `index` (from 0) of header `name` (lowercase).
    fn value_at(&self, name: &str, index: usize) -> Option<&[u8]>;
}

impl<H: Headers> HeaderLookup for H {
    fn value_at(&self, name: &str, index: usize) -> Option<&[u8]> {
        self.header_values(name).nth(index)
    }
}

impl Headers for dyn HeaderLookup + '_ {
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        (0..).map_while(move |index| self.value_at(name, index))
    }
}

/// A place to read credentials from that the built-in [`Location`]s do not
/// cover: an API-key header, a scheme of the application's own. The token it
/// returns goes through the same size limit, and the same ambiguity rule (it
/// is an explicit location), as the built-in ones; mark it ambient if
/// browsers attach it by themselves, and the CSRF rule applies too.
///
/// ```
/// use std::borrow::Cow;
/// use authorizer::Error;
/// use authorizer::credential::{CredentialRequest, CredentialSource, Credentials, Location};
///
/// /// `Authorization: Token <token>`, as some older clients send it.
/// struct TokenScheme;
///
/// impl CredentialSource for TokenScheme {
///     fn name(&self) -> &'static str {
///         "Authorization: Token"
///     }
///
///     fn read<'a>(&self, request: &CredentialRequest<'a>) -> Result<Option<Cow<'a, str>>, Error> {
///         let value = request.header("authorization")?;
///         Ok(value.and_then(|v| v.strip_prefix("Token ")).map(|t| Cow::Borrowed(t.trim())))
///     }
/// }
///
/// let credentials = Credentials::default().order([Location::Bearer, Location::custom(TokenScheme)]);
/// # let _ = credentials;
/// ```
pub trait CredentialSource: Send + Sync + 'static {
    /// A name for logs and `Debug` (never the token).
    fn name(&self) -> &'static str;

    /// The request's credential from this source, if it carries one. It may
    /// be called more than once per request (the ambiguity rule reads every
    /// location again), so it must have no side effects.
    fn read<'a>(&self, request: &CredentialRequest<'a>) -> Result<Option<Cow<'a, str>>, Error>;

    /// Whether browsers attach this credential to requests by themselves (as
    /// they do cookies). Default: no.
    fn is_ambient(&self) -> bool {
        false
    }
}

/// A token read from a request. `Debug` never prints the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential<'a> {
    token: Cow<'a, str>,
    source: Source,
}

impl<'a> Credential<'a> {
    /// A credential read by other means (a Lambda authorizer event, say).
    pub fn new(token: &'a str, source: Source) -> Self {
        Credential {
            token: Cow::Borrowed(token),
            source,
        }
    }

    /// The raw token.
    pub fn token(&self) -> &str {
        &self.token
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

/// The marker protocol that [`Location::WebSocketProtocol`] conventionally
/// uses: a browser opens `new WebSocket(url, ["access_token", token])`.
pub const DEFAULT_PROTOCOL_MARKER: &str = "access_token";
/// The most `Sec-WebSocket-Protocol` entries read: a real client offers a few.
const MAX_PROTOCOLS: usize = 32;

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
///
/// ```
/// use authorizer::credential::{Credentials, Location};
/// use authorizer::Source;
///
/// let rules = Credentials::default()
///     .order([Location::Bearer, Location::Cookie("session".into())])
///     .allowed_origins(["https://app.example.com"]);
/// let mut headers = http::HeaderMap::new();
/// headers.insert("cookie", "theme=dark; session=abc.def.ghi".parse().unwrap());
/// let credential = rules.extract(&http::Method::GET, &headers)?.expect("a cookie");
/// assert_eq!((credential.token(), credential.source()), ("abc.def.ghi", Source::Cookie));
/// // The same cookie on a POST from an unknown page is refused (CSRF).
/// assert!(rules.extract(&http::Method::POST, &headers).is_err());
/// # Ok::<(), authorizer::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Credentials {
    order: Vec<Location>,
    /// Whether `order` holds an explicit location: only then is a second
    /// credential looked for (the common configuration pays nothing).
    has_explicit: bool,
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
            has_explicit: false,
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
        self.has_explicit = self.order.iter().any(Location::is_explicit);
        self
    }

    /// The RFC 6750 methods these locations read, as RFC 9728's
    /// `bearer_methods_supported` names them: `header` for `Authorization:
    /// Bearer`, `query` for an `access_token` query parameter. Cookies and
    /// other headers are no RFC 6750 method and are not listed.
    pub(crate) fn bearer_methods(&self) -> Vec<&'static str> {
        let mut methods = Vec::new();
        for location in &self.order {
            let method = match location {
                Location::Bearer => "header",
                Location::Query(name) if name == "access_token" => "query",
                _ => continue,
            };
            if !methods.contains(&method) {
                methods.push(method);
            }
        }
        methods
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

    /// Origins (`https://app.example.com`) whose unsafe cookie requests are
    /// allowed. `Origin: null` never matches, even if listed: any page can send it.
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
    /// an unsafe method or a WebSocket handshake without proof.
    pub fn extract<'a>(&self, method: &'a Method, headers: &'a HeaderMap) -> Result<Option<Credential<'a>>, Error> {
        self.extract_from(method.as_str(), "/", headers)
    }

    /// [`Credentials::extract`] for a request `target` (path and query),
    /// over any header map (adapters for frameworks on other `http` versions
    /// implement [`Headers`]).
    pub(crate) fn extract_from<'a, H: Headers>(
        &self,
        method: &'a str,
        target: &'a str,
        headers: &'a H,
    ) -> Result<Option<Credential<'a>>, Error> {
        let request = Request {
            method,
            target,
            headers,
        };
        for (index, location) in self.order.iter().enumerate() {
            let Some((token, source)) = location.read(request)? else {
                continue;
            };
            if token.len() > self.max_len {
                return Err(InvalidToken::TooLarge.into());
            }
            if token.is_empty() {
                return Err(InvalidToken::Malformed.into());
            }
            if self.has_explicit && self.another_is_present(index, request)? {
                return Err(InvalidToken::Ambiguous.into());
            }
            if location.is_ambient() && needs_csrf_proof(method, headers) && !self.csrf_proven(headers) {
                return Err(Error::CsrfRejected);
            }
            return Ok(Some(Credential { token, source }));
        }
        Ok(None)
    }

    /// Whether a location other than `found` also carries a credential, where
    /// either of the two is explicit.
    fn another_is_present<H: Headers>(&self, found: usize, request: Request<'_, H>) -> Result<bool, Error> {
        let found_explicit = self.order[found].is_explicit();
        for (index, location) in self.order.iter().enumerate() {
            if index == found || !(found_explicit || location.is_explicit()) {
                continue;
            }
            // An unreadable second credential is still a second credential.
            if location.read(request).map_or(true, |token| token.is_some()) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The `Sec-WebSocket-Protocol` value a handler should see instead of
    /// the request's: without the token, so that nothing downstream can echo
    /// it. `None` when there is nothing to remove.
    pub(crate) fn protocols_for_handler<H: Headers>(&self, headers: &H) -> Option<String> {
        if !self.has_explicit {
            return None;
        }
        self.order.iter().find_map(|location| match location {
            Location::WebSocketProtocol(marker) => protocols_without_token(headers, marker),
            _ => None,
        })
    }

    fn csrf_proven<H: Headers>(&self, headers: &H) -> bool {
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
        // `null` is what sandboxed frames, `data:` pages and some redirects
        // send: any page can produce it, so it proves nothing, configured or not.
        if origin.eq_ignore_ascii_case("null") {
            return false;
        }
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

    /// Every value of the header `name`, in order. The default asks
    /// [`header_values`](Headers::header_values); an [`http::HeaderMap`]
    /// finds the header without parsing its name again, which the
    /// credential lookup on every request takes advantage of.
    fn named_values<'a>(&'a self, name: &HeaderName) -> impl Iterator<Item = &'a [u8]> {
        self.header_values(name.as_str())
    }
}

impl Headers for HeaderMap {
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.get_all(name).iter().map(http::HeaderValue::as_bytes)
    }

    fn named_values<'a>(&'a self, name: &HeaderName) -> impl Iterator<Item = &'a [u8]> {
        self.get_all(name).iter().map(http::HeaderValue::as_bytes)
    }
}

/// Whether an ambient credential (a cookie) on this request needs proof that
/// the request is not cross-site: unsafe methods, and WebSocket handshakes,
/// which browsers send cross-site with cookies and which the same-origin
/// policy does not guard (cross-site WebSocket hijacking).
fn needs_csrf_proof<H: Headers>(method: &str, headers: &H) -> bool {
    !is_safe(method) || is_websocket_handshake(headers)
}

/// An HTTP/1.1 WebSocket handshake (RFC 6455 §4.1). HTTP/2's (RFC 8441) is a
/// `CONNECT`, which is unsafe anyway.
pub(crate) fn is_websocket_handshake<H: Headers>(headers: &H) -> bool {
    headers.named_values(&header::SEC_WEBSOCKET_KEY).next().is_some()
        || headers
            .named_values(&header::UPGRADE)
            .any(|value| list_items(value).any(|item| item.eq_ignore_ascii_case("websocket")))
}

/// The items of a comma-separated header value, trimmed.
fn list_items(value: &[u8]) -> impl Iterator<Item = &str> {
    visible_ascii(value)
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

/// The token after `marker` in the `Sec-WebSocket-Protocol` list (across
/// every header line). The marker twice, or last with no token after it, is
/// refused; so is a list longer than any client offers.
fn protocol_token<'a, H: Headers>(headers: &'a H, marker: &str) -> Result<Option<&'a str>, Error> {
    let mut items = headers
        .header_values("sec-websocket-protocol")
        .flat_map(list_items)
        .enumerate();
    let mut found = None;
    while let Some((index, item)) = items.next() {
        if index >= MAX_PROTOCOLS {
            return Err(InvalidToken::Malformed.into());
        }
        if item != marker {
            continue;
        }
        if found.is_some() {
            return Err(InvalidToken::Ambiguous.into());
        }
        let Some((_, token)) = items.next() else {
            return Err(InvalidToken::Malformed.into());
        };
        found = Some(token);
    }
    Ok(found)
}

/// The `Sec-WebSocket-Protocol` value(s) without the token that follows
/// `marker`: what a handler may see and echo. `None` when nothing is removed.
pub(crate) fn protocols_without_token<H: Headers>(headers: &H, marker: &str) -> Option<String> {
    let mut kept = Vec::new();
    let mut removed = false;
    let mut skip_next = false;
    for item in headers.header_values("sec-websocket-protocol").flat_map(list_items) {
        if skip_next {
            skip_next = false;
            removed = true;
            continue;
        }
        skip_next = item == marker;
        kept.push(item);
    }
    removed.then(|| kept.join(", "))
}

/// The value of query parameter `name`, percent-decoded (`+` is a space, as
/// in forms). The parameter twice is ambiguous; a value that does not decode
/// to visible ASCII is malformed.
fn query_parameter<'a>(query: Option<&'a str>, name: &str) -> Result<Option<Cow<'a, str>>, Error> {
    let Some(query) = query else { return Ok(None) };
    let mut found = None;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(key).as_deref() != Some(name) {
            continue;
        }
        if found.is_some() {
            return Err(InvalidToken::Ambiguous.into());
        }
        found = Some(percent_decode(value).ok_or(InvalidToken::Malformed)?);
    }
    Ok(found)
}

/// `%XX` escapes and `+` decoded; `None` unless the result is visible ASCII
/// (what a token is) and every escape is well formed.
fn percent_decode(text: &str) -> Option<Cow<'_, str>> {
    if !text.bytes().any(|b| b == b'%' || b == b'+') {
        return text
            .bytes()
            .all(|b| b.is_ascii_graphic())
            .then_some(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = match bytes[index] {
            b'%' => {
                let hex = bytes.get(index + 1..index + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                index += 2;
                u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?
            }
            b'+' => b' ',
            other => other,
        };
        out.push(byte);
        index += 1;
    }
    let decoded = String::from_utf8(out).ok()?;
    decoded
        .bytes()
        .all(|b| b.is_ascii_graphic())
        .then_some(Cow::Owned(decoded))
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
    if !is_ascii(value) {
        return None;
    }
    std::str::from_utf8(value).ok()
}

/// `<[u8]>::is_ascii` without its early exit: 32-byte blocks are or-ed
/// into one, which the compiler turns into vector code, and only that one
/// is looked at.
fn is_ascii(bytes: &[u8]) -> bool {
    let (blocks, rest) = bytes.as_chunks::<32>();
    let mut high = [0u8; 32];
    for block in blocks {
        for (high, byte) in high.iter_mut().zip(block) {
            *high |= byte;
        }
    }
    (high.iter().chain(rest).fold(0u8, |all, byte| all | byte)) < 0x80
}

/// The one value of a header, if present; two values are ambiguous.
fn only_value<'a>(mut values: impl Iterator<Item = &'a [u8]>) -> Result<Option<&'a str>, Error> {
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(InvalidToken::Ambiguous.into());
    }
    visible_ascii(first)
        .map(Some)
        .ok_or_else(|| InvalidToken::Malformed.into())
}

/// The token of `Authorization: Bearer` or `Authorization: DPoP`, with the
/// scheme it came with.
fn authorization<H: Headers + ?Sized>(headers: &H) -> Result<Option<(&str, Source)>, Error> {
    let Some(value) = only_value(headers.named_values(&header::AUTHORIZATION))? else {
        return Ok(None);
    };
    let value = value.trim_start();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let source = if scheme.eq_ignore_ascii_case("bearer") {
        Source::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Source::Dpop
    } else {
        // Another scheme (Basic, SigV4) is not ours to judge.
        return Ok(None);
    };
    Ok(Some((rest.trim(), source)))
}

/// The value of cookie `name` across every `Cookie` header (HTTP/2 may split
/// them). A name present twice is rejected: cookie tossing from a sibling
/// subdomain adds a second cookie, and picking either would be a guess.
fn cookie<'a, H: Headers + ?Sized>(headers: &'a H, name: &str) -> Result<Option<&'a str>, Error> {
    let mut found = None;
    for value in headers.named_values(&header::COOKIE) {
        let Some(value) = visible_ascii(value) else { continue };
        for pair in cookie_pairs(value) {
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

/// The `name=value` pairs of a `Cookie` header, split at `;` with `memchr`:
/// the value holds a whole token, and this scan is on every cookie request.
fn cookie_pairs(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr(b';', current.as_bytes()) {
            Some(at) => {
                rest = Some(&current[at + 1..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn is_ascii_agrees_with_std() {
        for len in [0, 1, 31, 32, 33, 64, 100, 600] {
            let mut bytes = vec![b'a'; len];
            assert!(is_ascii(&bytes));
            for at in [0, len / 2, len.saturating_sub(1)].into_iter().filter(|&at| at < len) {
                bytes[at] = 0xc3;
                assert_eq!(is_ascii(&bytes), bytes.is_ascii(), "len {len}, at {at}");
                bytes[at] = b'a';
            }
        }
    }

    #[test]
    fn cookie_pairs_split_as_str_split_does() {
        for value in ["", ";", "a=1", "a=1;b=2", "a=1; b=2;", ";;a=1;;", "a=1;b"] {
            assert_eq!(
                cookie_pairs(value).collect::<Vec<_>>(),
                value.split(';').collect::<Vec<_>>(),
                "{value:?}"
            );
        }
    }

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

    fn get_at(c: &Credentials, target: &str, pairs: &[(&str, &str)]) -> Result<Option<(String, Source)>, Error> {
        let h = headers(pairs);
        c.extract_from("GET", target, &h)
            .map(|o| o.map(|c| (c.token().to_owned(), c.source())))
    }

    fn is_ambiguous<T: fmt::Debug>(result: Result<T, Error>) -> bool {
        matches!(result, Err(Error::InvalidToken(InvalidToken::Ambiguous)))
    }

    fn is_malformed<T: fmt::Debug>(result: Result<T, Error>) -> bool {
        matches!(result, Err(Error::InvalidToken(InvalidToken::Malformed)))
    }

    const HANDSHAKE: [(&str, &str); 2] = [
        ("upgrade", "websocket"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    fn websocket() -> Credentials {
        Credentials::default().order([
            Location::Bearer,
            Location::Cookie(DEFAULT_COOKIE.into()),
            Location::WebSocketProtocol(DEFAULT_PROTOCOL_MARKER.into()),
            Location::Query("access_token".into()),
        ])
    }

    #[test]
    fn a_query_parameter_is_read_percent_decoded() {
        let c = Credentials::default().order([Location::Query("access_token".into())]);
        let read = |target: &str| get_at(&c, target, &[]);
        assert_eq!(
            read("/ws?access_token=a.b.c").unwrap(),
            Some(("a.b.c".into(), Source::Query))
        );
        assert_eq!(
            read("/ws?x=1&access%5Ftoken=a%2Eb&y").unwrap(),
            Some(("a.b".into(), Source::Query))
        );
        assert_eq!(read("/ws?x=access_token").unwrap(), None);
        assert_eq!(read("/ws").unwrap(), None);
        assert!(is_ambiguous(read("/ws?access_token=a&access_token=b")));
        for bad in ["%zz", "%4", "a+b", "%00", "%E2%82%AC", "%+1", ""] {
            let target = format!("/ws?access_token={bad}");
            assert!(is_malformed(read(&target)), "{bad}");
        }
        let small = Credentials::default().order([Location::Query("t".into())]).max_len(3);
        assert!(matches!(
            get_at(&small, "/?t=abcd", &[]),
            Err(Error::InvalidToken(InvalidToken::TooLarge))
        ));
    }

    #[test]
    fn a_websocket_protocol_token_follows_its_marker() {
        let c = websocket();
        let offered = |list: &str| get_at(&c, "/ws", &[("sec-websocket-protocol", list)]);
        assert_eq!(
            offered("chat, access_token, a.b.c").unwrap(),
            Some(("a.b.c".into(), Source::WebSocketProtocol))
        );
        assert_eq!(offered("chat, v2").unwrap(), None);
        assert!(is_malformed(offered("chat, access_token")), "a marker with no token");
        assert!(is_ambiguous(offered("access_token, a, access_token, b")));
        let long = vec!["p"; MAX_PROTOCOLS].join(", ") + ", access_token, t";
        assert!(is_malformed(offered(&long)), "an oversized protocol list");
        let split = get_at(
            &c,
            "/ws",
            &[
                ("sec-websocket-protocol", "chat, access_token"),
                ("sec-websocket-protocol", "t1"),
            ],
        );
        assert_eq!(split.unwrap().unwrap().0, "t1", "the list spans header lines");
    }

    #[test]
    fn an_explicit_credential_must_be_the_only_one() {
        let c = websocket();
        let protocol = ("sec-websocket-protocol", "access_token, p");
        assert!(is_ambiguous(get_at(
            &c,
            "/ws",
            &[("authorization", "Bearer b"), protocol]
        )));
        assert!(is_ambiguous(get_at(&c, "/ws?access_token=q", &[protocol])));
        assert!(is_ambiguous(get_at(
            &c,
            "/ws?access_token=q",
            &[("authorization", "Bearer b")]
        )));
        assert!(
            is_ambiguous(get_at(&c, "/ws?access_token=q", &[("cookie", "sAccessToken=c")])),
            "a cookie counts too"
        );
        assert!(
            is_ambiguous(get_at(&c, "/ws?access_token=%zz", &[("authorization", "Bearer b")])),
            "an unreadable second credential is still a second one"
        );
        // Without explicit locations the first present wins, as before.
        let plain = Credentials::default();
        assert_eq!(
            get_at(
                &plain,
                "/",
                &[("authorization", "Bearer b"), ("cookie", "sAccessToken=c")]
            )
            .unwrap()
            .unwrap()
            .1,
            Source::Bearer
        );
    }

    #[test]
    fn a_cookie_on_a_websocket_handshake_needs_an_allowed_origin() {
        let c = websocket().allowed_origins(["https://app.example.com"]);
        let cookie = ("cookie", "sAccessToken=c");
        let [upgrade, key] = HANDSHAKE;
        for handshake in [vec![upgrade, key], vec![("upgrade", "h2c, WebSocket")], vec![key]] {
            let with = |extra: &[(&'static str, &'static str)]| {
                let mut pairs = handshake.clone();
                pairs.push(cookie);
                pairs.extend_from_slice(extra);
                get_at(&c, "/ws", &pairs)
            };
            assert!(matches!(with(&[]), Err(Error::CsrfRejected)), "{handshake:?}");
            assert!(matches!(
                with(&[("origin", "https://evil.example.com")]),
                Err(Error::CsrfRejected)
            ));
            assert_eq!(
                with(&[("origin", "https://app.example.com")]).unwrap().unwrap().1,
                Source::Cookie
            );
        }
        let bearer = get_at(&c, "/ws", &[upgrade, key, ("authorization", "Bearer b")]);
        assert_eq!(
            bearer.unwrap().unwrap().1,
            Source::Bearer,
            "a header is no ambient credential"
        );
        let plain_get = get_at(&c, "/page", &[cookie]);
        assert_eq!(plain_get.unwrap().unwrap().1, Source::Cookie);
    }

    #[test]
    fn the_handler_sees_the_protocols_without_the_token() {
        let c = websocket();
        let h = headers(&[("sec-websocket-protocol", "chat, access_token, secret.token, v2")]);
        assert_eq!(c.protocols_for_handler(&h).as_deref(), Some("chat, access_token, v2"));
        let none = headers(&[("sec-websocket-protocol", "chat, v2")]);
        assert_eq!(c.protocols_for_handler(&none), None);
        assert_eq!(Credentials::default().protocols_for_handler(&h), None);
    }

    /// `Authorization: Token <token>`.
    struct TokenScheme {
        ambient: bool,
    }

    impl CredentialSource for TokenScheme {
        fn name(&self) -> &'static str {
            "token scheme"
        }

        fn read<'a>(&self, request: &CredentialRequest<'a>) -> Result<Option<Cow<'a, str>>, Error> {
            assert_eq!(
                (request.method(), request.path(), request.query()),
                ("GET", "/x", Some("y=1"))
            );
            let value = request.header("authorization")?;
            Ok(value.and_then(|v| v.strip_prefix("Token ")).map(Cow::Borrowed))
        }

        fn is_ambient(&self) -> bool {
            self.ambient
        }
    }

    #[test]
    fn a_custom_source_follows_the_same_rules() {
        let custom = Location::custom(TokenScheme { ambient: false });
        assert!(format!("{custom:?}").contains("token scheme"));
        let c = Credentials::default()
            .order([custom.clone(), Location::Cookie(DEFAULT_COOKIE.into())])
            .max_len(8);
        let read = |pairs: &[(&str, &str)]| get_at(&c, "/x?y=1", pairs);
        assert_eq!(
            read(&[("authorization", "Token abc")]).unwrap(),
            Some(("abc".into(), Source::Custom))
        );
        assert_eq!(read(&[("authorization", "Bearer abc")]).unwrap(), None);
        assert!(matches!(
            read(&[("authorization", "Token 123456789")]),
            Err(Error::InvalidToken(InvalidToken::TooLarge))
        ));
        assert!(is_ambiguous(read(&[
            ("authorization", "Token a"),
            ("authorization", "Token b")
        ])));
        assert!(is_ambiguous(read(&[
            ("authorization", "Token a"),
            ("cookie", "sAccessToken=c")
        ])));

        let ambient = Credentials::default().order([Location::custom(TokenScheme { ambient: true })]);
        let h = headers(&[("authorization", "Token abc"), HANDSHAKE[1]]);
        assert!(matches!(
            ambient.extract_from("GET", "/x?y=1", &h),
            Err(Error::CsrfRejected)
        ));
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
        let with_null = Credentials::default().allowed_origins(["null"]);
        assert!(matches!(
            get_with(&with_null, Method::POST, &[cookie, ("origin", "null")]),
            Err(Error::CsrfRejected)
        ));
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
