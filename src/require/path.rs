//! Paths into a claim's value: object keys and array indexes.

use std::fmt;

use serde_json::{Map, Value};

/// One step of a path into a claim's value: an object key or an array index.
///
/// Made from a string (a key) or a `usize` (an index), so
/// `claim("st-role").at("v").at(0)` reads the first role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    /// A key of a JSON object.
    Key(Box<str>),
    /// A position in a JSON array (from 0).
    Index(usize),
}

impl From<&str> for PathSegment {
    fn from(key: &str) -> Self {
        PathSegment::Key(key.into())
    }
}

impl From<String> for PathSegment {
    fn from(key: String) -> Self {
        PathSegment::Key(key.into())
    }
}

impl From<usize> for PathSegment {
    fn from(index: usize) -> Self {
        PathSegment::Index(index)
    }
}

impl fmt::Display for PathSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSegment::Key(key) => write!(f, ".{key}"),
            PathSegment::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// What a path led to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Lookup<'a> {
    /// The value at the path.
    Found(&'a Value),
    /// The claim, a key or an index is absent.
    Missing,
    /// The path needed an object or array here, and found this value instead.
    WrongType(&'a Value),
}

/// Follows `path` from the top-level claim `claim`. Iterative, so the depth of
/// the claims cannot matter; it never allocates.
pub(crate) fn resolve<'a>(claims: &'a Map<String, Value>, claim: &str, path: &[PathSegment]) -> Lookup<'a> {
    let Some(mut value) = claims.get(claim) else {
        return Lookup::Missing;
    };
    for segment in path {
        let next = match (segment, value) {
            (PathSegment::Key(key), Value::Object(map)) => map.get(&**key),
            (PathSegment::Index(index), Value::Array(items)) => items.get(*index),
            _ => return Lookup::WrongType(value),
        };
        match next {
            Some(next) => value = next,
            None => return Lookup::Missing,
        }
    }
    Lookup::Found(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Map<String, Value> {
        json!({"st-ev": {"v": true}, "roles": [["a", "b"], {"x": 1}], "s": "text", "n": null})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn follows_keys_and_indexes() {
        let c = claims();
        assert_eq!(resolve(&c, "st-ev", &["v".into()]), Lookup::Found(&json!(true)));
        assert_eq!(resolve(&c, "roles", &[0.into(), 1.into()]), Lookup::Found(&json!("b")));
        assert_eq!(resolve(&c, "roles", &[1.into(), "x".into()]), Lookup::Found(&json!(1)));
        assert_eq!(resolve(&c, "s", &[]), Lookup::Found(&json!("text")));
    }

    #[test]
    fn missing_and_wrong_types() {
        let c = claims();
        assert_eq!(resolve(&c, "absent", &[]), Lookup::Missing);
        assert_eq!(resolve(&c, "st-ev", &["t".into()]), Lookup::Missing);
        assert_eq!(resolve(&c, "roles", &[5.into()]), Lookup::Missing);
        assert_eq!(resolve(&c, "s", &["v".into()]), Lookup::WrongType(&json!("text")));
        assert_eq!(resolve(&c, "n", &["v".into()]), Lookup::WrongType(&Value::Null));
        assert_eq!(
            resolve(&c, "roles", &["v".into()]),
            Lookup::WrongType(&json!([["a", "b"], {"x": 1}]))
        );
        assert_eq!(
            resolve(&c, "st-ev", &[0.into()]),
            Lookup::WrongType(&json!({"v": true}))
        );
    }

    #[test]
    fn displays_like_a_path() {
        let path: Vec<PathSegment> = vec!["v".into(), 2.into()];
        let shown: String = path.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ".v[2]");
    }
}
