//! What the adversarial test files (attacks, keysets, logging) share: a target
//! server on 127.0.0.1, raw signing of hand-written JSON, and key material made
//! with openssl when the tests were written (aws-lc refuses to sign with RSA
//! under 2048 bits, so those signatures are constants).

#![allow(dead_code)]

use authorizer::credential::Credentials;
use authorizer::testing::{TEST_AUDIENCE, TestIssuer};
use authorizer::{Algorithm, Authenticator, ErrorStyle};
use jsonwebtoken::EncodingKey;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::common::{client, demo_app, parts, serve};

/// The test issuer's RSA signing key (the `rs256` kid), to sign hand-written
/// headers and claims with a valid signature.
pub const RSA_PEM: &[u8] = include_bytes!("../../src/testing/keys/rsa.pem");
/// The test issuer's P-256 public key, PEM.
pub const P256_PUBLIC_PEM: &[u8] = include_bytes!("../../src/testing/keys/p256.pub.pem");

/// The `iss` of [`WEAK_TOKEN`]; a verifier for it is configured by hand.
pub const WEAK_ISS: &str = "https://weak-issuer.test";
/// Modulus of a 1024-bit RSA key (RFC 7518 §3.3 requires 2048), from
/// `openssl genrsa 1024`; `e` is 65537.
pub const WEAK_RSA_N: &str = "t9pbnorJl2Wbko2QdYLegotyOFFhh_-qLPn03E_RZSBmTKW6wQcCWF0I5Wj7n2fWXLp0eEIzU2wgamj0e4jZcUHcnRHCabnuhHLbs-pKPnYywQa08XJtJiguzOvSPe-j4i4y1znhgQdCZVC7QLztzw5s5IKTNA08iMMJxjkYZ3s";
/// RS256 by that 1024-bit key (`openssl dgst -sha256 -sign`, checked with
/// `openssl dgst -verify`): kid `weak-1024`, iss [`WEAK_ISS`], aud
/// `authorizer-test`, sub `weak-user`, exp 2100-01-01.
pub const WEAK_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IndlYWstMTAyNCJ9.eyJpc3MiOiJodHRwczovL3dlYWstaXNzdWVyLnRlc3QiLCJhdWQiOiJhdXRob3JpemVyLXRlc3QiLCJzdWIiOiJ3ZWFrLXVzZXIiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6NDEwMjQ0NDgwMH0.tkfA_V2ccVgPadBrYk_x-lgSx3ZZRp23SXelSxDnXPplKNG-i8Tjgm2z6Zkg68PyXg-QaU2_82xi2Pzz9AeByhpxBQ6aglb13m0slokFtYwWW6Q7saar3OHbTGp497H8BtKLZaSqxPLRQ9jUPHIPIJZAzp-dXjKTKAby_2vMUCE";

/// The 1024-bit key as a JWK.
pub fn weak_jwk() -> Value {
    json!({"kty": "RSA", "kid": "weak-1024", "use": "sig", "alg": "RS256", "n": WEAK_RSA_N, "e": "AQAB"})
}

/// A self-signed certificate (`CN=attacker.example`, base64 DER as `x5c`
/// carries it) for the public half of the test issuer's *unpublished*
/// rotation key: what an attacker would embed to vouch for its own key.
pub const ATTACKER_X5C: &str = "MIIDGTCCAgGgAwIBAgIUGPd8KTrOMH8DGn5NT2mu575PuS8wDQYJKoZIhvcNAQELBQAwGzEZMBcGA1UEAwwQYXR0YWNrZXIuZXhhbXBsZTAgFw0yNjExMjQxNzA1MzhaGA8yMTI2MTAzMTE3MDUzOFowGzEZMBcGA1UEAwwQYXR0YWNrZXIuZXhhbXBsZTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAOtc46+jlQrZxH8tU2onW9ooUy6l/Ssqw0iwSGIvpUFpE660j7gcZBheo12TxCuTj1X/o7vyyfaqO+/NCslW71hLijccaetPdbeihnACdXWdDYdRwEUs2pGdafVhtVgE7jzlY/4dJUhV0TWNLGkmLh1gsZLlGJm9d0s+1UXnLsjXxxkKdnigu1V4uc39i4jXwrqeQkGtsotbeYOdLC6r+m0lTKZ+YTkiUuMHdYIFui1oH9oN+rxiUMnXaoVQ1MdUjgqs2inLKsf+SNmaPjwXEJ0BRn8XnallHtBRc3Ei7XCkOS6m/o740SBtvOBw43E5GJBPoYvcWi3Xl56lUIz4ek8CAwEAAaNTMFEwHQYDVR0OBBYEFPEKcBjGhwlcJNzauWTBtzvuIvJjMB8GA1UdIwQYMBaAFPEKcBjGhwlcJNzauWTBtzvuIvJjMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQELBQADggEBAKe2qJH5h8M0qhHbUAV/FsbM4f0bOqDaPcaNYpn2yaYduzhkPLetsQZHs0fMPZH1VHyFOSYHxSBExbSbT9z683YY0h5yHWsi5A+g2V++TMNEAa0dwB+xwgTGmjhY2L/btvtXHcUknIfkbj8O8TTNMS0Ufjr23oEl4qmpU+N0Lb45R36r6MA+iQBEu3R6Aw3SQJYd+5NiI42sQNxD26QP5l+QygvwddgsBzoKAWuTFdSoBt84LMLFFMex3FBS9Bp3zGpJBnZZY0P+29rojtfm+q/91GWw6AmANip2QROouUAeBuS+k7n3hfuYfD28MelIvj6I02nnvqOQ1bTlgrezSzI=";

