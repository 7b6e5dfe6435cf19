//! Behind API Gateway: the [`Principal`] from `lambda_http`'s request context.

use aws_lambda_events::apigw::{
    ApiGatewayProxyRequestContext, ApiGatewayRequestAuthorizerIamDescription,
    ApiGatewayRequestAuthorizerJwtDescription, ApiGatewayRequestIdentity, ApiGatewayV2httpRequestContext,
    ApiGatewayWebsocketProxyRequest,
};
use lambda_http::request::RequestContext;
use serde_json::{Map, Value};

use super::claims::{parse_claims, parse_text};
use super::context::{INTEGRATION_LATENCY_KEY, principal_from_authorizer_context};
use crate::Authenticator;
use crate::error::{Error, InvalidToken};
use crate::pipeline::Upstream;
use crate::principal::{Principal, PrincipalMapping, Source, push_unique};

/// API Gateway's authorizer context as the pipeline's [`Upstream`] source: the
/// principal an authorizer (JWT, Lambda, Cognito or IAM) established, read from
/// the `lambda_http` [`RequestContext`] in the request extensions (see
/// [`principal_from_request_context`]).
///
/// ```
/// use authorizer::lambda::Gateway;
/// use authorizer::tower::AuthLayer;
/// use authorizer::{Authenticator, Issuer, Verifier};
///
/// # fn main() -> Result<(), authorizer::ConfigError> {
/// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// // The same as `lambda::gateway_or_verify(verifier)`.
/// let layer = AuthLayer::required(Authenticator::new(verifier).upstream(Gateway));
/// # let _ = layer;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Gateway;

impl Upstream for Gateway {
    fn principal(&self, extensions: &http::Extensions, mapping: &PrincipalMapping) -> Option<Result<Principal, Error>> {
        from_request_context(extensions.get::<RequestContext>()?, mapping)
    }

    /// An HTTP API's mutual TLS: `requestContext.authentication.clientCert`.
    /// (A REST API's `requestContext.identity.clientCert` is not in the
    /// typed event `lambda_http` hands over; put a Lambda authorizer in
    /// front of a REST API with mTLS, which reads it.)
    fn client_certificate(&self, extensions: &http::Extensions) -> Option<Vec<u8>> {
        let RequestContext::ApiGatewayV2(context) = extensions.get::<RequestContext>()? else {
            return None;
        };
        let pem = context
            .authentication
            .as_ref()?
            .client_cert
            .as_ref()?
            .client_cert_pem
            .as_deref()?;
        crate::binding::der_from_pem(pem)
    }
}

/// An [`Authenticator`] for a function behind API Gateway: the principal is
/// read from the authorizer context, and nothing is verified here. Put it in
/// an [`AuthLayer`](crate::tower::AuthLayer): `required` refuses a request
/// without an authorizer context (401), `optional` lets it pass anonymously
/// (as it does an anonymous Lambda authorizer answer, an empty `principalId`).
/// A malformed context is refused in both.
///
/// Use it only where API Gateway runs an authorizer for every route the
/// function serves. For a function that may also run without the gateway, use
/// [`gateway_or_verify`].
pub fn gateway_only() -> Authenticator {
    Authenticator::upstream_only(Gateway)
}

/// The authorizer context first; without one, the credential is verified here
/// by `auth`.
///
/// The same binary then works deployed behind API Gateway (the gateway's
/// principal is used, no token is verified twice) and anywhere else: `cargo
/// lambda watch`, a Lambda function URL, a route the gateway does not protect,
/// or a plain server in tests. Claims the gateway verified become a principal
/// by `auth`'s [`PrincipalMapping`], as they would when verified here.
pub fn gateway_or_verify(auth: impl Into<Authenticator>) -> Authenticator {
    auth.into().upstream(Gateway)
}

/// The principal API Gateway established for a `lambda_http` request, read from
/// the [`RequestContext`] in its extensions: `None` when there is no context or
/// no authorizer in it. Claims become a principal by the default
/// [`PrincipalMapping`]; [`gateway_or_verify`] uses its verifier's.
pub fn principal_from_extensions(extensions: &http::Extensions) -> Option<Result<Principal, Error>> {
    Gateway.principal(extensions, PrincipalMapping::shared_default())
}

