//! The foundation over real HTTP: an axum server with `AuthLayer` on
//! 127.0.0.1, tokens from a `TestIssuer` whose JWKS is served on 127.0.0.1.

use crate::common;

use authorizer::credential::Credentials;
use authorizer::testing::{RSA_PUBLIC_PEM, TestIssuer, encode_parts};
use authorizer::{Algorithm, Authenticator, ErrorStyle};
use axum::Router;
use axum::routing::get;
use common::{client, demo_app, parts, serve};
use serde_json::json;

struct Server {
    issuer: TestIssuer,
    base: String,
    http: reqwest::Client,
}

async fn server_with(style: ErrorStyle, credentials: Credentials) -> Server {
    let issuer = TestIssuer::start().await;
    let auth = Authenticator::new(issuer.verifier())
        .error_style(style)
        .credentials(credentials);
    let base = serve(demo_app(auth)).await;
    Server {
        issuer,
        base,
        http: client(),
    }
}

async fn server() -> Server {
    server_with(ErrorStyle::SuperTokens, Credentials::default()).await
}

impl Server {
    async fn get_me(&self, token: &str) -> (u16, Option<String>, serde_json::Value) {
        let response = self
            .http
            .get(format!("{}/me", self.base))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        parts(response).await
    }

    async fn assert_still_serving(&self) {
        let (status, _, body) = self.get_me(&self.issuer.token().sign()).await;
        assert_eq!(status, 200, "server still serves valid tokens: {body}");
    }
}

