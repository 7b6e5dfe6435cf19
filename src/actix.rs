//! actix-web adapter: the [`Auth`] and [`Authorize`] middleware, and extractors.
//!
//! actix-web is not tower-based, so it gets its own thin glue; every decision
//! is the core's (credentials, verification, requirements, error rendering),
//! and the answers are the tower layer's, status, `WWW-Authenticate` and body
//! alike.
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, HttpServer, web};
//! use authorizer::actix::{Auth, Authorize};
//! use authorizer::require::supertokens;
//! use authorizer::{Authenticator, Issuer, Principal, Verifier};
//!
//! async fn me(principal: Principal) -> HttpResponse {
//!     HttpResponse::Ok().json(principal)
//! }
//!
//! async fn hello(principal: Option<Principal>) -> String {
//!     format!("hello {}", principal.as_ref().map_or("stranger", |p| p.id()))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let verifier = Verifier::builder()
//!         .issuer(Issuer::discover("https://auth.example.com").audience("orders-api"))
//!         .build()?;
//!     let auth = Authenticator::new(verifier);
//!
//!     HttpServer::new(move || {
//!         App::new()
//!             .service(
//!                 web::scope("/api")
//!                     .route("/me", web::get().to(me))
//!                     .service(
//!                         web::scope("/admin")
//!                             .wrap(Authorize::new(supertokens::has_role("admin")))
//!                             .route("/settings", web::get().to(me)),
//!                     )
//!                     .wrap(Auth::required(auth.clone())),
//!             )
//!             .service(web::resource("/hello").wrap(Auth::optional(auth.clone())).get(hello))
//!     })
//!     .bind(("127.0.0.1", 3000))?
//!     .run()
//!     .await?;
//!     Ok(())
//! }
//! ```
//!
//! # Middleware
//!
//! - [`Auth::required`] / [`Auth::optional`]: the pipeline of
//!   [`AuthLayer`](crate::AuthLayer), putting the [`Principal`] in the request
//!   extensions. Optional mode lets requests without a credential through
//!   anonymously, never ones with a bad credential.
//! - [`Authorize::new`]: a [`Requirement`] for a scope, resource or route;
//!   403 with every failed check, 401 for an anonymous request, 500 when no
//!   [`Auth`] ran. It reads what [`Auth`] left, so [`Auth`] must wrap outside it
//!   (actix runs the *last* `.wrap` first, and an `App`'s middleware before a
//!   scope's).
//!
//! # Extractors
//!
//! - [`Principal`]: 401 when an optional [`Auth`] let an anonymous request
//!   through, **500** when no [`Auth`] ran (a server bug, logged as an error).
//! - `Option<Principal>`: `None` for an anonymous request. actix-web turns
//!   *every* extractor error into `None` here, so a missing [`Auth`] is logged
//!   but also yields `None`; [`MaybePrincipal`] answers 500 instead.
//! - [`Claims<T>`]: the claims deserialized into `T` (401 when they do not fit).
//! - [`Require<R>`](crate::require::Require): the principal, when it meets `R`'s
//!   requirement.
//! - [`Authenticated`]: authenticates by itself when no [`Auth`] ran, with the
//!   [`Authenticator`] in the app data (`web::Data<Authenticator>` or a plain
//!   `Authenticator`), so one handler can be protected without a scope.
//!
//! Every error is a [`Rejection`], which implements [`ResponseError`].

use std::fmt;
use std::future::{Future, Ready, ready};
use std::ops::Deref;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Extensions, Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use pin_project_lite::pin_project;
use serde::de::DeserializeOwned;

use crate::authenticator::{Attempt, Authenticator, Mode, Pending, admit};
use crate::credential::{self, Headers};
use crate::error::{Error, ErrorResponse, ErrorStyle, InvalidToken, Rejection};
use crate::layer::LayerRan;
use crate::principal::Principal;
use crate::require::{Require, Requirement, RequirementSpec};

// ---------------------------------------------------------------------------
// Translation between actix-web (`http` 0.2) and the core (`http` 1).

