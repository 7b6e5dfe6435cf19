//! `htu`: the URL a client used, rebuilt on the server, and the comparison
//! of two URLs after normalisation (RFC 9449 §4.3 point 9, RFC 3986 §6.2.2-3).

use crate::credential::Headers;
use crate::pipeline::RequestParts;

/// Where the server learns the URL its clients use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// From the request: its scheme (else `default_scheme`) and authority.
    Request { default_scheme: String },
    /// A configured public base URL (`https://api.example.com/v1`); the
    /// request's path is appended.
    Public(String),
    /// `Forwarded`, then `X-Forwarded-Proto`/`X-Forwarded-Host`, set by a
    /// trusted proxy; the request's own values where they are absent.
    Forwarded { default_scheme: String },
}

impl Origin {
    /// The normalised URL of a request (without query), or `None` when the
    /// request names no usable authority.
    pub(crate) fn url_of<H: Headers + ?Sized>(&self, parts: &RequestParts<'_, H>) -> Option<String> {
        let path = parts.target().split(['?', '#']).next().unwrap_or("/");
        let url = match self {
            Origin::Public(base) => format!("{}{path}", base.trim_end_matches('/')),
            Origin::Request { default_scheme } => {
                let scheme = parts.scheme().unwrap_or(default_scheme);
                format!("{scheme}://{}{path}", parts.authority()?)
            }
            Origin::Forwarded { default_scheme } => {
                let (proto, host) = forwarded(parts.headers());
                let scheme = proto.or(parts.scheme()).unwrap_or(default_scheme);
                let host = host.or_else(|| parts.authority())?;
                format!("{scheme}://{host}{path}")
            }
        };
        normalize(&url)
    }
}

/// `proto` and `host` of the first `Forwarded` element (RFC 7239), else of
/// `X-Forwarded-Proto` and `X-Forwarded-Host` (their first item): the values
/// the proxy nearest the client wrote.
fn forwarded<H: Headers + ?Sized>(headers: &H) -> (Option<&str>, Option<&str>) {
    let first_item = |name: &str| {
        headers
            .header_values(name)
            .next()
            .and_then(|value| std::str::from_utf8(value).ok())
            .and_then(|value| value.split(',').next())
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    if let Some(element) = first_item("forwarded") {
        let mut proto = None;
        let mut host = None;
        for pair in element.split(';') {
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                "proto" => proto = Some(value),
                "host" => host = Some(value),
                _ => {}
            }
        }
        if proto.is_some() || host.is_some() {
            return (proto, host);
        }
    }
    (first_item("x-forwarded-proto"), first_item("x-forwarded-host"))
}

/// An absolute `http(s)` URL without query and fragment, normalised for
/// comparison: scheme and host in lowercase, no default port, an empty path
/// as `/`, percent-escapes of unreserved characters decoded and the others
/// in uppercase. `None` for anything else (userinfo, another scheme, no host).
pub(crate) fn normalize(url: &str) -> Option<String> {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    if authority.is_empty() || authority.contains('@') || !authority.is_ascii() {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let authority = match authority.rsplit_once(':') {
        // An IPv6 literal's last colon is inside its brackets.
        Some((host, port)) if !port.contains(']') => {
            if !port.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let digits = port.trim_start_matches('0');
            // `host:` is the default port (RFC 3986 §3.2.3); `host:00` is port 0.
            let port = if digits.is_empty() && !port.is_empty() {
                "0"
            } else {
                digits
            };
            if port == default_port || port.is_empty() {
                host.to_owned()
            } else {
                format!("{host}:{port}")
            }
        }
        _ => authority,
    };
    if authority.is_empty() || authority.starts_with(':') {
        return None;
    }
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        normalize_escapes(path)?
    };
    Some(format!("{scheme}://{authority}{path}"))
}

/// Percent-escapes of unreserved characters decoded (`%7E` is `~`), the
/// others in uppercase hex; a broken escape, or a byte that is not visible
/// ASCII, is `None`.
fn normalize_escapes(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte != b'%' {
            if !byte.is_ascii_graphic() {
                return None;
            }
            out.push(char::from(byte));
            index += 1;
            continue;
        }
        let hex = bytes.get(index + 1..index + 3)?;
        let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
        if value.is_ascii_alphanumeric() || matches!(value, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(value));
        } else {
            out.push_str(&format!("%{value:02X}"));
        }
        index += 3;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_compare_after_normalisation() {
        let same = [
            ("https://API.Example.com:443/a/b", "https://api.example.com/a/b"),
            ("HTTPS://api.example.com", "https://api.example.com/"),
            ("http://api.example.com:80/x?y=1#z", "http://api.example.com/x"),
            (
                "https://api.example.com/%7euser/%2f",
                "https://api.example.com/~user/%2F",
            ),
            ("https://[::1]:8443/x", "https://[::1]:8443/x"),
            ("https://api.example.com:0443/x", "https://api.example.com/x"),
        ];
        for (a, b) in same {
            assert_eq!(normalize(a), normalize(b), "{a} vs {b}");
            assert!(normalize(a).is_some());
        }
        let different = [
            ("https://api.example.com/a", "http://api.example.com/a"),
            ("https://api.example.com/a", "https://evil.example.com/a"),
            ("https://api.example.com/a", "https://api.example.com/A"),
            ("https://api.example.com:8443/a", "https://api.example.com/a"),
            ("https://api.example.com/a", "https://api.example.com/a/"),
        ];
        for (a, b) in different {
            assert_ne!(normalize(a), normalize(b), "{a} vs {b}");
        }
        for bad in [
            "ftp://x/y",
            "https://user@api.example.com/",
            "https:///path",
            "/relative",
            "https://x:port/",
            "https://x/%zz",
            "https://x/a b",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_request_url_from_each_origin() {
        let mut headers = http::HeaderMap::new();
        headers.insert("host", "internal:8080".parse().unwrap());
        headers.insert(
            "forwarded",
            "for=1.2.3.4;proto=https;host=api.example.com, for=5.6.7.8"
                .parse()
                .unwrap(),
        );
        headers.insert("x-forwarded-host", "ignored.example.com".parse().unwrap());
        let parts = RequestParts::new("GET", "/items?page=2", &headers);
        let http = || "http".to_owned();
        assert_eq!(
            Origin::Request { default_scheme: http() }.url_of(&parts).as_deref(),
            Some("http://internal:8080/items"),
            "forwarded headers are not read unless trusted"
        );
        assert_eq!(
            Origin::Forwarded { default_scheme: http() }.url_of(&parts).as_deref(),
            Some("https://api.example.com/items")
        );
        assert_eq!(
            Origin::Public("https://api.example.com/v1/".into())
                .url_of(&parts)
                .as_deref(),
            Some("https://api.example.com/v1/items")
        );
        let mut x_headers = http::HeaderMap::new();
        x_headers.insert("x-forwarded-proto", "https".parse().unwrap());
        x_headers.insert("x-forwarded-host", "api.example.com, proxy".parse().unwrap());
        let parts = RequestParts::new("GET", "/", &x_headers);
        assert_eq!(
            Origin::Forwarded { default_scheme: http() }.url_of(&parts).as_deref(),
            Some("https://api.example.com/")
        );
        let empty = http::HeaderMap::new();
        let parts = RequestParts::new("GET", "/", &empty);
        assert_eq!(
            Origin::Request { default_scheme: http() }.url_of(&parts),
            None,
            "no authority"
        );
    }
}
