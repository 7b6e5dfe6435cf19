//! The one error type, and how it is rendered as an HTTP response.

mod render;

pub(crate) use render::quotable_url;
pub use render::{ErrorBody, ErrorFormat, ErrorRenderer, ErrorResponse, UnquotableUrl};

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::require::step_up::StepUp;

/// Why a request was not authenticated or not authorized.
///
/// The [`Display`](std::fmt::Display) text and [`InvalidToken`] reason are for logs;
/// [`Error::to_response`] renders what a client sees, which never includes them.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No credential was presented.
    #[error("no credential was presented")]
    MissingCredential,
    /// A credential was presented but is not valid.
    #[error("invalid credential: {0}")]
    InvalidToken(InvalidToken),
    /// A credential was valid but has expired (clients should refresh it).
    #[error("the credential has expired")]
    Expired,
    /// A cookie credential on an unsafe method came without anti-CSRF proof.
    #[error("cookie credential on an unsafe method without anti-CSRF proof")]
    CsrfRejected,
    /// The principal does not meet the route's claim requirements.
    #[error("claim requirements not met ({} failed)", .0.errors.len())]
    Forbidden(Denied),
    /// Signing keys could not be fetched and none are cached.
    #[error("signing keys are unavailable")]
    KeysUnavailable,
    /// The session store could not say whether the credential was revoked,
    /// and the session check fails closed (see [`crate::session`]).
    #[error("the session store is unavailable")]
    SessionStoreUnavailable,
    /// The issuer's introspection endpoint did not answer usably (down, slow,
    /// not JSON, no `active`, too large, a redirect) for a token nothing
    /// cached could answer for.
    #[error("token introspection is unavailable")]
    IntrospectionUnavailable,
    /// A principal was asked for but no authentication layer ran: a server bug.
    #[error("no authentication layer ran for this request (add AuthLayer or the actix middleware)")]
    MissingLayer,
    /// The request's DPoP proof is missing or not valid for it (RFC 9449 §4.3).
    #[error("invalid DPoP proof: {0}")]
    InvalidProof(InvalidProof),
    /// The DPoP proof lacks the server's current nonce (RFC 9449 §9): the
    /// client should send the request again with a proof holding this one.
    #[error("the DPoP proof needs the server's current nonce")]
    UseDpopNonce(String),
    /// The shared DPoP replay store could not answer: the proof's freshness
    /// is unknown, so the request is refused (503).
    #[error("the DPoP replay store is unavailable")]
    ReplayStoreUnavailable,
}

/// Why a presented credential was rejected. For logs only: clients see one generic message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidToken {
    /// Not a compact JWS, bad base64 or bad JSON.
    #[error("malformed token")]
    Malformed,
    /// Larger than the configured limit.
    #[error("token too large")]
    TooLarge,
    /// More than one credential of the same kind (two cookies, two headers).
    #[error("ambiguous credential")]
    Ambiguous,
    /// `alg` is not allowed, or does not fit the key.
    #[error("algorithm not allowed")]
    Algorithm,
    /// The header names a `crit` extension we do not implement, or uses `b64`/nesting.
    #[error("unsupported critical header")]
    UnsupportedHeader,
    /// No key matches the token's `kid` (after any permitted refetch).
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// `iss` is missing or not a configured issuer.
    #[error("issuer not accepted")]
    Issuer,
    /// `aud` does not name a configured audience.
    #[error("audience not accepted")]
    Audience,
    /// `nbf` (or `iat`) is in the future.
    #[error("not yet valid")]
    NotYetValid,
    /// A required claim is missing.
    #[error("required claim missing")]
    MissingClaim,
    /// A registered claim has the wrong type (a string `exp`, say).
    #[error("claim has the wrong type")]
    ClaimType,
    /// `typ` is not the configured one.
    #[error("unexpected token type")]
    Type,
    /// Older than the configured maximum token age.
    #[error("token too old")]
    TooOld,
    /// The token, its session, or every token of its subject issued until
    /// then, was revoked (see [`crate::session`]).
    #[error("token or session revoked")]
    Revoked,
    /// The issuer says the token is not active (introspection, RFC 7662):
    /// expired, revoked, or unknown to it.
    #[error("token not active")]
    Inactive,
    /// A sender-constrained token (`cnf.jkt`) was presented as a bearer
    /// token, or an unbound token with the `DPoP` scheme.
    #[error("token binding does not fit the scheme")]
    Binding,
    /// The DPoP proof's key is not the key the token is bound to (`cnf.jkt`).
    #[error("proof key does not match the token's binding")]
    KeyMismatch,
    /// A certificate-bound token (`cnf.x5t#S256`) came without the client
    /// certificate it is bound to.
    #[error("client certificate does not match the token's binding")]
    Certificate,
    /// The authorization scheme is not allowed here (`DPoP` where DPoP is
    /// off, `Bearer` where DPoP is required).
    #[error("authorization scheme not allowed")]
    Scheme,
}

