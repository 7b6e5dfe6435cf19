//! Known attacks on JWT verifiers, one test each, over real HTTP: an axum
//! server with `AuthLayer` on 127.0.0.1, keys served as a JWKS on 127.0.0.1.
//! Every attack must be answered 401 (or 403 for CSRF) with a body that says
//! nothing about why, and the server must still serve a valid token afterwards.
//!
//! Each test names its source: an RFC 8725 (JWT Best Current Practices)
//! section, another RFC, or a CVE of another verifier that made the mistake.

use crate::adversary;
use crate::common;

use std::time::Instant;

use adversary::{
    ATTACKER_X5C, P256_PUBLIC_PEM, WEAK_ISS, WEAK_TOKEN, claims_json, jwk_of, published_keys, raw_value, sign_input,
    sign_raw, sign_raw_bytes, target, target_with, target_with_credentials, weak_jwk,
};
use authorizer::credential::Location;
use authorizer::credential::{Credential, Credentials};
use authorizer::testing::{HS256_SECRET, RSA_PUBLIC_PEM, TEST_AUDIENCE, TestIssuer, encode_parts};
use authorizer::tower::AuthLayer;
use authorizer::{Algorithm, Authenticator, Error, FetchPolicy, InvalidToken, Issuer, Principal, Source};
use axum::routing::any;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{client, parts, serve};
use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 8725 §2.1 and §3.1; CVE-2015-9235 (node-jsonwebtoken), CVE-2018-1000531
/// (inversoft prime-jwt): `alg: none` in any casing, with an empty signature,
/// a junk one, or a real signature beside a header that says `none`.
#[tokio::test]
async fn rfc8725_3_1_alg_none_in_every_casing_is_refused() {
    let t = target().await;
    let claims = claims_json(t.issuer.issuer(), "");
    for alg in ["none", "None", "NONE", "nOnE", "NoNe", " none", "none ", "none\u{0}"] {
        let header = json!({"alg": alg, "typ": "JWT"}).to_string();
        let unsigned = format!("{}.", encode_parts(&header, &claims));
        t.refuses(&format!("{alg:?}, empty signature"), &unsigned).await;
        let junk = t.issuer.token().header("alg", json!(alg)).with_signature(b"x");
        t.refuses(&format!("{alg:?}, junk signature"), &junk).await;
        let signed = t.issuer.token().header("alg", json!(alg)).sign();
        t.refuses(&format!("{alg:?}, a real RS256 signature"), &signed).await;
        let no_kid = t.issuer.token().kid(None).header("alg", json!(alg)).sign();
        t.refuses(&format!("{alg:?}, no kid"), &no_kid).await;
    }
    t.still_serving().await;
}

/// RFC 8725 §2.1 and §3.1; CVE-2016-10555 (jwt-simple), CVE-2016-5431
/// (php-jose), CVE-2017-11424 (PyJWT): HS256 signed with the issuer's *public*
/// key as the HMAC secret. Tried against a JWKS-backed verifier and against
/// static keys that do include an HS256 secret (so HS256 is on the allow-list).
#[tokio::test]
async fn cve_2016_10555_hmac_signed_with_the_public_key_is_refused() {
    let served = target().await;
    let keys = published_keys(&served.issuer).await;
    let rsa_jwk_text = jwk_of(&keys, "rs256").to_string();
    let rsa_n = URL_SAFE_NO_PAD
        .decode(jwk_of(&keys, "rs256")["n"].as_str().unwrap())
        .unwrap();
    let trimmed_pem = String::from_utf8_lossy(RSA_PUBLIC_PEM).trim().to_owned();
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("RSA public PEM", RSA_PUBLIC_PEM.to_vec()),
        ("RSA public PEM, trimmed", trimmed_pem.into_bytes()),
        ("P-256 public PEM", P256_PUBLIC_PEM.to_vec()),
        ("RSA JWK text", rsa_jwk_text.into_bytes()),
        ("RSA modulus bytes", rsa_n),
    ];
    let offline = TestIssuer::new();
    let static_verifier = offline.verifier();
    let with_secret = target_with(offline, Authenticator::new(static_verifier)).await;
    for t in [&served, &with_secret] {
        for (what, secret) in &secrets {
            for kid in [Some("rs256"), Some("es256"), Some("hs256"), None] {
                for alg in ["HS256", "HS384", "HS512"] {
                    let token = t
                        .issuer
                        .token()
                        .kid(kid)
                        .header("alg", json!(alg))
                        .sign_hmac_with(secret);
                    t.refuses(&format!("{alg} with the {what} as secret, kid {kid:?}"), &token)
                        .await;
                }
            }
        }
        t.still_serving().await;
    }
}

