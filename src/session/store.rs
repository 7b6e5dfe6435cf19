//! What a session store is: the [`SessionStore`] trait and the values it trades.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::cache::AnswerCache;

/// The future a [`SessionStore`] call returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where revocations (and replay keys) live: [`MemoryStore`](super::MemoryStore)
/// for one instance, [`RedisStore`](super::RedisStore) (feature `redis`)
/// shared by all. The session check bounds every call with its timeout and
/// circuit breaker, so a store need not.
///
/// A store of your own follows the [key layout](super#key-layout) when
/// other services write revocations into it.
pub trait SessionStore: Send + Sync + 'static {
    /// What is revoked of one token: one round trip, whatever the lookup names.
    fn lookup<'a>(&'a self, lookup: &'a Lookup) -> StoreFuture<'a, Found>;

    /// Writes a revocation, to expire with the tokens it can revoke, and tells
    /// every instance (the [`Listener`]s here at once, the others by the
    /// store's events).
    fn revoke<'a>(&'a self, revocation: &'a Revocation) -> StoreFuture<'a, ()>;

    /// The replay primitive: `true` the first time `key` is seen within `ttl`,
    /// `false` every later time until then (atomic across every instance that
    /// shares the store). A DPoP proof's `jti`, say, is accepted only when
    /// this answers `true`. Unlike the session check's calls it is not
    /// bounded here: the built-in stores answer at once (memory) or within
    /// their driver's 2 s reply timeout (Redis); wrap it in a shorter
    /// `tokio::time::timeout` where a request must not wait that long, and
    /// treat a failure as a replay (refuse), never as a first use.
    fn first_use<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool>;

    /// Registers a local answer cache, to be told of revocations (this
    /// instance's and, for a shared store, every other's) and of a lost
    /// event subscription.
    fn listen(&self, listener: Listener);
}

/// Why a store call failed. The session check then applies its
/// [policy](super::OnStoreFailure); the text names no key and no identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached, or refused the command.
    #[error("the session store is unavailable ({0})")]
    Unavailable(String),
    /// The store did not answer within the configured timeout.
    #[error("the session store did not answer in time")]
    Timeout,
    /// The store answered something no store writes: treated as the store
    /// being down, never as "not revoked".
    #[error("the session store answered garbage ({0})")]
    Garbage(&'static str),
    /// The circuit breaker is open after repeated failures: not asked.
    #[error("the session store's circuit breaker is open")]
    CircuitOpen,
}

/// What the session check asks about one token. `Debug` shows the subject
/// (the principal id, as `Principal`'s does) and hides the `jti` and handle.
#[derive(Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The subject (the principal id).
    pub subject: String,
    /// The token's `jti`, if it has one.
    pub jti: Option<String>,
    /// The token's session handle, if it has one.
    pub session: Option<String>,
}

impl std::fmt::Debug for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookup")
            .field("subject", &self.subject)
            .field("jti", &self.jti.as_ref().map(|_| Redacted))
            .field("session", &self.session.as_ref().map(|_| Redacted))
            .finish()
    }
}

