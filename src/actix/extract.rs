//! Extractors: each reads what the middleware recorded through the principal
//! protocol; [`Authenticated`] runs the pipeline itself when none ran.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::ops::Deref;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::translate::parts_of;
use crate::Authenticator;
use crate::error::{Error, ErrorRenderer, Rejection};
use crate::pipeline::{Attempt, Authentication, Mode, Outcome, Verification};
use crate::principal::{Claims, Principal};
use crate::require::{Require, RequirementSpec};

/// Requires a principal: 401 when an optional middleware let an anonymous
/// request through, 500 when none ran at all.
///
/// As `Option<Principal>` it is `None` for an anonymous request; note that
/// actix-web's `Option` extractor also turns the 500 of a missing middleware
/// into `None` (the error is still logged); use [`MaybePrincipal`] to keep it.
impl FromRequest for Principal {
    type Error = Rejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Authentication::required_principal(&*request.extensions()).cloned())
    }
}

/// The principal if there is one: `None` for an anonymous request on an
/// optional route, and, unlike `Option<Principal>`, 500 when no [`AuthMiddleware`](super::AuthMiddleware) ran,
/// so a forgotten middleware is not mistaken for anonymity (as axum's
/// `Option<Principal>` behaves).
///
/// ```
/// use authorizer::actix::MaybePrincipal;
///
/// async fn hello(MaybePrincipal(principal): MaybePrincipal) -> String {
///     format!("hello {}", principal.as_ref().map_or("stranger", |p| p.id()))
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MaybePrincipal(pub Option<Principal>);

impl MaybePrincipal {
    /// The principal, if any.
    pub fn into_inner(self) -> Option<Principal> {
        self.0
    }
}

impl FromRequest for MaybePrincipal {
    type Error = Rejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Authentication::principal(&*request.extensions()).map(|principal| MaybePrincipal(principal.cloned())))
    }
}

/// The claims deserialized into `T` (401 when they do not fit).
impl<T: DeserializeOwned> FromRequest for Claims<T> {
    type Error = Rejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Authentication::claims(&*request.extensions()).map(Claims))
    }
}

/// [`Require<R>`]: the principal, when it meets `R`'s requirement; 403 with
/// every failed check otherwise, 401 without a principal, 500 when no
/// middleware ran.
///
/// ```
/// use authorizer::require::{Require, supertokens::EmailVerified};
///
/// async fn profile(user: Require<EmailVerified>) -> String {
///     user.id().to_owned()
/// }
/// # let _ = actix_web::web::get().to(profile);
/// ```
impl<R: RequirementSpec> FromRequest for Require<R> {
    type Error = Rejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let extensions = request.extensions();
        ready(
            Authentication::authorize(&*extensions, R::requirement()).map(|principal| Require::new(principal.clone())),
        )
    }
}

/// A principal, authenticated by this extractor itself when no [`AuthMiddleware`](super::AuthMiddleware)
/// middleware ran: one handler can be protected without wrapping a scope.
///
/// The [`Authenticator`] comes from the app data, as `web::Data<Authenticator>`
/// or a plain `Authenticator`. When an [`AuthMiddleware`](super::AuthMiddleware) did run, its outcome is used
/// and nothing is verified twice. Errors are those of [`AuthMiddleware::required`](super::AuthMiddleware::required); with
/// neither a middleware nor an authenticator it answers 500 (a server bug, logged).
///
/// ```
/// use actix_web::{App, web};
/// use authorizer::actix::Authenticated;
/// use authorizer::{Authenticator, Issuer, Verifier};
///
/// async fn me(Authenticated(principal): Authenticated) -> String {
///     principal.id().to_owned()
/// }
///
/// # fn main() -> Result<(), authorizer::ConfigError> {
/// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// let app = App::new()
///     .app_data(web::Data::new(Authenticator::new(verifier)))
///     .route("/me", web::get().to(me))
///     .route("/health", web::get().to(|| async { "ok" }));
/// # let _ = app;
/// # Ok(()) }
/// ```
///
/// Prefer the [`AuthMiddleware`](super::AuthMiddleware) middleware with `Option<Principal>` for optional
/// authentication: `Option<Authenticated>` would turn a bad or expired
/// credential into `None` instead of a 401 the client can act on.
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticated(pub Principal);

