//! The Lambda authorizer: its configuration, the decision, and the entry points.

use std::fmt;
use std::sync::Arc;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use aws_lambda_events::iam::IamPolicyStatement;
use serde_json::{Map, Value};

use super::answer::{AuthorizerAnswer, HttpApiAnswer};
use super::event::{AnyEvent, Event};
use super::policy::{self, Reach};
use crate::Authenticator;
use crate::error::{Error, InvalidToken, Rejection};
use crate::pipeline::{Mode, RequestParts};
use crate::principal::{Principal, Source};
use crate::routes::{RouteTable, Verdict};
use crate::telemetry::{self, Stage};

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
    /// The session store could not be asked, and the session check fails
    /// closed (API Gateway answers 500 and caches nothing).
    #[error("the session store is unavailable")]
    SessionStoreUnavailable,
}

impl From<AuthorizerError> for lambda_runtime::Diagnostic {
    fn from(error: AuthorizerError) -> Self {
        let error_type = match error {
            AuthorizerError::Unauthorized => "Unauthorized",
            AuthorizerError::InvalidEvent(_) => "InvalidEvent",
            AuthorizerError::KeysUnavailable => "KeysUnavailable",
            AuthorizerError::SessionStoreUnavailable => "SessionStoreUnavailable",
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
/// [`run`](LambdaAuthorizer::run) is the whole function:
///
/// ```no_run
/// use authorizer::lambda::LambdaAuthorizer;
/// use authorizer::routes::{RouteRule, RouteTable};
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
///
/// In a function of your own, [`token`](LambdaAuthorizer::token),
/// [`request`](LambdaAuthorizer::request) and [`http_api`](LambdaAuthorizer::http_api)
/// take and return the `aws_lambda_events` types:
///
/// ```no_run
/// use authorizer::lambda::LambdaAuthorizer;
/// use authorizer::routes::{RouteRule, RouteTable};
/// use authorizer::{Issuer, Verifier};
/// use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
/// use lambda_runtime::{LambdaEvent, service_fn};
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_runtime::Error> {
///     let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
///     let routes = RouteTable::new().route("ANY /me", RouteRule::session())?;
///     let authorizer = LambdaAuthorizer::new(verifier, routes);
///     lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>| {
///         let authorizer = authorizer.clone();
///         async move {
///             tracing::info!(request_id = %event.context.request_id, "authorizing");
///             authorizer.request(event.payload).await
///         }
///     }))
///     .await
/// }
/// ```
///
/// It is also a [`tower::Service`](tower_service::Service) of
/// [`LambdaEvent`](lambda_runtime::LambdaEvent)s of each event type (and of
/// `serde_json::Value`, answered as [`handle`](LambdaAuthorizer::handle) does),
/// for a stack of tower layers:
///
/// ```
/// use authorizer::lambda::{LambdaAuthorizer, policy_allows};
/// use authorizer::routes::{RouteRule, RouteTable};
/// use authorizer::testing::TestIssuer;
/// use aws_lambda_events::apigw::ApiGatewayCustomAuthorizerRequest;
/// use lambda_runtime::{Context, LambdaEvent};
/// use tower::ServiceExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = TestIssuer::new();
/// let routes = RouteTable::new().route("ANY /me", RouteRule::session())?;
/// let authorizer = LambdaAuthorizer::new(issuer.verifier(), routes);
///
/// let arn = "arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/me";
/// let mut event = ApiGatewayCustomAuthorizerRequest::default();
/// event.type_ = Some("TOKEN".to_owned());
/// event.authorization_token = Some(format!("Bearer {}", issuer.token().subject("user-1").sign()));
/// event.method_arn = Some(arn.to_owned());
///
/// let answer = authorizer.oneshot(LambdaEvent::new(event, Context::default())).await?;
/// assert_eq!(answer.principal_id.as_deref(), Some("user-1"));
/// assert!(policy_allows(&answer.policy_document, arn));
/// # Ok(())
/// # }
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

/// What the authorizer decided for one event.
struct Decision<'r> {
    caller: Option<Principal>,
    /// The JSON error body of a refusal (a `Deny`); `None` when allowed.
    refusal: Option<String>,
    /// What an IAM policy for this decision may cover.
    reach: Reach<'r>,
}

impl Decision<'_> {
    fn statements(&self, event: &Event) -> Vec<IamPolicyStatement> {
        policy::statements(&event.arn, self.caller.as_ref(), self.refusal.is_none(), &self.reach)
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

    /// Answers a REST `TOKEN` event: `authorizationToken` is `Bearer <token>`
    /// or a bare token.
    ///
    /// Errors as [`handle`](LambdaAuthorizer::handle); an event whose `type` is
    /// not `TOKEN`, or without `authorizationToken` or `methodArn`, is an
    /// [`AuthorizerError::InvalidEvent`].
    ///
    /// The answer serializes as `aws_lambda_events` writes it
    /// (`"Action": ["execute-api:Invoke"]`, `"usageIdentifierKey": null`);
    /// wrapped in [`AuthorizerAnswer::Rest`] it serializes as `handle`'s answers do.
    pub async fn token(
        &self,
        event: ApiGatewayCustomAuthorizerRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse<Map<String, Value>>, AuthorizerError> {
        let event = Event::token(event)?;
        self.rest(&event).await
    }

    /// Answers a REST `REQUEST` event, a WebSocket API's `$connect` event, or
    /// an HTTP API payload 1.0 event (all three have this shape): the
    /// credential is read from `multiValueHeaders`, or `headers` when that is
    /// empty, and from the query parameters likewise (see [the module
    /// docs](super#websocket-apis) for `$connect`).
    ///
    /// Errors as [`handle`](LambdaAuthorizer::handle); an event whose `type` is
    /// not `REQUEST`, or without `methodArn`, is an [`AuthorizerError::InvalidEvent`].
    /// The answer serializes as [`token`](LambdaAuthorizer::token)'s does.
    ///
    /// A typed event holds what `aws_lambda_events` decoded: one value per name
    /// of its `headers` object (API Gateway lists repeated headers in
    /// `multiValueHeaders`, which keeps them all). [`handle`](LambdaAuthorizer::handle)
    /// reads the JSON itself and keeps every pair.
    pub async fn request(
        &self,
        event: ApiGatewayCustomAuthorizerRequestTypeRequest,
    ) -> Result<ApiGatewayCustomAuthorizerResponse<Map<String, Value>>, AuthorizerError> {
        let event = Event::request(event)?;
        self.rest(&event).await
    }

    /// Answers an HTTP API payload 2.0 event: the credential is read from
    /// `headers` and `cookies`; the answer is simple or an IAM policy, as
    /// configured with [`http_api_response`](LambdaAuthorizer::http_api_response).
    ///
    /// Errors as [`handle`](LambdaAuthorizer::handle); an event whose `version`
    /// is not `2.0` or whose `type` is not `REQUEST`, or without `routeArn`, is
    /// an [`AuthorizerError::InvalidEvent`]. Headers: one value per name, as
    /// for [`request`](LambdaAuthorizer::request) (HTTP APIs join repeated
    /// headers with commas).
    pub async fn http_api(
        &self,
        event: ApiGatewayV2CustomAuthorizerV2Request,
    ) -> Result<HttpApiAnswer, AuthorizerError> {
        let event = Event::http_api(event)?;
        let decision = self.decide(&event).await?;
        let context = policy::http_api_context(decision.caller.as_ref(), decision.refusal.as_deref());
        Ok(match self.http_api {
            HttpApiResponse::Simple => {
                HttpApiAnswer::Simple(policy::http_api_simple_answer(decision.refusal.is_none(), context))
            }
            HttpApiResponse::IamPolicy => HttpApiAnswer::IamPolicy(policy::http_api_policy_answer(
                decision.caller.as_ref(),
                decision.statements(&event),
                context,
            )),
        })
    }

    /// Answers an authorizer event of any kind, as the JSON API Gateway sends
    /// it: `version` and `type` say which, and the event is then read as
    /// [`token`](LambdaAuthorizer::token), [`request`](LambdaAuthorizer::request)
    /// or [`http_api`](LambdaAuthorizer::http_api) read theirs.
    ///
    /// Errors: [`AuthorizerError::Unauthorized`] for a missing (where needed),
    /// invalid or expired credential, or one whose principal id is empty (an
    /// empty `principalId` means "anonymous"); [`AuthorizerError::InvalidEvent`] for an
    /// event API Gateway would not send (no `methodArn`, an unknown `type`,
    /// headers that are not strings, ...); [`AuthorizerError::KeysUnavailable`].
    /// Never an `Allow` for any of these.
    pub async fn handle(&self, event: Value) -> Result<AuthorizerAnswer, AuthorizerError> {
        match AnyEvent::from_json(event)? {
            AnyEvent::Token(event) => self.token(event).await.map(AuthorizerAnswer::Rest),
            AnyEvent::Request(event) => self.request(*event).await.map(AuthorizerAnswer::Rest),
            AnyEvent::HttpApi(event) => self.http_api(*event).await.map(AuthorizerAnswer::HttpApi),
        }
    }

    /// Runs the authorizer on the Lambda runtime until the process ends,
    /// answering every event with [`handle`](LambdaAuthorizer::handle).
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

    async fn rest(
        &self,
        event: &Event,
    ) -> Result<ApiGatewayCustomAuthorizerResponse<Map<String, Value>>, AuthorizerError> {
        let decision = self.decide(event).await?;
        let context = policy::context(decision.caller.as_ref(), decision.refusal.as_deref());
        Ok(policy::rest_answer(
            decision.caller.as_ref(),
            decision.statements(event),
            context,
        ))
    }

    /// The caller and the route's verdict on it, its rule judged once.
    async fn decide(&self, event: &Event) -> Result<Decision<'_>, AuthorizerError> {
        let route = &event.arn.full;
        let caller = match self.authenticate(event).await {
            Ok(caller) => caller,
            Err(Error::KeysUnavailable) => {
                tracing::error!("Lambda authorizer: signing keys are unavailable");
                return Err(AuthorizerError::KeysUnavailable);
            }
            Err(Error::SessionStoreUnavailable) => {
                tracing::error!("Lambda authorizer: the session store is unavailable");
                return Err(AuthorizerError::SessionStoreUnavailable);
            }
            Err(error @ Error::CsrfRejected) => {
                tracing::debug!(%error, %route, "Lambda authorizer: Deny");
                return Ok(Decision {
                    caller: None,
                    refusal: Some(self.body(error)),
                    reach: Reach::ThisArn,
                });
            }
            Err(error) => {
                tracing::debug!(%error, %route, "Lambda authorizer: Unauthorized");
                return Err(AuthorizerError::Unauthorized);
            }
        };
        let (method, path) = event.arn.route();
        let matched = self.routes.route_for(method, path);
        let rule = matched.map_or(self.routes.fallback_rule(), |route| &route.rule);
        let refusal = match rule.check(caller.as_ref()) {
            Verdict::Allowed => {
                telemetry::decision(Stage::Authorize, Ok(caller.as_ref()));
                None
            }
            Verdict::Unauthenticated => {
                telemetry::decision(Stage::Authorize, Err(&Error::MissingCredential));
                tracing::debug!(%route, "Lambda authorizer: no credential, Unauthorized");
                return Err(AuthorizerError::Unauthorized);
            }
            Verdict::WrongScheme => {
                telemetry::decision(Stage::Authorize, Err(&Error::InvalidToken(InvalidToken::Scheme)));
                tracing::debug!(%route, "Lambda authorizer: scheme not allowed on this route, Unauthorized");
                return Err(AuthorizerError::Unauthorized);
            }
            Verdict::Denied(denied) => {
                let error = Error::Forbidden(denied);
                telemetry::decision(Stage::Authorize, Err(&error));
                Some(self.body(error))
            }
        };
        // The principal id is a claim value (`sub`): never logged.
        tracing::debug!(%route, allowed = refusal.is_none(), "Lambda authorizer decision");
        let reach = match self.resource {
            // A WebSocket API runs its authorizer on `$connect` alone: the
            // answer is about that one ARN, and only replayed for it.
            _ if event.arn.is_connect() => Reach::ThisArn,
            PolicyResource::Api => Reach::Api {
                routes: &self.routes,
                matched,
            },
            PolicyResource::MethodArn => Reach::ThisArn,
        };
        Ok(Decision { caller, refusal, reach })
    }

    /// The caller: `Ok(None)` when the event carries no credential.
    async fn authenticate(&self, event: &Event) -> Result<Option<Principal>, Error> {
        // `$connect` reaches the credential rules as a method of its own: not
        // a safe one, so a cookie session needs proof that it is not cross-site.
        // The URL the client used (a DPoP proof's `htu`): https, the event's
        // domain (else its `Host` header), the path with the stage.
        let (method, path) = event.arn.route();
        let parts = RequestParts::new(&event.arn.method, &event.target, &event.headers)
            .with_origin(Some("https"), event.domain.as_deref())
            .with_route(method, path);
        let parts = match &event.client_certificate {
            Some(der) => parts.with_client_certificate(der),
            None => parts,
        };
        let found = self
            .auth
            .authenticate(&parts, Mode::Optional)
            .await
            .into_result()
            .map_err(Rejection::into_error)?;
        if found.is_some() {
            return Ok(found);
        }
        // A TOKEN event's value may be a bare token from a header of its own.
        match event.headers.token().map(str::trim) {
            Some(token) if !token.is_empty() && !token.contains(char::is_whitespace) => {
                let outcome = self.auth.authenticate_token(token, Source::Header).await;
                outcome.into_result().map_err(Rejection::into_error)
            }
            _ => Ok(None),
        }
    }

    /// The JSON error body of a refusal, in the configured style.
    fn body(&self, error: Error) -> String {
        self.auth.renderer().render(&error).body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics() {
        let d = lambda_runtime::Diagnostic::from(AuthorizerError::Unauthorized);
        assert_eq!(
            (d.error_type.as_str(), d.error_message.as_str()),
            ("Unauthorized", "Unauthorized")
        );
    }
}