/// The principal in an API Gateway request context, by the authorizer that made it:
///
/// | event | authorizer | principal | [`Principal::source`] |
/// | --- | --- | --- | --- |
/// | REST (v1) | Lambda: `requestContext.authorizer` with `principalId` and a flat context | see [`principal_from_authorizer_context`] | [`Source::GatewayLambda`] |
/// | REST (v1) | JWT: `requestContext.authorizer.claims`, values of every JSON type | id from `sub`; claims as delivered; scopes from `scope`/`scp` | [`Source::GatewayRestJwt`] |
/// | REST (v1) | Cognito user pool: `requestContext.authorizer.claims`, strings only | id from `sub`; claims parsed back (see [`parse_flattened_claims`](super::parse_flattened_claims)) | [`Source::GatewayCognito`] |
/// | HTTP API (v2) | JWT: `requestContext.authorizer.jwt.claims` and `.scopes` | id from `sub`; claims parsed back; scopes from `.scopes`, else from `scope`/`scp` | [`Source::GatewayJwt`] |
/// | HTTP API (v2) | Lambda: `requestContext.authorizer.lambda` | see [`principal_from_authorizer_context`] | [`Source::GatewayLambda`] |
/// | REST (v1) | IAM: `requestContext.identity.userArn` and ids | id is the caller's ARN | [`Source::GatewayIam`] |
/// | HTTP API (v2) | IAM: `requestContext.authorizer.iam` | id is the caller's ARN | [`Source::GatewayIam`] |
///
/// WebSocket events are read by [`principal_from_websocket_event`].
///
/// The three JWT-based authorizers hand the same token's claims on differently:
///
/// | | HTTP API JWT | REST API JWT | REST API Cognito user pool |
/// | --- | --- | --- | --- |
/// | where | `authorizer.jwt.claims` | `authorizer.claims` | `authorizer.claims` |
/// | numbers, booleans | text: `"1700000000"`, `"true"` | as in the token: `1700000000`, `true` | text; `exp`, `iat` as `"Tue Nov 14 23:13:20 UTC 2023"` |
/// | arrays | text: `"[a b]"` | as in the token: `["a","b"]` | text: `"[a b]"` |
/// | objects | JSON text, or Go's `map[k:v]` | as in the token (only top-level claims are named) | text |
/// | scopes | `authorizer.jwt.scopes`, else `scope`/`scp` | `scope`/`scp` | `scope` (access tokens) |
/// | read here | parsed back where the type is known | kept as delivered | parsed back where the type is known |
///
/// A REST API's JWT authorizer and its Cognito user-pool authorizer fill the
/// same member, and nothing else in the event tells them apart. So the values
/// decide: a `claims` object holding any value that is not a string (a JWT
/// authorizer passes `exp` as a number) is the JWT authorizer's, read with its
/// types as they are; one of strings only is the Cognito authorizer's, parsed
/// back. A token of string claims only behind a REST JWT authorizer is then
/// read as Cognito's: where its claims' types are known they are parsed back,
/// and the source says [`Source::GatewayCognito`].
///
/// JWT and Cognito claims (after parsing) become a principal as verified claims
/// do, by the [`PrincipalMapping`]: the default one here, the verifier's under
/// [`gateway_or_verify`]. The id claim must be a non-empty string. For IAM principals the claims are
/// `userArn`, `accountId`, `callerId`, `userId`, `accessKey`, `principalOrgId`,
/// `cognitoIdentityId`, `cognitoIdentityPoolId`, (REST) `cognitoAuthenticationType`
/// and (v2) `cognitoAmr`, where present (a Cognito identity pool's guests are
/// `unauthenticated` there: refuse them with a requirement if they may not call).
///
/// `None`: no authorizer ran (or an anonymous Lambda authorizer answer), or the
/// request did not come through API Gateway (ALB, ...). `Some(Err)`:
/// an authorizer context that cannot be read (a logged warning; a 401 for the client).
pub fn principal_from_request_context(context: &RequestContext) -> Option<Result<Principal, Error>> {
    from_request_context(context, &PrincipalMapping::default())
}