/// Lets the core read credentials straight from actix's header map, without
/// copying it. Standard names are looked up by hash; others (`rid`,
/// `st-access-token`) by a scan of the names, since building an actix
/// `HeaderName` from a non-standard `&str` would allocate.
impl Headers for HeaderMap {
    fn values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a [u8]> {
        let values = match name {
            "authorization" => self.get_all(header::AUTHORIZATION),
            "cookie" => self.get_all(header::COOKIE),
            "origin" => self.get_all(header::ORIGIN),
            _ => match self.keys().find(|key| key.as_str() == name) {
                Some(key) => self.get_all(key),
                None => [].iter(),
            },
        };
        values.map(HeaderValue::as_bytes)
    }
}

/// Whether `method` is safe (needs no anti-CSRF proof), by the core's rule.
fn is_safe(method: &Method) -> bool {
    http::Method::from_bytes(method.as_str().as_bytes()).is_ok_and(|method| credential::is_safe(&method))
}

/// The core's rendering as an actix response: same status, headers and body.
fn to_actix(rendered: ErrorResponse) -> HttpResponse {
    let status = StatusCode::from_u16(rendered.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/json")));
    if let Some(challenge) = rendered
        .www_authenticate
        .and_then(|value| HeaderValue::from_bytes(value.as_bytes()).ok())
    {
        response.insert_header((header::WWW_AUTHENTICATE, challenge));
    }
    response.body(rendered.body)
}

/// A [`Rejection`] is answered as the tower layer answers it: the same status,
/// `WWW-Authenticate` and JSON body, in the configured [`ErrorStyle`].
impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.error().status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        to_actix(self.to_response())
    }
}

fn reject(error: Error, style: ErrorStyle) -> Rejection {
    tracing::debug!(%error, "request rejected");
    Rejection::new(error, style)
}

fn reject_request<B>(request: ServiceRequest, rejection: &Rejection) -> ServiceResponse<EitherBody<B>> {
    request.into_response(rejection.error_response()).map_into_right_body()
}

// ---------------------------------------------------------------------------
// The authentication middleware.

/// actix-web middleware that authenticates every request, as
/// [`AuthLayer`](crate::AuthLayer) does for tower.
///
/// In [`required`](Auth::required) mode a request without a valid credential
/// is answered 401; in [`optional`](Auth::optional) mode it passes without a
/// principal, but an invalid or expired credential is still refused (a client
/// that sent one must learn it is bad). The [`Principal`] goes into the request
/// extensions, for the extractors and for [`Authorize`].
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use authorizer::actix::Auth;
/// use authorizer::{Issuer, Principal, Verifier};
///
/// # fn main() -> Result<(), authorizer::ConfigError> {
/// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// let app = App::new()
///     .route("/me", web::get().to(|p: Principal| async move { HttpResponse::Ok().json(p) }))
///     .wrap(Auth::required(verifier));
/// # let _ = app;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Auth {
    auth: Authenticator,
    mode: Mode,
}

impl Auth {
    /// Every request must carry a valid credential.
    pub fn required(auth: impl Into<Authenticator>) -> Self {
        Auth {
            auth: auth.into(),
            mode: Mode::Required,
        }
    }

    /// Requests without a credential pass anonymously; bad credentials do not.
    pub fn optional(auth: impl Into<Authenticator>) -> Self {
        Auth {
            auth: auth.into(),
            mode: Mode::Optional,
        }
    }

    /// The authenticator this middleware runs.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}

impl<S, B> Transform<S, ServiceRequest> for Auth
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Transform = AuthMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthMiddleware {
            service: Rc::new(service),
            auth: self.auth.clone(),
            mode: self.mode,
        }))
    }
}

/// The service made by [`Auth`].
pub struct AuthMiddleware<S> {
    service: Rc<S>,
    auth: Authenticator,
    mode: Mode,
}

