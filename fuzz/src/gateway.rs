//! Gateway-context parsing (feature `lambda`): what API Gateway hands a
//! function behind it, read back into a [`Principal`].

use authorizer::Principal;
use authorizer::lambda::{
    RESERVED_KEYS, authorizer_context, parse_flattened_claims, principal_from_authorizer_context,
    principal_from_request_context, principal_from_websocket_event,
};
use lambda_http::aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use lambda_http::request::RequestContext;
use serde_json::{Map, Value};

/// Input: an API Gateway event (REST, HTTP API or WebSocket) as JSON; when it
/// is not one, the same JSON as a Lambda authorizer's flat context and as
/// flattened JWT-authorizer claims.
pub fn gateway(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) else {
        return;
    };
    // Only `requestContext`: lambda_http's own event conversion panics on some
    // malformed URLs and hosts (lambda_http 1.3 `build_request_uri`), which is
    // not this crate's code; the context is what this crate reads.
    if let Some(context) = object.get("requestContext")
        && let Ok(context) = serde_json::from_value::<RequestContext>(context.clone())
        && let Some(Ok(principal)) = principal_from_request_context(&context)
    {
        check_principal(&principal);
    }
    if let Ok(event) = serde_json::from_value::<ApiGatewayWebsocketProxyRequest>(Value::Object(object.clone()))
        && let Some(Ok(principal)) = principal_from_websocket_event(&event)
    {
        check_principal(&principal);
    }
    if let Ok(Some(principal)) = principal_from_authorizer_context(&object) {
        assert!(
            principal.context().keys().all(|k| !RESERVED_KEYS.contains(&k.as_str())),
            "a reserved key read into the flat context"
        );
        check_principal(&principal);
    }
    let flat: Map<String, Value> = object
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str()
                    .map_or_else(|| Value::String(v.to_string()), |s| Value::String(s.to_owned())),
            )
        })
        .collect();
    assert_eq!(
        parse_flattened_claims(&flat).len(),
        flat.len(),
        "a flattened claim was lost"
    );
}

/// What the lambda module documents: a non-empty id, and an authorizer context
/// (scalars only, as API Gateway requires, no reserved key but its own) that
/// reads back to the same claims, and to the same flat context but for the
/// reserved keys.
fn check_principal(principal: &Principal) {
    assert!(!principal.id().is_empty(), "a principal with an empty id");
    let context = authorizer_context(principal);
    assert!(
        context
            .values()
            .all(|v| v.is_string() || v.is_number() || v.is_boolean()),
        "an authorizer context value API Gateway would refuse"
    );
    let mut with_id = context.clone();
    with_id.insert("principalId".to_owned(), Value::String(principal.id().to_owned()));
    let back = principal_from_authorizer_context(&with_id)
        .expect("an authorizer context we wrote reads back")
        .expect("with a principal");
    assert_eq!(back.id(), principal.id(), "the id changed on the way back");
    assert_eq!(back.claims(), principal.claims(), "the claims changed on the way back");
    let unreserved = |p: &Principal| {
        p.context()
            .iter()
            .filter(|(k, _)| !RESERVED_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        unreserved(&back),
        unreserved(principal),
        "the context changed on the way back"
    );
}