/// The principal a WebSocket API's Lambda authorizer established, read from
/// the event a WebSocket route's Lambda integration receives (`$connect`,
/// `$default`, `$disconnect` and custom routes alike).
///
/// API Gateway runs the authorizer once, on `$connect`, and hands its answer
/// (`principalId` and `context`) to every route of the connection in
/// `requestContext.authorizer`, which is read as
/// [`principal_from_authorizer_context`] reads a REST context: with
/// [`LambdaAuthorizer`](super::LambdaAuthorizer) as the authorizer, id, claims,
/// scopes and context are those it had, and the source is
/// [`Source::GatewayLambda`].
///
/// `None`: no authorizer ran on `$connect` (an authorizer context holding only
/// `integrationLatency` counts as none), or it answered for an anonymous
/// caller (an empty `principalId`). `Some(Err)`: an authorizer context that
/// cannot be read (a logged warning): refuse the message.
///
/// ```
/// use authorizer::lambda::principal_from_websocket_event;
/// use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
///
/// fn on_message(event: &ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
///     let mut response = ApiGatewayProxyResponse::default();
///     match principal_from_websocket_event(event) {
///         Some(Ok(caller)) => {
///             response.status_code = 200;
///             response.body = Some(format!("hello, {}", caller.id()).into());
///         }
///         // No authorizer on `$connect`, an anonymous caller, or a malformed context.
///         None | Some(Err(_)) => response.status_code = 401,
///     }
///     response
/// }
///
/// let event: ApiGatewayWebsocketProxyRequest = serde_json::from_value(serde_json::json!({
///     "requestContext": {
///         "routeKey": "$default",
///         "eventType": "MESSAGE",
///         "connectionId": "L0SM9cOFvHcCIhw=",
///         "connectedAt": 1700000000000i64,
///         "requestTimeEpoch": 1700000001000i64,
///         "authorizer": {"principalId": "user-1", "integrationLatency": 21}
///     },
///     "body": "hello"
/// }))?;
/// assert_eq!(on_message(&event).status_code, 200);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn principal_from_websocket_event(event: &ApiGatewayWebsocketProxyRequest) -> Option<Result<Principal, Error>> {
    let fields = &event.request_context.authorizer.fields;
    if fields.keys().all(|key| key == INTEGRATION_LATENCY_KEY) {
        return None;
    }
    principal_from_authorizer_context(fields).transpose()
}

fn from_request_context(context: &RequestContext, mapping: &PrincipalMapping) -> Option<Result<Principal, Error>> {
    #[allow(unreachable_patterns)]
    match context {
        RequestContext::ApiGatewayV1(context) => rest(context, mapping),
        RequestContext::ApiGatewayV2(context) => http_api(context, mapping),
        _ => None,
    }
}

fn rest(context: &ApiGatewayProxyRequestContext, mapping: &PrincipalMapping) -> Option<Result<Principal, Error>> {
    let fields = &context.authorizer.fields;
    if fields.keys().any(|key| key != INTEGRATION_LATENCY_KEY) {
        // JWT and Cognito claims are an object; a Lambda authorizer's context
        // holds only scalars, this crate's claims under the same key as JSON text.
        if let Some(Value::Object(claims)) = fields.get("claims") {
            return Some(rest_claims(claims, mapping));
        }
        return principal_from_authorizer_context(fields).transpose();
    }
    rest_iam(&context.identity, mapping)
}

fn http_api(context: &ApiGatewayV2httpRequestContext, mapping: &PrincipalMapping) -> Option<Result<Principal, Error>> {
    let authorizer = context.authorizer.as_ref()?;
    if let Some(jwt) = &authorizer.jwt {
        return Some(jwt_principal(jwt, mapping));
    }
    if !authorizer.fields.is_empty() {
        return principal_from_authorizer_context(&authorizer.fields).transpose();
    }
    authorizer.iam.as_ref().and_then(|iam| http_iam(iam, mapping))
}

