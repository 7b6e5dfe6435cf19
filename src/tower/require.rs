//! [`RequireLayer`]: a route's requirement, or a route table, as a tower layer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::body::ResponseBody;
use super::rejection_response;
use crate::require::Requirement;
use crate::routes::{RouteRule, RouteTable};

/// A tower [`Layer`] that lets a request through only when its
/// [`Principal`](crate::Principal) meets a [`Requirement`], or the rule a
/// [`RouteTable`] gives its method and path.
///
/// It reads what [`AuthLayer`](super::AuthLayer) recorded, so it goes *inside*
/// it (in axum: `route_layer` on the route, `layer(AuthLayer)` on the router).
/// It answers 403 with every failed check when the requirement fails, 401 when
/// the request is anonymous (an optional `AuthLayer` let it through), and 500
/// when no `AuthLayer` ran at all (a server bug, logged). Errors are written in
/// the `AuthLayer`'s [`ErrorStyle`](crate::ErrorStyle), and as gRPC statuses
/// for gRPC requests (7 `PERMISSION_DENIED` for a failed requirement).
///
/// ```
/// use authorizer::require::{scope, supertokens};
/// use authorizer::tower::{AuthLayer, RequireLayer};
/// use authorizer::{Issuer, Verifier};
/// use axum::{Router, routing::get};
///
/// # fn app() -> Result<Router, authorizer::ConfigError> {
/// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// let app = Router::new()
///     .route("/admin", get(|| async { "hello, admin" }))
///     .route_layer(RequireLayer::new(supertokens::has_role("admin")))
///     .route("/items", get(|| async { "items" }).route_layer(RequireLayer::new(scope("read:items"))))
///     .layer(AuthLayer::required(verifier));
/// # Ok(app) }
/// ```
#[derive(Debug, Clone)]
pub struct RequireLayer {
    routes: Arc<RouteTable>,
}

impl RequireLayer {
    /// Enforces `requirement` (a [`Requirement`], or an `Arc` of one to share
    /// it) on every request.
    pub fn new(requirement: impl Into<Arc<Requirement>>) -> Self {
        RequireLayer::routes(RouteTable::new().fallback(RouteRule::require(requirement)))
    }

    /// Enforces on each request the rule `routes` gives its method and path,
    /// the decision of [`RouteTable::authorize`]: an optional route passes
    /// anonymous callers, a session route needs a principal (401 without), a
    /// requirement is met or refused (403), a denied route is refused (403).
    /// The Lambda authorizer decides the same for the same table.
    ///
    /// The path is the request's as it was sent, without the query and
    /// undecoded: the path axum and tonic route on (inside an axum `nest`,
    /// the path below its prefix).
    ///
    /// One layer then guards a whole server, as a tonic server's layers do
    /// (gRPC methods are `POST /package.Service/Method`). For optional routes
    /// to reach anonymous callers, the [`AuthLayer`](super::AuthLayer) in
    /// front must be [optional](super::AuthLayer::optional): a required one
    /// refuses them before the table is read.
    ///
    /// ```
    /// use authorizer::require::scope;
    /// use authorizer::routes::{RouteRule, RouteTable};
    /// use authorizer::tower::{AuthLayer, RequireLayer};
    /// use authorizer::{Issuer, Principal, Verifier};
    /// use axum::{Router, routing::get};
    ///
    /// # fn app() -> Result<Router, Box<dyn std::error::Error>> {
    /// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
    /// let routes = RouteTable::new()
    ///     .route("GET /public", RouteRule::optional())?
    ///     .route("GET /items/{id}", RouteRule::require(scope("read:items")))?
    ///     .fallback(RouteRule::deny());
    /// let app = Router::new()
    ///     .route("/public", get(|p: Option<Principal>| async move { format!("{:?}", p.map(|p| p.id().to_owned())) }))
    ///     .route("/items/{id}", get(|| async { "an item" }))
    ///     .layer(RequireLayer::routes(routes))
    ///     .layer(AuthLayer::optional(verifier));
    /// # Ok(app) }
    /// ```
    pub fn routes(routes: impl Into<Arc<RouteTable>>) -> Self {
        RequireLayer { routes: routes.into() }
    }

