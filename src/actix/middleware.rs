//! The middleware: [`AuthMiddleware`] runs the pipeline, [`RequireMiddleware`]
//! checks a requirement.

use std::fmt;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::HttpMessage;
use actix_web::ResponseError;
use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use pin_project_lite::pin_project;

use super::translate::parts_of;
use crate::Authenticator;
use crate::error::Rejection;
use crate::pipeline::{Attempt, Mode, Outcome, Verification};
use crate::require::Requirement;
use crate::routes::{RouteRule, RouteTable};

fn reject<B>(request: ServiceRequest, rejection: &Rejection) -> ServiceResponse<EitherBody<B>> {
    request.into_response(rejection.error_response()).map_into_right_body()
}

/// actix-web middleware that authenticates every request, as
/// [`AuthLayer`](crate::tower::AuthLayer) does for tower.
///
/// In [`required`](AuthMiddleware::required) mode a request without a valid credential
/// is answered 401; in [`optional`](AuthMiddleware::optional) mode it passes without a
/// principal, but an invalid or expired credential is still refused (a client
/// that sent one must learn it is bad). The [`Principal`](crate::Principal) goes into the request
/// extensions, for the extractors and for [`RequireMiddleware`].
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use authorizer::actix::AuthMiddleware;
/// use authorizer::{Issuer, Principal, Verifier};
///
/// # fn main() -> Result<(), authorizer::ConfigError> {
/// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// let app = App::new()
///     .route("/me", web::get().to(|p: Principal| async move { HttpResponse::Ok().json(p) }))
///     .wrap(AuthMiddleware::required(verifier));
/// # let _ = app;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AuthMiddleware {
    auth: Authenticator,
    mode: Mode,
}

impl AuthMiddleware {
    /// Every request must carry a valid credential.
    pub fn required(auth: impl Into<Authenticator>) -> Self {
        AuthMiddleware::new(auth, Mode::Required)
    }

    /// Requests without a credential pass anonymously; bad credentials do not.
    pub fn optional(auth: impl Into<Authenticator>) -> Self {
        AuthMiddleware::new(auth, Mode::Optional)
    }

    /// Authenticates with `auth` in `mode`.
    pub fn new(auth: impl Into<Authenticator>, mode: Mode) -> Self {
        let auth = auth.into();
        if auth.has_upstream() {
            tracing::warn!(
                "the Authenticator has an upstream source, which reads http extensions that actix-web \
                 requests do not have: on actix-web it never answers, and only credentials are verified"
            );
        }
        AuthMiddleware { auth, mode }
    }

    /// The pipeline this middleware runs.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
    }
}

impl<S, B> Transform<S, ServiceRequest> for AuthMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Transform = AuthService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthService {
            service: Rc::new(service),
            auth: self.auth.clone(),
            mode: self.mode,
        }))
    }
}

/// The service made by [`AuthMiddleware`].
pub struct AuthService<S> {
    service: Rc<S>,
    auth: Authenticator,
    mode: Mode,
}

impl<S> fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("auth", &self.auth)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for AuthService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Future = AuthFuture<S, B>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let attempt = self.auth.authenticate(&parts_of(request.request()), self.mode);
        if let Some(protocols) = self.auth.protocols_for_handler(request.headers()) {
            hide_protocol_token(request.headers_mut(), &protocols);
        }
        let state = match attempt {
            Attempt::Ready(outcome) => next(outcome, request, &*self.service),
            Attempt::Pending(verification) => AuthState::Verifying {
                verification,
                request: Some(request),
                service: Rc::clone(&self.service),
            },
        };
        AuthFuture { state }
    }
}

