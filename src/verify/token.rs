//! The compact JWS form, parsed strictly before any key is touched.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{Error, InvalidToken};

/// No token this crate verifies is longer, whoever read it.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// The three segments of a compact JWS.
pub(crate) struct Parts<'a> {
    /// `header.payload`, the bytes the signature covers.
    pub(crate) signing_input: &'a str,
    header: &'a str,
    payload: &'a str,
    /// The base64url signature.
    pub(crate) signature: &'a str,
}

/// The header members we act on. Key-source members (`jku`, `x5u`, `x5c`,
/// `jwk`) are deliberately not read: keys come only from configuration.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    cty: Option<String>,
}

/// A checked header.
pub(crate) struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) typ: Option<String>,
}

impl<'a> Parts<'a> {
    /// Exactly three non-empty base64url segments: anything else (`none`
    /// tokens with an empty signature, JWE, whitespace, padding) is malformed.
    pub(crate) fn parse(token: &'a str) -> Result<Self, Error> {
        // A backstop for callers of `Verifier::verify` that read tokens
        // themselves; credentials from requests are bounded lower, and earlier.
        if token.len() > MAX_TOKEN_BYTES {
            return Err(InvalidToken::TooLarge.into());
        }
        let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
        if !token.bytes().all(base64url) {
            return Err(InvalidToken::Malformed.into());
        }
        let mut segments = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (segments.next(), segments.next(), segments.next(), segments.next())
        else {
            return Err(InvalidToken::Malformed.into());
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(InvalidToken::Malformed.into());
        }
        Ok(Parts {
            signing_input: &token[..header.len() + 1 + payload.len()],
            header,
            payload,
            signature,
        })
    }

    /// Every header member, parsed strictly: UTF-8 throughout and unique
    /// member names, known or not (RFC 7515 §4, RFC 8725 §3.7).
    pub(crate) fn header_members(&self) -> Result<Map<String, Value>, Error> {
        strict_object(&decode(self.header)?)
    }

    pub(crate) fn header(&self) -> Result<Header, Error> {
        let members = self.header_members()?;
        // RFC 7515 §4.1.11: a `crit` we do not implement must be rejected; we implement none.
        // RFC 7797 `b64` changes what the signature covers. Present at all (even `null`) is refused.
        if members.contains_key("crit") || members.contains_key("b64") {
            return Err(InvalidToken::UnsupportedHeader.into());
        }
        let raw = RawHeader::deserialize(Value::Object(members)).map_err(|_| InvalidToken::Malformed)?;
        // Nested JWTs are not access tokens; RFC 7515 §4.1.10: `JWT` is `application/JWT`.
        let nested = |cty: &str| cty.eq_ignore_ascii_case("jwt") || cty.eq_ignore_ascii_case("application/jwt");
        if raw.cty.as_deref().is_some_and(nested) {
            return Err(InvalidToken::UnsupportedHeader.into());
        }
        // Exact, case-sensitive names only: `none`, `None`, `NONE` all fail here.
        let alg = raw.alg.parse().map_err(|_| InvalidToken::Algorithm)?;
        Ok(Header {
            alg,
            kid: raw.kid,
            typ: raw.typ,
        })
    }

    pub(crate) fn claims(&self) -> Result<Map<String, Value>, Error> {
        strict_object(&decode(self.payload)?)
    }
}

/// One JSON object with unique member names, and nothing after it.
fn strict_object(bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let object = de.deserialize_map(StrictMap).map_err(|_| InvalidToken::Malformed)?;
    de.end().map_err(|_| InvalidToken::Malformed)?;
    Ok(object)
}

use serde::Deserializer as _;

fn decode(segment: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| InvalidToken::Malformed.into())
}

/// A JSON object whose top-level member names are unique. Parsers disagree on
/// which of two duplicates wins, so a claim set with duplicates means two
/// things at once and is refused (RFC 7519 §4 requires unique names; RFC 8725 §2.6).
struct StrictMap;

impl<'de> Visitor<'de> for StrictMap {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with unique member names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = Map::new();
        while let Some((key, value)) = access.next_entry::<String, Value>()? {
            if map.contains_key(&key) {
                return Err(serde::de::Error::custom("duplicate claim"));
            }
            map.insert(key, value);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.c2ln", b64(header), b64(payload))
    }

    fn reason(r: Result<impl Sized, Error>) -> InvalidToken {
        match r {
            Err(Error::InvalidToken(reason)) => reason,
            Err(other) => panic!("unexpected {other:?}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn segments_must_be_exactly_three_and_base64url() {
        for bad in [
            "", "a", "a.b", "a.b.", ".b.c", "a..c", "a.b.c.d", "a.b.c ", " a.b.c", "a.b.c=", "a+b.c.d", "á.b.c",
        ] {
            assert_eq!(reason(Parts::parse(bad)), InvalidToken::Malformed, "{bad:?}");
        }
        let p = Parts::parse("aa.bb.cc").unwrap();
        assert_eq!(p.signing_input, "aa.bb");
        assert_eq!(p.signature, "cc");
    }

    #[test]
    fn header_rules() {
        let header = |h: &str| Parts::parse(&token(h, "{}")).unwrap().header().map(|h| h.alg);
        assert_eq!(
            header(r#"{"alg":"RS256","jku":"https://evil","jwk":{},"x5u":"x"}"#).unwrap(),
            Algorithm::RS256
        );
        for none in ["none", "None", "NONE", "nOnE", "rs256", ""] {
            assert_eq!(
                reason(header(&format!(r#"{{"alg":"{none}"}}"#))),
                InvalidToken::Algorithm
            );
        }
        assert_eq!(
            reason(header(r#"{"alg":"RS256","crit":["exp"]}"#)),
            InvalidToken::UnsupportedHeader
        );
        assert_eq!(
            reason(header(r#"{"alg":"RS256","b64":false}"#)),
            InvalidToken::UnsupportedHeader
        );
        assert_eq!(
            reason(header(r#"{"alg":"RS256","cty":"JWT"}"#)),
            InvalidToken::UnsupportedHeader
        );
        assert_eq!(
            reason(header(r#"{"alg":"RS256","alg":"HS256"}"#)),
            InvalidToken::Malformed
        );
        assert_eq!(reason(header(r#"{"alg":"RS256","kid":7}"#)), InvalidToken::Malformed);
        assert_eq!(reason(header(r#"{"alg":1}"#)), InvalidToken::Malformed);
        assert_eq!(reason(header("[]")), InvalidToken::Malformed);
    }

    #[test]
    fn claims_must_be_one_object_without_duplicates() {
        let claims = |c: &str| Parts::parse(&token(r#"{"alg":"RS256"}"#, c)).unwrap().claims();
        assert_eq!(claims(r#"{"sub":"a","n":{"x":1}}"#).unwrap()["sub"], "a");
        assert_eq!(reason(claims(r#"{"sub":"a","sub":"b"}"#)), InvalidToken::Malformed);
        assert_eq!(reason(claims(r#"{"sub":"a"} {}"#)), InvalidToken::Malformed);
        assert_eq!(reason(claims(r#"["sub"]"#)), InvalidToken::Malformed);
        assert_eq!(reason(claims("not json")), InvalidToken::Malformed);
    }
}