/// Why a DPoP proof was rejected (RFC 9449 §4.3). For logs only: clients see
/// `invalid_dpop_proof` and one generic message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidProof {
    /// The `DPoP` scheme came without a `DPoP` header.
    #[error("no proof")]
    Missing,
    /// More than one `DPoP` header.
    #[error("more than one proof")]
    Multiple,
    /// Larger than any proof a client makes.
    #[error("proof too large")]
    TooLarge,
    /// Not a compact JWS with JSON header and claims (duplicates refused).
    #[error("malformed proof")]
    Malformed,
    /// `typ` is not `dpop+jwt`, or the header has `crit`.
    #[error("not a DPoP proof")]
    Type,
    /// `alg` is not on the allow-list (never `none`, never HMAC).
    #[error("algorithm not allowed")]
    Algorithm,
    /// `jwk` is missing, holds private parts, or does not fit `alg`.
    #[error("unusable proof key")]
    Key,
    /// The signature does not verify with the proof's own `jwk`.
    #[error("bad proof signature")]
    Signature,
    /// `jti`, `htm`, `htu` or `iat` is missing or of the wrong type.
    #[error("required proof claim missing")]
    MissingClaim,
    /// `htm` is not the request's method.
    #[error("method does not match")]
    Method,
    /// `htu` is not the request's URL.
    #[error("URL does not match")]
    Url,
    /// `iat` is outside the accepted window.
    #[error("issued outside the accepted window")]
    IssuedAt,
    /// `ath` is missing or not the hash of the presented access token.
    #[error("access token hash does not match")]
    AccessTokenHash,
    /// The same `jti` was seen within the window.
    #[error("proof replayed")]
    Replayed,
}

/// The claim requirements a principal failed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Denied {
    /// Every failed check, with its reason.
    pub errors: Vec<ClaimError>,
    /// Scopes that were required and missing (rendered as RFC 6750 `insufficient_scope`).
    pub missing_scopes: Vec<String>,
    /// Set when signing in again would meet the requirements: only
    /// [step-up](crate::require::step_up) checks (and scopes) failed. Rendered
    /// in the RFC 6750 style as a 401 `insufficient_user_authentication`
    /// challenge (RFC 9470).
    pub step_up: Option<StepUp>,
}

/// One failed claim check, in the shape of SuperTokens' `claimValidationErrors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimError {
    /// The claim (`st-ev`, `st-role`, ...) or a name given to the check.
    pub id: String,
    /// Why it failed.
    pub reason: ClaimReason,
}

/// The reason a claim check failed. `Debug` leaves out the actual value (a
/// claim value, possibly personal data); the response body still carries it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimReason {
    /// What went wrong (`wrong value`, `value does not exist`, ...).
    pub message: String,
    /// What the check wanted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expected_value: Option<Value>,
    /// What the claim held (absent when the claim is missing).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub actual_value: Option<Value>,
}

impl std::fmt::Debug for ClaimReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimReason")
            .field("message", &self.message)
            .field("expected_value", &self.expected_value)
            .field(
                "actual_value",
                &self.actual_value.as_ref().map(|_| format_args!("<redacted>")),
            )
            .finish()
    }
}

impl ClaimError {
    /// A failure of check `id`.
    pub fn new(id: impl Into<String>, message: impl Into<String>) -> Self {
        ClaimError {
            id: id.into(),
            reason: ClaimReason {
                message: message.into(),
                expected_value: None,
                actual_value: None,
            },
        }
    }

