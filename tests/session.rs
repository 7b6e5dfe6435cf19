//! The session stage: revocations refused on every instance, with the
//! in-memory store and against real `redis-server`s (a single node and a
//! 3-node cluster) that the tests start on 127.0.0.1.

#![cfg(feature = "testing")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authorizer::pipeline::{Attempt, Mode, RequestParts};
use authorizer::routes::{RouteRule, RouteTable};
use authorizer::session::{MemoryStore, RevokeError, RevokedKind, SessionCheck};
use authorizer::testing::TestIssuer;
use authorizer::{Authenticator, Error, ErrorStyle, InvalidToken};
use http::HeaderMap;
use serde_json::json;

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    headers
}

fn attempt(auth: &Authenticator, method: &str, path: &str, token: &str) -> (Attempt, HeaderMap) {
    let headers = bearer(token);
    let attempt = auth.authenticate(&RequestParts::new(method, path, &headers), Mode::Required);
    (attempt, headers)
}

/// The status a request to `GET /me` with `token` gets (200: a principal).
async fn status(auth: &Authenticator, token: &str) -> u16 {
    status_at(auth, "GET", "/me", token).await
}

async fn status_at(auth: &Authenticator, method: &str, path: &str, token: &str) -> u16 {
    let (attempt, _headers) = attempt(auth, method, path, token);
    match attempt.await.error() {
        None => 200,
        Some(error) => error.status().as_u16(),
    }
}

fn session_token(issuer: &TestIssuer, subject: &str, handle: &str) -> String {
    issuer
        .token()
        .subject(subject)
        .claim("sessionHandle", json!(handle))
        .claim("jti", json!(format!("jti-{handle}")))
        .sign()
}

