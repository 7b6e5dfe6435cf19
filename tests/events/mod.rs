//! API Gateway event documents for the Lambda tests: the fixtures under
//! `tests/fixtures/`, with a token put in and the route moved.

#![allow(dead_code)] // each test crate uses its own share of these

use serde_json::{Value, json};

/// The REST API and stage every fixture's `methodArn` belongs to.
pub const BASE: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123defg/prod";

/// A fixture document by file name.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The event with every `{{TOKEN}}` replaced by `token`.
pub fn with_token(event: &Value, token: &str) -> Value {
    serde_json::from_str(&event.to_string().replace("{{TOKEN}}", token)).unwrap()
}

/// A REST TOKEN authorizer event for a route.
pub fn token_event(token: &str, method: &str, path: &str) -> Value {
    let mut event = with_token(&fixture("authorizer_token.json"), token);
    event["methodArn"] = json!(format!("{BASE}/{method}{path}"));
    event
}

/// A REST proxy event for another path (the stage stays in `requestContext.path`).
pub fn rest_at(mut event: Value, method: &str, path: &str) -> Value {
    event["path"] = json!(path);
    event["resource"] = json!(path);
    event["httpMethod"] = json!(method);
    event["requestContext"]["resourcePath"] = json!(path);
    event["requestContext"]["httpMethod"] = json!(method);
    event["requestContext"]["path"] = json!(format!("/prod{path}"));
    event
}

/// An HTTP API proxy event for another path.
pub fn http_at(mut event: Value, method: &str, path: &str) -> Value {
    event["rawPath"] = json!(path);
    event["routeKey"] = json!(format!("{method} {path}"));
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["requestContext"]["routeKey"] = json!(format!("{method} {path}"));
    event
}
