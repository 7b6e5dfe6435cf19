//! The local answer cache: what the store said about a token, for the
//! recheck interval, dropped at once when a revocation event names its
//! subject or the event subscription is lost.
//!
//! Every answer remembers the epoch at which its lookup started; an event
//! moves the epoch on and marks the subject (or everything) dropped at the
//! new epoch, so an answer whose lookup began before an event is never
//! served after it, even when it arrives later.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::store::Found;

/// How much longer than the recheck interval an event's mark is kept.
const MARK_MARGIN: Duration = Duration::from_secs(60);

pub(crate) struct AnswerCache {
    answers: moka::sync::Cache<String, (Found, u64)>,
    /// Subject → the epoch of its latest revocation event.
    dropped: moka::sync::Cache<String, u64>,
    epoch: AtomicU64,
    /// Answers from before this epoch are stale (a lost subscription).
    dropped_all: AtomicU64,
    subscribed: AtomicBool,
    enabled: bool,
    recheck: Duration,
}

impl AnswerCache {
    pub(crate) fn new(recheck: Duration, capacity: u64) -> Self {
        // An event's mark must outlive every answer it can make stale.
        let build = |capacity| {
            moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(recheck)
                .build()
        };
        AnswerCache {
            answers: build(capacity),
            // Outlives every answer it can make stale, and every lookup that
            // began before it (each bounded by the store timeout, far shorter).
            dropped: moka::sync::Cache::builder()
                .time_to_live(recheck.saturating_add(MARK_MARGIN))
                .build(),
            epoch: AtomicU64::new(1),
            dropped_all: AtomicU64::new(0),
            subscribed: AtomicBool::new(true),
            enabled: !recheck.is_zero(),
            recheck,
        }
    }

    pub(crate) fn recheck(&self) -> Duration {
        self.recheck
    }

    /// The epoch a lookup starting now records with its answer.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// A fresh answer for `key` (of `subject`), if one may be served.
    pub(crate) fn get(&self, key: &str, subject: &str) -> Option<Found> {
        if !self.enabled || !self.subscribed.load(Ordering::SeqCst) {
            return None;
        }
        let (found, at) = self.answers.get(key)?;
        // No event since the lookup began (the common case): nothing to ask.
        if at == self.epoch.load(Ordering::SeqCst) {
            return Some(found);
        }
        (!self.stale(subject, at)).then_some(found)
    }

    /// Whether an answer from a lookup that began at epoch `at` predates an
    /// event for `subject` (or a lost subscription).
    fn stale(&self, subject: &str, at: u64) -> bool {
        at < self.dropped_all.load(Ordering::SeqCst) || self.dropped.get(subject).is_some_and(|d| at < d)
    }

    /// Keeps an answer (about `subject`) whose lookup started at epoch `at`,
    /// unless an event already made it stale: kept, it could outlive the
    /// event's mark.
    pub(crate) fn insert(&self, key: String, subject: &str, found: Found, at: u64) {
        if self.enabled && self.subscribed.load(Ordering::SeqCst) && !self.stale(subject, at) {
            self.answers.insert(key, (found, at));
        }
    }

    pub(crate) fn drop_subject(&self, subject: &str) {
        let now = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.dropped.insert(subject.to_owned(), now);
    }

    pub(crate) fn set_subscribed(&self, subscribed: bool) {
        // Either way, nothing cached before may be served: before a loss the
        // answers cannot hear of revocations any more; before a resubscription
        // they may have missed some.
        let now = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.dropped_all.store(now, Ordering::SeqCst);
        self.subscribed.store(subscribed, Ordering::SeqCst);
        self.answers.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REVOKED: Found = Found {
        token_revoked: true,
        session_revoked: false,
        revoked_until: None,
    };

    #[test]
    fn an_event_drops_answers_whose_lookup_began_before_it() {
        let cache = AnswerCache::new(Duration::from_secs(60), 100);
        let started = cache.epoch();
        cache.insert("k".into(), "alice", Found::default(), started);
        assert_eq!(cache.get("k", "alice"), Some(Found::default()));
        cache.drop_subject("bob");
        assert!(cache.get("k", "alice").is_some(), "another subject's event");

        // A lookup that began before alice's event and ends after it.
        let racing = cache.epoch();
        cache.drop_subject("alice");
        cache.insert("k".into(), "alice", Found::default(), racing);
        assert_eq!(cache.get("k", "alice"), None);
        // One that began after it is served.
        cache.insert("k".into(), "alice", REVOKED, cache.epoch());
        assert_eq!(cache.get("k", "alice"), Some(REVOKED));
    }

    #[test]
    fn a_stale_answer_is_not_even_kept() {
        let cache = AnswerCache::new(Duration::from_secs(60), 100);
        let racing = cache.epoch();
        cache.drop_subject("alice");
        cache.insert("k".into(), "alice", Found::default(), racing);
        assert_eq!(
            cache.answers.get("k"),
            None,
            "kept, it could outlive the event's mark and be served after it"
        );
    }

    #[test]
    fn nothing_is_served_without_a_subscription_nor_from_before_it() {
        let cache = AnswerCache::new(Duration::from_secs(60), 100);
        let before = cache.epoch();
        cache.insert("k".into(), "alice", Found::default(), before);
        cache.set_subscribed(false);
        assert_eq!(cache.get("k", "s"), None);
        cache.insert("k".into(), "alice", Found::default(), cache.epoch());
        assert_eq!(cache.get("k", "s"), None, "not kept while unsubscribed");
        let during = cache.epoch();
        cache.set_subscribed(true);
        cache.insert("k".into(), "alice", Found::default(), during);
        assert_eq!(cache.get("k", "s"), None, "began before the catch-up");
        cache.insert("k".into(), "alice", Found::default(), cache.epoch());
        assert!(cache.get("k", "s").is_some());
    }

    #[test]
    fn a_zero_recheck_interval_caches_nothing() {
        let cache = AnswerCache::new(Duration::ZERO, 100);
        cache.insert("k".into(), "alice", Found::default(), cache.epoch());
        assert_eq!(cache.get("k", "s"), None);
    }
}
