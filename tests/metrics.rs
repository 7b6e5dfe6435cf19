//! Metrics, counted by a test recorder while real requests go through
//! `AuthLayer` and `RequireLayer` on axum, against a test issuer serving its
//! keys on 127.0.0.1. Each test records into a recorder of its own
//! (`metrics::with_local_recorder`, on a current-thread runtime: the issuer,
//! the layers and the key fetches all run on the test's thread), so tests
//! running at the same time never see each other's numbers.

use std::future::Future;

use crate::common::{client, serve};
use crate::quickstart_example;

use authorizer::require::supertokens;
use authorizer::telemetry::{
    CHECK, DECISIONS, ISSUER, KEY_FETCHES, KEY_SET_AGE, OUTCOME, REASON, REQUIREMENT_FAILURES, RESULT, STAGE,
    TOKEN_CACHE_LOOKUPS, VERIFICATION_DURATION,
};
use authorizer::testing::{TestIssuer, TokenBuilder};
use authorizer::tower::{AuthLayer, RequireLayer};
use authorizer::{Authenticator, Issuer, Principal, Verifier};
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::Request;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use serde_json::json;
use tower::ServiceExt;

/// One recorded metric: kind and name, labels, value.
#[derive(Debug)]
struct Recorded {
    name: String,
    labels: Vec<(String, String)>,
    value: DebugValue,
}

struct Snapshot(Vec<Recorded>);

impl Snapshot {
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<&DebugValue> {
        self.0
            .iter()
            .find(|m| {
                m.name == name
                    && m.labels.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| m.labels.iter().any(|(mk, mv)| mk == k && mv == v))
            })
            .map(|m| &m.value)
    }

    /// A counter's value; 0 when it was never incremented.
    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.find(name, labels) {
            Some(DebugValue::Counter(n)) => *n,
            None => 0,
            Some(other) => panic!("{name} is not a counter: {other:?}"),
        }
    }

    fn decisions(&self, stage: &str, outcome: &str, reason: &str) -> u64 {
        self.counter(DECISIONS, &[(STAGE, stage), (OUTCOME, outcome), (REASON, reason)])
    }

    /// The sum of a counter over every label set.
    fn total(&self, name: &str) -> u64 {
        self.0
            .iter()
            .filter(|m| m.name == name)
            .map(|m| match m.value {
                DebugValue::Counter(n) => n,
                _ => 0,
            })
            .sum()
    }

    /// Decisions of one stage, whatever their outcome.
    fn stage(&self, stage: &str) -> u64 {
        self.0
            .iter()
            .filter(|m| m.name == DECISIONS && m.labels.iter().any(|(k, v)| k == STAGE && v == stage))
            .map(|m| match m.value {
                DebugValue::Counter(n) => n,
                _ => 0,
            })
            .sum()
    }

    fn label_values(&self) -> Vec<&str> {
        self.0
            .iter()
            .flat_map(|m| m.labels.iter().map(|(_, v)| v.as_str()))
            .collect()
    }
}

/// Runs `test` on a current-thread runtime with a recorder of its own, and
/// answers what it recorded.
fn recorded<F: Future>(test: impl FnOnce() -> F) -> (F::Output, Snapshot) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let output = metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(test())
    });
    let metrics = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (_, key) = key.into_parts();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            Recorded {
                name: key.name().to_owned(),
                labels,
                value,
            }
        })
        .collect();
    (output, Snapshot(metrics))
}

async fn me(principal: Principal) -> String {
    principal.id().to_owned()
}

/// `/me` (session required, GET and POST), `/admin` (role `admin`),
/// `/public` (optional), and `/unguarded`, whose requirement has no layer in
/// front (a server bug: 500).
fn app(auth: Authenticator) -> Router {
    let public = Router::new()
        .route("/public", get(|| async { "ok" }))
        .layer(AuthLayer::optional(auth.clone()));
    let private = Router::new()
        .route("/me", get(me).post(me))
        .route(
            "/admin",
            get(me).route_layer(RequireLayer::new(supertokens::has_role("admin"))),
        )
        .layer(AuthLayer::required(auth));
    let unguarded = Router::new().route(
        "/unguarded",
        get(me).route_layer(RequireLayer::new(supertokens::has_role("admin"))),
    );
    public.merge(private).merge(unguarded)
}

async fn send(app: &Router, method: &str, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    response.status().as_u16()
}

async fn bearer(app: &Router, path: &str, token: &str) -> u16 {
    send(app, "GET", path, &[("authorization", &format!("Bearer {token}"))]).await
}

