//! [`MemoryStore`]: revocations in this process only.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::keys::Keys;
use super::store::{Found, Listener, Listeners, Lookup, Revocation, Revoked, SessionStore, StoreFuture};

/// Revocations kept in this process, for a service of one instance (and for
/// tests). Entries expire with the tokens they revoke. Cheap to clone: clones
/// share the entries.
///
/// ```
/// use authorizer::session::{MemoryStore, SessionStore};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), authorizer::session::StoreError> {
/// let store = MemoryStore::new();
/// assert!(store.first_use("proof-1", Duration::from_secs(60)).await?);
/// assert!(!store.first_use("proof-1", Duration::from_secs(60)).await?, "a replay");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Keys,
    /// Key → (value, when it goes).
    entries: moka::sync::Cache<String, (u64, Instant)>,
    listeners: Listeners,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            keys: Keys::default(),
            entries: moka::sync::Cache::builder().expire_after(UntilDeadline).build(),
            listeners: Listeners::default(),
        }
    }
}

/// Each entry goes at its own deadline.
struct UntilDeadline;

impl moka::Expiry<String, (u64, Instant)> for UntilDeadline {
    fn expire_after_create(&self, _: &String, value: &(u64, Instant), now: Instant) -> Option<Duration> {
        Some(value.1.saturating_duration_since(now))
    }

    fn expire_after_update(
        &self,
        _: &String,
        value: &(u64, Instant),
        now: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.1.saturating_duration_since(now))
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.inner.entries.entry_count())
            .finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn present(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn get(&self, key: &str) -> Option<u64> {
        // moka removes expired entries lazily; an entry past its deadline is gone.
        self.inner
            .entries
            .get(key)
            .filter(|(_, deadline)| *deadline > Instant::now())
            .map(|(value, _)| value)
    }

    fn write(&self, revocation: &Revocation) {
        let Some(keep) = revocation.keep_until.duration_since(SystemTime::now()).ok() else {
            return; // Every token it could revoke has expired already.
        };
        // A revocation kept past what an `Instant` can hold is kept as long
        // as it can be: for the process's lifetime, in practice.
        let deadline = far(keep);
        let keys = &self.inner.keys;
        let subject = &revocation.subject;
        let entries = &self.inner.entries;
        match &revocation.revoked {
            Revoked::Token(jti) => entries.insert(keys.token(subject, jti), (1, deadline)),
            Revoked::Session(handle) => entries.insert(keys.session(subject, handle), (1, deadline)),
            Revoked::IssuedUntil(until) => {
                let key = keys.before(subject);
                // A later time covers an earlier one: never lower it.
                entries
                    .entry(key)
                    .and_upsert_with(|current| match current.map(|entry| entry.into_value()) {
                        Some((current, kept)) if current >= *until => (current, kept),
                        _ => (*until, deadline),
                    });
            }
        }
    }
}

impl SessionStore for MemoryStore {
    fn lookup<'a>(&'a self, lookup: &'a Lookup) -> StoreFuture<'a, Found> {
        let keys = &self.inner.keys;
        let subject = &lookup.subject;
        let found = Found {
            token_revoked: lookup
                .jti
                .as_ref()
                .is_some_and(|jti| self.present(&keys.token(subject, jti))),
            session_revoked: lookup
                .session
                .as_ref()
                .is_some_and(|handle| self.present(&keys.session(subject, handle))),
            revoked_until: self.get(&keys.before(subject)),
        };
        Box::pin(std::future::ready(Ok(found)))
    }

    fn revoke<'a>(&'a self, revocation: &'a Revocation) -> StoreFuture<'a, ()> {
        self.write(revocation);
        self.inner
            .listeners
            .each(|listener| listener.revoked(&revocation.subject));
        Box::pin(std::future::ready(Ok(())))
    }

    fn first_use<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        let deadline = far(ttl);
        let key = self.inner.keys.once(key);
        // One atomic step: the first caller inserts, every other sees the entry;
        // an entry past its deadline is replaced as if absent.
        let first =
            self.inner
                .entries
                .entry(key)
                .and_compute_with(|current| match current.map(|entry| entry.into_value()) {
                    Some((_, kept)) if kept > Instant::now() => moka::ops::compute::Op::Nop,
                    _ => moka::ops::compute::Op::Put((1, deadline)),
                });
        let first = matches!(
            first,
            moka::ops::compute::CompResult::Inserted(_) | moka::ops::compute::CompResult::ReplacedWith(_)
        );
        Box::pin(std::future::ready(Ok(first)))
    }

    fn listen(&self, listener: Listener) {
        self.inner.listeners.add(listener);
    }
}

