//! The actix-web adapter on its own: middleware placement, extractors, the
//! on-demand `Authenticated` extractor, and the 500 for a missing middleware.
//! Tokens come from a `TestIssuer` whose JWKS is served on 127.0.0.1.

#![cfg(all(feature = "actix-web", feature = "testing"))]

use crate::support;

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::test::{self, TestRequest};
use actix_web::{App, HttpMessage, HttpRequest, HttpResponse, web};
use authorizer::actix::{AuthMiddleware, Authenticated, MaybePrincipal, RequireMiddleware};
use authorizer::require::supertokens::{self, EmailVerified};
use authorizer::require::{Require, scope};
use authorizer::testing::TestIssuer;
use authorizer::{Authenticator, Claims, Denied, Error, ErrorStyle, Principal, Rejection};
use serde_json::{Value, json};

/// Status, `WWW-Authenticate` and body (JSON where it parses).
async fn parts<B: MessageBody>(response: ServiceResponse<B>) -> (u16, Option<String>, Value) {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = test::read_body(response).await;
    let body = serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    (status, challenge, body)
}

macro_rules! call {
    ($app:expr, $request:expr) => {
        parts(test::call_service(&$app, $request.to_request()).await).await
    };
}

fn get(path: &str) -> TestRequest {
    TestRequest::get().uri(path)
}

fn bearer(path: &str, token: &str) -> TestRequest {
    get(path).insert_header(("authorization", format!("Bearer {token}")))
}

async fn me(principal: Principal) -> HttpResponse {
    HttpResponse::Ok().json(principal)
}

async fn id(principal: Principal) -> String {
    principal.id().to_owned()
}

fn internal_error() -> (u16, Option<String>, Value) {
    (500, None, json!({"message": "internal server error"}))
}

fn unauthorised() -> (u16, Option<String>, Value) {
    (401, Some("Bearer".to_owned()), json!({"message": "unauthorised"}))
}

/// The demo servers' own tokens: a plain user, a verified admin with scopes, an expired one.
fn tokens(issuer: &TestIssuer) -> support::DemoTokens {
    support::demo_tokens(issuer)
}

#[actix_web::test]
async fn without_middleware_extractors_answer_500() {
    let app = test::init_service(
        App::new()
            .route("/principal", web::get().to(id))
            .route(
                "/maybe",
                web::get().to(|MaybePrincipal(p): MaybePrincipal| async move { format!("{p:?}") }),
            )
            .route(
                "/claims",
                web::get().to(|Claims(c): Claims<Value>| async move { c.to_string() }),
            )
            .route(
                "/require",
                web::get().to(|p: Require<EmailVerified>| async move { p.id().to_owned() }),
            )
            .route(
                "/authenticated",
                web::get().to(|Authenticated(p): Authenticated| async move { p.id().to_owned() }),
            )
            .service(
                web::resource("/authorize")
                    .wrap(RequireMiddleware::new(scope("read")))
                    .get(|| async { "reached" }),
            )
            .route(
                "/option",
                web::get()
                    .to(|p: Option<Principal>| async move { if p.is_some() { "signed in" } else { "anonymous" } }),
            ),
    )
    .await;
    for path in [
        "/principal",
        "/maybe",
        "/claims",
        "/require",
        "/authenticated",
        "/authorize",
    ] {
        assert_eq!(call!(app, get(path)), internal_error(), "{path}");
    }
    // actix-web's `Option<T>` turns every extractor error into `None` (the
    // missing middleware is still logged); `MaybePrincipal` keeps the 500.
    assert_eq!(call!(app, get("/option")).2, json!("anonymous"));
}

