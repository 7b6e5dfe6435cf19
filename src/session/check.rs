//! [`SessionCheck`]: the session stage, configured.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::breaker::Breaker;
use super::cache::{AnswerCache, AnswerKey};
use super::revoke::Revoker;
use super::store::{Found, Listener, Lookup, SessionStore, StoreError};
use crate::error::{Error, InvalidToken};
use crate::principal::Principal;
use crate::routes::RouteTable;

/// What the session check does when the store cannot answer (down, slow,
/// garbage, circuit breaker open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnStoreFailure {
    /// Refuse the request: 503 (gRPC 14, `UNAVAILABLE`). The default: a
    /// revoked session never passes because the store is away.
    #[default]
    FailClosed,
    /// Serve the request as if nothing were revoked, with a warning in the
    /// log (no token, claim or identifier in it). Revocations are then not
    /// enforced while the store is away.
    FailOpen,
}

/// The session stage: after verification (and on verification cache hits),
/// refuses a token that was revoked, by `jti`, by session handle, or by
/// subject and issue time. See [the module docs](super).
///
/// ```
/// use std::time::Duration;
/// use authorizer::session::{MemoryStore, OnStoreFailure, SessionCheck};
/// use authorizer::testing::TestIssuer;
/// use authorizer::Authenticator;
///
/// let check = SessionCheck::new(MemoryStore::new())
///     .recheck_interval(Duration::from_secs(5))
///     .timeout(Duration::from_millis(250))
///     .on_store_failure(OnStoreFailure::FailClosed);
/// let revoker = check.revoker(); // for a logout handler
/// let auth = Authenticator::new(TestIssuer::new().verifier()).session_check(check);
/// ```
#[derive(Clone)]
pub struct SessionCheck {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn SessionStore>,
    cache: Arc<AnswerCache>,
    breaker: Breaker,
    timeout: Duration,
    policy: OnStoreFailure,
    session_claim: String,
    max_token_lifetime: Duration,
    routes: Option<RouteTable>,
}

impl fmt::Debug for SessionCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCheck")
            .field("timeout", &self.inner.timeout)
            .field("policy", &self.inner.policy)
            .field("session_claim", &self.inner.session_claim)
            .field("per_route", &self.inner.routes.is_some())
            .finish()
    }
}

/// The defaults, named so the docs and the builder agree.
const DEFAULT_RECHECK: Duration = Duration::from_secs(5);
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);
const DEFAULT_FAILURES: u32 = 5;
const DEFAULT_COOL_DOWN: Duration = Duration::from_secs(5);
const DEFAULT_LIFETIME: Duration = Duration::from_secs(24 * 3600);
const CACHE_CAPACITY: u64 = 100_000;

/// The configuration the builder methods change, before the check is shared.
struct Settings {
    recheck: Duration,
    timeout: Duration,
    failures: u32,
    cool_down: Duration,
}

impl SessionCheck {
    /// Checks every request the authenticator authenticates against `store`:
    /// answers cached for 5 s, a 250 ms timeout per store call, fail closed,
    /// a circuit breaker that opens after 5 failures in a row for 5 s, the
    /// session handle in SuperTokens' `sessionHandle` claim, tokens living
    /// at most 24 h.
    pub fn new(store: impl SessionStore) -> Self {
        Self::shared(Arc::new(store))
    }

    /// As [`new`](SessionCheck::new), with a store shared with other code
    /// (a DPoP replay cache, say).
    pub fn shared(store: Arc<dyn SessionStore>) -> Self {
        SessionCheck::build(
            store,
            Settings {
                recheck: DEFAULT_RECHECK,
                timeout: DEFAULT_TIMEOUT,
                failures: DEFAULT_FAILURES,
                cool_down: DEFAULT_COOL_DOWN,
            },
            OnStoreFailure::default(),
            "sessionHandle".to_owned(),
            DEFAULT_LIFETIME,
            None,
        )
    }

    fn build(
        store: Arc<dyn SessionStore>,
        settings: Settings,
        policy: OnStoreFailure,
        session_claim: String,
        max_token_lifetime: Duration,
        routes: Option<RouteTable>,
    ) -> Self {
        let cache = Arc::new(AnswerCache::new(settings.recheck, CACHE_CAPACITY));
        store.listen(Listener::new(&cache));
        SessionCheck {
            inner: Arc::new(Inner {
                store,
                cache,
                breaker: Breaker::new(settings.failures, settings.cool_down, settings.timeout),
                timeout: settings.timeout,
                policy,
                session_claim,
                max_token_lifetime,
                routes,
            }),
        }
    }

