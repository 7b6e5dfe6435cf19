//! A [`Principal`] as a Lambda authorizer's `context`, and back.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{Error, InvalidToken};
use crate::principal::{ContextValue, Principal, Source, scopes_of};

/// The context key under which the authorizer writes every claim, as one JSON
/// string (`{"sub":"u1","st-ev":{"v":true,"t":0},...}`): what a backend parses to
/// rebuild the whole principal, nested claims included.
pub const CLAIMS_KEY: &str = "claims";

/// The context key of the principal id in HTTP API answers, which have no
/// `principalId` of their own (REST answers carry it beside the context, and the
/// gateway adds it to `requestContext.authorizer`).
pub const PRINCIPAL_ID_KEY: &str = "principalId";

/// The context key of a Deny's JSON error body, for a gateway response template
/// (`$context.authorizer.body`).
pub const BODY_KEY: &str = "body";

/// Context keys with a meaning of their own: a principal's context entry with
/// one of these names is not copied into the flat context (its claim is still in
/// [`CLAIMS_KEY`]). `integrationLatency` is added by REST APIs.
pub const RESERVED_KEYS: [&str; 4] = [PRINCIPAL_ID_KEY, CLAIMS_KEY, BODY_KEY, INTEGRATION_LATENCY_KEY];

/// Added to every REST authorizer context by the gateway itself.
pub(crate) const INTEGRATION_LATENCY_KEY: &str = "integrationLatency";

pub(crate) fn is_reserved(key: &str) -> bool {
    RESERVED_KEYS.contains(&key)
}

/// The authorizer `context` for `principal`: its flat [`Principal::context`]
/// (strings, numbers and booleans only, as API Gateway requires), minus
/// [`RESERVED_KEYS`], plus every claim as one JSON string under [`CLAIMS_KEY`].
///
/// [`principal_from_authorizer_context`] reads it back.
pub fn authorizer_context(principal: &Principal) -> Map<String, Value> {
    let mut context: Map<String, Value> = principal
        .context()
        .iter()
        .filter(|(key, _)| !is_reserved(key))
        .map(|(key, value)| (key.clone(), value.to_json()))
        .collect();
    context.insert(CLAIMS_KEY.to_owned(), Value::String(principal.claims_json().to_owned()));
    context
}

/// Rebuilds a principal from a Lambda authorizer's context as API Gateway hands
/// it to the backend (REST `requestContext.authorizer`, HTTP API
/// `requestContext.authorizer.lambda`), with [`Source::GatewayLambda`].
///
/// - The id is `principalId` (REST puts it there; [`LambdaAuthorizer`](super::LambdaAuthorizer)
///   also writes it into HTTP API contexts), or else the `sub` claim. An empty
///   `principalId` is an anonymous caller: `Ok(None)`.
/// - The claims are the JSON object under [`CLAIMS_KEY`]. Without that key (an
///   authorizer of your own), the claims are the flat context itself, with values
///   as the gateway delivered them (REST APIs deliver numbers and booleans as text).
/// - The flat context is every other key except [`RESERVED_KEYS`]. Where the
///   gateway turned a value into text and the claim of the same name holds the
///   typed value (`"3"` and `3`), the typed value is restored.
/// - The scopes come from the `scope` and `scp` claims.
///
/// Errors (never a principal) for a `principalId` that is not a string, a
/// [`CLAIMS_KEY`] that is not a JSON object (or text of one), a context value
/// that is not a string, number or boolean, and a context with no id at all.
pub fn principal_from_authorizer_context<'a>(
    context: impl IntoIterator<Item = (&'a String, &'a Value)>,
) -> Result<Option<Principal>, Error> {
    let mut id = None;
    let mut claims = None;
    let mut flat: BTreeMap<String, Value> = BTreeMap::new();
    for (key, value) in context {
        match key.as_str() {
            PRINCIPAL_ID_KEY => match value {
                Value::String(s) => id = Some(s.clone()),
                _ => return Err(bad("principalId is not a string")),
            },
            CLAIMS_KEY => {
                claims = Some(match value {
                    Value::String(text) => match serde_json::from_str::<Value>(text) {
                        Ok(Value::Object(map)) => map,
                        _ => return Err(bad("`claims` is not the JSON text of an object")),
                    },
                    Value::Object(map) => map.clone(),
                    _ => return Err(bad("`claims` is neither an object nor its JSON text")),
                })
            }
            key if is_reserved(key) => {}
            _ => match value {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                    flat.insert(key.clone(), value.clone());
                }
                _ => return Err(bad("a context value is not a string, number or boolean")),
            },
        }
    }
    if id.as_deref() == Some("") {
        return Ok(None);
    }
    let context: BTreeMap<String, ContextValue> = flat
        .iter()
        .map(|(key, value)| {
            let typed = claims
                .as_ref()
                .and_then(|claims| claims.get(key))
                .filter(|claim| same_scalar(value, claim))
                .unwrap_or(value);
            (
                key.clone(),
                ContextValue::from_json(typed).unwrap_or_else(|| text_of(value)),
            )
        })
        .collect();
    let claims = claims.unwrap_or_else(|| flat.into_iter().collect());
    let id = match id {
        Some(id) => id,
        None => match claims.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            _ => return Err(bad("no principalId and no `sub` claim")),
        },
    };
    let scopes = scopes_of(&claims);
    Ok(Some(
        Principal::new(id, Source::GatewayLambda)
            .with_claims(claims)
            .with_scopes(scopes)
            .with_context(context),
    ))
}

