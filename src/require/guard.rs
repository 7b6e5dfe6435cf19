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
    /// A principal that an adapter has checked against `R`'s requirement.
    #[cfg_attr(not(any(feature = "axum", feature = "actix-web")), allow(dead_code))]
    pub(crate) fn new(principal: Principal) -> Self {
        Require {
            principal,
            spec: PhantomData,
        }
    }

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