    /// Adds the expected value.
    pub fn expected(mut self, value: impl Into<Value>) -> Self {
        self.reason.expected_value = Some(value.into());
        self
    }

    /// Adds the actual value.
    pub fn actual(mut self, value: impl Into<Value>) -> Self {
        self.reason.actual_value = Some(value.into());
        self
    }
}

/// The two built-in ways error bodies are written (the built-in
/// [`ErrorFormat`]s; an API with an error shape of its own writes another).
///
/// ```
/// use authorizer::{Error, ErrorStyle};
///
/// let oauth = Error::Expired.to_response(ErrorStyle::Rfc6750);
/// assert_eq!(oauth.status, 401);
/// assert!(oauth.www_authenticate[0].to_str().unwrap().contains("invalid_token"));
/// let supertokens = Error::Expired.to_response(ErrorStyle::SuperTokens);
/// assert!(supertokens.body.contains("try refresh token"));
/// assert_eq!("rfc6750".parse::<ErrorStyle>(), Ok(ErrorStyle::Rfc6750));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorStyle {
    /// `{"error": "...", "error_description": "..."}`, as RFC 6750 and OAuth use.
    Rfc6750,
    /// SuperTokens' bodies (`unauthorised`, `try refresh token`, `invalid claim`),
    /// which its frontend SDKs act on.
    #[default]
    SuperTokens,
}

impl std::str::FromStr for ErrorStyle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rfc6750" => Ok(ErrorStyle::Rfc6750),
            "supertokens" => Ok(ErrorStyle::SuperTokens),
            other => Err(format!(
                "unknown error style `{other}` (expected `rfc6750` or `supertokens`)"
            )),
        }
    }
}

const INVALID_TOKEN_DESCRIPTION: &str = "the access token is invalid";
const EXPIRED_DESCRIPTION: &str = "the access token expired";
const INVALID_PROOF_DESCRIPTION: &str = "the DPoP proof is invalid";
const USE_NONCE_DESCRIPTION: &str = "the DPoP proof must carry the nonce this server provides";
const FORBIDDEN_DESCRIPTION: &str = "the credential does not meet this route's requirements";