/// `now + span`, saturating (a century) rather than panicking on a huge span.
fn far(span: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(span)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(subject: &str, jti: Option<&str>, session: Option<&str>) -> Lookup {
        Lookup {
            subject: subject.into(),
            jti: jti.map(Into::into),
            session: session.map(Into::into),
        }
    }

    fn revocation(subject: &str, revoked: Revoked, keep: Duration) -> Revocation {
        Revocation {
            subject: subject.into(),
            revoked,
            keep_until: SystemTime::now() + keep,
        }
    }

    #[tokio::test]
    async fn revocations_are_found_by_subject_and_kind() {
        let store = MemoryStore::new();
        let hour = Duration::from_secs(3600);
        store
            .revoke(&revocation("alice", Revoked::Token("t1".into()), hour))
            .await
            .unwrap();
        store
            .revoke(&revocation("alice", Revoked::Session("s1".into()), hour))
            .await
            .unwrap();
        let found = store.lookup(&lookup("alice", Some("t1"), Some("s2"))).await.unwrap();
        assert!(found.token_revoked && !found.session_revoked);
        let found = store.lookup(&lookup("alice", Some("t2"), Some("s1"))).await.unwrap();
        assert!(!found.token_revoked && found.session_revoked);
        let other = store.lookup(&lookup("bob", Some("t1"), Some("s1"))).await.unwrap();
        assert_eq!(other, Found::default(), "another subject's token of the same id");
    }

    #[tokio::test]
    async fn a_later_issued_until_is_never_lowered() {
        let store = MemoryStore::new();
        let hour = Duration::from_secs(3600);
        store
            .revoke(&revocation("a", Revoked::IssuedUntil(200), hour))
            .await
            .unwrap();
        store
            .revoke(&revocation("a", Revoked::IssuedUntil(100), hour))
            .await
            .unwrap();
        let found = store.lookup(&lookup("a", None, None)).await.unwrap();
        assert_eq!(found.revoked_until, Some(200));
    }

    #[tokio::test]
    async fn entries_go_when_their_tokens_would_have_expired() {
        let store = MemoryStore::new();
        store
            .revoke(&revocation("a", Revoked::Token("gone".into()), Duration::ZERO))
            .await
            .unwrap();
        store
            .revoke(&revocation(
                "a",
                Revoked::Token("soon".into()),
                Duration::from_millis(1),
            ))
            .await
            .unwrap();
        // Wait for the deadline by completion: poll until it passes.
        while store.present(&Keys::default().token("a", "soon")) {
            tokio::task::yield_now().await;
        }
        let found = store.lookup(&lookup("a", Some("gone"), None)).await.unwrap();
        assert!(!found.token_revoked);
        let found = store.lookup(&lookup("a", Some("soon"), None)).await.unwrap();
        assert!(!found.token_revoked);
    }

    #[tokio::test]
    async fn first_use_is_true_once_per_key_and_ttl() {
        let store = MemoryStore::new();
        let minute = Duration::from_secs(60);
        assert!(store.first_use("k", minute).await.unwrap());
        assert!(!store.first_use("k", minute).await.unwrap());
        assert!(store.first_use("other", minute).await.unwrap());
        assert!(store.first_use("brief", Duration::from_millis(1)).await.unwrap());
        while store.present(&Keys::default().once("brief")) {
            tokio::task::yield_now().await;
        }
        assert!(
            store.first_use("brief", minute).await.unwrap(),
            "seen again after its ttl"
        );
        // Concurrent callers: exactly one is first.
        let firsts = futures_count(&store).await;
        assert_eq!(firsts, 1);
    }

    async fn futures_count(store: &MemoryStore) -> usize {
        let mut handles = Vec::new();
        for _ in 0..16 {
            let store = store.clone();
            handles.push(tokio::spawn(async move {
                store.first_use("raced", Duration::from_secs(60)).await.unwrap()
            }));
        }
        let mut firsts = 0;
        for handle in handles {
            firsts += usize::from(handle.await.unwrap());
        }
        firsts
    }

    #[test]
    fn threads_racing_for_one_key_see_one_first_use() {
        use std::future::Future;
        use std::task::{Context, Poll, Waker};
        let store = MemoryStore::new();
        let minute = Duration::from_secs(60);
        // The store answers at once: one poll reads the answer.
        let first_use = |key: &str| match std::pin::pin!(store.first_use(key, minute))
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(answer) => answer.unwrap(),
            Poll::Pending => panic!("the in-memory store never waits"),
        };
        for round in 0..200 {
            let key = format!("raced-{round}");
            let firsts: usize = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8).map(|_| scope.spawn(|| usize::from(first_use(&key)))).collect();
                handles.into_iter().map(|h| h.join().unwrap()).sum()
            });
            assert_eq!(firsts, 1, "{key}");
        }
    }
}
