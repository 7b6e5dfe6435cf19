//! AWS Lambda: behind API Gateway, and as the Lambda authorizer (feature `lambda`).
//!
//! Two jobs, one configuration (an [`Authenticator`](crate::Authenticator) and
//! per-route [`Requirement`](crate::require::Requirement)s):
//!
//! - **Behind API Gateway**, a `lambda_http` function reads the [`Principal`](crate::Principal) the
//!   gateway's authorizer established ([`gateway_only`], [`gateway_or_verify`])
//!   instead of verifying a token, then runs the same per-route requirements
//!   ([`RequireLayer`](crate::tower::RequireLayer)), answering exactly as it would
//!   without the gateway. The gateway checks signatures and `exp`; it cannot check
//!   SuperTokens' `st-ev`, `st-role`, `st-mfa` or scopes per route: the backend does.
//! - **As the Lambda authorizer**, [`LambdaAuthorizer`] answers API Gateway's
//!   authorizer events with an IAM policy (or an HTTP API simple answer), using a
//!   [`RouteTable`](crate::routes::RouteTable) of the same requirements. Events and answers are the
//!   `aws_lambda_events` types.
//!
//! # Behind API Gateway
//!
//! ```no_run
//! use authorizer::lambda;
//! use authorizer::require::supertokens;
//! use authorizer::tower::{AuthLayer, RequireLayer};
//! use authorizer::{Issuer, Principal, Verifier};
//! use axum::{Extension, Router, routing::get};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_http::Error> {
//!     let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
//!     let app = Router::new()
//!         .route("/me", get(|Extension(p): Extension<Principal>| async move { p.id().to_owned() }))
//!         .route(
//!             "/verified",
//!             get(|| async { "verified" }).route_layer(RequireLayer::new(supertokens::email_verified())),
//!         )
//!         // The gateway's principal when there is one; otherwise the token is verified here.
//!         .layer(AuthLayer::required(lambda::gateway_or_verify(verifier)));
//!     lambda_http::run(app).await
//! }
//! ```
//!
//! [`principal_from_request_context`] lists where each authorizer leaves the
//! caller and what [`Principal::source`](crate::Principal::source) then says,
//! and how the HTTP API JWT, REST API JWT and Cognito authorizers differ;
//! [`principal_from_websocket_event`] reads the caller on a WebSocket API's routes.
//! [`gateway_only`] trusts only the gateway (401 without an authorizer context);
//! [`gateway_or_verify`] falls back to verifying the credential itself, so the
//! same binary works deployed, under `cargo lambda watch`, and in tests. Both
//! are [`Authenticator`](crate::Authenticator)s, the pipeline with API
//! Gateway's authorizer context as its [`Upstream`](crate::pipeline::Upstream)
//! source ([`Gateway`]), for an [`AuthLayer`](crate::tower::AuthLayer) in
//! `required` or `optional` mode.
//!
//! ## What flattened claims lose
//!
//! The HTTP API JWT authorizer (`requestContext.authorizer.jwt.claims`) and the
//! REST Cognito authorizer (`requestContext.authorizer.claims`) hand every claim
//! on as a string: numbers as `"1700000000"`, booleans as `"true"`, arrays as
//! `"[a b]"`, objects as JSON text or Go's `map[k:v]`. A string `"42"` and a
//! number `42` arrive alike, so [`parse_flattened_claims`] turns a value back into
//! a number, boolean, array or object **only where the claim's type is known**
//! (a REST API's JWT authorizer keeps every claim's JSON type, and its claims
//! are read as they are):
//!
//! | claims | parsed back to | from |
//! | --- | --- | --- |
//! | `exp`, `iat`, `nbf`, `auth_time`, `updated_at` | a number | `"1700000000"`, `"1.7e+09"`, and the REST Cognito form `"Fri Jul 29 18:52:53 UTC 2016"` (UTC/GMT only) |
//! | `email_verified`, `phone_number_verified` | a boolean | `"true"`, `"false"` |
//! | `aud`, `amr`, `scp`, `groups`, `roles`, `cognito:groups`, `cognito:roles` | an array of strings, or the string | `"[a b]"`, `["a","b"]`; anything else stays a string |
//! | `st-ev`, `st-mfa` | `{"v": bool, "t": number}` (`st-mfa` also `"c": {factor: number}`) | JSON text, or `map[t:1700000000000 v:true]` |
//! | `st-role`, `st-perm` | `{"v": [string], "t": number}` | JSON text, or `map[t:1700000000000 v:[admin user]]` |
//! | any other claim | an object, when the text is a JSON object | `{"tier":"gold"}` |
//!
//! Exactly what is lost:
//!
//! - **Types of other claims.** A number, boolean or array in a claim not listed
//!   above stays a string (`"42"`, `"true"`, `"[a b]"`), and an object the
//!   gateway wrote as `map[...]` stays that text. Requirements on such claims
//!   compare strings: `claim("tier").eq("3")`, not `eq(3)`.
//! - **Strings that look typed.** A string claim whose text is a JSON object
//!   becomes that object; a listed numeric or boolean claim holding the string
//!   `"1"` or `"true"` becomes a number or boolean.
//! - **Array items with spaces.** `"[a b]"` cannot tell `["a b"]` from
//!   `["a", "b"]`: items are split on spaces. Items are always strings.
//! - **Unparsable values stay whole.** A listed claim whose text does not parse
//!   exactly (a role name with a space, `]` or `:` in Go's `map[...]` form, an
//!   unexpected type inside) is kept as the original string, so a requirement on
//!   it fails (403) instead of passing on a guess.
//! - **Number precision** is whatever the gateway printed; `null` values arrive as
//!   whatever text the gateway used for them.
//!
//! Scopes come from `jwt.scopes` when the gateway gives them, else from the
//! `scope`/`scp` claims. The principal id is `sub`; the context is every claim
//! whose parsed value is a string, number or boolean. A Lambda authorizer
//! (below) loses none of this: it hands on every claim as JSON text.
//!
//! # The Lambda authorizer
//!
//! [`LambdaAuthorizer`] takes REST `TOKEN` events (`authorizationToken`:
//! `Bearer <jwt>`, or a bare token), REST and WebSocket `REQUEST` events (the
//! credential read from the headers and query parameters by the
//! [`Credentials`](crate::credential::Credentials) rules: `Authorization:
//! Bearer`, `st-access-token`, `Cookie: sAccessToken=...`, with the CSRF rule
//! for cookies on unsafe methods, and a query parameter where
//! [`Location::Query`](crate::credential::Location::Query) is configured) and
//! HTTP API payload 2.0 events (the same, with the `cookies` array and the
//! `rawQueryString`):
//!
//! - [`token`](LambdaAuthorizer::token), [`request`](LambdaAuthorizer::request)
//!   and [`http_api`](LambdaAuthorizer::http_api) take the `aws_lambda_events`
//!   event (`ApiGatewayCustomAuthorizerRequest`,
//!   `ApiGatewayCustomAuthorizerRequestTypeRequest`,
//!   `ApiGatewayV2CustomAuthorizerV2Request`) and return its answer
//!   (`ApiGatewayCustomAuthorizerResponse`, or an [`HttpApiAnswer`]: simple or
//!   IAM policy), for a `lambda_runtime` function of your own;
//! - [`handle`](LambdaAuthorizer::handle) takes any of them as JSON, tells them
//!   apart by `version` and `type`, and returns an [`AuthorizerAnswer`];
//!   [`run`](LambdaAuthorizer::run) is a Lambda function that does only that;
//! - a `LambdaAuthorizer` is a `tower::Service<LambdaEvent<E>>` for each of
//!   those event types `E` and for `serde_json::Value`.
//!
//! Events are read strictly: an event without its `type`, `methodArn` or
//! `routeArn`, with an ARN that is not a concrete execute-api ARN, with
//! headers, cookies or query parameters that are not strings, or with more of
//! them than a request can carry (1,000 values, a 16 KiB query) is refused,
//! never answered.
//!
//! The query reaches the credential rules as the query of the request target
//! (the ARN's path, then `?`): REST and WebSocket events give the parameters
//! decoded (`multiValueQueryStringParameters`, or `queryStringParameters` when
//! that is empty), and they are percent-encoded again, so the value read is the
//! value the event held; payload 2.0 events give `rawQueryString` as the
//! client sent it. Routes are still matched on the ARN's method and path.
//!
//! The answers:
//!
//! | case | REST (and HTTP API IAM policy) | HTTP API simple |
//! | --- | --- | --- |
//! | valid credential, route's rule met | `Allow`, `principalId` = [`Principal::id`](crate::Principal::id), `context` = [`authorizer_context`] | `isAuthorized: true`, `context` + `principalId` |
//! | no credential on an optional route | `Allow`, `principalId: ""`, empty context | `isAuthorized: true`, empty context |
//! | no credential where one is needed; invalid or expired credential | error `Unauthorized` (the gateway's 401) | the same |
//! | rule not met (or a cookie without anti-CSRF proof) | `Deny`, `context.body` = the JSON error body | `isAuthorized: false`, `context.body` |
//! | keys unavailable, or an event the gateway would not send | an error (the gateway's 500) | the same |
//!
//! `context.body` is the body this crate answers 403 with elsewhere (SuperTokens'
//! `{"message":"invalid claim","claimValidationErrors":[...]}` by default). A REST
//! API sends it as the 403 body with a gateway response for `ACCESS_DENIED`
//! whose template is `$context.authorizer.body`. HTTP APIs cannot customise the
//! 403 of an authorizer.
//!
//! [`policy_allows`] tells whether an IAM-policy answer lets a given ARN
//! through, as API Gateway evaluates it.
//!
//! The context holds the principal's flat context (strings, numbers and booleans:
//! API Gateway refuses anything else) and every claim as one JSON string under
//! [`CLAIMS_KEY`] (`claims`). [`principal_from_request_context`] rebuilds the
//! whole principal from it in the backend: id, claims, scopes and context are
//! those the authorizer had (context keys in [`RESERVED_KEYS`] excepted).
//!
//! ## Routes
//!
//! One authorizer serves many routes, so it takes a
//! [`RouteTable`](crate::routes::RouteTable), the [route table](crate::routes)
//! that [`RequireLayer::routes`](crate::tower::RequireLayer::routes) also
//! takes: `METHOD /path` patterns (as API Gateway writes resources and routes)
//! to [`RouteRule`](crate::routes::RouteRule)s, matched against the method and
//! path of the event's `methodArn` (REST) or `routeArn` (HTTP API). Paths no
//! pattern matches get the table's fallback rule, by default a valid session.
//! A rule's [`check`](crate::routes::RouteRule::check) is its
//! [`Verdict`](crate::routes::Verdict) on a caller, with the reasons
//! of a refusal: the one evaluation a `Deny` and its `context.body` come from.
//!
//! ## WebSocket APIs
//!
//! A WebSocket API runs its authorizer on `$connect` only, with a `REQUEST`
//! event whose `methodArn` names no method or path
//! (`arn:aws:execute-api:{region}:{account}:{api}/{stage}/$connect`):
//!
//! - In the route table, `$connect` is `GET /$connect` (the opening handshake
//!   is a `GET`, and `$connect` its route key), so `GET /$connect` and
//!   `ANY /$connect` name it; without such a route the fallback applies.
//! - The credential rules see the method `$connect`, which is not a safe
//!   method: a cookie session needs an allowed `Origin` (or `rid`), as browsers
//!   send cookies with a handshake from any site. Browsers cannot set headers on
//!   a WebSocket, so a token usually comes as a query parameter
//!   (`wss://...?token=...`), read where [`Location::Query`](crate::credential::Location::Query)
//!   is configured, or as a protocol after a marker
//!   ([`Location::WebSocketProtocol`](crate::credential::Location::WebSocketProtocol);
//!   the `$connect` integration then answers with the marker as
//!   `Sec-WebSocket-Protocol`). Either must be the request's only credential.
//! - The answer's policy names that `$connect` ARN only, whatever the
//!   [`PolicyResource`]: no other route of a WebSocket API asks an authorizer.
//!
//! API Gateway keeps the answer for the connection's life and hands it to
//! every route's integration in `requestContext.authorizer`, where
//! [`principal_from_websocket_event`] reads it. The connection outlives the
//! token: where that matters, compare [`Principal::expires_at`](crate::Principal::expires_at)
//! with the time on each message.
//!
//! ## Caching
//!
//! API Gateway caches an authorizer's answer per identity source (the token
//! header, or the headers and other sources a `REQUEST` authorizer names) for the
//! configured TTL (REST default 300 s, at most 3600 s), and during that time it
//! applies the cached answer to **every route** that uses the authorizer, without
//! calling it. A policy scoped to one `methodArn` then refuses the caller's next
//! route; a blanket `Allow` would let a caller into routes whose requirements it
//! fails.
//!
//! So by default ([`PolicyResource::Api`]) an answer is written to be right for
//! every route, whichever one it is replayed for:
//!
//! - `Allow` on `arn:...:apiId/stage/*/*` when the caller passes the fallback
//!   rule (any valid session, by default);
//! - an explicit `Deny` on every route of the table whose rule the caller fails
//!   (IAM lets a `Deny` win over any `Allow`), with `{param}` segments written as
//!   `*` and an `ANY` route written once per method (a `*` method would match
//!   across `/` into other paths: `*/me` covers `GET/x/me`);
//! - the event's own `methodArn` with the decision for it.
//!
//! `*` in IAM matches across `/`, so a `Deny` for `/items/{id}/admin` also
//! covers `/items/a/b/admin`: a cached answer may refuse more than the table
//! would (never less). When the caller fails the fallback rule (an anonymous
//! caller, or a fallback of [`RouteRule::deny`](crate::routes::RouteRule::deny)), only routes without `{param}`
//! segments and the current `methodArn` are allowed, because an `Allow` with `*`
//! could reach paths the fallback refuses; a cached answer then refuses the
//! caller's other parameterised routes until it expires. If an answer that is
//! right for every route cannot be written (another route's `Deny` pattern
//! covers this `Allow`ed one), the answer covers this `methodArn` only.
//!
//! What caching still cannot do:
//!
//! - `context.body` of a cached `Deny` describes the route that was evaluated
//!   when it was cached, not necessarily the route it is replayed for.
//! - An HTTP API **simple** answer names no route: with caching on it is replayed
//!   for every route. When routes have different rules, add `$context.routeKey` to
//!   the authorizer's identity sources (the cache is then per route), turn
//!   caching off (TTL 0), or answer with IAM policies ([`HttpApiResponse::IamPolicy`]).
//! - With [`PolicyResource::MethodArn`], turn caching off, or add
//!   `context.resourcePath` and `context.httpMethod` (REST `REQUEST`
//!   authorizers) to the identity sources.
//! - The anti-CSRF check of cookie credentials depends on the `Origin` and `rid`
//!   headers of each request, so a policy for a cookie session names the one
//!   `methodArn` (a cached `GET` answer never admits a cross-site `POST`; it
//!   refuses the caller's other routes until it expires): with cookie sessions,
//!   turn caching off or add `context.resourcePath` and `context.httpMethod` to
//!   the identity sources. HTTP API simple answers cannot be scoped this way.
//! - A token's answer stays cached after the token expires, up to the TTL:
//!   keep the TTL short compared with your tokens' lifetime.
//! - A token's answer stays cached after it is **revoked**, up to the TTL:
//!   the authorizer runs the [session check](crate::session) (as does a
//!   function behind the gateway, [`gateway_or_verify`]), but API Gateway does
//!   not call it while an answer is cached. The TTL is the longest a
//!   revocation can take to bite: 0 where logout must be immediate (every
//!   request calls the authorizer, which asks its local answer cache or the
//!   store), else a few seconds to a minute. A store failure under fail
//!   closed is the error `SessionStoreUnavailable`, which API Gateway answers
//!   with 500 and does not cache. A frozen Lambda hears revocation events
//!   late: keep [`SessionCheck::recheck_interval`](crate::session::SessionCheck::recheck_interval)
//!   short (or zero) there.

