//! The one request pipeline every adapter runs, and the principal protocol.
//!
//! ```text
//! RequestParts ─► upstream principal? ─► credential ─► verify (cache) ─► session? ─► Outcome
//! ```
//!
//! The input is [`RequestParts`]: what a decision needs from a request. The
//! [`Authenticator`] runs the stages in that fixed order (the
//! [session stage](crate::session) when configured, for upstream principals
//! too) and answers an [`Attempt`]: decided at once (no credential, a cached
//! token and a cached session answer, an early refusal), or a
//! [`Verification`] still running. Either way the result
//! is an [`Outcome`]: a principal, anonymous, or a rejection in the configured
//! error style. Adapters only translate: build the parts, write the outcome
//! with the [principal protocol](Authentication), and render a rejection as
//! their framework's response. Per-route [requirements](crate::require) are
//! checked by the same protocol's [`Authentication::authorize`].

pub(crate) mod authenticator;
mod outcome;
mod parts;
mod protocol;

pub(crate) use authenticator::Authenticator;
pub use outcome::{Attempt, Mode, Outcome, Verification};
pub use parts::RequestParts;
pub use protocol::{Authentication, RequestExtensions};

use crate::error::Error;
use crate::principal::{Principal, PrincipalMapping};

/// A principal that something in front of this service already established
/// (API Gateway's authorizer, a service mesh): the pipeline's first source.
/// When it answers, no credential is read or verified.
///
/// It reads the request's `http` extensions, which the tower adapters (axum,
/// hyper, tonic, `lambda_http`) hand over; an adapter whose framework has
/// none (actix-web) gives it nothing, so there it never answers (and the
/// actix middleware says so in the log when it is built).
///
/// ```
/// use authorizer::pipeline::Upstream;
/// use authorizer::{Error, Principal, PrincipalMapping, Source};
///
/// /// A caller a trusted sidecar put in the extensions.
/// #[derive(Clone)]
/// struct SidecarCaller(String);
///
/// struct Sidecar;
///
/// impl Upstream for Sidecar {
///     fn principal(&self, extensions: &http::Extensions, _: &PrincipalMapping) -> Option<Result<Principal, Error>> {
///         let caller = extensions.get::<SidecarCaller>()?;
///         Some(Ok(Principal::new(caller.0.clone(), Source::GatewayIam)))
///     }
/// }
/// ```
pub trait Upstream: Send + Sync + 'static {
    /// The established principal: `None` when there is none (the credential is
    /// then read and verified as usual), `Some(Err)` when what is there cannot
    /// be read (refused). `mapping` is the verifier's, so that claims verified
    /// upstream become the same principal as when verified here.
    fn principal(&self, extensions: &http::Extensions, mapping: &PrincipalMapping) -> Option<Result<Principal, Error>>;

    /// The client certificate (DER) the upstream component saw in its
    /// mutual-TLS handshake (API Gateway's mTLS), for a request whose
    /// credential is verified here: what a certificate-bound token is
    /// checked against. Default: none.
    fn client_certificate(&self, extensions: &http::Extensions) -> Option<Vec<u8>> {
        let _ = extensions;
        None
    }
}
