//! Properties of the Lambda adapters:
//!
//! - a principal produced by the Lambda authorizer, carried by API Gateway into
//!   the backend event (REST `requestContext.authorizer`, with values as text or
//!   typed; HTTP API `requestContext.authorizer.lambda`; a WebSocket route's
//!   `requestContext.authorizer` after `$connect`) and read back behind the
//!   gateway, equals the original: id, claims, scopes and context;
//! - no input makes the readers or the authorizer panic, and an event without a
//!   valid credential never gets an `Allow` for a principal.

#![cfg(all(feature = "lambda", feature = "testing"))]

use std::collections::BTreeMap;

use authorizer::credential::Credential;
use authorizer::lambda::{
    AuthorizerAnswer, HttpApiAnswer, LambdaAuthorizer, principal_from_extensions, principal_from_websocket_event,
};
use authorizer::routes::{RouteRule, RouteTable};
use authorizer::testing::TestIssuer;
use authorizer::{ContextClaims, Principal, PrincipalMapping, Source};
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::events;
use events::fixture;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Claim names that are not registered (the test issuer sets those) and not
/// reserved context keys.
fn claim_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_:.-]{0,7}".prop_filter("registered or reserved", |name| {
        !["iss", "aud", "exp", "nbf", "iat", "sub", "claims", "body"].contains(&name.as_str())
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (i64::MAX as u64..=u64::MAX).prop_map(Value::from),
        any::<i32>().prop_map(|n| Value::from(f64::from(n) / 64.0)),
        "\\PC{0,12}".prop_map(Value::String),
        "[a-z:]{1,8}( [a-z:]{1,8}){0,2}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..3).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Mapping {
    AllScalars,
    Only(Vec<usize>),
    Nothing,
}

fn mapping() -> impl Strategy<Value = Mapping> {
    prop_oneof![
        Just(Mapping::AllScalars),
        Just(Mapping::Nothing),
        prop::collection::vec(0usize..8, 0..4).prop_map(Mapping::Only),
    ]
}

/// How the gateway hands a REST context on: values as they were, or as text.
fn as_text(value: &Value) -> Value {
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other.clone(),
    }
}

fn read_back(event: &Value) -> Principal {
    let request = lambda_http::request::from_str(&event.to_string()).expect("lambda_http reads the event");
    principal_from_extensions(request.extensions())
        .expect("an authorizer context")
        .expect("a readable context")
}