/// RFC 8725 §3.1 ("each key MUST be used with exactly one algorithm") and §2.7
/// (substitution): a token whose `alg` is not the algorithm its key is pinned
/// to, even when the same key material would verify it (RS256 key, PS256 or
/// RS512 signature by the same RSA key), and an `alg` off the allow-list.
#[tokio::test]
async fn rfc8725_3_1_alg_must_fit_the_key_it_names() {
    let t = target().await;
    let i = &t.issuer;
    let cases = [
        (
            "rs256 key, PS256 by the same RSA key",
            i.token().alg(Algorithm::PS256).kid(Some("rs256")).sign(),
        ),
        (
            "rs256 key, RS512 by the same RSA key",
            i.token().alg(Algorithm::RS512).kid(Some("rs256")).sign(),
        ),
        (
            "ps256 key, RS256 by the same RSA key",
            i.token().kid(Some("ps256")).sign(),
        ),
        ("es256 key, RS256 signature", i.token().kid(Some("es256")).sign()),
        (
            "es384 key, ES256 signature",
            i.token().alg(Algorithm::ES256).kid(Some("es384")).sign(),
        ),
        (
            "eddsa key, ES256 signature",
            i.token().alg(Algorithm::ES256).kid(Some("eddsa")).sign(),
        ),
        (
            "rs256 key, alg ES256 header over an RS256 signature",
            i.token().header("alg", json!("ES256")).sign(),
        ),
        (
            "rs256 key, alg RS384 header over an RS256 signature",
            i.token().header("alg", json!("RS384")).sign(),
        ),
        (
            "an algorithm jsonwebtoken does not know",
            i.token().header("alg", json!("ES512")).sign(),
        ),
        ("lower-case alg", i.token().header("alg", json!("rs256")).sign()),
    ];
    for (name, token) in &cases {
        t.refuses(name, token).await;
    }
    t.still_serving().await;

    // The allow-list: only RS256. A PS256 token, validly signed by the key its
    // kid names, is refused.
    let issuer = TestIssuer::start().await;
    let rs256_only = issuer
        .verifier_builder()
        .algorithms([Algorithm::RS256])
        .build()
        .unwrap();
    let t = target_with(issuer, Authenticator::new(rs256_only)).await;
    for alg in [Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS512] {
        t.refuses(
            &format!("{alg:?} when only RS256 is allowed"),
            &t.issuer.token().alg(alg).sign(),
        )
        .await;
    }
    t.still_serving().await;
}

/// RFC 8725 §3.10 (`kid` used for SQL/LDAP injection or file paths), and
/// CVE-2018-0114-style confusion: a `kid` is only ever compared to the ids of
/// configured keys. Hostile kids are unknown keys, and a flood of them refetches
/// the JWKS at most once per cool-down.
#[tokio::test]
async fn rfc8725_3_10_malicious_kids_are_only_lookup_keys() {
    let t = target().await;
    let started = Instant::now();
    let long = "k".repeat(4000);
    let string_kids = [
        "no-such-key",
        "../../../../../../dev/null",
        "/dev/null",
        "..\\..\\..\\windows\\win.ini",
        "file:///etc/passwd",
        "x' OR '1'='1",
        "'; DROP TABLE keys; --",
        "*)(kid=*",
        "$(id)",
        "|cat /etc/passwd",
        "%00",
        "rs256\u{0}",
        "\u{0}rs256",
        "RS256",
        " rs256",
        "rs256 ",
        "ｒｓ256",
        "",
        long.as_str(),
    ];
    for kid in string_kids {
        let token = t.issuer.token().kid(Some(kid)).sign();
        t.refuses(&format!("kid {:?}", &kid[..kid.len().min(40)]), &token).await;
    }
    for kid in [
        json!(7),
        json!(7.0),
        json!(true),
        json!(["rs256"]),
        json!({"kid": "rs256"}),
    ] {
        let token = t.issuer.token().kid(None).header("kid", kid.clone()).sign();
        t.refuses(&format!("kid {kid}"), &token).await;
    }
    let fetches = t.issuer.jwks_fetches();
    let bound = 2 + started.elapsed().as_secs();
    assert!(
        fetches <= bound,
        "{fetches} JWKS fetches for a flood of hostile kids (bound {bound}: the first, one per 1 s cool-down)"
    );
    t.still_serving().await;
}

/// RFC 8725 §3.10 and RFC 7515 §4.1.2-4.1.6; CVE-2018-0114 (node-jose trusts
/// an embedded `jwk`), the `jku`/`x5u` SSRF and key-injection class: headers
/// that point at or embed the attacker's key. The attacker runs a real JWKS
/// with the key that signed the token; it is never fetched, never used.
#[tokio::test]
async fn rfc8725_3_10_jku_x5u_x5c_and_jwk_headers_never_supply_keys() {
    let t = target().await;
    let attacker = TestIssuer::start().await;
    attacker.rotate(); // the attacker publishes the key the victim never did
    let attacker_jwk = jwk_of(&published_keys(&attacker).await, authorizer::testing::NEXT_KID);
    let attacker_fetches = attacker.jwks_fetches();
    let i = &t.issuer;
    let cases = [
        (
            "jku at the attacker",
            i.token().next_key().header("jku", json!(attacker.jwks_url())).sign(),
        ),
        (
            "jku at the attacker, victim's kid",
            i.token()
                .next_key()
                .kid(Some("rs256"))
                .header("jku", json!(attacker.jwks_url()))
                .sign(),
        ),
        (
            "x5u at the attacker",
            i.token().next_key().header("x5u", json!(attacker.jwks_url())).sign(),
        ),
        (
            "x5c with the attacker's certificate",
            i.token().next_key().header("x5c", json!([ATTACKER_X5C])).sign(),
        ),
        (
            "x5c with the attacker's certificate, no kid",
            i.token()
                .next_key()
                .kid(None)
                .header("x5c", json!([ATTACKER_X5C]))
                .sign(),
        ),
        (
            "embedded jwk",
            i.token().next_key().header("jwk", attacker_jwk.clone()).sign(),
        ),
        (
            "embedded jwk, no kid",
            i.token()
                .next_key()
                .kid(None)
                .header("jwk", attacker_jwk.clone())
                .sign(),
        ),
        (
            "embedded jwk, victim's kid",
            i.token()
                .next_key()
                .kid(Some("rs256"))
                .header("jwk", attacker_jwk.clone())
                .sign(),
        ),
        (
            "every key header at once",
            i.token()
                .next_key()
                .header("jku", json!(attacker.jwks_url()))
                .header("x5u", json!(attacker.jwks_url()))
                .header("x5c", json!([ATTACKER_X5C]))
                .header("jwk", attacker_jwk.clone())
                .sign(),
        ),
    ];
    for (name, token) in &cases {
        t.refuses(name, token).await;
    }
    assert_eq!(
        attacker.jwks_fetches(),
        attacker_fetches,
        "the attacker's JWKS was never fetched"
    );
    t.still_serving().await;
}