/// Stands for an identifier in `Debug` output: a `jti` or a session handle
/// lets whoever reads it revoke or probe a session.
struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What a store holds about one [`Lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Found {
    /// The token (`jti`) is revoked.
    pub token_revoked: bool,
    /// The session is revoked.
    pub session_revoked: bool,
    /// Every token of the subject issued at or before this time (Unix
    /// seconds) is revoked.
    pub revoked_until: Option<u64>,
}

impl Found {
    /// Whether a token issued at `iat` (Unix seconds; `None`: no `iat`) is refused.
    /// A token without `iat` is refused once anything of its subject was revoked
    /// by time: its age cannot be told.
    pub fn refuses(&self, iat: Option<u64>) -> bool {
        self.token_revoked
            || self.session_revoked
            || self
                .revoked_until
                .is_some_and(|until| iat.is_none_or(|iat| iat <= until))
    }
}

/// One revocation: what is revoked, of which subject, and until when the
/// store must keep it (when the tokens it can revoke have expired anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The subject (the principal id).
    pub subject: String,
    /// What is revoked.
    pub revoked: Revoked,
    /// When the entry may go: no token it revokes is valid after it.
    pub keep_until: SystemTime,
}

/// What a [`Revocation`] revokes. `Debug` hides the `jti` and handle.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revoked {
    /// One token, by its `jti`.
    Token(String),
    /// One session, by its handle.
    Session(String),
    /// Every token issued at or before this time (Unix seconds).
    IssuedUntil(u64),
}

impl std::fmt::Debug for Revoked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Revoked::Token(_) => f.debug_tuple("Token").field(&Redacted).finish(),
            Revoked::Session(_) => f.debug_tuple("Session").field(&Redacted).finish(),
            Revoked::IssuedUntil(until) => f.debug_tuple("IssuedUntil").field(until).finish(),
        }
    }
}

/// Seconds since the Unix epoch (0 before it).
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A local answer cache, as a store sees it: the events it must hear of.
/// Cheap to clone; a store keeps one per [`SessionCheck`](super::SessionCheck)
/// built on it.
#[derive(Clone)]
pub struct Listener {
    cache: std::sync::Weak<AnswerCache>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener").field("alive", &self.is_alive()).finish()
    }
}

impl Listener {
    pub(crate) fn new(cache: &Arc<AnswerCache>) -> Self {
        Listener {
            cache: Arc::downgrade(cache),
        }
    }

    /// Something of `subject` was revoked: its cached answers go at once.
    pub fn revoked(&self, subject: &str) {
        if let Some(cache) = self.cache.upgrade() {
            cache.drop_subject(subject);
        }
    }

    /// The store's events can no longer be heard: every cached answer goes,
    /// and none is kept until [`subscribed`](Listener::subscribed).
    pub fn unsubscribed(&self) {
        if let Some(cache) = self.cache.upgrade() {
            cache.set_subscribed(false);
        }
    }

    /// The store's events are heard (again): answers cached from now on may
    /// be served; those from before are not (a revocation may have been missed).
    pub fn subscribed(&self) {
        if let Some(cache) = self.cache.upgrade() {
            cache.set_subscribed(true);
        }
    }

    /// Whether the session check it belongs to still exists (a store may
    /// forget listeners that are not).
    pub fn is_alive(&self) -> bool {
        self.cache.strong_count() > 0
    }
}

/// The listeners of one store.
#[derive(Default)]
pub(crate) struct Listeners {
    listeners: std::sync::Mutex<Vec<Listener>>,
}

impl Listeners {
    pub(crate) fn add(&self, listener: Listener) {
        let mut listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        listeners.retain(Listener::is_alive);
        listeners.push(listener);
    }

    /// Tells every listener, without holding the lock while they run.
    pub(crate) fn each(&self, event: impl Fn(&Listener)) {
        let listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner()).clone();
        listeners.iter().for_each(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_found_refuses() {
        assert!(!Found::default().refuses(Some(10)));
        assert!(!Found::default().refuses(None));
        let until = Found {
            revoked_until: Some(100),
            ..Found::default()
        };
        assert!(until.refuses(Some(99)) && until.refuses(Some(100)));
        assert!(!until.refuses(Some(101)));
        assert!(until.refuses(None), "no iat, no way to tell its age");
        let token = Found {
            token_revoked: true,
            ..Found::default()
        };
        assert!(token.refuses(Some(1_000)));
    }

    #[test]
    fn debug_hides_the_identifiers() {
        let lookup = Lookup {
            subject: "user-1".into(),
            jti: Some("jti-secret".into()),
            session: Some("handle-secret".into()),
        };
        let revocation = Revocation {
            subject: "user-1".into(),
            revoked: Revoked::Session("handle-secret".into()),
            keep_until: UNIX_EPOCH,
        };
        let text = format!("{lookup:?} {revocation:?} {:?}", Revoked::Token("jti-secret".into()));
        assert!(!text.contains("secret") && text.contains("user-1"), "{text}");
    }
}