#[test]
fn every_outcome_is_counted_with_its_reason() {
    let ((), m) = recorded(|| async {
        let issuer = TestIssuer::start().await;
        let app = app(Authenticator::new(issuer.verifier()));
        let good = issuer.token().sign();
        let admin = issuer.token().claim("st-role", json!({"v": ["admin"], "t": 0})).sign();
        let expired = issuer.token().expires_in(-3600).sign();
        let other_issuer = issuer.token().claim("iss", json!("https://elsewhere.example")).sign();
        let other_audience = issuer.token().claim("aud", json!("elsewhere")).sign();
        let unknown_kid = issuer.token().kid(Some("no-such-key")).sign();
        let mut forged = good.clone();
        forged.truncate(forged.len() - 4);
        forged.push_str("AAAA");
        let huge = "a".repeat(20 * 1024);

        assert_eq!(bearer(&app, "/me", &good).await, 200);
        assert_eq!(bearer(&app, "/me", &good).await, 200, "a cache hit");
        assert_eq!(bearer(&app, "/admin", &good).await, 403);
        assert_eq!(bearer(&app, "/admin", &admin).await, 200);
        assert_eq!(send(&app, "GET", "/me", &[]).await, 401);
        assert_eq!(send(&app, "GET", "/public", &[]).await, 200);
        assert_eq!(bearer(&app, "/me", &expired).await, 401);
        assert_eq!(bearer(&app, "/me", "junk").await, 401);
        assert_eq!(bearer(&app, "/me", &forged).await, 401);
        assert_eq!(bearer(&app, "/me", &other_issuer).await, 401);
        assert_eq!(bearer(&app, "/me", &other_audience).await, 401);
        assert_eq!(bearer(&app, "/me", &unknown_kid).await, 401);
        assert_eq!(bearer(&app, "/me", &huge).await, 401);
        let two = [("authorization", "Bearer a.b.c"), ("authorization", "Bearer d.e.f")];
        assert_eq!(send(&app, "GET", "/me", &two).await, 401);
        let cookie = format!("sAccessToken={good}");
        assert_eq!(send(&app, "POST", "/me", &[("cookie", &cookie)]).await, 403);
        assert_eq!(bearer(&app, "/unguarded", &good).await, 500);
    });

    let a = "authenticate";
    // `good` on /me twice and on /admin (then refused there), `admin` on /admin.
    assert_eq!(m.decisions(a, "allowed", "none"), 4);
    assert_eq!(m.decisions(a, "anonymous", "no_credential"), 1);
    for reason in [
        "missing",
        "expired",
        "malformed",
        "signature",
        "issuer",
        "audience",
        "unknown_key",
        "too_large",
        "ambiguous",
    ] {
        assert_eq!(m.decisions(a, "unauthenticated", reason), 1, "{reason}");
    }
    assert_eq!(m.decisions(a, "forbidden", "csrf"), 1);
    // One per request through the layers (`/unguarded` has none).
    assert_eq!(m.stage(a), 15);

    // The requirement checks, behind the layer and without one.
    assert_eq!(m.decisions("authorize", "allowed", "none"), 1);
    assert_eq!(m.decisions("authorize", "forbidden", "requirement"), 1);
    assert_eq!(m.counter(REQUIREMENT_FAILURES, &[(CHECK, "st-role")]), 1);
    assert_eq!(m.decisions("authorize", "error", "missing_layer"), 1);

    // Every token read from a request is looked up: `good` misses once and
    // then hits twice; the eight other tokens that were read miss. No lookup
    // for a credential refused as it was read (too large, ambiguous, CSRF).
    assert_eq!(m.counter(TOKEN_CACHE_LOOKUPS, &[(RESULT, "hit")]), 2);
    assert_eq!(m.counter(TOKEN_CACHE_LOOKUPS, &[(RESULT, "miss")]), 8);
}

#[test]
fn verification_time_is_recorded_for_cache_misses_only() {
    let ((), m) = recorded(|| async {
        let issuer = TestIssuer::start().await;
        let app = app(Authenticator::new(issuer.verifier()));
        let good = issuer.token().sign();
        let expired = issuer.token().expires_in(-3600).sign();
        for _ in 0..3 {
            assert_eq!(bearer(&app, "/me", &good).await, 200);
        }
        assert_eq!(bearer(&app, "/me", &expired).await, 401);
    });
    let timings = |outcome| match m.find(VERIFICATION_DURATION, &[(OUTCOME, outcome)]) {
        Some(DebugValue::Histogram(values)) => values.iter().map(|v| v.into_inner()).collect::<Vec<f64>>(),
        other => panic!("no {outcome} histogram: {other:?}"),
    };
    let allowed = timings("allowed");
    assert_eq!(allowed.len(), 1, "one miss; the two hits are not timed");
    assert!(allowed[0] > 0.0 && allowed[0] < 60.0, "seconds: {allowed:?}");
    assert_eq!(timings("unauthenticated").len(), 1);
    assert_eq!(m.counter(TOKEN_CACHE_LOOKUPS, &[(RESULT, "hit")]), 2);
    assert_eq!(m.counter(TOKEN_CACHE_LOOKUPS, &[(RESULT, "miss")]), 2);
}