/// RFC 7515 §4.1.11: a recipient MUST reject a `crit` it does not understand,
/// and this verifier understands none. Signed correctly, so only `crit` stops them.
#[tokio::test]
async fn rfc7515_4_1_11_unknown_crit_is_refused() {
    let t = target().await;
    for crit in [
        json!(["exp"]),
        json!(["b64"]),
        json!(["https://attacker.example/ignore-exp"]),
        json!([]),
        json!("exp"),
        json!({}),
    ] {
        let token = t
            .issuer
            .token()
            .header("crit", crit.clone())
            .header("exp", json!(1))
            .sign();
        t.refuses(&format!("crit {crit}"), &token).await;
    }
    t.still_serving().await;
}

/// RFC 7797: `b64: false` changes what the signature covers (the raw payload),
/// so a verifier that ignores it checks a different message than the issuer
/// meant. Refused outright, whatever its value.
#[tokio::test]
async fn rfc7797_b64_false_is_refused() {
    let t = target().await;
    for (name, token) in [
        (
            "b64 false with crit",
            t.issuer
                .token()
                .header("b64", json!(false))
                .header("crit", json!(["b64"]))
                .sign(),
        ),
        (
            "b64 false without crit",
            t.issuer.token().header("b64", json!(false)).sign(),
        ),
        ("b64 true", t.issuer.token().header("b64", json!(true)).sign()),
    ] {
        t.refuses(name, &token).await;
    }
    t.still_serving().await;
}

/// RFC 8725 §2.8 and §3.11 (cross-JWT confusion), RFC 7519 §5.2: a nested JWT
/// (`cty: JWT`) is not an access token. RFC 7515 §4.1.10 makes `application/JWT`
/// the same content type as `JWT`, in any case.
#[tokio::test]
async fn rfc8725_2_8_nested_jwt_is_refused() {
    let t = target().await;
    let inner = t.issuer.token().subject("inner").sign();
    for cty in ["JWT", "jwt", "Jwt"] {
        let flat = t.issuer.token().header("cty", json!(cty)).sign();
        t.refuses(&format!("cty {cty} over JSON claims"), &flat).await;
        let header = json!({"alg": "RS256", "kid": "rs256", "cty": cty}).to_string();
        let nested = sign_raw(&header, &inner);
        t.refuses(&format!("cty {cty} over a signed inner token"), &nested)
            .await;
    }
    let header = json!({"alg": "RS256", "kid": "rs256"}).to_string();
    t.refuses("an inner token as the payload, no cty", &sign_raw(&header, &inner))
        .await;
    t.still_serving().await;
}

/// RFC 7515 §4.1.11 and RFC 7797 §6: `crit` and `b64` refused when present
/// *at all*, as documented ("any `crit` header, `b64` ... is refused"). A
/// `null` value is still the member being present: a verifier that reads
/// `null` as absent accepts what another JOSE library rejects.
#[tokio::test]
async fn rfc7515_4_1_11_crit_or_b64_present_as_null_is_refused() {
    let t = target().await;
    t.refuses("crit null", &t.issuer.token().header("crit", json!(null)).sign())
        .await;
    t.refuses("b64 null", &t.issuer.token().header("b64", json!(null)).sign())
        .await;
    t.still_serving().await;
}

/// RFC 7515 §4.1.10: "application/" may be omitted from `cty`, and a
/// recipient must treat `application/JWT` as `JWT` (case-insensitively). A
/// nested-JWT check that only knows the short form misses the long one.
#[tokio::test]
async fn rfc7515_4_1_10_cty_application_jwt_is_a_nested_jwt_too() {
    let t = target().await;
    for cty in ["application/JWT", "application/jwt", "APPLICATION/JWT"] {
        let flat = t.issuer.token().header("cty", json!(cty)).sign();
        t.refuses(&format!("cty {cty} over JSON claims"), &flat).await;
    }
    t.still_serving().await;
}

