//! The Lambda authorizer: API Gateway's authorizer events in, its answers out.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::context::{BODY_KEY, PRINCIPAL_ID_KEY, authorizer_context};
use super::routes::{RouteTable, glob_matches};
use crate::Authenticator;
use crate::credential::Headers;
use crate::error::{ClaimError, Denied, Error, ErrorStyle};
use crate::pipeline::{Mode, RequestParts};
use crate::principal::{Principal, Source};

/// What the policy of an IAM-policy answer covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PolicyResource {
    /// The whole API and stage (`arn:...:apiId/stage/*/*`, from the event's
    /// `methodArn`), with an explicit `Deny` for every route of the table the
    /// caller may not call, so a cached answer is right for the caller's next
    /// route too. The default. See [the module docs](super#caching).
    #[default]
    Api,
    /// Exactly the event's `methodArn`. A cached answer then covers only that
    /// method and path: API Gateway answers 403 for the caller's next route until
    /// the cache entry expires, so use it only with caching off (TTL 0).
    MethodArn,
}

/// How HTTP API (payload 2.0) events are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpApiResponse {
    /// `{"isAuthorized": bool, "context": {...}}` (the authorizer's
    /// `enableSimpleResponses`). A simple answer names no route, so with caching
    /// on it applies to every route: add `$context.routeKey` to the identity
    /// sources, or turn caching off, when routes have different rules. The default.
    #[default]
    Simple,
    /// An IAM policy, as for REST APIs (with [`PolicyResource`] applied).
    IamPolicy,
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    /// The statement lets the request through.
    Allow,
    /// The statement refuses the request (and wins over any `Allow`).
    Deny,
}

/// One statement of an IAM policy: `execute-api:Invoke` on some resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// Always `execute-api:Invoke`.
    pub action: String,
    /// Allow or Deny.
    pub effect: Effect,
    /// Execute-API ARNs, with `*` and `?` wildcards.
    pub resource: Vec<String>,
}

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// Always `2012-10-17`.
    pub version: String,
    /// The statements.
    pub statement: Vec<Statement>,
}

/// An IAM-policy answer (REST APIs, and HTTP APIs with [`HttpApiResponse::IamPolicy`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyResponse {
    /// [`Principal::id`], or empty for an anonymous caller.
    pub principal_id: String,
    /// The policy.
    pub policy_document: PolicyDocument,
    /// The flat context (see [`authorizer_context`](super::authorizer_context)),
    /// and [`BODY_KEY`](super::BODY_KEY) on a Deny.
    pub context: Map<String, Value>,
}

/// An HTTP API simple answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SimpleResponse {
    /// Whether the request may go on.
    pub is_authorized: bool,
    /// The flat context, with [`PRINCIPAL_ID_KEY`](super::PRINCIPAL_ID_KEY), and
    /// [`BODY_KEY`](super::BODY_KEY) when refused.
    pub context: Map<String, Value>,
}

/// What the authorizer answers API Gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AuthorizerResponse {
    /// An IAM policy.
    Policy(PolicyResponse),
    /// An HTTP API simple answer.
    Simple(SimpleResponse),
}

impl AuthorizerResponse {
    /// The context handed to the backend.
    pub fn context(&self) -> &Map<String, Value> {
        match self {
            AuthorizerResponse::Policy(policy) => &policy.context,
            AuthorizerResponse::Simple(simple) => &simple.context,
        }
    }

    /// Whether API Gateway lets a request for `method_arn` through with this
    /// answer, as IAM evaluates it: a matching `Deny` wins, then a matching
    /// `Allow`, and anything else is refused. A simple answer applies to every ARN.
    pub fn allows(&self, method_arn: &str) -> bool {
        match self {
            AuthorizerResponse::Simple(simple) => simple.is_authorized,
            AuthorizerResponse::Policy(policy) => {
                let matching = |effect: Effect| {
                    policy.policy_document.statement.iter().any(|s| {
                        s.effect == effect && s.resource.iter().any(|pattern| glob_matches(pattern, method_arn))
                    })
                };
                !matching(Effect::Deny) && matching(Effect::Allow)
            }
        }
    }
}

