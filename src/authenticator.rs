//! The pipeline every adapter runs: read the credential, then verify it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{HeaderMap, Method};

use crate::credential::{Credential, Credentials, Headers, is_safe};
use crate::error::{Error, ErrorStyle, InvalidToken};
use crate::principal::{Principal, Source};
use crate::verify::Verifier;

/// A [`Verifier`] with the rules for reading credentials and rendering errors:
/// everything an adapter needs to authenticate a request. Cheap to clone.
///
/// ```
/// # use authorizer::{Authenticator, Credentials, ErrorStyle, Issuer, Verifier};
/// # let verifier = Verifier::builder().issuer(Issuer::discover("https://auth.example.com")).build()?;
/// let auth = Authenticator::new(verifier)
///     .credentials(Credentials::default().allowed_origins(["https://app.example.com"]))
///     .error_style(ErrorStyle::Rfc6750);
/// # Ok::<(), authorizer::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Authenticator {
    verifier: Verifier,
    credentials: Arc<Credentials>,
    style: ErrorStyle,
}

impl From<Verifier> for Authenticator {
    fn from(verifier: Verifier) -> Self {
        Authenticator::new(verifier)
    }
}

/// Whether a request without a credential may pass (every adapter has both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Required,
    Optional,
}

/// Applies the mode to an authentication outcome: only a required mode turns
/// "no credential" into an error; a bad credential fails in both.
pub(crate) fn admit(outcome: Result<Option<Principal>, Error>, mode: Mode) -> Result<Option<Principal>, Error> {
    match (outcome, mode) {
        (Ok(None), Mode::Required) => Err(Error::MissingCredential),
        (outcome, _) => outcome,
    }
}

/// A verification still to run, owning what it needs.
pub(crate) type Pending = Pin<Box<dyn Future<Output = Result<Principal, Error>> + Send>>;

/// The outcome of the synchronous first step.
pub(crate) enum Attempt {
    /// Decided without waiting: no credential, a cache hit, or an early rejection.
    Done(Result<Option<Principal>, Error>),
    /// A credential that needs a full verification.
    Verify(Pending),
}

impl Authenticator {
    /// Default credential rules and SuperTokens-style errors.
    pub fn new(verifier: Verifier) -> Self {
        Authenticator {
            verifier,
            credentials: Arc::new(Credentials::default()),
            style: ErrorStyle::default(),
        }
    }

    /// Where credentials are read from (and the CSRF rule for cookies).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Arc::new(credentials);
        self
    }

    /// How errors are rendered.
    pub fn error_style(mut self, style: ErrorStyle) -> Self {
        self.style = style;
        self
    }

    /// The configured error style.
    pub fn style(&self) -> ErrorStyle {
        self.style
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Authenticates a request: `Ok(None)` when it carries no credential.
    pub async fn authenticate(&self, method: &Method, headers: &HeaderMap) -> Result<Option<Principal>, Error> {
        match self.credentials.extract(method, headers)? {
            None => Ok(None),
            Some(credential) => self.verifier.verify(credential).await.map(Some),
        }
    }

    /// Authenticates a token read by other means (a Lambda authorizer event,
    /// say), under the same size limit as credentials read from requests.
    pub async fn authenticate_token(&self, token: &str, source: Source) -> Result<Principal, Error> {
        if token.len() > self.credentials.max_len_bytes() {
            return Err(InvalidToken::TooLarge.into());
        }
        self.verifier.verify(Credential::new(token, source)).await
    }

    /// The synchronous part: everything but an uncached verification, which is
    /// returned as a future that owns a copy of the token.
    pub(crate) fn begin(&self, method: &Method, headers: &HeaderMap) -> Attempt {
        self.begin_from(is_safe(method), headers)
    }

    /// [`begin`](Authenticator::begin) over any header map, for adapters whose
    /// framework uses another `http` version (actix-web).
    pub(crate) fn begin_from<H: Headers>(&self, safe_method: bool, headers: &H) -> Attempt {
        let credential = match self.credentials.extract_from(safe_method, headers) {
            Ok(Some(credential)) => credential,
            Ok(None) => return Attempt::Done(Ok(None)),
            Err(error) => return Attempt::Done(Err(error)),
        };
        if let Some(principal) = self.verifier.cached(&credential) {
            return Attempt::Done(Ok(Some(principal)));
        }
        let verifier = self.verifier.clone();
        let token = credential.token().to_owned();
        let source = credential.source();
        Attempt::Verify(Box::pin(async move {
            verifier.verify(Credential::new(&token, source)).await
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert!(matches!(admit(Ok(None), Mode::Required), Err(Error::MissingCredential)));
        assert!(matches!(admit(Ok(None), Mode::Optional), Ok(None)));
        assert!(matches!(
            admit(Err(Error::Expired), Mode::Optional),
            Err(Error::Expired)
        ));
    }
}