/// CVE-2022-21449 ("psychic signatures", Java 15-18): ECDSA with r = s = 0
/// verified anything. Also r or s equal to the group order, past it, all ones,
/// DER instead of the JWS raw form, wrong lengths, and an ES256 signature under
/// an ES384 key (RFC 7518 §3.4 fixes the length).
#[tokio::test]
async fn cve_2022_21449_ecdsa_zero_and_out_of_range_signatures_are_refused() {
    let t = target().await;
    let p256_n = unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let p256_p = unhex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    let p384_n =
        unhex("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973");
    for (alg, n, size) in [(Algorithm::ES256, &p256_n, 32), (Algorithm::ES384, &p384_n, 48)] {
        let int = |last: u8| {
            let mut v = vec![0u8; size];
            v[size - 1] = last;
            v
        };
        let n_plus_one = {
            let mut v = n.clone();
            *v.last_mut().unwrap() += 1;
            v
        };
        let pair = |r: &[u8], s: &[u8]| [r, s].concat();
        let mut signatures = vec![
            ("r = s = 0", pair(&int(0), &int(0))),
            ("r = 0, s = 1", pair(&int(0), &int(1))),
            ("r = 1, s = 0", pair(&int(1), &int(0))),
            ("r = s = n", pair(n, n)),
            ("r = n, s = 1", pair(n, &int(1))),
            ("r = 1, s = n", pair(&int(1), n)),
            ("r = s = n + 1", pair(&n_plus_one, &n_plus_one)),
            ("all ones", vec![0xff; 2 * size]),
            (
                "DER-encoded zeros",
                vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00],
            ),
            ("one byte short", vec![0; 2 * size - 1]),
            ("one byte long", vec![0; 2 * size + 1]),
            ("a single zero", vec![0]),
        ];
        if alg == Algorithm::ES256 {
            signatures.push(("r = s = p", pair(&p256_p, &p256_p)));
        }
        for (name, signature) in &signatures {
            let token = t.issuer.token().alg(alg).with_signature(signature);
            t.refuses(&format!("{alg:?}: {name}"), &token).await;
        }
    }
    let es256 = t.issuer.token().alg(Algorithm::ES256).sign();
    let (_, es256_signature) = es256.rsplit_once('.').unwrap();
    let under_es384 = format!(
        "{}.{es256_signature}",
        t.issuer.token().alg(Algorithm::ES384).signing_input()
    );
    t.refuses("an ES256 signature under the ES384 key", &under_es384).await;
    t.still_serving().await;
}

/// RFC 7518 §3.3 ("a key of size 2048 bits or larger MUST be used"): a JWKS
/// holding a 1024-bit RSA key beside good keys. The token that key signed is
/// refused as signed by an unknown key (the key was skipped, not merely
/// failed), and the good keys of the same document still work.
#[tokio::test]
async fn rfc7518_3_3_rsa_keys_under_2048_bits_in_a_jwks_are_never_used() {
    let issuer = TestIssuer::start().await;
    let mut keys = published_keys(&issuer).await;
    keys.insert(0, weak_jwk());
    issuer.serve_jwks_body(json!({ "keys": keys }).to_string());
    let verifier = authorizer::Verifier::builder()
        .issuer(
            Issuer::jwks(WEAK_ISS, issuer.jwks_url())
                .audience(TEST_AUDIENCE)
                .fetch_policy(FetchPolicy {
                    cooldown: std::time::Duration::from_secs(1),
                    ..FetchPolicy::default()
                }),
        )
        .build()
        .unwrap();
    let t = target_with(issuer, Authenticator::new(verifier.clone())).await;
    t.refuses("RS256 by a 1024-bit key in the JWKS", WEAK_TOKEN).await;
    assert!(
        matches!(
            verifier.verify(Credential::new(WEAK_TOKEN, Source::Bearer)).await,
            Err(Error::InvalidToken(InvalidToken::UnknownKey))
        ),
        "the 1024-bit key is skipped when the set is parsed, not tried"
    );
    let good = t.issuer.token().claim("iss", json!(WEAK_ISS)).sign();
    let (status, _, body) = t.bearer(&good).await;
    assert_eq!(status, 200, "the rest of the set still works: {body}");
}

