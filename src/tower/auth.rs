//! [`AuthLayer`]: runs the pipeline and records its outcome in the request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::body::ResponseBody;
use super::rejection_response;
use crate::pipeline::{Attempt, Authenticator, Mode, Outcome, RequestParts, Verification};

/// The header a server hands DPoP nonces out in (RFC 9449 §8.1).
const DPOP_NONCE: http::HeaderName = http::HeaderName::from_static("dpop-nonce");

/// A tower [`Layer`] that authenticates every request and puts the
/// [`Principal`](crate::Principal) in its extensions (with the
/// [principal protocol](crate::pipeline::Authentication)'s marker).
///
/// In [`required`](AuthLayer::required) mode a request without a valid
/// credential is answered 401; in [`optional`](AuthLayer::optional) mode it
/// passes without a principal, but an invalid or expired credential is still
/// refused (a client that sent one must learn it is bad).
///
/// ```
/// use authorizer::tower::AuthLayer;
/// use authorizer::{Issuer, Principal, Verifier};
/// use axum::{Router, routing::get};
///
/// # fn app() -> Result<Router, authorizer::ConfigError> {
/// let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// let app = Router::new()
///     .route("/me", get(|p: Principal| async move { p.id().to_owned() }))
///     .layer(AuthLayer::required(verifier));
/// # Ok(app) }
/// ```
#[derive(Debug, Clone)]
pub struct AuthLayer {
    // Shared: routers clone the service for every request (axum does), and
    // one reference count costs less than the pipeline's several.
    auth: Arc<Authenticator>,
    mode: Mode,
}

impl AuthLayer {
    /// Every request must carry a valid credential.
    pub fn required(auth: impl Into<Authenticator>) -> Self {
        AuthLayer::new(auth, Mode::Required)
    }

    /// Requests without a credential pass anonymously; bad credentials do not.
    pub fn optional(auth: impl Into<Authenticator>) -> Self {
        AuthLayer::new(auth, Mode::Optional)
    }

    /// Authenticates with `auth` in `mode`.
    pub fn new(auth: impl Into<Authenticator>, mode: Mode) -> Self {
        AuthLayer {
            auth: Arc::new(auth.into()),
            mode,
        }
    }

    /// The pipeline this layer runs.
    pub fn authenticator(&self) -> &Authenticator {
        &self.auth
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

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuthService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = AuthFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let attempt = self
            .layer
            .auth
            .authenticate(&RequestParts::from_request(&request), self.layer.mode);
        if let Some(protocols) = self.layer.auth.protocols_for_handler(request.headers()) {
            hide_protocol_token(request.headers_mut(), &protocols);
        }
        match attempt {
            Attempt::Ready(outcome) => AuthFuture::decided(outcome, request, &mut self.inner),
            Attempt::Pending(verification) => {
                // The ready service goes into the future; a fresh clone stays (as tower-http does).
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                AuthFuture::verifying(verification, request, inner)
            }
        }
    }
}

/// Replaces the offered WebSocket protocols with the list without the token.
fn hide_protocol_token(headers: &mut http::HeaderMap, protocols: &str) {
    match http::HeaderValue::from_str(protocols) {
        Ok(value) => headers.insert(http::header::SEC_WEBSOCKET_PROTOCOL, value),
        Err(_) => headers.remove(http::header::SEC_WEBSOCKET_PROTOCOL),
    };
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
            #[pin]
            verification: Verification,
            request: Option<Request<B>>,
            inner: S,
        },
        Calling {
            #[pin]
            future: S::Future,
            // A rotated DPoP nonce the response offers the client.
            nonce: Option<http::HeaderValue>,
        },
        Rejected {
            response: Option<Response<bytes::Bytes>>,
        },
    }
}

impl<S, B, ResBody> AuthFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    fn verifying(verification: Verification, request: Request<B>, inner: S) -> Self {
        AuthFuture {
            state: State::Verifying {
                verification,
                request: Some(request),
                inner,
            },
        }
    }

    fn decided(outcome: Outcome, request: Request<B>, inner: &mut S) -> Self {
        AuthFuture {
            state: next(outcome, request, inner),
        }
    }
}

/// Records the outcome and calls the inner service, or holds the rejection.
fn next<S, B, ResBody>(outcome: Outcome, mut request: Request<B>, inner: &mut S) -> State<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    let nonce = outcome
        .dpop_nonce()
        .and_then(|nonce| http::HeaderValue::from_str(nonce).ok());
    match outcome.record(request.extensions_mut()) {
        Ok(()) => State::Calling {
            future: inner.call(request),
            nonce,
        },
        Err(rejection) => State::Rejected {
            response: Some(rejection_response(&rejection, &request)),
        },
    }
}

impl<S, B, ResBody> Future for AuthFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Calling { future, nonce } => {
                    let mut response = ready!(future.poll(cx))?;
                    if let Some(nonce) = nonce.take() {
                        response.headers_mut().insert(DPOP_NONCE, nonce);
                    }
                    return Poll::Ready(Ok(response.map(ResponseBody::inner)));
                }
                StateProj::Rejected { response } => {
                    let response = response.take().expect("AuthFuture polled after completion");
                    return Poll::Ready(Ok(response.map(ResponseBody::rejection)));
                }
                StateProj::Verifying {
                    verification,
                    request,
                    inner,
                } => {
                    let outcome = ready!(verification.poll(cx));
                    let request = request.take().expect("AuthFuture polled after completion");
                    let state = next(outcome, request, inner);
                    this.state.set(state);
                }
            }
        }
    }
}

/// The binding stage's nonce offer reaches the client through this layer.
#[cfg(all(test, feature = "testing"))]
mod dpop_nonce {
    use http::HeaderMap;

    use super::AuthLayer;
    use crate::Authenticator;
    use crate::binding::{Binding, Nonces};
    use crate::testing::{DpopKey, TestIssuer};

    #[tokio::test]
    async fn a_rotated_nonce_is_answered_with_the_current_one_in_dpop_nonce() {
        let issuer = TestIssuer::new();
        let nonces = Nonces::new(b"0123456789abcdef0123456789abcdef".to_vec()).unwrap();
        let binding = Binding::new()
            .nonces(nonces.clone())
            .public_url("https://api.example.com")
            .unwrap();
        let app = tower::ServiceBuilder::new()
            .layer(AuthLayer::required(
                Authenticator::new(issuer.verifier()).binding(binding),
            ))
            .service_fn(|_: http::Request<String>| async {
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            });
        let client = DpopKey::es256();
        let token = issuer.token().bound_to(&client).sign();
        let previous = nonces.at(nonces.step_now() - 1);
        let proof = client
            .proof("GET", "https://api.example.com/items")
            .access_token(&token)
            .nonce(&previous)
            .sign();
        let mut headers = HeaderMap::new();
        headers.insert("authorization", format!("DPoP {token}").parse().unwrap());
        headers.insert("dpop", proof.parse().unwrap());
        let mut request = http::Request::get("/items").body(String::new()).unwrap();
        *request.headers_mut() = headers;
        let response = tower::ServiceExt::oneshot(app, request).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["dpop-nonce"], nonces.current());
    }
}
