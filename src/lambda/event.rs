//! Event reading: API Gateway's authorizer events, typed or as JSON, to what
//! the decision needs (the method or route ARN, the request's headers and its
//! query).

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV2Request,
};
use http::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::authorizer::AuthorizerError;
use super::query;
use crate::binding::der_from_pem;
use crate::credential::Headers;

/// An event, read: the request it stands for.
pub(super) struct Event {
    pub(super) arn: Arn,
    pub(super) headers: EventHeaders,
    /// The path the client used (the request context's, with the stage or
    /// a custom domain's base path; else the ARN's) and the event's query
    /// (`/prod/me?token=...`): the request target the pipeline reads a query
    /// credential from, and a DPoP proof's `htu` is checked against.
    pub(super) target: String,
    /// The host the client used (`requestContext.domainName`, else the
    /// `Host` header the pipeline reads itself).
    pub(super) domain: Option<String>,
    /// The client certificate (DER) of API Gateway's mutual TLS.
    pub(super) client_certificate: Option<Vec<u8>>,
}

/// An event of any of the three shapes API Gateway sends a Lambda authorizer.
pub(super) enum AnyEvent {
    /// REST `TOKEN`.
    Token(ApiGatewayCustomAuthorizerRequest),
    /// REST `REQUEST` (and HTTP API payload 1.0, which has the same shape).
    Request(Box<ApiGatewayCustomAuthorizerRequestTypeRequest>),
    /// HTTP API payload 2.0.
    HttpApi(Box<ApiGatewayV2CustomAuthorizerV2Request>),
}

// The typed events come from serde with its defaults: a missing or `null`
// `type`, `methodArn`, `routeArn` or `authorizationToken` reads as `None`, and
// fields nobody reads are ignored. So each constructor below checks again what
// the decision depends on (the event's kind, its ARN, the token), as strictly
// as `AnyEvent::from_json` reads the JSON, and refuses the event otherwise.
// Headers it cannot check again: `aws_lambda_events` keeps one value per name
// of a `headers` object, so two spellings of one name (`Authorization`,
// `authorization`) reach a typed event as one value. `from_json` keeps both
// (and so refuses two credentials as ambiguous); API Gateway never sends such
// a pair in `headers` (REST lists repeats in `multiValueHeaders`, HTTP APIs
// join them with commas), so only a hand-built typed event can carry one.
impl Event {
    /// A REST `TOKEN` event.
    pub(super) fn token(event: ApiGatewayCustomAuthorizerRequest) -> Result<Event, AuthorizerError> {
        expect_type(event.type_.as_deref(), "TOKEN")?;
        let token = required(event.authorization_token, "authorizationToken")?;
        let arn = Arn::parse(&required(event.method_arn, "methodArn")?)?;
        Ok(Event {
            target: arn.path.clone(),
            arn,
            headers: EventHeaders::Token(token),
            domain: None,
            client_certificate: None,
        })
    }

    /// A REST (or WebSocket `$connect`) `REQUEST` event.
    pub(super) fn request(event: ApiGatewayCustomAuthorizerRequestTypeRequest) -> Result<Event, AuthorizerError> {
        expect_type(event.type_.as_deref(), "REQUEST")?;
        let arn = Arn::parse(&required(event.method_arn, "methodArn")?)?;
        // The multi-value maps hold every value of the single-value ones and more.
        let headers = if event.multi_value_headers.is_empty() {
            event.headers
        } else {
            event.multi_value_headers
        };
        let parameters = if event.multi_value_query_string_parameters.is_empty() {
            &event.query_string_parameters
        } else {
            &event.multi_value_query_string_parameters
        };
        let query = query::encode_pairs(parameters.iter())?;
        let context = &event.request_context;
        let certificate = context
            .identity
            .as_ref()
            .and_then(|identity| identity.client_cert.as_ref())
            .and_then(|cert| cert.client_cert_pem.as_deref());
        Ok(Event {
            target: target(context.path.as_deref(), &arn, &query),
            arn,
            headers: EventHeaders::Request {
                headers,
                cookies: Vec::new(),
            },
            // REST events name no domain: the `Host` header does.
            domain: None,
            client_certificate: certificate.and_then(der_from_pem),
        })
    }

