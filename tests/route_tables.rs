//! One route table, three enforcers: `RequireLayer::routes` behind an
//! optional `AuthLayer` (tower, on an axum router), `RequireMiddleware::routes`
//! behind an optional `AuthMiddleware` (actix-web), and the Lambda authorizer
//! (its IAM policy read as API Gateway reads it). Every request of one table
//! gets the same status from all three, and the status the table says.

#![cfg(all(feature = "lambda", feature = "actix-web", feature = "axum", feature = "testing"))]

use actix_web::test::{self as actix_test, TestRequest};
use actix_web::{App, HttpResponse, web};
use authorizer::actix::{AuthMiddleware, RequireMiddleware};
use authorizer::lambda::{AuthorizerError, LambdaAuthorizer};
use authorizer::require::{scope, supertokens};
use authorizer::routes::{RouteRule, RouteTable};
use authorizer::testing::TestIssuer;
use authorizer::tower::{AuthLayer, RequireLayer};
use authorizer::{Authenticator, ErrorStyle};
use axum::Router;
use axum::body::Body;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use crate::events::{BASE, fixture};
use crate::support;

fn table() -> RouteTable {
    RouteTable::new()
        .route("GET /public", RouteRule::optional())
        .unwrap()
        .route("ANY /me", RouteRule::session())
        .unwrap()
        .route("GET /items/{id}", RouteRule::require(scope("read:items")))
        .unwrap()
        .route("DELETE /items/{id}", RouteRule::deny())
        .unwrap()
        .route(
            "ANY /admin/{proxy+}",
            RouteRule::require(supertokens::has_role("admin")),
        )
        .unwrap()
        .route(
            "POST /authorizer.demo.v1.Demo/Admin",
            RouteRule::require(supertokens::has_role("admin")),
        )
        .unwrap()
        .fallback(RouteRule::deny())
}

struct Case {
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    status: u16,
}

