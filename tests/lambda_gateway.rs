//! Behind API Gateway: the principal from each authorizer's request context, in
//! the exact event shapes API Gateway sends (`tests/fixtures/`), and the
//! quickstart's routes and requirements run on it.

#![cfg(feature = "lambda")]

use crate::common::routes;

use authorizer::lambda::{gateway_only, gateway_or_verify, principal_from_extensions};
use authorizer::testing::TestIssuer;
use authorizer::{Authenticator, ContextValue, ErrorStyle, Principal, Source};
use axum::Router;
use axum::body::to_bytes;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::events;
use events::{fixture, http_at, rest_at, with_token};

fn request(event: &Value) -> lambda_http::Request {
    lambda_http::request::from_str(&event.to_string()).expect("lambda_http reads the event")
}

fn read(event: &Value) -> Option<Result<Principal, authorizer::Error>> {
    principal_from_extensions(request(event).extensions())
}

fn principal(event: &Value) -> Principal {
    read(event).expect("an authorizer context").expect("a readable context")
}

/// The quickstart's routes; REST events carry the stage (`/prod`) in their path.
fn app(auth: Authenticator) -> Router {
    let demo = routes::demo_router(auth);
    Router::new().nest("/prod", demo.clone()).merge(demo)
}

fn gateway_app(style: ErrorStyle) -> Router {
    app(gateway_only().error_style(style))
}

async fn call(app: &Router, event: &Value) -> (u16, Option<String>, Value) {
    let response = app.clone().oneshot(request(event)).await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, challenge, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn expected_lambda_claims() -> Value {
    json!({"sub":"user-1","iss":"https://auth.example.com","aud":"authorizer-test","exp":1900000000,"iat":1700000000,
        "email":"user-1@example.com","level":3,"staff":false,
        "st-ev":{"v":true,"t":1700000000000i64},"st-role":{"v":["user"],"t":1700000000000i64},"scope":"read:items"})
}

fn assert_lambda_principal(p: &Principal) {
    assert_eq!(p.id(), "user-1");
    assert_eq!(p.source(), Source::GatewayLambda);
    assert_eq!(Value::Object(p.claims().clone()), expected_lambda_claims());
    assert_eq!(p.scopes(), ["read:items"]);
    let context = p.context();
    assert_eq!(context["level"], ContextValue::Number(3.into()));
    assert_eq!(context["staff"], ContextValue::Bool(false));
    assert_eq!(context["exp"], ContextValue::Number(1900000000.into()));
    assert_eq!(context["email"], ContextValue::String("user-1@example.com".into()));
    let keys: Vec<&str> = context.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["aud", "email", "exp", "iat", "iss", "level", "scope", "staff", "sub"]
    );
}

#[test]
fn rest_lambda_authorizer_context() {
    assert_lambda_principal(&principal(&fixture("rest_lambda_authorizer.json")));
}

#[test]
fn http_lambda_authorizer_context() {
    assert_lambda_principal(&principal(&fixture("http_lambda.json")));
}

#[test]
fn rest_cognito_claims_are_parsed_back() {
    let p = principal(&fixture("rest_cognito.json"));
    assert_eq!(p.id(), "7d8ca528-4931-4254-9273-ea5ee853f271");
    assert_eq!(p.source(), Source::GatewayCognito);
    let c = p.claims();
    assert_eq!(c["email_verified"], json!(true));
    assert_eq!(c["cognito:groups"], json!(["admin", "staff"]));
    assert_eq!(c["exp"], json!(1700003600));
    assert_eq!(c["iat"], json!(1700000000));
    assert_eq!(c["auth_time"], json!(1700000000));
    assert_eq!(c["cognito:username"], json!("alice"));
    assert!(p.scopes().is_empty());
    assert_eq!(p.context()["email_verified"], ContextValue::Bool(true));
    assert!(!p.context().contains_key("cognito:groups"));
}

fn expected_rest_jwt_claims() -> Value {
    json!({
        "sub": "user-1",
        "iss": "https://auth.example.com",
        "aud": ["authorizer-test", "other-api"],
        "exp": 1900000000,
        "iat": 1700000000,
        "scope": "read:items write:items",
        "email": "user-1@example.com",
        "email_verified": true,
        "name": "Doe, \"Jane\"",
        "locality": "Montréal",
        "version": "42",
        "level": 3,
        "roles": ["user", "editor"],
        "address": {"city": "Seattle"},
        "st-ev": {"v": true, "t": 1700000000000i64},
        "st-role": {"v": ["admin", "user"], "t": 1700000000000i64},
    })
}