    /// An HTTP API payload 2.0 event.
    pub(super) fn http_api(event: ApiGatewayV2CustomAuthorizerV2Request) -> Result<Event, AuthorizerError> {
        if event.version.as_deref() != Some("2.0") {
            return Err(invalid("not a payload 2.0 event (`version` is not `2.0`)"));
        }
        if event.type_.as_deref() != Some("REQUEST") {
            return Err(invalid("a payload 2.0 event whose `type` is not `REQUEST`"));
        }
        let arn = Arn::parse(&required(event.route_arn, "routeArn")?)?;
        let query = query::from_raw(event.raw_query_string.as_deref().unwrap_or(""))?;
        let certificate = event
            .request_context
            .authentication
            .as_ref()
            .and_then(|authentication| authentication.client_cert.as_ref())
            .and_then(|cert| cert.client_cert_pem.as_deref());
        Ok(Event {
            target: target(event.raw_path.as_deref(), &arn, &query),
            arn,
            headers: EventHeaders::Request {
                headers: event.headers,
                cookies: event.cookies,
            },
            domain: event.request_context.domain_name.clone(),
            client_certificate: certificate.and_then(der_from_pem),
        })
    }
}

/// The path the client used (else the ARN's), with the query if there is one.
fn target(path: Option<&str>, arn: &Arn, query: &str) -> String {
    let path = path.filter(|path| path.starts_with('/')).unwrap_or(&arn.path);
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

pub(super) fn invalid(what: &str) -> AuthorizerError {
    AuthorizerError::InvalidEvent(what.to_owned())
}

fn required(value: Option<String>, name: &str) -> Result<String, AuthorizerError> {
    value.ok_or_else(|| invalid(&format!("`{name}` is missing or null")))
}

fn expect_type(found: Option<&str>, expected: &str) -> Result<(), AuthorizerError> {
    match found {
        Some(found) if found == expected => Ok(()),
        Some(_) => Err(invalid(&format!("`type` is not `{expected}`"))),
        None => Err(invalid("`type` is missing")),
    }
}

impl AnyEvent {
    /// Reads the JSON API Gateway sends: the shape from `version` and `type`,
    /// then the typed event.
    ///
    /// Typed deserialization accepts more than API Gateway sends (a header as
    /// a string or an array of strings or of bytes alike, a `multiValueHeaders`
    /// entry that is a bare string) and refuses a `null` that means "none"
    /// (a `null` header value, `cookies: null`). So the fields the credential
    /// is read from are checked here first: a shape API Gateway does not send
    /// is refused rather than read generously, and a `null` is dropped.
    pub(super) fn from_json(event: Value) -> Result<AnyEvent, AuthorizerError> {
        let Value::Object(mut event) = event else {
            return Err(invalid("the event is not a JSON object"));
        };
        match Shape::of(&event)? {
            Shape::Token => deserialize(event, "TOKEN").map(AnyEvent::Token),
            Shape::Request => {
                single_headers(&mut event, "headers")?;
                multi_headers(&mut event)?;
                query::check_parameters(&mut event, "queryStringParameters", false)?;
                query::check_parameters(&mut event, "multiValueQueryStringParameters", true)?;
                deserialize(event, "REQUEST").map(|e| AnyEvent::Request(Box::new(e)))
            }
            Shape::HttpApi => {
                single_headers(&mut event, "headers")?;
                cookies(&mut event)?;
                deserialize(event, "payload 2.0").map(|e| AnyEvent::HttpApi(Box::new(e)))
            }
        }
    }
}

enum Shape {
    Token,
    Request,
    HttpApi,
}

impl Shape {
    fn of(event: &Map<String, Value>) -> Result<Shape, AuthorizerError> {
        let version = event.get("version").and_then(Value::as_str);
        match (version, event.get("type").and_then(Value::as_str)) {
            (Some("2.0"), Some("REQUEST")) => Ok(Shape::HttpApi),
            (Some("2.0"), _) => Err(invalid("a payload 2.0 event whose `type` is not `REQUEST`")),
            (_, Some("TOKEN")) => Ok(Shape::Token),
            (_, Some("REQUEST")) => Ok(Shape::Request),
            (_, Some(_)) => Err(invalid("unknown authorizer event `type`")),
            (_, None) => Err(invalid("`type` is missing")),
        }
    }
}

/// The typed event. The error names where the JSON went wrong, and which
/// field is missing, never a value: serde's other messages may quote one, and
/// a malformed header may hold a credential.
fn deserialize<T: DeserializeOwned>(event: Map<String, Value>, shape: &str) -> Result<T, AuthorizerError> {
    let event = Value::Object(event);
    // Tracking the path costs more than reading the event, so only an event
    // that fails is read a second time, to say where.
    T::deserialize(&event).map_err(|_| {
        let place = match serde_path_to_error::deserialize::<_, T>(&event) {
            Err(error) => {
                let reason = error.inner().to_string();
                let missing = if reason.starts_with("missing field") {
                    format!(": {reason}")
                } else {
                    String::new()
                };
                format!(" (at `{}`){missing}", error.path())
            }
            Ok(_) => String::new(),
        };
        AuthorizerError::InvalidEvent(format!("not a {shape} event{place}"))
    })
}

/// More header values (or cookies) than any request API Gateway forwards can
/// carry (it caps headers at about 10 KB): an event with more is refused before
/// the typed reader, whose header map cannot hold some 24,000 and panics.
pub(super) const MAX_VALUES: usize = 1_000;

pub(super) fn too_many(what: &str) -> AuthorizerError {
    invalid(&format!("more {what} than a request can carry"))
}

/// A `{name: value}` header object: `null` or absent is empty, a `null` value
/// is no value, any other value must be a string.
fn single_headers(event: &mut Map<String, Value>, field: &str) -> Result<(), AuthorizerError> {
    let headers = match event.get_mut(field) {
        None => return Ok(()),
        Some(Value::Null) => {
            event.remove(field);
            return Ok(());
        }
        Some(Value::Object(headers)) => headers,
        Some(_) => return Err(invalid(&format!("`{field}` is not an object"))),
    };
    if headers.len() > MAX_VALUES {
        return Err(too_many("headers"));
    }
    if headers.values().any(|v| !(v.is_string() || v.is_null())) {
        return Err(invalid("a header value is not a string"));
    }
    headers.retain(|_, value| !value.is_null());
    keep_case_variants(headers);
    Ok(())
}

/// A `{name: [values]}` header object: `null` or absent is empty, a `null`
/// entry is no value, any other entry must be an array of strings.
fn multi_headers(event: &mut Map<String, Value>) -> Result<(), AuthorizerError> {
    let headers = match event.get_mut("multiValueHeaders") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(headers)) => headers,
        Some(_) => return Err(invalid("`multiValueHeaders` is not an object")),
    };
    let count: usize = headers.values().map(|v| v.as_array().map_or(1, Vec::len)).sum();
    if count > MAX_VALUES {
        return Err(too_many("headers"));
    }
    for values in headers.values() {
        match values {
            Value::Array(values) if values.iter().all(Value::is_string) => {}
            Value::Array(_) => return Err(invalid("a header value is not a string")),
            Value::Null => {}
            _ => return Err(invalid("a `multiValueHeaders` entry is not an array")),
        }
    }
    headers.retain(|_, values| !values.is_null());
    Ok(())
}

