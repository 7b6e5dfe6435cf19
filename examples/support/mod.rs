//! What the demo servers share: configuration from the environment, and the
//! in-process test issuer with ready-made tokens when no issuer is configured.
//!
//! Environment (all optional):
//! - `PORT`: port on 127.0.0.1 (default 3000; 50051 for the gRPC demo)
//! - `AUTHORIZER_ISSUER`: the `iss` to accept; without it a test issuer runs in-process
//! - `AUTHORIZER_JWKS_URL`: its JWKS (default: OIDC discovery from the issuer)
//! - `AUTHORIZER_AUDIENCE`: accepted audiences, comma-separated
//! - `AUTHORIZER_ERROR_STYLE`: `rfc6750` or `supertokens` (default)
//! - `AUTHORIZER_DPOP`: `off`, `allowed` (default) or `required`: which
//!   authorization schemes are taken (DPoP-bound tokens are never taken as bearer)
//! - `AUTHORIZER_PUBLIC_URL`: the URL clients use (DPoP proofs name it), when a
//!   proxy stands in front; default: `http://` and the request's `Host`
//! - `AUTHORIZER_REDIS_URL`: where revocations are shared between instances
//!   (`redis://host:port`, feature `redis`); without it they stay in this process
//! - `AUTHORIZER_CLIENT_ID`, `AUTHORIZER_CLIENT_SECRET`: opaque tokens are
//!   introspected (RFC 7662) with these client credentials, at
//!   `AUTHORIZER_INTROSPECTION_URL` or the endpoint the issuer's metadata
//!   names. The test issuer introspects its own opaque tokens.
//! - `AUTHORIZER_RESOURCE`: the MCP demo's resource identifier

#![allow(dead_code)]

use std::time::SystemTime;

use authorizer::binding::{Binding, DpopMode};
use authorizer::credential::{Credentials, DEFAULT_COOKIE, DEFAULT_HEADER, DEFAULT_PROTOCOL_MARKER, Location};
use authorizer::resource::ProtectedResource;
use authorizer::session::{MemoryStore, RevokeError, SessionCheck};
use authorizer::testing::{DpopKey, TEST_AUDIENCE, TestIssuer};
use authorizer::{Authenticator, ErrorStyle, Introspection, Issuer, Principal, Verifier, VerifierBuilder};
use serde_json::json;

