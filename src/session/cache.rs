//! The local answer cache: what the store said about a token, for the
//! recheck interval, dropped at once when a revocation event names its
//! subject or the event subscription is lost.
//!
//! Every answer remembers the epoch at which its lookup started; an event
//! moves the epoch on and marks the subject (or everything) dropped at the
//! new epoch, so an answer whose lookup began before an event is never
//! served after it, even when it arrives later.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::store::Found;
use crate::local_cache::{LocalCache, local_cache};

/// Which token an answer is about, borrowed from its principal: a cached
/// answer is found without copying anything.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AnswerKey<'a> {
    pub(crate) subject: &'a str,
    pub(crate) jti: Option<&'a str>,
    pub(crate) session: Option<&'a str>,
}

impl AnswerKey<'_> {
    fn to_owned(self) -> OwnedKey {
        OwnedKey {
            subject: self.subject.into(),
            jti: self.jti.map(Into::into),
            session: self.session.map(Into::into),
        }
    }
}

impl Hash for AnswerKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.subject, self.jti, self.session).hash(state);
    }
}

/// An [`AnswerKey`] kept with its answer. The parts stay apart, so none can
/// pass for another (`jti` "x" is not session "x").
#[derive(PartialEq, Eq)]
struct OwnedKey {
    subject: Box<str>,
    jti: Option<Box<str>>,
    session: Option<Box<str>>,
}

impl Hash for OwnedKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (&*self.subject, self.jti.as_deref(), self.session.as_deref()).hash(state);
    }
}

impl quick_cache::Equivalent<OwnedKey> for AnswerKey<'_> {
    fn equivalent(&self, key: &OwnedKey) -> bool {
        self.subject == &*key.subject && self.jti == key.jti.as_deref() && self.session == key.session.as_deref()
    }
}

/// A store's answer, the epoch its lookup began at, and when it came.
#[derive(Clone, Copy)]
struct Answer {
    found: Found,
    epoch: u64,
    at: Instant,
}

/// How much longer than the recheck interval an event's mark is kept.
const MARK_MARGIN: Duration = Duration::from_secs(60);

pub(crate) struct AnswerCache {
    // A cached answer is on every checked request's path: a sharded map,
    // looked up by borrowed parts, each answer's age checked on the way out.
    answers: LocalCache<OwnedKey, Answer>,
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
        AnswerCache {
            answers: local_cache(capacity),
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

    /// A fresh answer for `key`, if one may be served.
    pub(crate) fn get(&self, key: AnswerKey<'_>) -> Option<Found> {
        if !self.enabled || !self.subscribed.load(Ordering::SeqCst) {
            return None;
        }
        let answer = self.answers.get(&key)?;
        if answer.at.elapsed() >= self.recheck {
            self.answers.remove(&key);
            return None;
        }
        // No event since the lookup began (the common case): nothing to ask.
        if answer.epoch == self.epoch.load(Ordering::SeqCst) {
            return Some(answer.found);
        }
        (!self.stale(key.subject, answer.epoch)).then_some(answer.found)
    }

    /// Whether an answer from a lookup that began at epoch `at` predates an
    /// event for `subject` (or a lost subscription).
    fn stale(&self, subject: &str, at: u64) -> bool {
        at < self.dropped_all.load(Ordering::SeqCst) || self.dropped.get(subject).is_some_and(|d| at < d)
    }

    /// Keeps an answer whose lookup started at epoch `at`,
    /// unless an event already made it stale: kept, it could outlive the
    /// event's mark.
    pub(crate) fn insert(&self, key: AnswerKey<'_>, found: Found, at: u64) {
        if self.enabled && self.subscribed.load(Ordering::SeqCst) && !self.stale(key.subject, at) {
            let answer = Answer {
                found,
                epoch: at,
                at: Instant::now(),
            };
            self.answers.insert(key.to_owned(), answer);
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
        self.answers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(subject: &str) -> AnswerKey<'_> {
        AnswerKey {
            subject,
            jti: Some("k"),
            session: None,
        }
    }

    #[test]
    fn keys_keep_their_parts_apart() {
        let cache = AnswerCache::new(Duration::from_secs(60), 100);
        let jti = AnswerKey {
            subject: "a",
            jti: Some("x"),
            session: None,
        };
        cache.insert(jti, Found::default(), cache.epoch());
        assert!(cache.get(jti).is_some());
        let session = AnswerKey {
            jti: None,
            session: Some("x"),
            ..jti
        };
        assert!(cache.get(session).is_none(), "a jti is not a session handle");
        assert!(cache.get(AnswerKey { subject: "b", ..jti }).is_none());
    }

    #[test]
    fn an_answer_is_served_only_for_the_recheck_interval() {
        let cache = AnswerCache::new(Duration::from_millis(200), 100);
        cache.insert(key("alice"), Found::default(), cache.epoch());
        assert!(cache.get(key("alice")).is_some());
        std::thread::sleep(Duration::from_millis(250));
        assert!(cache.get(key("alice")).is_none());
        assert!(cache.answers.is_empty(), "an answer found too old is dropped");
    }

    const REVOKED: Found = Found {
        token_revoked: true,
        session_revoked: false,
        revoked_until: None,
    };

    #[test]
    fn an_event_drops_answers_whose_lookup_began_before_it() {
        let cache = AnswerCache::new(Duration::from_secs(60), 100);
        let started = cache.epoch();
        cache.insert(key("alice"), Found::default(), started);
        assert_eq!(cache.get(key("alice")), Some(Found::default()));
        cache.drop_subject("bob");
        assert!(cache.get(key("alice")).is_some(), "another subject's event");

        // A lookup that began before alice's event and ends after it.
        let racing = cache.epoch();
        cache.drop_subject("alice");
        cache.insert(key("alice"), Found::default(), racing);
        assert_eq!(cache.get(key("alice")), None);
        // One that began after it is served.
        cache.insert(key("alice"), REVOKED, cache.epoch());
        assert_eq!(cache.get(key("alice")), Some(REVOKED));
    }

    #[test]
    fn a_stale_answer_is_not_even_kept() {
        let cache = AnswerCache::new(Duration::from_secs(60), 100);
        let racing = cache.epoch();
        cache.drop_subject("alice");
        cache.insert(key("alice"), Found::default(), racing);
        assert!(
            cache.answers.get(&key("alice")).is_none(),
            "kept, it could outlive the event's mark and be served after it"
        );
    }

    #[test]
    fn nothing_is_served_without_a_subscription_nor_from_before_it() {
        let cache = AnswerCache::new(Duration::from_secs(60), 100);
        let before = cache.epoch();
        cache.insert(key("alice"), Found::default(), before);
        cache.set_subscribed(false);
        assert_eq!(cache.get(key("alice")), None);
        cache.insert(key("alice"), Found::default(), cache.epoch());
        assert_eq!(cache.get(key("alice")), None, "not kept while unsubscribed");
        let during = cache.epoch();
        cache.set_subscribed(true);
        cache.insert(key("alice"), Found::default(), during);
        assert_eq!(cache.get(key("alice")), None, "began before the catch-up");
        cache.insert(key("alice"), Found::default(), cache.epoch());
        assert!(cache.get(key("alice")).is_some());
    }

    #[test]
    fn a_zero_recheck_interval_caches_nothing() {
        let cache = AnswerCache::new(Duration::ZERO, 100);
        cache.insert(key("alice"), Found::default(), cache.epoch());
        assert_eq!(cache.get(key("alice")), None);
    }
}
