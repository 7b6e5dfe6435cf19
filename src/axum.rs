//! axum extractors: [`Principal`], `Option<Principal>` and [`Claims`].

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorStyle, InvalidToken, Rejection};
use crate::layer::LayerRan;
use crate::principal::Principal;

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.to_response().into_http()
    }
}

/// The principal the layer found, or why there is none.
pub(crate) fn principal_of(extensions: &http::Extensions) -> Result<Option<Principal>, Rejection> {
    match (extensions.get::<Principal>(), extensions.get::<LayerRan>()) {
        (Some(principal), _) => Ok(Some(principal.clone())),
        (None, Some(_)) => Ok(None),
        (None, None) => {
            tracing::error!("a handler asked for the principal but no AuthLayer ran for this route; add AuthLayer");
            Err(Rejection::new(Error::MissingLayer, ErrorStyle::default()))
        }
    }
}

fn style_of(extensions: &http::Extensions) -> ErrorStyle {
    extensions
        .get::<LayerRan>()
        .map_or_else(ErrorStyle::default, |ran| ran.style)
}

/// Requires a principal: 401 when the (optional) layer let an anonymous request
/// through, 500 when no layer ran at all.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        principal_of(&parts.extensions)?
            .ok_or_else(|| Rejection::new(Error::MissingCredential, style_of(&parts.extensions)))
    }
}

/// `Option<Principal>`: `None` for an anonymous request on an optional route;
/// still 500 when no layer ran, so a forgotten layer is not mistaken for anonymity.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Principal {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        principal_of(&parts.extensions)
    }
}

/// The principal's claims deserialized into `T`.
///
/// ```
/// use authorizer::Claims;
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
/// Claims that do not fit `T` are answered as an invalid token (401).
#[derive(Debug, Clone)]
pub struct Claims<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Claims<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = <Principal as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        principal.claims_as().map(Claims).map_err(|error| {
            tracing::debug!(%error, "claims do not fit the handler's type");
            Rejection::new(
                Error::InvalidToken(InvalidToken::ClaimType),
                style_of(&parts.extensions),
            )
        })
    }
}