/// Why the authorizer gave no answer. API Gateway turns [`Unauthorized`](AuthorizerError::Unauthorized)
/// into a 401 and anything else into a 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizerError {
    /// No valid credential (missing where one is needed, invalid, expired). The
    /// Lambda error message is exactly `Unauthorized`, which API Gateway answers with 401.
    #[error("Unauthorized")]
    Unauthorized,
    /// The event is not one API Gateway sends to a Lambda authorizer.
    #[error("invalid authorizer event: {0}")]
    InvalidEvent(String),
    /// Signing keys could not be fetched and none are cached.
    #[error("signing keys are unavailable")]
    KeysUnavailable,
}

impl From<AuthorizerError> for lambda_runtime::Diagnostic {
    fn from(error: AuthorizerError) -> Self {
        let error_type = match error {
            AuthorizerError::Unauthorized => "Unauthorized",
            AuthorizerError::InvalidEvent(_) => "InvalidEvent",
            AuthorizerError::KeysUnavailable => "KeysUnavailable",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// A Lambda authorizer for API Gateway: REST `TOKEN` and `REQUEST` events,
/// HTTP API payload 2.0 events (and 1.0, which are REST-shaped), one
/// [`Authenticator`] and one [`RouteTable`].
///
/// For a valid credential that meets the route's rule it answers `Allow` with
/// `principalId` = [`Principal::id`] and the [authorizer context](super::authorizer_context);
/// without a credential where one is needed, or with an invalid or expired one,
/// the error `Unauthorized` (401); when the principal fails the route's rule, a
/// `Deny` with the JSON error body under [`BODY_KEY`](super::BODY_KEY) (403); an
/// anonymous caller on an optional route gets an `Allow` with an empty
/// `principalId`. See [the module docs](super) for the answers in full.
///
/// ```no_run
/// use authorizer::lambda::{LambdaAuthorizer, RouteRule, RouteTable};
/// use authorizer::{Issuer, Verifier};
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_runtime::Error> {
///     let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
///     let routes = RouteTable::new()
///         .route("GET /public", RouteRule::optional())?
///         .route("ANY /me", RouteRule::session())?;
///     LambdaAuthorizer::new(verifier, routes).run().await
/// }
/// ```
#[derive(Clone)]
pub struct LambdaAuthorizer {
    auth: Authenticator,
    routes: Arc<RouteTable>,
    resource: PolicyResource,
    http_api: HttpApiResponse,
}

impl fmt::Debug for LambdaAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaAuthorizer")
            .field("auth", &self.auth)
            .field("routes", &self.routes.routes().len())
            .field("resource", &self.resource)
            .field("http_api", &self.http_api)
            .finish()
    }
}

/// The event, read.
struct Event {
    kind: Kind,
    arn: Arn,
    headers: EventHeaders,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Token,
    Request,
    HttpV2,
}

/// `arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/{method}/{path}`.
struct Arn {
    full: String,
    /// Up to and including the stage.
    base: String,
    method: String,
    /// With a leading `/`.
    path: String,
}

impl Arn {
    fn parse(arn: &str) -> Result<Arn, AuthorizerError> {
        let bad = || AuthorizerError::InvalidEvent("the method or route ARN is not an execute-api ARN".to_owned());
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
            return Err(bad());
        };
        if *prefix != "arn" || *service != "execute-api" || [*partition, *region, *account].iter().any(|p| p.is_empty())
        {
            return Err(bad());
        }
        let mut pieces = resource.splitn(4, '/');
        let (api, stage, method) = (pieces.next(), pieces.next(), pieces.next());
        let (Some(api), Some(stage), Some(method)) = (api, stage, method) else {
            return Err(bad());
        };
        if api.is_empty() || stage.is_empty() || method.is_empty() || arn.contains(['*', '?']) {
            return Err(bad());
        }
        Ok(Arn {
            full: arn.to_owned(),
            base: format!("arn:{partition}:execute-api:{region}:{account}:{api}/{stage}"),
            method: method.to_owned(),
            path: format!("/{}", pieces.next().unwrap_or("")),
        })
    }
}

/// Request headers from an event, names in lowercase.
struct EventHeaders {
    pairs: Vec<(String, String)>,
}

impl Headers for EventHeaders {
    fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        self.pairs
            .iter()
            .filter(move |(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_bytes())
    }
}

fn invalid(what: &str) -> AuthorizerError {
    AuthorizerError::InvalidEvent(what.to_owned())
}

fn string_field<'a>(event: &'a Map<String, Value>, name: &str) -> Result<&'a str, AuthorizerError> {
    match event.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(invalid(&format!("`{name}` is not a string"))),
        None => Err(invalid(&format!("`{name}` is missing"))),
    }
}