#[tokio::test]
async fn bearer_token_gives_the_principal_as_json() {
    let s = server().await;
    let token = s
        .issuer
        .token()
        .subject("alice")
        .claim("scope", json!("read write"))
        .sign();
    let (status, _, body) = s.get_me(&token).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], "alice");
    assert_eq!(body["source"], "bearer");
    assert_eq!(body["scopes"], json!(["read", "write"]));
    assert_eq!(body["claims"]["iss"], s.issuer.issuer());
    assert_eq!(body["context"]["sub"], "alice");
    let post = s
        .http
        .post(format!("{}/me", s.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
}

#[tokio::test]
async fn header_and_cookie_credentials() {
    let s = server().await;
    let token = s.issuer.token().sign();
    let url = format!("{}/me", s.base);
    let header = s.http.get(&url).header("st-access-token", &token).send().await.unwrap();
    assert_eq!(parts(header).await.2["source"], "header");
    let cookie = format!("sAccessToken={token}");
    let get = s.http.get(&url).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(parts(get).await.2["source"], "cookie");

    let post = s.http.post(&url).header("cookie", &cookie).send().await.unwrap();
    let (status, _, body) = parts(post).await;
    assert_eq!((status, body), (403, json!({"message": "anti-csrf check failed"})));
    let post = s
        .http
        .post(&url)
        .header("cookie", &cookie)
        .header("rid", "session")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
    let tossed = format!(
        "sAccessToken={token}; sAccessToken={}",
        s.issuer.token().subject("other").sign()
    );
    let get = s.http.get(&url).header("cookie", tossed).send().await.unwrap();
    assert_eq!(get.status(), 401, "two session cookies are ambiguous");
}

#[tokio::test]
async fn bearer_wins_over_cookie_by_default() {
    let s = server().await;
    let bearer = s.issuer.token().subject("from-header").sign();
    let cookie = s.issuer.token().subject("from-cookie").sign();
    let response = s
        .http
        .get(format!("{}/me", s.base))
        .bearer_auth(bearer)
        .header("cookie", format!("sAccessToken={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(parts(response).await.2["id"], "from-header");
}

#[tokio::test]
async fn cookie_origin_allow_list() {
    let s = server_with(
        ErrorStyle::SuperTokens,
        Credentials::default().allowed_origins(["https://app.example.com"]),
    )
    .await;
    let cookie = format!("sAccessToken={}", s.issuer.token().sign());
    let post = |origin: &'static str| {
        s.http
            .post(format!("{}/me", s.base))
            .header("cookie", &cookie)
            .header("origin", origin)
            .send()
    };
    assert_eq!(post("https://app.example.com").await.unwrap().status(), 200);
    assert_eq!(post("https://evil.example.com").await.unwrap().status(), 403);
}

#[tokio::test]
async fn optional_route() {
    let s = server().await;
    let url = format!("{}/public", s.base);
    let anonymous = s.http.get(&url).send().await.unwrap();
    assert_eq!(
        parts(anonymous).await,
        (200, None, json!({"authenticated": false, "id": null}))
    );
    let signed_in = s
        .http
        .get(&url)
        .bearer_auth(s.issuer.token().sign())
        .send()
        .await
        .unwrap();
    assert_eq!(parts(signed_in).await.2, json!({"authenticated": true, "id": "user-1"}));
    let bad = s.http.get(&url).bearer_auth("not.a.token").send().await.unwrap();
    assert_eq!(bad.status(), 401, "a bad credential fails even where none is needed");
    let expired = s.issuer.token().expires_in(-3600).sign();
    let expired = s.http.get(&url).bearer_auth(expired).send().await.unwrap();
    assert_eq!(parts(expired).await.2, json!({"message": "try refresh token"}));
}

#[tokio::test]
async fn missing_and_expired_in_both_styles() {
    let st = server().await;
    let missing = st.http.get(format!("{}/me", st.base)).send().await.unwrap();
    assert_eq!(
        parts(missing).await,
        (401, Some("Bearer".into()), json!({"message": "unauthorised"}))
    );

    let rfc = server_with(ErrorStyle::Rfc6750, Credentials::default()).await;
    let missing = rfc.http.get(format!("{}/me", rfc.base)).send().await.unwrap();
    let (status, challenge, body) = parts(missing).await;
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")));
    assert_eq!(body["error"], "invalid_request");
    let (status, challenge, body) = rfc.get_me(&rfc.issuer.token().expires_in(-3600).sign()).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge.unwrap(),
        r#"Bearer error="invalid_token", error_description="the access token expired""#
    );
    assert_eq!(
        body,
        json!({"error": "invalid_token", "error_description": "the access token expired"})
    );
}

/// Every hostile or broken credential: 401 with the invalid-token challenge,
/// a body that says nothing more, and a server that keeps serving.
#[tokio::test]
async fn hostile_and_broken_tokens_are_401() {
    let s = server().await;
    let i = &s.issuer;
    let good = i.token().sign();
    let (head, _) = good.rsplit_once('.').unwrap();
    let es_zero = i.token().alg(Algorithm::ES256).with_signature(&[0u8; 64]);
    let es_overflow = i.token().alg(Algorithm::ES256).with_signature(&[0xffu8; 64]);
    let other_key_signature = {
        // The published `rs256` kid, signed by the ES256 key's bytes re-labelled.
        let es = i.token().alg(Algorithm::ES256).sign();
        format!("{head}.{}", es.rsplit_once('.').unwrap().1)
    };
    let tampered = {
        let evil = i.token().subject("admin").signing_input();
        format!("{}.{}", evil, good.rsplit_once('.').unwrap().1)
    };
    let none_tokens: Vec<String> = ["none", "None", "NONE", "nOnE"]
        .iter()
        .map(|alg| {
            format!(
                "{}.",
                encode_parts(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#), r#"{"sub":"x"}"#)
            )
        })
        .chain(
            ["none", "NONE"]
                .iter()
                .map(|alg| i.token().header("alg", json!(alg)).with_signature(b"x")),
        )
        .collect();
    let mut cases: Vec<(&str, String)> = vec![
        ("garbage", "garbage".into()),
        ("empty parts", "..".into()),
        ("two parts", "abc.def".into()),
        ("invalid base64", "a$b.c%d.e!f".into()),
        ("base64 of non-JSON", format!("{}.c2ln", encode_parts("not json", "{}"))),
        (
            "hmac with the rsa public key",
            i.token().header("alg", json!("HS256")).sign_hmac_with(RSA_PUBLIC_PEM),
        ),
        ("unknown kid", i.token().kid(Some("no-such-key")).sign()),
        (
            "kid with path characters",
            i.token().kid(Some("../../../../dev/null")).sign(),
        ),
        ("kid sql-ish", i.token().kid(Some("x' OR '1'='1")).sign()),
        ("published kid, another key's signature", other_key_signature),
        ("tampered payload", tampered),
        (
            "wrong iss",
            i.token().claim("iss", json!("https://evil.example.com")).sign(),
        ),
        ("missing iss", i.token().without("iss").sign()),
        ("wrong aud", i.token().claim("aud", json!("someone-else")).sign()),
        ("expired", i.token().expires_in(-3600).sign()),
        ("not yet valid", i.token().claim("nbf", json!(4_000_000_000u64)).sign()),
        ("missing exp", i.token().without("exp").sign()),
        ("exp as string", i.token().claim("exp", json!("4000000000")).sign()),
        (
            "unknown crit",
            i.token().header("crit", json!(["exp"])).header("exp", json!(1)).sign(),
        ),
        // Signed by a key the issuer never published, which the header points at.
        (
            "jku elsewhere",
            i.token()
                .next_key()
                .header("jku", json!("http://127.0.0.1:9/jwks"))
                .sign(),
        ),
        (
            "x5u elsewhere",
            i.token()
                .next_key()
                .header("x5u", json!("http://127.0.0.1:9/cert"))
                .sign(),
        ),
        (
            "embedded jwk",
            i.token()
                .next_key()
                .kid(None)
                .header("jwk", json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}))
                .sign(),
        ),
        ("all-zero ecdsa signature", es_zero),
        ("out-of-range ecdsa signature", es_overflow),
        ("alg not matching key", i.token().header("alg", json!("PS256")).sign()),
        ("missing sub", i.token().without("sub").sign()),
    ];
    for (n, token) in none_tokens.into_iter().enumerate() {
        cases.push((
            [
                "alg none 1",
                "alg none 2",
                "alg none 3",
                "alg none 4",
                "alg none 5",
                "alg none 6",
            ][n],
            token,
        ));
    }
    for (name, token) in &cases {
        let (status, challenge, body) = s.get_me(token).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert!(challenge.unwrap_or_default().starts_with("Bearer"), "{name}");
        let expected = if *name == "expired" {
            "try refresh token"
        } else {
            "unauthorised"
        };
        assert_eq!(body, json!({ "message": expected }), "{name}");
    }
    s.assert_still_serving().await;
}

