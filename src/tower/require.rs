//! [`RequireLayer`]: a route's requirement as a tower layer.

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
use crate::pipeline::Authentication;
use crate::require::Requirement;

/// A tower [`Layer`] that lets a request through only when its
/// [`Principal`](crate::Principal) meets a [`Requirement`].
///
/// It reads what [`AuthLayer`](super::AuthLayer) recorded, so it goes *inside*
/// it (in axum: `route_layer` on the route, `layer(AuthLayer)` on the router).
/// It answers 403 with every failed check when the requirement fails, 401 when
/// the request is anonymous (an optional `AuthLayer` let it through), and 500
/// when no `AuthLayer` ran at all (a server bug, logged). Errors are written in
/// the `AuthLayer`'s [`ErrorStyle`](crate::ErrorStyle).
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
    requirement: Arc<Requirement>,
}

impl RequireLayer {
    /// Enforces `requirement` (a [`Requirement`], or an `Arc` of one to share it).
    pub fn new(requirement: impl Into<Arc<Requirement>>) -> Self {
        RequireLayer {
            requirement: requirement.into(),
        }
    }

    /// The requirement enforced.
    pub fn requirement(&self) -> &Requirement {
        &self.requirement
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = RequireService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireService {
            inner,
            requirement: self.requirement.clone(),
        }
    }
}

/// The service made by [`RequireLayer`].
#[derive(Debug, Clone)]
pub struct RequireService<S> {
    inner: S,
    requirement: Arc<Requirement>,
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
        match Authentication::authorize(request.extensions(), &self.requirement) {
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
}