/// A `{name: value}` header object (`null` or absent is empty).
fn single_headers(value: Option<&Value>, out: &mut Vec<(String, String)>) -> Result<(), AuthorizerError> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(map)) => {
            for (name, value) in map {
                match value {
                    Value::String(v) => out.push((name.to_ascii_lowercase(), v.clone())),
                    Value::Null => {}
                    _ => return Err(invalid("a header value is not a string")),
                }
            }
            Ok(())
        }
        Some(_) => Err(invalid("`headers` is not an object")),
    }
}

/// A `{name: [values]}` header object (`null` or absent is empty).
fn multi_headers(value: Option<&Value>, out: &mut Vec<(String, String)>) -> Result<(), AuthorizerError> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(map)) => {
            for (name, values) in map {
                match values {
                    Value::Array(values) => {
                        for value in values {
                            match value {
                                Value::String(v) => out.push((name.to_ascii_lowercase(), v.clone())),
                                _ => return Err(invalid("a header value is not a string")),
                            }
                        }
                    }
                    Value::Null => {}
                    _ => return Err(invalid("a `multiValueHeaders` entry is not an array")),
                }
            }
            Ok(())
        }
        Some(_) => Err(invalid("`multiValueHeaders` is not an object")),
    }
}

impl Event {
    fn parse(event: &Value) -> Result<Event, AuthorizerError> {
        let Value::Object(event) = event else {
            return Err(invalid("the event is not a JSON object"));
        };
        let version = event.get("version").and_then(Value::as_str);
        let kind = match (version, event.get("type").and_then(Value::as_str)) {
            (Some("2.0"), Some("REQUEST")) => Kind::HttpV2,
            (Some("2.0"), _) => return Err(invalid("a payload 2.0 event whose `type` is not `REQUEST`")),
            (_, Some("TOKEN")) => Kind::Token,
            (_, Some("REQUEST")) => Kind::Request,
            (_, Some(_)) => return Err(invalid("unknown authorizer event `type`")),
            (_, None) => return Err(invalid("`type` is missing")),
        };
        let mut pairs = Vec::new();
        let arn = match kind {
            Kind::Token => {
                let token = string_field(event, "authorizationToken")?;
                pairs.push(("authorization".to_owned(), token.to_owned()));
                Arn::parse(string_field(event, "methodArn")?)?
            }
            Kind::Request => {
                // `multiValueHeaders` holds every value of `headers` and more;
                // both must be well-formed.
                let mut single = Vec::new();
                single_headers(event.get("headers"), &mut single)?;
                multi_headers(event.get("multiValueHeaders"), &mut pairs)?;
                if pairs.is_empty() {
                    pairs = single;
                }
                Arn::parse(string_field(event, "methodArn")?)?
            }
            Kind::HttpV2 => {
                single_headers(event.get("headers"), &mut pairs)?;
                match event.get("cookies") {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(cookies)) => {
                        for cookie in cookies {
                            let Value::String(cookie) = cookie else {
                                return Err(invalid("a cookie is not a string"));
                            };
                            pairs.push(("cookie".to_owned(), cookie.clone()));
                        }
                    }
                    Some(_) => return Err(invalid("`cookies` is not an array")),
                }
                Arn::parse(string_field(event, "routeArn")?)?
            }
        };
        Ok(Event {
            kind,
            arn,
            headers: EventHeaders { pairs },
        })
    }
}

impl LambdaAuthorizer {
    /// An authorizer with the credential rules and error style of `auth` (a
    /// [`Verifier`](crate::Verifier) or an [`Authenticator`]) and the rules of `routes`.
    pub fn new(auth: impl Into<Authenticator>, routes: RouteTable) -> Self {
        LambdaAuthorizer {
            auth: auth.into(),
            routes: Arc::new(routes),
            resource: PolicyResource::default(),
            http_api: HttpApiResponse::default(),
        }
    }