/// A demo server's configuration.
pub struct Demo {
    pub authenticator: Authenticator,
    pub port: u16,
    /// The in-process issuer, when no `AUTHORIZER_ISSUER` was given.
    pub test_issuer: Option<TestIssuer>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Reads the environment; an invalid value is an error naming the variable.
pub async fn from_env() -> Result<Demo, String> {
    from_env_on(3000).await
}

/// [`from_env`], listening on `default_port` when `PORT` is not set.
pub async fn from_env_on(default_port: u16) -> Result<Demo, String> {
    from_env_guarding(default_port, None).await
}

/// The MCP demo's configuration: [`from_env_on`], guarding the protected
/// resource `AUTHORIZER_RESOURCE` (default `http://127.0.0.1:$PORT<path>`),
/// as `describe` completes it. Tokens must name the resource in `aud`
/// unless `AUTHORIZER_AUDIENCE` says otherwise; the test issuer's tokens do.
pub async fn resource_from_env(
    default_port: u16,
    path: &str,
    describe: impl FnOnce(ProtectedResource) -> ProtectedResource,
) -> Result<Demo, String> {
    let port = port_from_env(default_port)?;
    let identifier = var("AUTHORIZER_RESOURCE").unwrap_or_else(|| format!("http://127.0.0.1:{port}{path}"));
    let resource = ProtectedResource::new(&identifier).map_err(|e| format!("AUTHORIZER_RESOURCE: {e}"))?;
    from_env_guarding(default_port, Some(describe(resource))).await
}

fn port_from_env(default_port: u16) -> Result<u16, String> {
    match var("PORT") {
        Some(port) => port.parse().map_err(|_| format!("PORT: `{port}` is not a port number")),
        None => Ok(default_port),
    }
}

async fn from_env_guarding(default_port: u16, resource: Option<ProtectedResource>) -> Result<Demo, String> {
    let port = port_from_env(default_port)?;
    let style: ErrorStyle = match var("AUTHORIZER_ERROR_STYLE") {
        Some(style) => style.parse().map_err(|e| format!("AUTHORIZER_ERROR_STYLE: {e}"))?,
        None => ErrorStyle::SuperTokens,
    };
    let introspection = introspection_from_env()?;
    let (verifier, test_issuer) = match var("AUTHORIZER_ISSUER") {
        Some(iss) => {
            let issuer = match var("AUTHORIZER_JWKS_URL") {
                Some(url) => Issuer::jwks(iss, url),
                None => Issuer::discover(iss),
            };
            let issuer = match introspection {
                Some(introspection) => issuer.introspection(introspection),
                None => issuer,
            };
            let audiences = var("AUTHORIZER_AUDIENCE").unwrap_or_default();
            let issuer = issuer.audiences(audiences.split(',').map(str::trim).filter(|a| !a.is_empty()));
            let verifier = guarding(Verifier::builder().issuer(issuer), resource)
                .build()
                .map_err(|e| e.to_string())?;
            (verifier, None)
        }
        None if introspection.is_some() => {
            return Err("AUTHORIZER_CLIENT_ID, AUTHORIZER_CLIENT_SECRET and AUTHORIZER_INTROSPECTION_URL need AUTHORIZER_ISSUER (the test issuer introspects its own tokens)".to_owned());
        }
        None => {
            let issuer = TestIssuer::start().await;
            // The test issuer's own keys and introspection endpoint; without
            // a resource, its tokens' audience.
            let keys = Issuer::jwks(issuer.issuer(), issuer.jwks_url()).introspection(issuer.introspection());
            let keys = match resource {
                Some(_) => keys,
                None => keys.audience(TEST_AUDIENCE),
            };
            let verifier = guarding(Verifier::builder().issuer(keys), resource)
                .build()
                .map_err(|e| e.to_string())?;
            (verifier, Some(issuer))
        }
    };
    let session = session_check()?;
    Ok(Demo {
        authenticator: Authenticator::new(verifier)
            .binding(binding_from_env()?.replay_store(session.store().clone()))
            .error_style(style)
            .session_check(session),
        port,
        test_issuer,
    })
}

/// `AUTHORIZER_DPOP` and `AUTHORIZER_PUBLIC_URL`. The demo servers speak
/// plain HTTP on 127.0.0.1, so a proof's `htu` is `http://` and the `Host`.
fn binding_from_env() -> Result<Binding, String> {
    let mode: DpopMode = match var("AUTHORIZER_DPOP") {
        Some(mode) => mode.parse().map_err(|e| format!("AUTHORIZER_DPOP: {e}"))?,
        None => DpopMode::Allowed,
    };
    let binding = Binding::new().dpop(mode).default_scheme("http");
    match var("AUTHORIZER_PUBLIC_URL") {
        Some(url) => binding
            .public_url(&url)
            .map_err(|e| format!("AUTHORIZER_PUBLIC_URL: {e}")),
        None => Ok(binding),
    }
}

/// The session check: revocations in Redis when `AUTHORIZER_REDIS_URL` is
/// set, else in this process.
fn session_check() -> Result<SessionCheck, String> {
    match var("AUTHORIZER_REDIS_URL") {
        None => Ok(SessionCheck::new(MemoryStore::new())),
        // The error names no URL: it may hold a password.
        #[cfg(feature = "redis")]
        Some(url) => authorizer::session::RedisStore::new(&url)
            .map(SessionCheck::new)
            .map_err(|e| format!("AUTHORIZER_REDIS_URL: {e}")),
        #[cfg(not(feature = "redis"))]
        Some(_) => Err("AUTHORIZER_REDIS_URL needs the `redis` feature (add `--features redis`)".to_owned()),
    }
}

/// `POST /logout`, for every demo server: revokes the caller's session (its
/// token when it has no session handle) through `auth`'s session check, on
/// every instance that shares the store. The status and JSON body (`None`:
/// 204, no body).
pub async fn logout(auth: &Authenticator, caller: &Principal) -> (u16, Option<serde_json::Value>) {
    let Some(check) = auth.session() else {
        return (501, Some(json!({ "message": "no session check is configured" })));
    };
    match check.revoker().revoke_principal(caller).await {
        Ok(_) => (204, None),
        Err(RevokeError::Store(_)) => (503, Some(json!({ "message": "service unavailable" }))),
        Err(_) => (
            400,
            Some(json!({ "message": "this token has no session handle and no jti: it cannot be revoked alone" })),
        ),
    }
}

/// Introspection settings from `AUTHORIZER_CLIENT_ID`, `AUTHORIZER_CLIENT_SECRET`
/// and (optionally: else from discovery) `AUTHORIZER_INTROSPECTION_URL`.
fn introspection_from_env() -> Result<Option<Introspection>, String> {
    let url = var("AUTHORIZER_INTROSPECTION_URL");
    match (var("AUTHORIZER_CLIENT_ID"), var("AUTHORIZER_CLIENT_SECRET")) {
        (Some(id), Some(secret)) => {
            let introspection = Introspection::new(id, secret);
            Ok(Some(match url {
                Some(url) => introspection.endpoint(url),
                None => introspection,
            }))
        }
        (None, None) if url.is_none() => Ok(None),
        _ => Err(
            "introspection needs both AUTHORIZER_CLIENT_ID and AUTHORIZER_CLIENT_SECRET (AUTHORIZER_INTROSPECTION_URL is optional: else from discovery)"
                .to_owned(),
        ),
    }
}

fn guarding(builder: VerifierBuilder, resource: Option<ProtectedResource>) -> VerifierBuilder {
    match resource {
        Some(resource) => builder.protected_resource(resource),
        None => builder,
    }
}

/// [`from_env`], or the error on stderr and exit code 2.
pub async fn from_env_or_exit() -> Demo {
    from_env_on_or_exit(3000).await
}

/// [`from_env_on`], or the error on stderr and exit code 2.
pub async fn from_env_on_or_exit(default_port: u16) -> Demo {
    match from_env_on(default_port).await {
        Ok(demo) => demo,
        Err(error) => {
            eprintln!("configuration error: {error}");
            std::process::exit(2);
        }
    }
}

/// For the Lambda examples: they need a Lambda Runtime API to talk to; with
/// the in-process test issuer, its tokens go to stderr (stdout is the runtime's).
pub async fn lambda_demo(name: &str) -> Demo {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        eprintln!(
            "{name} is a Lambda function and needs AWS_LAMBDA_RUNTIME_API: deploy it, or see tests/lambda_e2e.rs"
        );
        std::process::exit(2);
    }
    let demo = from_env_or_exit().await;
    if let Some(issuer) = &demo.test_issuer {
        let tokens = demo_tokens(issuer);
        eprintln!("test issuer: {} (tokens valid for 24 hours)", issuer.issuer());
        eprintln!("user token:  {}", tokens.user);
        eprintln!("admin token: {}", tokens.admin);
    }
    demo
}

