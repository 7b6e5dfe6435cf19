//! Remote key sets and the verified-token cache, against a JWKS served on 127.0.0.1.

use std::sync::Arc;
use std::time::Duration;

use authorizer::credential::Credential;
use authorizer::testing::{NEXT_KID, TEST_AUDIENCE, TestIssuer};
use authorizer::{Error, FetchPolicy, InvalidToken, Issuer, Principal, Source, Verifier};

fn policy(cooldown_ms: u64) -> FetchPolicy {
    FetchPolicy {
        cooldown: Duration::from_millis(cooldown_ms),
        timeout: Duration::from_millis(500),
        ..FetchPolicy::default()
    }
}

fn verifier(issuer: &TestIssuer, policy: FetchPolicy) -> Verifier {
    Verifier::builder()
        .issuer(
            Issuer::jwks(issuer.issuer(), issuer.jwks_url())
                .audience(TEST_AUDIENCE)
                .fetch_policy(policy),
        )
        .build()
        .unwrap()
}

async fn verify(v: &Verifier, token: &str) -> Result<Principal, Error> {
    v.verify(Credential::new(token, Source::Bearer)).await
}

#[tokio::test]
async fn fetched_once_on_first_need_then_cached() {
    let issuer = TestIssuer::start().await;
    let v = verifier(&issuer, policy(30_000));
    assert_eq!(issuer.jwks_fetches(), 0, "nothing is fetched at build time");
    for n in 0..20 {
        verify(&v, &issuer.token().subject(&format!("u{n}")).sign())
            .await
            .unwrap();
    }
    assert_eq!(issuer.jwks_fetches(), 1);
}

#[tokio::test]
async fn keys_fetched_at_start_serve_the_first_request() {
    let issuer = TestIssuer::start().await;
    let v = verifier(&issuer, policy(30_000));
    v.fetch_keys().await.unwrap();
    assert_eq!(issuer.jwks_fetches(), 1, "fetched before any request");
    v.fetch_keys().await.unwrap();
    verify(&v, &issuer.token().sign()).await.unwrap();
    assert_eq!(
        issuer.jwks_fetches(),
        1,
        "neither a second call nor the request fetches again"
    );

    // An issuer that cannot be reached: an error to log, never a verifier that stops working.
    let down = TestIssuer::start().await;
    let unreachable = Verifier::builder()
        .issuer(Issuer::jwks(down.issuer(), "http://127.0.0.1:9/jwks.json").audience(TEST_AUDIENCE))
        .issuer(Issuer::jwks(issuer.issuer(), issuer.jwks_url()).audience(TEST_AUDIENCE))
        .build()
        .unwrap();
    assert!(matches!(unreachable.fetch_keys().await, Err(Error::KeysUnavailable)));
    verify(&unreachable, &issuer.token().sign())
        .await
        .expect("the reachable issuer's keys were fetched all the same");
}