#[actix_web::test]
async fn required_and_optional_middleware() {
    let issuer = TestIssuer::start().await;
    let t = tokens(&issuer);
    let auth = Authenticator::new(issuer.verifier());
    let app = test::init_service(
        App::new()
            .service(
                web::resource("/me")
                    .wrap(AuthMiddleware::required(auth.clone()))
                    .get(me),
            )
            .service(
                web::scope("/open")
                    .wrap(AuthMiddleware::optional(auth))
                    .route(
                        "/option",
                        web::get().to(|p: Option<Principal>| async move {
                            p.map_or_else(|| "anonymous".to_owned(), |p| p.id().to_owned())
                        }),
                    )
                    .route(
                        "/maybe",
                        web::get().to(|MaybePrincipal(p): MaybePrincipal| async move {
                            p.map_or_else(|| "anonymous".to_owned(), |p| p.id().to_owned())
                        }),
                    )
                    .route("/principal", web::get().to(id)),
            ),
    )
    .await;

    assert_eq!(call!(app, get("/me")), unauthorised());
    let (status, _, body) = call!(app, bearer("/me", &t.user));
    assert_eq!(
        (status, &body["id"], &body["source"]),
        (200, &json!("user-1"), &json!("bearer"))
    );
    let (status, challenge, body) = call!(app, bearer("/me", &t.expired));
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("expired"));
    assert_eq!(body, json!({"message": "try refresh token"}));

    for path in ["/open/option", "/open/maybe"] {
        assert_eq!(call!(app, get(path)).2, json!("anonymous"), "{path}");
        assert_eq!(call!(app, bearer(path, &t.user)).2, json!("user-1"), "{path}");
        // A bad credential is refused even on an optional route.
        assert_eq!(call!(app, bearer(path, "not-a-jwt")).0, 401, "{path}");
    }
    assert_eq!(call!(app, get("/open/principal")), unauthorised());
    assert_eq!(call!(app, bearer("/open/principal", &t.admin)).2, json!("admin-1"));
}

#[actix_web::test]
async fn cookies_follow_the_csrf_rule() {
    let issuer = TestIssuer::start().await;
    let t = tokens(&issuer);
    let auth = Authenticator::new(issuer.verifier())
        .credentials(authorizer::credential::Credentials::default().allowed_origins(["https://app.example.com"]));
    let app = test::init_service(
        App::new().service(
            web::resource("/me")
                .wrap(AuthMiddleware::required(auth))
                .get(me)
                .post(me),
        ),
    )
    .await;
    let cookie = ("cookie", format!("sAccessToken={}", t.user));
    let post = || TestRequest::post().uri("/me").insert_header(cookie.clone());

    let (status, _, body) = call!(app, get("/me").insert_header(cookie.clone()));
    assert_eq!((status, &body["source"]), (200, &json!("cookie")));
    assert_eq!(
        call!(app, post()),
        (403, None, json!({"message": "anti-csrf check failed"}))
    );
    assert_eq!(call!(app, post().insert_header(("rid", "session"))).0, 200);
    assert_eq!(
        call!(app, post().insert_header(("origin", "https://app.example.com"))).0,
        200
    );
    assert_eq!(
        call!(app, post().insert_header(("origin", "https://evil.example.com"))).0,
        403
    );
    let header_credential = TestRequest::post()
        .uri("/me")
        .insert_header(("st-access-token", t.user.as_str()));
    assert_eq!(call!(app, header_credential).2["source"], "header");
    let two_cookies = get("/me")
        .append_header(cookie.clone())
        .append_header(("cookie", format!("sAccessToken={}", t.admin)));
    assert_eq!(call!(app, two_cookies).0, 401);
}

#[actix_web::test]
async fn authorize_on_scopes_resources_and_routes() {
    let issuer = TestIssuer::start().await;
    let t = tokens(&issuer);
    let auth = Authenticator::new(issuer.verifier()).error_style(ErrorStyle::Rfc6750);
    let app = test::init_service(
        App::new()
            // Auth on the same scope: wrapped after Authorize, so it runs first.
            .service(
                web::scope("/admin")
                    .wrap(RequireMiddleware::new(supertokens::has_role("admin")))
                    .wrap(AuthMiddleware::required(auth.clone()))
                    .route("/settings", web::get().to(id)),
            )
            // Auth on an enclosing scope.
            .service(
                web::scope("/api")
                    .wrap(AuthMiddleware::optional(auth))
                    .service(
                        web::resource("/items")
                            .wrap(RequireMiddleware::new(scope("read:items")))
                            .get(id),
                    )
                    .route(
                        "/verified",
                        web::get()
                            .to(id)
                            .wrap(RequireMiddleware::new(supertokens::email_verified())),
                    ),
            ),
    )
    .await;

    assert_eq!(call!(app, bearer("/admin/settings", &t.admin)).2, json!("admin-1"));
    let (status, challenge, body) = call!(app, bearer("/admin/settings", &t.user));
    assert_eq!((status, challenge), (403, None));
    assert_eq!(
        body,
        json!({
            "error": "forbidden",
            "error_description": "the credential does not meet this route's requirements",
            "claim_errors": [{"id": "st-role", "reason": {"message": "wrong value", "expectedValue": "admin", "actualValue": ["user"]}}],
        })
    );
    assert_eq!(call!(app, get("/admin/settings")).0, 401);

    assert_eq!(call!(app, bearer("/api/items", &t.admin)).2, json!("admin-1"));
    let (status, challenge, body) = call!(app, bearer("/api/items", &t.user));
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="insufficient_scope", scope="read:items""#)
    );
    assert_eq!(body["error"], "insufficient_scope");
    // Anonymous through the optional Auth: 401, not 403.
    let (status, challenge, body) = call!(app, get("/api/items"));
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")));
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": "authentication required"})
    );

    assert_eq!(call!(app, bearer("/api/verified", &t.admin)).0, 200);
    assert_eq!(call!(app, bearer("/api/verified", &t.user)).0, 403);
}