#[tokio::test]
async fn a_revoked_session_is_refused_even_on_a_verification_cache_hit() {
    let issuer = TestIssuer::new();
    let check = SessionCheck::new(MemoryStore::new()).recheck_interval(Duration::from_secs(60));
    let revoker = check.revoker();
    let auth = Authenticator::new(issuer.verifier())
        .session_check(check)
        .error_style(ErrorStyle::Rfc6750);
    let token = session_token(&issuer, "user-1", "s-1");
    let other = session_token(&issuer, "user-1", "s-2");

    assert_eq!(status(&auth, &token).await, 200);
    // Verified and checked once: the next request is decided without waiting.
    let (again, _) = attempt(&auth, "GET", "/me", &token);
    let Attempt::Ready(outcome) = again else {
        panic!("a cached token and a cached session answer stay synchronous");
    };
    let principal = outcome.principal().expect("signed in").clone();

    assert_eq!(revoker.revoke_principal(&principal).await, Ok(RevokedKind::Session));
    let (refused, _) = attempt(&auth, "GET", "/me", &token);
    let outcome = refused.await;
    assert!(matches!(
        outcome.error(),
        Some(Error::InvalidToken(InvalidToken::Revoked))
    ));
    let rendered = outcome.error().unwrap().to_response(ErrorStyle::Rfc6750);
    assert_eq!(rendered.status, 401);
    assert!(rendered.body.contains("invalid_token") && !rendered.body.contains("revoked"));
    let supertokens = outcome.error().unwrap().to_response(ErrorStyle::SuperTokens);
    assert_eq!(supertokens.body, r#"{"message":"unauthorised"}"#);
    assert_eq!(outcome.error().unwrap().grpc_code(), 16);
    assert_eq!(status(&auth, &other).await, 200, "another session of the subject");
}

#[tokio::test]
async fn a_token_without_a_session_is_revoked_by_jti_and_one_without_either_cannot_be() {
    let issuer = TestIssuer::new();
    let check = SessionCheck::new(MemoryStore::new());
    let revoker = check.revoker();
    let auth = Authenticator::new(issuer.verifier()).session_check(check);
    let token = issuer.token().claim("jti", json!("t-1")).sign();
    let sibling = issuer.token().claim("jti", json!("t-2")).sign();
    let principal = auth.authenticate_token(&token, authorizer::Source::Bearer).await;
    let principal = principal.principal().unwrap().clone();
    assert_eq!(revoker.revoke_principal(&principal).await, Ok(RevokedKind::Token));
    assert_eq!(status(&auth, &token).await, 401);
    assert_eq!(status(&auth, &sibling).await, 200);

    let bare = issuer.token().sign();
    let (attempt, _) = attempt(&auth, "GET", "/me", &bare);
    let bare = attempt.await.principal().unwrap().clone();
    assert_eq!(revoker.revoke_principal(&bare).await, Err(RevokeError::NothingToRevoke));
    assert_eq!(
        revoker.revoke_session("", "s").await,
        Err(RevokeError::NoSubject),
        "no subject, no key"
    );
}

#[tokio::test]
async fn log_out_everywhere_refuses_tokens_issued_until_then_and_no_later_ones() {
    let issuer = TestIssuer::new();
    let check = SessionCheck::new(MemoryStore::new());
    let revoker = check.revoker();
    let auth = Authenticator::new(issuer.verifier()).session_check(check);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let old = issuer.token().subject("alice").claim("iat", json!(now - 100)).sign();
    let older_same_second = issuer.token().subject("alice").claim("iat", json!(now - 50)).sign();
    let newer = issuer.token().subject("alice").claim("iat", json!(now - 10)).sign();
    let no_iat = issuer.token().subject("alice").without("iat").sign();
    let bob = issuer.token().subject("bob").claim("iat", json!(now - 100)).sign();
    for token in [&old, &older_same_second, &newer, &no_iat, &bob] {
        assert_eq!(status(&auth, token).await, 200);
    }
    revoker
        .revoke_issued_until("alice", UNIX_EPOCH + Duration::from_secs(now - 50))
        .await
        .unwrap();
    assert_eq!(status(&auth, &old).await, 401);
    assert_eq!(status(&auth, &older_same_second).await, 401, "issued in that second");
    assert_eq!(status(&auth, &newer).await, 200);
    assert_eq!(status(&auth, &no_iat).await, 401, "its age cannot be told");
    assert_eq!(status(&auth, &bob).await, 200);
}

#[tokio::test]
async fn routes_opt_in_to_the_check_and_others_skip_it() {
    let issuer = TestIssuer::new();
    let routes = RouteTable::new()
        .route("GET /feed", RouteRule::session())
        .unwrap()
        .route("ANY /account/{proxy+}", RouteRule::session().check_session())
        .unwrap();
    let check = SessionCheck::new(MemoryStore::new()).routes(routes);
    let revoker = check.revoker();
    let auth = Authenticator::new(issuer.verifier()).session_check(check);
    let token = session_token(&issuer, "user-1", "s-1");
    revoker.revoke_session("user-1", "s-1").await.unwrap();
    assert_eq!(status_at(&auth, "GET", "/feed", &token).await, 200);
    assert_eq!(status_at(&auth, "POST", "/account/password", &token).await, 401);
    assert_eq!(status_at(&auth, "HEAD", "/account/x?y=z", &token).await, 401);
    // The data form says the same.
    let table: RouteTable =
        serde_json::from_str(r#"{"routes": {"ANY /account/{proxy+}": {"check_session": true}}}"#).unwrap();
    assert!(table.rule_for("GET", "/account/x").checks_session());
    assert!(
        serde_json::from_str::<RouteTable>(r#"{"routes": {"GET /x": {"deny": true, "check_session": true}}}"#).is_err()
    );
}

#[cfg(feature = "lambda")]
mod lambda {
    use super::*;
    use crate::events::{fixture, token_event};
    use authorizer::lambda::{AuthorizerError, LambdaAuthorizer, gateway_only, principal_from_extensions};

    #[tokio::test]
    async fn the_lambda_authorizer_runs_the_same_stage() {
        let issuer = TestIssuer::new();
        let routes = RouteTable::new()
            .route("GET /feed", RouteRule::session())
            .unwrap()
            .route("GET /me", RouteRule::session().check_session())
            .unwrap();
        let check = SessionCheck::new(MemoryStore::new()).routes(routes.clone());
        let revoker = check.revoker();
        let authorizer = LambdaAuthorizer::new(Authenticator::new(issuer.verifier()).session_check(check), routes);
        let token = session_token(&issuer, "user-1", "s-1");
        assert!(authorizer.handle(token_event(&token, "GET", "/me")).await.is_ok());
        revoker.revoke_session("user-1", "s-1").await.unwrap();
        assert_eq!(
            authorizer.handle(token_event(&token, "GET", "/me")).await.err(),
            Some(AuthorizerError::Unauthorized)
        );
        assert!(
            authorizer.handle(token_event(&token, "GET", "/feed")).await.is_ok(),
            "a route that does not check sessions"
        );
    }

    /// A REQUEST event's target is the path the client used, stage and all
    /// (`/prod/me`); the stage judges the route by the method ARN (`GET /me`),
    /// as the authorizer's own route check does.
    #[tokio::test]
    async fn request_events_are_checked_on_the_route_the_authorizer_judges() {
        let issuer = TestIssuer::new();
        let routes = RouteTable::new()
            .route("GET /me", RouteRule::session().check_session())
            .unwrap();
        let check = SessionCheck::new(MemoryStore::new()).routes(routes.clone());
        let revoker = check.revoker();
        let authorizer = LambdaAuthorizer::new(Authenticator::new(issuer.verifier()).session_check(check), routes);
        let token = session_token(&issuer, "user-1", "s-1");
        let event = crate::events::with_token(&fixture("authorizer_request.json"), &token);
        assert_eq!(
            event["requestContext"]["path"], "/prod/me",
            "the stage is in the client's path"
        );
        assert!(authorizer.handle(event.clone()).await.is_ok());
        revoker.revoke_session("user-1", "s-1").await.unwrap();
        assert_eq!(
            authorizer.handle(event).await.err(),
            Some(AuthorizerError::Unauthorized)
        );
    }

    #[tokio::test]
    async fn a_principal_api_gateway_established_is_checked_too() {
        // The fixture's token was issued in 2023 and lives until 2030: a
        // revocation is kept for the longest token lifetime after its time.
        let check = SessionCheck::new(MemoryStore::new()).max_token_lifetime(Duration::from_secs(10 * 365 * 86_400));
        let revoker = check.revoker();
        let auth = gateway_only().session_check(check);
        let event = fixture("http_jwt.json");
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert!(principal_from_extensions(request.extensions()).is_some());
        let run = |request: &lambda_http::Request| {
            let parts = RequestParts::from_request(request);
            auth.authenticate(&parts, Mode::Required)
        };
        assert!(run(&request).await.principal().is_some());
        // The context's `iat` is text ("1700000000"), as API Gateway hands it on.
        revoker
            .revoke_issued_until("user-1", UNIX_EPOCH + Duration::from_secs(1_700_000_000))
            .await
            .unwrap();
        let refused = run(&request).await;
        assert!(matches!(
            refused.error(),
            Some(Error::InvalidToken(InvalidToken::Revoked))
        ));
    }
}

#[cfg(feature = "redis")]
mod redis {
    use super::*;
    use crate::common::redis::{RedisCluster, RedisServer};
    use authorizer::session::{OnStoreFailure, RedisStore, SessionStore, Subscription};
    use tokio::sync::watch;

    async fn subscribed(store: &RedisStore, times: u64) {
        let mut state: watch::Receiver<Subscription> = store.subscription();
        state
            .wait_for(|s| s.connected && s.subscriptions >= times)
            .await
            .expect("the store lives");
    }

    async fn events(store: &RedisStore, at_least: u64) {
        store
            .subscription()
            .wait_for(|s| s.events >= at_least)
            .await
            .expect("the store lives");
    }

    async fn unsubscribed(store: &RedisStore) {
        store
            .subscription()
            .wait_for(|s| !s.connected)
            .await
            .expect("the store lives");
    }

    fn instance(issuer: &TestIssuer, store: &RedisStore, policy: OnStoreFailure) -> (Authenticator, SessionCheck) {
        let check = SessionCheck::new(store.clone())
            .recheck_interval(Duration::from_secs(600))
            .timeout(Duration::from_millis(500))
            .on_store_failure(policy);
        (
            Authenticator::new(issuer.verifier()).session_check(check.clone()),
            check,
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_revocation_through_one_instance_is_refused_by_the_other() {
        let server = RedisServer::start();
        let issuer = TestIssuer::new();
        let (one, two) = (
            RedisStore::new(&server.url()).unwrap(),
            RedisStore::new(&server.url()).unwrap(),
        );
        subscribed(&one, 1).await;
        subscribed(&two, 1).await;
        let (auth_one, check_one) = instance(&issuer, &one, OnStoreFailure::FailClosed);
        let (auth_two, _) = instance(&issuer, &two, OnStoreFailure::FailClosed);
        let token = session_token(&issuer, "user-1", "s-1");
        assert_eq!(status(&auth_one, &token).await, 200);
        assert_eq!(status(&auth_two, &token).await, 200);
        let (cached, _) = attempt(&auth_two, "GET", "/me", &token);
        assert!(matches!(cached, Attempt::Ready(_)), "no round trip in the common case");

        let revoked_at = std::time::Instant::now();
        check_one.revoker().revoke_session("user-1", "s-1").await.unwrap();
        // Instance one knows at once; instance two when the event arrives.
        assert_eq!(status(&auth_one, &token).await, 401);
        events(&two, 1).await;
        assert_eq!(status(&auth_two, &token).await, 401);
        // For BENCHMARKS.md (measured, not asserted: `--nocapture` shows it).
        eprintln!("revoke to refusal on another instance: {:?}", revoked_at.elapsed());
        assert_eq!(
            server.cli(&["GET", "authorizer:rv:{user-1}:sid:s-1"]).unwrap().trim(),
            "1",
            "the documented key"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dead_store_fails_closed_or_open_and_a_missed_revocation_is_honoured_on_reconnect() {
        let mut server = RedisServer::start();
        let issuer = TestIssuer::new();
        let store = RedisStore::new(&server.url()).unwrap();
        subscribed(&store, 1).await;
        let (closed, _) = instance(&issuer, &store, OnStoreFailure::FailClosed);
        let (open, _) = instance(&issuer, &store, OnStoreFailure::FailOpen);
        let token = session_token(&issuer, "user-1", "s-1");
        assert_eq!(status(&closed, &token).await, 200);
        assert_eq!(status(&open, &token).await, 200);

        server.kill();
        unsubscribed(&store).await;
        assert_eq!(
            status(&closed, &token).await,
            503,
            "fail closed: no cached answer without events"
        );
        assert_eq!(status(&open, &token).await, 200, "fail open: served");
        let (attempt, _) = attempt(&closed, "GET", "/me", &token);
        let rendered = attempt.await.error().unwrap().to_response(ErrorStyle::Rfc6750);
        assert!(rendered.body.contains("temporarily_unavailable"));
        assert_eq!(Error::SessionStoreUnavailable.grpc_code(), 14);

        // Back on the same port, empty; a revocation written there by another
        // service, its event never heard.
        server.restart();
        server
            .cli(&["SET", "authorizer:rv:{user-1}:sid:s-1", "1", "EX", "3600"])
            .unwrap();
        subscribed(&store, 2).await;
        assert_eq!(
            status(&closed, &token).await,
            401,
            "caught up: asked again, not served from before"
        );
        assert_eq!(status(&open, &token).await, 401);
        let fresh = session_token(&issuer, "user-1", "s-2");
        assert_eq!(status(&closed, &fresh).await, 200, "recovered");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_store_that_never_answers_costs_one_timeout_then_the_breaker_answers_at_once() {
        // Accepts connections and never replies.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for connection in listener.incoming() {
                held.push(connection);
            }
        });
        let issuer = TestIssuer::new();
        let store = RedisStore::new(&url).unwrap();
        let check = SessionCheck::new(store)
            .timeout(Duration::from_millis(200))
            .circuit_breaker(2, Duration::from_secs(3600));
        let auth = Authenticator::new(issuer.verifier()).session_check(check.clone());
        let token = session_token(&issuer, "user-1", "s-1");
        for _ in 0..2 {
            let (attempt, _) = attempt(&auth, "GET", "/me", &token);
            let outcome = attempt.await; // Ends: bounded by the timeout.
            assert!(matches!(outcome.error(), Some(Error::SessionStoreUnavailable)));
        }
        assert!(check.store_failing());
        let (attempt, _) = attempt(&auth, "GET", "/me", &token);
        let Attempt::Ready(outcome) = attempt else {
            panic!("an open breaker asks nobody: decided without waiting");
        };
        assert!(matches!(outcome.error(), Some(Error::SessionStoreUnavailable)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_frozen_store_times_out_and_the_probe_closes_the_breaker_when_it_answers_again() {
        let server = RedisServer::start();
        let issuer = TestIssuer::new();
        let store = RedisStore::new(&server.url()).unwrap();
        subscribed(&store, 1).await;
        let check = SessionCheck::new(store)
            .recheck_interval(Duration::ZERO)
            .timeout(Duration::from_millis(200))
            .circuit_breaker(1, Duration::ZERO);
        let auth = Authenticator::new(issuer.verifier()).session_check(check.clone());
        let token = session_token(&issuer, "user-1", "s-1");
        assert_eq!(status(&auth, &token).await, 200);
        server.freeze();
        assert_eq!(status(&auth, &token).await, 503);
        assert!(check.store_failing());
        server.thaw();
        // The next request probes; the store answers (its connection
        // may need one more try after the timeout), and the breaker closes.
        while status(&auth, &token).await != 200 {}
        assert!(!check.store_failing());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_garbage_value_is_a_failing_store_never_not_revoked() {
        let server = RedisServer::start();
        let issuer = TestIssuer::new();
        let store = RedisStore::new(&server.url()).unwrap();
        subscribed(&store, 1).await;
        let (closed, _) = instance(&issuer, &store, OnStoreFailure::FailClosed);
        server
            .cli(&["SET", "authorizer:rv:{user-1}:before", "yesterday"])
            .unwrap();
        let token = session_token(&issuer, "user-1", "s-1");
        assert_eq!(status(&closed, &token).await, 503);
        let other = session_token(&issuer, "user-2", "s-1");
        assert_eq!(status(&closed, &other).await, 200, "another subject's keys");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hostile_identifiers_address_only_their_own_key_and_entries_expire_with_their_tokens() {
        let server = RedisServer::start();
        let store = RedisStore::new(&server.url()).unwrap();
        subscribed(&store, 1).await;
        let revoker = SessionCheck::new(store.clone()).revoker();
        let long = "x".repeat(10 * 1024);
        let hostile = [
            "a}:jti:b",
            "*",
            "\r\n*1\r\n$8\r\nFLUSHALL\r\n",
            "{user-1}",
            long.as_str(),
            "é\u{0}",
        ];
        let exp = SystemTime::now() + Duration::from_secs(120);
        for id in hostile {
            revoker.revoke_token(id, id, exp).await.unwrap();
            revoker.revoke_session(id, id).await.unwrap();
        }
        let keys = server.cli(&["DBSIZE"]).unwrap();
        assert_eq!(
            keys.trim(),
            (hostile.len() * 2).to_string(),
            "one key each, nothing flushed"
        );
        let lookup = |subject: &str, jti: &str| authorizer::session::Lookup {
            subject: subject.into(),
            jti: Some(jti.into()),
            session: None,
        };
        assert!(
            store
                .lookup(&lookup("a}:jti:b", "a}:jti:b"))
                .await
                .unwrap()
                .token_revoked
        );
        assert!(
            !store
                .lookup(&lookup("a", "b}:jti:a}:jti:b"))
                .await
                .unwrap()
                .token_revoked
        );
        assert!(!store.lookup(&lookup("user-1", "*")).await.unwrap().token_revoked);

        // A token's entry goes when the token expires; a session's after the
        // longest token lifetime (24 h by default).
        let ttl = |key: &str| -> i64 { server.cli(&["TTL", key]).unwrap().trim().parse().unwrap() };
        assert!((1..=120).contains(&ttl("authorizer:rv:{%2A}:jti:%2A")));
        assert!((86_000..=86_400).contains(&ttl("authorizer:rv:{%2A}:sid:%2A")));
        revoker.revoke_issued_until("carol", SystemTime::now()).await.unwrap();
        assert!((86_000..=86_400).contains(&ttl("authorizer:rv:{carol}:before")));
    }

    #[test]
    fn bad_urls_and_no_runtime_are_errors_not_panics() {
        assert!(RedisStore::new("redis://127.0.0.1:6379").is_err(), "no Tokio runtime");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            assert!(RedisStore::new("not a url").is_err());
            assert!(
                RedisStore::new("rediss://127.0.0.1:6379").is_err(),
                "no TLS in this build"
            );
            assert!(RedisStore::cluster(Vec::<String>::new()).is_err());
        });
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn first_use_is_the_replay_primitive_on_redis() {
        let server = RedisServer::start();
        let store = RedisStore::new(&server.url()).unwrap();
        let minute = Duration::from_secs(60);
        assert!(store.first_use("proof-1", minute).await.unwrap());
        assert!(!store.first_use("proof-1", minute).await.unwrap());
        assert!(store.first_use("{proof-1}", minute).await.unwrap(), "another key");
        let ttl: i64 = server
            .cli(&["PTTL", "authorizer:once:{proof-1}"])
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!((1..=60_000).contains(&ttl));
        assert!(store.first_use("brief", Duration::from_millis(1)).await.unwrap());
        while server.cli(&["EXISTS", "authorizer:once:{brief}"]).unwrap().trim() != "0" {}
        assert!(
            store.first_use("brief", minute).await.unwrap(),
            "seen again after its ttl"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_three_node_cluster_keeps_a_subject_in_one_slot_and_shares_revocations() {
        let cluster = RedisCluster::start();
        let issuer = TestIssuer::new();
        let (one, two) = (
            RedisStore::cluster(cluster.urls()).unwrap(),
            RedisStore::cluster(cluster.urls()).unwrap(),
        );
        subscribed(&one, 1).await;
        subscribed(&two, 1).await;
        let (auth_one, check_one) = instance(&issuer, &one, OnStoreFailure::FailClosed);
        let (auth_two, _) = instance(&issuer, &two, OnStoreFailure::FailClosed);
        let subjects: Vec<String> = (0..12).map(|i| format!("user-{i}")).collect();
        let slots: std::collections::BTreeSet<u16> = subjects
            .iter()
            .map(|s| cluster.slot(&format!("authorizer:rv:{{{s}}}:before")))
            .collect();
        assert!(slots.len() > 1, "the subjects spread over the cluster");
        let tokens: Vec<String> = subjects.iter().map(|s| session_token(&issuer, s, "s")).collect();
        for token in &tokens {
            // The cluster connection comes up in the background: wait for it.
            while status(&auth_two, token).await == 503 {}
            assert_eq!(status(&auth_two, token).await, 200);
        }
        let revoker = check_one.revoker();
        for (subject, token) in subjects.iter().zip(&tokens) {
            let slot = cluster.slot(&format!("authorizer:rv:{{{subject}}}:before"));
            assert_eq!(cluster.slot(&format!("authorizer:rv:{{{subject}}}:sid:s")), slot);
            assert_eq!(cluster.slot(&format!("authorizer:rv:{{{subject}}}:jti:jti-s")), slot);
            while status(&auth_one, token).await == 503 {}
            revoker.revoke_session(subject, "s").await.unwrap();
        }
        events(&two, subjects.len() as u64).await;
        for token in &tokens {
            assert_eq!(status(&auth_two, token).await, 401);
        }
        let now = SystemTime::now();
        revoker.revoke_issued_until("user-0", now).await.unwrap();
        assert!(one.first_use("proof", Duration::from_secs(60)).await.unwrap());
        assert!(!two.first_use("proof", Duration::from_secs(60)).await.unwrap());
        assert_eq!(cluster.nodes().len(), 3);
    }
}

/// `POST /logout` of the demo servers (the quickstart's routes on axum, the
/// actix example's), over HTTP on 127.0.0.1.
#[cfg(all(feature = "actix-web", feature = "axum"))]
mod demo {
    use super::*;
    use crate::common::{client, demo_app, serve};
    use crate::parity::serve_actix;

    async fn call(base: &str, method: reqwest::Method, path: &str, token: Option<&str>) -> u16 {
        let mut request = client().request(method, format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().status().as_u16()
    }

    #[tokio::test]
    async fn logout_revokes_the_session_on_axum_and_actix_alike() {
        let issuer = TestIssuer::new();
        let auth = Authenticator::new(issuer.verifier()).session_check(SessionCheck::new(MemoryStore::new()));
        let axum = serve(demo_app(auth.clone())).await;
        let (actix, handle) = serve_actix(auth).await;
        let post = reqwest::Method::POST;
        let get = reqwest::Method::GET;
        for (first, second) in [(&axum, &actix), (&actix, &axum)] {
            let token = session_token(&issuer, "user-1", &format!("s-{first}"));
            assert_eq!(call(first, get.clone(), "/me", Some(&token)).await, 200);
            assert_eq!(
                call(first, post.clone(), "/logout", None).await,
                401,
                "a session is required"
            );
            assert_eq!(call(first, post.clone(), "/logout", Some(&token)).await, 204);
            assert_eq!(call(first, get.clone(), "/me", Some(&token)).await, 401);
            assert_eq!(
                call(second, get.clone(), "/me", Some(&token)).await,
                401,
                "the same store"
            );
            let bare = issuer.token().sign();
            assert_eq!(
                call(first, post.clone(), "/logout", Some(&bare)).await,
                400,
                "nothing to revoke it by"
            );
        }
        handle.stop(true).await;
    }

    #[cfg(feature = "redis")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn logout_on_one_instance_is_refused_by_another_sharing_redis() {
        use crate::common::redis::RedisServer;
        use authorizer::session::RedisStore;

        let server = RedisServer::start();
        let issuer = TestIssuer::new();
        let stores = [
            RedisStore::new(&server.url()).unwrap(),
            RedisStore::new(&server.url()).unwrap(),
        ];
        for store in &stores {
            store.subscription().wait_for(|s| s.connected).await.unwrap();
        }
        let instance = |store: &RedisStore| {
            let check = SessionCheck::new(store.clone()).recheck_interval(Duration::from_secs(600));
            Authenticator::new(issuer.verifier()).session_check(check)
        };
        let one = serve(demo_app(instance(&stores[0]))).await;
        let two = serve(demo_app(instance(&stores[1]))).await;
        let token = session_token(&issuer, "user-1", "s-1");
        assert_eq!(call(&two, reqwest::Method::GET, "/me", Some(&token)).await, 200);
        assert_eq!(call(&one, reqwest::Method::POST, "/logout", Some(&token)).await, 204);
        stores[1].subscription().wait_for(|s| s.events >= 1).await.unwrap();
        assert_eq!(call(&two, reqwest::Method::GET, "/me", Some(&token)).await, 401);
    }
}

/// On a tonic server behind `AuthLayer`: a revoked token is `UNAUTHENTICATED`
/// (16), a session store that cannot answer under fail closed `UNAVAILABLE` (14).
#[cfg(all(feature = "axum", feature = "redis"))]
mod grpc {
    use super::*;
    use authorizer::session::RedisStore;
    use authorizer::tower::AuthLayer;
    use tonic::transport::server::TcpIncoming;
    use tonic::transport::{Channel, Server};
    use tonic::{Code, Request};
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    async fn server(auth: Authenticator) -> HealthClient<Channel> {
        let (_reporter, health) = tonic_health::server::health_reporter();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = Server::builder()
            .layer(AuthLayer::required(auth))
            .add_service(health)
            .serve_with_incoming(TcpIncoming::from(listener));
        tokio::spawn(server);
        let channel = Channel::from_shared(format!("http://{address}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        HealthClient::new(channel)
    }

    async fn code(client: &mut HealthClient<Channel>, token: &str) -> Code {
        let mut request = Request::new(HealthCheckRequest { service: String::new() });
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        match client.check(request).await {
            Ok(_) => Code::Ok,
            Err(status) => status.code(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn revoked_is_unauthenticated_and_a_dead_store_unavailable() {
        let issuer = TestIssuer::new();
        let check = SessionCheck::new(MemoryStore::new());
        let revoker = check.revoker();
        let mut client = server(Authenticator::new(issuer.verifier()).session_check(check)).await;
        let token = session_token(&issuer, "user-1", "s-1");
        assert_eq!(code(&mut client, &token).await, Code::Ok);
        revoker.revoke_session("user-1", "s-1").await.unwrap();
        assert_eq!(code(&mut client, &token).await, Code::Unauthenticated);

        // A port nothing listens on: fail closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let store = RedisStore::new(&format!("redis://127.0.0.1:{port}")).unwrap();
        let check = SessionCheck::new(store).timeout(Duration::from_millis(200));
        let mut client = server(Authenticator::new(issuer.verifier()).session_check(check)).await;
        assert_eq!(code(&mut client, &token).await, Code::Unavailable);
    }
}
