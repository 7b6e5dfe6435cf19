//! [`Revoker`]: the revocation API, for a logout route or any other process.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::store::{Revocation, Revoked, SessionStore, StoreError, unix_seconds};
use crate::principal::Principal;

/// Why a revocation was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevokeError {
    /// The store could not be written (nothing was revoked).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The subject is empty: there is nothing to key the revocation on.
    #[error("a revocation needs a subject")]
    NoSubject,
    /// The principal's token has neither a session handle nor a `jti`:
    /// only [`Revoker::revoke_issued_until`] can revoke it.
    #[error("the token has no session handle and no jti")]
    NothingToRevoke,
}

/// What [`Revoker::revoke_principal`] revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevokedKind {
    /// The session (every token of it).
    Session,
    /// The token alone (it has no session handle).
    Token,
}

/// Writes revocations: of the current principal's session or token (a logout
/// route), of a session by handle, of everything a subject was issued until
/// a time ("log out everywhere"). Every instance sharing the store refuses
/// the revoked tokens from then on. Cheap to clone.
///
/// ```
/// use authorizer::session::{MemoryStore, Revoker};
/// use std::time::SystemTime;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), authorizer::session::RevokeError> {
/// let revoker = Revoker::new(MemoryStore::new());
/// revoker.revoke_session("user-1", "a-session-handle").await?;
/// revoker.revoke_issued_until("user-2", SystemTime::now()).await?; // log out everywhere
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Revoker {
    store: Arc<dyn SessionStore>,
    session_claim: String,
    max_token_lifetime: Duration,
    timeout: Duration,
}

impl fmt::Debug for Revoker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Revoker")
            .field("session_claim", &self.session_claim)
            .field("max_token_lifetime", &self.max_token_lifetime)
            .finish()
    }
}

impl Revoker {
    /// Revokes in `store`; the session handle in `sessionHandle`, tokens
    /// living at most 24 h, a 2 s bound on each write. A
    /// [`SessionCheck`](super::SessionCheck) hands out one with its own
    /// settings ([`SessionCheck::revoker`](super::SessionCheck::revoker)).
    pub fn new(store: impl SessionStore) -> Self {
        Revoker::shared(Arc::new(store))
    }

    /// As [`new`](Revoker::new), with a store shared with other code.
    pub fn shared(store: Arc<dyn SessionStore>) -> Self {
        Revoker {
            store,
            session_claim: "sessionHandle".to_owned(),
            max_token_lifetime: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(2),
        }
    }

    /// The claim that holds the session handle.
    pub fn session_claim(mut self, claim: impl Into<String>) -> Self {
        self.session_claim = claim.into();
        self
    }

    /// The longest lifetime of an access token: how long session and
    /// subject revocations are kept.
    pub fn max_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_token_lifetime = lifetime;
        self
    }

    /// The bound on each write.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Revokes the principal's session when its token names one, else the
    /// token itself (by `jti`, kept until the token expires).
    pub async fn revoke_principal(&self, principal: &Principal) -> Result<RevokedKind, RevokeError> {
        let text = |name: &str| {
            principal
                .claims()
                .get(name)
                .and_then(|v| v.as_str())
                .filter(|t| !t.is_empty())
        };
        if let Some(handle) = text(&self.session_claim) {
            self.revoke_session(principal.id(), handle).await?;
            return Ok(RevokedKind::Session);
        }
        let Some(jti) = text("jti") else {
            return Err(RevokeError::NothingToRevoke);
        };
        let expires = principal
            .expires_at()
            .unwrap_or_else(|| later(SystemTime::now(), self.max_token_lifetime));
        self.revoke_token(principal.id(), jti, expires).await?;
        Ok(RevokedKind::Token)
    }

    /// Revokes one token of `subject` by its `jti`, kept until `expires_at`
    /// (the token's `exp`).
    pub async fn revoke_token(&self, subject: &str, jti: &str, expires_at: SystemTime) -> Result<(), RevokeError> {
        self.write(subject, Revoked::Token(jti.to_owned()), expires_at).await
    }

    /// Revokes one session of `subject` by its handle: every token of it,
    /// for the longest token lifetime.
    pub async fn revoke_session(&self, subject: &str, handle: &str) -> Result<(), RevokeError> {
        let keep = later(SystemTime::now(), self.max_token_lifetime);
        self.write(subject, Revoked::Session(handle.to_owned()), keep).await
    }

    /// Revokes every token of `subject` issued at or before `time` (whole
    /// seconds: a token issued in the same second as `time` is refused too).
    pub async fn revoke_issued_until(&self, subject: &str, time: SystemTime) -> Result<(), RevokeError> {
        let keep = later(time, self.max_token_lifetime);
        self.write(subject, Revoked::IssuedUntil(unix_seconds(time)), keep)
            .await
    }

    async fn write(&self, subject: &str, revoked: Revoked, keep_until: SystemTime) -> Result<(), RevokeError> {
        let keep_until = keep_until.min(latest());
        if subject.is_empty() {
            return Err(RevokeError::NoSubject);
        }
        let revocation = Revocation {
            subject: subject.to_owned(),
            revoked,
            keep_until,
        };
        match tokio::time::timeout(self.timeout, self.store.revoke(&revocation)).await {
            Ok(written) => Ok(written?),
            Err(_) => Err(StoreError::Timeout.into()),
        }
    }
}

/// `time + span`, saturating at the latest time a revocation is kept: a
/// far-future time or a huge lifetime is a long revocation, never a panic.
fn later(time: SystemTime, span: std::time::Duration) -> SystemTime {
    time.checked_add(span).unwrap_or_else(latest).min(latest())
}

/// The year 9999: later than any token can live, and within every platform's
/// `SystemTime` and the stores' expiry arithmetic.
fn latest() -> SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(253_402_300_799)
}

#[cfg(test)]
mod far_future {
    use std::time::{Duration, UNIX_EPOCH};

    use crate::session::{MemoryStore, SessionCheck};

    #[tokio::test]
    async fn huge_times_and_lifetimes_are_long_revocations_not_panics() {
        let check = SessionCheck::new(MemoryStore::new()).max_token_lifetime(Duration::MAX);
        let revoker = check.revoker();
        let far = UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 1_000);
        revoker.revoke_issued_until("u", far).await.unwrap();
        revoker.revoke_session("u", "s").await.unwrap();
        revoker
            .revoke_token("u", "j", UNIX_EPOCH + Duration::from_secs(u64::MAX / 4))
            .await
            .unwrap();
    }
}