/// Tokens for the demo: a plain session (with an email), a verified admin with
/// scopes, and an expired one. Valid for 24 hours.
pub struct DemoTokens {
    pub user: String,
    pub admin: String,
    pub expired: String,
    /// Signed in with [`MFA_ACR`] just now: meets `/mfa`, and `/fresh` for
    /// [`FRESH_WITHIN`] after it was made.
    pub stepped_up: String,
    /// Signed in with [`MFA_ACR`] an hour ago: meets `/mfa`, not `/fresh`.
    pub stale: String,
    /// A SuperTokens-like session (a `sessionHandle`), for `POST /logout`.
    pub session: String,
    /// An opaque token (not a JWT) for the admin's session, which the test
    /// issuer's introspection endpoint vouches for.
    pub opaque: String,
}

/// The `acr` that `GET /mfa` requires.
pub const MFA_ACR: &str = "urn:authorizer:mfa";

/// How recent the authentication (`auth_time`) must be for `GET /fresh`.
pub const FRESH_WITHIN: std::time::Duration = std::time::Duration::from_secs(300);

/// `GET /mfa`'s requirement: signed in with [`MFA_ACR`].
pub fn mfa_requirement() -> authorizer::require::Requirement {
    authorizer::require::step_up::acr_one_of([MFA_ACR]).expect("MFA_ACR is a valid acr value")
}

/// `GET /fresh`'s requirement: signed in within [`FRESH_WITHIN`].
pub fn fresh_requirement() -> authorizer::require::Requirement {
    authorizer::require::step_up::authenticated_within(FRESH_WITHIN)
}