impl<S> fmt::Debug for AuthMiddleware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthMiddleware")
            .field("auth", &self.auth)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for AuthMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Future = AuthFuture<S, B>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let style = self.auth.style();
        request.extensions_mut().insert(LayerRan { style });
        let state = match self.auth.begin_from(is_safe(request.method()), request.headers()) {
            Attempt::Done(outcome) => match admit(outcome, self.mode) {
                Ok(principal) => {
                    if let Some(principal) = principal {
                        request.extensions_mut().insert(principal);
                    }
                    AuthState::Calling {
                        future: self.service.call(request),
                    }
                }
                Err(error) => AuthState::Rejected {
                    response: Some(reject_request(request, &reject(error, style))),
                },
            },
            Attempt::Verify(pending) => AuthState::Verifying {
                pending,
                request: Some(request),
                service: Rc::clone(&self.service),
                style,
            },
        };
        AuthFuture { state }
    }
}

pin_project! {
    /// The future of [`AuthMiddleware`]: a verification still running, then
    /// the inner service's future, or a ready rejection.
    pub struct AuthFuture<S, B>
    where
        S: Service<ServiceRequest>,
    {
        #[pin]
        state: AuthState<S, B>,
    }
}

pin_project! {
    #[project = AuthStateProj]
    enum AuthState<S, B>
    where
        S: Service<ServiceRequest>,
    {
        Verifying {
            pending: Pending,
            request: Option<ServiceRequest>,
            service: Rc<S>,
            style: ErrorStyle,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
        Rejected {
            response: Option<ServiceResponse<EitherBody<B>>>,
        },
    }
}

impl<S, B> Future for AuthFuture<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                AuthStateProj::Calling { future } => {
                    return future.poll(cx).map_ok(ServiceResponse::map_into_left_body);
                }
                AuthStateProj::Rejected { response } => {
                    return Poll::Ready(Ok(response.take().expect("AuthFuture polled after completion")));
                }
                AuthStateProj::Verifying {
                    pending,
                    request,
                    service,
                    style,
                } => {
                    let outcome = std::task::ready!(pending.as_mut().poll(cx));
                    let request = request.take().expect("AuthFuture polled after completion");
                    let next = match outcome {
                        Ok(principal) => {
                            request.extensions_mut().insert(principal);
                            AuthState::Calling {
                                future: service.call(request),
                            }
                        }
                        Err(error) => AuthState::Rejected {
                            response: Some(reject_request(request, &reject(error, *style))),
                        },
                    };
                    this.state.set(next);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The requirement middleware.

/// actix-web middleware that lets a request through only when its
/// [`Principal`] meets a [`Requirement`], as
/// [`RequireLayer`](crate::RequireLayer) does for tower.
///
/// It reads what [`Auth`] left in the request extensions, so [`Auth`] must run
/// first: wrap it on an enclosing scope or the `App`, or call `.wrap(Auth..)`
/// *after* `.wrap(Authorize..)` on the same scope (actix runs the last `.wrap`
/// first). It answers 403 with every failed check when the requirement fails,
/// 401 when the request is anonymous (an optional [`Auth`] let it through), and
/// 500 when no [`Auth`] ran at all (a server bug, logged). Errors are written
/// in the [`Auth`]'s [`ErrorStyle`].
///
/// Works on a scope, a resource or a single route:
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use authorizer::actix::{Auth, Authorize};
/// use authorizer::require::{scope, supertokens};
/// use authorizer::{Issuer, Verifier};
///
/// # fn main() -> Result<(), authorizer::ConfigError> {
/// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// let app = App::new()
///     .service(
///         web::scope("/admin")
///             .wrap(Authorize::new(supertokens::has_role("admin")))
///             .route("/settings", web::get().to(HttpResponse::Ok)),
///     )
///     .service(
///         web::resource("/items")
///             .wrap(Authorize::new(scope("read:items")))
///             .route(web::get().to(HttpResponse::Ok)),
///     )
///     .route(
///         "/verified",
///         web::get().to(HttpResponse::Ok).wrap(Authorize::new(supertokens::email_verified())),
///     )
///     .wrap(Auth::required(verifier));
/// # let _ = app;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Authorize {
    requirement: Arc<Requirement>,
}

impl Authorize {
    /// Enforces `requirement` (a [`Requirement`], or an `Arc` of one to share it).
    pub fn new(requirement: impl Into<Arc<Requirement>>) -> Self {
        Authorize {
            requirement: requirement.into(),
        }
    }

    /// The requirement enforced.
    pub fn requirement(&self) -> &Requirement {
        &self.requirement
    }
}

impl<S, B> Transform<S, ServiceRequest> for Authorize
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Transform = AuthorizeMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthorizeMiddleware {
            service,
            requirement: Arc::clone(&self.requirement),
        }))
    }
}