fn cases(issuer: &TestIssuer) -> Vec<Case> {
    let t = support::demo_tokens(issuer);
    let bearer = |token: &str| vec![("authorization", format!("Bearer {token}"))];
    let (user, admin) = (bearer(&t.user), bearer(&t.admin));
    let case = |method, path, headers: &[(&'static str, String)], status| Case {
        method,
        path,
        headers: headers.to_vec(),
        status,
    };
    let cookie = |token: &str| ("cookie", format!("sAccessToken={token}"));
    vec![
        case("GET", "/public", &[], 200),
        case("GET", "/public", &user, 200),
        case("GET", "/public", &bearer("not.a.token"), 401),
        case("GET", "/public", &bearer(&t.expired), 401),
        case("GET", "/me", &[], 401),
        case("GET", "/me", &user, 200),
        case("POST", "/me", &user, 200),
        case("POST", "/me", &[cookie(&t.user)], 403),
        case("POST", "/me", &[cookie(&t.user), ("rid", "session".into())], 200),
        case("GET", "/items/7", &[], 401),
        case("GET", "/items/7", &user, 403),
        case("GET", "/items/7", &admin, 200),
        case("DELETE", "/items/7", &admin, 403),
        case("GET", "/items", &admin, 403),
        case("GET", "/admin/users/7", &[], 401),
        case("GET", "/admin/users/7", &user, 403),
        case("PUT", "/admin/users/7", &admin, 200),
        case("POST", "/authorizer.demo.v1.Demo/Admin", &user, 403),
        case("POST", "/authorizer.demo.v1.Demo/Admin", &admin, 200),
        case("POST", "/authorizer.demo.v1.Demo/Items", &admin, 403),
        case("GET", "/elsewhere", &[], 403),
        case("GET", "/elsewhere", &admin, 403),
    ]
}

/// What API Gateway makes of the authorizer's answer: the backend runs
/// (200), `Unauthorized` (401), `Deny` (403), an error (500).
async fn lambda_status(authorizer: &LambdaAuthorizer, case: &Case) -> u16 {
    let arn = format!("{BASE}/{}{}", case.method, case.path);
    let mut event = fixture("authorizer_request.json");
    let headers: Map<String, Value> = case.headers.iter().map(|(k, v)| ((*k).into(), json!(v))).collect();
    let multi: Map<String, Value> = case.headers.iter().map(|(k, v)| ((*k).into(), json!([v]))).collect();
    event["methodArn"] = json!(arn);
    event["httpMethod"] = json!(case.method);
    event["path"] = json!(case.path);
    event["resource"] = json!(case.path);
    event["headers"] = Value::Object(headers);
    event["multiValueHeaders"] = Value::Object(multi);
    match authorizer.handle(event).await {
        Ok(answer) if answer.allows(&arn) => 200,
        Ok(_) => 403,
        Err(AuthorizerError::Unauthorized) => 401,
        Err(_) => 500,
    }
}

async fn tower_status(app: &Router, case: &Case) -> u16 {
    let mut request = http::Request::builder().method(case.method).uri(case.path);
    for (name, value) in &case.headers {
        request = request.header(*name, value);
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    response.status().as_u16()
}

#[actix_web::test]
async fn one_table_decides_alike_on_tower_actix_and_the_lambda_authorizer() {
    let issuer = TestIssuer::new();
    for style in [ErrorStyle::SuperTokens, ErrorStyle::Rfc6750] {
        let auth = Authenticator::new(issuer.verifier()).error_style(style);
        let tower_app = Router::new()
            .fallback(|| async { "served" })
            .layer(RequireLayer::routes(table()))
            .layer(AuthLayer::optional(auth.clone()));
        let actix_app = actix_test::init_service(
            App::new()
                .default_service(web::to(|| async { HttpResponse::Ok().body("served") }))
                .wrap(RequireMiddleware::routes(table()))
                .wrap(AuthMiddleware::optional(auth.clone())),
        )
        .await;
        let authorizer = LambdaAuthorizer::new(auth, table());

        for case in cases(&issuer) {
            let mut request = TestRequest::default()
                .method(case.method.parse().unwrap())
                .uri(case.path);
            for (name, value) in &case.headers {
                request = request.insert_header((*name, value.as_str()));
            }
            let actix = actix_test::call_service(&actix_app, request.to_request())
                .await
                .status()
                .as_u16();
            let tower = tower_status(&tower_app, &case).await;
            let lambda = lambda_status(&authorizer, &case).await;
            let name = format!(
                "{} {} {:?} ({style:?})",
                case.method,
                case.path,
                case.headers.first().map(|h| h.0)
            );
            assert_eq!(
                (tower, actix, lambda),
                (case.status, case.status, case.status),
                "{name}"
            );
        }
    }
}

/// A table must judge the path the framework routes on: actix-web routes
/// `/ad%6Din/...` to `/admin/...` (it decodes what needs no encoding), so
/// the admin rule applies to it there; axum routes on the path as sent, so
/// the encoded path reaches no admin handler at all.
#[actix_web::test]
async fn a_table_judges_the_path_the_router_routes() {
    let issuer = TestIssuer::new();
    let auth = Authenticator::new(issuer.verifier());
    let user = format!("Bearer {}", support::demo_tokens(&issuer).user);
    // The fallback lets any session through: only the admin rule refuses the user.
    let routes = || {
        RouteTable::new()
            .route(
                "ANY /admin/{proxy+}",
                RouteRule::require(supertokens::has_role("admin")),
            )
            .unwrap()
    };
    let actix_app = actix_test::init_service(
        App::new()
            .route(
                "/admin/{rest:.*}",
                web::get().to(|| async { HttpResponse::Ok().body("admin") }),
            )
            .wrap(RequireMiddleware::routes(routes()))
            .wrap(AuthMiddleware::optional(auth.clone())),
    )
    .await;
    let tower_app = Router::new()
        .route("/admin/{*rest}", axum::routing::get(|| async { "admin" }))
        .layer(RequireLayer::routes(routes()))
        .layer(AuthLayer::optional(auth));
    for path in ["/admin/users", "/ad%6Din/users", "/%61dmin/users", "/admin/%75sers"] {
        let request = TestRequest::get()
            .uri(path)
            .insert_header(("authorization", user.as_str()))
            .to_request();
        let actix = actix_test::call_service(&actix_app, request).await.status().as_u16();
        assert_eq!(actix, 403, "actix-web {path}");
        let case = Case {
            method: "GET",
            path,
            headers: vec![("authorization", user.clone())],
            status: 0,
        };
        let tower = tower_status(&tower_app, &case).await;
        assert!(tower == 403 || tower == 404, "axum {path}: {tower}");
    }
}