/// Replaces the offered WebSocket protocols with the list without the token.
fn hide_protocol_token(headers: &mut actix_web::http::header::HeaderMap, protocols: &str) {
    use actix_web::http::header::{HeaderValue, SEC_WEBSOCKET_PROTOCOL};
    match HeaderValue::from_str(protocols) {
        Ok(value) => {
            headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
        Err(_) => {
            headers.remove(SEC_WEBSOCKET_PROTOCOL);
        }
    }
}

/// Records the outcome and calls the inner service, or holds the rejection.
fn next<S, B>(outcome: Outcome, request: ServiceRequest, service: &S) -> AuthState<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    let nonce = outcome.dpop_nonce().map(str::to_owned);
    let recorded = outcome.record(&mut *request.extensions_mut());
    match recorded {
        Ok(()) => AuthState::Calling {
            future: service.call(request),
            nonce,
        },
        Err(rejection) => AuthState::Rejected {
            response: Some(reject(request, &rejection)),
        },
    }
}

pin_project! {
    /// The future of [`AuthService`]: a verification still running, then
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
            #[pin]
            verification: Verification,
            request: Option<ServiceRequest>,
            service: Rc<S>,
        },
        Calling {
            #[pin]
            future: S::Future,
            // A rotated DPoP nonce the response offers the client.
            nonce: Option<String>,
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
                AuthStateProj::Calling { future, nonce } => {
                    let mut response = std::task::ready!(future.poll(cx))?;
                    if let Some(value) = nonce
                        .take()
                        .and_then(|nonce| actix_web::http::header::HeaderValue::from_str(&nonce).ok())
                    {
                        response
                            .headers_mut()
                            .insert(actix_web::http::header::HeaderName::from_static("dpop-nonce"), value);
                    }
                    return Poll::Ready(Ok(response.map_into_left_body()));
                }
                AuthStateProj::Rejected { response } => {
                    return Poll::Ready(Ok(response.take().expect("AuthFuture polled after completion")));
                }
                AuthStateProj::Verifying {
                    verification,
                    request,
                    service,
                } => {
                    let outcome = std::task::ready!(verification.poll(cx));
                    let request = request.take().expect("AuthFuture polled after completion");
                    let state = next(outcome, request, &**service);
                    this.state.set(state);
                }
            }
        }
    }
}

/// actix-web middleware that lets a request through only when its
/// [`Principal`](crate::Principal) meets a [`Requirement`], or the rule a
/// [`RouteTable`] gives its method and path, as
/// [`RequireLayer`](crate::tower::RequireLayer) does for tower.
///
/// It reads what [`AuthMiddleware`] left in the request extensions, so [`AuthMiddleware`] must run
/// first: wrap it on an enclosing scope or the `App`, or call `.wrap(AuthMiddleware..)`
/// *after* `.wrap(RequireMiddleware..)` on the same scope (actix runs the last `.wrap`
/// first). It answers 403 with every failed check when the requirement fails,
/// 401 when the request is anonymous (an optional [`AuthMiddleware`] let it through), and
/// 500 when no [`AuthMiddleware`] ran at all (a server bug, logged). Errors are written
/// in the [`AuthMiddleware`]'s [`ErrorStyle`](crate::ErrorStyle).
///
/// Works on a scope, a resource or a single route:
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use authorizer::actix::{AuthMiddleware, RequireMiddleware};
/// use authorizer::require::{scope, supertokens};
/// use authorizer::{Issuer, Verifier};
///
/// # fn main() -> Result<(), authorizer::ConfigError> {
/// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// let app = App::new()
///     .service(
///         web::scope("/admin")
///             .wrap(RequireMiddleware::new(supertokens::has_role("admin")))
///             .route("/settings", web::get().to(HttpResponse::Ok)),
///     )
///     .service(
///         web::resource("/items")
///             .wrap(RequireMiddleware::new(scope("read:items")))
///             .route(web::get().to(HttpResponse::Ok)),
///     )
///     .route(
///         "/verified",
///         web::get().to(HttpResponse::Ok).wrap(RequireMiddleware::new(supertokens::email_verified())),
///     )
///     .wrap(AuthMiddleware::required(verifier));
/// # let _ = app;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RequireMiddleware {
    routes: Arc<RouteTable>,
}

