//! The query of an authorizer event, as the query part of the request target
//! the pipeline reads (a credential may be a query parameter: browsers'
//! WebSocket clients can send no header of their own).
//!
//! REST and WebSocket `REQUEST` events give the parameters decoded, in
//! `queryStringParameters` and `multiValueQueryStringParameters`; they are
//! percent-encoded again here, so the pipeline decodes exactly the values the
//! event held. HTTP API payload 2.0 events give the query as the client sent
//! it, in `rawQueryString`.

use serde_json::{Map, Value};

use super::authorizer::AuthorizerError;
use super::event::{MAX_VALUES, invalid, too_many};

/// Longer than any query API Gateway forwards: it refuses a request whose
/// request line and headers exceed 10,240 bytes (a WebSocket URL, 4,096
/// characters), and decoding only shortens a query.
const MAX_QUERY_BYTES: usize = 16 * 1024;

/// The query for decoded `name=value` pairs, each percent-encoded, in order of
/// name (the values of one name in their order).
pub(super) fn encode_pairs<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> Result<String, AuthorizerError> {
    let mut pairs: Vec<(&str, &str)> = pairs.collect();
    if pairs.len() > MAX_VALUES {
        return Err(too_many("query parameters"));
    }
    let decoded: usize = pairs.iter().map(|(name, value)| name.len() + value.len() + 2).sum();
    if decoded > MAX_QUERY_BYTES {
        return Err(too_long());
    }
    pairs.sort_by_key(|(name, _)| *name);
    let mut query = String::with_capacity(decoded);
    for (name, value) in pairs {
        if !query.is_empty() {
            query.push('&');
        }
        encode(name, &mut query);
        query.push('=');
        encode(value, &mut query);
    }
    Ok(query)
}

/// A payload 2.0 event's `rawQueryString`, as sent, except that any byte a
/// query may not hold (RFC 3986: a space, `#`, a control or non-ASCII byte)
/// is percent-encoded, so the query part cannot end early or carry what a
/// request line cannot.
pub(super) fn from_raw(raw: &str) -> Result<String, AuthorizerError> {
    if raw.len() > MAX_QUERY_BYTES {
        return Err(too_long());
    }
    let mut query = String::with_capacity(raw.len());
    for &byte in raw.as_bytes() {
        if byte == b'%' || is_query_byte(byte) {
            query.push(char::from(byte));
        } else {
            push_escaped(byte, &mut query);
        }
    }
    Ok(query)
}

/// Checks a REST event's `queryStringParameters` (`{name: value}`) or
/// `multiValueQueryStringParameters` (`{name: [values]}`) as the typed reader
/// would not: `null` or absent is none, a `null` entry is no value, any other
/// value must be a string (an array of strings), and no more values or bytes
/// than a request can carry.
pub(super) fn check_parameters(
    event: &mut Map<String, Value>,
    field: &str,
    multi: bool,
) -> Result<(), AuthorizerError> {
    let parameters = match event.get_mut(field) {
        None => return Ok(()),
        Some(Value::Null) => {
            event.remove(field);
            return Ok(());
        }
        Some(Value::Object(parameters)) => parameters,
        Some(_) => return Err(invalid(&format!("`{field}` is not an object"))),
    };
    let (mut count, mut bytes) = (0usize, 0usize);
    for (name, value) in parameters.iter() {
        let values: &[Value] = match value {
            Value::Null => &[],
            Value::String(_) if !multi => std::slice::from_ref(value),
            Value::Array(values) if multi && values.iter().all(Value::is_string) => values,
            _ => return Err(invalid(&format!("a `{field}` value is not what API Gateway sends"))),
        };
        count += values.len();
        bytes += values
            .iter()
            .map(|v| name.len() + v.as_str().map_or(0, str::len) + 2)
            .sum::<usize>();
    }
    if count > MAX_VALUES {
        return Err(too_many("query parameters"));
    }
    // The map the decision does not read is held to the same bound.
    if bytes > MAX_QUERY_BYTES {
        return Err(too_long());
    }
    parameters.retain(|_, value| !value.is_null());
    Ok(())
}

