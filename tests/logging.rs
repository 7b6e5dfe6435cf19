//! No secrets in logs or debug output: every tracing event the library emits
//! (at every level, on every thread) is captured while failing and succeeding
//! verifications run over HTTP, and none may carry a token, a piece of a
//! signature or payload, or a claim value. `Debug` of the public types is held
//! to the same rule.
//!
//! Allowed on purpose: the principal id (`sub` by default) and scope names,
//! which `Principal`'s `Debug` and the claim-requirement event show so an
//! operator can tell who was refused; the tests use a non-secret `sub`.

mod adversary;
mod common;
// The demo routes in `common` use the demo configuration (the gRPC demo
// brings its own copy).
#[path = "../examples/support/mod.rs"]
#[allow(clippy::duplicate_mod)]
mod support;
// The gRPC demo's service, served here with and without the layers.
#[cfg(feature = "tonic")]
#[path = "../examples/grpc.rs"]
#[allow(dead_code)]
mod grpc_example;

use std::fmt::Write as _;
use std::sync::{Mutex, Once};
use std::time::Duration;

use adversary::{Target, target};
use authorizer::credential::{Credential, Credentials};
use authorizer::require::{claim, supertokens};
use authorizer::testing::{HS256_SECRET, TestIssuer, TokenBuilder};
use authorizer::tower::AuthLayer;
use authorizer::{
    Algorithm, Authenticator, Denied, Error, ErrorStyle, InvalidToken, Issuer, KeySet, Principal, Rejection, Source,
    Verifier,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::Registry;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Every event and span field seen, one line each, and each span's fields
/// together once it closes (`closed span NAME field=value ...`).
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

/// A span's name and every field recorded on it so far.
struct SpanFields(String);

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut line = format!("{} {}", meta.level(), meta.target());
        event.record(&mut Fields(&mut line));
        LOG.lock().unwrap().push(line);
    }

    fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, id: &tracing::span::Id, ctx: Context<'_, S>) {
        let mut line = format!("span {}", attrs.metadata().name());
        attrs.record(&mut Fields(&mut line));
        LOG.lock().unwrap().push(line.clone());
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(line));
        }
    }

    fn on_record(&self, id: &tracing::span::Id, values: &tracing::span::Record<'_>, ctx: Context<'_, S>) {
        let mut line = "span record".to_owned();
        values.record(&mut Fields(&mut line));
        LOG.lock().unwrap().push(line);
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<SpanFields>()
        {
            values.record(&mut Fields(&mut fields.0));
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(fields) = span.extensions().get::<SpanFields>()
        {
            LOG.lock().unwrap().push(format!("closed {}", fields.0));
        }
    }
}

/// Installs the capturing subscriber for the whole process (every test
/// thread and every runtime worker), once.
fn capture() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        tracing::subscriber::set_global_default(Registry::default().with(Capture)).expect("no other subscriber");
    });
}

fn log_text() -> String {
    LOG.lock().unwrap().join("\n")
}

/// The parts of a token that must never be logged or printed: the whole of
/// it, and any 16-character window of its payload or signature (a short
/// fingerprint, such as 8 hex digits of a hash, stays possible).
fn secret_pieces(token: &str) -> Vec<String> {
    let mut pieces = vec![token.to_owned()];
    let mut segments = token.split('.');
    let _header = segments.next();
    for segment in segments {
        let chars: Vec<char> = segment.chars().collect();
        pieces.extend(chars.windows(16).map(|w| w.iter().collect::<String>()));
    }
    pieces
}

#[track_caller]
fn assert_hidden(text: &str, what: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what} contains the secret {secret:?}:\n{text}"
        );
    }
}

/// Claim values that are personal data or secrets.
const EMAIL: &str = "alice.secret@example.com";
const NESTED: &str = "nested-secret-value-7c1f";
const ROLE: &str = "role-secret-3b9e";