/// The service made by [`Authorize`].
pub struct AuthorizeMiddleware<S> {
    service: S,
    requirement: Arc<Requirement>,
}

impl<S> fmt::Debug for AuthorizeMiddleware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizeMiddleware")
            .field("requirement", &self.requirement)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for AuthorizeMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Future = AuthorizeFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let verdict = authorize(&self.requirement, &request.extensions());
        let state = match verdict {
            Ok(()) => AuthorizeState::Calling {
                future: self.service.call(request),
            },
            Err(rejection) => AuthorizeState::Rejected {
                response: Some(reject_request(request, &rejection)),
            },
        };
        AuthorizeFuture { state }
    }
}

/// Whether the principal in `extensions` meets `requirement`, or the rejection
/// to answer with (the same decisions as the tower `RequireLayer`).
fn authorize(requirement: &Requirement, extensions: &Extensions) -> Result<(), Rejection> {
    let (principal, style) = found(
        extensions,
        "a route has claim requirements but no auth middleware ran for it; \
         wrap authorizer::actix::Auth outside authorizer::actix::Authorize",
    )?;
    requirement.authorize(principal).map_err(|error| {
        if let (Error::Forbidden(denied), Some(principal)) = (&error, principal) {
            tracing::debug!(
                principal = principal.id(),
                failed = denied.errors.len(),
                "claim requirements not met"
            );
        }
        Rejection::new(error, style)
    })
}

pin_project! {
    /// The future of [`AuthorizeMiddleware`]: the inner service's, or a ready rejection.
    pub struct AuthorizeFuture<F, B> {
        #[pin]
        state: AuthorizeState<F, B>,
    }
}

pin_project! {
    #[project = AuthorizeStateProj]
    enum AuthorizeState<F, B> {
        Calling {
            #[pin]
            future: F,
        },
        Rejected {
            response: Option<ServiceResponse<EitherBody<B>>>,
        },
    }
}

impl<F, B, E> Future for AuthorizeFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, E>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            AuthorizeStateProj::Calling { future } => future.poll(cx).map_ok(ServiceResponse::map_into_left_body),
            AuthorizeStateProj::Rejected { response } => {
                Poll::Ready(Ok(response.take().expect("AuthorizeFuture polled after completion")))
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Extractors.

/// What the auth middleware left: the principal (if any) and the error style,
/// or a 500 when no middleware ran, logged with `missing_layer` as the message.
fn found<'a>(
    extensions: &'a Extensions,
    missing_layer: &'static str,
) -> Result<(Option<&'a Principal>, ErrorStyle), Rejection> {
    let principal = extensions.get::<Principal>();
    match extensions.get::<LayerRan>() {
        Some(ran) => Ok((principal, ran.style)),
        None if principal.is_some() => Ok((principal, ErrorStyle::default())),
        None => {
            tracing::error!("{missing_layer}");
            Err(Rejection::new(Error::MissingLayer, ErrorStyle::default()))
        }
    }
}

const NO_MIDDLEWARE: &str = "a handler asked for the principal but no auth middleware ran for this route; \
                             wrap authorizer::actix::Auth around it";

/// The principal, 401 for an anonymous request, 500 when no middleware ran.
fn principal_of(request: &HttpRequest) -> Result<Principal, Rejection> {
    let extensions = request.extensions();
    match found(&extensions, NO_MIDDLEWARE)? {
        (Some(principal), _) => Ok(principal.clone()),
        (None, style) => Err(Rejection::new(Error::MissingCredential, style)),
    }
}

/// Requires a principal: 401 when an optional [`Auth`] let an anonymous
/// request through, 500 when no [`Auth`] ran at all.
///
/// As `Option<Principal>` it is `None` for an anonymous request; note that
/// actix-web's `Option` extractor also turns the 500 of a missing middleware
/// into `None` (the error is still logged); use [`MaybePrincipal`] to keep it.
impl FromRequest for Principal {
    type Error = Rejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(principal_of(request))
    }
}

