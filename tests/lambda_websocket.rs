//! WebSocket APIs: the Lambda authorizer on `$connect`
//! (`tests/fixtures/authorizer_websocket_connect.json`, the shape API Gateway
//! documents), and the principal read back by the function behind each route
//! (`tests/fixtures/websocket_*.json`), as the gateway carries the
//! authorizer's answer to every message of the connection.

#![cfg(all(feature = "lambda", feature = "testing"))]

use authorizer::credential::{Credentials, Location};
use authorizer::lambda::{
    AuthorizerAnswer, AuthorizerError, LambdaAuthorizer, PolicyResource, principal_from_websocket_event,
};
use authorizer::require::{scope, supertokens};
use authorizer::routes::{RouteRule, RouteTable};
use authorizer::testing::TestIssuer;
use authorizer::{Authenticator, ContextValue, Principal, Source};
use aws_lambda_events::apigw::{ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::iam::IamPolicyEffect;
use serde_json::{Map, Value, json};

use crate::events::{fixture, with_token};
use crate::support;

/// The `methodArn` of the fixture: a WebSocket API's `$connect`.
const CONNECT: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/default/$connect";

const APP: &str = "https://app.example.com";

/// The documented `$connect` event with no credential in it.
fn connect_event() -> Value {
    let mut event = fixture("authorizer_websocket_connect.json");
    for map in ["queryStringParameters", "multiValueQueryStringParameters"] {
        event[map].as_object_mut().unwrap().remove("token");
    }
    event
}

/// The event with a header set (both header maps, as API Gateway fills them).
fn with_header(mut event: Value, name: &str, value: &str) -> Value {
    event["headers"][name] = json!(value);
    event["multiValueHeaders"][name] = json!([value]);
    event
}

fn bearer(token: &str) -> Value {
    with_header(connect_event(), "Authorization", &format!("Bearer {token}"))
}

fn cookie(token: &str, origin: &str) -> Value {
    let event = with_header(connect_event(), "Cookie", &format!("theme=dark; sAccessToken={token}"));
    with_header(event, "Origin", origin)
}

struct Setup {
    issuer: TestIssuer,
    authorizer: LambdaAuthorizer,
}

impl Setup {
    /// Cookie sessions from the app's own origin; the given table.
    fn new(routes: RouteTable) -> Setup {
        let issuer = TestIssuer::new();
        let auth = Authenticator::new(issuer.verifier())
            .credentials(Credentials::default().allowed_origins([APP]).accept_rid_header(false));
        let authorizer = LambdaAuthorizer::new(auth, routes);
        Setup { issuer, authorizer }
    }

    /// Also a token in the `token` query parameter, as browsers send one.
    fn with_query(routes: RouteTable, parameter: &str) -> Setup {
        let issuer = TestIssuer::new();
        let credentials = Credentials::default()
            .order([
                Location::Bearer,
                Location::Cookie("sAccessToken".into()),
                Location::Query(parameter.into()),
            ])
            .allowed_origins([APP])
            .accept_rid_header(false);
        let auth = Authenticator::new(issuer.verifier()).credentials(credentials);
        let authorizer = LambdaAuthorizer::new(auth, routes);
        Setup { issuer, authorizer }
    }

    fn user(&self) -> String {
        support::demo_tokens(&self.issuer).user
    }

    fn admin(&self) -> String {
        support::demo_tokens(&self.issuer).admin
    }

    /// The answer from `handle`, which the typed entry point must give too.
    async fn answer(&self, event: Value) -> Result<AuthorizerAnswer, AuthorizerError> {
        let answer = self.authorizer.handle(event.clone()).await;
        if let Ok(typed) = serde_json::from_value::<ApiGatewayCustomAuthorizerRequestTypeRequest>(event) {
            let direct = self.authorizer.request(typed).await.map(AuthorizerAnswer::Rest);
            assert_eq!(direct, answer, "the typed entry point answers as `handle`");
        }
        answer
    }
}

/// A session on `$connect` and nothing more.
fn session_table() -> RouteTable {
    RouteTable::new().route("GET /$connect", RouteRule::session()).unwrap()
}

/// The REST answer's principal, and whether it lets `$connect` through.
fn who(answer: &AuthorizerAnswer) -> (&str, bool) {
    let (principal, allowed, _) = read(answer);
    (principal, allowed)
}

/// The REST answer's principal, effect for `$connect`, and its statements' resources.
fn read(answer: &AuthorizerAnswer) -> (&str, bool, Vec<(IamPolicyEffect, Vec<String>)>) {
    let AuthorizerAnswer::Rest(rest) = answer else {
        panic!("a WebSocket event gets a policy: {answer:?}");
    };
    let statements = rest
        .policy_document
        .statement
        .iter()
        .map(|s| (s.effect.clone(), s.resource.clone()))
        .collect();
    (
        rest.principal_id.as_deref().unwrap(),
        answer.allows(CONNECT),
        statements,
    )
}

#[tokio::test]
async fn connect_with_a_bearer_header_is_allowed_for_that_connect_only() {
    let s = Setup::new(session_table());
    let answer = s.answer(bearer(&s.user())).await.unwrap();
    let (principal, allowed, statements) = read(&answer);
    assert_eq!((principal, allowed), ("user-1", true));
    // Only `$connect` runs an authorizer: the policy names it and nothing else.
    assert_eq!(statements, [(IamPolicyEffect::Allow, vec![CONNECT.to_owned()])]);
    let claims: Value = serde_json::from_str(answer.context()["claims"].as_str().unwrap()).unwrap();
    assert_eq!(claims["sub"], "user-1");
    assert_eq!(answer.context()["email"], "user-1@example.com");
    // The answer for one API's `$connect` lets in no other API or stage.
    for other in [
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/$connect",
        "arn:aws:execute-api:us-east-1:123456789012:otherapi1/default/$connect",
        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/default/GET/",
    ] {
        assert!(!answer.allows(other), "{other}");
    }
    // The same with the policy of the method ARN only.
    let exact = LambdaAuthorizer::new(s.issuer.verifier(), session_table()).policy_resource(PolicyResource::MethodArn);
    let answer = exact.handle(bearer(&s.user())).await.unwrap();
    assert_eq!(read(&answer).2, [(IamPolicyEffect::Allow, vec![CONNECT.to_owned()])]);
}

/// Browsers cannot set headers on a WebSocket handshake: the token comes as
/// `wss://...?token=...`, and API Gateway hands the authorizer the decoded
/// parameters.
#[tokio::test]
async fn connect_with_the_token_in_a_query_parameter() {
    let s = Setup::with_query(session_table(), "token");
    let token = s.user();
    let query = with_token(&fixture("authorizer_websocket_connect.json"), &token);
    let answer = s.answer(query.clone()).await.unwrap();
    assert_eq!(who(&answer), ("user-1", true));
    assert_eq!(read(&answer).2, [(IamPolicyEffect::Allow, vec![CONNECT.to_owned()])]);

    // Either map alone is read (WebSocket events may leave the multi-value one empty).
    let mut single = query.clone();
    single["multiValueQueryStringParameters"] = json!({});
    assert_eq!(who(&s.answer(single).await.unwrap()), ("user-1", true));
    let mut multi = query.clone();
    multi["queryStringParameters"] = Value::Null;
    assert_eq!(who(&s.answer(multi).await.unwrap()), ("user-1", true));

    // Where the query is not a configured location, the parameter is no credential.
    let headers_only = Setup::new(session_table());
    assert_eq!(
        headers_only.answer(query.clone()).await,
        Err(AuthorizerError::Unauthorized)
    );

    // The parameter twice, or beside another credential, is ambiguous.
    let mut twice = query.clone();
    twice["multiValueQueryStringParameters"]["token"] = json!([token, token]);
    assert_eq!(s.answer(twice).await, Err(AuthorizerError::Unauthorized));
    let with_cookie = with_header(query.clone(), "Cookie", &format!("sAccessToken={token}"));
    assert_eq!(s.answer(with_cookie).await, Err(AuthorizerError::Unauthorized));
    let with_bearer = with_header(query.clone(), "Authorization", &format!("Bearer {token}"));
    assert_eq!(s.answer(with_bearer).await, Err(AuthorizerError::Unauthorized));

    // Invalid, expired, empty: Unauthorized, as from a header.
    let expired = s.issuer.token().subject("user-1").expires_in(-3600).sign();
    for bad in ["", "garbage", "a%2Gb", expired.as_str()] {
        let event = with_token(&fixture("authorizer_websocket_connect.json"), bad);
        assert_eq!(s.answer(event).await, Err(AuthorizerError::Unauthorized), "{bad:?}");
    }
}

/// The other way a browser can send a token on a WebSocket: as a protocol
/// after a marker, `new WebSocket(url, ["access_token", token])`.
#[tokio::test]
async fn connect_with_the_token_offered_as_a_protocol() {
    use authorizer::credential::DEFAULT_PROTOCOL_MARKER;

    let issuer = TestIssuer::new();
    let credentials = Credentials::default().order([
        Location::Bearer,
        Location::WebSocketProtocol(DEFAULT_PROTOCOL_MARKER.into()),
    ]);
    let auth = Authenticator::new(issuer.verifier()).credentials(credentials);
    let s = Setup {
        authorizer: LambdaAuthorizer::new(auth, session_table()),
        issuer,
    };
    let token = s.user();
    let offered = with_header(
        connect_event(),
        "Sec-WebSocket-Protocol",
        &format!("chat, access_token, {token}"),
    );
    assert_eq!(who(&s.answer(offered.clone()).await.unwrap()), ("user-1", true));
    let twice = with_header(offered, "Authorization", &format!("Bearer {token}"));
    assert_eq!(s.answer(twice).await, Err(AuthorizerError::Unauthorized));
    let marker_only = with_header(connect_event(), "Sec-WebSocket-Protocol", "access_token");
    assert_eq!(s.answer(marker_only).await, Err(AuthorizerError::Unauthorized));
}

/// The decoded parameters are encoded again so that the pipeline reads back
/// exactly the names and values the event held: `+`, `%`, `&` and `=` in a
/// name or value stay themselves.
#[tokio::test]
async fn query_parameters_are_read_back_exactly() {
    let s = Setup::with_query(session_table(), "access+token");
    let token = s.user();
    let mut event = connect_event();
    for map in ["queryStringParameters", "multiValueQueryStringParameters"] {
        event[map] = json!({});
    }
    event["queryStringParameters"]["access+token"] = json!(token);
    // Decoys: the same name with a space, and values holding the separators.
    event["queryStringParameters"]["access token"] = json!("not-a-token");
    event["queryStringParameters"]["note"] = json!("a=b&access+token=c%26");
    let answer = s.answer(event.clone()).await.unwrap();
    assert_eq!(who(&answer), ("user-1", true));
    // A parameter whose decoded name only looks like it is no credential.
    let mut lookalike = event;
    let object = lookalike["queryStringParameters"].as_object_mut().unwrap();
    let value = object.remove("access+token").unwrap();
    object.insert("access%2Btoken".into(), value);
    assert_eq!(s.answer(lookalike).await, Err(AuthorizerError::Unauthorized));
}

/// A browser sends its cookies with a WebSocket handshake from any site:
/// a cookie session needs an allowed `Origin` (cross-site WebSocket hijacking).
#[tokio::test]
async fn connect_with_a_cookie_needs_an_allowed_origin() {
    let s = Setup::new(session_table());
    let token = s.user();
    let answer = s.answer(cookie(&token, APP)).await.unwrap();
    assert_eq!(who(&answer), ("user-1", true));

    for origin in [
        "https://evil.example.com",
        "null",
        "https://app.example.com.evil.example",
    ] {
        let answer = s.answer(cookie(&token, origin)).await.unwrap();
        let (principal, allowed, statements) = read(&answer);
        assert_eq!((principal, allowed), ("", false), "{origin}");
        assert_eq!(statements, [(IamPolicyEffect::Deny, vec![CONNECT.to_owned()])]);
        assert_eq!(answer.context()["body"], r#"{"message":"anti-csrf check failed"}"#);
        assert!(!answer.context().contains_key("claims"), "no principal in a refusal");
    }
    let mut no_origin = cookie(&token, APP);
    for map in ["headers", "multiValueHeaders"] {
        no_origin[map].as_object_mut().unwrap().remove("Origin");
    }
    assert!(!s.answer(no_origin).await.unwrap().allows(CONNECT));
}

#[tokio::test]
async fn connect_without_a_credential_is_unauthorized_unless_optional() {
    let s = Setup::new(session_table());
    assert_eq!(s.answer(connect_event()).await, Err(AuthorizerError::Unauthorized));
    // Without a table entry the fallback (a valid session) applies.
    let fallback = Setup::new(RouteTable::new());
    assert_eq!(
        fallback.answer(connect_event()).await,
        Err(AuthorizerError::Unauthorized)
    );

    let optional = Setup::new(RouteTable::new().route("GET /$connect", RouteRule::optional()).unwrap());
    let answer = optional.answer(connect_event()).await.unwrap();
    assert_eq!(who(&answer), ("", true));
    assert!(answer.context().is_empty());
}

#[tokio::test]
async fn invalid_credentials_are_unauthorized_and_failed_rules_denied() {
    let s = Setup::new(
        RouteTable::new()
            .route("GET /$connect", RouteRule::require(supertokens::has_role("admin")))
            .unwrap(),
    );
    let expired = s.issuer.token().subject("user-1").expires_in(-3600).sign();
    let other_audience = s
        .issuer
        .token()
        .subject("user-1")
        .claim("aud", json!("someone-else"))
        .sign();
    let mut tampered = s.admin();
    tampered.push('x');
    for token in [
        "",
        "garbage",
        "a.b.c",
        expired.as_str(),
        other_audience.as_str(),
        tampered.as_str(),
    ] {
        assert_eq!(
            s.answer(bearer(token)).await,
            Err(AuthorizerError::Unauthorized),
            "{token:?}"
        );
        assert_eq!(
            s.answer(cookie(token, APP)).await,
            Err(AuthorizerError::Unauthorized),
            "cookie {token:?}"
        );
    }
    // A valid session without the role: Deny, with the reasons for a gateway response.
    let answer = s.answer(bearer(&s.user())).await.unwrap();
    let (principal, allowed, statements) = read(&answer);
    assert_eq!((principal, allowed), ("user-1", false));
    assert_eq!(statements, [(IamPolicyEffect::Deny, vec![CONNECT.to_owned()])]);
    let body: Value = serde_json::from_str(answer.context()["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["claimValidationErrors"][0]["id"], "st-role");
    assert_eq!(who(&s.answer(bearer(&s.admin())).await.unwrap()), ("admin-1", true));
}

/// `$connect` is the route table's `GET /$connect` (the opening handshake is
/// a `GET`, and `$connect` its route key): `ANY /$connect` and greedy paths
/// match it too, an HTTP route of the same table does not.
#[tokio::test]
async fn connect_is_matched_as_get_slash_connect() {
    let rules = |table: RouteTable| table.rule_for("GET", "/$connect").clone();
    let scoped = RouteTable::new()
        .route("GET /$connect", RouteRule::require(scope("chat")))
        .unwrap()
        .route("GET /", RouteRule::optional())
        .unwrap()
        .route("ANY /me", RouteRule::deny())
        .unwrap();
    assert!(rules(scoped.clone()).requirement().is_some());
    let s = Setup::new(scoped);
    let answer = s.answer(bearer(&s.user())).await.unwrap();
    let body: Value = serde_json::from_str(answer.context()["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["claimValidationErrors"][0]["id"], "scope");
    let chatter = s.issuer.token().subject("user-2").claim("scope", json!("chat")).sign();
    let answer = s.answer(bearer(&chatter)).await.unwrap();
    assert_eq!(who(&answer), ("user-2", true));

    let any = Setup::new(RouteTable::new().route("ANY /$connect", RouteRule::optional()).unwrap());
    assert!(any.answer(connect_event()).await.unwrap().allows(CONNECT));
    let greedy = Setup::new(RouteTable::new().route("ANY /{proxy+}", RouteRule::optional()).unwrap());
    assert!(greedy.answer(connect_event()).await.unwrap().allows(CONNECT));
    // `GET /` is an HTTP route: `$connect` falls through to the fallback.
    let root = Setup::new(
        RouteTable::new()
            .route("GET /", RouteRule::optional())
            .unwrap()
            .fallback(RouteRule::deny()),
    );
    assert_eq!(who(&root.answer(connect_event()).await.unwrap()), ("", false));
    let answer = root.answer(bearer(&root.admin())).await.unwrap();
    assert_eq!(who(&answer), ("admin-1", false));
}

#[tokio::test]
async fn bad_connect_events_are_errors_never_allows() {
    let s = Setup::new(RouteTable::new().route("GET /$connect", RouteRule::optional()).unwrap());
    let token = s.admin();
    let good = bearer(&token);
    assert!(s.answer(good.clone()).await.unwrap().allows(CONNECT));

    let many: Map<String, Value> = (0..1_001).map(|i| (format!("p{i}"), json!("v"))).collect();
    let many_multi: Map<String, Value> = (0..1_001).map(|i| (format!("p{i}"), json!(["v"]))).collect();
    let huge = "x".repeat(20 * 1024);
    let mut invalid = Vec::new();
    for (field, value) in [
        (
            "methodArn",
            json!("arn:aws:execute-api:us-east-1:123456789012:abcdef123/*/$connect"),
        ),
        (
            "methodArn",
            json!("arn:aws:execute-api:us-east-1:123456789012:abcdef123/default"),
        ),
        ("methodArn", Value::Null),
        ("type", json!("CONNECT")),
        ("queryStringParameters", json!("token=x")),
        ("queryStringParameters", json!({"token": 7})),
        ("queryStringParameters", json!({"token": ["a", "b"]})),
        ("queryStringParameters", Value::Object(many)),
        ("queryStringParameters", json!({"room": huge})),
        ("multiValueQueryStringParameters", json!({"token": "x"})),
        ("multiValueQueryStringParameters", json!({"token": [1]})),
        ("multiValueQueryStringParameters", Value::Object(many_multi)),
        ("headers", json!({"Authorization": 1})),
        ("multiValueHeaders", json!([])),
    ] {
        let mut event = good.clone();
        event[field] = value;
        invalid.push(event);
    }
    for (i, event) in invalid.into_iter().enumerate() {
        match s.authorizer.handle(event).await {
            Err(AuthorizerError::InvalidEvent(message)) => assert!(!message.contains(&token), "{message}"),
            other => panic!("case {i}: {other:?}"),
        }
    }

    // Maps absent or null hold nothing: anonymous on this optional route.
    for fields in [
        &["headers", "multiValueHeaders"][..],
        &["queryStringParameters", "multiValueQueryStringParameters"],
        &[
            "headers",
            "multiValueHeaders",
            "queryStringParameters",
            "multiValueQueryStringParameters",
            "stageVariables",
        ],
    ] {
        for null in [false, true] {
            let mut event = connect_event();
            for field in fields {
                if null {
                    event[*field] = Value::Null;
                } else {
                    event.as_object_mut().unwrap().remove(*field);
                }
            }
            let answer = s.answer(event).await.unwrap();
            assert_eq!(who(&answer), ("", true), "{fields:?} null: {null}");
        }
    }
    // Two credentials are one too many, whichever header holds the second.
    let mut two = bearer(&token);
    two["multiValueHeaders"]["Authorization"] = json!([format!("Bearer {token}"), "Bearer x"]);
    assert_eq!(s.answer(two).await, Err(AuthorizerError::Unauthorized));
    let mut two = bearer(&token);
    two["headers"]["authorization"] = json!("Bearer x");
    two["multiValueHeaders"] = Value::Null;
    assert_eq!(s.authorizer.handle(two).await, Err(AuthorizerError::Unauthorized));
}

/// The principal the function behind a WebSocket API reads on each route,
/// with the authorizer context of `tests/fixtures/rest_lambda_authorizer.json`.
fn assert_fixture_principal(p: &Principal) {
    assert_eq!(p.id(), "user-1");
    assert_eq!(p.source(), Source::GatewayLambda);
    assert_eq!(p.claims()["st-role"], json!({"v": ["user"], "t": 1700000000000i64}));
    assert_eq!(p.scopes(), ["read:items"]);
    assert_eq!(p.context()["level"], ContextValue::Number(3.into()));
    assert_eq!(p.context()["staff"], ContextValue::Bool(false));
    assert!(!p.context().contains_key("integrationLatency"));
}

fn websocket(event: &Value) -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(event.clone()).expect("aws_lambda_events reads the event")
}

#[test]
fn every_route_of_the_connection_reads_the_principal() {
    for name in [
        "websocket_connect.json",
        "websocket_default.json",
        "websocket_disconnect.json",
    ] {
        let event = websocket(&fixture(name));
        let principal = principal_from_websocket_event(&event)
            .unwrap_or_else(|| panic!("{name}: an authorizer context"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_fixture_principal(&principal);
    }
}

#[test]
fn websocket_events_without_an_authorizer_or_anonymous() {
    for authorizer in [
        None,
        Some(Value::Null),
        Some(json!({})),
        Some(json!({"integrationLatency": 12})),
        Some(json!({"principalId": "", "integrationLatency": 12})),
    ] {
        let mut event = fixture("websocket_default.json");
        match &authorizer {
            Some(value) => event["requestContext"]["authorizer"] = value.clone(),
            None => {
                event["requestContext"].as_object_mut().unwrap().remove("authorizer");
            }
        }
        assert!(
            principal_from_websocket_event(&websocket(&event)).is_none(),
            "{authorizer:?}"
        );
    }
}

#[test]
fn malformed_websocket_authorizer_contexts_are_refused() {
    let mut cases = Vec::new();
    for (key, value) in [
        ("claims", json!("{not json")),
        ("claims", json!("[1, 2]")),
        ("claims", json!(12)),
        ("principalId", json!(7)),
        ("principalId", Value::Null),
        ("nested", json!({"a": 1})),
        ("list", json!([1])),
        ("nothing", Value::Null),
    ] {
        let mut event = fixture("websocket_default.json");
        event["requestContext"]["authorizer"][key] = value;
        cases.push(event);
    }
    let mut no_id = fixture("websocket_disconnect.json");
    no_id["requestContext"]["authorizer"] = json!({"email": "someone@example.com", "integrationLatency": 3});
    cases.push(no_id);
    for (i, event) in cases.iter().enumerate() {
        match principal_from_websocket_event(&websocket(event)) {
            Some(Err(error)) => assert!(!error.to_string().contains("example.com"), "{error}"),
            other => panic!("case {i}: expected a refusal, got {other:?}"),
        }
    }
}

/// How API Gateway hands the authorizer's `context` to a WebSocket route:
/// `principalId` beside it, values as they were or as text.
fn carried(answer: &AuthorizerAnswer, route: &str, as_text: bool) -> Value {
    let AuthorizerAnswer::Rest(rest) = answer else {
        panic!("a policy answer");
    };
    let mut authorizer: Map<String, Value> = rest
        .context
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Value::Number(_) | Value::Bool(_) if as_text => Value::String(value.to_string()),
                other => other.clone(),
            };
            (key.clone(), value)
        })
        .collect();
    authorizer.insert("principalId".into(), json!(rest.principal_id));
    authorizer.insert("integrationLatency".into(), json!(27));
    let mut event = fixture(route);
    event["requestContext"]["authorizer"] = Value::Object(authorizer);
    event
}

/// The authorizer's answer on `$connect`, carried into the events of the
/// connection's routes, gives back the principal it was made for.
#[tokio::test]
async fn the_connect_answer_round_trips_to_every_route() {
    use authorizer::credential::Credential;

    let s = Setup::new(session_table());
    let token = s
        .issuer
        .token()
        .subject("user-7")
        .claim("scope", json!("chat:read chat:write"))
        .claim("tier", json!(3))
        .claim("beta", json!(true))
        .claim("ratio", json!(0.25))
        .claim("org", json!({"name": "acme", "seats": [1, 2]}))
        .claim("st-role", json!({"v": ["moderator"], "t": 1700000000000i64}))
        .sign();
    let original = s
        .issuer
        .verifier()
        .verify(Credential::new(&token, Source::Bearer))
        .await
        .unwrap();
    let answer = s.answer(bearer(&token)).await.unwrap();
    assert!(answer.allows(CONNECT));
    for route in [
        "websocket_connect.json",
        "websocket_default.json",
        "websocket_disconnect.json",
    ] {
        for as_text in [false, true] {
            let event = websocket(&carried(&answer, route, as_text));
            let back = principal_from_websocket_event(&event).unwrap().unwrap();
            assert_eq!(back.id(), original.id(), "{route}");
            assert_eq!(back.claims(), original.claims(), "{route}");
            assert_eq!(back.scopes(), original.scopes(), "{route}");
            assert_eq!(back.context(), original.context(), "{route} as text: {as_text}");
            assert_eq!(back.source(), Source::GatewayLambda);
        }
    }
}
