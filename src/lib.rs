#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod authenticator;
pub mod credential;
mod crypto;
mod error;
mod layer;
mod principal;
pub mod require;
pub mod verify;

#[cfg(feature = "actix-web")]
pub mod actix;
#[cfg(feature = "axum")]
mod axum;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "testing")]
pub mod testing;

pub use authenticator::Authenticator;
pub use credential::{Credential, Credentials};
pub use error::{ClaimError, ClaimReason, Denied, Error, ErrorResponse, ErrorStyle, InvalidToken, Rejection};
pub use layer::{AuthFuture, AuthLayer, AuthService};
pub use principal::{ClaimTypeError, ContextClaims, ContextValue, Principal, PrincipalMapping, Source};
pub use require::{RequireFuture, RequireLayer, RequireService, Requirement};
pub use verify::{ConfigError, FetchPolicy, Issuer, KeyError, KeySet, Verifier, VerifierBuilder};

#[cfg(feature = "axum")]
pub use crate::axum::Claims;

/// The signature algorithms (re-exported from `jsonwebtoken`).
pub use jsonwebtoken::Algorithm;
