//! The Lambda authorizer on the event documents API Gateway sends
//! (`tests/fixtures/authorizer_*.json`): answers, route rules, caching safety,
//! and bad input.

#![cfg(all(feature = "lambda", feature = "testing"))]

use authorizer::credential::Credential;
use authorizer::lambda::{
    AuthorizerAnswer, AuthorizerError, HttpApiAnswer, HttpApiResponse, LambdaAuthorizer, PolicyResource,
};
use authorizer::require::{scope, supertokens};
use authorizer::routes::{RouteRule, RouteTable};
use authorizer::testing::TestIssuer;
use authorizer::{Authenticator, ErrorStyle, Source};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde_json::{Map, Value, json};

use crate::support;

use crate::events;
use events::{BASE, fixture, token_event, with_token};

/// The example authorizer's own table.
fn quickstart_routes() -> RouteTable {
    support::lambda_routes().unwrap()
}

struct Setup {
    issuer: TestIssuer,
    authorizer: LambdaAuthorizer,
}

impl Setup {
    fn new() -> Setup {
        Setup::with(|auth| LambdaAuthorizer::new(auth, quickstart_routes()))
    }

    fn with(make: impl FnOnce(Authenticator) -> LambdaAuthorizer) -> Setup {
        let issuer = TestIssuer::new();
        let authorizer = make(Authenticator::new(issuer.verifier()));
        Setup { issuer, authorizer }
    }

    fn user(&self) -> String {
        support::demo_tokens(&self.issuer).user
    }

    fn admin(&self) -> String {
        support::demo_tokens(&self.issuer).admin
    }

    async fn handle(&self, event: Value) -> Result<AuthorizerAnswer, AuthorizerError> {
        self.authorizer.handle(event).await
    }
}

fn request_event(token: &str, method: &str, path: &str) -> Value {
    let mut event = with_token(&fixture("authorizer_request.json"), token);
    event["methodArn"] = json!(format!("{BASE}/{method}{path}"));
    event["httpMethod"] = json!(method);
    event["path"] = json!(path);
    event
}

fn http_event(token: &str, method: &str, path: &str) -> Value {
    let mut event = with_token(&fixture("authorizer_http_v2.json"), token);
    let base = "arn:aws:execute-api:us-east-1:123456789012:abc123defg/$default";
    event["routeArn"] = json!(format!("{base}/{method}{path}"));
    event["routeKey"] = json!(format!("{method} {path}"));
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["method"] = json!(method);
    event
}

/// An IAM-policy answer (REST, or HTTP API with IAM policies), read.
struct Policy<'a> {
    principal_id: &'a str,
    version: Option<&'a str>,
    statements: &'a [IamPolicyStatement],
    context: &'a Map<String, Value>,
}

fn policy(response: &AuthorizerAnswer) -> Policy<'_> {
    let (principal_id, document, context) = match response {
        AuthorizerAnswer::Rest(p) => (&p.principal_id, &p.policy_document, &p.context),
        AuthorizerAnswer::HttpApi(HttpApiAnswer::IamPolicy(p)) => (&p.principal_id, &p.policy_document, &p.context),
        other => panic!("expected a policy, got {other:?}"),
    };
    Policy {
        principal_id: principal_id.as_deref().expect("a policy answer has a principalId"),
        version: document.version.as_deref(),
        statements: &document.statement,
        context,
    }
}

fn simple(response: &AuthorizerAnswer) -> (bool, &Map<String, Value>) {
    match response {
        AuthorizerAnswer::HttpApi(HttpApiAnswer::Simple(simple)) => (simple.is_authorized, &simple.context),
        other => panic!("expected a simple answer, got {other:?}"),
    }
}

fn arn(method: &str, path: &str) -> String {
    format!("{BASE}/{method}{path}")
}