fn text_of(value: &Value) -> ContextValue {
    ContextValue::String(value.to_string())
}

/// Whether a context value as delivered is the claim's scalar value, possibly
/// turned into text by the gateway.
fn same_scalar(delivered: &Value, claim: &Value) -> bool {
    if delivered == claim {
        return true;
    }
    let Value::String(text) = delivered else {
        return false;
    };
    match claim {
        Value::Bool(b) => text == if *b { "true" } else { "false" },
        Value::Number(n) => {
            *text == n.to_string()
                || (text.parse::<f64>().ok().filter(|f| f.is_finite()) == n.as_f64() && n.as_f64().is_some())
        }
        _ => false,
    }
}

fn bad(what: &'static str) -> Error {
    tracing::warn!(
        problem = what,
        "the Lambda authorizer context from API Gateway is malformed; request refused"
    );
    Error::InvalidToken(InvalidToken::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> Result<Option<Principal>, Error> {
        principal_from_authorizer_context(v.as_object().unwrap())
    }

    #[test]
    fn restores_types_from_claims() {
        let claims = json!({"sub": "u1", "n": 3, "ok": true, "s": "3", "scope": "a b"}).to_string();
        let p = read(
            json!({"principalId": "u1", "claims": claims, "n": "3", "ok": "true", "s": "3", "integrationLatency": 5}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(p.id(), "u1");
        assert_eq!(p.context()["n"], ContextValue::Number(3.into()));
        assert_eq!(p.context()["ok"], ContextValue::Bool(true));
        assert_eq!(p.context()["s"], ContextValue::String("3".into()));
        assert_eq!(p.scopes(), ["a", "b"]);
        assert_eq!(p.source(), Source::GatewayLambda);
        assert_eq!(p.context().len(), 3);
    }

    #[test]
    fn foreign_context_without_claims() {
        let p = read(json!({"principalId": "admin", "clientId": 1, "clientName": "Exata"}))
            .unwrap()
            .unwrap();
        assert_eq!(p.claims()["clientId"], json!(1));
        assert_eq!(p.context()["clientName"], ContextValue::String("Exata".into()));
        let by_sub = read(json!({"sub": "u2"})).unwrap().unwrap();
        assert_eq!(by_sub.id(), "u2");
    }

    #[test]
    fn anonymous_and_malformed() {
        assert!(read(json!({"principalId": ""})).unwrap().is_none());
        for bad in [
            json!({"principalId": 7}),
            json!({"principalId": "u", "claims": "not json"}),
            json!({"principalId": "u", "claims": "[1]"}),
            json!({"principalId": "u", "claims": 5}),
            json!({"principalId": "u", "nested": {"a": 1}}),
            json!({"principalId": "u", "nil": null}),
            json!({"n": 1}),
            json!({}),
        ] {
            assert!(read(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn writes_claims_and_drops_reserved_keys() {
        let claims = json!({"sub": "u1", "body": "x", "email": "a@b"});
        let mut context = BTreeMap::new();
        context.insert("email".to_owned(), ContextValue::String("a@b".into()));
        context.insert("body".to_owned(), ContextValue::String("x".into()));
        let p = Principal::new("u1", Source::Bearer)
            .with_claims(claims.as_object().unwrap().clone())
            .with_context(context);
        let c = authorizer_context(&p);
        assert_eq!(c.len(), 2);
        assert_eq!(c["email"], "a@b");
        let back: Value = serde_json::from_str(c["claims"].as_str().unwrap()).unwrap();
        assert_eq!(back, claims);
    }
}
