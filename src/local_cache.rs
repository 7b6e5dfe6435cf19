//! The bounded in-process map behind the caches every request reads
//! (verified tokens, session answers): sharded, with a scan-resistant
//! eviction, and no clock of its own: each entry carries its deadline or its
//! age, and every hit checks it.

use std::hash::Hash;

use quick_cache::UnitWeighter;
use quick_cache::sync::{Cache, DefaultLifecycle};

/// A map of at most its capacity in entries.
pub(crate) type LocalCache<K, V> = Cache<K, V, UnitWeighter, foldhash::fast::RandomState, DefaultLifecycle<K, V>>;

/// Holds at most `capacity` entries. Room for a few thousand is made at
/// once and the table grows from there, so a large capacity costs nothing
/// until it fills.
pub(crate) fn local_cache<K: Eq + Hash, V: Clone>(capacity: u64) -> LocalCache<K, V> {
    Cache::with(
        usize::try_from(capacity.min(4096)).unwrap_or(4096),
        capacity.max(1),
        UnitWeighter,
        foldhash::fast::RandomState::default(),
        DefaultLifecycle::default(),
    )
}