#[tokio::test]
async fn token_event_allow_with_principal_and_claims() {
    let s = Setup::new();
    let token = s.user();
    let response = s.handle(token_event(&token, "GET", "/me")).await.unwrap();
    let p = policy(&response);
    assert_eq!(p.principal_id, "user-1");
    assert_eq!(p.version, Some("2012-10-17"));
    // The whole API, and an explicit Deny for the routes this caller fails.
    let statements = p.statements;
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[0].effect, IamPolicyEffect::Allow);
    assert_eq!(statements[0].action, ["execute-api:Invoke"]);
    assert_eq!(statements[0].resource, [format!("{BASE}/*/*")]);
    assert_eq!(statements[1].effect, IamPolicyEffect::Deny);
    assert_eq!(
        statements[1].resource,
        [arn("GET", "/verified"), arn("GET", "/admin"), arn("GET", "/scoped")]
    );
    // Context: scalars only, plus every claim as JSON text.
    let context = p.context;
    assert!(
        context
            .values()
            .all(|v| v.is_string() || v.is_number() || v.is_boolean())
    );
    assert_eq!(context["email"], "user-1@example.com");
    assert_eq!(context["sub"], "user-1");
    assert!(context["exp"].is_number());
    assert!(!context.contains_key("st-ev") && !context.contains_key("body"));
    let claims: Value = serde_json::from_str(context["claims"].as_str().unwrap()).unwrap();
    assert_eq!(claims["st-role"], json!({"v": ["user"], "t": 0}));
    assert_eq!(claims["aud"], "authorizer-test");
    // The serialized answer is what API Gateway reads.
    let wire = serde_json::to_value(&response).unwrap();
    assert_eq!(wire["principalId"], "user-1");
    assert_eq!(wire["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(wire["policyDocument"]["Statement"][0]["Action"], "execute-api:Invoke");
    assert_eq!(wire["policyDocument"]["Version"], "2012-10-17");
}

#[tokio::test]
async fn admin_gets_one_allow_for_the_whole_api() {
    let s = Setup::new();
    let response = s.handle(token_event(&s.admin(), "GET", "/admin")).await.unwrap();
    let p = policy(&response);
    assert_eq!(p.principal_id, "admin-1");
    assert_eq!(p.statements.len(), 1);
    assert_eq!(p.statements[0].resource, [format!("{BASE}/*/*")]);
}

#[tokio::test]
async fn failed_requirement_is_a_deny_with_the_error_body() {
    let s = Setup::new();
    let response = s.handle(token_event(&s.user(), "GET", "/verified")).await.unwrap();
    assert!(!response.allows(&arn("GET", "/verified")));
    let p = policy(&response);
    assert_eq!(p.principal_id, "user-1");
    let body: Value = serde_json::from_str(p.context["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"message": "invalid claim", "claimValidationErrors": [
            {"id": "st-ev", "reason": {"message": "wrong value", "expectedValue": true, "actualValue": false}}
        ]})
    );
    // The principal's context is there too: a cached answer serves its other routes.
    assert!(p.context.contains_key("claims"));
    assert!(response.allows(&arn("GET", "/me")));
    assert!(response.allows(&arn("POST", "/me")));

    let rfc = Setup::with(|auth| LambdaAuthorizer::new(auth.error_style(ErrorStyle::Rfc6750), quickstart_routes()));
    let response = rfc.handle(token_event(&rfc.user(), "GET", "/scoped")).await.unwrap();
    let body: Value = serde_json::from_str(policy(&response).context["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"], "insufficient_scope");
    assert_eq!(body["scope"], "read:items");
}

#[tokio::test]
async fn missing_invalid_and_expired_credentials_are_unauthorized() {
    let s = Setup::new();
    let expired = s.issuer.token().expires_in(-3600).sign();
    let other_audience = s.issuer.token().claim("aud", json!("someone-else")).sign();
    let mut tampered = s.user();
    tampered.push('x');
    for token in [
        "",
        "not-a-jwt",
        "a.b.c",
        expired.as_str(),
        other_audience.as_str(),
        tampered.as_str(),
    ] {
        for event in [
            token_event(token, "GET", "/me"),
            request_event(token, "GET", "/me"),
            http_event(token, "GET", "/me"),
        ] {
            let outcome = s.handle(event).await;
            assert_eq!(outcome, Err(AuthorizerError::Unauthorized), "token {token:?}");
        }
    }
    // An invalid credential is refused on an optional route too.
    assert_eq!(
        s.handle(token_event("not-a-jwt", "GET", "/public")).await,
        Err(AuthorizerError::Unauthorized)
    );
    let diagnostic = lambda_runtime::Diagnostic::from(AuthorizerError::Unauthorized);
    assert_eq!(diagnostic.error_message, "Unauthorized");
    // A valid token whose subject is empty cannot be told from an anonymous caller.
    let empty_subject = s.issuer.token().subject("").sign();
    assert_eq!(
        s.handle(token_event(&empty_subject, "GET", "/public")).await,
        Err(AuthorizerError::Unauthorized)
    );
    let mut bearer_only = token_event("", "GET", "/me");
    bearer_only["authorizationToken"] = json!("Bearer ");
    assert_eq!(s.handle(bearer_only).await, Err(AuthorizerError::Unauthorized));
}