fn secret_claims() -> Vec<String> {
    vec![EMAIL.to_owned(), NESTED.to_owned(), ROLE.to_owned()]
}

async fn send(t: &Target, method: reqwest::Method, path: &str, headers: &[(&str, String)]) -> u16 {
    let mut request = t.http.request(method, format!("{}{path}", t.base));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap().status().as_u16()
}

fn with_secrets(b: TokenBuilder<'_>) -> TokenBuilder<'_> {
    b.claim("email", json!(EMAIL))
        .claim("profile", json!({ "note": NESTED }))
        .claim("st-role", json!({ "v": [ROLE], "t": 0 }))
}

/// Failing and succeeding verifications over HTTP, every kind of refusal:
/// the events they produce hold no token piece and no claim value.
#[tokio::test]
async fn verification_events_carry_no_token_or_claim_value() {
    capture();
    let t = target().await;
    let i = &t.issuer;
    let good = with_secrets(i.token()).sign();
    let good_signature = good.rsplit_once('.').unwrap().1;
    let forged = format!(
        "{}.{good_signature}",
        with_secrets(i.token().subject("admin")).signing_input()
    );
    let unknown_kid = with_secrets(i.token().kid(Some("unknown-kid"))).sign();
    let expired = with_secrets(i.token().expires_in(-3600)).sign();
    let wrong_aud = with_secrets(i.token().claim("aud", json!("elsewhere"))).sign();
    let not_yet = with_secrets(i.token().claim("nbf", json!(4_102_444_800u64))).sign();
    let string_nbf = with_secrets(i.token().claim("nbf", json!("4102444800"))).sign();
    let hmac_confusion = with_secrets(i.token().header("alg", json!("HS256"))).sign_hmac_with(b"public key");
    let es_zero = with_secrets(i.token().alg(Algorithm::ES256)).with_signature(&[0; 64]);
    let tokens = [
        &good,
        &forged,
        &unknown_kid,
        &expired,
        &wrong_aud,
        &not_yet,
        &string_nbf,
        &hmac_confusion,
        &es_zero,
    ];
    for token in tokens {
        send(
            &t,
            reqwest::Method::GET,
            "/me",
            &[("authorization", format!("Bearer {token}"))],
        )
        .await;
        send(
            &t,
            reqwest::Method::GET,
            "/me",
            &[("cookie", format!("sAccessToken={token}"))],
        )
        .await;
        send(&t, reqwest::Method::GET, "/me", &[("st-access-token", token.clone())]).await;
    }
    assert_eq!(
        send(
            &t,
            reqwest::Method::GET,
            "/admin",
            &[("authorization", format!("Bearer {good}"))]
        )
        .await,
        403,
        "a claim-requirement failure on a secret claim value"
    );
    assert_eq!(
        send(
            &t,
            reqwest::Method::POST,
            "/me",
            &[("cookie", format!("sAccessToken={good}"))]
        )
        .await,
        403,
        "CSRF"
    );
    let tossed = format!("sAccessToken={good}; sAccessToken={expired}");
    assert_eq!(send(&t, reqwest::Method::GET, "/me", &[("cookie", tossed)]).await, 401);
    let oversized = format!("{good}{}", "A".repeat(9000));
    assert_eq!(
        send(
            &t,
            reqwest::Method::GET,
            "/me",
            &[("authorization", format!("Bearer {oversized}"))]
        )
        .await,
        401
    );
    assert_eq!(
        send(
            &t,
            reqwest::Method::GET,
            "/me",
            &[("authorization", format!("Bearer {good}"))]
        )
        .await,
        200
    );

    let text = log_text();
    for expected in [
        "request rejected",
        "bad signature",
        "unknown signing key",
        "expired",
        "claim requirements not met",
        "closed span authorizer.decide",
        "outcome=unauthenticated reason=signature",
        "outcome=forbidden reason=csrf",
    ] {
        assert!(
            text.contains(expected),
            "the capture works: no {expected:?} event in\n{text}"
        );
    }
    for token in tokens {
        assert_hidden(&text, "the log", &secret_pieces(token));
    }
    assert_hidden(&text, "the log", &secret_pieces(&oversized));
    assert_hidden(&text, "the log", &secret_claims());
}

/// One `authorizer.decide` span per decision, with what the decision learned
/// (source, configured issuer, key id, algorithm, outcome) and nothing from
/// the token: a cache hit knows no key id, a foreign `iss` is never recorded.
#[tokio::test]
async fn each_decision_is_one_span_with_what_it_learned() {
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    capture();
    const FOREIGN_ISS: &str = "https://foreign-issuer-secret.example";
    let issuer = TestIssuer::start().await;
    let iss = issuer.issuer().to_owned();
    let app = Router::new()
        .route("/me", get(|| async { "ok" }))
        .layer(AuthLayer::required(Authenticator::new(issuer.verifier())));
    let good = with_secrets(issuer.token()).sign();
    let expired = with_secrets(issuer.token().expires_in(-3600)).sign();
    let foreign = with_secrets(issuer.token().claim("iss", json!(FOREIGN_ISS))).sign();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(good.split('.').next().unwrap()).unwrap()).unwrap();
    let kid = header["kid"].as_str().expect("test tokens name their key").to_owned();
    for (token, status) in [(&good, 200), (&good, 200), (&expired, 401), (&foreign, 401)] {
        let request = http::Request::get("/me")
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(app.clone().oneshot(request).await.unwrap().status().as_u16(), status);
    }

    let text = log_text();
    let spans: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("closed span authorizer.decide") && line.contains(&format!("issuer={iss} ")))
        .collect();
    let decide = "closed span authorizer.decide source=Bearer";
    assert_eq!(
        spans,
        [
            format!("{decide} issuer={iss} alg=RS256 kid={kid} outcome=allowed reason=none"),
            format!("{decide} issuer={iss} outcome=allowed reason=none"),
            format!("{decide} issuer={iss} alg=RS256 kid={kid} outcome=unauthenticated reason=expired"),
        ],
        "a miss, a cache hit, an expired token"
    );
    assert!(text.contains(&format!("{decide} outcome=unauthenticated reason=issuer")));
    let mut secrets = secret_claims();
    secrets.push(FOREIGN_ISS.to_owned());
    for token in [&good, &expired, &foreign] {
        secrets.extend(secret_pieces(token));
    }
    assert_hidden(&text, "the log", &secrets);
}