#[test]
fn rest_jwt_claims_keep_their_types() {
    let p = principal(&fixture("rest_jwt.json"));
    assert_eq!(p.id(), "user-1");
    assert_eq!(p.source(), Source::GatewayRestJwt);
    assert_eq!(Value::Object(p.claims().clone()), expected_rest_jwt_claims());
    assert_eq!(p.scopes(), ["read:items", "write:items"]);
    let context = p.context();
    // The string "42" stays a string; the number 3 stays a number.
    assert_eq!(context["version"], ContextValue::String("42".into()));
    assert_eq!(context["level"], ContextValue::Number(3.into()));
    assert_eq!(context["email_verified"], ContextValue::Bool(true));
    assert_eq!(context["locality"], ContextValue::String("Montréal".into()));
    for nested in ["aud", "roles", "address", "st-ev", "st-role"] {
        assert!(!context.contains_key(nested), "{nested}");
    }
}

/// REST JWT and Cognito user-pool authorizers fill the same member; typed
/// values mean the JWT authorizer, strings only mean Cognito (parsed back).
#[test]
fn rest_jwt_and_cognito_are_told_apart_by_their_values() {
    let mut typed_cognito = fixture("rest_cognito.json");
    typed_cognito["requestContext"]["authorizer"]["claims"]["auth_time"] = json!(1700000000);
    let p = principal(&typed_cognito);
    assert_eq!(p.source(), Source::GatewayRestJwt);
    // Kept as delivered: the string dates are not parsed on a typed claim set.
    assert_eq!(p.claims()["exp"], json!("Tue Nov 14 23:13:20 UTC 2023"));
    assert_eq!(p.claims()["email_verified"], json!("true"));

    let mut all_text = fixture("rest_jwt.json");
    let claims = all_text["requestContext"]["authorizer"]["claims"]
        .as_object_mut()
        .unwrap();
    for value in claims.values_mut() {
        if !value.is_string() {
            *value = json!(value.to_string());
        }
    }
    let p = principal(&all_text);
    assert_eq!(p.source(), Source::GatewayCognito);
    assert_eq!(p.claims()["exp"], json!(1900000000));
    assert_eq!(p.claims()["email_verified"], json!(true));
    assert_eq!(
        p.claims()["level"],
        json!("3"),
        "an unknown claim's type is not guessed"
    );
    assert_eq!(
        p.claims()["st-role"],
        json!({"v": ["admin", "user"], "t": 1700000000000i64})
    );

    let mut scp = fixture("rest_jwt.json");
    let claims = scp["requestContext"]["authorizer"]["claims"].as_object_mut().unwrap();
    claims.remove("scope");
    claims.insert("scp".into(), json!(["orders:read", "orders:write", "orders:read"]));
    assert_eq!(principal(&scp).scopes(), ["orders:read", "orders:write"]);
}

#[test]
fn rest_jwt_claims_without_a_usable_id_are_refused() {
    for sub in [
        None,
        Some(json!("")),
        Some(json!(42)),
        Some(json!(["user-1"])),
        Some(Value::Null),
    ] {
        let mut event = fixture("rest_jwt.json");
        let claims = event["requestContext"]["authorizer"]["claims"].as_object_mut().unwrap();
        match &sub {
            Some(value) => claims.insert("sub".into(), value.clone()),
            None => claims.remove("sub"),
        };
        assert!(matches!(read(&event), Some(Err(_))), "sub {sub:?}");
    }
}