impl Error {
    /// The status code this error is answered with in the RFC 6750 style (a
    /// step-up is 401 there, 403 in the SuperTokens style: see
    /// [`status_in`](Error::status_in)).
    pub fn status(&self) -> StatusCode {
        match self {
            Error::MissingCredential
            | Error::InvalidToken(_)
            | Error::Expired
            | Error::InvalidProof(_)
            | Error::UseDpopNonce(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(Denied { step_up: Some(_), .. }) => StatusCode::UNAUTHORIZED,
            Error::CsrfRejected | Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::KeysUnavailable
            | Error::IntrospectionUnavailable
            | Error::SessionStoreUnavailable
            | Error::ReplayStoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Error::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The status code this error is answered with in `style`: SuperTokens'
    /// frontends expect every failed claim, step-up included, as 403.
    pub fn status_in(&self, style: ErrorStyle) -> StatusCode {
        self.status_with(style.challenges_step_up())
    }

    /// The status when step-up refusals are (`true`) or are not challenged.
    fn status_with(&self, challenges_step_up: bool) -> StatusCode {
        match self {
            Error::Forbidden(_) if !challenges_step_up => StatusCode::FORBIDDEN,
            _ => self.status(),
        }
    }

    /// The gRPC status code this error is answered with on a gRPC request:
    /// `UNAUTHENTICATED` (16) where HTTP says 401, `PERMISSION_DENIED` (7) for
    /// 403, `UNAVAILABLE` (14) for 503 and `INTERNAL` (13) for 500.
    pub fn grpc_code(&self) -> u16 {
        match self.status() {
            StatusCode::UNAUTHORIZED => 16,
            StatusCode::FORBIDDEN => 7,
            StatusCode::SERVICE_UNAVAILABLE => 14,
            _ => 13,
        }
    }

    /// The `grpc-message` for this error: what a client may act on (expired
    /// or invalid, which requirement kind), never the internal reason.
    pub fn grpc_message(&self) -> &'static str {
        match self {
            Error::MissingCredential => "authentication required",
            Error::InvalidToken(_) => INVALID_TOKEN_DESCRIPTION,
            Error::Expired => EXPIRED_DESCRIPTION,
            Error::CsrfRejected => "anti-CSRF check failed",
            Error::Forbidden(Denied { step_up: Some(_), .. }) => {
                "step-up authentication required: sign in again, more strongly or more recently"
            }
            Error::Forbidden(_) => "the credential does not meet this method's requirements",
            Error::KeysUnavailable
            | Error::IntrospectionUnavailable
            | Error::SessionStoreUnavailable
            | Error::ReplayStoreUnavailable => "the service cannot verify credentials right now",
            Error::MissingLayer => "internal server error",
            Error::InvalidProof(_) => INVALID_PROOF_DESCRIPTION,
            Error::UseDpopNonce(_) => USE_NONCE_DESCRIPTION,
        }
    }

    /// Renders the error for a client in a built-in style, or with a
    /// configured [`ErrorRenderer`].
    pub fn to_response(&self, renderer: impl Into<ErrorRenderer>) -> ErrorResponse {
        renderer.into().render(self)
    }

    /// The parameters of the `DPoP` challenge of an error only DPoP requests
    /// meet (a bad proof, a missing nonce); `None` for the others.
    fn dpop_params(&self) -> Option<String> {
        Some(match self {
            Error::InvalidProof(_) => {
                format!(r#"error="invalid_dpop_proof", error_description="{INVALID_PROOF_DESCRIPTION}""#)
            }
            Error::UseDpopNonce(_) => format!(r#"error="use_dpop_nonce", error_description="{USE_NONCE_DESCRIPTION}""#),
            _ => return None,
        })
    }

    /// The parameters of the `Bearer` challenge (`""` for a bare `Bearer`),
    /// or `None` when the answer carries no challenge.
    fn bearer_params(&self, challenges_step_up: bool) -> Option<String> {
        let params = match self {
            // RFC 9470's challenge belongs to its 401, not to SuperTokens' 403.
            Error::Forbidden(Denied { step_up: Some(_), .. }) if !challenges_step_up => return None,
            Error::MissingCredential => String::new(),
            Error::InvalidToken(_) => {
                format!(r#"error="invalid_token", error_description="{INVALID_TOKEN_DESCRIPTION}""#)
            }
            Error::Expired => format!(r#"error="invalid_token", error_description="{EXPIRED_DESCRIPTION}""#),
            Error::Forbidden(Denied {
                step_up: Some(step_up),
                missing_scopes,
                ..
            }) => step_up
                .challenge_params(&scope_token_list(missing_scopes))
                .unwrap_or_else(|| format!(r#"error="{}""#, step_up.error_code())),
            Error::Forbidden(denied) if !denied.missing_scopes.is_empty() => format!(
                r#"error="insufficient_scope", scope="{}""#,
                scope_token_list(&denied.missing_scopes)
            ),
            _ => return None,
        };
        Some(params)
    }

    fn body(&self, style: ErrorStyle) -> Value {
        match style {
            ErrorStyle::Rfc6750 => self.rfc6750_body(),
            ErrorStyle::SuperTokens => self.supertokens_body(),
        }
    }

    fn rfc6750_body(&self) -> Value {
        let (error, description) = match self {
            Error::MissingCredential => ("invalid_request", "authentication required"),
            Error::InvalidToken(_) => ("invalid_token", INVALID_TOKEN_DESCRIPTION),
            Error::Expired => ("invalid_token", EXPIRED_DESCRIPTION),
            Error::CsrfRejected => ("forbidden", "anti-CSRF check failed"),
            Error::Forbidden(denied) => {
                let (error, description) = match (&denied.step_up, denied.missing_scopes.is_empty()) {
                    (Some(step_up), _) => (step_up.error_code(), step_up.description()),
                    (None, true) => ("forbidden", FORBIDDEN_DESCRIPTION),
                    (None, false) => ("insufficient_scope", FORBIDDEN_DESCRIPTION),
                };
                let mut body = json!({
                    "error": error,
                    "error_description": description,
                    "claim_errors": denied.errors,
                });
                if let Some(step_up) = &denied.step_up {
                    if !step_up.acr_values().is_empty() {
                        body["acr_values"] = Value::String(step_up.acr_values().join(" "));
                    }
                    if let Some(seconds) = step_up.max_age_seconds() {
                        body["max_age"] = Value::from(seconds);
                    }
                }
                if !denied.missing_scopes.is_empty() {
                    body["scope"] = Value::String(scope_token_list(&denied.missing_scopes));
                }
                return body;
            }
            Error::KeysUnavailable
            | Error::IntrospectionUnavailable
            | Error::SessionStoreUnavailable
            | Error::ReplayStoreUnavailable => (
                "temporarily_unavailable",
                "the service cannot verify credentials right now",
            ),
            Error::InvalidProof(_) => ("invalid_dpop_proof", INVALID_PROOF_DESCRIPTION),
            Error::UseDpopNonce(_) => ("use_dpop_nonce", USE_NONCE_DESCRIPTION),
            Error::MissingLayer => ("server_error", "internal server error"),
        };
        json!({ "error": error, "error_description": description })
    }

    fn supertokens_body(&self) -> Value {
        match self {
            Error::MissingCredential | Error::InvalidToken(_) | Error::InvalidProof(_) | Error::UseDpopNonce(_) => {
                json!({ "message": "unauthorised" })
            }
            Error::Expired => json!({ "message": "try refresh token" }),
            Error::CsrfRejected => json!({ "message": "anti-csrf check failed" }),
            Error::Forbidden(denied) => json!({
                "message": "invalid claim",
                "claimValidationErrors": denied.errors,
            }),
            Error::KeysUnavailable
            | Error::IntrospectionUnavailable
            | Error::SessionStoreUnavailable
            | Error::ReplayStoreUnavailable => {
                json!({ "message": "service unavailable" })
            }
            Error::MissingLayer => json!({ "message": "internal server error" }),
        }
    }
}

/// An error together with how to render it: what every adapter turns into
/// its framework's response (axum `IntoResponse`, actix `ResponseError`).
///
/// Boxed: it travels in the `Err` of every extractor and check, which stays
/// one pointer wide; a refusal can afford the allocation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.error)]
pub struct Rejection(Box<Refusal>);

#[derive(Debug, Clone)]
struct Refusal {
    error: Error,
    renderer: ErrorRenderer,
}

impl Rejection {
    /// Pairs an error with a built-in style or a configured [`ErrorRenderer`].
    pub fn new(error: Error, renderer: impl Into<ErrorRenderer>) -> Self {
        Rejection(Box::new(Refusal {
            error,
            renderer: renderer.into(),
        }))
    }

    /// The error.
    pub fn error(&self) -> &Error {
        &self.0.error
    }

    /// The error, without how to render it.
    pub fn into_error(self) -> Error {
        self.0.error
    }

    /// The status it is answered with.
    pub fn status(&self) -> StatusCode {
        self.0.renderer.status(&self.0.error)
    }

    /// The rendered response.
    pub fn to_response(&self) -> ErrorResponse {
        self.0.renderer.render(&self.0.error)
    }
}

/// Scope names are `NQCHAR`s (RFC 6749 §3.3): anything else is dropped so a
/// configured scope can never break the header's quoting.
fn scope_token_list(scopes: &[String]) -> String {
    scopes
        .iter()
        .map(|s| {
            s.chars()
                .filter(|c| matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl From<InvalidProof> for Error {
    fn from(reason: InvalidProof) -> Self {
        Error::InvalidProof(reason)
    }
}

impl From<InvalidToken> for Error {
    fn from(reason: InvalidToken) -> Self {
        Error::InvalidToken(reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(e: &Error, style: ErrorStyle) -> Value {
        serde_json::from_str(&e.to_response(style).body).unwrap()
    }

    #[test]
    fn statuses() {
        assert_eq!(Error::MissingCredential.status(), 401);
        assert_eq!(Error::InvalidToken(InvalidToken::Signature).status(), 401);
        assert_eq!(Error::Expired.status(), 401);
        assert_eq!(Error::CsrfRejected.status(), 403);
        assert_eq!(Error::Forbidden(Denied::default()).status(), 403);
        assert_eq!(Error::KeysUnavailable.status(), 503);
        assert_eq!(Error::MissingLayer.status(), 500);
    }

    #[test]
    fn challenges_follow_rfc6750() {
        let missing = Error::MissingCredential.to_response(ErrorStyle::SuperTokens);
        assert_eq!(missing.www_authenticate, ["Bearer"]);
        let invalid = Error::InvalidToken(InvalidToken::UnknownKey).to_response(ErrorStyle::Rfc6750);
        let challenge = &invalid.www_authenticate[0];
        assert!(
            challenge
                .to_str()
                .unwrap()
                .starts_with(r#"Bearer error="invalid_token""#)
        );
        let denied = Denied {
            errors: vec![],
            missing_scopes: vec!["read:items".into(), "bad\"scope".into()],
            step_up: None,
        };
        let forbidden = Error::Forbidden(denied).to_response(ErrorStyle::Rfc6750);
        assert_eq!(
            forbidden.www_authenticate,
            [r#"Bearer error="insufficient_scope", scope="read:items badscope""#]
        );
        assert!(
            Error::CsrfRejected
                .to_response(ErrorStyle::Rfc6750)
                .www_authenticate
                .is_empty()
        );
    }

    #[test]
    fn supertokens_bodies() {
        assert_eq!(
            body(&Error::MissingCredential, ErrorStyle::SuperTokens),
            json!({"message": "unauthorised"})
        );
        assert_eq!(
            body(&Error::Expired, ErrorStyle::SuperTokens),
            json!({"message": "try refresh token"})
        );
        let denied = Denied {
            errors: vec![ClaimError::new("st-ev", "wrong value").expected(true).actual(false)],
            missing_scopes: vec![],
            step_up: None,
        };
        assert_eq!(
            body(&Error::Forbidden(denied), ErrorStyle::SuperTokens),
            json!({"message": "invalid claim", "claimValidationErrors": [
                {"id": "st-ev", "reason": {"message": "wrong value", "expectedValue": true, "actualValue": false}}
            ]})
        );
    }

    #[test]
    fn bodies_never_carry_reasons() {
        for reason in [
            InvalidToken::UnknownKey,
            InvalidToken::Signature,
            InvalidToken::Audience,
        ] {
            let e = Error::InvalidToken(reason);
            for style in [ErrorStyle::Rfc6750, ErrorStyle::SuperTokens] {
                let r = e.to_response(style);
                assert!(!r.body.contains(&reason.to_string()));
            }
        }
        assert_eq!(
            body(&Error::InvalidToken(InvalidToken::Audience), ErrorStyle::Rfc6750),
            json!({"error": "invalid_token", "error_description": INVALID_TOKEN_DESCRIPTION})
        );
    }

    #[test]
    fn grpc_codes_follow_the_http_status() {
        assert_eq!(Error::MissingCredential.grpc_code(), 16);
        assert_eq!(Error::Expired.grpc_code(), 16);
        assert_eq!(Error::InvalidToken(InvalidToken::Signature).grpc_code(), 16);
        assert_eq!(Error::Forbidden(Denied::default()).grpc_code(), 7);
        assert_eq!(Error::CsrfRejected.grpc_code(), 7);
        assert_eq!(Error::KeysUnavailable.grpc_code(), 14);
        assert_eq!(Error::MissingLayer.grpc_code(), 13);
        assert_ne!(
            Error::Expired.grpc_message(),
            Error::InvalidToken(InvalidToken::Signature).grpc_message()
        );
        assert!(
            !Error::InvalidToken(InvalidToken::Audience)
                .grpc_message()
                .contains("audience")
        );
    }

    #[test]
    fn error_style_parses() {
        assert_eq!("RFC6750".parse::<ErrorStyle>().unwrap(), ErrorStyle::Rfc6750);
        assert_eq!("supertokens".parse::<ErrorStyle>().unwrap(), ErrorStyle::SuperTokens);
        assert!("xml".parse::<ErrorStyle>().is_err());
    }
}
