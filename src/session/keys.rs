//! The key layout, shared by every store and by services in other languages
//! that revoke by writing a key (see [the module docs](super#key-layout)).

use std::fmt::Write;

/// The prefix of every key and of the channel.
pub(crate) const DEFAULT_PREFIX: &str = "authorizer:";

/// Percent-encodes every byte outside RFC 3986's unreserved set
/// (`A-Z a-z 0-9 - . _ ~`), in upper-case hex: so no identifier can hold a
/// `{`, `}`, `:` or a control character, and none can reach into another key,
/// another hash slot or the protocol. Python's `quote(s, safe="")` writes the same.
pub(crate) fn encode(part: &[u8]) -> String {
    let mut out = String::with_capacity(part.len());
    for &byte in part {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The inverse of [`encode`], for a subject read back from the channel; `None`
/// for anything [`encode`] cannot have written.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn decode(encoded: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut bytes = encoded.iter();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'%' => {
                let high = (*bytes.next()? as char).to_digit(16)?;
                let low = (*bytes.next()? as char).to_digit(16)?;
                out.push((high * 16 + low) as u8);
            }
            b if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') => out.push(b),
            _ => return None,
        }
    }
    String::from_utf8(out).ok()
}

/// Builds the keys of one prefix.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Default for Keys {
    fn default() -> Self {
        Keys::new(DEFAULT_PREFIX)
    }
}

impl Keys {
    pub(crate) fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_owned(),
        }
    }

    /// `<prefix>rv:{<subject>}:`: every key of one subject shares the hash tag.
    fn subject_part(&self, subject: &str) -> String {
        format!("{}rv:{{{}}}:", self.prefix, encode(subject.as_bytes()))
    }

    /// One token, by `jti`.
    pub(crate) fn token(&self, subject: &str, jti: &str) -> String {
        format!("{}jti:{}", self.subject_part(subject), encode(jti.as_bytes()))
    }

    /// One session, by handle.
    pub(crate) fn session(&self, subject: &str, handle: &str) -> String {
        format!("{}sid:{}", self.subject_part(subject), encode(handle.as_bytes()))
    }

    /// Every token of a subject issued until a time.
    pub(crate) fn before(&self, subject: &str) -> String {
        format!("{}before", self.subject_part(subject))
    }

    /// The pub/sub channel of revocation events.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn channel(&self) -> String {
        format!("{}rv", self.prefix)
    }

    /// A replay key ([`SessionStore::first_use`](super::SessionStore::first_use)).
    pub(crate) fn once(&self, key: &str) -> String {
        format!("{}once:{{{}}}", self.prefix, encode(key.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_as_documented() {
        let keys = Keys::default();
        assert_eq!(keys.token("user-1", "a1"), "authorizer:rv:{user-1}:jti:a1");
        assert_eq!(keys.session("user-1", "h"), "authorizer:rv:{user-1}:sid:h");
        assert_eq!(keys.before("user-1"), "authorizer:rv:{user-1}:before");
        assert_eq!(keys.channel(), "authorizer:rv");
        assert_eq!(keys.once("jti-1"), "authorizer:once:{jti-1}");
        assert_eq!(
            keys.token("a@b.c", "x y"),
            "authorizer:rv:{a%40b.c}:jti:x%20y",
            "as Python's quote(s, safe='') writes them"
        );
    }

    #[test]
    fn hostile_identifiers_reach_no_other_key() {
        let keys = Keys::default();
        // Without encoding these two would collide.
        assert_ne!(keys.token("a}:jti:b", "c"), keys.token("a", "b}:jti:c"));
        for hostile in ["a\r\nDEL x", "*", "?[a-z]", "{x}", "}", "%", "é", &"x".repeat(10_000)] {
            let key = keys.token(hostile, hostile);
            assert!(key.bytes().all(|b| b.is_ascii_graphic()), "{key:.40}");
            let tag = &key[key.find('{').unwrap() + 1..key.find('}').unwrap()];
            assert_eq!(
                decode(tag.as_bytes()).as_deref(),
                Some(hostile),
                "the tag is the subject alone"
            );
        }
    }

    #[test]
    fn decode_refuses_what_encode_never_writes() {
        for bad in ["%", "%G0", "a b", "{", "%FF"] {
            assert_eq!(decode(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(decode(b"a%2Fb").as_deref(), Some("a/b"));
    }
}
