//! Sender-constrained tokens over real HTTP: DPoP (RFC 9449) on axum and
//! actix-web with the test issuer's proofs and with proofs an independent
//! implementation signs, per-route modes in every adapter, the Lambda
//! authorizer's REQUEST and HTTP API events, and certificate-bound tokens
//! (RFC 8705) with the certificate handed over by the server or the gateway.

#![cfg(all(feature = "actix-web", feature = "axum", feature = "lambda", feature = "testing"))]

use actix_web::HttpServer;
use authorizer::binding::{Binding, ClientCertificate, DpopMode, Nonces};
use authorizer::lambda::{AuthorizerAnswer, AuthorizerError, HttpApiAnswer, HttpApiResponse, LambdaAuthorizer};
use authorizer::routes::{RouteRule, RouteTable};
use authorizer::testing::{DpopKey, TestIssuer};
use authorizer::tower::{AuthLayer, RequireLayer};
use authorizer::{Authenticator, ErrorStyle, Principal};
use aws_lambda_events::iam::IamPolicyEffect;
use axum::Router;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::common::{client, demo_app, serve};
use crate::events::{BASE, fixture, with_token};

fn auth(issuer: &TestIssuer, binding: Binding) -> Authenticator {
    Authenticator::new(issuer.verifier())
        .binding(binding.default_scheme("http"))
        .error_style(ErrorStyle::Rfc6750)
}

/// Both demo servers, one authenticator.
async fn servers(auth: Authenticator) -> [String; 2] {
    let (actix, handle) = crate::parity::serve_actix(auth.clone()).await;
    // The server thread ends with the test process.
    std::mem::forget(handle);
    [serve(demo_app(auth)).await, actix]
}

async fn send(method: reqwest::Method, url: &str, scheme: &str, token: &str, proofs: &[&str]) -> reqwest::Response {
    let mut request = client()
        .request(method, url)
        .header("authorization", format!("{scheme} {token}"));
    for proof in proofs {
        request = request.header("dpop", *proof);
    }
    request.send().await.unwrap()
}

async fn get_with(url: &str, token: &str, proofs: &[&str]) -> reqwest::Response {
    send(reqwest::Method::GET, url, "DPoP", token, proofs).await
}

fn challenges(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("www-authenticate")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect()
}

