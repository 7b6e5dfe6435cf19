//! Key-set hygiene and key-set abuse, end to end: JWKS documents served on
//! 127.0.0.1 (by the test issuer, or by a raw TCP server that misbehaves on
//! purpose), a verifier reading them, and the demo API over HTTP.
//!
//! Hygiene: every bad key below is a *real* public key of the test issuer
//! with one defect, so a token it would verify exists and is sent. Each must
//! be refused as signed by an unknown key (the key was skipped when the set
//! was parsed, never tried), while the good keys of the same document work.
//!
//! Abuse: documents that are huge (declared or streamed), endless, slow,
//! deeply nested or redirected are refused without replacing the last good set.

use crate::adversary;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use adversary::{WEAK_ISS, WEAK_TOKEN, jwk_of, published_keys, target_with, weak_jwk, with};
use authorizer::credential::Credential;
use authorizer::testing::{HS256_SECRET, TEST_AUDIENCE, TestIssuer};
use authorizer::{Algorithm, Authenticator, Error, FetchPolicy, InvalidToken, Issuer, Source, Verifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A 2048-bit RSA modulus with the ROCA fingerprint (CVE-2017-15361), from
/// the reference detector's test data (github.com/crocs-muni/roca,
/// `roca/tests/data/mod03.txt`), base64url.
const ROCA_N: &str = "nc10IOQgwnCmgGDri1qnRXqfZkj4b6_tJ3XMH3muli8eY_G55RxV-epv3HMy6bAFjJ_y6x_ImFUCnPaq_iHmif6zisn_sS8c43G7XQ6armQWGrznS0JEv2jx7bRBH3VqCXyJKcFHQCReo1X4My0ao2u1DH3LRQXajeAuTlPTj43wYJfadSTfDfk9tI6sjMSvLToWJX6ysq3Ka6Rk5ZdPqSVQ0xsbq_Fh52ktALhuPdiG7KtKv74aj4zCY_9K9VzbRfQkmlGTkl9emD12LwtoAJQ-sCZ7CPQu0xHOH1yG6svIzk08t6L-4e9WQUI6HPQRTl7PUANKYKQSUjr55vSqEQ";

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn verifier_for(url: &str, policy: FetchPolicy) -> Verifier {
    Verifier::builder()
        .issuer(Issuer::jwks(WEAK_ISS, url).audience(TEST_AUDIENCE).fetch_policy(policy))
        .build()
        .unwrap()
}

async fn reason(verifier: &Verifier, token: &str) -> Result<String, Error> {
    verifier
        .verify(Credential::new(token, Source::Bearer))
        .await
        .map(|p| p.id().to_owned())
}

/// RFC 7517 §4.2-4.3 (`use`, `key_ops`), RFC 7518 §3.3 and §6.3 (RSA size and
/// exponent), RFC 8725 §3.4 (invalid-curve points), RFC 8725 §2.1/§3.1 (no
/// symmetric keys from a remote set), RFC 7517 §4.5 (`kid` picks one key):
/// each bad key is skipped, never used, and the rest of the document works.
#[tokio::test]
async fn a_served_jwks_skips_bad_keys_and_keeps_the_good_ones() {
    let issuer = TestIssuer::start().await;
    let published = published_keys(&issuer).await;
    let rsa = jwk_of(&published, "rs256");
    let ec = jwk_of(&published, "es256");
    let ed = jwk_of(&published, "eddsa");
    let off_curve_y = {
        let mut y = URL_SAFE_NO_PAD.decode(ec["y"].as_str().unwrap()).unwrap();
        *y.last_mut().unwrap() ^= 1;
        b64(y)
    };
    let rsa_kid = |kid: &str, extra: Value| with(&with(&rsa, json!({ "kid": kid })), extra);
    let ec_kid = |kid: &str, extra: Value| with(&with(&ec, json!({ "kid": kid })), extra);
    let bad_keys = vec![
        rsa_kid("use-enc", json!({"use": "enc"})),
        rsa_kid("use-number", json!({"use": 1})),
        rsa_kid("ops-encrypt", json!({"key_ops": ["encrypt", "wrapKey"]})),
        rsa_kid("ops-sign-only", json!({"key_ops": ["sign"]})),
        rsa_kid("ops-not-a-list", json!({"key_ops": "verify"})),
        rsa_kid("private-d", json!({"d": b64([7u8; 256])})),
        rsa_kid("private-p", json!({"p": b64([7u8; 128])})),
        rsa_kid("alg-misfit", json!({"alg": "ES256"})),
        rsa_kid("alg-hmac", json!({"alg": "HS256"})),
        rsa_kid("alg-none", json!({"alg": "none"})),
        rsa_kid("alg-number", json!({"alg": 256})),
        rsa_kid("e-one", json!({"e": "AQ"})),
        rsa_kid("e-even", json!({"e": "AQAA"})),
        rsa_kid("roca", json!({"n": ROCA_N})),
        rsa_kid("kty-lower", json!({"kty": "rsa"})),
        rsa_kid("kty-unknown", json!({"kty": "RSA-PSS"})),
        rsa_kid("kty-missing", json!({"kty": null})),
        ec_kid("crv-misfit", json!({"crv": "P-384"})),
        ec_kid("alg-misfit-ec", json!({"alg": "ES384"})),
        ec_kid("off-curve", json!({"y": off_curve_y})),
        ec_kid("private-ec", json!({"d": b64([7u8; 32])})),
        with(&ed, json!({"kid": "okp-x25519", "crv": "X25519"})),
        with(&ed, json!({"kid": "okp-alg-misfit", "alg": "ES256"})),
        json!({"kty": "oct", "kid": "oct", "alg": "HS256", "k": b64(HS256_SECRET)}),
        json!({"kty": "oct", "kid": "oct-bare", "k": b64(HS256_SECRET)}),
        // Two keys under one kid: the RSA key that signed the token comes first.
        rsa_kid("dup", json!({})),
        ec_kid("dup", json!({})),
        weak_jwk(),
    ];
    let mut document = bad_keys;
    document.extend(published.iter().cloned());
    issuer.serve_jwks_body(json!({ "keys": document }).to_string());

    let policy = FetchPolicy {
        cooldown: Duration::from_secs(1),
        ..FetchPolicy::default()
    };
    let verifier = verifier_for(&issuer.jwks_url(), policy.clone());
    // HS256 allowed on purpose: a remote set must still never supply the secret.
    let hmac_allowed = Verifier::builder()
        .issuer(
            Issuer::jwks(WEAK_ISS, issuer.jwks_url())
                .audience(TEST_AUDIENCE)
                .fetch_policy(policy),
        )
        .algorithms([Algorithm::HS256, Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA])
        .build()
        .unwrap();
    let t = target_with(issuer, Authenticator::new(verifier.clone())).await;
    let i = &t.issuer;
    let token = |alg: Algorithm, kid: &str| i.token().alg(alg).kid(Some(kid)).claim("iss", json!(WEAK_ISS)).sign();

    let mut skipped: Vec<(String, String)> = [
        "use-enc",
        "use-number",
        "ops-encrypt",
        "ops-sign-only",
        "ops-not-a-list",
        "private-d",
        "private-p",
        "alg-misfit",
        "alg-hmac",
        "alg-none",
        "alg-number",
        "e-one",
        "e-even",
        "roca",
        "kty-lower",
        "kty-unknown",
        "kty-missing",
        "dup",
    ]
    .iter()
    .map(|kid| (kid.to_string(), token(Algorithm::RS256, kid)))
    .collect();
    for kid in ["crv-misfit", "alg-misfit-ec", "off-curve", "private-ec", "dup"] {
        skipped.push((format!("{kid} (ES256)"), token(Algorithm::ES256, kid)));
    }
    for kid in ["okp-x25519", "okp-alg-misfit"] {
        skipped.push((kid.to_owned(), token(Algorithm::EdDSA, kid)));
    }
    // The algorithm a misfit key declares, over the signature of its real key.
    let as_declared = i.token().kid(Some("alg-misfit")).header("alg", json!("ES256"));
    skipped.push((
        "alg-misfit, as ES256".into(),
        as_declared.claim("iss", json!(WEAK_ISS)).sign(),
    ));
    skipped.push(("1024-bit RSA".into(), WEAK_TOKEN.to_owned()));

    for (name, token) in &skipped {
        t.refuses(name, token).await;
        let outcome = reason(&verifier, token).await;
        assert!(
            matches!(outcome, Err(Error::InvalidToken(InvalidToken::UnknownKey))),
            "{name}: the key is skipped, never tried ({outcome:?})"
        );
    }
    for kid in ["oct", "oct-bare"] {
        let hs = token(Algorithm::HS256, kid);
        t.refuses(&format!("{kid}: HS256 with the secret a JWKS published"), &hs)
            .await;
        assert!(
            reason(&hmac_allowed, &hs).await.is_err(),
            "{kid}: symmetric keys never come from a remote set, even with HS256 allowed"
        );
    }

    for alg in [
        Algorithm::RS256,
        Algorithm::PS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let good = i.token().alg(alg).claim("iss", json!(WEAK_ISS)).sign();
        let (status, _, body) = t.bearer(&good).await;
        assert_eq!(status, 200, "{alg:?}: the rest of the set works: {body}");
    }
}

/// A raw HTTP/1.1 server for JWKS responses a real server would not send.
struct RawServer {
    url: String,
    mode: Arc<Mutex<Mode>>,
    requests: Arc<AtomicU64>,
    /// Body bytes written by the endless modes before the client hung up.
    written: Arc<AtomicU64>,
    /// Whether an endless body ended because the client hung up.
    client_hung_up: Arc<AtomicBool>,
}

#[derive(Clone)]
enum Mode {
    /// A normal response with `Content-Length`.
    Body(Vec<u8>),
    /// Reads the request, then says nothing.
    Stall,
    /// `Content-Length` far over the limit, then this prefix, then silence.
    DeclaredHuge(String),
    /// Chunked, no `Content-Length`: this prefix, then padding without end.
    Endless(String),
    /// Chunked: one byte every 100 ms.
    Trickle,
    /// A 302 to this URL.
    Redirect(String),
}

impl RawServer {
    async fn start(mode: Mode) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let server = RawServer {
            url,
            mode: Arc::new(Mutex::new(mode)),
            requests: Arc::default(),
            written: Arc::default(),
            client_hung_up: Arc::default(),
        };
        let (mode, requests, written, hung_up) = (
            server.mode.clone(),
            server.requests.clone(),
            server.written.clone(),
            server.client_hung_up.clone(),
        );
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let mode = mode.lock().unwrap().clone();
                requests.fetch_add(1, Ordering::SeqCst);
                let (written, hung_up) = (written.clone(), hung_up.clone());
                tokio::spawn(async move {
                    if let Err(error) = respond(stream, mode, &written).await {
                        let _ = error;
                        hung_up.store(true, Ordering::SeqCst);
                    }
                });
            }
        });
        server
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn respond(mut stream: TcpStream, mode: Mode, written: &AtomicU64) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let head =
        |extra: &str| format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n{extra}\r\n");
    match mode {
        Mode::Body(body) => {
            stream
                .write_all(head(&format!("Content-Length: {}\r\n", body.len())).as_bytes())
                .await?;
            stream.write_all(&body).await?;
        }
        Mode::Stall => tokio::time::sleep(Duration::from_secs(30)).await,
        Mode::DeclaredHuge(prefix) => {
            stream
                .write_all(head("Content-Length: 104857600\r\n").as_bytes())
                .await?;
            stream.write_all(prefix.as_bytes()).await?;
            stream.flush().await?;
            // Silence; a client that waits for the rest waits here.
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Mode::Endless(prefix) => {
            stream
                .write_all(head("Transfer-Encoding: chunked\r\n").as_bytes())
                .await?;
            stream
                .write_all(format!("{:x}\r\n{prefix}\r\n", prefix.len()).as_bytes())
                .await?;
            let pad = " ".repeat(16 * 1024);
            let chunk = format!("{:x}\r\n{pad}\r\n", pad.len());
            // At most 256 MiB; a client that stops reading makes this fail long before.
            for _ in 0..16 * 1024 {
                stream.write_all(chunk.as_bytes()).await?;
                written.fetch_add(pad.len() as u64, Ordering::SeqCst);
            }
        }
        Mode::Trickle => {
            stream
                .write_all(head("Transfer-Encoding: chunked\r\n").as_bytes())
                .await?;
            for _ in 0..600 {
                stream.write_all(b"1\r\n \r\n").await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Mode::Redirect(location) => {
            let response =
                format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            stream.write_all(response.as_bytes()).await?;
        }
    }
    stream.shutdown().await
}

/// What "ended by our own limit" means here: the raw server stays silent or
/// trickles for 30 s or more, and the limits under test are 1 s or less. The
/// margin is wide so a loaded machine cannot fail these.
const BOUNDED: Duration = Duration::from_secs(10);

/// A verifier for the raw server: a 1 s timeout, short freshness so a test
/// can make the set stale, and the default 256 KiB body limit.
fn raw_policy() -> FetchPolicy {
    FetchPolicy {
        default_ttl: Duration::from_millis(200),
        min_ttl: Duration::ZERO,
        cooldown: Duration::from_millis(200),
        timeout: Duration::from_secs(1),
        ..FetchPolicy::default()
    }
}

/// The test issuer's real key set, and a token for [`WEAK_ISS`] it verifies.
async fn real_jwks() -> (TestIssuer, String) {
    let issuer = TestIssuer::start().await;
    let keys = published_keys(&issuer).await;
    (issuer, json!({ "keys": keys }).to_string())
}

fn token_for(issuer: &TestIssuer, sub: &str) -> String {
    issuer.token().subject(sub).claim("iss", json!(WEAK_ISS)).sign()
}

/// Valid keys, then padding past the 256 KiB limit: accepting it would verify the token.
fn padded(jwks: &str, pad: usize) -> String {
    format!("{}, \"pad\": \"{}\"}}", &jwks[..jwks.len() - 1], "x".repeat(pad))
}

/// After a good set is cached: make it stale, switch the server to `mode`,
/// and check the next request still verifies with the last good set, after a
/// refetch was attempted.
async fn keeps_last_good_set(server: &RawServer, verifier: &Verifier, issuer: &TestIssuer, mode: Mode, name: &str) {
    reason(verifier, &token_for(issuer, "before")).await.unwrap();
    server.set(mode);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = server.requests();
    let started = Instant::now();
    let outcome = reason(verifier, &token_for(issuer, name)).await;
    assert_eq!(outcome.unwrap(), name, "{name}: the last good set still verifies");
    assert!(
        started.elapsed() < BOUNDED,
        "{name}: bounded by the 1 s timeout, not by the server"
    );
    assert_eq!(
        server.requests(),
        before + 1,
        "{name}: a refetch was attempted and failed"
    );
    let again = reason(verifier, &token_for(issuer, &format!("{name}-again"))).await;
    assert!(again.is_ok(), "{name}: and the set was not replaced by nothing");
}

/// A JWKS whose `Content-Length` is far past `max_body_bytes` is refused from
/// the headers, before its body is read: with nothing cached that is a 503
/// at once (not after the timeout), and with a good set cached, the good set
/// stays.
#[tokio::test]
async fn a_huge_jwks_declared_by_content_length_is_refused_unread() {
    let (issuer, jwks) = real_jwks().await;
    let server = RawServer::start(Mode::DeclaredHuge(jwks.clone())).await;
    // A timeout past the server's silence: only refusing from the headers ends this early.
    let patient = FetchPolicy {
        timeout: Duration::from_secs(60),
        ..raw_policy()
    };
    let verifier = verifier_for(&server.url, patient);
    let t = target_with(issuer, Authenticator::new(verifier.clone())).await;
    let started = Instant::now();
    let (status, _, body) = t.bearer(&token_for(&t.issuer, "first")).await;
    assert_eq!((status, body), (503, json!({"message": "service unavailable"})));
    assert!(
        started.elapsed() < BOUNDED,
        "refused from the declared length, not after waiting for the body ({:?})",
        started.elapsed()
    );

    let server = RawServer::start(Mode::Body(jwks.clone().into_bytes())).await;
    let verifier = verifier_for(&server.url, raw_policy());
    keeps_last_good_set(&server, &verifier, &t.issuer, Mode::DeclaredHuge(jwks), "declared-huge").await;
}

/// A JWKS streamed without `Content-Length` is cut off at `max_body_bytes`:
/// valid keys followed by endless padding are refused (503 with nothing
/// cached; the last good set kept otherwise), and the client stops reading.
#[tokio::test]
async fn a_huge_jwks_streamed_without_content_length_is_refused() {
    let (issuer, jwks) = real_jwks().await;
    let open = format!("{}, \"pad\": \"", &jwks[..jwks.len() - 1]);
    let server = RawServer::start(Mode::Endless(open.clone())).await;
    // A timeout no stream ends by here: only the body limit can cut it off.
    let patient = FetchPolicy {
        timeout: Duration::from_secs(60),
        ..raw_policy()
    };
    let verifier = verifier_for(&server.url, patient);
    let t = target_with(issuer, Authenticator::new(verifier.clone())).await;
    let started = Instant::now();
    let (status, _, _) = t.bearer(&token_for(&t.issuer, "first")).await;
    assert_eq!(status, 503, "an endless body is never accepted");
    assert!(
        started.elapsed() < BOUNDED,
        "cut off at the body limit, not by the timeout ({:?})",
        started.elapsed()
    );
    for _ in 0..100 {
        if server.client_hung_up.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        server.client_hung_up.load(Ordering::SeqCst),
        "the client stopped reading"
    );
    let written = server.written.load(Ordering::SeqCst);
    assert!(written < 64 << 20, "stopped long before the end: {written} bytes sent");

    // Padded to just over the limit, with an honest ending: still refused.
    let server = RawServer::start(Mode::Body(jwks.clone().into_bytes())).await;
    let verifier = verifier_for(&server.url, raw_policy());
    keeps_last_good_set(&server, &verifier, &t.issuer, Mode::Endless(open), "endless").await;
    let server = RawServer::start(Mode::Body(jwks.clone().into_bytes())).await;
    let verifier = verifier_for(&server.url, raw_policy());
    let over = padded(&jwks, 256 * 1024);
    keeps_last_good_set(
        &server,
        &verifier,
        &t.issuer,
        Mode::Body(over.into_bytes()),
        "just-over",
    )
    .await;
}

/// A JWKS that arrives one byte at a time is given up after the timeout.
#[tokio::test]
async fn a_trickling_jwks_is_bounded_by_the_timeout() {
    let (issuer, jwks) = real_jwks().await;
    let server = RawServer::start(Mode::Trickle).await;
    let verifier = verifier_for(&server.url, raw_policy());
    let started = Instant::now();
    assert!(matches!(
        reason(&verifier, &token_for(&issuer, "first")).await,
        Err(Error::KeysUnavailable)
    ));
    let elapsed = started.elapsed();
    assert!(
        elapsed < BOUNDED,
        "given up after the 1 s timeout, not the minute of trickling ({elapsed:?})"
    );

    let server = RawServer::start(Mode::Body(jwks.into_bytes())).await;
    let verifier = verifier_for(&server.url, raw_policy());
    keeps_last_good_set(&server, &verifier, &issuer, Mode::Trickle, "trickle").await;
}

/// The default client follows no redirects: a JWKS URL that answers 302 to
/// another key set (an open redirect on the issuer's host, say) yields nothing.
#[tokio::test]
async fn a_redirect_to_another_key_set_is_not_followed() {
    let attacker = TestIssuer::start().await;
    let server = RawServer::start(Mode::Redirect(attacker.jwks_url())).await;
    let verifier = verifier_for(&server.url, raw_policy());
    let token = token_for(&attacker, "redirected");
    assert!(matches!(reason(&verifier, &token).await, Err(Error::KeysUnavailable)));
    assert_eq!(attacker.jwks_fetches(), 0, "the redirect target was never fetched");
}

/// Malformed documents: nesting deep enough to overflow a recursive parser's
/// stack, a document of many thousands of junk keys, invalid UTF-8, a JSON
/// array at the top. The deep one is refused without a crash and the last
/// good set stays; the junk keys are skipped and the good key among them works.
#[tokio::test]
async fn malformed_and_bloated_jwks_documents() {
    let (issuer, jwks) = real_jwks().await;
    let nested = format!("{{\"keys\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let server = RawServer::start(Mode::Body(nested.clone().into_bytes())).await;
    let verifier = verifier_for(&server.url, raw_policy());
    assert!(matches!(
        reason(&verifier, &token_for(&issuer, "a")).await,
        Err(Error::KeysUnavailable)
    ));

    let server = RawServer::start(Mode::Body(jwks.clone().into_bytes())).await;
    let verifier = verifier_for(&server.url, raw_policy());
    keeps_last_good_set(&server, &verifier, &issuer, Mode::Body(nested.into_bytes()), "nested").await;
    for (name, body) in [
        ("invalid utf-8", b"{\"keys\": [{\"kid\": \"\xff\"}]}".to_vec()),
        ("an array", b"[]".to_vec()),
        ("keys of the wrong type", b"{\"keys\": {\"0\": {}}}".to_vec()),
    ] {
        tokio::time::sleep(Duration::from_millis(250)).await;
        keeps_last_good_set(&server, &verifier, &issuer, Mode::Body(body), name).await;
    }

    let mut keys: Vec<Value> = (0..8_000).map(|n| json!({"kty": "junk", "kid": n})).collect();
    keys.extend(
        serde_json::from_str::<Value>(&jwks).unwrap()["keys"]
            .as_array()
            .unwrap()
            .iter()
            .cloned(),
    );
    let bloated = json!({ "keys": keys }).to_string();
    assert!(bloated.len() < 256 * 1024, "{} bytes", bloated.len());
    let server = RawServer::start(Mode::Body(bloated.into_bytes())).await;
    let verifier = verifier_for(&server.url, raw_policy());
    assert_eq!(
        reason(&verifier, &token_for(&issuer, "among-junk")).await.unwrap(),
        "among-junk"
    );
}

/// A slow issuer on the *first* fetch: concurrent first requests share one
/// fetch, bounded by the timeout, and all get 503 together.
#[tokio::test]
async fn a_slow_issuer_on_the_first_fetch_is_bounded_and_fetched_once() {
    let issuer = TestIssuer::new();
    let server = RawServer::start(Mode::Stall).await;
    let verifier = verifier_for(
        &server.url,
        FetchPolicy {
            timeout: Duration::from_millis(500),
            ..FetchPolicy::default()
        },
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let verifier = verifier.clone();
            let token = token_for(&issuer, &format!("u{n}"));
            tokio::spawn(async move { reason(&verifier, &token).await })
        })
        .collect();
    for task in tasks {
        assert!(matches!(task.await.unwrap(), Err(Error::KeysUnavailable)));
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < BOUNDED,
        "bounded by the 500 ms timeout, not the server's 30 s: {elapsed:?}"
    );
    assert_eq!(server.requests(), 1, "one fetch for all of them");
}

/// Static keys never fetch anything, however many unknown kids arrive: the
/// issuer serves discovery and its JWKS, and a verifier that went looking
/// there (by discovery from `iss`) would count a fetch.
#[tokio::test]
async fn static_keys_never_fetch_on_unknown_kids() {
    let issuer = TestIssuer::start().await;
    let verifier = Verifier::builder()
        .issuer(Issuer::static_keys(issuer.issuer(), issuer.key_set()).audience(TEST_AUDIENCE))
        .build()
        .unwrap();
    for n in 0..500 {
        let token = issuer.token().kid(Some(&format!("random-{n}"))).sign();
        assert!(matches!(
            reason(&verifier, &token).await,
            Err(Error::InvalidToken(InvalidToken::UnknownKey))
        ));
    }
    assert_eq!((issuer.discovery_fetches(), issuer.jwks_fetches()), (0, 0));
}
