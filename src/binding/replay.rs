//! The DPoP replay cache: a `jti` is accepted once within the proof window.

use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The future a [`ReplayStore`] answers with.
pub type ReplayFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, ReplayError>> + Send + 'a>>;

/// Where proof identifiers are remembered, so that a proof is accepted once.
///
/// The [`LocalReplayCache`] (the default) serves one process; a store shared
/// by every instance (Redis, say) also refuses a proof replayed to another
/// instance. The binding stage asks the local cache first and the shared
/// store after it, and refuses the request with a 503 when the shared store
/// fails: a proof whose freshness is unknown is not accepted. A shared store
/// must bound its own wait (a timeout per call).
///
/// ```
/// use std::time::Duration;
/// use authorizer::binding::{LocalReplayCache, ReplayStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), authorizer::binding::ReplayError> {
/// let store = LocalReplayCache::new(10_000);
/// assert!(store.first_use("proof-1", Duration::from_secs(60)).await?);
/// assert!(!store.first_use("proof-1", Duration::from_secs(60)).await?, "seen before");
/// # Ok(()) }
/// ```
pub trait ReplayStore: Send + Sync + 'static {
    /// Records `key` for `ttl`: `true` if it was not recorded already (the
    /// proof's first use), `false` for a replay. Must be atomic across every
    /// caller that shares the store.
    fn first_use<'a>(&'a self, key: &'a str, ttl: Duration) -> ReplayFuture<'a>;
}

/// A shared [`ReplayStore`] that could not answer.
#[derive(Debug, thiserror::Error)]
#[error("replay store unavailable: {0}")]
pub struct ReplayError(Box<dyn std::error::Error + Send + Sync>);

impl ReplayError {
    /// Wraps the store's own error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ReplayError(error.into())
    }
}

/// The default [`ReplayStore`]: an in-process cache, bounded in size, whose
/// entries expire when the proof window closes on them.
///
/// When it is full, the least recently seen entries are evicted (LRU, so a
/// new `jti` is always remembered): a flood of fresh proofs can push out an
/// older `jti` still inside its window, which a replay would then pass. Size
/// it above the proofs a window brings (requests per second times the window
/// in seconds), or share a store.
#[derive(Clone)]
pub struct LocalReplayCache {
    /// Each identifier with how long it is kept (the rest of its window).
    seen: moka::sync::Cache<String, Duration, foldhash::fast::RandomState>,
    /// A key's look and insert happen under its shard's lock: two concurrent
    /// uses of one key never both find it fresh. (moka's atomic entry API
    /// alone let two of eight racing threads win, now and then.)
    shards: Arc<[Mutex<()>]>,
    hasher: foldhash::fast::RandomState,
}

/// Locks for [`LocalReplayCache`]: enough that unrelated keys rarely wait.
const LOCK_SHARDS: usize = 64;

impl fmt::Debug for LocalReplayCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalReplayCache")
            .field("entries", &self.seen.entry_count())
            .finish()
    }
}

/// Each entry lives as long as it was asked to.
struct ForItsTtl;

impl moka::Expiry<String, Duration> for ForItsTtl {
    fn expire_after_create(&self, _: &String, ttl: &Duration, _: std::time::Instant) -> Option<Duration> {
        Some(*ttl)
    }
}

impl LocalReplayCache {
    /// A cache of at most `capacity` proof identifiers (at least 1).
    pub fn new(capacity: u64) -> Self {
        LocalReplayCache {
            seen: moka::sync::Cache::builder()
                .max_capacity(capacity.max(1))
                // TinyLFU would refuse to admit a key seen once (every `jti`)
                // into a full cache: the newest proof would go unremembered.
                .eviction_policy(moka::policy::EvictionPolicy::lru())
                .expire_after(ForItsTtl)
                .build_with_hasher(foldhash::fast::RandomState::default()),
            shards: (0..LOCK_SHARDS).map(|_| Mutex::new(())).collect(),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// [`ReplayStore::first_use`], without waiting.
    pub(crate) fn first_use_now(&self, key: &str, ttl: Duration) -> bool {
        let shard = self.hasher.hash_one(key) as usize % self.shards.len();
        // Nothing is done under the lock that can panic; a poisoned one is still a lock.
        let _held = self.shards[shard].lock().unwrap_or_else(PoisonError::into_inner);
        if self.seen.contains_key(key) {
            return false;
        }
        self.seen.insert(key.to_owned(), ttl);
        true
    }
}

impl ReplayStore for LocalReplayCache {
    fn first_use<'a>(&'a self, key: &'a str, ttl: Duration) -> ReplayFuture<'a> {
        let first = self.first_use_now(key, ttl);
        Box::pin(std::future::ready(Ok(first)))
    }
}

/// The session stage's store is a replay store too: give every instance's
/// binding the store their session checks share (Redis, say), and a proof
/// replayed to another instance is refused.
///
/// ```
/// use authorizer::binding::Binding;
/// use authorizer::session::{MemoryStore, SessionCheck};
///
/// let check = SessionCheck::new(MemoryStore::new());
/// let binding = Binding::new().replay_store(check.store().clone());
/// # let _ = binding;
/// ```
impl ReplayStore for std::sync::Arc<dyn crate::session::SessionStore> {
    fn first_use<'a>(&'a self, key: &'a str, ttl: Duration) -> ReplayFuture<'a> {
        Box::pin(async move {
            crate::session::SessionStore::first_use(&**self, key, ttl)
                .await
                .map_err(ReplayError::new)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_cache_still_remembers_the_newest_proof() {
        let cache = LocalReplayCache::new(4);
        let ttl = Duration::from_secs(60);
        for n in 0..64 {
            let key = format!("jti-{n}");
            assert!(cache.first_use_now(&key, ttl));
            cache.seen.run_pending_tasks();
            assert!(
                !cache.first_use_now(&key, ttl),
                "{key} forgotten as soon as it was seen"
            );
        }
        let off = LocalReplayCache::new(0);
        assert!(off.first_use_now("a", ttl));
        off.seen.run_pending_tasks();
        assert!(
            !off.first_use_now("a", ttl),
            "a zero capacity does not turn the check off"
        );
    }

    #[test]
    fn a_key_is_fresh_once_and_concurrent_uses_see_one_winner() {
        let cache = LocalReplayCache::new(1_000);
        let ttl = Duration::from_secs(60);
        assert!(cache.first_use_now("a", ttl));
        assert!(!cache.first_use_now("a", ttl));
        assert!(cache.first_use_now("b", ttl));
        for round in 0..200 {
            let key = format!("contended-{round}");
            let winners: usize = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|_| scope.spawn(|| usize::from(cache.first_use_now(&key, ttl))))
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum()
            });
            assert_eq!(winners, 1, "{key}");
        }
    }

    #[test]
    fn entries_expire_with_their_ttl() {
        let cache = LocalReplayCache::new(1_000);
        assert!(cache.first_use_now("short", Duration::ZERO));
        // A zero TTL has expired by the next look: the window is over.
        assert!(cache.first_use_now("short", Duration::ZERO));
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = LocalReplayCache::new(100);
        for i in 0..2_000 {
            cache.first_use_now(&format!("k{i}"), Duration::from_secs(60));
        }
        cache.seen.run_pending_tasks();
        assert!(cache.seen.entry_count() <= 100);
    }
}