/// The payload 2.0 `cookies` array: `null` or absent is none.
fn cookies(event: &mut Map<String, Value>) -> Result<(), AuthorizerError> {
    match event.get("cookies") {
        None => Ok(()),
        Some(Value::Null) => {
            event.remove("cookies");
            Ok(())
        }
        Some(Value::Array(cookies)) if cookies.len() > MAX_VALUES => Err(too_many("cookies")),
        Some(Value::Array(cookies)) if cookies.iter().all(Value::is_string) => Ok(()),
        Some(Value::Array(_)) => Err(invalid("a cookie is not a string")),
        Some(_) => Err(invalid("`cookies` is not an array")),
    }
}

/// A header map holds one value per name when the JSON gives a string, so a
/// name spelled twice in different cases (`Authorization`, `authorization`)
/// would keep only one value: two credentials would then pass for one instead
/// of being refused as ambiguous. Such names become one name with every value.
fn keep_case_variants(headers: &mut Map<String, Value>) {
    let mut seen = std::collections::HashSet::with_capacity(headers.len());
    let repeated = headers.keys().any(|name| !seen.insert(name.to_ascii_lowercase()));
    if !repeated {
        return;
    }
    let mut folded = Map::new();
    for (name, value) in std::mem::take(headers) {
        let values = folded
            .entry(name.to_ascii_lowercase())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = values {
            values.push(value);
        }
    }
    *headers = folded;
}

