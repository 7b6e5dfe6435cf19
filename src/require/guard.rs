//! Requirements as types: [`RequirementSpec`], the [`Require`] guard and
//! [`requirement_guard!`](crate::requirement_guard).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use super::Requirement;
use crate::error::Denied;
use crate::principal::Principal;

/// A type that names a [`Requirement`], so a handler can demand it in its
/// signature with [`Require`]. Declare one with
/// [`requirement_guard!`](crate::requirement_guard).
pub trait RequirementSpec: 'static {
    /// The requirement (built once, on first use).
    fn requirement() -> &'static Requirement;
}

/// A principal that met the requirement named by `R`.
///
/// With the `axum` feature it is an extractor: the request is answered 403 with
/// every failed check when the principal falls short, 401 when there is no
/// principal, and 500 when no `AuthLayer` ran. It dereferences to the
/// [`Principal`].
///
/// ```
/// use authorizer::require::{Require, supertokens::{EmailVerified, has_role}};
///
/// authorizer::requirement_guard!(
///     /// Callers with the `admin` role.
///     pub AdminOnly = has_role("admin")
/// );
///
/// async fn settings(admin: Require<AdminOnly>) -> String {
///     format!("hello, {}", admin.id())
/// }
///
/// async fn profile(user: Require<EmailVerified>) -> String {
///     user.into_principal().id().to_owned()
/// }
/// ```
pub struct Require<R> {
    principal: Principal,
    spec: PhantomData<fn() -> R>,
}

impl<R: RequirementSpec> Require<R> {
    /// Checks `principal` against `R`'s requirement (what the framework
    /// extractors do after finding the principal).
    pub fn check(principal: Principal) -> Result<Self, Denied> {
        R::requirement().evaluate(&principal)?;
        Ok(Require {
            principal,
            spec: PhantomData,
        })
    }
}

impl<R> Require<R> {
    /// The principal.
    pub fn into_principal(self) -> Principal {
        self.principal
    }
}

impl<R> Deref for Require<R> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl<R> Clone for Require<R> {
    fn clone(&self) -> Self {
        Require {
            principal: self.principal.clone(),
            spec: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Require<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Require")
            .field("requirement", &std::any::type_name::<R>())
            .field("principal", &self.principal)
            .finish()
    }
}

/// Declares a type that names a requirement, for [`Require`](crate::require::Require).
///
/// ```
/// use std::time::Duration;
/// use authorizer::require::{Require, all, claim, scope, supertokens};
///
/// authorizer::requirement_guard!(
///     /// Editors with a fresh session.
///     pub FreshEditor = all([
///         supertokens::has_role("editor"),
///         claim("iat").max_age(Duration::from_secs(900)),
///     ])
/// );
/// authorizer::requirement_guard!(ReadItems = scope("read:items"));
///
/// async fn edit(editor: Require<FreshEditor>) -> String {
///     editor.id().to_owned()
/// }
/// ```
///
/// The expression is evaluated once, on first use.
#[macro_export]
macro_rules! requirement_guard {
    ($(#[$meta:meta])* $vis:vis $name:ident = $requirement:expr $(;)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        $vis struct $name;

        impl $crate::require::RequirementSpec for $name {
            fn requirement() -> &'static $crate::require::Requirement {
                static REQUIREMENT: ::std::sync::LazyLock<$crate::require::Requirement> =
                    ::std::sync::LazyLock::new(|| $requirement);
                &REQUIREMENT
            }
        }
    };
}

#[cfg(feature = "axum")]
mod axum_impl {
    use axum_core::extract::FromRequestParts;
    use http::request::Parts;

    use super::{Require, RequirementSpec};
    use crate::error::Rejection;
    use crate::require::layer::authorize;

    impl<S: Send + Sync, R: RequirementSpec> FromRequestParts<S> for Require<R> {
        type Rejection = Rejection;

        async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
            let principal = authorize(R::requirement(), &parts.extensions)?;
            Ok(Require {
                principal: principal.clone(),
                spec: std::marker::PhantomData,
            })
        }
    }
}

#[cfg(all(test, feature = "axum"))]
mod tests {
    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::routing::get;
    use http::{Request, StatusCode};
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use crate::error::ErrorStyle;
    use crate::layer::LayerRan;
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
        if let Some(claims) = claims {
            let p = Principal::new("u7", Source::Cookie).with_claims(claims.as_object().unwrap().clone());
            request.extensions_mut().insert(p);
        }
        if let Some(style) = style {
            request.extensions_mut().insert(LayerRan { style });
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