    /// What IAM-policy answers cover (default [`PolicyResource::Api`]).
    pub fn policy_resource(mut self, resource: PolicyResource) -> Self {
        self.resource = resource;
        self
    }

    /// How HTTP API payload 2.0 events are answered (default [`HttpApiResponse::Simple`]).
    pub fn http_api_response(mut self, format: HttpApiResponse) -> Self {
        self.http_api = format;
        self
    }

    /// The route table.
    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// Answers one authorizer event (the JSON API Gateway sends).
    ///
    /// Errors: [`AuthorizerError::Unauthorized`] for a missing (where needed),
    /// invalid or expired credential, or one whose principal id is empty (an
    /// empty `principalId` means "anonymous"); [`AuthorizerError::InvalidEvent`] for an
    /// event API Gateway would not send (no `methodArn`, an unknown `type`,
    /// headers that are not strings, ...); [`AuthorizerError::KeysUnavailable`].
    /// Never an `Allow` for any of these.
    pub async fn handle(&self, event: Value) -> Result<AuthorizerResponse, AuthorizerError> {
        let event = Event::parse(&event)?;
        let caller = match self.authenticate(&event).await {
            Ok(caller) => caller,
            Err(Error::KeysUnavailable) => {
                tracing::error!("Lambda authorizer: signing keys are unavailable");
                return Err(AuthorizerError::KeysUnavailable);
            }
            Err(error @ Error::CsrfRejected) => {
                tracing::debug!(%error, route = %event.arn.full, "Lambda authorizer: Deny");
                let statements = vec![statement(Effect::Deny, vec![event.arn.full.clone()])];
                return Ok(self.respond(&event, None, Some(&error), statements));
            }
            Err(error) => {
                tracing::debug!(%error, route = %event.arn.full, "Lambda authorizer: Unauthorized");
                return Err(AuthorizerError::Unauthorized);
            }
        };
        let rule = self.routes.rule_for(&event.arn.method, &event.arn.path);
        let refusal = match (rule.admits(caller.as_ref()), &caller) {
            (true, _) => None,
            (false, _) if rule.is_deny() => Some(Error::Forbidden(Denied {
                errors: vec![ClaimError::new("route", "no rule allows this route")],
                missing_scopes: Vec::new(),
            })),
            (false, None) => {
                tracing::debug!(route = %event.arn.full, "Lambda authorizer: no credential, Unauthorized");
                return Err(AuthorizerError::Unauthorized);
            }
            (false, Some(principal)) => Some(match rule.requirement().map(|r| r.evaluate(principal)) {
                Some(Err(denied)) => Error::Forbidden(denied),
                _ => Error::Forbidden(Denied {
                    errors: vec![ClaimError::new("route", "the route's rule is not met")],
                    missing_scopes: Vec::new(),
                }),
            }),
        };
        tracing::debug!(
            principal = caller.as_ref().map_or("", Principal::id),
            route = %event.arn.full,
            allowed = refusal.is_none(),
            "Lambda authorizer decision"
        );
        let statements = self.statements(&event.arn, caller.as_ref(), refusal.is_none());
        Ok(self.respond(&event, caller.as_ref(), refusal.as_ref(), statements))
    }

    /// Runs the authorizer on the Lambda runtime until the process ends.
    pub async fn run(self) -> Result<(), lambda_runtime::Error> {
        let this = Arc::new(self);
        lambda_runtime::run(lambda_runtime::service_fn(
            move |event: lambda_runtime::LambdaEvent<Value>| {
                let this = this.clone();
                async move { this.handle(event.payload).await }
            },
        ))
        .await
    }

    /// The caller: `Ok(None)` when the event carries no credential.
    async fn authenticate(&self, event: &Event) -> Result<Option<Principal>, Error> {
        let parts = RequestParts::new(&event.arn.method, &event.arn.path, &event.headers);
        let found = self
            .auth
            .authenticate(&parts, Mode::Optional)
            .await
            .into_result()
            .map_err(|rejection| rejection.error().clone())?;
        if found.is_some() || event.kind != Kind::Token {
            return Ok(found);
        }
        // A TOKEN event's value may be a bare token from a header of its own.
        match event.headers.pairs.first().map(|(_, token)| token.trim()) {
            Some(token) if !token.is_empty() && !token.contains(char::is_whitespace) => {
                let outcome = self.auth.authenticate_token(token, Source::Header).await;
                outcome.into_result().map_err(|rejection| rejection.error().clone())
            }
            _ => Ok(None),
        }
    }