/// `header.payload.signature` over hand-written JSON texts (duplicate members,
/// odd types, ...), with a valid RS256 signature by the published `rs256` key.
/// Call after a [`TestIssuer`] exists (it installs the crypto backend).
pub fn sign_raw(header: &str, claims: &str) -> String {
    sign_raw_bytes(header.as_bytes(), claims.as_bytes())
}

/// `input.signature`: any text signed RS256 by the published `rs256` key, as
/// an issuer that produced odd base64 would sign it.
pub fn sign_input(input: &str) -> String {
    let key = EncodingKey::from_rsa_pem(RSA_PEM).expect("test key");
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::RS256).expect("signs");
    format!("{input}.{signature}")
}

/// [`sign_raw`] over bytes that need not be UTF-8.
pub fn sign_raw_bytes(header: &[u8], claims: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let input = format!("{}.{}", b64.encode(header), b64.encode(claims));
    let key = EncodingKey::from_rsa_pem(RSA_PEM).expect("test key");
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::RS256).expect("signs");
    format!("{input}.{signature}")
}

/// Hand-written claims that would be valid for `issuer` (exp 2100-01-01), with
/// `extra` spliced in verbatim (`,"sub":"admin"`, say).
pub fn claims_json(iss: &str, extra: &str) -> String {
    format!(r#"{{"iss":"{iss}","aud":"{TEST_AUDIENCE}","sub":"user-1","exp":4102444800{extra}}}"#)
}

/// The issuer's published JWKS, as served (one fetch on its counter).
pub async fn published_keys(issuer: &TestIssuer) -> Vec<Value> {
    let document: Value = client()
        .get(issuer.jwks_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    document["keys"].as_array().unwrap().clone()
}

/// The published JWK with this `kid`.
pub fn jwk_of(keys: &[Value], kid: &str) -> Value {
    keys.iter().find(|k| k["kid"] == kid).cloned().expect("published kid")
}

/// A JWK with some members replaced (or added).
pub fn with(jwk: &Value, changes: Value) -> Value {
    let mut jwk = jwk.clone();
    for (name, value) in changes.as_object().unwrap() {
        jwk[name] = value.clone();
    }
    jwk
}

/// The demo API (`/me` needs a session) with an `AuthLayer` on 127.0.0.1.
pub struct Target {
    pub issuer: TestIssuer,
    pub base: String,
    pub http: reqwest::Client,
}

/// A target whose verifier reads the issuer's JWKS over HTTP.
pub async fn target() -> Target {
    let issuer = TestIssuer::start().await;
    let auth = Authenticator::new(issuer.verifier());
    target_with(issuer, auth).await
}

/// A target with this authenticator (and the issuer that mints its tokens).
pub async fn target_with(issuer: TestIssuer, auth: Authenticator) -> Target {
    let base = serve(demo_app(auth)).await;
    Target {
        issuer,
        base,
        http: client(),
    }
}

/// A target with these credential rules.
pub async fn target_with_credentials(credentials: Credentials) -> Target {
    let issuer = TestIssuer::start().await;
    let auth = Authenticator::new(issuer.verifier())
        .credentials(credentials)
        .error_style(ErrorStyle::SuperTokens);
    target_with(issuer, auth).await
}

pub type Response = (u16, Option<String>, Value);

impl Target {
    /// `GET /me` with these raw headers.
    pub async fn get_me_with(&self, headers: &[(&str, HeaderValue)]) -> Response {
        let mut request = self.http.get(format!("{}/me", self.base));
        for (name, value) in headers {
            request = request.header(HeaderName::from_bytes(name.as_bytes()).unwrap(), value.clone());
        }
        parts(request.send().await.unwrap()).await
    }

    /// `GET /me` with `Authorization: Bearer <token>`.
    pub async fn bearer(&self, token: &str) -> Response {
        let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("a valid header value");
        self.get_me_with(&[("authorization", value)]).await
    }

    /// Asserts 401 with the bare invalid-token answer (nothing about why).
    pub fn assert_refused(&self, name: &str, (status, challenge, body): &Response) {
        assert_eq!(*status, 401, "{name}: {body}");
        assert!(
            challenge.as_deref().unwrap_or_default().starts_with("Bearer"),
            "{name}: {challenge:?}"
        );
        assert_eq!(*body, json!({"message": "unauthorised"}), "{name}");
    }

    /// Sends `token` as a bearer token and asserts the bare 401.
    pub async fn refuses(&self, name: &str, token: &str) {
        let response = self.bearer(token).await;
        self.assert_refused(name, &response);
    }

    /// A fresh valid token still gets 200: the attack did not break the server.
    pub async fn still_serving(&self) {
        let (status, _, body) = self.bearer(&self.issuer.token().subject("after-attack").sign()).await;
        assert_eq!(status, 200, "the server still serves valid tokens: {body}");
        assert_eq!(body["id"], "after-attack");
    }
}

/// A header value from raw bytes (for non-ASCII and obs-text cases).
pub fn raw_value(bytes: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(bytes).expect("a header value the http crate accepts")
}
