//! The tower layer: authenticate, then put the [`Principal`] in the request extensions.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::authenticator::{Attempt, Authenticator, Mode, Pending, admit};
use crate::error::{Error, ErrorResponse, ErrorStyle, Rejection};
use crate::principal::{Principal, PrincipalMapping};

/// Put in the request extensions by every authentication adapter, whether or
/// not a principal was found, so extractors can tell "anonymous" (401) from
/// "no layer ran" (a server bug, 500), and render errors in the configured style.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayerRan {
    pub(crate) style: ErrorStyle,
}

/// Reads a principal that something before us already established (API
/// Gateway's authorizer context, say): `None` when there is none. Adapters
/// supply it, so the core never depends on them.
/// The mapping is the layer's verifier's, when it has one, so that claims the
/// gateway verified become the same principal as when verified here.
pub(crate) type Established = fn(&http::Extensions, Option<&PrincipalMapping>) -> Option<Result<Principal, Error>>;

/// A tower [`Layer`] that authenticates every request.
///
/// In [`required`](AuthLayer::required) mode a request without a valid
/// credential is answered 401; in [`optional`](AuthLayer::optional) mode it
/// passes without a principal, but an invalid or expired credential is still
/// refused (a client that sent one must learn it is bad).
///
/// ```
/// use authorizer::{AuthLayer, Issuer, Principal, Verifier};
/// use axum::{Router, routing::get};
///
/// # fn app() -> Result<Router, authorizer::ConfigError> {
/// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// let app = Router::new()
///     .route("/me", get(|p: Principal| async move { p.id().to_owned() }))
///     .layer(AuthLayer::required(verifier));
/// # Ok(app) }
/// ```
#[derive(Clone)]
pub struct AuthLayer {
    auth: Option<Authenticator>,
    style: ErrorStyle,
    mode: Mode,
    established: Option<Established>,
}

impl std::fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLayer")
            .field("auth", &self.auth)
            .field("mode", &self.mode)
            .field("reads_established", &self.established.is_some())
            .finish()
    }
}

impl AuthLayer {
    /// Every request must carry a valid credential.
    pub fn required(auth: impl Into<Authenticator>) -> Self {
        AuthLayer::verifying(auth.into(), Mode::Required)
    }

    /// Requests without a credential pass anonymously; bad credentials do not.
    pub fn optional(auth: impl Into<Authenticator>) -> Self {
        AuthLayer::verifying(auth.into(), Mode::Optional)
    }

    fn verifying(auth: Authenticator, mode: Mode) -> Self {
        AuthLayer {
            style: auth.style(),
            auth: Some(auth),
            mode,
            established: None,
        }
    }

    /// A layer that only reads an established principal (no verifier), for adapters.
    #[cfg_attr(not(feature = "lambda"), allow(dead_code))]
    pub(crate) fn established_only(read: Established, style: ErrorStyle, required: bool) -> Self {
        AuthLayer {
            auth: None,
            style,
            mode: if required { Mode::Required } else { Mode::Optional },
            established: Some(read),
        }
    }

    /// Reads an established principal first, verifying a credential only when there is none.
    #[cfg_attr(not(feature = "lambda"), allow(dead_code))]
    pub(crate) fn reading_established(mut self, read: Established) -> Self {
        self.established = Some(read);
        self
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    layer: AuthLayer,
}

impl AuthLayer {
    fn begin(&self, request: &Request<impl Sized>) -> Attempt {
        let mapping = || self.auth.as_ref().map(|auth| auth.verifier().mapping());
        if let Some(established) = self.established.and_then(|read| read(request.extensions(), mapping())) {
            return Attempt::Done(established.map(Some));
        }
        match &self.auth {
            Some(auth) => auth.begin(request.method(), request.headers()),
            None => Attempt::Done(Ok(None)),
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: From<String>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = AuthFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let style = self.layer.style;
        request.extensions_mut().insert(LayerRan { style });
        let state = match self.layer.begin(&request) {
            Attempt::Done(outcome) => match admit(outcome, self.layer.mode) {
                Ok(principal) => {
                    if let Some(principal) = principal {
                        request.extensions_mut().insert(principal);
                    }
                    State::Calling {
                        future: self.inner.call(request),
                    }
                }
                Err(error) => State::Rejected {
                    response: Some(reject(&error, style)),
                },
            },
            Attempt::Verify(pending) => {
                // The ready service goes into the future; a fresh clone stays (as tower-http does).
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                State::Verifying {
                    pending,
                    request: Some(request),
                    inner,
                    style,
                }
            }
        };
        AuthFuture { state }
    }
}

fn reject(error: &Error, style: ErrorStyle) -> ErrorResponse {
    tracing::debug!(%error, "request rejected");
    Rejection::new(error.clone(), style).to_response()
}

pin_project! {
    /// The future of [`AuthService`].
    pub struct AuthFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<Request<B>>,
    {
        Verifying {
            pending: Pending,
            request: Option<Request<B>>,
            inner: S,
            style: ErrorStyle,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
        Rejected {
            response: Option<ErrorResponse>,
        },
    }
}

impl<S, B, ResBody> Future for AuthFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Calling { future } => return future.poll(cx),
                StateProj::Rejected { response } => {
                    let response = response.take().expect("AuthFuture polled after completion");
                    return Poll::Ready(Ok(response.into_http()));
                }
                StateProj::Verifying {
                    pending,
                    request,
                    inner,
                    style,
                } => {
                    let outcome = ready!(pending.as_mut().poll(cx));
                    let mut request = request.take().expect("AuthFuture polled after completion");
                    let next = match outcome {
                        Ok(principal) => {
                            request.extensions_mut().insert(principal);
                            State::Calling {
                                future: inner.call(request),
                            }
                        }
                        Err(error) => State::Rejected {
                            response: Some(reject(&error, *style)),
                        },
                    };
                    this.state.set(next);
                }
            }
        }
    }
}