#[tokio::test]
async fn anonymous_on_an_optional_route_is_allowed_with_an_empty_principal() {
    let s = Setup::new();
    let mut event = request_event("", "GET", "/public");
    event["headers"] = json!({"Accept": "*/*"});
    event["multiValueHeaders"] = json!({"Accept": ["*/*"]});
    let response = s.handle(event).await.unwrap();
    let p = policy(&response);
    assert_eq!(p.principal_id, "");
    assert!(p.context.is_empty());
    assert!(response.allows(&arn("GET", "/public")));
    // A cached anonymous answer lets nobody into a route that needs a session.
    for (method, path) in [
        ("GET", "/me"),
        ("GET", "/admin"),
        ("GET", "/elsewhere"),
        ("POST", "/public"),
    ] {
        assert!(!response.allows(&arn(method, path)), "{method} {path}");
    }
    let null_maps = s.handle(fixture("authorizer_request_null_maps.json")).await.unwrap();
    assert_eq!(policy(&null_maps).principal_id, "");
    let mut needs_session = fixture("authorizer_request_null_maps.json");
    needs_session["methodArn"] = json!(arn("GET", "/me"));
    assert_eq!(s.handle(needs_session).await, Err(AuthorizerError::Unauthorized));
}

#[tokio::test]
async fn request_events_read_cookies_with_the_csrf_rule() {
    let s = Setup::new();
    let token = s.user();
    let response = s.handle(request_event(&token, "GET", "/me")).await.unwrap();
    assert_eq!(policy(&response).principal_id, "user-1");
    // A cookie on POST without anti-CSRF proof: Deny, with SuperTokens' body.
    let response = s.handle(request_event(&token, "POST", "/me")).await.unwrap();
    let p = policy(&response);
    assert!(!response.allows(&arn("POST", "/me")));
    assert_eq!(p.principal_id, "");
    assert_eq!(p.statements.len(), 1);
    assert_eq!(p.statements[0].resource, [arn("POST", "/me")]);
    assert_eq!(p.context["body"], r#"{"message":"anti-csrf check failed"}"#);
    // With the `rid` header, allowed.
    let mut with_rid = request_event(&token, "POST", "/me");
    with_rid["multiValueHeaders"]["rid"] = json!(["session"]);
    let response = s.handle(with_rid).await.unwrap();
    assert_eq!(policy(&response).principal_id, "user-1");
    // The bearer header wins over the cookie; two session cookies are ambiguous.
    let mut bearer = request_event("not-a-jwt", "GET", "/me");
    bearer["multiValueHeaders"]["authorization"] = json!([format!("Bearer {}", s.admin())]);
    assert_eq!(policy(&s.handle(bearer).await.unwrap()).principal_id, "admin-1");
    let mut two = request_event(&token, "GET", "/me");
    two["multiValueHeaders"]["Cookie"] = json!([format!("sAccessToken={token}"), format!("sAccessToken={token}")]);
    assert_eq!(s.handle(two).await, Err(AuthorizerError::Unauthorized));
    // Headers only (no multiValueHeaders), any case.
    let mut single = request_event(&token, "GET", "/me");
    single["multiValueHeaders"] = Value::Null;
    single["headers"] = json!({"AUTHORIZATION": format!("bearer {}", s.admin())});
    assert_eq!(policy(&s.handle(single).await.unwrap()).principal_id, "admin-1");
    // The st-access-token header.
    let mut header = request_event("", "GET", "/me");
    header["multiValueHeaders"] = json!({"st-access-token": [token.clone()]});
    assert_eq!(policy(&s.handle(header).await.unwrap()).principal_id, "user-1");
}

#[tokio::test]
async fn token_events_take_a_bare_token_too() {
    let s = Setup::new();
    let mut event = token_event("", "GET", "/me");
    event["authorizationToken"] = json!(s.user());
    assert_eq!(policy(&s.handle(event).await.unwrap()).principal_id, "user-1");
    let mut basic = token_event("", "GET", "/me");
    basic["authorizationToken"] = json!("Basic dXNlcjpwYXNz");
    assert_eq!(s.handle(basic).await, Err(AuthorizerError::Unauthorized));
}

#[tokio::test]
async fn http_api_events_get_simple_answers() {
    let s = Setup::new();
    let token = s.user();
    let response = s.handle(http_event(&token, "GET", "/me")).await.unwrap();
    let (is_authorized, context) = simple(&response);
    assert!(is_authorized);
    assert_eq!(context["principalId"], "user-1");
    assert!(context.contains_key("claims"));
    let wire = serde_json::to_value(&response).unwrap();
    assert_eq!(wire["isAuthorized"], true);

    let response = s.handle(http_event(&token, "GET", "/admin")).await.unwrap();
    let (is_authorized, context) = simple(&response);
    assert!(!is_authorized);
    let body: Value = serde_json::from_str(context["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["claimValidationErrors"][0]["id"], "st-role");

    // Cookies on POST need anti-CSRF proof here too.
    let response = s.handle(http_event(&token, "POST", "/me")).await.unwrap();
    assert!(!response.allows("any"));
    let mut with_rid = http_event(&token, "POST", "/me");
    with_rid["headers"]["rid"] = json!("session");
    assert!(s.handle(with_rid).await.unwrap().allows("any"));

    // Anonymous on the optional route.
    let mut anonymous = http_event("", "GET", "/public");
    anonymous["cookies"] = json!(["theme=dark"]);
    let response = s.handle(anonymous).await.unwrap();
    assert!(response.allows("any"));
    assert!(response.context().is_empty());

    // IAM policy answers on request.
    let policies = Setup::with(|auth| {
        LambdaAuthorizer::new(auth, quickstart_routes()).http_api_response(HttpApiResponse::IamPolicy)
    });
    let response = policies
        .handle(http_event(&policies.user(), "GET", "/me"))
        .await
        .unwrap();
    let p = policy(&response);
    assert_eq!(p.principal_id, "user-1");
    assert_eq!(p.context["principalId"], "user-1");
    // A cookie session's policy names its own route only: its anti-CSRF proof
    // is per request, and a cached answer must not reach another method.
    assert_eq!(
        p.statements[0].resource,
        ["arn:aws:execute-api:us-east-1:123456789012:abc123defg/$default/GET/me"]
    );
    let mut bearer = http_event("", "GET", "/me");
    bearer["headers"]["authorization"] = json!(format!("Bearer {}", policies.user()));
    let response = policies.handle(bearer).await.unwrap();
    assert_eq!(
        policy(&response).statements[0].resource,
        ["arn:aws:execute-api:us-east-1:123456789012:abc123defg/$default/*/*"]
    );
}

#[tokio::test]
async fn exact_method_arn_on_request() {
    let s =
        Setup::with(|auth| LambdaAuthorizer::new(auth, quickstart_routes()).policy_resource(PolicyResource::MethodArn));
    let response = s.handle(token_event(&s.admin(), "GET", "/me")).await.unwrap();
    let statements = policy(&response).statements;
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0].resource, [arn("GET", "/me")]);
    assert!(!response.allows(&arn("GET", "/admin")));
}

#[tokio::test]
async fn route_table_from_configuration() {
    let routes: RouteTable = serde_json::from_value(json!({
        "routes": {
            "GET /public": {"optional": true},
            "ANY /me": {},
            "GET /items/{id}": {"require": {"scope": "read:items"}},
            "DELETE /items/{id}": {"require": {"all": [{"scope": "write:items"}, {"claim": "st-role", "at": "v", "contains": "admin"}]}},
        },
        "fallback": {"deny": true}
    }))
    .unwrap();
    let s = Setup::with(|auth| LambdaAuthorizer::new(auth, routes));
    let admin = s.admin();
    let user = s.user();
    let allowed = |r: &AuthorizerAnswer, m: &str, p: &str| r.allows(&arn(m, p));

    let response = s.handle(token_event(&admin, "DELETE", "/items/7")).await.unwrap();
    assert!(allowed(&response, "DELETE", "/items/7"));
    // The fallback denies, so a cached answer covers exact routes and this one only.
    assert!(allowed(&response, "GET", "/me"));
    assert!(!allowed(&response, "GET", "/items/8"));
    assert!(!allowed(&response, "GET", "/unknown"));

    let response = s.handle(token_event(&user, "GET", "/items/7")).await.unwrap();
    assert!(!allowed(&response, "GET", "/items/7"));
    let body: Value = serde_json::from_str(policy(&response).context["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["claimValidationErrors"][0]["id"], "scope");

    let response = s.handle(token_event(&admin, "GET", "/unknown")).await.unwrap();
    assert!(!allowed(&response, "GET", "/unknown"));
    let body: Value = serde_json::from_str(policy(&response).context["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["claimValidationErrors"][0]["id"], "route");
}

/// Whatever route an answer was computed for, replayed from the gateway's cache
/// for any other route it never lets in a caller the table would refuse.
#[tokio::test]
async fn cached_answers_never_allow_more_than_the_table() {
    let tables = [
        quickstart_routes(),
        quickstart_routes()
            .route("GET /items/{id}", RouteRule::require(scope("read:items")))
            .unwrap()
            .route(
                "GET /items/{id}/secret",
                RouteRule::require(supertokens::has_role("admin")),
            )
            .unwrap()
            .route("ANY /files/{path+}", RouteRule::optional())
            .unwrap()
            .route("GET /{page}/about", RouteRule::optional())
            .unwrap(),
        quickstart_routes()
            .route("GET /items/{id}", RouteRule::session())
            .unwrap()
            .fallback(RouteRule::deny()),
    ];
    let requests = [
        ("GET", "/public"),
        ("GET", "/me"),
        ("POST", "/me"),
        ("GET", "/verified"),
        ("GET", "/admin"),
        ("GET", "/scoped"),
        ("GET", "/items/1"),
        ("GET", "/items/1/secret"),
        ("GET", "/items/1/2/secret"),
        ("GET", "/files/a/b"),
        ("POST", "/files/a"),
        ("GET", "/x/about"),
        ("GET", "/admin/about"),
        ("GET", "/elsewhere"),
        ("DELETE", "/me/too"),
        // Under an `ANY` route's path, but not that route's (IAM's `*` spans `/`).
        ("GET", "/x/me"),
        ("GET", "/admin/files/x"),
    ];
    for (t, table) in tables.into_iter().enumerate() {
        let s = Setup::with(|auth| LambdaAuthorizer::new(auth, table));
        let callers = [Some(s.user()), Some(s.admin()), None];
        for caller in &callers {
            let token = caller.as_deref().unwrap_or("");
            let principal = match caller {
                Some(token) => Some(
                    s.issuer
                        .verifier()
                        .verify(Credential::new(token, Source::Bearer))
                        .await
                        .unwrap(),
                ),
                None => None,
            };
            let mut fresh = Vec::new();
            for (method, path) in requests {
                let mut event = request_event(token, method, path);
                if caller.is_none() {
                    event["multiValueHeaders"] = json!({});
                }
                event["multiValueHeaders"]["rid"] = json!(["session"]);
                fresh.push((method, path, s.handle(event).await));
            }
            for (method, path, outcome) in &fresh {
                let Ok(answer) = outcome else { continue };
                for (other_method, other_path, other_outcome) in &fresh {
                    let fresh_allows = matches!(other_outcome, Ok(a) if a.allows(&arn(other_method, other_path)));
                    if answer.allows(&arn(other_method, other_path)) {
                        assert!(
                            fresh_allows,
                            "table {t}, caller {:?}: the answer for {method} {path} lets {other_method} {other_path} in",
                            caller.as_ref().map(|_| "signed in")
                        );
                    }
                }
                // Each answer is right for its own route.
                let own = answer.allows(&arn(method, path));
                let rule = s.authorizer.routes().rule_for(method, path);
                assert_eq!(
                    own,
                    rule.check(principal.as_ref()).is_allowed(),
                    "table {t}: {method} {path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn keys_unavailable_is_an_error_not_a_decision() {
    let issuer = TestIssuer::start().await;
    issuer.set_outage(true);
    let authorizer = LambdaAuthorizer::new(issuer.verifier(), quickstart_routes());
    let token = issuer.token().sign();
    assert_eq!(
        authorizer.handle(token_event(&token, "GET", "/me")).await,
        Err(AuthorizerError::KeysUnavailable)
    );
}

#[tokio::test]
async fn bad_events_are_errors_never_allows() {
    let s = Setup::new();
    let token = s.admin();
    let good_request = request_event(&token, "GET", "/me");
    let good_http = http_event(&token, "GET", "/me");
    let mut cases: Vec<Value> = vec![
        json!(null),
        json!("TOKEN"),
        json!([]),
        json!({}),
        json!({"type": "TOKEN"}),
        json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}")}),
        json!({"type": "TOKEN", "authorizationToken": null, "methodArn": arn("GET", "/me")}),
        json!({"type": "TOKEN", "authorizationToken": 5, "methodArn": arn("GET", "/me")}),
        json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": "arn:aws:s3:::bucket"}),
        json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": 7}),
        json!({"type": "COOKIE", "authorizationToken": format!("Bearer {token}"), "methodArn": arn("GET", "/me")}),
        json!({"type": 1, "methodArn": arn("GET", "/me")}),
        json!({"version": "2.0", "type": "TOKEN", "routeArn": arn("GET", "/me")}),
    ];
    for (field, value) in [
        ("methodArn", Value::Null),
        ("methodArn", json!("arn:aws:execute-api:us-east-1:1:api/*/GET/me")),
        ("headers", json!(["Authorization"])),
        ("multiValueHeaders", json!({"Authorization": format!("Bearer {token}")})),
        ("multiValueHeaders", json!({"Authorization": [5]})),
        ("multiValueHeaders", json!("x")),
        ("type", json!("request")),
    ] {
        let mut e = good_request.clone();
        e[field] = value;
        cases.push(e);
    }
    let mut e = good_request.clone();
    e["multiValueHeaders"] = Value::Null;
    e["headers"] = json!({"Authorization": {"value": format!("Bearer {token}")}});
    cases.push(e);
    for (field, value) in [
        ("routeArn", Value::Null),
        ("cookies", json!(format!("sAccessToken={token}"))),
        ("cookies", json!([1, 2])),
        ("headers", json!({"authorization": true})),
        ("version", json!("2.0")),
    ] {
        let mut e = good_http.clone();
        e[field] = value;
        if field == "version" {
            e["type"] = json!("TOKEN");
        }
        cases.push(e);
    }
    for (i, event) in cases.into_iter().enumerate() {
        match s.handle(event.clone()).await {
            Err(AuthorizerError::InvalidEvent(_)) | Err(AuthorizerError::Unauthorized) => {}
            other => panic!("case {i} ({event}): {other:?}"),
        }
    }
    // One header named twice in different cases keeps both values: two
    // credentials are ambiguous, not one of them picked.
    let mut twice = good_request.clone();
    twice["multiValueHeaders"] = Value::Null;
    twice["headers"] = json!({"Authorization": format!("Bearer {token}"), "authorization": "Bearer x"});
    assert_eq!(s.handle(twice).await, Err(AuthorizerError::Unauthorized));
    let mut twice = good_http.clone();
    twice["headers"] = json!({"Authorization": format!("Bearer {token}"), "authorization": "Bearer x"});
    assert_eq!(s.handle(twice).await, Err(AuthorizerError::Unauthorized));
    // A header that is no HTTP header value is refused, and the error names
    // where, never the value (it may be a credential).
    let mut control = good_request.clone();
    control["multiValueHeaders"]["Authorization"] = json!([format!("Bearer {token}\u{7}")]);
    match s.handle(control).await {
        Err(AuthorizerError::InvalidEvent(message)) => assert!(!message.contains(&token), "{message}"),
        other => panic!("a control character in a header: {other:?}"),
    }
    // A method the table does not name is judged by `ANY` routes (and, being
    // unsafe, needs anti-CSRF proof for a cookie).
    let mut odd = good_request.clone();
    odd["methodArn"] = json!(arn("PROPFIND", "/me"));
    assert!(!s.handle(odd.clone()).await.unwrap().allows(&arn("PROPFIND", "/me")));
    odd["multiValueHeaders"]["rid"] = json!(["session"]);
    assert!(s.handle(odd).await.unwrap().allows(&arn("PROPFIND", "/me")));
}

/// The typed entry points and the `tower::Service` impls answer exactly as
/// `handle` does for the same event.
#[tokio::test]
async fn typed_entry_points_and_services_answer_as_handle() {
    use aws_lambda_events::apigw::{
        ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
        ApiGatewayV2CustomAuthorizerV2Request,
    };
    use lambda_runtime::{Context, LambdaEvent};
    use tower::ServiceExt;

    fn typed<T: serde::de::DeserializeOwned>(event: &Value) -> T {
        serde_json::from_value(event.clone()).unwrap()
    }
    fn lambda_event<T>(payload: T) -> LambdaEvent<T> {
        LambdaEvent::new(payload, Context::default())
    }

    for http_api in [HttpApiResponse::Simple, HttpApiResponse::IamPolicy] {
        let s = Setup::with(|auth| LambdaAuthorizer::new(auth, quickstart_routes()).http_api_response(http_api));
        let a = &s.authorizer;
        for token in [s.user(), s.admin(), String::new()] {
            for (method, path) in [("GET", "/me"), ("POST", "/me"), ("GET", "/admin"), ("GET", "/public")] {
                let event = token_event(&token, method, path);
                let expected = s.handle(event.clone()).await;
                let direct = a.token(typed::<ApiGatewayCustomAuthorizerRequest>(&event)).await;
                assert_eq!(direct.map(AuthorizerAnswer::Rest), expected, "TOKEN {method} {path}");
                let served = a
                    .clone()
                    .oneshot(lambda_event(typed::<ApiGatewayCustomAuthorizerRequest>(&event)))
                    .await;
                assert_eq!(served.map(AuthorizerAnswer::Rest), expected);
                let untyped = a.clone().oneshot(lambda_event(event)).await;
                assert_eq!(untyped, expected);

                let event = request_event(&token, method, path);
                let expected = s.handle(event.clone()).await;
                let direct = a
                    .request(typed::<ApiGatewayCustomAuthorizerRequestTypeRequest>(&event))
                    .await;
                assert_eq!(direct.map(AuthorizerAnswer::Rest), expected, "REQUEST {method} {path}");
                let served = a
                    .clone()
                    .oneshot(lambda_event(typed::<ApiGatewayCustomAuthorizerRequestTypeRequest>(
                        &event,
                    )))
                    .await;
                assert_eq!(served.map(AuthorizerAnswer::Rest), expected);

                let event = http_event(&token, method, path);
                let expected = s.handle(event.clone()).await;
                let direct = a.http_api(typed::<ApiGatewayV2CustomAuthorizerV2Request>(&event)).await;
                assert_eq!(
                    direct.map(AuthorizerAnswer::HttpApi),
                    expected,
                    "payload 2.0 {method} {path}"
                );
                let served = a
                    .clone()
                    .oneshot(lambda_event(typed::<ApiGatewayV2CustomAuthorizerV2Request>(&event)))
                    .await;
                assert_eq!(served.map(AuthorizerAnswer::HttpApi), expected);
            }
        }
    }

    // What serde's defaults let through a typed event is refused all the same.
    let s = Setup::new();
    let mut no_arn: ApiGatewayCustomAuthorizerRequest = typed(&token_event(&s.user(), "GET", "/me"));
    no_arn.method_arn = None;
    assert!(matches!(
        s.authorizer.token(no_arn).await,
        Err(AuthorizerError::InvalidEvent(_))
    ));
    let mut wrong_type: ApiGatewayCustomAuthorizerRequestTypeRequest = typed(&request_event(&s.user(), "GET", "/me"));
    wrong_type.type_ = Some("TOKEN".to_owned());
    assert!(matches!(
        s.authorizer.request(wrong_type).await,
        Err(AuthorizerError::InvalidEvent(_))
    ));
    let mut no_version: ApiGatewayV2CustomAuthorizerV2Request = typed(&http_event(&s.user(), "GET", "/me"));
    no_version.version = None;
    assert!(matches!(
        s.authorizer.http_api(no_version).await,
        Err(AuthorizerError::InvalidEvent(_))
    ));
}

/// `handle`'s answers are the JSON API Gateway documents (`Action` a string, no
/// `usageIdentifierKey`); the typed answers serialize as `aws_lambda_events`
/// writes them, and both read back to the same answer.
#[tokio::test]
async fn wire_format_of_each_answer() {
    use aws_lambda_events::apigw::{ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerResponse};

    let s = Setup::new();
    let event = token_event(&s.user(), "GET", "/me");
    let answer = s.handle(event.clone()).await.unwrap();
    let wire = serde_json::to_value(&answer).unwrap();
    let keys: Vec<&str> = wire.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["context", "policyDocument", "principalId"]);
    for statement in wire["policyDocument"]["Statement"].as_array().unwrap() {
        let keys: Vec<&str> = statement.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["Action", "Effect", "Resource"]);
        assert_eq!(statement["Action"], "execute-api:Invoke");
        assert!(statement["Resource"].is_array());
    }

    let typed: ApiGatewayCustomAuthorizerRequest = serde_json::from_value(event).unwrap();
    let direct = s.authorizer.token(typed).await.unwrap();
    let aws_wire = serde_json::to_value(&direct).unwrap();
    assert_eq!(
        aws_wire["policyDocument"]["Statement"][0]["Action"],
        json!(["execute-api:Invoke"])
    );
    assert_eq!(aws_wire["usageIdentifierKey"], Value::Null);
    let ours: ApiGatewayCustomAuthorizerResponse<Map<String, Value>> = serde_json::from_value(wire).unwrap();
    let theirs: ApiGatewayCustomAuthorizerResponse<Map<String, Value>> = serde_json::from_value(aws_wire).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(AuthorizerAnswer::Rest(ours), answer);

    let simple = s.handle(http_event(&s.user(), "GET", "/me")).await.unwrap();
    let wire = serde_json::to_value(&simple).unwrap();
    let keys: Vec<&str> = wire.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["context", "isAuthorized"]);
}

/// A token in a query parameter of a REST `REQUEST` event or of an HTTP API's
/// `rawQueryString`, where the query is a configured location; the route is
/// still the one of the method or route ARN.
#[tokio::test]
async fn query_parameter_credentials_in_rest_and_http_api_events() {
    use authorizer::credential::{Credentials, Location};

    let s = Setup::with(|auth| {
        let credentials = Credentials::default().order([Location::Bearer, Location::Query("access_token".into())]);
        LambdaAuthorizer::new(auth.credentials(credentials), quickstart_routes())
    });
    let (user, admin) = (s.user(), s.admin());

    let rest = |token: &str, method: &str, path: &str| {
        let mut event = request_event("", method, path);
        event["queryStringParameters"] = json!({"access_token": token, "page": "2"});
        event["multiValueQueryStringParameters"] = json!({"access_token": [token], "page": ["2"]});
        event
    };
    let response = s.handle(rest(&user, "GET", "/me")).await.unwrap();
    assert_eq!(policy(&response).principal_id, "user-1");
    // The rule is the ARN's route's: `/admin` refuses the user, admits the admin.
    assert!(
        !s.handle(rest(&user, "GET", "/admin"))
            .await
            .unwrap()
            .allows(&arn("GET", "/admin"))
    );
    assert!(
        s.handle(rest(&admin, "GET", "/admin"))
            .await
            .unwrap()
            .allows(&arn("GET", "/admin"))
    );
    let mut twice = rest(&user, "GET", "/me");
    twice["multiValueQueryStringParameters"]["access_token"] = json!([user, admin]);
    assert_eq!(s.handle(twice).await, Err(AuthorizerError::Unauthorized));
    let mut and_bearer = rest(&user, "GET", "/me");
    and_bearer["multiValueHeaders"]["Authorization"] = json!([format!("Bearer {admin}")]);
    assert_eq!(s.handle(and_bearer).await, Err(AuthorizerError::Unauthorized));

    let http = |query: &str| {
        let mut event = http_event("", "GET", "/me");
        event["cookies"] = json!(["theme=dark"]);
        event["rawQueryString"] = json!(query);
        // HTTP APIs join repeated parameters here: the raw query is what is read.
        event["queryStringParameters"] = json!({"access_token": "joined,values"});
        event
    };
    let response = s.handle(http(&format!("page=2&access_token={admin}"))).await.unwrap();
    assert_eq!(simple(&response).1["principalId"], "admin-1");
    for query in [
        format!("access_token={user}&access_token={admin}"),
        format!("access_token={user}#fragment"),
        format!("access_token={user}%ZZ"),
        "access_token=".to_owned(),
    ] {
        assert_eq!(
            s.handle(http(&query)).await,
            Err(AuthorizerError::Unauthorized),
            "{query}"
        );
    }
    let mut anonymous = http("page=2");
    anonymous["routeArn"] = json!("arn:aws:execute-api:us-east-1:123456789012:abc123defg/$default/GET/public");
    assert!(s.handle(anonymous).await.unwrap().allows("any"));
    let huge = http(&format!("access_token={user}&pad={}", "x".repeat(20 * 1024)));
    assert!(matches!(s.handle(huge).await, Err(AuthorizerError::InvalidEvent(_))));
}