mod answer;
mod authorizer;
mod claims;
mod context;
mod event;
mod gateway;
mod policy;
mod query;
mod service;

pub use answer::{AuthorizerAnswer, HttpApiAnswer};
pub use authorizer::{AuthorizerError, HttpApiResponse, LambdaAuthorizer, PolicyResource};
pub use context::{
    BODY_KEY, CLAIMS_KEY, PRINCIPAL_ID_KEY, RESERVED_KEYS, authorizer_context, principal_from_authorizer_context,
};
pub use gateway::{
    Gateway, gateway_only, gateway_or_verify, principal_from_extensions, principal_from_request_context,
    principal_from_websocket_event,
};
pub use policy::policy_allows;
pub use service::AuthorizerFuture;

use serde_json::{Map, Value};

/// Claims that API Gateway flattened to strings (HTTP API JWT authorizer,
/// REST Cognito authorizer), parsed back where the claim's type is known: see
/// [what flattened claims lose](self#what-flattened-claims-lose). Values that are
/// not strings are kept as they are.
///
/// ```
/// use serde_json::{Value, json};
///
/// let flat = json!({
///     "sub": "user-1",
///     "exp": "1700000000",
///     "cognito:groups": "[admin staff]",
///     "st-ev": "map[t:1700000000000 v:true]",
///     "tier": "3",
/// });
/// let claims = authorizer::lambda::parse_flattened_claims(flat.as_object().unwrap());
/// assert_eq!(Value::Object(claims), json!({
///     "sub": "user-1",
///     "exp": 1700000000,
///     "cognito:groups": ["admin", "staff"],
///     "st-ev": {"t": 1700000000000i64, "v": true},
///     "tier": "3",
/// }));
/// ```
pub fn parse_flattened_claims<'a>(claims: impl IntoIterator<Item = (&'a String, &'a Value)>) -> Map<String, Value> {
    claims::parse_claims(claims)
}