/// Key-set failures (private members, symmetric keys, garbage, outages) are
/// logged as reasons, never with the document or key material.
#[tokio::test]
async fn jwks_failure_events_carry_no_key_material_or_document() {
    capture();
    let issuer = TestIssuer::start().await;
    let verifier = issuer.verifier();
    let verify = |sub: &str| {
        let token = issuer.token().subject(sub).sign();
        let verifier = verifier.clone();
        async move { verifier.verify(Credential::new(&token, Source::Bearer)).await }
    };
    let private = URL_SAFE_NO_PAD.encode("PRIVATE-EXPONENT-MATERIAL-d41e");
    let symmetric = URL_SAFE_NO_PAD.encode(HS256_SECRET);
    let mut document = json!({"keys": [
        {"kty": "RSA", "kid": "with-private", "n": "AQAB", "e": "AQAB", "d": private},
        {"kty": "oct", "kid": "symmetric", "k": symmetric},
    ]});
    let published: serde_json::Value = serde_json::from_str(
        &common::client()
            .get(issuer.jwks_url())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    for key in published["keys"].as_array().unwrap() {
        document["keys"].as_array_mut().unwrap().push(key.clone());
    }
    issuer.serve_jwks_body(document.to_string());
    verify("first").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    issuer.serve_jwks_body("{\"keys\": [GARBAGE-DOCUMENT-SECRET-91ab");
    let unknown = issuer.token().kid(Some("rotated")).sign();
    let before = issuer.jwks_fetches();
    let _ = verifier.verify(Credential::new(&unknown, Source::Bearer)).await;
    assert_eq!(issuer.jwks_fetches(), before + 1, "the garbage document was fetched");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    issuer.set_outage(true);
    let _ = verifier.verify(Credential::new(&unknown, Source::Bearer)).await;
    assert_eq!(issuer.jwks_fetches(), before + 2, "the outage was met");

    let text = log_text();
    for expected in ["skipping a key in the JWKS", "key set fetch failed"] {
        assert!(
            text.contains(expected),
            "the capture works: no {expected:?} event in\n{text}"
        );
    }
    let secrets = [
        private,
        symmetric,
        String::from_utf8_lossy(HS256_SECRET).into_owned(),
        "PRIVATE-EXPONENT-MATERIAL".to_owned(),
        "GARBAGE-DOCUMENT-SECRET".to_owned(),
    ];
    assert_hidden(&text, "the log", &secrets);
}

/// `Debug` (and `Display`) of every public type that holds or meets a token,
/// a principal or a key: no token piece, no claim value, no secret.
#[tokio::test]
async fn debug_output_hides_tokens_claim_values_and_secrets() {
    let issuer = TestIssuer::new();
    let token = issuer
        .token()
        .claim("email", json!(EMAIL))
        .claim("profile", json!({ "note": NESTED }))
        .claim("st-role", json!({ "v": [ROLE], "t": 0 }))
        .alg(Algorithm::HS256)
        .sign();
    let mut secrets = secret_pieces(&token);
    secrets.extend(secret_claims());
    secrets.push(String::from_utf8_lossy(HS256_SECRET).into_owned());
    secrets.push(URL_SAFE_NO_PAD.encode(HS256_SECRET));
    secrets.push(STANDARD.encode(HS256_SECRET));
    secrets.push(format!("{:?}", HS256_SECRET));

    let credential = Credential::new(&token, Source::Bearer);
    assert!(format!("{credential:?}").contains("redacted"));
    let keys = KeySet::new()
        .with_secret(Algorithm::HS256, HS256_SECRET, Some("hs256"))
        .unwrap();
    let issuer_config = Issuer::static_keys(issuer.issuer(), keys.clone());
    let builder = Verifier::builder().issuer(issuer_config.clone());
    let verifier = builder.clone().build().unwrap();
    let principal = verifier.verify(credential.clone()).await.unwrap();
    let authenticator = Authenticator::new(verifier.clone())
        .credentials(Credentials::default())
        .error_style(ErrorStyle::Rfc6750);
    let layer = AuthLayer::required(authenticator.clone());
    let optional = AuthLayer::optional(authenticator.clone());

    let mut errors = vec![
        Error::MissingCredential,
        Error::Expired,
        Error::CsrfRejected,
        Error::KeysUnavailable,
        Error::MissingLayer,
        Error::Forbidden(Denied::default()),
    ];
    for reason in [
        InvalidToken::Malformed,
        InvalidToken::Signature,
        InvalidToken::UnknownKey,
        InvalidToken::Algorithm,
        InvalidToken::Audience,
        InvalidToken::ClaimType,
    ] {
        errors.push(Error::InvalidToken(reason));
    }
    // The errors a real refusal of this token produces.
    let tampered = format!("{}x", &token[..token.len() - 1]);
    errors.push(
        verifier
            .verify(Credential::new(&tampered, Source::Bearer))
            .await
            .unwrap_err(),
    );

    let mut printed = vec![
        ("Credential", format!("{credential:?}")),
        ("Principal", format!("{principal:?}")),
        ("Principal (pretty)", format!("{principal:#?}")),
        ("Verifier", format!("{verifier:?}")),
        ("VerifierBuilder", format!("{builder:?}")),
        ("Issuer", format!("{issuer_config:?}")),
        ("KeySet", format!("{keys:?}")),
        ("Authenticator", format!("{authenticator:?}")),
        ("AuthLayer", format!("{layer:?} {optional:?}")),
    ];
    for error in &errors {
        printed.push(("Error", format!("{error:?} {error}")));
        for style in [ErrorStyle::Rfc6750, ErrorStyle::SuperTokens] {
            let rejection = Rejection::new(error.clone(), style);
            printed.push((
                "Rejection",
                format!("{rejection:?} {rejection} {:?}", rejection.to_response()),
            ));
        }
    }
    for (what, text) in &printed {
        assert_hidden(text, what, &secrets);
    }
    assert!(format!("{principal:?}").contains("email"), "claim names are shown");
}

/// A failed claim requirement is an `Error::Forbidden` whose `Debug` (what
/// `?error` in a log line prints) must not carry the claim's actual value;
/// the response body may, as SuperTokens' frontends read it, but the body
/// goes to the token's own holder, and logs go elsewhere.
#[tokio::test]
async fn debug_of_a_claim_requirement_failure_hides_the_claim_value() {
    let principal = Principal::new("user-1", Source::Bearer).with_claims(
        json!({"st-role": {"v": [ROLE]}, "email": EMAIL, "st-ev": {"v": NESTED}})
            .as_object()
            .unwrap()
            .clone(),
    );
    let requirement = authorizer::require::all([
        supertokens::has_role("admin"),
        claim("email").eq("someone@example.com"),
        claim("st-ev").at("v").eq(true),
    ]);
    let denied = requirement.evaluate(&principal).unwrap_err();
    assert_eq!(denied.errors.len(), 3);
    let error = requirement.authorize(Some(&principal)).unwrap_err();
    let rejection = Rejection::new(error.clone(), ErrorStyle::SuperTokens);
    for (what, text) in [
        ("Denied", format!("{denied:?}")),
        ("Error::Forbidden", format!("{error:?} {error}")),
        ("Rejection", format!("{rejection:?} {rejection}")),
    ] {
        assert_hidden(&text, what, &secret_claims());
    }
}

/// gRPC calls refused for each reason, and a handler whose server forgot
/// the layers: the events hold no token piece and no claim value, and the
/// forgotten layer is logged with its fix while the client learns nothing.
#[cfg(feature = "tonic")]
#[tokio::test]
async fn grpc_refusals_and_a_missing_layer_log_no_secret() {
    use std::net::SocketAddr;

    use grpc_example::pb::WhoAmIRequest;
    use grpc_example::pb::demo_client::DemoClient;
    use grpc_example::pb::demo_server::DemoServer;
    use tonic::transport::server::TcpIncoming;
    use tonic::transport::{Channel, Server};

    async fn channel(address: SocketAddr) -> Channel {
        Channel::from_shared(format!("http://{address}"))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// `Admin` (which needs the admin role) or `WhoAmI`, with `token`.
    async fn refused(channel: &Channel, admin: bool, token: &str) -> tonic::Status {
        let mut request = tonic::Request::new(WhoAmIRequest {});
        let value = format!("Bearer {token}").parse().unwrap();
        request.metadata_mut().insert("authorization", value);
        let mut client = DemoClient::new(channel.clone());
        let answer = if admin {
            client.admin(request).await
        } else {
            client.who_am_i(request).await
        };
        answer.expect_err("refused")
    }

    capture();
    let issuer = TestIssuer::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(grpc_example::serve(Authenticator::new(issuer.verifier()), listener));
    let guarded = channel(address).await;
    let mut secrets = secret_claims();
    let refusals = [
        (true, with_secrets(issuer.token()).sign(), tonic::Code::PermissionDenied),
        (
            false,
            with_secrets(issuer.token()).expires_in(-3600).sign(),
            tonic::Code::Unauthenticated,
        ),
        (
            false,
            with_secrets(issuer.token().kid(Some("no-such-key"))).sign(),
            tonic::Code::Unauthenticated,
        ),
    ];
    for (admin, token, code) in &refusals {
        secrets.extend(secret_pieces(token));
        let status = refused(&guarded, *admin, token).await;
        assert_eq!(status.code(), *code);
        assert_hidden(&format!("{status:?}"), "the status", &secrets);
    }

    // No layer at all: the handler's helper answers INTERNAL.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = Server::builder()
        .add_service(DemoServer::new(grpc_example::DemoService))
        .serve_with_incoming(TcpIncoming::from(listener));
    tokio::spawn(server);
    let bare = channel(address).await;
    let token = with_secrets(issuer.token()).sign();
    secrets.extend(secret_pieces(&token));
    let status = refused(&bare, false, &token).await;
    assert_eq!(
        (status.code(), status.message()),
        (tonic::Code::Internal, "internal server error")
    );

    let log = log_text();
    assert!(
        log.contains("no authentication ran for this request: put authorizer::tower::AuthLayer"),
        "the missing layer is logged with its fix:\n{log}"
    );
    assert_hidden(&log, "the log", &secrets);
}

/// Step-up refusals over HTTP, in both styles: neither the bodies, the
/// challenges nor the events carry the token or the claim values that failed
/// (`acr`, `amr`, `auth_time`, `st-mfa`).
#[tokio::test]
async fn step_up_refusals_carry_no_claim_value() {
    use authorizer::require::{all, step_up};
    use authorizer::tower::RequireLayer;
    use axum::routing::get;

    const ACR: &str = "acr-secret-5d0a";
    const AMR: &str = "amr-secret-91c4";
    const AUTH_TIME: u64 = 1_111_111_111;
    capture();
    let issuer = TestIssuer::start().await;
    let token = issuer
        .token()
        .claim("acr", json!(ACR))
        .claim("amr", json!([AMR]))
        .claim("auth_time", json!(AUTH_TIME))
        .claim("st-mfa", json!({"v": false, "c": {"factor": NESTED}}))
        .sign();
    let mut secrets = secret_pieces(&token);
    secrets.extend([ACR, AMR, &AUTH_TIME.to_string(), NESTED].map(str::to_owned));
    let requirement = all([
        step_up::acr_one_of(["urn:example:mfa"]).unwrap(),
        step_up::amr_contains(["hwk"]),
        step_up::authenticated_within(Duration::from_secs(60)),
        supertokens::mfa_completed(),
    ]);
    for style in [ErrorStyle::Rfc6750, ErrorStyle::SuperTokens] {
        let app = axum::Router::new()
            .route(
                "/transfer",
                get(|p: Principal| async move { p.id().to_owned() })
                    .route_layer(RequireLayer::new(requirement.clone())),
            )
            .layer(AuthLayer::required(
                Authenticator::new(issuer.verifier()).error_style(style),
            ));
        let base = common::serve(app).await;
        let response = common::client()
            .get(format!("{base}/transfer"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (status, challenge, body) = common::parts(response).await;
        let expected = if style == ErrorStyle::Rfc6750 { 401 } else { 403 };
        assert_eq!(status, expected, "{style:?}: {body}");
        assert_eq!(body.to_string().matches("\"id\"").count(), 4, "{body}");
        let answer = format!("{} {body}", challenge.unwrap_or_default());
        assert_hidden(&answer, "the step-up answer", &secrets);
    }
    assert_hidden(&log_text(), "the log", &secrets);
}

/// DPoP requests, accepted and refused for each reason: no event holds a
/// piece of the proof or of the token.
#[tokio::test]
async fn dpop_proofs_never_reach_the_log() {
    use authorizer::binding::Binding;
    use authorizer::testing::DpopKey;
    capture();
    let issuer = TestIssuer::new();
    let auth = Authenticator::new(issuer.verifier()).binding(Binding::new().default_scheme("http"));
    let base = common::serve(common::demo_app(auth)).await;
    let http = common::client();
    let me = format!("{base}/me");
    let key = DpopKey::es256();
    let token = with_secrets(issuer.token().bound_to(&key)).sign();
    let proof = || key.proof("GET", &me).access_token(&token);
    let proofs = [
        proof().sign(),
        proof().with_private_jwk().sign(),
        proof().unsigned(),
        proof().with_bad_signature(),
        key.proof("GET", "http://evil.example.com/me")
            .access_token(&token)
            .sign(),
        proof().issued_in(-3600).sign(),
        proof().without("ath").sign(),
    ];
    let mut statuses = Vec::new();
    for dpop in proofs.iter().chain([&proofs[0]]) {
        let response = http
            .get(&me)
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", dpop)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        [200, 401, 401, 401, 401, 401, 401, 401],
        "the last is a replay"
    );
    let as_bearer = http.get(&me).bearer_auth(&token).send().await.unwrap();
    assert_eq!(as_bearer.status(), 401);

    let text = log_text();
    assert!(text.contains("invalid DPoP proof"), "the capture works:\n{text}");
    for dpop in &proofs {
        assert_hidden(&text, "the log", &secret_pieces(dpop));
    }
    assert_hidden(&text, "the log", &secret_pieces(&token));
    assert_hidden(&text, "the log", &secret_claims());
}

/// The session stage: a revoked session, a store that cannot be reached
/// (fail closed and fail open): no token piece, `jti` or session handle in
/// any event, nor in `Debug` of the session types.
#[tokio::test]
async fn session_refusals_and_store_failures_carry_no_token_or_identifier() {
    use authorizer::pipeline::{Mode, RequestParts};
    use authorizer::session::{Lookup, MemoryStore, SessionCheck};

    const JTI: &str = "jti-secret-0e4b";
    const HANDLE: &str = "handle-secret-a8d2";
    capture();
    let issuer = TestIssuer::new();
    let token = with_secrets(issuer.token())
        .claim("jti", json!(JTI))
        .claim("sessionHandle", json!(HANDLE))
        .sign();
    let mut secrets = secret_pieces(&token);
    secrets.extend(secret_claims());
    secrets.extend([JTI.to_owned(), HANDLE.to_owned()]);
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let parts = RequestParts::new("GET", "/me", &headers);

    let check = SessionCheck::new(MemoryStore::new());
    let auth = Authenticator::new(issuer.verifier()).session_check(check.clone());
    check.revoker().revoke_session("user-1", HANDLE).await.unwrap();
    let refused = auth.authenticate(&parts, Mode::Required).await;
    assert!(refused.error().is_some());

    #[cfg(feature = "redis")]
    {
        use authorizer::session::{OnStoreFailure, RedisStore};
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = RedisStore::new(&format!("redis://127.0.0.1:{port}")).unwrap();
        for policy in [OnStoreFailure::FailClosed, OnStoreFailure::FailOpen] {
            let check = SessionCheck::new(store.clone())
                .timeout(Duration::from_millis(200))
                .on_store_failure(policy);
            let auth = Authenticator::new(issuer.verifier()).session_check(check);
            let outcome = auth.authenticate(&parts, Mode::Required).await;
            assert_eq!(outcome.error().is_some(), policy == OnStoreFailure::FailClosed);
        }
        assert_hidden(&format!("{store:?}"), "Debug of the store", &secrets);
    }

    let lookup = Lookup {
        subject: "user-1".into(),
        jti: Some(JTI.into()),
        session: Some(HANDLE.into()),
    };
    let debug = format!("{lookup:?} {check:?} {:?} {:?}", check.revoker(), refused);
    assert_hidden(&debug, "Debug of the session types", &secrets);
    assert_hidden(&log_text(), "the log", &secrets);
}
