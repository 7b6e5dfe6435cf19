//! The principal protocol: how an authenticating adapter tells extractors and
//! requirement checks what it found, in every framework.
//!
//! An adapter that ran the pipeline writes an [`Authentication`] marker (with
//! the error style) and, when there is one, the [`Principal`] into the request
//! extensions. Every reader goes through [`Authentication::principal`]:
//!
//! | extensions hold | means | readers answer |
//! | --- | --- | --- |
//! | a principal | authenticated | the principal |
//! | the marker, no principal | anonymous (an optional layer let it pass) | 401, or `None` where optional |
//! | neither | no layer ran: a server bug | 500, logged as an error with the fix |

use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorRenderer, InvalidToken, Rejection};
use crate::principal::Principal;
use crate::require::Requirement;
use crate::telemetry::{self, Stage};

/// The marker an authenticating adapter leaves in the request extensions:
/// authentication ran for this request, and refusals are written by this
/// [`ErrorRenderer`] (its style or format, and its challenges).
///
/// A third-party adapter takes part by writing it with [`Authentication::record`]
/// (or [`Outcome::record`](super::Outcome::record)) and reading with the
/// functions below; the extractors of every framework then work behind it.
///
/// ```
/// use authorizer::pipeline::Authentication;
/// use authorizer::{ErrorStyle, Principal, Source};
///
/// let mut extensions = http::Extensions::new();
/// assert!(Authentication::principal(&extensions).is_err()); // no layer ran: 500
///
/// Authentication::record(&mut extensions, ErrorStyle::Rfc6750, None);
/// assert!(Authentication::principal(&extensions).unwrap().is_none()); // anonymous
///
/// Authentication::record(&mut extensions, ErrorStyle::Rfc6750, Some(Principal::new("u1", Source::Bearer)));
/// assert_eq!(Authentication::required_principal(&extensions).unwrap().id(), "u1");
/// ```
#[derive(Debug, Clone)]
pub struct Authentication {
    renderer: ErrorRenderer,
}

/// Request extensions, whatever the framework's type (`http::Extensions`, actix-web's).
pub trait RequestExtensions {
    /// The value of type `T`, if present.
    fn get_value<T: Clone + Send + Sync + 'static>(&self) -> Option<&T>;
    /// Inserts `value`, replacing any of its type.
    fn insert_value<T: Clone + Send + Sync + 'static>(&mut self, value: T);
}

impl RequestExtensions for http::Extensions {
    fn get_value<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.get::<T>()
    }

    fn insert_value<T: Clone + Send + Sync + 'static>(&mut self, value: T) {
        self.insert(value);
    }
}

const NO_LAYER: &str = "a handler or requirement asked for the principal, but no authentication ran for \
                        this request: put authorizer::tower::AuthLayer (axum, tonic, hyper) or \
                        authorizer::actix::AuthMiddleware (actix-web) around the route";

impl Authentication {
    /// Writes what authentication found: the marker (with how refusals are
    /// written: a built-in [`ErrorStyle`](crate::ErrorStyle) or a configured
    /// [`ErrorRenderer`]), and the principal if any.
    pub fn record<E: RequestExtensions + ?Sized>(
        extensions: &mut E,
        renderer: impl Into<ErrorRenderer>,
        principal: Option<Principal>,
    ) {
        extensions.insert_value(Authentication {
            renderer: renderer.into(),
        });
        if let Some(principal) = principal {
            extensions.insert_value(principal);
        }
    }

    /// How to write a refusal of this request: the marker's renderer, or the default.
    pub fn renderer_of<E: RequestExtensions + ?Sized>(extensions: &E) -> ErrorRenderer {
        extensions
            .get_value::<Authentication>()
            .map_or_else(ErrorRenderer::default, |marker| marker.renderer.clone())
    }

    /// The principal: `Ok(None)` for an anonymous request; a 500 rejection
    /// (logged once, with the fix) when no authentication ran. A principal
    /// without a marker (inserted by hand, in tests) is taken as it is.
    pub fn principal<E: RequestExtensions + ?Sized>(extensions: &E) -> Result<Option<&Principal>, Rejection> {
        if let Some(principal) = extensions.get_value::<Principal>() {
            return Ok(Some(principal));
        }
        if extensions.get_value::<Authentication>().is_some() {
            return Ok(None);
        }
        tracing::error!("{NO_LAYER}");
        telemetry::decision(Stage::Authorize, Err(&Error::MissingLayer));
        Err(Rejection::new(Error::MissingLayer, ErrorRenderer::default()))
    }