#[test]
fn key_fetches_are_counted_by_configured_issuer_and_result() {
    let (iss, m) = recorded(|| async {
        let issuer = TestIssuer::start().await;
        let iss = issuer.issuer().to_owned();
        let token = issuer.token().sign();

        // A good set, then its age in use.
        let app1 = app(Authenticator::new(issuer.verifier()));
        assert_eq!(bearer(&app1, "/me", &token).await, 200);

        // Each verifier below is new, so its first request fetches at once.
        issuer.serve_jwks_body("not a key set");
        let app2 = app(Authenticator::new(issuer.verifier()));
        assert_eq!(bearer(&app2, "/me", &token).await, 503);

        issuer.serve_jwks_body(r#"{"keys": []}"#);
        let app3 = app(Authenticator::new(issuer.verifier()));
        assert_eq!(bearer(&app3, "/me", &token).await, 503);

        issuer.set_outage(true);
        let app4 = app(Authenticator::new(issuer.verifier()));
        assert_eq!(bearer(&app4, "/me", &token).await, 503);

        // Nothing listens on a port just released.
        let closed = {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap()
        };
        let unreachable = Verifier::builder()
            .issuer(Issuer::jwks(&iss, format!("http://{closed}/jwks.json")))
            .build()
            .unwrap();
        let app5 = app(Authenticator::new(unreachable));
        assert_eq!(bearer(&app5, "/me", &token).await, 503);
        iss
    });
    let fetches = |result| m.counter(KEY_FETCHES, &[(ISSUER, &iss), (RESULT, result)]);
    assert_eq!(fetches("ok"), 1);
    assert_eq!(fetches("unparsable"), 1);
    assert_eq!(fetches("empty"), 1);
    assert_eq!(fetches("status"), 1);
    assert_eq!(fetches("http"), 1);
    assert_eq!(m.total(KEY_FETCHES), 5);
    assert_eq!(m.decisions("authenticate", "unavailable", "keys_unavailable"), 4);
    match m.find(KEY_SET_AGE, &[(ISSUER, &iss)]) {
        Some(DebugValue::Gauge(age)) => assert!(age.into_inner() >= 0.0 && age.into_inner() < 60.0),
        other => panic!("no key-set age: {other:?}"),
    }
}

#[test]
fn no_label_value_carries_a_token_a_subject_or_a_claim_value() {
    const SUBJECT: &str = "subject-secret-5d2a";
    const EMAIL: &str = "carol.secret@example.com";
    const ROLE: &str = "role-secret-91c0";
    const FOREIGN_ISS: &str = "https://issuer-secret.example";
    let (tokens, m) = recorded(|| async {
        let issuer = TestIssuer::start().await;
        let app = app(Authenticator::new(issuer.verifier()));
        fn claims(b: TokenBuilder<'_>) -> TokenBuilder<'_> {
            b.subject(SUBJECT)
                .claim("email", json!(EMAIL))
                .claim("st-role", json!({"v": [ROLE], "t": 0}))
        }
        let tokens = vec![
            claims(issuer.token()).sign(),
            claims(issuer.token()).expires_in(-60 * 60).sign(),
            claims(issuer.token()).claim("iss", json!(FOREIGN_ISS)).sign(),
            claims(issuer.token()).kid(Some("kid-secret-0e7b")).sign(),
        ];
        for token in &tokens {
            for path in ["/me", "/admin", "/public", "/unguarded"] {
                bearer(&app, path, token).await;
            }
        }
        tokens
    });
    let values = m.label_values();
    assert!(values.contains(&"st-role"), "the failed check is named: {values:?}");
    let mut secrets = vec![
        SUBJECT.to_owned(),
        EMAIL.to_owned(),
        ROLE.to_owned(),
        FOREIGN_ISS.to_owned(),
        "kid-secret-0e7b".to_owned(),
    ];
    for token in &tokens {
        secrets.push(token.clone());
        secrets.extend(token.split('.').map(str::to_owned));
    }
    for value in values {
        for secret in &secrets {
            assert!(
                !value.contains(secret.as_str()),
                "label value {value:?} carries a secret"
            );
        }
    }
}

/// The value of the Prometheus sample `name{labels}` in `text`, whatever the
/// order of its labels.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let inner = series.strip_prefix(name)?.strip_prefix('{')?.strip_suffix('}')?;
        let mut found: Vec<&str> = inner.split(',').collect();
        let mut wanted: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        found.sort_unstable();
        wanted.sort_unstable();
        (found == wanted).then(|| value.parse().ok())?
    })
}