#[derive(serde::Deserialize)]
struct Session {
    sub: String,
    #[serde(rename = "st-role")]
    roles: RoleClaim,
}

#[derive(serde::Deserialize)]
struct RoleClaim {
    v: Vec<String>,
}

#[actix_web::test]
async fn claims_and_require_extractors() {
    let issuer = TestIssuer::start().await;
    let t = tokens(&issuer);
    let auth = Authenticator::new(issuer.verifier()).error_style(ErrorStyle::Rfc6750);
    let app = test::init_service(
        App::new().service(
            web::scope("")
                .wrap(AuthMiddleware::optional(auth))
                .route(
                    "/claims",
                    web::get()
                        .to(|Claims(s): Claims<Session>| async move { format!("{} {}", s.sub, s.roles.v.join(",")) }),
                )
                .route(
                    "/verified",
                    web::get().to(|p: Require<EmailVerified>| async move { p.into_principal().id().to_owned() }),
                ),
        ),
    )
    .await;

    assert_eq!(call!(app, bearer("/claims", &t.user)).2, json!("user-1 user"));
    // Claims that do not fit the type: an invalid token, in the middleware's style.
    let no_roles = issuer.token().sign();
    let (status, challenge, body) = call!(app, bearer("/claims", &no_roles));
    assert_eq!(status, 401);
    assert!(challenge.unwrap().starts_with(r#"Bearer error="invalid_token""#));
    assert_eq!(body["error"], "invalid_token");
    assert_eq!(call!(app, get("/claims")).0, 401);

    assert_eq!(call!(app, bearer("/verified", &t.admin)).2, json!("admin-1"));
    let (status, _, body) = call!(app, bearer("/verified", &t.user));
    assert_eq!(status, 403);
    assert_eq!(
        body["claim_errors"],
        json!([{"id": "st-ev", "reason": {"message": "wrong value", "expectedValue": true, "actualValue": false}}])
    );
    assert_eq!(call!(app, get("/verified")).0, 401);
}

#[actix_web::test]
async fn authenticated_verifies_on_demand() {
    let issuer = TestIssuer::start().await;
    let t = tokens(&issuer);
    let auth = Authenticator::new(issuer.verifier());
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(auth))
            .route(
                "/me",
                web::get().to(|Authenticated(p): Authenticated, request: HttpRequest| async move {
                    // Recorded for later readers, as the middleware would have.
                    let recorded = request.extensions().get::<Principal>() == Some(&p);
                    format!("{} {recorded}", p.id())
                }),
            )
            .route(
                "/me",
                web::post().to(|p: Authenticated| async move { p.id().to_owned() }),
            )
            .route("/health", web::get().to(|| async { "ok" })),
    )
    .await;

    assert_eq!(call!(app, get("/health")).2, json!("ok"));
    assert_eq!(call!(app, get("/me")), unauthorised());
    assert_eq!(call!(app, bearer("/me", &t.user)).2, json!("user-1 true"));
    assert_eq!(call!(app, bearer("/me", &t.user)).2, json!("user-1 true"));
    assert_eq!(issuer.jwks_fetches(), 1, "the second request is a cache hit");
    assert_eq!(
        call!(app, bearer("/me", &t.expired)).2,
        json!({"message": "try refresh token"})
    );
    let cookie = ("cookie", format!("sAccessToken={}", t.user));
    let post = || TestRequest::post().uri("/me").insert_header(cookie.clone());
    assert_eq!(call!(app, post()).0, 403);
    assert_eq!(call!(app, post().insert_header(("rid", "x"))).2, json!("user-1"));
}