/// The principal if there is one: `None` for an anonymous request on an
/// optional route, and, unlike `Option<Principal>`, 500 when no [`Auth`] ran,
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
        let extensions = request.extensions();
        ready(found(&extensions, NO_MIDDLEWARE).map(|(principal, _)| MaybePrincipal(principal.cloned())))
    }
}

/// The principal's claims deserialized into `T`: the actix-web counterpart of
/// the axum extractor `authorizer::Claims`.
///
/// ```
/// use authorizer::actix::Claims;
///
/// #[derive(serde::Deserialize)]
/// struct Session {
///     sub: String,
///     #[serde(rename = "st-role")]
///     roles: Option<serde_json::Value>,
/// }
///
/// async fn handler(Claims(session): Claims<Session>) -> String {
///     session.sub
/// }
/// ```
///
/// Claims that do not fit `T` are answered as an invalid token (401); no
/// principal is answered as [`Principal`] is.
#[derive(Debug, Clone)]
pub struct Claims<T>(pub T);

impl<T> Claims<T> {
    /// The claims.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Claims<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Claims<T> {
    type Error = Rejection;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let extensions = request.extensions();
        let claims = found(&extensions, NO_MIDDLEWARE).and_then(|(principal, style)| {
            let principal = principal.ok_or_else(|| Rejection::new(Error::MissingCredential, style))?;
            principal.claims_as().map(Claims).map_err(|error| {
                tracing::debug!(%error, "claims do not fit the handler's type");
                Rejection::new(Error::InvalidToken(InvalidToken::ClaimType), style)
            })
        });
        ready(claims)
    }
}

/// [`Require<R>`]: the principal, when it meets `R`'s requirement; 403 with
/// every failed check otherwise, 401 without a principal, 500 when no [`Auth`] ran.
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
        let guard = found(
            &extensions,
            "a handler demands a requirement but no auth middleware ran for this route; \
             wrap authorizer::actix::Auth around it",
        )
        .and_then(|(principal, style)| {
            let principal = principal.ok_or_else(|| Rejection::new(Error::MissingCredential, style))?;
            Require::check(principal.clone()).map_err(|denied| {
                tracing::debug!(
                    principal = principal.id(),
                    failed = denied.errors.len(),
                    "claim requirements not met"
                );
                Rejection::new(Error::Forbidden(denied), style)
            })
        });
        ready(guard)
    }
}

/// A principal, authenticated by this extractor itself when no [`Auth`]
/// middleware ran: one handler can be protected without wrapping a scope.
///
/// The [`Authenticator`] comes from the app data, as `web::Data<Authenticator>`
/// or a plain `Authenticator`. When an [`Auth`] did run, its outcome is used
/// and nothing is verified twice. Errors are those of [`Auth::required`]; with
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
/// Prefer the [`Auth`] middleware with `Option<Principal>` for optional
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
        if request.extensions().contains::<LayerRan>() {
            return AuthenticatedFuture::ready(principal_of(request).map(Authenticated));
        }
        let auth = request
            .app_data::<web::Data<Authenticator>>()
            .map(|data| &***data)
            .or_else(|| request.app_data::<Authenticator>());
        let Some(auth) = auth else {
            tracing::error!(
                "a handler asked for an authenticated principal, but no auth middleware ran and \
                 the app data holds no Authenticator; add web::Data<Authenticator> or wrap authorizer::actix::Auth"
            );
            return AuthenticatedFuture::ready(Err(Rejection::new(Error::MissingLayer, ErrorStyle::default())));
        };
        let style = auth.style();
        let attempt = auth.begin_from(is_safe(request.method()), request.headers());
        request.extensions_mut().insert(LayerRan { style });
        match attempt {
            Attempt::Done(outcome) => {
                AuthenticatedFuture::ready(settle(request, admit(outcome, Mode::Required), style))
            }
            Attempt::Verify(pending) => AuthenticatedFuture {
                state: AuthenticatedState::Verifying {
                    pending,
                    request: request.clone(),
                    style,
                },
            },
        }
    }
}