    /// The principal, or a 401 rejection for an anonymous request (500 when no
    /// authentication ran).
    pub fn required_principal<E: RequestExtensions + ?Sized>(extensions: &E) -> Result<&Principal, Rejection> {
        Authentication::principal(extensions)?
            .ok_or_else(|| Rejection::new(Error::MissingCredential, Authentication::renderer_of(extensions)))
    }

    /// The principal when it meets `requirement`: 403 with every failed check
    /// when it does not (a step-up challenge, 401, in the RFC 6750 style), 401
    /// for an anonymous request, 500 when no authentication ran.
    pub fn authorize<'e, E: RequestExtensions + ?Sized>(
        extensions: &'e E,
        requirement: &Requirement,
    ) -> Result<&'e Principal, Rejection> {
        let found = Authentication::principal(extensions)?;
        let style = || Authentication::renderer_of(extensions);
        let decided = requirement.authorize(found);
        telemetry::decision(Stage::Authorize, decided.as_ref().map(|_| found));
        decided.map_err(|error| {
            if let Error::Forbidden(denied) = &error {
                tracing::debug!(failed = denied.errors.len(), "claim requirements not met");
            }
            Rejection::new(error, style())
        })?;
        // `authorize` refuses an anonymous request: a principal is here.
        found.ok_or_else(|| Rejection::new(Error::MissingCredential, style()))
    }

    /// The principal's claims deserialized into `T`: 401 when they do not fit
    /// (or for an anonymous request), 500 when no authentication ran.
    pub fn claims<T: DeserializeOwned, E: RequestExtensions + ?Sized>(extensions: &E) -> Result<T, Rejection> {
        Authentication::required_principal(extensions)?
            .claims_as()
            .map_err(|error| {
                tracing::debug!(%error, "claims do not fit the handler's type");
                Rejection::new(
                    Error::InvalidToken(InvalidToken::ClaimType),
                    Authentication::renderer_of(extensions),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorStyle;
    use crate::principal::Source;
    use crate::require::scope;

    fn with(principal: Option<Principal>, marker: Option<ErrorStyle>) -> http::Extensions {
        let mut extensions = http::Extensions::new();
        if let Some(style) = marker {
            Authentication::record(&mut extensions, style, None);
        }
        if let Some(principal) = principal {
            extensions.insert(principal);
        }
        extensions
    }

    fn status(rejection: Rejection) -> u16 {
        rejection.error().status().as_u16()
    }

    #[test]
    fn no_marker_is_a_server_error_and_anonymous_is_401() {
        let none = with(None, None);
        assert_eq!(status(Authentication::principal(&none).unwrap_err()), 500);
        assert_eq!(status(Authentication::required_principal(&none).unwrap_err()), 500);
        let anonymous = with(None, Some(ErrorStyle::Rfc6750));
        assert!(Authentication::principal(&anonymous).unwrap().is_none());
        let rejection = Authentication::required_principal(&anonymous).unwrap_err();
        assert_eq!(status(rejection.clone()), 401);
        assert_eq!(
            rejection.to_response(),
            Error::MissingCredential.to_response(ErrorStyle::Rfc6750)
        );
    }

    #[test]
    fn requirements_and_claims_read_the_same_principal() {
        let p = Principal::new("u1", Source::Bearer)
            .with_claims(json!({"n": 1}).as_object().unwrap().clone())
            .with_scopes(vec!["read".into()]);
        let found = with(Some(p), Some(ErrorStyle::SuperTokens));
        assert_eq!(Authentication::authorize(&found, &scope("read")).unwrap().id(), "u1");
        assert_eq!(
            status(Authentication::authorize(&found, &scope("write")).unwrap_err()),
            403
        );
        assert_eq!(
            Authentication::claims::<serde_json::Value, _>(&found).unwrap(),
            json!({"n": 1})
        );
        let misfit = Authentication::claims::<Vec<u8>, _>(&found).unwrap_err();
        assert!(matches!(misfit.error(), Error::InvalidToken(InvalidToken::ClaimType)));
        assert_eq!(
            status(Authentication::authorize(&with(None, None), &scope("read")).unwrap_err()),
            500
        );
    }
}
