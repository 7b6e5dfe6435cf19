//! The verified-token cache: a token that verified once is not verified again
//! until its entry expires.

use std::time::{Duration, Instant};

use moka::sync::Cache;
use sha2::{Digest, Sha256};

use crate::principal::{Principal, Source};

/// A SHA-256 digest of the token (and where it was read from). A short hash
/// would let a forged token collide with a cached good one.
pub(crate) type CacheKey = [u8; 32];

#[derive(Clone)]
struct Entry {
    principal: Principal,
    expires_at: Instant,
}

/// Lets each entry live exactly until its own deadline.
struct UntilDeadline;

impl moka::Expiry<CacheKey, Entry> for UntilDeadline {
    fn expire_after_create(&self, _key: &CacheKey, entry: &Entry, created_at: Instant) -> Option<Duration> {
        Some(entry.expires_at.saturating_duration_since(created_at))
    }
}

/// Only verified tokens go in: a failure is never cached by token, since an
/// attacker chooses those tokens and could fill the cache with them.
#[derive(Clone)]
pub(crate) struct TokenCache {
    entries: Cache<CacheKey, Entry>,
}

impl TokenCache {
    pub(crate) fn new(capacity: u64) -> Self {
        TokenCache {
            entries: Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilDeadline)
                .build(),
        }
    }

    pub(crate) fn key(token: &str, source: Source) -> CacheKey {
        let mut hasher = Sha256::new();
        hasher.update([source as u8]);
        hasher.update(token.as_bytes());
        hasher.finalize().into()
    }

    pub(crate) fn get(&self, key: &CacheKey) -> Option<Principal> {
        let entry = self.entries.get(key)?;
        // Expiry in moka is checked lazily with its own clock; the deadline is the contract.
        (Instant::now() < entry.expires_at).then_some(entry.principal)
    }

    pub(crate) fn insert(&self, key: CacheKey, principal: Principal, expires_at: Instant) {
        if expires_at > Instant::now() {
            self.entries.insert(key, Entry { principal, expires_at });
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_never_outlive_their_deadline() {
        let cache = TokenCache::new(10);
        let p = Principal::new("u", Source::Bearer);
        let key = TokenCache::key("t", Source::Bearer);
        cache.insert(key, p.clone(), Instant::now() + Duration::from_millis(30));
        assert_eq!(cache.get(&key), Some(p.clone()));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&key), None);
        cache.insert(key, p, Instant::now());
        assert_eq!(cache.get(&key), None);
    }

    #[test]
    fn key_depends_on_token_and_source() {
        let a = TokenCache::key("t", Source::Bearer);
        assert_ne!(a, TokenCache::key("t", Source::Cookie));
        assert_ne!(a, TokenCache::key("u", Source::Bearer));
        assert_eq!(a, TokenCache::key("t", Source::Bearer));
    }

    #[test]
    fn capacity_is_bounded() {
        let cache = TokenCache::new(100);
        let later = Instant::now() + Duration::from_secs(60);
        for i in 0..1000 {
            cache.insert(
                TokenCache::key(&i.to_string(), Source::Bearer),
                Principal::new("u", Source::Bearer),
                later,
            );
        }
        assert!(cache.len() <= 100);
    }
}