/// The route key a WebSocket API's `methodArn` ends with where a REST ARN has
/// its method: the only WebSocket route an authorizer runs on.
const CONNECT: &str = "$connect";

/// How a route table names `$connect`: the opening handshake's method, and the
/// route key as the path.
const CONNECT_ROUTE: (&str, &str) = ("GET", "/$connect");

/// `arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/{method}/{path}`,
/// or a WebSocket API's `arn:...:{api}/{stage}/$connect`.
pub(super) struct Arn {
    pub(super) full: String,
    /// Up to and including the stage.
    pub(super) base: String,
    pub(super) method: String,
    /// With a leading `/`.
    pub(super) path: String,
}

impl Arn {
    /// Refuses anything but a concrete execute-api ARN: the answer's policy is
    /// written from it, and a wildcard here would widen that policy.
    pub(super) fn parse(arn: &str) -> Result<Arn, AuthorizerError> {
        let bad = || invalid("the method or route ARN is not an execute-api ARN");
        let mut parts = arn.splitn(6, ':');
        let mut next = || parts.next().ok_or_else(bad);
        let (prefix, partition, service, region, account, resource) =
            (next()?, next()?, next()?, next()?, next()?, next()?);
        if prefix != "arn" || service != "execute-api" || [partition, region, account].iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        let mut pieces = resource.splitn(4, '/');
        let (api, stage, method) = (pieces.next(), pieces.next(), pieces.next());
        let (Some(api), Some(stage), Some(method)) = (api, stage, method) else {
            return Err(bad());
        };
        if api.is_empty() || stage.is_empty() || method.is_empty() || arn.bytes().any(|b| b == b'*' || b == b'?') {
            return Err(bad());
        }
        // `arn:partition:execute-api:region:account:api/stage`: the ARN up to the stage.
        let base = &arn[..arn.len() - resource.len() + api.len() + 1 + stage.len()];
        let path = ["/", pieces.next().unwrap_or("")].concat();
        Ok(Arn {
            full: arn.to_owned(),
            base: base.to_owned(),
            method: method.to_owned(),
            path,
        })
    }

    /// Whether this is a WebSocket API's `$connect` (it names no method or path).
    pub(super) fn is_connect(&self) -> bool {
        self.method == CONNECT && self.path == "/"
    }

    /// The method and path a route table matches: the ARN's own, and for a
    /// WebSocket `$connect`, `GET /$connect`.
    pub(super) fn route(&self) -> (&str, &str) {
        if self.is_connect() {
            CONNECT_ROUTE
        } else {
            (&self.method, &self.path)
        }
    }
}

/// The request headers of an event.
pub(super) enum EventHeaders {
    /// A `TOKEN` event's value, read as the `Authorization` header.
    Token(String),
    /// A `REQUEST` event's headers, and a payload 2.0 event's `cookies`, read
    /// as `Cookie` headers after the headers' own.
    Request { headers: HeaderMap, cookies: Vec<String> },
}

impl EventHeaders {
    /// A `TOKEN` event's value.
    pub(super) fn token(&self) -> Option<&str> {
        match self {
            EventHeaders::Token(token) => Some(token),
            EventHeaders::Request { .. } => None,
        }
    }
}