    /// Rebuilds with changed settings (the builder methods run before the
    /// check serves any request, so nothing cached is lost).
    fn rebuilt(self, change: impl FnOnce(&mut Settings)) -> Self {
        let inner = &self.inner;
        let mut settings = Settings {
            recheck: inner.cache.recheck(),
            timeout: inner.timeout,
            failures: inner.breaker.threshold(),
            cool_down: inner.breaker.cool_down(),
        };
        change(&mut settings);
        SessionCheck::build(
            inner.store.clone(),
            settings,
            inner.policy,
            inner.session_claim.clone(),
            inner.max_token_lifetime,
            inner.routes.clone(),
        )
    }

    fn with_inner(self, change: impl FnOnce(&mut Inner)) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                change(&mut inner);
                SessionCheck { inner: Arc::new(inner) }
            }
            Err(shared) => SessionCheck { inner: shared }.rebuilt(|_| {}).with_inner(change),
        }
    }

    /// How long a store's answer about a token is reused without asking
    /// again (default 5 s; zero: ask on every request). A revocation event
    /// drops the answers of its subject at once, so this bounds only how
    /// long a revocation can go unseen when an event is lost.
    pub fn recheck_interval(self, interval: Duration) -> Self {
        self.rebuilt(|settings| settings.recheck = interval)
    }

    /// The bound on every store call (default 250 ms): a request never waits
    /// on the store longer.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.rebuilt(|settings| settings.timeout = timeout)
    }

    /// The circuit breaker: after `failures` failed calls in a row, the store
    /// is not asked for `cool_down` (the failure policy applies at once),
    /// then one request probes it (default 5 failures, 5 s).
    pub fn circuit_breaker(self, failures: u32, cool_down: Duration) -> Self {
        self.rebuilt(|settings| {
            settings.failures = failures;
            settings.cool_down = cool_down;
        })
    }

    /// What happens when the store cannot answer (default [`OnStoreFailure::FailClosed`]).
    pub fn on_store_failure(self, policy: OnStoreFailure) -> Self {
        self.with_inner(|inner| inner.policy = policy)
    }

    /// The claim that holds the session handle (default `sessionHandle`, as
    /// SuperTokens writes it; `sid` for OpenID Connect providers).
    pub fn session_claim(self, claim: impl Into<String>) -> Self {
        let claim = claim.into();
        self.with_inner(|inner| inner.session_claim = claim)
    }

    /// The longest lifetime of an access token (default 24 h): how long a
    /// session or subject revocation is kept, since every token it can
    /// revoke has expired by then.
    pub fn max_token_lifetime(self, lifetime: Duration) -> Self {
        self.with_inner(|inner| inner.max_token_lifetime = lifetime)
    }

    /// Checks only the requests whose rule in `routes` says
    /// [`check_session`](crate::routes::RouteRule::check_session) (by
    /// method and path, as the table judges them), as SuperTokens'
    /// `checkDatabase` is per route. Without it, every request is checked.
    pub fn routes(self, routes: RouteTable) -> Self {
        self.with_inner(|inner| inner.routes = Some(routes))
    }

    /// Revokes through the same store, with the same session claim and
    /// token lifetime: for a logout route.
    pub fn revoker(&self) -> Revoker {
        Revoker::shared(self.inner.store.clone())
            .session_claim(self.inner.session_claim.clone())
            .max_token_lifetime(self.inner.max_token_lifetime)
            .timeout(self.inner.timeout)
    }

    /// The store, to share with other code: a DPoP replay cache calls its
    /// [`first_use`](SessionStore::first_use).
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.inner.store
    }

    /// Whether the circuit breaker is open: the store is not being asked and
    /// the failure policy applies at once (for health checks).
    pub fn store_failing(&self) -> bool {
        self.inner.breaker.is_open()
    }

    /// Whether a request to `route` (its method and path, asked only when
    /// route rules decide) is checked.
    pub(crate) fn applies<'r>(&self, route: impl FnOnce() -> (&'r str, &'r str)) -> bool {
        let Some(routes) = &self.inner.routes else {
            return true;
        };
        let (method, path) = route();
        routes.judged_rule(method, path).checks_session()
    }

    /// The stage: decided at once from a cached answer or an open breaker,
    /// else a store lookup to await.
    pub(crate) fn check(&self, principal: &Principal) -> Checked {
        let inner = &self.inner;
        let Some(token) = TokenIds::of(principal, &inner.session_claim) else {
            return Checked::Done(Err(InvalidToken::MissingClaim.into()));
        };
        if let Some(found) = inner.cache.get(token.key()) {
            return Checked::Done(decide(&found, token.iat));
        }
        if !inner.breaker.allows() {
            return Checked::Done(self.failed(StoreError::CircuitOpen));
        }
        let this = self.clone();
        let (lookup, iat) = (token.to_lookup(), token.iat);
        Checked::Pending(Box::pin(async move {
            let inner = &this.inner;
            let started = inner.cache.epoch();
            let answer = tokio::time::timeout(inner.timeout, inner.store.lookup(&lookup)).await;
            match answer.unwrap_or(Err(StoreError::Timeout)) {
                Ok(found) => {
                    inner.breaker.succeeded();
                    let decision = decide(&found, iat);
                    inner.cache.insert(answer_key(&lookup), found, started);
                    decision
                }
                Err(error) => {
                    inner.breaker.failed();
                    this.failed(error)
                }
            }
        }))
    }

    fn failed(&self, error: StoreError) -> Result<(), Error> {
        match self.inner.policy {
            OnStoreFailure::FailClosed => {
                tracing::debug!(target: "authorizer", %error, "session store failed: refused (fail closed)");
                Err(Error::SessionStoreUnavailable)
            }
            // Once per failed call: while the breaker is open (no call made),
            // only at debug, so a dead store does not flood the log.
            OnStoreFailure::FailOpen if error == StoreError::CircuitOpen => {
                tracing::debug!(target: "authorizer", %error, "session store failed: served unchecked (fail open)");
                Ok(())
            }
            OnStoreFailure::FailOpen => {
                tracing::warn!(target: "authorizer", %error, "session store failed: served unchecked (fail open)");
                Ok(())
            }
        }
    }
}

