//! Client certificates for certificate-bound tokens (RFC 8705 §3): where
//! they come from, and their `x5t#S256` thumbprint.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::crypto;

/// The longest certificate header read, in bytes: a leaf certificate is a
/// few kilobytes, URL-encoded a little more.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The client certificate (DER) of a request's TLS connection, put in the
/// request's extensions by the server that terminated TLS; the tower layer
/// reads it (as [`RequestParts::with_client_certificate`](crate::pipeline::RequestParts::with_client_certificate)).
///
/// With axum on rustls, insert it per connection: after the handshake, take
/// `peer_certificates()` of the `ServerConnection` and add the extension to
/// every request of that connection (the cookbook shows the whole server).
///
/// ```
/// use authorizer::binding::ClientCertificate;
///
/// # let der_from_the_tls_handshake = vec![0x30, 0x82];
/// let certificate = ClientCertificate::new(der_from_the_tls_handshake);
/// let mut request = http::Request::get("/").body(()).unwrap();
/// request.extensions_mut().insert(certificate);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate(Arc<[u8]>);

impl ClientCertificate {
    /// A certificate in DER.
    pub fn new(der: impl Into<Arc<[u8]>>) -> Self {
        ClientCertificate(der.into())
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.0
    }
}

/// The `x5t#S256` thumbprint of a certificate (RFC 8705 §3.1): base64url
/// SHA-256 of its DER, what an authorization server puts in
/// `cnf.x5t#S256` of a certificate-bound token.
///
/// ```
/// use authorizer::binding::certificate_thumbprint;
///
/// // SHA-256 of the empty string, base64url.
/// assert_eq!(certificate_thumbprint(b""), "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
/// ```
pub fn certificate_thumbprint(der: &[u8]) -> String {
    crypto::sha256_base64url(der)
}

/// The DER of the first certificate in a PEM text.
pub(crate) fn der_from_pem(pem: &str) -> Option<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN)? + BEGIN.len();
    let length = pem[start..].find(END)?;
    let body: String = pem[start..start + length]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(body).ok().filter(|der| !der.is_empty())
}

/// The certificate a trusted proxy put in a header: URL-encoded PEM, as
/// nginx's `$ssl_client_escaped_cert` and AWS ALB send it, or Envoy's
/// `x-forwarded-client-cert` with its `Cert="..."` member. An Envoy header
/// of several elements (several proxies) is refused: which one saw the
/// client is for configuration to say, not for a guess.
pub(crate) fn from_proxy_header(value: &[u8]) -> Option<Vec<u8>> {
    if value.len() > MAX_HEADER_BYTES {
        return None;
    }
    let text = std::str::from_utf8(value).ok()?.trim();
    let decoded = percent_decode(text)?;
    if decoded.starts_with("-----BEGIN") {
        return der_from_pem(&decoded);
    }
    der_from_pem(&percent_decode(envoy_cert(text)?)?)
}

/// The `Cert` member of a one-element `x-forwarded-client-cert` value.
fn envoy_cert(value: &str) -> Option<&str> {
    // Values inside are URL-encoded or quoted; a comma outside quotes starts another element.
    let mut in_quotes = false;
    for c in value.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => return None,
            _ => {}
        }
    }
    value.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("cert")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// `%XX` escapes decoded, and nothing else: a PEM's base64 holds `+`, which
/// form decoding would turn into a space.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = bytes.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DER: &[u8] = b"\x30\x82\x01\x0a not really a certificate, but bytes to carry";

    fn pem() -> String {
        let body = STANDARD.encode(DER);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }

    fn url_encode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect()
    }

    #[test]
    fn proxy_headers_of_nginx_and_envoy() {
        let nginx = url_encode(&pem());
        assert_eq!(from_proxy_header(nginx.as_bytes()).as_deref(), Some(DER));
        let envoy = format!(
            r#"By=spiffe://example/server;Hash=abc;Cert="{}";Subject="CN=client""#,
            url_encode(&pem())
        );
        assert_eq!(from_proxy_header(envoy.as_bytes()).as_deref(), Some(DER));
        let two_hops = format!("{envoy},By=spiffe://other;Hash=def");
        assert_eq!(from_proxy_header(two_hops.as_bytes()), None, "two proxies: refused");
        assert_eq!(
            from_proxy_header(pem().as_bytes()).as_deref(),
            Some(DER),
            "plain PEM (API Gateway)"
        );
        for bad in [
            "",
            "garbage",
            "%ZZ",
            "-----BEGIN CERTIFICATE-----!!!-----END CERTIFICATE-----",
            "Hash=abc",
        ] {
            assert_eq!(from_proxy_header(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(from_proxy_header(&vec![b'a'; MAX_HEADER_BYTES + 1]), None);
    }

    #[test]
    fn a_plus_in_the_base64_stays_a_plus() {
        let der = vec![0xfbu8; 48]; // base64 "+/v7..."
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----",
            STANDARD.encode(&der)
        );
        assert!(pem.contains('+'));
        assert_eq!(from_proxy_header(pem.as_bytes()), Some(der));
    }
}