#[tokio::test]
async fn oversized_credential_is_rejected_unparsed() {
    let s = server().await;
    let huge = format!("{}.{}.{}", "a".repeat(5000), "b".repeat(5000), "c".repeat(100));
    let (status, _, _) = s.get_me(&huge).await;
    assert_eq!(status, 401);
    s.assert_still_serving().await;
}

#[tokio::test]
async fn keys_unavailable_is_503_and_recovers() {
    let issuer = TestIssuer::start().await;
    issuer.set_outage(true);
    let verifier = issuer.verifier_builder().build().unwrap();
    let base = serve(demo_app(Authenticator::new(verifier).error_style(ErrorStyle::Rfc6750))).await;
    let http = client();
    let token = issuer.token().sign();
    let response = http.get(format!("{base}/me")).bearer_auth(&token).send().await.unwrap();
    let (status, challenge, body) = parts(response).await;
    assert_eq!((status, challenge), (503, None));
    assert_eq!(body["error"], "temporarily_unavailable");
    issuer.set_outage(false);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = http.get(format!("{base}/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn extractor_without_layer_is_a_500() {
    async fn needs_principal(p: authorizer::Principal) -> String {
        p.id().to_owned()
    }
    async fn maybe_principal(p: Option<authorizer::Principal>) -> String {
        format!("{}", p.is_some())
    }
    let app = Router::new()
        .route("/a", get(needs_principal))
        .route("/b", get(maybe_principal));
    let base = serve(app).await;
    for path in ["a", "b"] {
        let response = client().get(format!("{base}/{path}")).send().await.unwrap();
        let (status, _, body) = parts(response).await;
        assert_eq!(status, 500, "{path}");
        assert_eq!(body, json!({"message": "internal server error"}));
    }
}

#[tokio::test]
async fn typed_claims_extractor() {
    #[derive(serde::Deserialize)]
    struct Session {
        sub: String,
        tenant: String,
    }
    async fn handler(authorizer::Claims(s): authorizer::Claims<Session>) -> String {
        format!("{}@{}", s.sub, s.tenant)
    }
    let issuer = TestIssuer::start().await;
    let app = Router::new()
        .route("/t", get(handler))
        .layer(authorizer::tower::AuthLayer::required(issuer.verifier()));
    let base = serve(app).await;
    let ok = client()
        .get(format!("{base}/t"))
        .bearer_auth(issuer.token().claim("tenant", json!("acme")).sign())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.text().await.unwrap(), "user-1@acme");
    let missing = client()
        .get(format!("{base}/t"))
        .bearer_auth(issuer.token().sign())
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
}