/// RFC 7519 §4 (claim names MUST be unique) and RFC 7515 §5.2 (header member
/// names too), RFC 8725 §2.6: parsers disagree on which duplicate wins, so a
/// document with duplicates means two things. Signed correctly, so only the
/// duplicate stops them.
#[tokio::test]
async fn rfc7519_4_duplicate_json_members_are_refused() {
    let t = target().await;
    let iss = t.issuer.issuer().to_owned();
    let header = r#"{"alg":"RS256","kid":"rs256"}"#;
    let claims = claims_json(&iss, "");
    let cases = [
        (
            "duplicate sub",
            sign_raw(header, &claims_json(&iss, r#","sub":"admin""#)),
        ),
        ("duplicate exp", sign_raw(header, &claims_json(&iss, r#","exp":1"#))),
        (
            "duplicate iss",
            sign_raw(header, &claims_json(&iss, r#","iss":"https://evil.example""#)),
        ),
        (
            "duplicate aud",
            sign_raw(header, &claims_json(&iss, r#","aud":"someone-else""#)),
        ),
        (
            "duplicate scope",
            sign_raw(header, &claims_json(&iss, r#","scope":"read","scope":"admin""#)),
        ),
        (
            "duplicate alg",
            sign_raw(r#"{"alg":"RS256","alg":"RS256","kid":"rs256"}"#, &claims),
        ),
        (
            "duplicate kid",
            sign_raw(r#"{"alg":"RS256","kid":"es256","kid":"rs256"}"#, &claims),
        ),
        (
            "duplicate typ",
            sign_raw(r#"{"alg":"RS256","kid":"rs256","typ":"JWT","typ":"JWT"}"#, &claims),
        ),
    ];
    for (name, token) in &cases {
        t.refuses(name, token).await;
    }
    // The same texts without duplicates pass: the signature was never the problem.
    let (status, _, body) = t.bearer(&sign_raw(header, &claims)).await;
    assert_eq!(status, 200, "{body}");
    t.still_serving().await;
}

/// RFC 8725 §3.7 and RFC 7515 §4 (the header is UTF-8 JSON), found by the
/// `signed` fuzz target: invalid UTF-8 inside a header member the verifier does
/// not read. Another JOSE library rejects such a header, so accepting it is a
/// parser differential. Signed correctly, so only the encoding stops them.
#[tokio::test]
async fn rfc8725_3_7_a_header_or_claims_that_are_not_utf8_are_refused() {
    let t = target().await;
    let iss = t.issuer.issuer().to_owned();
    let claims = claims_json(&iss, "");
    let mut bad_claims = claims_json(&iss, r#","x":"?""#).into_bytes();
    let question = bad_claims.iter().rposition(|b| *b == b'?').unwrap();
    bad_claims[question] = 0x80;
    let cases = [
        (
            "invalid UTF-8 in an unknown header member",
            sign_raw_bytes(
                b"{\"alg\":\"RS256\",\"kid\":\"rs256\",\"x\":\"\x80\"}",
                claims.as_bytes(),
            ),
        ),
        (
            "invalid UTF-8 in an unknown header name",
            sign_raw_bytes(b"{\"alg\":\"RS256\",\"kid\":\"rs256\",\"\xff\":1}", claims.as_bytes()),
        ),
        (
            "UTF-16 header",
            sign_raw_bytes(
                &"{\"alg\":\"RS256\",\"kid\":\"rs256\"}"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes)
                    .collect::<Vec<u8>>(),
                claims.as_bytes(),
            ),
        ),
        (
            "invalid UTF-8 in a claim",
            sign_raw_bytes(br#"{"alg":"RS256","kid":"rs256"}"#, &bad_claims),
        ),
    ];
    for (name, token) in &cases {
        t.refuses(name, token).await;
    }
    t.still_serving().await;
}

/// RFC 7515 §4 ("Header Parameter names ... MUST be unique"), found by the
/// `signed` fuzz target: duplicates of a member the verifier does not read
/// (`x5u`, `jku`, a private one) were accepted, while duplicates of `alg`,
/// `kid` and `typ` are refused. Another library may act on either copy.
#[tokio::test]
async fn rfc7515_4_duplicate_unknown_header_members_are_refused() {
    let t = target().await;
    let claims = claims_json(t.issuer.issuer(), "");
    let cases = [
        (
            "duplicate jku",
            r#"{"alg":"RS256","kid":"rs256","jku":"https://a.example","jku":"https://b.example"}"#,
        ),
        (
            "duplicate x5u",
            r#"{"alg":"RS256","kid":"rs256","x5u":"https://a.example","x5u":"https://b.example"}"#,
        ),
        (
            "duplicate private member",
            r#"{"alg":"RS256","kid":"rs256","x":1,"x":2}"#,
        ),
    ];
    for (name, header) in cases {
        t.refuses(name, &sign_raw(header, &claims)).await;
    }
    t.still_serving().await;
}

/// RFC 7519 §2 (NumericDate is a number), the jsonwebtoken CVE-2026-25537
/// class (a string `nbf` was ignored instead of refused) and overflow when the
/// leeway is added: `exp`, `nbf` and `iat` that are not integers in range fail
/// closed, including where `exp` is optional.
#[tokio::test]
async fn cve_2026_25537_time_claims_of_the_wrong_type_fail_closed() {
    let t = target().await;
    let mut cases: Vec<(&str, &str, Value)> = vec![
        ("nbf as a future string", "nbf", json!("4102444800")),
        ("nbf as a past string", "nbf", json!("0")),
        ("exp as a string", "exp", json!("4102444800")),
        ("iat as a string", "iat", json!("1700000000")),
        ("exp as a float", "exp", json!(4_102_444_800.5)),
        ("exp as a whole float", "exp", json!(4_102_444_800.0)),
        ("exp in exponent form", "exp", serde_json::from_str("4.1e9").unwrap()),
        ("nbf as a float", "nbf", json!(1.5)),
        ("exp 1e300", "exp", json!(1e300)),
        ("exp negative", "exp", json!(-1)),
        ("nbf negative", "nbf", json!(-1)),
        ("iat negative", "iat", json!(-1)),
        ("exp past year 9999", "exp", json!(253_402_300_800u64)),
        ("exp i64::MAX", "exp", json!(i64::MAX)),
        ("exp u64::MAX", "exp", json!(u64::MAX)),
        ("exp overflows once the leeway is added", "exp", json!(u64::MAX - 30)),
        ("nbf u64::MAX", "nbf", json!(u64::MAX)),
        ("iat u64::MAX", "iat", json!(u64::MAX)),
        (
            "exp 2^64 (past u64)",
            "exp",
            serde_json::from_str("18446744073709551616").unwrap(),
        ),
    ];
    for odd in [
        json!(null),
        json!(true),
        json!([4_102_444_800u64]),
        json!({"t": 4_102_444_800u64}),
    ] {
        cases.push(("exp of another type", "exp", odd.clone()));
        cases.push(("nbf of another type", "nbf", odd));
    }
    for (name, claim, value) in &cases {
        let token = t.issuer.token().claim(claim, value.clone()).sign();
        t.refuses(&format!("{name}: {value}"), &token).await;
    }
    t.still_serving().await;

    // Where exp is optional, a lenient parser would treat an odd exp as absent
    // and accept the token for ever.
    let issuer = TestIssuer::start().await;
    let optional_exp = issuer.verifier_builder().require_exp(false).build().unwrap();
    let t = target_with(issuer, Authenticator::new(optional_exp)).await;
    let (status, _, body) = t.bearer(&t.issuer.token().without("exp").sign()).await;
    assert_eq!(status, 200, "no exp is fine here: {body}");
    for value in [
        json!("1"),
        json!(-1),
        json!(1.5),
        json!(null),
        json!(u64::MAX),
        json!([1]),
    ] {
        t.refuses(
            &format!("optional exp {value}"),
            &t.issuer.token().claim("exp", value.clone()).sign(),
        )
        .await;
    }
    t.still_serving().await;
}

/// RFC 7519 §4.1.3 and RFC 8725 §3.9: `aud` is a string or an array of
/// strings, compared exactly. Anything else is refused, never coerced.
#[tokio::test]
async fn rfc8725_3_9_aud_of_the_wrong_type_or_value_is_refused() {
    let t = target().await;
    for aud in [
        json!(1),
        json!(true),
        json!(null),
        json!({ "aud": TEST_AUDIENCE }),
        json!([[TEST_AUDIENCE]]),
        json!([TEST_AUDIENCE, 1]),
        json!([TEST_AUDIENCE, null]),
        json!([]),
        json!(""),
        json!(format!("{TEST_AUDIENCE} ")),
        json!(format!(" {TEST_AUDIENCE}")),
        json!(TEST_AUDIENCE.to_uppercase()),
        json!(format!("{TEST_AUDIENCE}\u{0}")),
        json!(format!("{TEST_AUDIENCE} other")),
        json!([format!("{TEST_AUDIENCE}-x")]),
    ] {
        t.refuses(
            &format!("aud {aud}"),
            &t.issuer.token().claim("aud", aud.clone()).sign(),
        )
        .await;
    }
    t.refuses("no aud", &t.issuer.token().without("aud").sign()).await;
    let (status, _, _) = t
        .bearer(&t.issuer.token().claim("aud", json!(["other", TEST_AUDIENCE])).sign())
        .await;
    assert_eq!(status, 200, "an array naming the audience passes");
    t.still_serving().await;
}

/// RFC 7515 §3.1 and §7.1 (compact form: three base64url segments, RFC 7515
/// §2 base64url without padding), RFC 8725 §3.7 (UTF-8 only, no look-alikes):
/// extra dots, whitespace, padding, the standard base64 alphabet, non-canonical
/// base64 (a second spelling of the same signature) and non-ASCII bytes.
#[tokio::test]
async fn rfc7515_7_1_only_the_exact_compact_form_is_accepted() {
    let t = target().await;
    // A token whose signature uses both base64url-only characters.
    let good = (0..200)
        .map(|n| t.issuer.token().subject(&format!("u{n}")).sign())
        .find(|token| {
            let signature = token.rsplit_once('.').unwrap().1;
            signature.contains('-') && signature.contains('_')
        })
        .expect("some signature has '-' and '_'");
    let (head, signature) = good.rsplit_once('.').unwrap();
    let (header, payload) = head.split_once('.').unwrap();
    // 256 signature bytes are 342 characters; the last one carries 2 bits and
    // 4 zero bits. Setting those zero bits spells the same bytes differently.
    let last = signature.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap();
    let sibling = alphabet.as_bytes()[index | 0b0001] as char;
    let non_canonical = format!("{}{sibling}", &good[..good.len() - 1]);
    // The same for the header and the payload: a second spelling of the same
    // JSON, which a lenient decoder accepts (and a cache keyed by the token
    // text would count as another token).
    let respell = |segment: &str| -> Option<String> {
        let spare_bits = matches!(segment.len() % 4, 2 | 3);
        let last = segment.chars().last()?;
        let index = alphabet.find(last)?;
        spare_bits.then(|| {
            format!(
                "{}{}",
                &segment[..segment.len() - 1],
                alphabet.as_bytes()[index | 1] as char
            )
        })
    };
    let standard_alphabet = good.replace('-', "+").replace('_', "/");
    let cases: Vec<(&str, String)> = vec![
        ("a trailing dot", format!("{good}.")),
        ("a fourth segment", format!("{good}.{signature}")),
        (
            "five segments (JWE shape)",
            format!("{header}.{payload}.{payload}.{payload}.{signature}"),
        ),
        ("a leading dot", format!(".{good}")),
        ("a doubled dot", format!("{header}..{payload}.{signature}")),
        ("no signature", format!("{head}.")),
        ("a space inside", format!("{header}. {payload}.{signature}")),
        ("a tab inside", format!("{header}.\t{payload}.{signature}")),
        ("padding on the signature", format!("{good}==")),
        ("padding on the header", format!("{header}=.{payload}.{signature}")),
        ("the standard base64 alphabet", standard_alphabet),
        ("non-canonical trailing bits", non_canonical),
        ("percent-encoded dots", good.replace('.', "%2E")),
    ];
    let mut cases = cases;
    let padded = |n: usize| {
        t.issuer
            .token()
            .header("x", json!("x".repeat(n)))
            .claim("pad", json!("x".repeat(n)))
            .sign()
    };
    let respelled = |which: usize| {
        (0..3)
            .map(padded)
            .find_map(|token| {
                let mut segments: Vec<String> = token.split('.').map(str::to_owned).collect();
                segments[which] = respell(&segments[which])?;
                Some(segments.join("."))
            })
            .expect("one of three lengths has spare bits")
    };
    cases.push(("non-canonical trailing bits in the header", respelled(0)));
    cases.push(("non-canonical trailing bits in the payload", respelled(1)));
    // The same odd forms signed over exactly as written (an issuer with a
    // sloppy encoder), so only the parser's strictness stops them.
    let resigned = |which: usize| {
        let token = respelled(which);
        sign_input(token.rsplit_once('.').unwrap().0)
    };
    cases.push(("non-canonical header, signed as written", resigned(0)));
    cases.push(("non-canonical payload, signed as written", resigned(1)));
    cases.push((
        "padding on the header, signed as written",
        sign_input(&format!("{header}=.{payload}")),
    ));
    cases.push((
        "padding on the payload, signed as written",
        sign_input(&format!("{header}.{payload}==")),
    ));
    cases.push((
        "a space inside, signed as written",
        sign_input(&format!("{header}. {payload}")),
    ));
    for (name, token) in &cases {
        t.refuses(name, token).await;
    }
    let non_ascii: Vec<(&str, Vec<u8>)> = vec![
        ("a Latin-1 byte appended", [good.as_bytes(), b"\xe9"].concat()),
        ("UTF-8 é appended", [good.as_bytes(), "é".as_bytes()].concat()),
        (
            "a zero-width space inside",
            format!("{header}.\u{200b}{payload}.{signature}").into_bytes(),
        ),
        (
            "fullwidth dots",
            format!("{header}\u{ff0e}{payload}\u{ff0e}{signature}").into_bytes(),
        ),
        (
            "a non-breaking space inside",
            format!("{header}.\u{a0}{payload}.{signature}").into_bytes(),
        ),
    ];
    for (name, token) in &non_ascii {
        let value = raw_value(&[b"Bearer ", token.as_slice()].concat());
        let response = t.get_me_with(&[("authorization", value)]).await;
        t.assert_refused(name, &response);
    }
    // Whitespace around the whole credential is not part of it.
    let (status, _, _) = t
        .get_me_with(&[("authorization", raw_value(format!("bearer   {good}  ").as_bytes()))])
        .await;
    assert_eq!(
        status, 200,
        "surrounding whitespace and the scheme's case do not matter"
    );
    t.still_serving().await;
}

/// Which credential wins when a request carries several (documented on
/// `Credentials`): the first location in the configured order that is
/// *present*, default Bearer, then the `st-access-token` header, then the
/// `sAccessToken` cookie. A present but bad credential never falls through to
/// the next location.
#[tokio::test]
async fn header_and_cookie_with_different_tokens_first_configured_location_wins() {
    let t = target().await;
    let i = &t.issuer;
    let a = i.token().subject("from-bearer").sign();
    let h = i.token().subject("from-header").sign();
    let c = i.token().subject("from-cookie").sign();
    let value = |s: String| HeaderValue::from_str(&s).unwrap();
    let bearer = |token: &str| ("authorization", value(format!("Bearer {token}")));
    let header = |token: &str| ("st-access-token", value(token.to_owned()));
    let cookie = |token: &str| ("cookie", value(format!("sAccessToken={token}")));

    let id = |r: &adversary::Response| (r.0, r.2["id"].clone(), r.2["source"].clone());
    let r = t.get_me_with(&[bearer(&a), cookie(&c)]).await;
    assert_eq!(id(&r), (200, json!("from-bearer"), json!("bearer")));
    let r = t.get_me_with(&[cookie(&c), header(&h)]).await;
    assert_eq!(id(&r), (200, json!("from-header"), json!("header")));
    let r = t.get_me_with(&[header(&h), bearer(&a), cookie(&c)]).await;
    assert_eq!(id(&r), (200, json!("from-bearer"), json!("bearer")));

    // A bad credential in the winning place is refused, not skipped.
    let bad = i.token().subject("from-bearer").with_signature(b"forged");
    let r = t.get_me_with(&[bearer(&bad), cookie(&c)]).await;
    t.assert_refused("a forged bearer beside a good cookie", &r);
    let r = t.get_me_with(&[bearer("garbage"), header(&h)]).await;
    t.assert_refused("a garbage bearer beside a good header", &r);
    let r = t.get_me_with(&[header("garbage"), cookie(&c)]).await;
    t.assert_refused("a garbage header beside a good cookie", &r);
    let expired = i.token().expires_in(-3600).sign();
    let r = t.get_me_with(&[bearer(&expired), cookie(&c)]).await;
    assert_eq!((r.0, r.2.clone()), (401, json!({"message": "try refresh token"})));

    // Another scheme is not ours to judge, so the next location is read.
    let r = t
        .get_me_with(&[("authorization", value("Basic dTpw".into())), cookie(&c)])
        .await;
    assert_eq!(id(&r), (200, json!("from-cookie"), json!("cookie")));

    // With the cookie configured first, the cookie wins.
    let t = target_with_credentials(
        Credentials::default().order([Location::Cookie("sAccessToken".into()), Location::Bearer]),
    )
    .await;
    let a = t.issuer.token().subject("from-bearer").sign();
    let c = t.issuer.token().subject("from-cookie").sign();
    let r = t.get_me_with(&[bearer(&a), cookie(&c)]).await;
    assert_eq!(id(&r), (200, json!("from-cookie"), json!("cookie")));
    t.still_serving().await;
}

/// Cookie tossing (a sibling subdomain or a network attacker on plain HTTP
/// sets a second `sAccessToken`; RFC 6265 §8.6/§8.7, RFC 6265bis §8.5): two
/// cookies of the session's name are ambiguous and refused, in one header or
/// split over two, whichever of them is valid.
#[tokio::test]
async fn cookie_tossing_two_session_cookies_are_refused() {
    let t = target().await;
    let victim = t.issuer.token().subject("victim").sign();
    let attacker = t.issuer.token().subject("attacker").sign();
    let value = |s: String| HeaderValue::from_str(&s).unwrap();
    let cases = [
        (
            "two valid cookies",
            vec![value(format!("sAccessToken={attacker}; sAccessToken={victim}"))],
        ),
        (
            "the same cookie twice",
            vec![value(format!("sAccessToken={victim}; sAccessToken={victim}"))],
        ),
        (
            "valid then garbage",
            vec![value(format!("sAccessToken={victim}; sAccessToken=x"))],
        ),
        (
            "garbage then valid",
            vec![value(format!("sAccessToken=x; sAccessToken={victim}"))],
        ),
        (
            "quoted and bare",
            vec![value(format!("sAccessToken=\"{attacker}\"; sAccessToken={victim}"))],
        ),
        (
            "padded name",
            vec![value(format!(" sAccessToken ={attacker};sAccessToken={victim}"))],
        ),
        (
            "split over two Cookie headers",
            vec![
                value(format!("sAccessToken={attacker}")),
                value(format!("sAccessToken={victim}")),
            ],
        ),
    ];
    for (name, cookies) in &cases {
        let headers: Vec<_> = cookies.iter().map(|c| ("cookie", c.clone())).collect();
        let response = t.get_me_with(&headers).await;
        t.assert_refused(name, &response);
    }
    // Cookie names are case-sensitive (RFC 6265 §5.4): `saccesstoken` is
    // another cookie and does not make the session ambiguous.
    let other_case = value(format!("saccesstoken={attacker}; sAccessToken={victim}"));
    let (status, _, body) = t.get_me_with(&[("cookie", other_case)]).await;
    assert_eq!((status, body["id"].clone()), (200, json!("victim")));
    t.still_serving().await;
}

/// Cross-site request forgery against cookie sessions (OWASP CSRF cheat
/// sheet; RFC 9110 §9.2.1 safe methods): a cookie on any method that is not
/// GET, HEAD, OPTIONS or TRACE needs an `rid` header or an allowed `Origin`.
/// Bearer and header credentials, which a browser never attaches by itself,
/// need no proof.
#[tokio::test]
async fn csrf_cookie_credentials_on_unsafe_methods_need_proof() {
    let issuer = TestIssuer::start().await;
    let auth = Authenticator::new(issuer.verifier())
        .credentials(Credentials::default().allowed_origins(["https://app.example.com"]));
    let strict = Authenticator::new(issuer.verifier()).credentials(
        Credentials::default()
            .allowed_origins(["https://app.example.com"])
            .accept_rid_header(false),
    );
    let app = |auth: Authenticator| {
        Router::new()
            .route("/me", any(|p: Principal| async move { Json(p) }))
            .layer(AuthLayer::required(auth))
    };
    let base = serve(app(auth)).await;
    let strict_base = serve(app(strict)).await;
    let http = client();
    let token = issuer.token().sign();
    let cookie = format!("sAccessToken={token}");
    let send = |base: &str, method: Method, extra: &[(&str, &str)]| {
        let mut request = http.request(method, format!("{base}/me")).header("cookie", &cookie);
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let unsafe_methods = [
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::from_bytes(b"PROPFIND").unwrap(),
        Method::from_bytes(b"post").unwrap(),
    ];
    let forbidden = json!({"message": "anti-csrf check failed"});
    for method in &unsafe_methods {
        for extra in [
            &[][..],
            &[("origin", "https://evil.example.com")][..],
            &[("origin", "null")][..],
            &[("origin", "https://app.example.com.evil.example")][..],
            &[("origin", "http://app.example.com")][..],
            &[("referer", "https://app.example.com/page")][..],
            &[("x-requested-with", "XMLHttpRequest")][..],
        ] {
            let (status, _, body) = parts(send(&base, method.clone(), extra).await.unwrap()).await;
            assert_eq!((status, &body), (403, &forbidden), "{method} {extra:?}");
        }
        let (status, _, body) = parts(send(&strict_base, method.clone(), &[("rid", "session")]).await.unwrap()).await;
        assert_eq!(
            (status, &body),
            (403, &forbidden),
            "{method}: rid is not proof when turned off"
        );
        for proof in [[("rid", "session")], [("origin", "https://app.example.com")]] {
            let response = send(&base, method.clone(), &proof).await.unwrap();
            assert_eq!(response.status(), 200, "{method} with {proof:?}");
        }
        let bearer = http
            .request(method.clone(), format!("{base}/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(bearer.status(), 200, "{method} with a bearer token needs no proof");
    }
    for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
        assert_eq!(
            send(&base, method.clone(), &[]).await.unwrap().status(),
            200,
            "{method}"
        );
    }
}

/// After every attack above, one server answering many of them in a row
/// still verifies a token signed with a key it only learns by rotation.
#[tokio::test]
async fn the_server_keeps_working_through_a_mixed_barrage() {
    let t = target().await;
    let i = &t.issuer;
    let barrage = [
        format!("{}.", encode_parts(r#"{"alg":"none"}"#, &claims_json(i.issuer(), ""))),
        i.token().header("alg", json!("HS256")).sign_hmac_with(RSA_PUBLIC_PEM),
        i.token().kid(Some("../../etc/passwd")).sign(),
        i.token().alg(Algorithm::ES256).with_signature(&[0; 64]),
        i.token().header("crit", json!(["exp"])).sign(),
        i.token().claim("nbf", json!("4102444800")).sign(),
        i.token().alg(Algorithm::HS256).sign_hmac_with(HS256_SECRET),
        "x".repeat(10_000),
    ];
    let tasks: Vec<_> = (0..8)
        .flat_map(|_| barrage.clone())
        .map(|token| {
            let http = t.http.clone();
            let url = format!("{}/me", t.base);
            tokio::spawn(async move { http.get(url).bearer_auth(token).send().await.unwrap().status() })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 401);
    }
    i.rotate();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, _, body) = t.bearer(&i.token().next_key().sign()).await;
    assert_eq!(status, 200, "a rotated key is still picked up: {body}");
    t.still_serving().await;
}