pub fn demo_tokens(issuer: &TestIssuer) -> DemoTokens {
    let day = 24 * 3600;
    DemoTokens {
        user: issuer
            .token()
            .subject("user-1")
            .claim("email", json!("user-1@example.com"))
            .claim("st-ev", json!({"v": false, "t": 0}))
            .claim("st-role", json!({"v": ["user"], "t": 0}))
            .expires_in(day)
            .sign(),
        admin: admin_session(issuer).sign(),
        expired: issuer.token().subject("user-1").expires_in(-3600).sign(),
        stepped_up: step_up_token(issuer, 0),
        stale: step_up_token(issuer, 3600),
        session: issuer
            .token()
            .subject("user-2")
            .claim("sessionHandle", json!(format!("demo-{}", now_seconds())))
            .expires_in(day)
            .sign(),
        opaque: admin_session(issuer).opaque(),
    }
}

/// A verified admin with scopes, valid for 24 hours.
fn admin_session(issuer: &TestIssuer) -> authorizer::testing::TokenBuilder<'_> {
    issuer
        .token()
        .subject("admin-1")
        .claim("st-ev", json!({"v": true, "t": 0}))
        .claim("st-role", json!({"v": ["admin", "user"], "t": 0}))
        .claim("scope", json!("read:items write:items"))
        .expires_in(24 * 3600)
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A session signed in with [`MFA_ACR`] `seconds_ago`, valid for 24 hours.
fn step_up_token(issuer: &TestIssuer, seconds_ago: u64) -> String {
    let now = now_seconds();
    issuer
        .token()
        .subject("user-1")
        .claim("acr", json!(MFA_ACR))
        .claim("auth_time", json!(now.saturating_sub(seconds_ago)))
        .expires_in(24 * 3600)
        .sign()
}

/// The quickstart's rules as a Lambda authorizer's route table: `GET /public`
/// optional, `ANY /me` a valid session, `GET /verified`, `GET /admin` and
/// `GET /scoped` their requirements; any other path a valid session.
#[cfg(feature = "lambda")]
pub fn lambda_routes() -> Result<authorizer::routes::RouteTable, authorizer::routes::RouteError> {
    use authorizer::require::{scope, supertokens};
    use authorizer::routes::{RouteRule, RouteTable};
    RouteTable::new()
        .route("GET /public", RouteRule::optional())?
        .route("ANY /me", RouteRule::session())?
        .route("GET /verified", RouteRule::require(supertokens::email_verified()))?
        .route("GET /admin", RouteRule::require(supertokens::has_role("admin")))?
        .route("GET /scoped", RouteRule::require(scope("read:items")))
}

/// Prints ready-to-paste `curl` lines against `base`.
pub fn print_curl_lines(base: &str, issuer: &TestIssuer) {
    let t = demo_tokens(issuer);
    let bearer = |token: &str| format!("-H 'Authorization: Bearer {token}'");
    println!("test issuer: {} (JWKS {})", issuer.issuer(), issuer.jwks_url());
    println!();
    println!("# public route, anonymous and signed in (200)");
    println!("curl -i {base}/public");
    println!("curl -i {} {base}/public", bearer(&t.user));
    println!();
    println!("# a session is required (401 without, 200 with, 401 'try refresh token' when expired)");
    println!("curl -i {base}/me");
    println!("curl -i {} {base}/me", bearer(&t.user));
    println!("curl -i -X POST {} {base}/me", bearer(&t.user));
    println!("curl -i {} {base}/me", bearer(&t.expired));
    println!();
    println!("# cookie sessions: POST needs the anti-CSRF 'rid' header (403 without, 200 with)");
    println!("curl -i -X POST --cookie 'sAccessToken={}' {base}/me", t.user);
    println!(
        "curl -i -X POST --cookie 'sAccessToken={}' -H 'rid: session' {base}/me",
        t.user
    );
    println!();
    println!("# claim requirements: verified email, admin role, read:items scope (403, then 200)");
    for route in ["verified", "admin", "scoped"] {
        println!("curl -i {} {base}/{route}", bearer(&t.user));
        println!("curl -i {} {base}/{route}", bearer(&t.admin));
    }
    println!();
    println!("# step-up: /mfa needs acr {MFA_ACR}, /fresh a sign-in within 300 s");
    println!(
        "# (401 insufficient_user_authentication in the rfc6750 style, 403 'invalid claim' in supertokens', then 200)"
    );
    println!("curl -i {} {base}/mfa", bearer(&t.user));
    println!("curl -i {} {base}/mfa", bearer(&t.stepped_up));
    println!("curl -i {} {base}/fresh", bearer(&t.stale));
    println!("# passes for 5 minutes after start:");
    println!("curl -i {} {base}/fresh", bearer(&t.stepped_up));
    println!();
    println!("# log out: revokes the session (204), on every instance sharing AUTHORIZER_REDIS_URL; then 401");
    println!("curl -i -X POST {} {base}/logout", bearer(&t.session));
    println!("curl -i {} {base}/me", bearer(&t.session));
    println!("# an opaque token (not a JWT), vouched for by the issuer's introspection endpoint (200)");
    println!("curl -i {} {base}/admin", bearer(&t.opaque));
    println!();
    println!("# a WebSocket (the principal, then an echo): a header, or the token offered as a protocol");
    let ws = base.replacen("http://", "ws://", 1);
    println!("websocat {} {ws}/ws", bearer(&t.user));
    println!("websocat --protocol 'access_token, {}' {ws}/ws", t.user);
    println!("# in a browser: new WebSocket('{ws}/ws', ['access_token', token])");
    print_dpop_lines(base, issuer);
}

