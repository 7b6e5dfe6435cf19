//! axum extractors: [`Principal`], `Option<Principal>`, [`Claims`] and
//! [`Require`], all reading what [`AuthLayer`](crate::tower::AuthLayer)
//! recorded through the [principal protocol](crate::pipeline::Authentication).

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::Rejection;
use crate::pipeline::Authentication;
use crate::principal::{Claims, Principal};
use crate::require::{Require, RequirementSpec};

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.to_response().into_http()
    }
}

/// Requires a principal: 401 when an optional layer let an anonymous request
/// through, 500 when no layer ran at all.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Authentication::required_principal(&parts.extensions).cloned()
    }
}

/// `Option<Principal>`: `None` for an anonymous request on an optional route;
/// still 500 when no layer ran, so a forgotten layer is not mistaken for anonymity.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Principal {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Authentication::principal(&parts.extensions).map(Option::<&Principal>::cloned)
    }
}

/// The claims deserialized into `T` (401 when they do not fit).
impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Claims<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Authentication::claims(&parts.extensions).map(Claims)
    }
}

/// The principal, when it meets `R`'s requirement: 403 with every failed
/// check, 401 without a principal, 500 when no layer ran.
impl<S: Send + Sync, R: RequirementSpec> FromRequestParts<S> for Require<R> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Authentication::authorize(&parts.extensions, R::requirement()).map(|principal| Require::new(principal.clone()))
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::routing::get;
    use http::{Request, StatusCode};
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use crate::error::ErrorStyle;
    use crate::pipeline::Authentication;
    use crate::principal::{Principal, Source};
    use crate::require::supertokens::{EmailVerified, MfaCompleted, has_role};
    use crate::require::{Require, RequirementSpec};

    crate::requirement_guard!(AdminOnly = has_role("admin"));

    fn app() -> Router {
        Router::new()
            .route(
                "/verified",
                get(|p: Require<EmailVerified>| async move { p.id().to_owned() }),
            )
            .route("/mfa", get(|p: Require<MfaCompleted>| async move { p.id().to_owned() }))
            .route(
                "/admin",
                get(|p: Require<AdminOnly>| async move { p.into_principal().id().to_owned() }),
            )
    }

    async fn get_with(path: &str, claims: Option<Value>, style: Option<ErrorStyle>) -> (StatusCode, String) {
        let mut request = Request::get(path).body(Body::empty()).unwrap();
        let principal =
            claims.map(|claims| Principal::new("u7", Source::Cookie).with_claims(claims.as_object().unwrap().clone()));
        match style {
            Some(style) => Authentication::record(request.extensions_mut(), style, principal),
            None => {
                if let Some(p) = principal {
                    request.extensions_mut().insert(p);
                }
            }
        }
        let response = app().oneshot(request).await.unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn guards_pass_and_fail() {
        let st = Some(ErrorStyle::SuperTokens);
        let ok = json!({"st-ev": {"v": true}, "st-mfa": {"v": true, "c": {}}, "st-role": {"v": ["admin"]}});
        for path in ["/verified", "/mfa", "/admin"] {
            assert_eq!(
                get_with(path, Some(ok.clone()), st).await,
                (StatusCode::OK, "u7".to_owned())
            );
        }
        let (status, body) = get_with("/verified", Some(json!({"st-ev": {"v": false}})), st).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"message":"invalid claim","claimValidationErrors":[{"id":"st-ev","reason":{"message":"wrong value","expectedValue":true,"actualValue":false}}]})
        );
        let (status, body) = get_with("/mfa", Some(json!({})), st).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["claimValidationErrors"],
            json!([{"id":"st-mfa","reason":{"message":"value does not exist","expectedValue":true}}])
        );
    }

    #[tokio::test]
    async fn guards_answer_401_and_500() {
        let (status, _) = get_with("/admin", None, Some(ErrorStyle::Rfc6750)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = get_with("/admin", None, None).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn check_without_a_framework() {
        let p = Principal::new("u", Source::Bearer)
            .with_claims(json!({"st-role": {"v": ["admin"]}}).as_object().unwrap().clone());
        assert_eq!(Require::<AdminOnly>::check(p.clone()).unwrap().id(), "u");
        assert!(Require::<EmailVerified>::check(p).is_err());
        assert!(std::ptr::eq(AdminOnly::requirement(), AdminOnly::requirement()));
        assert!(
            format!(
                "{:?}",
                Require::<AdminOnly>::check(Principal::new("x", Source::Bearer)).err()
            )
            .contains("st-role")
        );
    }
}