/// Records a principal found on demand in the request extensions (for later
/// readers, as [`Auth`] would have), or renders the error.
fn settle(
    request: &HttpRequest,
    outcome: Result<Option<Principal>, Error>,
    style: ErrorStyle,
) -> Result<Authenticated, Rejection> {
    match outcome {
        Ok(Some(principal)) => {
            request.extensions_mut().insert(principal.clone());
            Ok(Authenticated(principal))
        }
        Ok(None) => Err(reject(Error::MissingCredential, style)),
        Err(error) => Err(reject(error, style)),
    }
}

/// The future of [`Authenticated`]: ready, or a verification still running.
pub struct AuthenticatedFuture {
    state: AuthenticatedState,
}

enum AuthenticatedState {
    Ready(Option<Result<Authenticated, Rejection>>),
    Verifying {
        pending: Pending,
        request: HttpRequest,
        style: ErrorStyle,
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
            AuthenticatedState::Verifying {
                pending,
                request,
                style,
            } => {
                let outcome = std::task::ready!(pending.as_mut().poll(cx)).map(Some);
                let settled = settle(request, outcome, *style);
                self.state = AuthenticatedState::Ready(None);
                Poll::Ready(settled)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderName;

    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn values(map: &HeaderMap, name: &str) -> Vec<String> {
        map.values(name)
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn header_values_in_order_for_standard_and_custom_names() {
        let m = map(&[
            ("cookie", "a=1"),
            ("rid", "x"),
            ("Cookie", "b=2"),
            ("st-access-token", "t"),
            ("origin", "https://app.example.com"),
            ("authorization", "Bearer z"),
        ]);
        assert_eq!(values(&m, "cookie"), ["a=1", "b=2"]);
        assert_eq!(values(&m, "rid"), ["x"]);
        assert_eq!(values(&m, "st-access-token"), ["t"]);
        assert_eq!(values(&m, "origin"), ["https://app.example.com"]);
        assert_eq!(values(&m, "authorization"), ["Bearer z"]);
        assert!(values(&m, "x-missing").is_empty());
        assert!(values(&HeaderMap::new(), "authorization").is_empty());
    }

    #[test]
    fn credentials_read_from_an_actix_header_map() {
        let c = crate::Credentials::default();
        let m = map(&[("cookie", "sAccessToken=abc")]);
        let credential = c.extract_from(true, &m).unwrap().unwrap();
        assert_eq!(credential.token(), "abc");
        assert!(matches!(c.extract_from(false, &m), Err(Error::CsrfRejected)));
        let with_rid = map(&[("cookie", "sAccessToken=abc"), ("rid", "session")]);
        assert!(c.extract_from(false, &with_rid).unwrap().is_some());
        let twice = map(&[("st-access-token", "a"), ("st-access-token", "b")]);
        assert!(matches!(
            c.extract_from(true, &twice),
            Err(Error::InvalidToken(InvalidToken::Ambiguous))
        ));
    }

    #[test]
    fn safe_methods_follow_the_core() {
        for m in [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE] {
            assert!(is_safe(&m), "{m}");
        }
        for m in [
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::CONNECT,
        ] {
            assert!(!is_safe(&m), "{m}");
        }
        assert!(!is_safe(&Method::from_bytes(b"PROPFIND").unwrap()));
    }

    #[test]
    fn rejections_render_like_the_core() {
        for style in [ErrorStyle::SuperTokens, ErrorStyle::Rfc6750] {
            for error in [
                Error::MissingCredential,
                Error::Expired,
                Error::CsrfRejected,
                Error::MissingLayer,
            ] {
                let rejection = Rejection::new(error.clone(), style);
                let core = rejection.to_response();
                let response = rejection.error_response();
                assert_eq!(response.status().as_u16(), core.status.as_u16());
                assert_eq!(rejection.status_code().as_u16(), core.status.as_u16());
                assert_eq!(
                    response
                        .headers()
                        .get(header::WWW_AUTHENTICATE)
                        .map(|v| v.as_bytes().to_vec()),
                    core.www_authenticate.map(|v| v.as_bytes().to_vec())
                );
                assert_eq!(
                    response.headers().get(header::CONTENT_TYPE).unwrap(),
                    "application/json"
                );
            }
        }
    }
}