    /// The rules enforced: for a layer made by [`new`](RequireLayer::new), a
    /// table without routes whose fallback is the requirement.
    pub fn route_table(&self) -> &RouteTable {
        &self.routes
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = RequireService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireService {
            inner,
            routes: Arc::clone(&self.routes),
        }
    }
}

/// The service made by [`RequireLayer`].
#[derive(Debug, Clone)]
pub struct RequireService<S> {
    inner: S,
    routes: Arc<RouteTable>,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = RequireFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let verdict = self
            .routes
            .authorize(request.extensions(), request.method().as_str(), request.uri().path());
        match verdict {
            Ok(_) => RequireFuture::calling(self.inner.call(request)),
            Err(rejection) => RequireFuture::rejected(rejection_response(&rejection, &request)),
        }
    }
}

pin_project! {
    /// The future of [`RequireService`]: the inner service's, or a ready rejection.
    pub struct RequireFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Calling {
            #[pin]
            future: F,
        },
        Rejected {
            response: Option<Response<bytes::Bytes>>,
        },
    }
}

impl<F> RequireFuture<F> {
    fn calling(future: F) -> Self {
        RequireFuture {
            state: State::Calling { future },
        }
    }

    fn rejected(response: Response<bytes::Bytes>) -> Self {
        RequireFuture {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<F, ResBody, E> Future for RequireFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Calling { future } => future.poll(cx).map_ok(|response| response.map(ResponseBody::inner)),
            StateProj::Rejected { response } => {
                let response = response.take().expect("RequireFuture polled after completion");
                Poll::Ready(Ok(response.map(ResponseBody::rejection)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use ::tower::{ServiceBuilder, ServiceExt};
    use http::StatusCode;
    use http::header::WWW_AUTHENTICATE;
    use serde_json::{Value, json};

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};

    use super::*;
    use crate::error::ErrorStyle;
    use crate::pipeline::Authentication;
    use crate::principal::{Principal, Source};
    use crate::require::{all, claim, scope, supertokens};

    fn principal(claims: Value, scopes: &[&str]) -> Principal {
        Principal::new("u1", Source::Bearer)
            .with_claims(claims.as_object().unwrap().clone())
            .with_scopes(scopes.iter().map(|s| s.to_string()).collect())
    }

    fn request(principal: Option<Principal>, style: Option<ErrorStyle>) -> Request<String> {
        let mut request = Request::new(String::new());
        match style {
            Some(style) => Authentication::record(request.extensions_mut(), style, principal),
            None => {
                if let Some(principal) = principal {
                    request.extensions_mut().insert(principal);
                }
            }
        }
        request
    }

    async fn call(layer: RequireLayer, request: Request<String>) -> (StatusCode, Option<String>, Value) {
        let service =
            ServiceBuilder::new()
                .layer(layer)
                .service(::tower::service_fn(|request: Request<String>| async move {
                    let id = request.extensions().get::<Principal>().unwrap().id().to_owned();
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(
                        json!({ "hello": id }).to_string(),
                    ))))
                }));
        let response = service.oneshot(request).await.unwrap();
        let status = response.status();
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&body).unwrap();
        (status, challenge, body)
    }

    #[tokio::test]
    async fn passes_to_the_inner_service() {
        let p = principal(json!({"st-ev": {"v": true}}), &[]);
        let (status, _, body) = call(
            RequireLayer::new(supertokens::email_verified()),
            request(Some(p), Some(ErrorStyle::SuperTokens)),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, json!({"hello": "u1"}));
    }

