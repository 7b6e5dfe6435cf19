//! The verified-token cache: a token that verified once is not verified again
//! until its entry expires.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use crate::local_cache::{LocalCache, local_cache};
use crate::principal::{Principal, Source};

/// The token itself: a hit needs the whole token to match, so no forged token
/// can collide with a cached good one (as it could under a short hash). The
/// map's own hash (seeded per process) only picks a bucket.
#[derive(Clone, PartialEq, Eq)]
struct Key(Arc<str>);

/// A token looked up, borrowed from the request.
struct Lookup<'a>(&'a str);

/// How many of a token's first and last bytes pick its bucket. A token ends
/// in what makes it unique (a JWT's signature, an opaque token's random
/// part), so hashing all of it would only cost more on every request;
/// equality still compares every byte. The first bytes count too, for
/// opaque formats with a fixed suffix. Only verified tokens go in, so what
/// collides is the issuer's choice; tokens that did would share a bucket
/// (slower lookups), never a principal.
const HASHED_HEAD: usize = 32;
const HASHED_TAIL: usize = 64;

fn hash_token<H: Hasher>(token: &str, state: &mut H) {
    let bytes = token.as_bytes();
    state.write_usize(bytes.len());
    if bytes.len() <= HASHED_HEAD + HASHED_TAIL {
        state.write(bytes);
    } else {
        state.write(&bytes[..HASHED_HEAD]);
        state.write(&bytes[bytes.len() - HASHED_TAIL..]);
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_token(&self.0, state);
    }
}

impl Hash for Lookup<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_token(self.0, state);
    }
}

impl quick_cache::Equivalent<Key> for Lookup<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        *self.0 == *key.0
    }
}

#[derive(Clone)]
struct Entry {
    principal: Principal,
    expires_at: Instant,
}

/// Only verified tokens go in: a failure is never cached by token, since an
/// attacker chooses those tokens and could fill the cache with them.
#[derive(Clone)]
pub(crate) struct TokenCache {
    // A cache hit is on every request's path: a sharded map with a
    // scan-resistant eviction (a flood of new tokens does not push out the
    // ones in use) and no expiry bookkeeping of its own, since every hit
    // checks the entry's deadline anyway.
    entries: Arc<LocalCache<Key, Entry>>,
}

impl TokenCache {
    pub(crate) fn new(capacity: u64) -> Self {
        TokenCache {
            entries: Arc::new(local_cache(capacity)),
        }
    }

    /// The principal of a token verified before, if it came the same way
    /// (a bearer token's principal is not handed out for a cookie).
    pub(crate) fn get(&self, token: &str, source: Source) -> Option<Principal> {
        let entry = self.entries.get(&Lookup(token))?;
        if Instant::now() >= entry.expires_at {
            // The map keeps no clock: the deadline decides, and a client
            // that keeps sending an expired token does not keep it cached.
            self.entries.remove(&Lookup(token));
            return None;
        }
        (entry.principal.source() == source).then_some(entry.principal)
    }

    pub(crate) fn insert(&self, token: &str, principal: Principal, expires_at: Instant) {
        if expires_at > Instant::now() {
            self.entries
                .insert(Key(Arc::from(token)), Entry { principal, expires_at });
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> u64 {
        self.entries.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
