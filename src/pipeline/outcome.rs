//! What the pipeline answers: an [`Outcome`], now or after a [`Verification`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::protocol::{Authentication, RequestExtensions};
use crate::error::{Error, ErrorRenderer, Rejection};
use crate::principal::Principal;
use crate::telemetry::{self, Stage};

/// Whether a request without a credential may pass. A bad credential is
/// refused in both modes: a client that sent one must learn it is bad.
///
/// ```
/// use authorizer::pipeline::{Mode, RequestParts};
/// use authorizer::testing::TestIssuer;
/// use authorizer::Authenticator;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let auth = Authenticator::new(TestIssuer::new().verifier());
/// let headers = http::HeaderMap::new();
/// let anonymous = RequestParts::new("GET", "/public", &headers);
/// assert!(auth.authenticate(&anonymous, Mode::Optional).await.error().is_none());
/// assert!(auth.authenticate(&anonymous, Mode::Required).await.error().is_some());
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A request without a credential is refused (401).
    Required,
    /// A request without a credential passes anonymously.
    Optional,
}

/// The pipeline's decision for one request: a principal, anonymous, or a
/// refusal in the configured error style.
///
/// ```
/// use authorizer::pipeline::{Mode, RequestParts};
/// use authorizer::testing::TestIssuer;
/// use authorizer::Authenticator;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let auth = Authenticator::new(TestIssuer::new().verifier());
/// let mut request = http::Request::get("/me").body(()).unwrap();
/// let outcome = auth.authenticate(&RequestParts::from_request(&request), Mode::Optional).await;
/// assert!(outcome.principal().is_none() && outcome.error().is_none()); // anonymous
///
/// // What an adapter does next: record it for the extractors, or answer the refusal.
/// outcome.record(request.extensions_mut()).expect("anonymous requests pass an optional mode");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Outcome {
    renderer: ErrorRenderer,
    // Boxed: an outcome moves through every adapter's future, and refusals,
    // the only outcomes with an error, are the rarer ones.
    result: Result<Option<Principal>, Box<Error>>,
    dpop_nonce: Option<Box<str>>,
}

impl Outcome {
    /// Applies `mode` to what the stages found: only a required mode turns "no
    /// credential" into a refusal.
    pub(crate) fn new(result: Result<Option<Principal>, Error>, mode: Mode, renderer: ErrorRenderer) -> Self {
        let result = match (result, mode) {
            (Ok(None), Mode::Required) => Err(Error::MissingCredential),
            (result, _) => result,
        };
        if let Err(error) = &result {
            tracing::debug!(%error, "request rejected");
        }
        telemetry::decision(Stage::Authenticate, result.as_ref().map(Option::as_ref));
        Outcome {
            renderer,
            result: result.map_err(Box::new),
            dpop_nonce: None,
        }
    }

    /// Adds the DPoP nonce to offer on a successful answer.
    pub(crate) fn offering(mut self, nonce: Option<String>) -> Self {
        self.dpop_nonce = nonce.map(String::into_boxed_str);
        self
    }

    /// The `DPoP-Nonce` a successful answer should carry: the server's nonce
    /// rotated since the client's proof took it (RFC 9449 §8.2). Adapters
    /// add it to the response; `None` almost always.
    pub fn dpop_nonce(&self) -> Option<&str> {
        self.dpop_nonce.as_deref()
    }

    /// The principal, if authenticated.
    pub fn principal(&self) -> Option<&Principal> {
        self.result.as_ref().ok().and_then(Option::as_ref)
    }

    /// The error, if refused.
    pub fn error(&self) -> Option<&Error> {
        self.result.as_ref().err().map(|error| &**error)
    }

    /// The decision, for telemetry.
    pub(crate) fn result(&self) -> Result<Option<&Principal>, &Error> {
        self.result.as_ref().map(Option::as_ref).map_err(|error| &**error)
    }

    /// How a refusal is written: the configured style or format, and challenges.
    pub fn renderer(&self) -> &ErrorRenderer {
        &self.renderer
    }

    /// The principal (`None`: anonymous), or the rejection to answer with.
    pub fn into_result(self) -> Result<Option<Principal>, Rejection> {
        let Outcome { renderer, result, .. } = self;
        result.map_err(|error| Rejection::new(*error, renderer))
    }

    /// The principal protocol's write: records the outcome in the request
    /// extensions for the extractors and requirement checks, or hands back
    /// the rejection to answer with.
    pub fn record<E: RequestExtensions + ?Sized>(self, extensions: &mut E) -> Result<(), Rejection> {
        let Outcome { renderer, result, .. } = self;
        match result {
            Ok(principal) => {
                Authentication::record(extensions, renderer, principal);
                Ok(())
            }
            Err(error) => Err(Rejection::new(*error, renderer)),
        }
    }
}

/// The pipeline's answer for a request: decided at once (no credential, a
/// cached token, an early refusal: nothing boxed, nothing awaited), or a
/// verification still running. Await it for the [`Outcome`] either way.
#[must_use = "an attempt decides nothing until its outcome is read"]
#[derive(Debug)]
pub enum Attempt {
    /// Decided without waiting.
    Ready(Outcome),
    /// A verification (key fetch, signature) or a session-store lookup still to finish.
    Pending(Verification),
}

impl IntoFuture for Attempt {
    type Output = Outcome;
    type IntoFuture = Verification;

    fn into_future(self) -> Verification {
        match self {
            Attempt::Ready(outcome) => Verification {
                state: State::Ready(Some(outcome)),
            },
            Attempt::Pending(verification) => verification,
        }
    }
}

/// The future of an [`Attempt`]: a verification that owns what it needs (a
/// copy of the token), or an outcome already decided.
pub struct Verification {
    state: State,
}

enum State {
    Ready(Option<Outcome>),
    Running(Pin<Box<dyn Future<Output = Outcome> + Send>>),
}

impl Verification {
    pub(crate) fn new(future: impl Future<Output = Outcome> + Send + 'static) -> Self {
        Verification {
            state: State::Running(Box::pin(future)),
        }
    }
}

impl fmt::Debug for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Ready(_) => "ready",
            State::Running(_) => "running",
        };
        f.debug_struct("Verification").field("state", &state).finish()
    }
}

impl Future for Verification {
    type Output = Outcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        match &mut self.state {
            State::Ready(outcome) => Poll::Ready(outcome.take().expect("Verification polled after completion")),
            State::Running(future) => future.as_mut().poll(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let style = ErrorRenderer::default;
        let required = Outcome::new(Ok(None), Mode::Required, style());
        assert!(matches!(required.error(), Some(Error::MissingCredential)));
        let optional = Outcome::new(Ok(None), Mode::Optional, style());
        assert!(optional.error().is_none() && optional.principal().is_none());
        let expired = Outcome::new(Err(Error::Expired), Mode::Optional, style());
        assert!(matches!(expired.error(), Some(Error::Expired)));
    }
}