impl Headers for EventHeaders {
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        let (token, headers, cookies): (Option<&String>, Option<&HeaderMap>, &[String]) = match self {
            EventHeaders::Token(token) => (Some(token).filter(|_| name == "authorization"), None, &[]),
            EventHeaders::Request { headers, cookies } => {
                let cookies = if name == "cookie" { cookies.as_slice() } else { &[] };
                (None, Some(headers), cookies)
            }
        };
        let values = headers.into_iter().flat_map(move |headers| headers.get_all(name));
        token
            .map(String::as_bytes)
            .into_iter()
            .chain(values.map(http::HeaderValue::as_bytes))
            .chain(cookies.iter().map(String::as_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arns() {
        let a = Arn::parse("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/items/7").unwrap();
        assert_eq!(a.base, "arn:aws:execute-api:us-east-1:123456789012:abc123/prod");
        assert_eq!((a.method.as_str(), a.path.as_str()), ("GET", "/items/7"));
        let root = Arn::parse("arn:aws:execute-api:us-east-1:1:abc/$default/GET/").unwrap();
        assert_eq!(root.path, "/");
        let bare = Arn::parse("arn:aws:execute-api:us-east-1:1:abc/test/GET").unwrap();
        assert_eq!(bare.path, "/");
        let connect = Arn::parse("arn:aws:execute-api:us-east-1:1:abc/default/$connect").unwrap();
        assert!(connect.is_connect());
        assert_eq!((connect.method.as_str(), connect.path.as_str()), ("$connect", "/"));
        assert_eq!(connect.route(), ("GET", "/$connect"));
        assert!(!a.is_connect());
        assert_eq!(a.route(), ("GET", "/items/7"));
        for bad in [
            "",
            "arn:aws:lambda:us-east-1:1:function:x",
            "arn:aws:execute-api:us-east-1:1:abc",
            "arn:aws:execute-api:us-east-1:1:abc/prod",
            "arn:aws:execute-api::1:abc/prod/GET/x",
            "arn:aws:execute-api:us-east-1:1:abc/*/GET/x",
            "arn:aws:execute-api:us-east-1:1:/prod/GET/x",
        ] {
            assert!(Arn::parse(bad).is_err(), "{bad}");
        }
    }

    fn values<'a>(headers: &'a EventHeaders, name: &str) -> Vec<&'a [u8]> {
        headers.header_values(name).collect()
    }

    #[test]
    fn headers_of_each_shape() {
        let token = EventHeaders::Token("Bearer t".to_owned());
        assert_eq!(values(&token, "authorization"), [b"Bearer t".as_slice()]);
        assert!(values(&token, "cookie").is_empty());

        let mut map = HeaderMap::new();
        map.append("cookie", "a=1".parse().unwrap());
        map.append("authorization", "Bearer h".parse().unwrap());
        let request = EventHeaders::Request {
            headers: map,
            cookies: vec!["b=2".to_owned()],
        };
        assert_eq!(values(&request, "cookie"), [b"a=1".as_slice(), b"b=2".as_slice()]);
        assert_eq!(values(&request, "authorization"), [b"Bearer h".as_slice()]);
        assert!(values(&request, "rid").is_empty());
    }