    #[tokio::test]
    async fn forbidden_in_supertokens_style() {
        let p = principal(json!({"st-ev": {"v": false}}), &[]);
        let (status, challenge, body) = call(
            RequireLayer::new(supertokens::email_verified()),
            request(Some(p), Some(ErrorStyle::SuperTokens)),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(challenge, None);
        assert_eq!(
            body,
            json!({"message":"invalid claim","claimValidationErrors":[{"id":"st-ev","reason":{"message":"wrong value","expectedValue":true,"actualValue":false}}]})
        );
    }

    #[tokio::test]
    async fn insufficient_scope_in_rfc6750_style() {
        let p = principal(json!({}), &["read:items"]);
        let layer = RequireLayer::new(all([scope("read:items"), scope("write:items")]));
        let (status, challenge, body) = call(layer, request(Some(p), Some(ErrorStyle::Rfc6750))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            challenge.as_deref(),
            Some(r#"Bearer error="insufficient_scope", scope="write:items""#)
        );
        assert_eq!(body["error"], "insufficient_scope");
        assert_eq!(body["scope"], "write:items");
        assert_eq!(
            body["claim_errors"],
            json!([{"id": "scope", "reason": {"message": "wrong value", "expectedValue": "write:items", "actualValue": ["read:items"]}}])
        );
    }

    #[tokio::test]
    async fn every_failure_is_reported() {
        let p = principal(json!({"st-ev": {"v": "yes"}, "st-role": {"v": ["user"]}}), &[]);
        let layer = RequireLayer::new(all([
            supertokens::email_verified(),
            supertokens::has_role("admin"),
            claim("org").exists(),
        ]));
        let (status, _, body) = call(layer, request(Some(p), Some(ErrorStyle::SuperTokens))).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let ids: Vec<&str> = body["claimValidationErrors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["st-ev", "st-role", "org"]);
    }

    #[tokio::test]
    async fn anonymous_is_401_not_403() {
        for style in [ErrorStyle::SuperTokens, ErrorStyle::Rfc6750] {
            let (status, challenge, body) = call(
                RequireLayer::new(supertokens::email_verified()),
                request(None, Some(style)),
            )
            .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(challenge.as_deref(), Some("Bearer"));
            let expected = match style {
                ErrorStyle::SuperTokens => json!({"message": "unauthorised"}),
                ErrorStyle::Rfc6750 => {
                    json!({"error": "invalid_request", "error_description": "authentication required"})
                }
            };
            assert_eq!(body, expected);
        }
    }

    #[tokio::test]
    async fn no_auth_layer_is_500() {
        let (status, _, body) = call(RequireLayer::new(scope("read")), request(None, None)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, json!({"message": "internal server error"}));
    }

    #[tokio::test]
    async fn works_as_an_axum_route_layer() {
        use axum::Router;
        use axum::body::{Body, to_bytes};
        use axum::routing::get;

        let app = Router::new().route("/open", get(|| async { "open" })).route(
            "/admin",
            get(|| async { "admin" }).route_layer(RequireLayer::new(supertokens::has_role("admin"))),
        );
        let send = |path: &str, p: Principal| {
            let mut request = http::Request::get(path).body(Body::empty()).unwrap();
            Authentication::record(request.extensions_mut(), ErrorStyle::SuperTokens, Some(p));
            app.clone().oneshot(request)
        };
        let user = principal(json!({"st-role": {"v": ["user"], "t": 1}}), &[]);
        let admin = principal(json!({"st-role": {"v": ["user", "admin"], "t": 1}}), &[]);
        assert_eq!(send("/open", user.clone()).await.unwrap().status(), StatusCode::OK);
        let denied = send("/admin", user).await.unwrap();
        assert_eq!(denied.status(), StatusCode::FORBIDDEN);
        let body: Value = serde_json::from_slice(&to_bytes(denied.into_body(), 1 << 16).await.unwrap()).unwrap();
        assert_eq!(
            body["claimValidationErrors"][0],
            json!({"id": "st-role", "reason": {"message": "wrong value", "expectedValue": "admin", "actualValue": ["user"]}})
        );
        assert_eq!(send("/admin", admin).await.unwrap().status(), StatusCode::OK);
    }

    /// Status (or `grpc-status`) of a request through `layer`, whose inner
    /// service answers the caller's id, or `anonymous`.
    async fn verdict(layer: &RequireLayer, request: Request<String>) -> (u16, Option<String>) {
        let service = ServiceBuilder::new().layer(layer.clone()).service(::tower::service_fn(
            |request: Request<String>| async move {
                let id = request
                    .extensions()
                    .get::<Principal>()
                    .map_or("anonymous", |p| p.id())
                    .to_owned();
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(id))))
            },
        ));
        let response = service.oneshot(request).await.unwrap();
        let status = match response.headers().get("grpc-status") {
            Some(code) => code.to_str().unwrap().parse().unwrap(),
            None => response.status().as_u16(),
        };
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let served = (status == 200).then(|| String::from_utf8(body.to_vec()).unwrap());
        (status, served)
    }