#[tokio::test]
async fn concurrent_first_requests_cause_exactly_one_fetch() {
    let issuer = TestIssuer::start().await;
    issuer.set_delay(Duration::from_millis(100));
    let v = verifier(&issuer, policy(30_000));
    let tasks: Vec<_> = (0..50)
        .map(|n| {
            let v = v.clone();
            let token = issuer.token().subject(&format!("u{n}")).sign();
            tokio::spawn(async move { verify(&v, &token).await.map(|p| p.id().to_owned()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(issuer.jwks_fetches(), 1);
}

#[tokio::test]
async fn a_flood_of_unknown_kids_refetches_at_most_once_per_cooldown() {
    let issuer = TestIssuer::start().await;
    // A cool-down long enough that no machine, however loaded, gets through
    // the flood only after it has passed.
    let v = verifier(&issuer, policy(2_000));
    verify(&v, &issuer.token().sign()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_050)).await;
    let tasks: Vec<_> = (0..200)
        .map(|n| {
            let v = v.clone();
            let token = issuer.token().kid(Some(&format!("random-{n}"))).sign();
            tokio::spawn(async move { verify(&v, &token).await })
        })
        .collect();
    for task in tasks {
        assert!(matches!(
            task.await.unwrap(),
            Err(Error::InvalidToken(InvalidToken::UnknownKey))
        ));
    }
    assert_eq!(
        issuer.jwks_fetches(),
        2,
        "the first fetch, and one refetch for the whole flood"
    );
    verify(&v, &issuer.token().sign()).await.unwrap();
}

#[tokio::test]
async fn rotation_is_picked_up_by_a_refetch_on_unknown_kid() {
    let issuer = TestIssuer::start().await;
    let v = verifier(&issuer, policy(1_000));
    let rotated = issuer.token().next_key().sign();
    verify(&v, &issuer.token().sign()).await.unwrap();
    assert!(verify(&v, &rotated).await.is_err(), "not published yet");
    issuer.rotate();
    tokio::time::sleep(Duration::from_millis(1_050)).await;
    let principal = verify(&v, &rotated).await.expect("the new key is fetched");
    assert_eq!(principal.id(), "user-1");
    // The first fetch, and the refetch after rotation: the unknown kid right
    // after the first fetch fell inside the cool-down and fetched nothing.
    assert_eq!(issuer.jwks_fetches(), 2);
    assert!(NEXT_KID.starts_with("rs256"));
}

#[tokio::test]
async fn the_last_good_keys_are_served_while_the_issuer_is_down_or_broken() {
    let issuer = TestIssuer::start().await;
    let v = verifier(
        &issuer,
        FetchPolicy {
            default_ttl: Duration::from_millis(100),
            min_ttl: Duration::ZERO,
            ..policy(100)
        },
    );
    verify(&v, &issuer.token().sign()).await.unwrap();
    for broken in ["outage", "garbage", "not jwks", "empty", "huge"] {
        match broken {
            "outage" => issuer.set_outage(true),
            "garbage" => issuer.serve_jwks_body("{{{{"),
            "not jwks" => issuer.serve_jwks_body(r#"{"keys": 7}"#),
            "empty" => issuer.serve_jwks_body(r#"{"keys": [{"kty": "oct", "k": "AAAA"}]}"#),
            _ => issuer.serve_jwks_body(format!(r#"{{"keys": [], "pad": "{}"}}"#, "x".repeat(1 << 20))),
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        let before = issuer.jwks_fetches();
        verify(&v, &issuer.token().subject(broken).sign())
            .await
            .unwrap_or_else(|e| panic!("{broken}: {e}"));
        assert_eq!(
            issuer.jwks_fetches(),
            before + 1,
            "{broken}: the stale set was refetched"
        );
        issuer.set_outage(false);
        issuer.republish();
    }
}

/// A stale set is refreshed by one request, which waits on the issuer; every
/// other request whose `kid` is known goes on with the keys it has. The issuer
/// here answers only after a minute, past the 40 s fetch timeout, so had those
/// requests waited for the refetch they could not finish within 20 s.
#[tokio::test]
async fn a_slow_issuer_does_not_stall_requests_whose_keys_are_known() {
    let issuer = TestIssuer::start().await;
    let v = verifier(
        &issuer,
        FetchPolicy {
            default_ttl: Duration::from_millis(50),
            min_ttl: Duration::ZERO,
            timeout: Duration::from_secs(40),
            ..policy(100)
        },
    );
    let tokens: Vec<String> = (0..20)
        .map(|n| issuer.token().subject(&format!("u{n}")).sign())
        .collect();
    let refresher_token = issuer.token().subject("refresher").sign();
    verify(&v, &issuer.token().sign()).await.unwrap();
    let fetches = issuer.jwks_fetches();
    tokio::time::sleep(Duration::from_millis(120)).await;
    issuer.set_delay(Duration::from_secs(60));
    // One request notices the stale set and refetches, waiting on the slow issuer...
    let refresher = {
        let v = v.clone();
        tokio::spawn(async move { verify(&v, &refresher_token).await })
    };
    let refetch_started = async {
        while issuer.jwks_fetches() == fetches {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), refetch_started)
        .await
        .expect("the stale set was refetched");
    // ...while everyone else goes on with the keys they have.
    let others = async {
        for token in &tokens {
            verify(&v, token).await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(20), others)
        .await
        .expect("known-kid requests waited for the refetch");
    assert!(!refresher.is_finished(), "the refetch is still in flight");
    assert_eq!(issuer.jwks_fetches(), fetches + 1, "one refetch, by one request");
    refresher.abort();
}

#[tokio::test]
async fn nothing_cached_and_issuer_down_is_keys_unavailable_without_a_fetch_per_request() {
    let issuer = TestIssuer::start().await;
    issuer.set_outage(true);
    let v = verifier(&issuer, policy(30_000));
    for _ in 0..10 {
        assert!(matches!(
            verify(&v, &issuer.token().sign()).await,
            Err(Error::KeysUnavailable)
        ));
    }
    assert_eq!(issuer.jwks_fetches(), 1);
}

#[tokio::test]
async fn discovery_finds_the_jwks() {
    let issuer = TestIssuer::start().await;
    let v = Verifier::builder()
        .issuer(Issuer::discover(issuer.issuer()).audience(TEST_AUDIENCE))
        .build()
        .unwrap();
    verify(&v, &issuer.token().sign()).await.unwrap();
    verify(&v, &issuer.token().subject("again").sign()).await.unwrap();
    assert_eq!((issuer.discovery_fetches(), issuer.jwks_fetches()), (1, 1));
}

#[tokio::test]
async fn discovery_must_name_the_same_issuer() {
    let issuer = TestIssuer::start().await;
    // Configured with a trailing slash: the document names the issuer without it.
    let v = Verifier::builder()
        .issuer(Issuer::discover(format!("{}/", issuer.issuer())))
        .build()
        .unwrap();
    let token = issuer
        .token()
        .claim("iss", serde_json::json!(format!("{}/", issuer.issuer())))
        .sign();
    assert!(matches!(verify(&v, &token).await, Err(Error::KeysUnavailable)));
    assert_eq!(issuer.jwks_fetches(), 0);
}

#[tokio::test]
async fn cache_control_max_age_is_honoured_within_bounds() {
    let issuer = TestIssuer::start().await;
    issuer.set_cache_control(Some("public, max-age=1"));
    let v = verifier(
        &issuer,
        FetchPolicy {
            min_ttl: Duration::from_millis(500),
            default_ttl: Duration::from_secs(3600),
            ..policy(0)
        },
    );
    verify(&v, &issuer.token().sign()).await.unwrap();
    verify(&v, &issuer.token().subject("b").sign()).await.unwrap();
    assert_eq!(issuer.jwks_fetches(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    verify(&v, &issuer.token().subject("c").sign()).await.unwrap();
    assert_eq!(issuer.jwks_fetches(), 2, "refetched after max-age");
}

#[tokio::test]
async fn a_user_supplied_http_client_is_used() {
    let issuer = TestIssuer::start().await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .user_agent("custom")
        .build()
        .unwrap();
    let v = Verifier::builder()
        .issuer(Issuer::jwks(issuer.issuer(), issuer.jwks_url()))
        .http_client(client)
        .build()
        .unwrap();
    verify(&v, &issuer.token().sign()).await.unwrap();
}

#[tokio::test]
async fn verified_tokens_are_cached_and_failures_are_not() {
    let issuer = TestIssuer::start().await;
    let cached = verifier(&issuer, policy(0));
    let uncached = Verifier::builder()
        .issuer(
            Issuer::jwks(issuer.issuer(), issuer.jwks_url())
                .audience(TEST_AUDIENCE)
                .fetch_policy(policy(0)),
        )
        .cache_capacity(0)
        .build()
        .unwrap();
    let token = issuer.token().sign();
    verify(&cached, &token).await.unwrap();
    verify(&uncached, &token).await.unwrap();
    // The issuer retires the key; an unknown kid makes both refetch.
    issuer.unpublish("rs256");
    let probe = issuer.token().kid(Some("probe")).sign();
    let _ = verify(&cached, &probe).await;
    let _ = verify(&uncached, &probe).await;
    assert!(verify(&cached, &token).await.is_ok(), "answered from the cache");
    assert!(verify(&uncached, &token).await.is_err(), "verified again, key gone");

    // A failure is not remembered: the same token passes once its key appears.
    let rotated = issuer.token().next_key().sign();
    assert!(verify(&cached, &rotated).await.is_err());
    issuer.rotate();
    assert!(verify(&cached, &rotated).await.is_ok());
}

#[tokio::test]
async fn a_cache_entry_never_outlives_the_token() {
    let issuer = TestIssuer::new();
    let v = issuer.verifier_builder().leeway(Duration::ZERO).build().unwrap();
    let token = issuer.token().expires_in(1).sign();
    verify(&v, &token).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(matches!(verify(&v, &token).await, Err(Error::Expired)));
}

#[tokio::test]
async fn several_issuers_each_with_its_own_keys_and_audience() {
    let a = TestIssuer::start().await;
    let b = TestIssuer::new();
    let v = Verifier::builder()
        .issuer(Issuer::jwks(a.issuer(), a.jwks_url()).audience(TEST_AUDIENCE))
        .issuer(Issuer::static_keys(b.issuer(), b.key_set()).audience("b-api"))
        .build()
        .unwrap();
    verify(&v, &a.token().sign()).await.unwrap();
    let b_token = b.token().claim("aud", serde_json::json!(["x", "b-api"])).sign();
    verify(&v, &b_token).await.unwrap();
    assert!(
        verify(&v, &b.token().sign()).await.is_err(),
        "b's tokens need b's audience"
    );
    let shared = Arc::new(v);
    assert!(format!("{shared:?}").contains(a.issuer()));
}