/// `Authenticated` records that it ran before it decides: other extractors of
/// the same handler (actix-web starts them together) read an anonymous caller,
/// never "no middleware ran", and a second `Authenticated` verifies nothing
/// again. A cached token is decided at once, so all of them see it.
#[actix_web::test]
async fn a_refusal_by_authenticated_is_recorded_for_other_extractors() {
    let issuer = TestIssuer::start().await;
    let t = tokens(&issuer);
    let app =
        test::init_service(
            App::new()
                .app_data(web::Data::new(Authenticator::new(issuer.verifier())))
                .route(
                    "/maybe",
                    web::get().to(
                        |first: Option<Authenticated>,
                         again: Option<Authenticated>,
                         MaybePrincipal(p): MaybePrincipal| async move {
                            let ids = [
                                first.map(|a| a.id().to_owned()),
                                again.map(|a| a.id().to_owned()),
                                p.map(|p| p.id().to_owned()),
                            ];
                            format!("{ids:?}")
                        },
                    ),
                ),
        )
        .await;
    assert_eq!(call!(app, get("/maybe")).2, json!("[None, None, None]"));
    assert_eq!(
        call!(app, bearer("/maybe", "not.a.token")).2,
        json!("[None, None, None]")
    );
    // The first request for a token verifies it while the other extractors
    // already started; once cached, every extractor sees the principal.
    assert_eq!(
        call!(app, bearer("/maybe", &t.user)).2,
        json!(r#"[Some("user-1"), None, None]"#)
    );
    assert_eq!(
        call!(app, bearer("/maybe", &t.user)).2,
        json!(r#"[Some("user-1"), Some("user-1"), Some("user-1")]"#)
    );
    assert_eq!(issuer.jwks_fetches(), 1);
}

#[actix_web::test]
async fn authenticated_reads_a_plain_authenticator_and_defers_to_middleware() {
    let issuer = TestIssuer::start().await;
    let t = tokens(&issuer);
    let plain = Authenticator::new(issuer.verifier()).error_style(ErrorStyle::Rfc6750);
    let handler = |p: Authenticated| async move { p.id().to_owned() };
    let app = test::init_service(
        App::new()
            .app_data(plain.clone())
            .route("/plain", web::get().to(handler))
            .service(
                web::scope("/open")
                    .wrap(AuthMiddleware::optional(Authenticator::new(issuer.verifier())))
                    .route("/me", web::get().to(handler)),
            ),
    )
    .await;
    assert_eq!(call!(app, bearer("/plain", &t.admin)).2, json!("admin-1"));
    assert_eq!(call!(app, get("/plain")).2["error"], "invalid_request");
    // The optional middleware ran: its outcome and its style (SuperTokens) count.
    assert_eq!(call!(app, get("/open/me")), unauthorised());
    assert_eq!(call!(app, bearer("/open/me", &t.user)).2, json!("user-1"));
}

#[actix_web::test]
async fn rejection_is_a_response_error() {
    let app = test::init_service(App::new().route(
        "/deny",
        web::get().to(|| async {
            let denied = Denied {
                errors: vec![],
                missing_scopes: vec!["write:items".to_owned()],
                step_up: None,
            };
            Err::<String, _>(Rejection::new(Error::Forbidden(denied), ErrorStyle::Rfc6750))
        }),
    ))
    .await;
    let (status, challenge, body) = call!(app, get("/deny"));
    assert_eq!(status, 403);
    assert_eq!(
        challenge.as_deref(),
        Some(r#"Bearer error="insufficient_scope", scope="write:items""#)
    );
    assert_eq!(body["scope"], "write:items");
}

#[actix_web::test]
async fn keys_unavailable_is_503() {
    let issuer = TestIssuer::start().await;
    issuer.set_outage(true);
    let app = test::init_service(
        App::new()
            .service(
                web::resource("/me")
                    .wrap(AuthMiddleware::required(Authenticator::new(issuer.verifier())))
                    .get(me),
            )
            .app_data(web::Data::new(Authenticator::new(issuer.verifier())))
            .route(
                "/on-demand",
                web::get().to(|p: Authenticated| async move { p.id().to_owned() }),
            ),
    )
    .await;
    let token = issuer.token().sign();
    for path in ["/me", "/on-demand"] {
        assert_eq!(
            call!(app, bearer(path, &token)),
            (503, None, json!({"message": "service unavailable"})),
            "{path}"
        );
    }
}

// --- allocations on the hot path ---------------------------------------------

mod allocations {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Counts allocations made by the current thread.
    struct Counting;

    thread_local! {
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;

    /// Allocations made while `start` makes a future and it runs to
    /// completion without waiting (a cache hit never waits), not counting
    /// dropping its output.
    pub fn count<F: Future>(start: impl FnOnce() -> F) -> u64 {
        let before = ALLOCATIONS.with(Cell::get);
        let mut future = pin!(start());
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(output) = future.as_mut().poll(&mut cx) else {
            panic!("a cache hit must not wait");
        };
        let after = ALLOCATIONS.with(Cell::get);
        drop(output);
        after - before
    }
}

/// A cache hit through `AuthMiddleware` allocates no more than one through the tower
/// `AuthLayer`: both only box the two request extensions (the marker and the
/// principal) and grow the extension map. Measured as the difference to the
/// bare inner service, the least of several runs.
#[actix_web::test]
async fn a_cache_hit_allocates_no_more_than_the_tower_layer() {
    use actix_web::dev::{Service, ServiceRequest, Transform, fn_service};
    use authorizer::tower::AuthLayer;
    use tower::{Layer, Service as _};

    let issuer = TestIssuer::new();
    let auth = Authenticator::new(issuer.verifier());
    let token = format!("Bearer {}", issuer.token().sign());
    let mut headers = http::HeaderMap::new();
    headers.insert("authorization", token.parse().unwrap());
    let parts = authorizer::pipeline::RequestParts::new("GET", "/", &headers);
    let outcome = auth.authenticate(&parts, authorizer::pipeline::Mode::Required).await;
    assert!(outcome.principal().is_some());

    let least = |mut run: Box<dyn FnMut() -> u64 + '_>| (0..8).map(|_| run()).min().unwrap();

    // actix-web
    let inner = || {
        fn_service(|request: ServiceRequest| async move {
            Ok::<_, actix_web::Error>(request.into_response(HttpResponse::NoContent().finish()))
        })
    };
    let bare = inner();
    let wrapped = AuthMiddleware::required(auth.clone())
        .new_transform(inner())
        .await
        .unwrap();
    let request = || {
        TestRequest::get()
            .uri("/me")
            .insert_header(("authorization", token.as_str()))
            .to_srv_request()
    };
    let actix_bare = least(Box::new(|| {
        let r = request();
        allocations::count(|| bare.call(r))
    }));
    let actix_wrapped = least(Box::new(|| {
        let r = request();
        allocations::count(|| wrapped.call(r))
    }));
    let response = wrapped.call(request()).await.unwrap();
    assert_eq!(response.status(), 204, "the cache hit reached the handler");

    // tower
    let inner = || {
        tower::service_fn(|_: http::Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        })
    };
    let mut bare = inner();
    let mut wrapped = AuthLayer::required(auth).layer(inner());
    let request = || {
        http::Request::get("/me")
            .header("authorization", token.as_str())
            .body(String::new())
            .unwrap()
    };
    let tower_bare = least(Box::new(|| {
        let r = request();
        allocations::count(|| bare.call(r))
    }));
    let tower_wrapped = least(Box::new(|| {
        let r = request();
        allocations::count(|| wrapped.call(r))
    }));

    let actix_cost = actix_wrapped - actix_bare;
    let tower_cost = tower_wrapped - tower_bare;
    assert!(
        actix_cost <= tower_cost,
        "a cache hit costs {actix_cost} allocations through AuthMiddleware, {tower_cost} through AuthLayer"
    );
    println!(
        "allocations per cache hit: actix Auth {actix_cost}, tower AuthLayer {tower_cost} ({actix_bare} {actix_wrapped} {tower_bare} {tower_wrapped})"
    );
}