#[tokio::test]
async fn requirements_run_on_rest_jwt_claims() {
    let app = gateway_app(ErrorStyle::SuperTokens);
    let jwt = fixture("rest_jwt.json");
    for (method, path) in [
        ("GET", "/me"),
        ("POST", "/me"),
        ("GET", "/verified"),
        ("GET", "/admin"),
        ("GET", "/scoped"),
    ] {
        let (status, _, body) = call(&app, &rest_at(jwt.clone(), method, path)).await;
        assert_eq!(status, 200, "{method} {path}: {body}");
        assert_eq!(body["source"], "gateway_rest_jwt");
    }
    let (_, _, body) = call(&app, &rest_at(jwt.clone(), "GET", "/me")).await;
    assert_eq!(body["claims"], expected_rest_jwt_claims());

    let mut user = rest_at(jwt.clone(), "GET", "/admin");
    user["requestContext"]["authorizer"]["claims"]["st-role"] = json!({"v": ["user"], "t": 0});
    let (status, _, body) = call(&app, &user).await;
    assert_eq!(status, 403);
    assert_eq!(
        body["claimValidationErrors"][0],
        json!({"id": "st-role", "reason": {"message": "wrong value", "expectedValue": "admin", "actualValue": ["user"]}})
    );
    let mut unverified = rest_at(jwt.clone(), "GET", "/verified");
    unverified["requestContext"]["authorizer"]["claims"]["st-ev"] = json!({"v": false, "t": 0});
    assert_eq!(call(&app, &unverified).await.0, 403);
    // A string where the token had a boolean is not read as one.
    let mut text = rest_at(jwt.clone(), "GET", "/verified");
    text["requestContext"]["authorizer"]["claims"]["st-ev"] = json!(r#"{"v":true,"t":0}"#);
    assert_eq!(call(&app, &text).await.0, 403);
    let mut unscoped = rest_at(jwt, "GET", "/scoped");
    unscoped["requestContext"]["authorizer"]["claims"]["scope"] = json!("write:items");
    assert_eq!(call(&app, &unscoped).await.0, 403);
}

#[test]
fn http_jwt_claims_are_parsed_back() {
    let p = principal(&fixture("http_jwt.json"));
    assert_eq!(p.id(), "user-1");
    assert_eq!(p.source(), Source::GatewayJwt);
    assert_eq!(p.scopes(), ["read:items", "write:items"]);
    assert_eq!(
        Value::Object(p.claims().clone()),
        json!({
            "sub": "user-1",
            "iss": "https://auth.example.com",
            "aud": ["authorizer-test", "other-api"],
            "exp": 1900000000,
            "iat": 1700000000,
            "scope": "read:items write:items",
            "email": "user-1@example.com",
            "email_verified": true,
            "st-ev": {"t": 1700000000000i64, "v": true},
            "st-role": {"t": 1700000000000i64, "v": ["admin", "user"]},
            "tier": "3",
            "org": {"name": "acme", "seats": 12},
        })
    );
    assert_eq!(p.context()["tier"], ContextValue::String("3".into()));
    assert_eq!(p.context()["exp"], ContextValue::Number(1900000000.into()));
    assert!(!p.context().contains_key("org") && !p.context().contains_key("aud"));
}

#[test]
fn http_jwt_scopes_fall_back_to_the_scope_claim() {
    let mut event = fixture("http_jwt.json");
    event["requestContext"]["authorizer"]["jwt"]["scopes"] = Value::Null;
    assert_eq!(principal(&event).scopes(), ["read:items", "write:items"]);
}

#[test]
fn iam_callers() {
    let rest = principal(&fixture("rest_iam.json"));
    assert_eq!(
        rest.id(),
        "arn:aws:sts::123456789012:assumed-role/reader/reader-session"
    );
    assert_eq!(rest.source(), Source::GatewayIam);
    assert_eq!(
        Value::Object(rest.claims().clone()),
        json!({
            "userArn": "arn:aws:sts::123456789012:assumed-role/reader/reader-session",
            "accountId": "123456789012",
            "callerId": "AROAEXAMPLEID:reader-session",
            "userId": "AROAEXAMPLEID:reader-session",
            "accessKey": "ASIAEXAMPLEKEY",
        })
    );
    let http = principal(&fixture("http_iam.json"));
    assert_eq!(http.id(), rest.id());
    assert_eq!(http.source(), Source::GatewayIam);
    assert_eq!(http.claims()["principalOrgId"], json!("o-exampleorg"));
    assert_eq!(http.context()["accountId"], ContextValue::String("123456789012".into()));

    // A Cognito identity pool's guest says so, and a requirement can refuse it.
    let mut guest = fixture("rest_iam.json");
    guest["requestContext"]["identity"]["cognitoAuthenticationType"] = json!("unauthenticated");
    let guest = principal(&guest);
    assert_eq!(guest.claims()["cognitoAuthenticationType"], json!("unauthenticated"));
    let signed_in =
        authorizer::require::not(authorizer::require::claim("cognitoAuthenticationType").eq(json!("unauthenticated")));
    assert!(signed_in.evaluate(&guest).is_err());
    assert!(signed_in.evaluate(&rest).is_ok());
}

#[test]
fn an_authorizer_context_wins_over_the_iam_identity() {
    let mut event = fixture("rest_iam.json");
    event["requestContext"]["authorizer"] = json!({"principalId": "admin", "clientId": 1, "clientName": "Exata"});
    let p = principal(&event);
    assert_eq!((p.id(), p.source()), ("admin", Source::GatewayLambda));
    assert_eq!(p.claims()["clientId"], json!(1));
}

#[test]
fn no_authorizer_no_principal() {
    assert!(read(&fixture("rest_no_authorizer.json")).is_none());
    assert!(read(&fixture("http_no_authorizer.json")).is_none());
    let mut latency_only = fixture("rest_no_authorizer.json");
    latency_only["requestContext"]["authorizer"] = json!({"integrationLatency": 0});
    assert!(read(&latency_only).is_none());
    let mut null_authorizer = fixture("http_no_authorizer.json");
    null_authorizer["requestContext"]["authorizer"] = json!({"lambda": null});
    assert!(read(&null_authorizer).is_none());
    let mut anonymous = fixture("rest_lambda_authorizer.json");
    anonymous["requestContext"]["authorizer"] = json!({"principalId": "", "integrationLatency": 3});
    assert!(read(&anonymous).is_none());
}

#[test]
fn malformed_contexts_are_errors_never_principals() {
    let rest = fixture("rest_lambda_authorizer.json");
    let http = fixture("http_lambda.json");
    let jwt = fixture("http_jwt.json");
    let mut cases = Vec::new();
    for (key, value) in [
        ("claims", json!("{not json")),
        ("claims", json!("[1, 2]")),
        ("claims", json!(12)),
        ("principalId", json!(7)),
        ("principalId", json!(null)),
        ("nested", json!({"a": 1})),
        ("list", json!([1])),
        ("nothing", json!(null)),
    ] {
        let mut e = rest.clone();
        e["requestContext"]["authorizer"][key] = value.clone();
        cases.push(e);
        let mut e = http.clone();
        e["requestContext"]["authorizer"]["lambda"][key] = value;
        cases.push(e);
    }
    let mut no_id = http.clone();
    no_id["requestContext"]["authorizer"]["lambda"] = json!({"email": "x@example.com"});
    cases.push(no_id);
    let mut no_sub = jwt.clone();
    no_sub["requestContext"]["authorizer"]["jwt"]["claims"]
        .as_object_mut()
        .unwrap()
        .remove("sub");
    cases.push(no_sub);
    let mut cognito_no_sub = fixture("rest_cognito.json");
    cognito_no_sub["requestContext"]["authorizer"]["claims"]
        .as_object_mut()
        .unwrap()
        .remove("sub");
    cases.push(cognito_no_sub);
    for (i, event) in cases.iter().enumerate() {
        match read(event) {
            Some(Err(_)) => {}
            other => panic!("case {i}: expected an error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn malformed_contexts_are_answered_401() {
    let app = gateway_app(ErrorStyle::SuperTokens);
    let mut event = rest_at(fixture("rest_lambda_authorizer.json"), "GET", "/me");
    event["requestContext"]["authorizer"]["claims"] = json!("{not json");
    assert_eq!(call(&app, &event).await.0, 401);
    let mut public = rest_at(event, "GET", "/public");
    public["requestContext"]["authorizer"]["principalId"] = json!(false);
    assert_eq!(call(&app, &public).await.0, 401);
}

#[tokio::test]
async fn requirements_run_on_the_gateway_principal() {
    let app = gateway_app(ErrorStyle::SuperTokens);
    // Lambda authorizer: verified email, role `user`, scope read:items.
    let rest = fixture("rest_lambda_authorizer.json");
    let (status, _, body) = call(&app, &rest_at(rest.clone(), "GET", "/me")).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], "user-1");
    assert_eq!(body["source"], "gateway_lambda");
    assert_eq!(body["claims"], expected_lambda_claims());
    assert_eq!(call(&app, &rest_at(rest.clone(), "POST", "/me")).await.0, 200);
    assert_eq!(call(&app, &rest_at(rest.clone(), "GET", "/verified")).await.0, 200);
    assert_eq!(call(&app, &rest_at(rest.clone(), "GET", "/scoped")).await.0, 200);
    let (status, _, body) = call(&app, &rest_at(rest.clone(), "GET", "/admin")).await;
    assert_eq!(status, 403);
    assert_eq!(
        body,
        json!({"message": "invalid claim", "claimValidationErrors": [
            {"id": "st-role", "reason": {"message": "wrong value", "expectedValue": "admin", "actualValue": ["user"]}}
        ]})
    );
    let (status, _, body) = call(&app, &rest_at(rest, "GET", "/public")).await;
    assert_eq!((status, body), (200, json!({"authenticated": true, "id": "user-1"})));

    // JWT authorizer: the flattened `st-ev` and `st-role` are parsed back, so their checks run.
    let jwt = fixture("http_jwt.json");
    for path in ["/me", "/verified", "/admin", "/scoped"] {
        let (status, _, body) = call(&app, &http_at(jwt.clone(), "GET", path)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body["source"], "gateway_jwt");
    }
    let mut unverified = http_at(jwt.clone(), "GET", "/verified");
    let claims = &mut unverified["requestContext"]["authorizer"]["jwt"]["claims"];
    claims["st-ev"] = json!("map[t:1700000000000 v:false]");
    let (status, _, body) = call(&app, &unverified).await;
    assert_eq!(status, 403);
    assert_eq!(body["claimValidationErrors"][0]["id"], "st-ev");
    assert_eq!(body["claimValidationErrors"][0]["reason"]["actualValue"], false);
    // An unparsable role list fails closed.
    let mut garbled = http_at(jwt.clone(), "GET", "/admin");
    garbled["requestContext"]["authorizer"]["jwt"]["claims"]["st-role"] = json!("map[v:[admin user]");
    assert_eq!(call(&app, &garbled).await.0, 403);

    // Cognito and IAM callers have no SuperTokens claims.
    let (status, _, body) = call(&app, &rest_at(fixture("rest_cognito.json"), "GET", "/me")).await;
    assert_eq!((status, &body["source"]), (200, &json!("gateway_cognito")));
    assert_eq!(
        call(&app, &rest_at(fixture("rest_cognito.json"), "GET", "/verified"))
            .await
            .0,
        403
    );
    let (status, _, body) = call(&app, &http_at(fixture("http_iam.json"), "GET", "/me")).await;
    assert_eq!((status, &body["source"]), (200, &json!("gateway_iam")));
}

#[tokio::test]
async fn scopes_are_checked_in_rfc6750_style() {
    let app = gateway_app(ErrorStyle::Rfc6750);
    let mut event = http_at(fixture("http_jwt.json"), "GET", "/scoped");
    event["requestContext"]["authorizer"]["jwt"]["scopes"] = json!(["write:items"]);
    let (status, challenge, body) = call(&app, &event).await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="insufficient_scope", scope="read:items""#)
    );
    assert_eq!(body["error"], "insufficient_scope");
}

#[tokio::test]
async fn without_an_authorizer_context() {
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("local-user").sign();
    let rest = with_token(&fixture("rest_no_authorizer.json"), &token);
    let http = with_token(&fixture("http_no_authorizer.json"), &token);

    // Gateway only: nothing established, so 401 (and anonymous on the optional route).
    let app = gateway_app(ErrorStyle::SuperTokens);
    let (status, challenge, body) = call(&app, &rest_at(rest.clone(), "GET", "/me")).await;
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")));
    assert_eq!(body, json!({"message": "unauthorised"}));
    assert_eq!(call(&app, &http_at(http.clone(), "GET", "/me")).await.0, 401);
    let (status, _, body) = call(&app, &http_at(http.clone(), "GET", "/public")).await;
    assert_eq!((status, body), (200, json!({"authenticated": false, "id": null})));

    // With the fallback, the credential is verified here.
    let auth = issuer.verifier();
    let fallback = app_with_fallback(auth);
    let (status, _, body) = call(&fallback, &rest_at(rest.clone(), "GET", "/me")).await;
    assert_eq!(
        (status, &body["id"], &body["source"]),
        (200, &json!("local-user"), &json!("bearer"))
    );
    let (status, _, body) = call(&fallback, &http_at(http.clone(), "GET", "/public")).await;
    assert_eq!(
        (status, body),
        (200, json!({"authenticated": true, "id": "local-user"}))
    );
    let bad = with_token(&fixture("http_no_authorizer.json"), "not.a.token");
    assert_eq!(call(&fallback, &http_at(bad.clone(), "GET", "/me")).await.0, 401);
    assert_eq!(call(&fallback, &http_at(bad, "GET", "/public")).await.0, 401);
    let mut anonymous = http_at(http.clone(), "GET", "/public");
    anonymous["headers"].as_object_mut().unwrap().remove("authorization");
    let (status, _, body) = call(&fallback, &anonymous).await;
    assert_eq!((status, body), (200, json!({"authenticated": false, "id": null})));

    // The gateway's principal is used when there is one, and the token is not consulted.
    let mut both = rest_at(fixture("rest_lambda_authorizer.json"), "GET", "/me");
    both["headers"]["Authorization"] = json!("Bearer not.a.token");
    both["multiValueHeaders"]["Authorization"] = json!(["Bearer not.a.token"]);
    let (status, _, body) = call(&fallback, &both).await;
    assert_eq!((status, &body["id"]), (200, &json!("user-1")));
}

fn app_with_fallback(verifier: authorizer::Verifier) -> Router {
    app(gateway_or_verify(verifier))
}

/// Under `gateway_or_verify`, the verifier's `PrincipalMapping` applies to the
/// claims the gateway verified too: the same id and context deployed as when
/// the token is verified here. A claim set whose id claim is missing or empty
/// is never a principal (an empty id would read as anonymous).
#[tokio::test]
async fn the_verifiers_principal_mapping_applies_to_gateway_claims() {
    use authorizer::{ContextClaims, PrincipalMapping};
    let issuer = TestIssuer::new();
    let mapping = PrincipalMapping::default()
        .id_claim("email")
        .context(ContextClaims::Only(vec!["email".into(), "scope".into()]));
    let verifier = issuer.verifier_builder().principal_mapping(mapping).build().unwrap();
    let app = app(gateway_or_verify(verifier));

    let deployed = http_at(fixture("http_jwt.json"), "GET", "/me");
    let (status, _, body) = call(&app, &deployed).await;
    assert_eq!((status, &body["id"]), (200, &json!("user-1@example.com")), "{body}");
    assert_eq!(
        body["context"],
        json!({"email": "user-1@example.com", "scope": "read:items write:items"})
    );

    let token = issuer
        .token()
        .claim("email", json!("user-1@example.com"))
        .claim("scope", json!("read:items write:items"))
        .sign();
    let local = http_at(with_token(&fixture("http_no_authorizer.json"), &token), "GET", "/me");
    let (status, _, body) = call(&app, &local).await;
    assert_eq!((status, &body["id"]), (200, &json!("user-1@example.com")), "{body}");
    assert_eq!(
        body["context"],
        json!({"email": "user-1@example.com", "scope": "read:items write:items"})
    );

    let rest_jwt = rest_at(fixture("rest_jwt.json"), "GET", "/me");
    let (status, _, body) = call(&app, &rest_jwt).await;
    assert_eq!((status, &body["id"]), (200, &json!("user-1@example.com")), "{body}");
    assert_eq!(body["source"], "gateway_rest_jwt");
    assert_eq!(
        body["context"],
        json!({"email": "user-1@example.com", "scope": "read:items write:items"})
    );

    let mut empty_sub = fixture("http_jwt.json");
    empty_sub["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = json!("");
    assert!(matches!(read(&empty_sub), Some(Err(_))), "an empty sub is no principal");
    let empty_local = issuer.token().subject("").sign();
    let local = http_at(
        with_token(&fixture("http_no_authorizer.json"), &empty_local),
        "GET",
        "/me",
    );
    assert_eq!(call(&app, &local).await.0, 401, "nor when verified here");
}

/// Behind an HTTP API with mutual TLS, a token verified here that is bound
/// to a certificate (RFC 8705) needs the certificate the gateway saw; a
/// DPoP-bound token needs its proof, made for the URL the client used.
#[tokio::test]
async fn sender_constrained_tokens_behind_the_gateway() {
    let issuer = TestIssuer::new();
    let read = |name: &str| {
        std::fs::read_to_string(format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    };
    let (pem, other_pem) = (read("client.pem"), read("other_client.pem"));
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap();
    let token = issuer.token().subject("mtls-user").bound_to_certificate(&der).sign();
    let fallback = app_with_fallback(issuer.verifier());
    let event = |certificate: Option<&str>| {
        let mut event = http_at(with_token(&fixture("http_no_authorizer.json"), &token), "GET", "/me");
        if let Some(pem) = certificate {
            event["requestContext"]["authentication"] = json!({"clientCert": {
                "clientCertPem": pem,
                "subjectDN": "CN=client",
                "issuerDN": "CN=authorizer test CA",
                "serialNumber": "1",
                "validity": {"notBefore": "Jan 1 00:00:00 2026 GMT", "notAfter": "Jan 1 00:00:00 2126 GMT"}
            }});
        }
        event
    };
    let (status, _, body) = call(&fallback, &event(Some(&pem))).await;
    assert_eq!((status, &body["id"]), (200, &json!("mtls-user")));
    assert_eq!(call(&fallback, &event(Some(&other_pem))).await.0, 401);
    assert_eq!(call(&fallback, &event(None)).await.0, 401);

    // DPoP: lambda_http rebuilds the URL from the `Host` header, over https.
    let client_key = authorizer::testing::DpopKey::es256();
    let bound = issuer.token().subject("dpop-user").bound_to(&client_key).sign();
    let proof = client_key
        .proof("GET", "https://abc123defg.execute-api.us-east-1.amazonaws.com/me")
        .access_token(&bound)
        .sign();
    let mut dpop = http_at(with_token(&fixture("http_no_authorizer.json"), &bound), "GET", "/me");
    dpop["headers"]["authorization"] = json!(format!("DPoP {bound}"));
    dpop["headers"]["dpop"] = json!(proof);
    let (status, _, body) = call(&fallback, &dpop).await;
    assert_eq!((status, &body["source"]), (200, &json!("dpop")), "{body}");
    assert_eq!(call(&fallback, &dpop).await.0, 401, "the same proof again");
}

/// The gateway's JWT authorizers know nothing of DPoP: a token they verified
/// came as a bearer token, so a bound one (`cnf`) is refused as it would be
/// as `Bearer` here, and a layer that requires DPoP refuses them all.
#[tokio::test]
async fn a_bound_token_the_gateway_verified_is_never_a_bearer_token() {
    use authorizer::binding::{Binding, DpopMode};
    let issuer = TestIssuer::new();
    let fallback = app_with_fallback(issuer.verifier());
    let plain = http_at(fixture("http_jwt.json"), "GET", "/me");
    assert_eq!(call(&fallback, &plain).await.0, 200);
    let jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    // The HTTP API flattens a nested claim to text (`map[...]`); the REST
    // authorizer hands JSON text on. Either way the token was bound.
    let mut bound = plain.clone();
    bound["requestContext"]["authorizer"]["jwt"]["claims"]["cnf"] = json!(format!("map[jkt:{jkt}]"));
    assert_eq!(call(&fallback, &bound).await.0, 401, "HTTP API JWT authorizer");
    let rest = rest_at(fixture("rest_jwt.json"), "GET", "/me");
    assert_eq!(call(&fallback, &rest).await.0, 200);
    let mut rest_bound = rest;
    rest_bound["requestContext"]["authorizer"]["claims"]["cnf"] = json!(json!({ "jkt": jkt }).to_string());
    assert_eq!(call(&fallback, &rest_bound).await.0, 401, "REST JWT authorizer");

    let required = app(gateway_or_verify(issuer.verifier()).binding(Binding::new().dpop(DpopMode::Required)));
    assert_eq!(
        call(&required, &plain).await.0,
        401,
        "DPoP required: no bearer presentation passes"
    );
}