fn too_long() -> AuthorizerError {
    invalid("a query longer than a request can carry")
}

/// RFC 3986 `unreserved`: the bytes a name or value keeps as they are.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 `query` bytes, `%` aside: `pchar`, `/` and `?`.
fn is_query_byte(byte: u8) -> bool {
    is_unreserved(byte)
        || matches!(
            byte,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@' | b'/' | b'?'
        )
}

/// Every byte but `unreserved` ones escaped: `&`, `=`, `+` and `%` in a value
/// then read back as themselves, whichever way a reader treats `+`.
fn encode(text: &str, out: &mut String) {
    for &byte in text.as_bytes() {
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            push_escaped(byte, out);
        }
    }
}

fn push_escaped(byte: u8, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0f)]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pairs_are_encoded_and_ordered_by_name() {
        let pairs = [("token", "a+b c&d=e%f/é"), ("a", "1"), ("token", "2")];
        assert_eq!(
            encode_pairs(pairs.into_iter()).unwrap(),
            "a=1&token=a%2Bb%20c%26d%3De%25f%2F%C3%A9&token=2"
        );
        assert_eq!(encode_pairs(std::iter::empty()).unwrap(), "");
        assert_eq!(encode_pairs([("", "")].into_iter()).unwrap(), "=");
    }

    #[test]
    fn too_many_or_too_long_is_refused() {
        let many = vec![("a", "b"); MAX_VALUES + 1];
        assert!(encode_pairs(many.into_iter()).is_err());
        let long = "x".repeat(MAX_QUERY_BYTES);
        assert!(encode_pairs([("token", long.as_str())].into_iter()).is_err());
        assert!(from_raw(&long).is_ok());
        assert!(from_raw(&format!("{long}x")).is_err());
    }

    #[test]
    fn raw_queries_keep_their_encoding() {
        assert_eq!(from_raw("token=a%2Bb&x=1+2").unwrap(), "token=a%2Bb&x=1+2");
        assert_eq!(from_raw("a=b c#d\u{1}é").unwrap(), "a=b%20c%23d%01%C3%A9");
    }

    #[test]
    fn parameter_maps_are_checked() {
        let mut event = json!({
            "queryStringParameters": {"token": "t", "gone": null},
            "multiValueQueryStringParameters": null,
        });
        let map = event.as_object_mut().unwrap();
        check_parameters(map, "queryStringParameters", false).unwrap();
        check_parameters(map, "multiValueQueryStringParameters", true).unwrap();
        assert_eq!(
            Value::Object(map.clone()),
            json!({"queryStringParameters": {"token": "t"}})
        );
        for (field, multi, value) in [
            ("queryStringParameters", false, json!({"token": 5})),
            ("queryStringParameters", false, json!({"token": ["t"]})),
            ("queryStringParameters", false, json!("token=t")),
            ("multiValueQueryStringParameters", true, json!({"token": "t"})),
            ("multiValueQueryStringParameters", true, json!({"token": ["t", 1]})),
        ] {
            let mut event = json!({ field: value });
            assert!(
                check_parameters(event.as_object_mut().unwrap(), field, multi).is_err(),
                "{event}"
            );
        }
        let many: Map<String, Value> = (0..=MAX_VALUES).map(|i| (format!("p{i}"), json!("v"))).collect();
        let mut event = json!({"queryStringParameters": many});
        assert!(check_parameters(event.as_object_mut().unwrap(), "queryStringParameters", false).is_err());
        let mut event = json!({"multiValueQueryStringParameters": {"room": ["x".repeat(MAX_QUERY_BYTES)]}});
        assert!(check_parameters(event.as_object_mut().unwrap(), "multiValueQueryStringParameters", true).is_err());
    }
}