/// Status, challenges and JSON body, with the proof and token never echoed.
async fn refused(response: reqwest::Response, secrets: &[&str]) -> (u16, Vec<String>, Value) {
    let status = response.status().as_u16();
    let challenges = challenges(response.headers());
    let text = response.text().await.unwrap();
    for secret in secrets {
        assert!(!text.contains(secret), "the answer echoes what the client sent");
    }
    (status, challenges, serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn dpop_on_axum_and_actix_over_http() {
    let issuer = TestIssuer::new();
    let client_key = DpopKey::es256();
    let token = issuer.token().bound_to(&client_key).sign();
    let plain = issuer.token().sign();
    for base in servers(auth(&issuer, Binding::new())).await {
        let me = format!("{base}/me");
        let proof = client_key.proof("GET", &me).access_token(&token).sign();
        let response = get_with(&me, &token, &[&proof]).await;
        assert_eq!(response.status(), 200, "{base}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["source"], "dpop", "{base}: {body}");

        // Each bad input: a 401 with the DPoP challenge, and the server keeps serving.
        let second = client_key.proof("GET", &me).access_token(&token).sign();
        let elsewhere = client_key
            .proof("GET", &format!("{base}/public"))
            .access_token(&token)
            .sign();
        let other_method = client_key.proof("POST", &me).access_token(&token).sign();
        let bad: [(&str, Vec<&str>, &str); 4] = [
            ("replayed", vec![&proof], "invalid_dpop_proof"),
            ("two proofs", vec![&second, &elsewhere], "invalid_dpop_proof"),
            ("another path", vec![&elsewhere], "invalid_dpop_proof"),
            ("another method", vec![&other_method], "invalid_dpop_proof"),
        ];
        for (name, proofs, error) in bad {
            let (status, challenges, body) = refused(get_with(&me, &token, &proofs).await, &proofs).await;
            assert_eq!(status, 401, "{base} {name}");
            assert_eq!(challenges.len(), 1, "{base} {name}: {challenges:?}");
            assert!(
                challenges[0].starts_with(&format!(r#"DPoP error="{error}""#)),
                "{base} {name}: {challenges:?}"
            );
            assert_eq!(body["error"], error, "{base} {name}");
        }

        // The bound token as a bearer token: refused, both schemes challenged.
        let (status, challenges, body) =
            refused(send(reqwest::Method::GET, &me, "Bearer", &token, &[]).await, &[&token]).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")), "{base}");
        assert!(
            challenges[0].starts_with(r#"Bearer error="invalid_token""#),
            "{challenges:?}"
        );
        assert!(
            challenges[1].starts_with(r#"DPoP error="invalid_token""#),
            "{challenges:?}"
        );
        assert!(
            challenges[1].contains(r#"algs="ES256 ES384 EdDSA PS256 RS256""#),
            "{challenges:?}"
        );

        // Still serving, bearer tokens too.
        let response = send(reqwest::Method::GET, &me, "Bearer", &plain, &[]).await;
        assert_eq!(response.status(), 200, "{base}");
        let missing = client().get(&me).send().await.unwrap();
        assert_eq!(
            challenges_of(&missing),
            ["Bearer", r#"DPoP algs="ES256 ES384 EdDSA PS256 RS256""#]
        );
    }
}

fn challenges_of(response: &reqwest::Response) -> Vec<String> {
    challenges(response.headers())
}

#[tokio::test]
async fn server_nonces_over_http() {
    let issuer = TestIssuer::new();
    let nonces = Nonces::new(b"a shared secret of 32 bytes or more".to_vec()).unwrap();
    let client_key = DpopKey::es256();
    let token = issuer.token().bound_to(&client_key).sign();
    for base in servers(auth(&issuer, Binding::new().nonces(nonces))).await {
        let me = format!("{base}/me");
        let first = client_key.proof("GET", &me).access_token(&token).sign();
        let response = get_with(&me, &token, &[&first]).await;
        assert_eq!(response.status(), 401, "{base}");
        assert!(challenges_of(&response)[0].starts_with(r#"DPoP error="use_dpop_nonce""#));
        let nonce = response.headers()["dpop-nonce"].to_str().unwrap().to_owned();
        let retry = client_key.proof("GET", &me).access_token(&token).nonce(&nonce).sign();
        assert_eq!(get_with(&me, &token, &[&retry]).await.status(), 200, "{base}");
    }
}

#[tokio::test]
async fn modes_per_layer_on_both_servers() {
    let issuer = TestIssuer::new();
    let client_key = DpopKey::es256();
    let bound = issuer.token().bound_to(&client_key).sign();
    let plain = issuer.token().sign();
    for (mode, dpop_passes, bearer_passes) in [
        (DpopMode::Off, false, true),
        (DpopMode::Allowed, true, true),
        (DpopMode::Required, true, false),
    ] {
        for base in servers(auth(&issuer, Binding::new().dpop(mode))).await {
            let me = format!("{base}/me");
            let proof = client_key.proof("GET", &me).access_token(&bound).sign();
            let dpop = get_with(&me, &bound, &[&proof]).await.status() == 200;
            let bearer = send(reqwest::Method::GET, &me, "Bearer", &plain, &[]).await.status() == 200;
            let bound_as_bearer = send(reqwest::Method::GET, &me, "Bearer", &bound, &[]).await.status();
            assert_eq!((dpop, bearer), (dpop_passes, bearer_passes), "{mode:?} {base}");
            assert_eq!(bound_as_bearer, 401, "{mode:?} {base}: never a bearer token");
        }
    }
}

/// Route tables are the same in every adapter: `POST /payments` needs DPoP,
/// `GET /legacy` refuses it, the rest takes both.
fn table() -> RouteTable {
    RouteTable::new()
        .route("GET /payments", RouteRule::session().dpop(DpopMode::Required))
        .unwrap()
        .route("GET /legacy", RouteRule::session().dpop(DpopMode::Off))
        .unwrap()
        .route("GET /me", RouteRule::session())
        .unwrap()
}

#[tokio::test]
async fn modes_per_route_on_tower_actix_and_the_lambda_authorizer() {
    let issuer = TestIssuer::new();
    let auth = auth(&issuer, Binding::new());
    let client_key = DpopKey::es256();
    let bound = issuer.token().bound_to(&client_key).sign();
    let plain = issuer.token().sign();

    let who = |principal: Principal| async move { principal.id().to_owned() };
    let axum_app = Router::new()
        .route("/payments", get(who))
        .route("/legacy", get(who))
        .route("/me", get(who))
        .layer(RequireLayer::routes(table()))
        .layer(AuthLayer::optional(auth.clone()));
    let axum_base = serve(axum_app).await;
    let actix_auth = auth.clone();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            use authorizer::actix::{AuthMiddleware, RequireMiddleware};
            let server = HttpServer::new(move || {
                let who = |principal: Principal| async move { principal.id().to_owned() };
                actix_web::App::new()
                    .wrap(RequireMiddleware::routes(table()))
                    .wrap(AuthMiddleware::optional(actix_auth.clone()))
                    .route("/payments", actix_web::web::get().to(who))
                    .route("/legacy", actix_web::web::get().to(who))
                    .route("/me", actix_web::web::get().to(who))
            })
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
            let addr = server.addrs()[0];
            let server = server.run();
            sender.send(addr).unwrap();
            server.await.unwrap();
        })
    });
    let actix_base = format!("http://{}", receiver.await.unwrap());
    for base in [axum_base, actix_base] {
        for (path, dpop_passes, bearer_passes) in [
            ("/payments", true, false),
            ("/legacy", false, true),
            ("/me", true, true),
        ] {
            let url = format!("{base}{path}");
            let proof = client_key.proof("GET", &url).access_token(&bound).sign();
            let dpop = get_with(&url, &bound, &[&proof]).await;
            let bearer = send(reqwest::Method::GET, &url, "Bearer", &plain, &[]).await;
            assert_eq!(dpop.status() == 200, dpop_passes, "{base}{path} DPoP");
            assert_eq!(bearer.status() == 200, bearer_passes, "{base}{path} Bearer");
            for refused in [dpop, bearer].into_iter().filter(|r| r.status() != 200) {
                assert_eq!(refused.status(), 401, "{base}{path}");
            }
        }
    }

    // The Lambda authorizer: the same table, the proof's `htu` rebuilt from the event.
    let authorizer = LambdaAuthorizer::new(auth, table());
    let domain = "abc123defg.execute-api.us-east-1.amazonaws.com";
    for (path, dpop_passes, bearer_passes) in [
        ("/payments", true, false),
        ("/legacy", false, true),
        ("/me", true, true),
    ] {
        let proof = client_key
            .proof("GET", &format!("https://{domain}/prod{path}"))
            .access_token(&bound)
            .sign();
        let dpop = authorizer
            .handle(rest_event("GET", path, &format!("DPoP {bound}"), Some(&proof), None))
            .await;
        let bearer = authorizer
            .handle(rest_event("GET", path, &format!("Bearer {plain}"), None, None))
            .await;
        assert_eq!(allowed(&dpop), dpop_passes, "{path} DPoP: {dpop:?}");
        assert_eq!(allowed(&bearer), bearer_passes, "{path} Bearer: {bearer:?}");
    }
}

/// A REST `REQUEST` authorizer event for `method path` on stage `prod`, with
/// an `Authorization` header, a `DPoP` header and a client certificate (PEM).
fn rest_event(method: &str, path: &str, authorization: &str, proof: Option<&str>, certificate: Option<&str>) -> Value {
    let mut event = with_token(&fixture("authorizer_request.json"), "unused");
    event["methodArn"] = json!(format!("{BASE}/{method}{path}"));
    event["httpMethod"] = json!(method);
    event["path"] = json!(path);
    event["requestContext"]["path"] = json!(format!("/prod{path}"));
    for headers in ["headers", "multiValueHeaders"] {
        let map = event[headers].as_object_mut().unwrap();
        map.remove("Cookie");
        let one = |value: &str| {
            if headers == "headers" {
                json!(value)
            } else {
                json!([value])
            }
        };
        map.insert("Authorization".into(), one(authorization));
        if let Some(proof) = proof {
            map.insert("DPoP".into(), one(proof));
        }
    }
    if let Some(pem) = certificate {
        event["requestContext"]["identity"]["clientCert"] = client_cert(pem);
    }
    event
}

/// An HTTP API payload 2.0 event for `GET /me`, with the same headers.
fn http_api_event(authorization: &str, proof: Option<&str>, certificate: Option<&str>) -> Value {
    let mut event = with_token(&fixture("authorizer_http_v2.json"), "unused");
    event["cookies"] = json!([]);
    event["headers"]["authorization"] = json!(authorization);
    if let Some(proof) = proof {
        event["headers"]["dpop"] = json!(proof);
    }
    if let Some(pem) = certificate {
        event["requestContext"]["authentication"] = json!({ "clientCert": client_cert(pem) });
    }
    event
}

/// `clientCert` as API Gateway's mutual TLS writes it.
fn client_cert(pem: &str) -> Value {
    json!({
        "clientCertPem": pem,
        "subjectDN": "CN=client",
        "issuerDN": "CN=authorizer test CA",
        "serialNumber": "1",
        "validity": {"notBefore": "Jan 1 00:00:00 2026 GMT", "notAfter": "Jan 1 00:00:00 2126 GMT"}
    })
}

fn allowed(answer: &Result<AuthorizerAnswer, AuthorizerError>) -> bool {
    match answer {
        Ok(AuthorizerAnswer::Rest(policy)) => policy
            .policy_document
            .statement
            .first()
            .is_some_and(|s| s.effect == IamPolicyEffect::Allow),
        Ok(AuthorizerAnswer::HttpApi(HttpApiAnswer::Simple(simple))) => simple.is_authorized,
        Ok(other) => panic!("unexpected answer {other:?}"),
        Err(_) => false,
    }
}

#[tokio::test]
async fn the_lambda_authorizer_checks_proofs_and_certificates_of_both_event_kinds() {
    let issuer = TestIssuer::new();
    let auth = auth(&issuer, Binding::new());
    let rest = LambdaAuthorizer::new(auth.clone(), RouteTable::new());
    let http = LambdaAuthorizer::new(auth, RouteTable::new()).http_api_response(HttpApiResponse::Simple);
    let client_key = DpopKey::es256();
    let bound = issuer.token().bound_to(&client_key).sign();
    let domain = "https://abc123defg.execute-api.us-east-1.amazonaws.com";

    let proof = client_key
        .proof("GET", &format!("{domain}/prod/me"))
        .access_token(&bound)
        .sign();
    let event = rest_event("GET", "/me", &format!("DPoP {bound}"), Some(&proof), None);
    assert!(allowed(&rest.handle(event.clone()).await));
    assert!(!allowed(&rest.handle(event).await), "a replayed proof");
    let without_stage = client_key
        .proof("GET", &format!("{domain}/me"))
        .access_token(&bound)
        .sign();
    let event = rest_event("GET", "/me", &format!("DPoP {bound}"), Some(&without_stage), None);
    assert!(
        matches!(rest.handle(event).await, Err(AuthorizerError::Unauthorized)),
        "htu names the stage"
    );
    let as_bearer = rest_event("GET", "/me", &format!("Bearer {bound}"), None, None);
    assert!(matches!(
        rest.handle(as_bearer).await,
        Err(AuthorizerError::Unauthorized)
    ));

    let proof = client_key
        .proof("GET", &format!("{domain}/me"))
        .access_token(&bound)
        .sign();
    assert!(allowed(
        &http
            .handle(http_api_event(&format!("DPoP {bound}"), Some(&proof), None))
            .await
    ));
    let forged = client_key
        .proof("GET", &format!("{domain}/me"))
        .access_token(&bound)
        .with_bad_signature();
    assert!(!allowed(
        &http
            .handle(http_api_event(&format!("DPoP {bound}"), Some(&forged), None))
            .await
    ));

    // API Gateway's mutual TLS: the certificate in the request context.
    let pem = std::fs::read_to_string(fixture_path("tls/client.pem")).unwrap();
    let other_pem = std::fs::read_to_string(fixture_path("tls/other_client.pem")).unwrap();
    let cert_bound = issuer.token().bound_to_certificate(&der_of(&pem)).sign();
    let authorization = format!("Bearer {cert_bound}");
    assert!(allowed(
        &rest
            .handle(rest_event("GET", "/me", &authorization, None, Some(&pem)))
            .await
    ));
    assert!(!allowed(
        &rest
            .handle(rest_event("GET", "/me", &authorization, None, Some(&other_pem)))
            .await
    ));
    assert!(!allowed(
        &rest.handle(rest_event("GET", "/me", &authorization, None, None)).await
    ));
    assert!(allowed(
        &http.handle(http_api_event(&authorization, None, Some(&pem))).await
    ));
    assert!(!allowed(
        &http
            .handle(http_api_event(&authorization, None, Some(&other_pem)))
            .await
    ));
}

fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The DER of a PEM certificate.
fn der_of(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

/// A DPoP client that shares nothing with this crate: RustCrypto's P-256
/// signs, and the JWS, JWK and thumbprint are written out by hand here.
struct IndependentClient {
    key: p256::ecdsa::SigningKey,
}

impl IndependentClient {
    fn new() -> Self {
        IndependentClient {
            key: p256::ecdsa::SigningKey::from_bytes(&[42u8; 32].into()).unwrap(),
        }
    }

    fn jwk(&self) -> (String, String) {
        let point = self.key.verifying_key().to_encoded_point(false);
        (
            URL_SAFE_NO_PAD.encode(point.x().unwrap()),
            URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        )
    }

    /// RFC 7638, written out: the required members in order, no spaces.
    fn thumbprint(&self) -> String {
        use sha2::Digest;
        let (x, y) = self.jwk();
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical.as_bytes()))
    }

    fn proof(&self, method: &str, url: &str, token: &str, jti: &str) -> String {
        use p256::ecdsa::signature::Signer;
        use sha2::Digest;
        let (x, y) = self.jwk();
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": {"kty": "EC", "crv": "P-256", "x": x, "y": y}});
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let ath = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()));
        let claims = json!({"jti": jti, "htm": method, "htu": url, "iat": now, "ath": ath});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: p256::ecdsa::Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

#[tokio::test]
async fn proofs_from_an_independent_implementation() {
    let issuer = TestIssuer::new();
    let independent = IndependentClient::new();
    let token = issuer
        .token()
        .claim("cnf", json!({ "jkt": independent.thumbprint() }))
        .sign();
    for base in servers(auth(&issuer, Binding::new().dpop(DpopMode::Required))).await {
        let me = format!("{base}/me");
        let jti = format!("independent-{base}");
        let proof = independent.proof("GET", &me, &token, &jti);
        assert_eq!(get_with(&me, &token, &[&proof]).await.status(), 200, "{base}");
        assert_eq!(get_with(&me, &token, &[&proof]).await.status(), 401, "{base}: replay");
        let other_token = issuer
            .token()
            .claim("cnf", json!({ "jkt": independent.thumbprint() }))
            .subject("x")
            .sign();
        let for_other = independent.proof("GET", &me, &other_token, &format!("{jti}-2"));
        assert_eq!(
            get_with(&me, &token, &[&for_other]).await.status(),
            401,
            "{base}: another token's ath"
        );
    }
    // Our thumbprint and the independent one agree.
    let jwk = {
        let (x, y) = independent.jwk();
        json!({"kty": "EC", "crv": "P-256", "x": x, "y": y})
    };
    assert_eq!(
        authorizer::binding::jwk_thumbprint(jwk.as_object().unwrap()).unwrap(),
        independent.thumbprint()
    );
}

#[tokio::test]
async fn certificate_bound_tokens_with_the_certificate_handed_over_per_connection() {
    let issuer = TestIssuer::new();
    let pem = std::fs::read_to_string(fixture_path("tls/client.pem")).unwrap();
    let der = der_of(&pem);
    let cert_bound = issuer.token().bound_to_certificate(&der).sign();
    // What a TLS server does per connection: the peer's certificate as an
    // extension on every request of that connection. Here a header names
    // which fixture the "connection" presented.
    let other_der = der_of(&std::fs::read_to_string(fixture_path("tls/other_client.pem")).unwrap());
    let app = demo_app(auth(&issuer, Binding::new())).layer(axum::middleware::from_fn(
        move |mut request: axum::extract::Request, next: axum::middleware::Next| {
            let presented = match request.headers().get("x-test-connection").map(|v| v.as_bytes()) {
                Some(b"client") => Some(der.clone()),
                Some(b"other") => Some(other_der.clone()),
                _ => None,
            };
            if let Some(der) = presented {
                request.extensions_mut().insert(ClientCertificate::new(der));
            }
            next.run(request)
        },
    ));
    let base = serve(app).await;
    let me = format!("{base}/me");
    for (connection, status) in [(Some("client"), 200), (Some("other"), 401), (None, 401)] {
        let mut request = client().get(&me).bearer_auth(&cert_bound);
        if let Some(connection) = connection {
            request = request.header("x-test-connection", connection);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{connection:?}");
    }
}

/// The header values of a printed `curl` line (`-H 'Name: value'`).
fn curl_headers(line: &str) -> Vec<(String, String)> {
    line.split(" -H '")
        .skip(1)
        .filter_map(|part| part.split_once('\'').map(|(header, _)| header))
        .filter_map(|header| header.split_once(": "))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

#[tokio::test]
async fn the_quickstart_dpop_lines_do_what_they_say_on_both_servers() {
    let issuer = TestIssuer::new();
    // The demo servers' binding: plain HTTP on 127.0.0.1.
    let auth = Authenticator::new(issuer.verifier()).binding(Binding::new().default_scheme("http"));
    for base in servers(auth).await {
        let lines = crate::support::dpop_lines(&base, &issuer);
        let mut statuses = Vec::new();
        for line in &lines {
            let url = line.rsplit(' ').next().unwrap();
            let mut request = client().get(url);
            for (name, value) in curl_headers(line) {
                request = request.header(name, value);
            }
            statuses.push(request.send().await.unwrap().status().as_u16());
        }
        assert_eq!(statuses, [200, 401, 401], "{base}");
    }
}

/// A TLS server on 127.0.0.1 (rustls, client certificates of the test CA
/// asked for but optional) serving `router`, handing each connection's
/// client certificate to every request as a [`ClientCertificate`]: what the
/// cookbook tells users to do. Returns the port.
async fn tls_server(router: Router) -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::sync::Arc;
    use tower::ServiceExt;

    let read = |name: &str| std::fs::read(fixture_path(&format!("tls/{name}"))).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(&read("ca.pem")).unwrap())
        .unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(&read("server.pem")).unwrap()],
            PrivateKeyDer::from_pem_slice(&read("server.key")).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, router) = (acceptor.clone(), router.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let certificate = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .map(|der| ClientCertificate::new(der.as_ref().to_vec()));
                let service = hyper::service::service_fn(move |mut request: http::Request<hyper::body::Incoming>| {
                    if let Some(certificate) = &certificate {
                        request.extensions_mut().insert(certificate.clone());
                    }
                    router.clone().oneshot(request.map(axum::body::Body::new))
                });
                let io = hyper_util::rt::TokioIo::new(tls);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    port
}

/// A client trusting the test CA, presenting `identity` (a fixture's
/// certificate and key), if any.
fn tls_client(identity: Option<&str>) -> reqwest::Client {
    let read = |name: &str| std::fs::read(fixture_path(&format!("tls/{name}"))).unwrap();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(&read("ca.pem")).unwrap()]);
    if let Some(name) = identity {
        let pem = [read(&format!("{name}.pem")), read(&format!("{name}.key"))].concat();
        builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn a_real_tls_client_certificate_binds_the_token() {
    let issuer = TestIssuer::new();
    let der = der_of(&std::fs::read_to_string(fixture_path("tls/client.pem")).unwrap());
    let cert_bound = issuer.token().bound_to_certificate(&der).sign();
    let plain = issuer.token().sign();
    // The default binding: over TLS the request line names no scheme, and
    // `https` is the default a proof's `htu` is checked with.
    let port = tls_server(demo_app(Authenticator::new(issuer.verifier()).binding(Binding::new()))).await;
    let me = format!("https://127.0.0.1:{port}/me");
    for (identity, token, status) in [
        (Some("client"), &cert_bound, 200),
        (Some("other_client"), &cert_bound, 401),
        (None, &cert_bound, 401),
        (None, &plain, 200),
        (Some("other_client"), &plain, 200),
    ] {
        let response = tls_client(identity).get(&me).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), status, "{identity:?}");
    }
    // DPoP over TLS.
    let client_key = DpopKey::es256();
    let bound = issuer.token().bound_to(&client_key).sign();
    let proof = client_key.proof("GET", &me).access_token(&bound).sign();
    let response = tls_client(None)
        .get(&me)
        .header("authorization", format!("DPoP {bound}"))
        .header("dpop", proof)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