/// The quickstart's router and recorder, as its `main` builds them, over
/// real HTTP: `/metrics` answers without a credential, in the Prometheus
/// text format, with the decisions of the requests before it.
#[test]
fn the_quickstart_serves_decision_metrics() {
    let recorder = quickstart_example::prometheus();
    let handle = recorder.handle();
    let text = metrics::with_local_recorder(&recorder, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let issuer = TestIssuer::start().await;
                let base = serve(quickstart_example::app(Authenticator::new(issuer.verifier()), handle)).await;
                let http = client();
                let token = issuer.token().sign();
                let get = |path: &str, token: Option<&str>| {
                    let mut request = http.get(format!("{base}{path}"));
                    if let Some(token) = token {
                        request = request.bearer_auth(token);
                    }
                    async move { request.send().await.unwrap() }
                };
                assert_eq!(get("/me", Some(&token)).await.status(), 200);
                assert_eq!(get("/me", Some(&token)).await.status(), 200);
                assert_eq!(get("/me", None).await.status(), 401);
                assert_eq!(get("/me", Some("junk")).await.status(), 401);
                assert_eq!(get("/admin", Some(&token)).await.status(), 403);
                assert_eq!(get("/public", None).await.status(), 200);
                let response = get("/metrics", None).await;
                assert_eq!(response.status(), 200);
                response.text().await.unwrap()
            })
    });
    let decisions = |stage, outcome, reason| {
        sample(
            &text,
            DECISIONS,
            &[(STAGE, stage), (OUTCOME, outcome), (REASON, reason)],
        )
    };
    assert_eq!(decisions("authenticate", "allowed", "none"), Some(3.0), "{text}");
    assert_eq!(decisions("authenticate", "unauthenticated", "missing"), Some(1.0));
    assert_eq!(decisions("authenticate", "unauthenticated", "malformed"), Some(1.0));
    assert_eq!(decisions("authenticate", "anonymous", "no_credential"), Some(1.0));
    assert_eq!(decisions("authorize", "forbidden", "requirement"), Some(1.0));
    assert_eq!(sample(&text, REQUIREMENT_FAILURES, &[(CHECK, "st-role")]), Some(1.0));
    assert_eq!(sample(&text, TOKEN_CACHE_LOOKUPS, &[(RESULT, "hit")]), Some(2.0));
    assert_eq!(
        sample(
            &text,
            &format!("{VERIFICATION_DURATION}_count"),
            &[(OUTCOME, "allowed")]
        ),
        Some(1.0),
        "the histogram has buckets: {text}"
    );
}

/// The Lambda authorizer's route check counts as the layers' does.
#[cfg(feature = "lambda")]
#[test]
fn the_lambda_authorizers_route_check_is_counted() {
    use authorizer::lambda::LambdaAuthorizer;
    use authorizer::routes::{RouteRule, RouteTable};

    use crate::events::token_event;

    let ((), m) = recorded(|| async {
        let issuer = TestIssuer::start().await;
        let routes = RouteTable::new()
            .route("GET /admin", RouteRule::require(supertokens::has_role("admin")))
            .unwrap();
        let authorizer = LambdaAuthorizer::new(Authenticator::new(issuer.verifier()), routes);
        let user = issuer.token().sign();
        let admin = issuer.token().claim("st-role", json!({"v": ["admin"], "t": 0})).sign();
        for (token, path) in [(&user, "/me"), (&user, "/admin"), (&admin, "/admin")] {
            let answer = authorizer.handle(token_event(token, "GET", path)).await;
            assert!(answer.is_ok(), "{path}: an Allow or a Deny, not an error");
        }
    });
    assert_eq!(m.decisions("authorize", "allowed", "none"), 2);
    assert_eq!(m.decisions("authorize", "forbidden", "requirement"), 1);
    assert_eq!(m.counter(REQUIREMENT_FAILURES, &[(CHECK, "st-role")]), 1);
    assert_eq!(m.stage("authenticate"), 3);
}