fn assert_same(back: &Principal, original: &Principal) {
    assert_eq!(back.id(), original.id());
    assert_eq!(back.claims(), original.claims());
    assert_eq!(back.scopes(), original.scopes());
    assert_eq!(back.context(), original.context());
    assert_eq!(back.source(), Source::GatewayLambda);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn authorizer_principal_round_trips_through_the_gateway(
        sub in "\\PC{1,12}",
        claims in prop::collection::btree_map(claim_name(), json_value(), 0..6),
        scope in prop::option::of("[a-z:]{1,8}( [a-z:]{1,8}){0,2}"),
        mapping in mapping(),
    ) {
        let issuer = TestIssuer::new();
        let names: Vec<String> = claims.keys().cloned().chain(["sub".to_owned(), "scope".to_owned()]).collect();
        let context = match &mapping {
            Mapping::AllScalars => ContextClaims::AllScalars,
            Mapping::Nothing => ContextClaims::Nothing,
            Mapping::Only(picks) => ContextClaims::Only(picks.iter().map(|i| names[i % names.len()].clone()).collect()),
        };
        let verifier = issuer
            .verifier_builder()
            .principal_mapping(PrincipalMapping::default().context(context))
            .build()
            .unwrap();
        let mut token = issuer.token().subject(&sub);
        for (name, value) in &claims {
            token = token.claim(name, value.clone());
        }
        if let Some(scope) = &scope {
            token = token.claim("scope", json!(scope));
        }
        let token = token.sign();
        let authorizer = LambdaAuthorizer::new(verifier.clone(), RouteTable::new());
        runtime().block_on(async {
            let original = verifier.verify(Credential::new(&token, Source::Bearer)).await.unwrap();

            // REST: TOKEN event, IAM policy answer, `requestContext.authorizer` in the backend.
            let event = json!({
                "type": "TOKEN",
                "authorizationToken": format!("Bearer {token}"),
                "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET/me",
            });
            let AuthorizerAnswer::Rest(answer) = authorizer.handle(event).await.unwrap() else {
                panic!("a REST event gets a policy");
            };
            prop_assert_eq!(answer.principal_id.as_deref(), Some(original.id()));
            prop_assert!(answer.context.values().all(|v| v.is_string() || v.is_number() || v.is_boolean()));
            for text in [false, true] {
                let mut delivered: Map<String, Value> = answer
                    .context
                    .iter()
                    .map(|(k, v)| (k.clone(), if text { as_text(v) } else { v.clone() }))
                    .collect();
                delivered.insert("principalId".into(), json!(answer.principal_id));
                delivered.insert("integrationLatency".into(), json!(17));
                let mut backend = fixture("rest_no_authorizer.json");
                backend["requestContext"]["authorizer"] = Value::Object(delivered);
                assert_same(&read_back(&backend), &original);
            }

            // HTTP API: payload 2.0 event, simple answer, `authorizer.lambda` in the backend.
            let mut event = fixture("authorizer_http_v2.json");
            event["cookies"] = json!([]);
            event["headers"]["authorization"] = json!(format!("Bearer {token}"));
            let AuthorizerAnswer::HttpApi(HttpApiAnswer::Simple(answer)) = authorizer.handle(event).await.unwrap() else {
                panic!("an HTTP API event gets a simple answer");
            };
            prop_assert!(answer.is_authorized);
            let mut backend = fixture("http_no_authorizer.json");
            backend["requestContext"]["authorizer"] = json!({ "lambda": answer.context });
            assert_same(&read_back(&backend), &original);

            // WebSocket: `$connect` REQUEST event, IAM policy answer, every route's
            // `requestContext.authorizer` in the backend.
            let mut event = fixture("authorizer_websocket_connect.json");
            event["queryStringParameters"] = Value::Null;
            event["multiValueQueryStringParameters"] = Value::Null;
            event["multiValueHeaders"]["Authorization"] = json!([format!("Bearer {token}")]);
            let AuthorizerAnswer::Rest(answer) = authorizer.handle(event).await.unwrap() else {
                panic!("a WebSocket event gets a policy");
            };
            for text in [false, true] {
                let mut delivered: Map<String, Value> = answer
                    .context
                    .iter()
                    .map(|(k, v)| (k.clone(), if text { as_text(v) } else { v.clone() }))
                    .collect();
                delivered.insert("principalId".into(), json!(answer.principal_id));
                let mut backend = fixture("websocket_default.json");
                backend["requestContext"]["authorizer"] = Value::Object(delivered);
                let backend: ApiGatewayWebsocketProxyRequest = serde_json::from_value(backend).unwrap();
                let back = principal_from_websocket_event(&backend).expect("an authorizer context").expect("a readable context");
                assert_same(&back, &original);
            }
            Ok(())
        })?;
    }

    #[test]
    fn reading_any_context_never_panics(
        context in prop::collection::btree_map(
            prop_oneof![Just("principalId".to_owned()), Just("claims".to_owned()), "[a-z]{1,4}"],
            prop_oneof![json_value(), json_value().prop_map(|v| Value::String(v.to_string()))],
            0..5,
        ),
        rest in any::<bool>(),
    ) {
        let mut backend = fixture(if rest { "rest_no_authorizer.json" } else { "http_no_authorizer.json" });
        let context = Value::Object(context.into_iter().collect());
        backend["requestContext"]["authorizer"] = if rest { context } else { json!({ "lambda": context }) };
        if let Ok(request) = lambda_http::request::from_str(&backend.to_string())
            && let Some(Ok(p)) = principal_from_extensions(request.extensions())
        {
            prop_assert!(!p.id().is_empty());
            prop_assert!(p.context().keys().all(|k| !authorizer::lambda::RESERVED_KEYS.contains(&k.as_str())));
        }
    }

    #[test]
    fn flattened_claims_never_panic(
        claims in prop::collection::btree_map(
            prop_oneof![
                Just("exp".to_owned()), Just("aud".to_owned()), Just("st-ev".to_owned()),
                Just("st-role".to_owned()), Just("st-mfa".to_owned()), Just("email_verified".to_owned()),
                "[a-z]{1,4}",
            ],
            prop_oneof![
                "\\PC{0,24}",
                "(map\\[|\\[|\\]| |:|[a-z0-9.+-]{1,4}){0,12}",
            ].prop_map(Value::String),
            0..6,
        ),
    ) {
        let flat: Map<String, Value> = claims.into_iter().collect();
        let parsed = authorizer::lambda::parse_flattened_claims(&flat);
        prop_assert_eq!(parsed.len(), flat.len());
    }

    #[test]
    fn events_without_a_valid_credential_never_allow_a_principal(
        kind in prop_oneof![Just("TOKEN"), Just("REQUEST"), Just("$connect"), Just("v2"), Just("other")],
        path in prop_oneof![
            Just("/me".to_owned()),
            Just("/public".to_owned()),
            Just("/admin".to_owned()),
            "/[a-z]{1,5}",
        ],
        credential in prop_oneof![
            Just(String::new()),
            "\\PC{0,40}",
            "Bearer [A-Za-z0-9._-]{0,60}",
            "sAccessToken=[A-Za-z0-9._-]{0,40}",
        ],
        junk in prop::collection::btree_map("[a-zA-Z]{1,12}", json_value(), 0..4),
    ) {
        let issuer = TestIssuer::new();
        let routes = RouteTable::new()
            .route("GET /public", RouteRule::optional())
            .unwrap()
            .route("ANY /me", RouteRule::session())
            .unwrap();
        let authorizer = LambdaAuthorizer::new(issuer.verifier(), routes);
        let arn = format!("arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod/GET{path}");
        let mut event: BTreeMap<String, Value> = junk;
        match kind {
            "TOKEN" => {
                event.insert("type".into(), json!("TOKEN"));
                event.insert("authorizationToken".into(), json!(credential));
                event.insert("methodArn".into(), json!(arn));
            }
            "REQUEST" => {
                event.insert("type".into(), json!("REQUEST"));
                event.insert("methodArn".into(), json!(arn));
                event.insert("headers".into(), json!({"Authorization": credential, "Cookie": credential}));
                // API Gateway always sends one; the typed event needs it.
                event.insert("requestContext".into(), fixture("authorizer_request.json")["requestContext"].clone());
            }
            "$connect" => {
                let connect = fixture("authorizer_websocket_connect.json");
                event.insert("type".into(), json!("REQUEST"));
                event.insert("methodArn".into(), connect["methodArn"].clone());
                event.insert("headers".into(), json!({"Authorization": credential, "Cookie": credential}));
                event.insert("queryStringParameters".into(), json!({"token": credential}));
                event.insert("requestContext".into(), connect["requestContext"].clone());
            }
            "v2" => {
                event.insert("version".into(), json!("2.0"));
                event.insert("type".into(), json!("REQUEST"));
                event.insert("routeArn".into(), json!(arn));
                event.insert("cookies".into(), json!([credential]));
                event.insert("requestContext".into(), fixture("authorizer_http_v2.json")["requestContext"].clone());
            }
            _ => {}
        }
        let event = Value::Object(event.into_iter().collect());
        let outcome = runtime().block_on(authorizer.handle(event));
        if let Ok(answer) = outcome {
            let principal = match &answer {
                AuthorizerAnswer::Rest(p) => p.principal_id.clone().unwrap_or_default(),
                AuthorizerAnswer::HttpApi(a) => a.context().get("principalId").and_then(Value::as_str).unwrap_or("").to_owned(),
            };
            prop_assert_eq!(principal, "");
            prop_assert!(!answer.context().contains_key("claims"));
        }
    }
}
