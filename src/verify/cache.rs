//! The verified-token cache: a token that verified once is not verified again
//! until its entry expires.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;

use crate::principal::{Principal, Source};

/// The token itself: a hit needs the whole token to match, so no forged token
/// can collide with a cached good one (as it could under a short hash). The
/// map's own hash only picks a bucket; it is seeded per process, and only
/// verified tokens go in, so an attacker cannot choose what collides.
pub(crate) type CacheKey = Arc<str>;

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
    entries: Cache<CacheKey, Entry, foldhash::fast::RandomState>,
}

impl TokenCache {
    pub(crate) fn new(capacity: u64) -> Self {
        TokenCache {
            entries: Cache::builder()
                .max_capacity(capacity)
                .expire_after(UntilDeadline)
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    /// The principal of a token verified before, if it came the same way
    /// (a bearer token's principal is not handed out for a cookie).
    pub(crate) fn get(&self, token: &str, source: Source) -> Option<Principal> {
        let entry = self.entries.get(token)?;
        // Expiry in moka is checked lazily with its own clock; the deadline is the contract.
        (entry.principal.source() == source && Instant::now() < entry.expires_at).then_some(entry.principal)
    }

    pub(crate) fn insert(&self, token: &str, principal: Principal, expires_at: Instant) {
        if expires_at > Instant::now() {
            self.entries.insert(Arc::from(token), Entry { principal, expires_at });
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
        cache.insert("t", p.clone(), Instant::now() + Duration::from_millis(30));
        assert_eq!(cache.get("t", Source::Bearer), Some(p.clone()));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get("t", Source::Bearer), None);
        cache.insert("t", p, Instant::now());
        assert_eq!(cache.get("t", Source::Bearer), None);
    }

    #[test]
    fn a_hit_needs_the_same_token_and_source() {
        let cache = TokenCache::new(10);
        let later = Instant::now() + Duration::from_secs(60);
        cache.insert("token", Principal::new("u", Source::Bearer), later);
        assert!(cache.get("token", Source::Bearer).is_some());
        assert!(cache.get("token", Source::Cookie).is_none());
        assert!(cache.get("toke", Source::Bearer).is_none());
        assert!(cache.get("token2", Source::Bearer).is_none());
    }

    #[test]
    fn capacity_is_bounded() {
        let cache = TokenCache::new(100);
        let later = Instant::now() + Duration::from_secs(60);
        for i in 0..1000 {
            cache.insert(&i.to_string(), Principal::new("u", Source::Bearer), later);
        }
        assert!(cache.len() <= 100);
    }
}