    /// The policy statements; see the module docs on caching.
    fn statements(&self, arn: &Arn, caller: Option<&Principal>, allowed: bool) -> Vec<Statement> {
        let effect = if allowed { Effect::Allow } else { Effect::Deny };
        let exact = || vec![statement(effect, vec![arn.full.clone()])];
        // A cookie's anti-CSRF proof belongs to one request: an answer cached
        // by the cookie must not carry a safe method's Allow to a cross-site POST.
        let cookie = caller.is_some_and(|p| p.source() == Source::Cookie);
        if self.resource == PolicyResource::MethodArn || cookie {
            return exact();
        }
        let fallback_admits = self.routes.fallback_rule().admits(caller);
        let mut allow = Vec::new();
        let mut deny = Vec::new();
        if fallback_admits {
            allow.push(format!("{}/*/*", arn.base));
        }
        for route in self.routes.routes() {
            let resources = route.resource_globs().iter().map(|glob| format!("{}/{glob}", arn.base));
            if !route.rule.admits(caller) {
                deny.extend(resources);
            } else if !fallback_admits && route.glob_is_exact() {
                allow.extend(resources);
            }
        }
        if allowed {
            if deny.iter().any(|pattern| glob_matches(pattern, &arn.full)) {
                // Another route's Deny would also cover this one: answer for this route only.
                return exact();
            }
            if !allow.iter().any(|pattern| glob_matches(pattern, &arn.full)) {
                allow.push(arn.full.clone());
            }
        } else if !deny.iter().any(|pattern| glob_matches(pattern, &arn.full)) {
            deny.push(arn.full.clone());
        }
        let mut statements = Vec::new();
        if !allow.is_empty() {
            statements.push(statement(Effect::Allow, allow));
        }
        if !deny.is_empty() {
            statements.push(statement(Effect::Deny, deny));
        }
        statements
    }

    fn respond(
        &self,
        event: &Event,
        caller: Option<&Principal>,
        refusal: Option<&Error>,
        statements: Vec<Statement>,
    ) -> AuthorizerResponse {
        let mut context = caller.map(authorizer_context).unwrap_or_default();
        if let Some(error) = refusal {
            let body = error.to_response(self.style()).body;
            context.insert(BODY_KEY.to_owned(), Value::String(body));
        }
        let principal_id = caller.map_or_else(String::new, |p| p.id().to_owned());
        if event.kind == Kind::HttpV2 {
            if caller.is_some() {
                context.insert(PRINCIPAL_ID_KEY.to_owned(), Value::String(principal_id.clone()));
            }
            if self.http_api == HttpApiResponse::Simple {
                return AuthorizerResponse::Simple(SimpleResponse {
                    is_authorized: refusal.is_none(),
                    context,
                });
            }
        }
        AuthorizerResponse::Policy(PolicyResponse {
            principal_id,
            policy_document: PolicyDocument {
                version: "2012-10-17".to_owned(),
                statement: statements,
            },
            context,
        })
    }

    fn style(&self) -> ErrorStyle {
        self.auth.style()
    }
}

fn statement(effect: Effect, resource: Vec<String>) -> Statement {
    Statement {
        action: "execute-api:Invoke".to_owned(),
        effect,
        resource,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        let a = Arn::parse("arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/items/7").unwrap();
        assert_eq!(a.base, "arn:aws:execute-api:us-east-1:123456789012:abc123/prod");
        assert_eq!((a.method.as_str(), a.path.as_str()), ("GET", "/items/7"));
        let root = Arn::parse("arn:aws:execute-api:us-east-1:1:abc/$default/GET/").unwrap();
        assert_eq!(root.path, "/");
        let bare = Arn::parse("arn:aws:execute-api:us-east-1:1:abc/test/GET").unwrap();
        assert_eq!(bare.path, "/");
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

    #[test]
    fn diagnostics() {
        let d = lambda_runtime::Diagnostic::from(AuthorizerError::Unauthorized);
        assert_eq!(
            (d.error_type.as_str(), d.error_message.as_str()),
            ("Unauthorized", "Unauthorized")
        );
    }
}