    #[test]
    fn case_variants_keep_every_value() {
        let event = json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:1:abc/prod/GET/me",
            "headers": {"Authorization": "Bearer a", "authorization": "Bearer b", "X-Gone": null},
            "requestContext": {},
        });
        let Ok(AnyEvent::Request(event)) = AnyEvent::from_json(event) else {
            panic!("a REQUEST event");
        };
        let values: Vec<_> = event.headers.get_all("authorization").iter().collect();
        assert_eq!(values, ["Bearer a", "Bearer b"]);
        assert!(event.headers.get("x-gone").is_none());

        let event = json!({
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:us-east-1:1:abc/$default/GET/me",
            "headers": {"Authorization": "Bearer a", "authorization": "Bearer b"},
            "cookies": null,
            "requestContext": {"http": {"method": "GET"}},
        });
        let Ok(AnyEvent::HttpApi(event)) = AnyEvent::from_json(event) else {
            panic!("a payload 2.0 event");
        };
        assert_eq!(event.headers.get_all("authorization").iter().count(), 2);
        assert!(event.cookies.is_empty());
    }

    #[test]
    fn typed_events_are_checked_again() {
        let arn = "arn:aws:execute-api:us-east-1:1:abc/prod/GET/me";
        let mut token = ApiGatewayCustomAuthorizerRequest::default();
        token.authorization_token = Some("Bearer t".to_owned());
        token.method_arn = Some(arn.to_owned());
        assert!(Event::token(token.clone()).is_err(), "no type");
        token.type_ = Some("REQUEST".to_owned());
        assert!(Event::token(token.clone()).is_err(), "another type");
        token.type_ = Some("TOKEN".to_owned());
        assert!(Event::token(token.clone()).is_ok());
        let mut no_arn = token.clone();
        no_arn.method_arn = None;
        assert!(Event::token(no_arn).is_err());
        let mut no_token = token.clone();
        no_token.authorization_token = None;
        assert!(Event::token(no_token).is_err());
        let mut wildcard = token;
        wildcard.method_arn = Some("arn:aws:execute-api:us-east-1:1:abc/prod/*/me".to_owned());
        assert!(Event::token(wildcard).is_err());

        let mut request = ApiGatewayCustomAuthorizerRequestTypeRequest::default();
        request.method_arn = Some(arn.to_owned());
        assert!(Event::request(request.clone()).is_err(), "no type");
        request.type_ = Some("REQUEST".to_owned());
        assert!(Event::request(request.clone()).is_ok());
        request.method_arn = None;
        assert!(Event::request(request).is_err());

        let mut http = ApiGatewayV2CustomAuthorizerV2Request::default();
        http.route_arn = Some(arn.to_owned());
        http.type_ = Some("REQUEST".to_owned());
        assert!(Event::http_api(http.clone()).is_err(), "no version");
        http.version = Some("2.0".to_owned());
        assert!(Event::http_api(http.clone()).is_ok());
        http.type_ = Some("TOKEN".to_owned());
        assert!(Event::http_api(http.clone()).is_err());
        http.type_ = Some("REQUEST".to_owned());
        http.route_arn = None;
        assert!(Event::http_api(http).is_err());
    }

    #[test]
    fn events_with_more_headers_than_a_request_carries_are_refused() {
        let many: Map<String, Value> = (0..30_000).map(|i| (format!("x-{i}"), json!("v"))).collect();
        let rest = json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:1:abc/prod/GET/me",
            "headers": many.clone(),
            "requestContext": {},
        });
        let multi: Map<String, Value> = many.keys().map(|k| (k.clone(), json!(["v"]))).collect();
        let rest_multi = json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:1:abc/prod/GET/me",
            "multiValueHeaders": multi,
            "requestContext": {},
        });
        let cookies = json!({
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:us-east-1:1:abc/$default/GET/me",
            "cookies": vec!["a=b"; 30_000],
            "requestContext": {"http": {"method": "GET"}},
        });
        for event in [rest, rest_multi, cookies] {
            let Err(AuthorizerError::InvalidEvent(message)) = AnyEvent::from_json(event) else {
                panic!("refused, never read");
            };
            assert!(message.contains("more"), "{message}");
        }
    }

    #[test]
    fn case_variants_of_a_header_name_keep_every_value() {
        let mut headers = json!({"Authorization": "Bearer a", "authorization": "Bearer b", "x": "1"})
            .as_object()
            .unwrap()
            .clone();
        keep_case_variants(&mut headers);
        assert_eq!(headers["authorization"], json!(["Bearer a", "Bearer b"]));
        assert_eq!(headers["x"], json!(["1"]));
    }

    #[test]
    fn errors_name_no_value() {
        let secret = "sAccessToken=secret\u{1}";
        let event = json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:1:abc/prod/GET/me",
            "headers": {"Cookie": secret},
            "requestContext": {},
        });
        let Err(AuthorizerError::InvalidEvent(message)) = AnyEvent::from_json(event) else {
            panic!("a header value that is not a valid HTTP value is refused");
        };
        assert!(!message.contains("secret"), "{message}");

        let event = json!({
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:us-east-1:1:abc/$default/GET/me",
            "requestContext": {"http": {}},
        });
        let Err(AuthorizerError::InvalidEvent(message)) = AnyEvent::from_json(event) else {
            panic!("a payload 2.0 event needs `requestContext.http.method`");
        };
        assert_eq!(
            message,
            "not a payload 2.0 event (at `requestContext.http`): missing field `method`"
        );
    }
}