/// The demo client's DPoP key: the token of [`dpop_lines`] is bound to it.
pub fn demo_dpop_key() -> DpopKey {
    DpopKey::es256()
}

/// `curl` lines with a DPoP-bound token (RFC 9449): with its proof (200),
/// the same proof again (401, a replay), and the token as a bearer token
/// (401: a bound token is never a bearer token).
pub fn dpop_lines(base: &str, issuer: &TestIssuer) -> [String; 3] {
    let key = demo_dpop_key();
    let token = issuer
        .token()
        .subject("user-1")
        .bound_to(&key)
        .expires_in(24 * 3600)
        .sign();
    let me = format!("{base}/me");
    let proof = key.proof("GET", &me).access_token(&token).sign();
    let with_proof = format!("curl -i -H 'Authorization: DPoP {token}' -H 'DPoP: {proof}' {me}");
    [
        with_proof.clone(),
        with_proof,
        format!("curl -i -H 'Authorization: Bearer {token}' {me}"),
    ]
}

fn print_dpop_lines(base: &str, issuer: &TestIssuer) {
    let [first, replay, bearer] = dpop_lines(base, issuer);
    println!();
    println!("# DPoP (AUTHORIZER_DPOP=off|allowed|required): a token bound to the demo client's key;");
    println!("# each proof is good once, within 60 s of start (200, then 401 invalid_dpop_proof)");
    println!("{first}");
    println!("{replay}");
    println!("# the bound token as a bearer token (401 invalid_token, in every mode)");
    println!("{bearer}");
}

/// The WebSocket close code `/ws` ends a connection with when the caller's
/// credential expires (4401: private use, "unauthorized", as `graphql-ws`
/// has it); the client should get a fresh token and reconnect.
pub const CLOSE_CREDENTIAL_EXPIRED: u16 = 4401;

/// `/ws`'s authenticator: `auth` that also reads a token offered as the
/// WebSocket protocol after `access_token` (browsers cannot set headers on
/// a WebSocket), besides the usual header, bearer and cookie.
pub fn websocket_auth(auth: Authenticator) -> Authenticator {
    auth.credentials(Credentials::default().order([
        Location::Bearer,
        Location::Header(http::HeaderName::from_static(DEFAULT_HEADER)),
        Location::Cookie(DEFAULT_COOKIE.to_owned()),
        Location::WebSocketProtocol(DEFAULT_PROTOCOL_MARKER.to_owned()),
    ]))
}

/// Sleeps until `principal`'s credential expires (forever if it never does).
pub async fn credential_expiry(principal: &Principal) {
    match principal.expires_at() {
        Some(at) => {
            let left = at.duration_since(SystemTime::now()).unwrap_or_default();
            tokio::time::sleep(left).await;
        }
        None => std::future::pending().await,
    }
}