impl RequireMiddleware {
    /// Enforces `requirement` (a [`Requirement`], or an `Arc` of one to share
    /// it) on every request.
    pub fn new(requirement: impl Into<Arc<Requirement>>) -> Self {
        RequireMiddleware::routes(RouteTable::new().fallback(RouteRule::require(requirement)))
    }

    /// Enforces on each request the rule `routes` gives its method and full
    /// path (whatever scope the middleware wraps), decided as
    /// [`RouteTable::authorize`] decides it for every adapter. The path is
    /// the one actix-web routes on, where characters that need no encoding
    /// are decoded (`/ad%6Din` is `/admin`, as for actix's own routes).
    /// Optional routes reach anonymous callers only behind an
    /// [`AuthMiddleware::optional`].
    ///
    /// With actix-web's `NormalizePath`, register this middleware *before*
    /// it (so it runs after it, on the normalized path): run first, it would
    /// judge `//admin` or `/admin/` by the fallback rule, and `NormalizePath`
    /// would then route the request to `/admin`.
    ///
    /// ```
    /// use actix_web::{App, HttpResponse, web};
    /// use authorizer::actix::{AuthMiddleware, RequireMiddleware};
    /// use authorizer::require::scope;
    /// use authorizer::routes::{RouteRule, RouteTable};
    /// use authorizer::{Issuer, Verifier};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
    /// let routes = RouteTable::new()
    ///     .route("GET /public", RouteRule::optional())?
    ///     .route("GET /items/{id}", RouteRule::require(scope("read:items")))?
    ///     .fallback(RouteRule::deny());
    /// let app = App::new()
    ///     .route("/public", web::get().to(HttpResponse::Ok))
    ///     .route("/items/{id}", web::get().to(HttpResponse::Ok))
    ///     .wrap(RequireMiddleware::routes(routes))
    ///     .wrap(AuthMiddleware::optional(verifier));
    /// # let _ = app;
    /// # Ok(()) }
    /// ```
    pub fn routes(routes: impl Into<Arc<RouteTable>>) -> Self {
        RequireMiddleware { routes: routes.into() }
    }

    /// The rules enforced: for a middleware made by
    /// [`new`](RequireMiddleware::new), a table without routes whose fallback
    /// is the requirement.
    pub fn route_table(&self) -> &RouteTable {
        &self.routes
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequireMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Transform = RequireService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireService {
            service,
            routes: Arc::clone(&self.routes),
        }))
    }
}

/// The service made by [`RequireMiddleware`].
pub struct RequireService<S> {
    service: S,
    routes: Arc<RouteTable>,
}

impl<S> fmt::Debug for RequireService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireService")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for RequireService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>>,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = S::Error;
    type Future = RequireFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        // actix-web routes on the path with needlessly encoded characters
        // decoded (`/ad%6Din` reaches `/admin`): the table judges that path.
        let path = request.match_info().as_str();
        let verdict = self
            .routes
            .authorize(&*request.extensions(), request.method().as_str(), path)
            .map(|_| ());
        let state = match verdict {
            Ok(()) => RequireState::Calling {
                future: self.service.call(request),
            },
            Err(rejection) => RequireState::Rejected {
                response: Some(reject(request, &rejection)),
            },
        };
        RequireFuture { state }
    }
}

pin_project! {
    /// The future of [`RequireService`]: the inner service's, or a ready rejection.
    pub struct RequireFuture<F, B> {
        #[pin]
        state: RequireState<F, B>,
    }
}

pin_project! {
    #[project = RequireStateProj]
    enum RequireState<F, B> {
        Calling {
            #[pin]
            future: F,
        },
        Rejected {
            response: Option<ServiceResponse<EitherBody<B>>>,
        },
    }
}

impl<F, B, E> Future for RequireFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, E>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            RequireStateProj::Calling { future } => future.poll(cx).map_ok(ServiceResponse::map_into_left_body),
            RequireStateProj::Rejected { response } => {
                Poll::Ready(Ok(response.take().expect("RequireFuture polled after completion")))
            }
        }
    }
}