impl Authenticated {
    /// The principal.
    pub fn into_inner(self) -> Principal {
        self.0
    }
}

impl Deref for Authenticated {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl FromRequest for Authenticated {
    type Error = Rejection;
    type Future = AuthenticatedFuture;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        if request.extensions().contains::<Authentication>() {
            let found = Authentication::required_principal(&*request.extensions()).cloned();
            return AuthenticatedFuture::ready(found.map(Authenticated));
        }
        let Some(auth) = authenticator_in(request) else {
            tracing::error!(
                "a handler asked for an authenticated principal, but no auth middleware ran and \
                 the app data holds no Authenticator; add web::Data<Authenticator> or wrap authorizer::actix::AuthMiddleware"
            );
            return AuthenticatedFuture::ready(Err(Rejection::new(Error::MissingLayer, ErrorRenderer::default())));
        };
        let attempt = auth.authenticate(&parts_of(request), Mode::Required);
        // Recorded now, before any verification ends: actix-web starts every
        // extractor of a handler together, and the others must read "this
        // request is being authenticated" (anonymous until it is), never "no
        // layer ran"; a second `Authenticated` then verifies nothing again.
        Authentication::record(&mut *request.extensions_mut(), auth.renderer().clone(), None);
        match attempt {
            Attempt::Ready(outcome) => AuthenticatedFuture::ready(settle(request, outcome)),
            Attempt::Pending(verification) => AuthenticatedFuture {
                state: AuthenticatedState::Verifying {
                    verification,
                    request: request.clone(),
                },
            },
        }
    }
}

fn authenticator_in(request: &HttpRequest) -> Option<&Authenticator> {
    request
        .app_data::<web::Data<Authenticator>>()
        .map(|data| &***data)
        .or_else(|| request.app_data::<Authenticator>())
}

/// Records a principal found on demand for later readers, as the middleware
/// would have, or answers the refusal.
fn settle(request: &HttpRequest, outcome: Outcome) -> Result<Authenticated, Rejection> {
    let renderer = outcome.renderer().clone();
    // A required mode refuses an anonymous outcome, so `Ok` holds a principal.
    let principal = outcome
        .into_result()?
        .ok_or_else(|| Rejection::new(Error::MissingCredential, renderer.clone()))?;
    Authentication::record(&mut *request.extensions_mut(), renderer, Some(principal.clone()));
    Ok(Authenticated(principal))
}

/// The future of [`Authenticated`]: ready, or a verification still running.
pub struct AuthenticatedFuture {
    state: AuthenticatedState,
}

enum AuthenticatedState {
    Ready(Option<Result<Authenticated, Rejection>>),
    Verifying {
        verification: Verification,
        request: HttpRequest,
    },
}

impl AuthenticatedFuture {
    fn ready(outcome: Result<Authenticated, Rejection>) -> Self {
        AuthenticatedFuture {
            state: AuthenticatedState::Ready(Some(outcome)),
        }
    }
}

impl fmt::Debug for AuthenticatedFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            AuthenticatedState::Ready(_) => "ready",
            AuthenticatedState::Verifying { .. } => "verifying",
        };
        f.debug_struct("AuthenticatedFuture").field("state", &state).finish()
    }
}

impl Future for AuthenticatedFuture {
    type Output = Result<Authenticated, Rejection>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.state {
            AuthenticatedState::Ready(outcome) => {
                Poll::Ready(outcome.take().expect("AuthenticatedFuture polled after completion"))
            }
            AuthenticatedState::Verifying { verification, request } => {
                let outcome = std::task::ready!(Pin::new(verification).poll(cx));
                let settled = settle(request, outcome);
                self.state = AuthenticatedState::Ready(None);
                Poll::Ready(settled)
            }
        }
    }
}