fn decide(found: &Found, iat: Option<u64>) -> Result<(), Error> {
    if found.refuses(iat) {
        Err(InvalidToken::Revoked.into())
    } else {
        Ok(())
    }
}

/// The stage's answer: now, or after a lookup.
pub(crate) enum Checked {
    Done(Result<(), Error>),
    Pending(std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send>>),
}

/// What identifies a token to the store, borrowed from the principal: a
/// cached answer needs no copy of it.
struct TokenIds<'p> {
    subject: &'p str,
    jti: Option<&'p str>,
    session: Option<&'p str>,
    iat: Option<u64>,
}

impl<'p> TokenIds<'p> {
    /// `None` when there is no subject to key the lookup on.
    fn of(principal: &'p Principal, session_claim: &str) -> Option<Self> {
        let subject = principal.id();
        if subject.is_empty() {
            return None;
        }
        let text = |value: &'p Value| match value {
            Value::String(text) if !text.is_empty() => Some(text.as_str()),
            _ => None,
        };
        let mut ids = TokenIds {
            subject,
            jti: None,
            session: None,
            iat: None,
        };
        // One walk over the claims: on every checked request, three lookups
        // in the ordered map cost more (each compares its way down the keys).
        for (name, value) in principal.claims() {
            if name == session_claim {
                ids.session = text(value);
            }
            match name.as_str() {
                "jti" => ids.jti = text(value),
                "iat" => ids.iat = seconds(value),
                _ => {}
            }
        }
        Some(ids)
    }

    fn to_lookup(&self) -> Lookup {
        Lookup {
            subject: self.subject.to_owned(),
            jti: self.jti.map(str::to_owned),
            session: self.session.map(str::to_owned),
        }
    }

    /// What the answer cache knows the token by.
    fn key(&self) -> AnswerKey<'p> {
        AnswerKey {
            subject: self.subject,
            jti: self.jti,
            session: self.session,
        }
    }
}

/// What the answer cache knows a looked-up token by.
fn answer_key(lookup: &Lookup) -> AnswerKey<'_> {
    AnswerKey {
        subject: &lookup.subject,
        jti: lookup.jti.as_deref(),
        session: lookup.session.as_deref(),
    }
}

/// A NumericDate: a number, or its text (API Gateway hands claims on as strings).
fn seconds(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64().or_else(|| number.as_f64().map(|f| f as u64)),
        Value::String(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Source;
    use serde_json::json;

    fn principal(claims: Value) -> Principal {
        Principal::new("user-1", Source::Bearer).with_claims(claims.as_object().unwrap().clone())
    }

    #[test]
    fn ids_come_from_the_claims_and_dates_may_be_text() {
        let first = principal(json!({"jti": "t", "sid": "s", "iat": "1700000000"}));
        let ids = TokenIds::of(&first, "sid").unwrap();
        assert_eq!((ids.jti, ids.session), (Some("t"), Some("s")));
        assert_eq!(ids.iat, Some(1_700_000_000));
        let lookup = ids.to_lookup();
        assert_eq!((lookup.subject.as_str(), lookup.jti.as_deref()), ("user-1", Some("t")));
        let second = principal(json!({"jti": 7, "iat": "soon"}));
        let none = TokenIds::of(&second, "sessionHandle").unwrap();
        assert_eq!((none.jti, none.session, none.iat), (None, None, None));
        assert!(TokenIds::of(&Principal::new("", Source::Bearer), "sid").is_none());
    }
}
