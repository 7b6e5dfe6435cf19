#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The core: no framework, no transport.
pub mod binding;
pub mod config;
pub mod credential;
mod crypto;
mod error;
mod local_cache;
pub mod pipeline;
mod principal;
pub mod require;
pub mod resource;
pub mod routes;
pub mod session;
pub mod telemetry;
mod verify;

/// Configurations for common identity providers (Auth0, Amazon Cognito,
/// Keycloak, Microsoft Entra ID, Firebase, Okta, SuperTokens), testing your
/// own handlers, sender-constrained tokens (DPoP, mutual TLS), running
/// several instances, and coming from `jwt-authorizer`.
#[doc = include_str!("../docs/cookbook.md")]
pub mod cookbook {}

// Adapters: each imports the core, never another adapter.
#[cfg(feature = "actix-web")]
pub mod actix;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "tonic")]
pub mod tonic;
pub mod tower;

pub use error::{
    ClaimError, ClaimReason, Denied, Error, ErrorBody, ErrorFormat, ErrorRenderer, ErrorResponse, ErrorStyle,
    InvalidToken, Rejection, UnquotableUrl,
};
pub use pipeline::authenticator::Authenticator;
pub use principal::{ClaimTypeError, Claims, ContextClaims, ContextValue, Principal, PrincipalMapping, Source};
pub use verify::{ConfigError, DEFAULT_CACHE_CAPACITY, Issuer, KeyError, KeySet, Verifier, VerifierBuilder};
#[cfg(feature = "remote-keys")]
pub use verify::{FetchPolicy, Introspection};

/// The signature algorithms (re-exported from `jsonwebtoken`).
pub use jsonwebtoken::Algorithm;