fn jwt_principal(
    jwt: &ApiGatewayRequestAuthorizerJwtDescription,
    mapping: &PrincipalMapping,
) -> Result<Principal, Error> {
    let claims = jwt
        .claims
        .iter()
        .map(|(name, text)| (name.clone(), parse_text(name, text)))
        .collect();
    let principal = from_claims(claims, Source::GatewayJwt, mapping)?;
    match &jwt.scopes {
        Some(scopes) if !scopes.is_empty() => {
            let mut unique: Vec<String> = Vec::with_capacity(scopes.len());
            scopes.iter().for_each(|scope| push_unique(&mut unique, scope));
            Ok(principal.with_scopes(unique))
        }
        _ => Ok(principal),
    }
}

/// A REST API's JWT authorizer keeps each claim's JSON type; its Cognito
/// user-pool authorizer hands every claim on as a string.
fn rest_claims(claims: &Map<String, Value>, mapping: &PrincipalMapping) -> Result<Principal, Error> {
    if claims.values().all(Value::is_string) {
        from_claims(parse_claims(claims), Source::GatewayCognito, mapping)
    } else {
        from_claims(claims.clone(), Source::GatewayRestJwt, mapping)
    }
}

fn from_claims(claims: Map<String, Value>, source: Source, mapping: &PrincipalMapping) -> Result<Principal, Error> {
    mapping
        .principal(claims, source)
        .ok_or_else(|| malformed("the gateway's claims have no id claim"))
}

fn rest_iam(identity: &ApiGatewayRequestIdentity, mapping: &PrincipalMapping) -> Option<Result<Principal, Error>> {
    let arn = identity.user_arn.as_deref().filter(|arn| !arn.is_empty())?;
    let fields = [
        ("userArn", Some(arn)),
        ("accountId", identity.account_id.as_deref()),
        ("callerId", identity.caller.as_deref()),
        ("userId", identity.user.as_deref()),
        ("accessKey", identity.access_key.as_deref()),
        ("cognitoIdentityId", identity.cognito_identity_id.as_deref()),
        ("cognitoIdentityPoolId", identity.cognito_identity_pool_id.as_deref()),
        // `unauthenticated` for an identity pool's guests: a requirement can refuse them.
        (
            "cognitoAuthenticationType",
            identity.cognito_authentication_type.as_deref(),
        ),
    ];
    Some(Ok(iam_principal(arn, fields, None, mapping)))
}

fn http_iam(
    iam: &ApiGatewayRequestAuthorizerIamDescription,
    mapping: &PrincipalMapping,
) -> Option<Result<Principal, Error>> {
    let arn = iam.user_arn.as_deref().filter(|arn| !arn.is_empty())?;
    let cognito = iam.cognito_identity.as_ref();
    let fields = [
        ("userArn", Some(arn)),
        ("accountId", iam.account_id.as_deref()),
        ("callerId", iam.caller_id.as_deref()),
        ("userId", iam.user_id.as_deref()),
        ("accessKey", iam.access_key.as_deref()),
        ("principalOrgId", iam.principal_org_id.as_deref()),
        ("cognitoIdentityId", cognito.and_then(|c| c.identity_id.as_deref())),
        (
            "cognitoIdentityPoolId",
            cognito.and_then(|c| c.identity_pool_id.as_deref()),
        ),
    ];
    let amr = cognito.map(|c| Value::from(c.amr.clone()));
    Some(Ok(iam_principal(arn, fields, amr, mapping)))
}

fn iam_principal<'a>(
    arn: &str,
    fields: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    amr: Option<Value>,
    mapping: &PrincipalMapping,
) -> Principal {
    let mut claims: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(name, value)| {
            value
                .filter(|v| !v.is_empty())
                .map(|v| (name.to_owned(), Value::from(v)))
        })
        .collect();
    if let Some(amr) = amr {
        claims.insert("cognitoAmr".to_owned(), amr);
    }
    let context = mapping.context_of(&claims);
    Principal::new(arn, Source::GatewayIam)
        .with_claims(claims)
        .with_context(context)
}

fn malformed(what: &'static str) -> Error {
    tracing::warn!(
        problem = what,
        "the authorizer context from API Gateway is malformed; request refused"
    );
    Error::InvalidToken(InvalidToken::Malformed)
}