    fn to(method: &str, path: &str, who: Option<Principal>) -> Request<String> {
        let mut request = Request::builder().method(method).uri(path).body(String::new()).unwrap();
        Authentication::record(request.extensions_mut(), ErrorStyle::SuperTokens, who);
        request
    }

    #[tokio::test]
    async fn a_route_table_picks_the_rule_by_method_and_path() {
        let routes = RouteTable::new()
            .route("GET /public", RouteRule::optional())
            .unwrap()
            .route("ANY /me", RouteRule::session())
            .unwrap()
            .route("GET /items/{id}", RouteRule::require(scope("read:items")))
            .unwrap()
            .route("DELETE /items/{id}", RouteRule::deny())
            .unwrap()
            .fallback(RouteRule::deny());
        let layer = RequireLayer::routes(routes);
        let reader = || Some(principal(json!({}), &["read:items"]));
        let cases = [
            ("GET", "/public", None, (200, Some("anonymous"))),
            ("GET", "/public", reader(), (200, Some("u1"))),
            ("POST", "/me", None, (401, None)),
            ("POST", "/me", reader(), (200, Some("u1"))),
            ("GET", "/items/7", None, (401, None)),
            ("GET", "/items/7", Some(principal(json!({}), &[])), (403, None)),
            ("GET", "/items/7?x=1", reader(), (200, Some("u1"))),
            ("DELETE", "/items/7", reader(), (403, None)),
            ("GET", "/elsewhere", reader(), (403, None)),
            ("GET", "/public/", None, (403, None)),
        ];
        for (method, path, who, (status, served)) in cases {
            let answer = verdict(&layer, to(method, path, who)).await;
            assert_eq!(answer, (status, served.map(str::to_owned)), "{method} {path}");
        }
        // No AuthLayer ran: 500 even for an optional route.
        let bare = Request::get("/public").body(String::new()).unwrap();
        assert_eq!(verdict(&layer, bare).await, (500, None));
    }

    #[tokio::test]
    async fn grpc_methods_get_grpc_statuses_from_the_table() {
        let routes = RouteTable::new()
            .route(
                "POST /demo.v1.Demo/Admin",
                RouteRule::require(supertokens::has_role("admin")),
            )
            .unwrap()
            .route("ANY /grpc.health.v1.Health/{method}", RouteRule::optional())
            .unwrap();
        let layer = RequireLayer::routes(routes);
        let grpc = |path: &str, who: Option<Principal>| {
            let mut request = to("POST", path, who);
            *request.version_mut() = http::Version::HTTP_2;
            request
                .headers_mut()
                .insert(http::header::CONTENT_TYPE, "application/grpc".parse().unwrap());
            request
        };
        let user = || Some(principal(json!({"st-role": {"v": ["user"]}}), &[]));
        let admin = Some(principal(json!({"st-role": {"v": ["admin"]}}), &[]));
        assert_eq!(verdict(&layer, grpc("/demo.v1.Demo/Admin", user())).await, (7, None));
        assert_eq!(verdict(&layer, grpc("/demo.v1.Demo/Admin", None)).await, (16, None));
        let served = verdict(&layer, grpc("/demo.v1.Demo/Admin", admin)).await;
        assert_eq!(served, (200, Some("u1".to_owned())));
        let health = verdict(&layer, grpc("/grpc.health.v1.Health/Check", None)).await;
        assert_eq!(health, (200, Some("anonymous".to_owned())));
        // The default fallback: any other method needs a session.
        assert_eq!(verdict(&layer, grpc("/demo.v1.Demo/Other", None)).await, (16, None));
        assert_eq!(
            verdict(&layer, grpc("/demo.v1.Demo/Other", user())).await,
            (200, Some("u1".to_owned()))
        );
    }

    #[test]
    fn a_lone_requirement_is_a_table_of_its_fallback() {
        let layer = RequireLayer::new(scope("read"));
        assert!(layer.route_table().fallback_rule().requirement().is_some());
        assert!(layer.route_table().rule_for("GET", "/anything").requirement().is_some());
    }
}
