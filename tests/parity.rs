//! Parity: the same demo API on axum (tower `AuthLayer` and `RequireLayer`) and
//! on actix-web (`AuthMiddleware` and `RequireMiddleware`), served over real HTTP on 127.0.0.1,
//! must answer every request of one table with the same status,
//! `WWW-Authenticate` and JSON body, in both error styles, on a cold and on a
//! warm token cache.

#![cfg(all(feature = "actix-web", feature = "axum", feature = "testing"))]

use crate::common;

use actix_web::HttpServer;
use actix_web::dev::ServerHandle;
use authorizer::credential::Credentials;
use authorizer::testing::{RSA_PUBLIC_PEM, TestIssuer};
use authorizer::{Authenticator, ErrorStyle};
use common::{client, demo_app, parts, serve};
use reqwest::Method;
use serde_json::{Value, json};

const ALLOWED_ORIGIN: &str = "https://app.example.com";

// The quickstart's routes on axum (`common::demo_app`, from
// `examples/support/routes.rs`) and the actix example's own routes.
#[allow(dead_code)]
use crate::actix_example;

/// Serves the actix app on 127.0.0.1 (a free port) from its own thread and
/// actix system; returns the base URL and a handle to stop it.
pub(crate) async fn serve_actix(auth: Authenticator) -> (String, ServerHandle) {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || actix_web::App::new().configure(actix_example::routes(auth.clone())))
                .workers(1)
                .disable_signals()
                .shutdown_timeout(1)
                .bind(("127.0.0.1", 0))
                .expect("bind 127.0.0.1");
            let addr = server.addrs()[0];
            let server = server.run();
            sender
                .send((addr, server.handle()))
                .expect("test waits for the address");
            server.await.expect("actix server runs");
        })
    });
    let (addr, handle) = receiver.await.expect("actix server started");
    (format!("http://{addr}"), handle)
}

// --- the table ----------------------------------------------------------------

struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    /// Expected in both styles, so the table cannot pass by both servers failing alike.
    status: u16,
    /// Where the RFC 6750 style answers otherwise (a step-up: 401 there, 403 in SuperTokens').
    rfc6750_status: Option<u16>,
}

/// A step-up route's refusal: 401 in the RFC 6750 style, 403 in SuperTokens'.
fn step_up_case(name: &'static str, path: &'static str, headers: &[(&'static str, &str)]) -> Case {
    Case {
        rfc6750_status: Some(401),
        ..case(name, Method::GET, path, headers, 403)
    }
}

fn case(name: &'static str, method: Method, path: &'static str, headers: &[(&'static str, &str)], status: u16) -> Case {
    Case {
        name,
        method,
        path,
        headers: headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        status,
        rfc6750_status: None,
    }
}

fn table(issuer: &TestIssuer) -> Vec<Case> {
    let user = issuer
        .token()
        .subject("user-1")
        .claim("st-ev", json!({"v": false, "t": 0}))
        .claim("st-role", json!({"v": ["user"], "t": 0}))
        .sign();
    let admin = issuer
        .token()
        .subject("admin-1")
        .claim("st-ev", json!({"v": true, "t": 0}))
        .claim("st-role", json!({"v": ["admin", "user"], "t": 0}))
        .claim("scope", json!("read:items write:items"))
        .sign();
    let plain = issuer.token().sign();
    let expired = issuer.token().expires_in(-3600).sign();
    let wrong_audience = issuer.token().claim("aud", json!("another-api")).sign();
    let wrong_issuer = issuer.token().claim("iss", json!("https://evil.example.com")).sign();
    let not_yet_valid = issuer.token().claim("nbf", json!(4_000_000_000u64)).sign();
    let no_exp = issuer.token().without("exp").sign();
    let bad_signature = issuer.token().with_signature(b"not the signature");
    let unknown_kid = issuer.token().kid(Some("no-such-key")).sign();
    let alg_confusion = issuer
        .token()
        .header("alg", json!("HS256"))
        .sign_hmac_with(RSA_PUBLIC_PEM);
    let too_large = "a".repeat(9 * 1024);
    let steps = crate::support::demo_tokens(issuer);
    let (stepped_up_b, stale_b) = (
        format!("Bearer {}", steps.stepped_up),
        format!("Bearer {}", steps.stale),
    );

    let bearer = |t: &str| format!("Bearer {t}");
    let cookie = |t: &str| format!("sAccessToken={t}");
    let (user_b, admin_b) = (bearer(&user), bearer(&admin));
    let (user_c, admin_c) = (cookie(&user), cookie(&admin));
    use Method as M;
    vec![
        // Optional route.
        case("public, anonymous", M::GET, "/public", &[], 200),
        case(
            "public, signed in",
            M::GET,
            "/public",
            &[("authorization", &user_b)],
            200,
        ),
        case("public, cookie", M::GET, "/public", &[("cookie", &user_c)], 200),
        case(
            "public, malformed",
            M::GET,
            "/public",
            &[("authorization", "Bearer abc")],
            401,
        ),
        case(
            "public, expired",
            M::GET,
            "/public",
            &[("authorization", &bearer(&expired))],
            401,
        ),
        case(
            "public, another scheme is anonymous",
            M::GET,
            "/public",
            &[("authorization", "Basic dTpw")],
            200,
        ),
        // Required route: credentials.
        case("me, missing", M::GET, "/me", &[], 401),
        case("me, valid bearer", M::GET, "/me", &[("authorization", &user_b)], 200),
        case(
            "me, lowercase scheme",
            M::GET,
            "/me",
            &[("authorization", &format!("bearer {user}"))],
            200,
        ),
        case("me, POST bearer", M::POST, "/me", &[("authorization", &user_b)], 200),
        case(
            "me, header credential",
            M::GET,
            "/me",
            &[("st-access-token", &user)],
            200,
        ),
        case(
            "me, POST header credential",
            M::POST,
            "/me",
            &[("st-access-token", &user)],
            200,
        ),
        case(
            "me, cookie",
            M::GET,
            "/me",
            &[("cookie", &format!("a=b; {user_c}; c=d"))],
            200,
        ),
        case(
            "me, bearer beats cookie",
            M::GET,
            "/me",
            &[("authorization", &admin_b), ("cookie", &user_c)],
            200,
        ),
        case("me, Basic only", M::GET, "/me", &[("authorization", "Basic dTpw")], 401),
        case("me, empty bearer", M::GET, "/me", &[("authorization", "Bearer ")], 401),
        case(
            "me, malformed",
            M::GET,
            "/me",
            &[("authorization", "Bearer not-a-jwt")],
            401,
        ),
        case(
            "me, expired",
            M::GET,
            "/me",
            &[("authorization", &bearer(&expired))],
            401,
        ),
        case(
            "me, wrong audience",
            M::GET,
            "/me",
            &[("authorization", &bearer(&wrong_audience))],
            401,
        ),
        case(
            "me, wrong issuer",
            M::GET,
            "/me",
            &[("authorization", &bearer(&wrong_issuer))],
            401,
        ),
        case(
            "me, not yet valid",
            M::GET,
            "/me",
            &[("authorization", &bearer(&not_yet_valid))],
            401,
        ),
        case("me, no exp", M::GET, "/me", &[("authorization", &bearer(&no_exp))], 401),
        case(
            "me, bad signature",
            M::GET,
            "/me",
            &[("authorization", &bearer(&bad_signature))],
            401,
        ),
        case(
            "me, unknown kid",
            M::GET,
            "/me",
            &[("authorization", &bearer(&unknown_kid))],
            401,
        ),
        case(
            "me, alg confusion",
            M::GET,
            "/me",
            &[("authorization", &bearer(&alg_confusion))],
            401,
        ),
        case(
            "me, too large",
            M::GET,
            "/me",
            &[("authorization", &bearer(&too_large))],
            401,
        ),
        case(
            "me, two cookies",
            M::GET,
            "/me",
            &[("cookie", &user_c), ("cookie", &admin_c)],
            401,
        ),
        case(
            "me, two bearers",
            M::GET,
            "/me",
            &[("authorization", &user_b), ("authorization", &admin_b)],
            401,
        ),
        // Cookies on unsafe methods: the CSRF rule.
        case(
            "me, cookie POST without anti-CSRF",
            M::POST,
            "/me",
            &[("cookie", &user_c)],
            403,
        ),
        case(
            "me, cookie POST with rid",
            M::POST,
            "/me",
            &[("cookie", &user_c), ("rid", "session")],
            200,
        ),
        case(
            "me, cookie POST from an allowed origin",
            M::POST,
            "/me",
            &[("cookie", &user_c), ("origin", ALLOWED_ORIGIN)],
            200,
        ),
        case(
            "me, cookie POST from another origin",
            M::POST,
            "/me",
            &[("cookie", &user_c), ("origin", "https://evil.example.com")],
            403,
        ),
        case(
            "me, cookie DELETE without anti-CSRF",
            M::DELETE,
            "/me",
            &[("cookie", &user_c)],
            403,
        ),
        case(
            "me, cookie PUT with rid: no such method",
            M::PUT,
            "/me",
            &[("cookie", &user_c), ("rid", "x")],
            405,
        ),
        // Requirements.
        case(
            "verified, not verified",
            M::GET,
            "/verified",
            &[("authorization", &user_b)],
            403,
        ),
        case(
            "verified, verified",
            M::GET,
            "/verified",
            &[("authorization", &admin_b)],
            200,
        ),
        case("verified, anonymous", M::GET, "/verified", &[], 401),
        case(
            "verified, expired",
            M::GET,
            "/verified",
            &[("authorization", &bearer(&expired))],
            401,
        ),
        case("verified, cookie", M::GET, "/verified", &[("cookie", &admin_c)], 200),
        case("admin, not admin", M::GET, "/admin", &[("authorization", &user_b)], 403),
        case("admin, admin", M::GET, "/admin", &[("authorization", &admin_b)], 200),
        case(
            "admin, no role claim",
            M::GET,
            "/admin",
            &[("authorization", &bearer(&plain))],
            403,
        ),
        case(
            "scoped, no scope",
            M::GET,
            "/scoped",
            &[("authorization", &user_b)],
            403,
        ),
        case("scoped, scope", M::GET, "/scoped", &[("authorization", &admin_b)], 200),
        case("scoped, anonymous", M::GET, "/scoped", &[], 401),
        case(
            "scoped, POST: no such method",
            M::POST,
            "/scoped",
            &[("authorization", &admin_b)],
            405,
        ),
        // Step-up routes.
        step_up_case("mfa, no acr", "/mfa", &[("authorization", &user_b)]),
        step_up_case("mfa, no acr, cookie", "/mfa", &[("cookie", &user_c)]),
        case("mfa, acr", M::GET, "/mfa", &[("authorization", &stepped_up_b)], 200),
        case("mfa, anonymous", M::GET, "/mfa", &[], 401),
        step_up_case("fresh, no auth_time", "/fresh", &[("authorization", &user_b)]),
        step_up_case("fresh, an hour ago", "/fresh", &[("authorization", &stale_b)]),
        case(
            "fresh, just now",
            M::GET,
            "/fresh",
            &[("authorization", &stepped_up_b)],
            200,
        ),
        // HEAD is answered like GET (without a body).
        case("HEAD public", M::HEAD, "/public", &[], 200),
        case("HEAD me, missing", M::HEAD, "/me", &[], 401),
        case("HEAD me, valid", M::HEAD, "/me", &[("authorization", &user_b)], 200),
        case(
            "HEAD admin, not admin",
            M::HEAD,
            "/admin",
            &[("authorization", &user_b)],
            403,
        ),
        case(
            "HEAD admin, admin",
            M::HEAD,
            "/admin",
            &[("authorization", &admin_b)],
            200,
        ),
        // Routing around the middleware.
        case("unknown route", M::GET, "/nowhere", &[("authorization", &user_b)], 404),
    ]
}

/// Status, `WWW-Authenticate` and body (JSON where it parses) of one request.
async fn send(http: &reqwest::Client, base: &str, case: &Case) -> (u16, Option<String>, Value) {
    let mut request = http.request(case.method.clone(), format!("{base}{}", case.path));
    for (name, value) in &case.headers {
        request = request.header(*name, value);
    }
    parts(request.send().await.expect("server answers")).await
}

async fn assert_parity(issuer: &TestIssuer, style: ErrorStyle) {
    let auth = || {
        Authenticator::new(issuer.verifier())
            .error_style(style)
            .credentials(Credentials::default().allowed_origins([ALLOWED_ORIGIN]))
    };
    let axum_base = serve(demo_app(auth())).await;
    let (actix_base, actix) = serve_actix(auth()).await;
    let http = client();
    let cases = table(issuer);
    for pass in ["cold cache", "warm cache"] {
        for case in &cases {
            let tower = send(&http, &axum_base, case).await;
            let actix = send(&http, &actix_base, case).await;
            assert_eq!(
                tower, actix,
                "{style:?}, {pass}: `{}`: axum (left) and actix (right) differ",
                case.name
            );
            let status = match style {
                ErrorStyle::Rfc6750 => case.rfc6750_status.unwrap_or(case.status),
                _ => case.status,
            };
            assert_eq!(
                tower.0, status,
                "{style:?}, {pass}: `{}` answered {}: {}",
                case.name, tower.0, tower.2
            );
        }
    }
    actix.stop(true).await;
}

#[tokio::test]
async fn supertokens_style_is_identical() {
    let issuer = TestIssuer::start().await;
    assert_parity(&issuer, ErrorStyle::SuperTokens).await;
}

#[tokio::test]
async fn rfc6750_style_is_identical() {
    let issuer = TestIssuer::start().await;
    assert_parity(&issuer, ErrorStyle::Rfc6750).await;
}

/// The table's bodies are the ones the README documents (spot checks), so
/// parity cannot hold by both adapters drifting the same way.
#[tokio::test]
async fn answers_are_the_documented_ones() {
    let issuer = TestIssuer::start().await;
    let auth = Authenticator::new(issuer.verifier());
    let (base, actix) = serve_actix(auth).await;
    let http = client();
    let user = issuer
        .token()
        .claim("st-ev", json!({"v": false, "t": 0}))
        .claim("scope", json!("write:items"))
        .sign();
    let get = |path: &'static str, headers: &[(&'static str, &str)]| case("spot check", Method::GET, path, headers, 0);

    let (status, challenge, body) = send(&http, &base, &get("/me", &[])).await;
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")));
    assert_eq!(body, json!({"message": "unauthorised"}));

    let expired = format!("Bearer {}", issuer.token().expires_in(-3600).sign());
    let (status, challenge, body) = send(&http, &base, &get("/me", &[("authorization", &expired)])).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="invalid_token", error_description="the access token expired""#)
    );
    assert_eq!(body, json!({"message": "try refresh token"}));

    let bearer = format!("Bearer {user}");
    let (status, challenge, body) = send(&http, &base, &get("/scoped", &[("authorization", &bearer)])).await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="insufficient_scope", scope="read:items""#)
    );
    assert_eq!(
        body,
        json!({"message": "invalid claim", "claimValidationErrors": [
            {"id": "scope", "reason": {"message": "wrong value", "expectedValue": "read:items", "actualValue": ["write:items"]}}
        ]})
    );

    let (status, _, body) = send(&http, &base, &get("/me", &[("authorization", &bearer)])).await;
    assert_eq!(status, 200);
    assert_eq!(body["id"], "user-1");
    assert_eq!(body["source"], "bearer");
    assert_eq!(body["scopes"], json!(["write:items"]));
    actix.stop(true).await;
}

/// Keys unreachable with nothing cached: 503 from both, in both styles.
#[tokio::test]
async fn keys_unavailable_is_identical() {
    let issuer = TestIssuer::start().await;
    issuer.set_outage(true);
    let token = format!("Bearer {}", issuer.token().sign());
    let http = client();
    for style in [ErrorStyle::SuperTokens, ErrorStyle::Rfc6750] {
        let auth = || Authenticator::new(issuer.verifier()).error_style(style);
        let axum_base = serve(demo_app(auth())).await;
        let (actix_base, actix) = serve_actix(auth()).await;
        for path in ["/me", "/public", "/admin"] {
            let c = case("keys unavailable", Method::GET, path, &[("authorization", &token)], 503);
            let tower = send(&http, &axum_base, &c).await;
            let actix = send(&http, &actix_base, &c).await;
            assert_eq!(tower, actix, "{style:?} {path}");
            assert_eq!(tower.0, 503, "{style:?} {path}: {}", tower.2);
        }
        actix.stop(true).await;
    }
}
