//! [`RedisStore`]: revocations shared by every instance, on Redis or Valkey.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, RedisError};
use tokio::sync::watch;

use super::keys::{self, Keys};
use super::store::{Found, Listener, Listeners, Lookup, Revocation, Revoked, SessionStore, StoreError, StoreFuture};

/// How long connecting (or subscribing) may take before it is tried again.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The driver's own bound on a reply; the session check's is shorter.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Never lowers an existing "issued until" time: a later one covers it.
const ISSUED_UNTIL_SCRIPT: &str = r#"
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2])
end
return 1
"#;

/// The state of a [`RedisStore`]'s event subscription, for health checks and
/// tests ([`RedisStore::subscription`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Subscription {
    /// Whether revocation events are being heard now.
    pub connected: bool,
    /// How many times the subscription was made (1 after the first; each
    /// reconnect adds one).
    pub subscriptions: u64,
    /// How many revocation events were heard.
    pub events: u64,
}

/// Revocations in Redis (or Valkey), shared by every instance: a single node
/// ([`new`](RedisStore::new)) or a Redis Cluster ([`cluster`](RedisStore::cluster)),
/// `redis://` URLs (no TLS). See [the key layout](super#key-layout).
///
/// Commands go through a connection that reconnects by itself; revocation
/// events come by pub/sub on a connection of their own, resubscribed by
/// itself after a loss (until then, the session check caches no answer).
/// Nothing waits for the first connection: until it is made, calls fail and
/// the session check's failure policy applies. Cheap to clone; the
/// background work ends when the last clone is dropped.
///
/// ```no_run
/// use authorizer::session::{RedisStore, SessionCheck};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), authorizer::session::StoreError> {
/// let store = RedisStore::new("redis://127.0.0.1:6379")?;
/// let check = SessionCheck::new(store.clone());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    commands: Commands,
    keys: Keys,
    listeners: Arc<Listeners>,
    state: Arc<watch::Sender<Subscription>>,
    /// Dropped with the store: ends the background tasks.
    _shutdown: watch::Sender<()>,
}

enum Commands {
    Single(ConnectionManager),
    Cluster(Arc<OnceLock<ClusterConnection>>),
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cluster = matches!(self.inner.commands, Commands::Cluster(_));
        f.debug_struct("RedisStore")
            .field("cluster", &cluster)
            .field("subscription", &*self.inner.state.borrow())
            .finish()
    }
}

fn unavailable(error: RedisError) -> StoreError {
    match error.kind() {
        redis::ErrorKind::Parse | redis::ErrorKind::UnexpectedReturnType => StoreError::Garbage("an unexpected reply"),
        // The kind alone: a server's message could quote a key.
        kind => StoreError::Unavailable(format!("{kind:?}")),
    }
}

/// The background work needs a Tokio runtime: refused without one, rather
/// than a panic.
fn in_runtime() -> Result<(), StoreError> {
    tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|_| StoreError::Unavailable("a RedisStore is made inside a Tokio runtime".to_owned()))
}

impl RedisStore {
    /// A store on one Redis node (`redis://[:password@]host:port[/db]`).
    /// Call it inside a Tokio runtime: it starts connecting and subscribing
    /// in the background, and returns at once.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        in_runtime()?;
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(MAX_BACKOFF);
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(unavailable)?;
        Ok(RedisStore::start(Commands::Single(manager), vec![client]))
    }

    /// A store on a Redis Cluster, given some of its nodes' URLs (the others
    /// are discovered). Every lookup touches one hash slot. Call it inside a
    /// Tokio runtime, as [`new`](RedisStore::new).
    pub fn cluster<S: AsRef<str>>(nodes: impl IntoIterator<Item = S>) -> Result<Self, StoreError> {
        let nodes: Vec<String> = nodes.into_iter().map(|node| node.as_ref().to_owned()).collect();
        in_runtime()?;
        if nodes.is_empty() {
            return Err(StoreError::Unavailable("no cluster node given".to_owned()));
        }
        let clients = nodes
            .iter()
            .map(|node| redis::Client::open(node.as_str()).map_err(unavailable))
            .collect::<Result<Vec<_>, _>>()?;
        let cluster = redis::cluster::ClusterClientBuilder::new(nodes)
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT)
            .build()
            .map_err(unavailable)?;
        let connection = Arc::new(OnceLock::new());
        let store = RedisStore::start(Commands::Cluster(connection.clone()), clients);
        let shutdown = store.inner._shutdown.subscribe();
        tokio::spawn(connect_cluster(cluster, connection, shutdown));
        Ok(store)
    }

    fn start(commands: Commands, clients: Vec<redis::Client>) -> Self {
        let (shutdown, stopped) = watch::channel(());
        let keys = Keys::default();
        let inner = Inner {
            commands,
            listeners: Arc::new(Listeners::default()),
            state: Arc::new(watch::Sender::new(Subscription::default())),
            keys,
            _shutdown: shutdown,
        };
        tokio::spawn(listen_for_events(
            clients,
            inner.keys.channel(),
            inner.listeners.clone(),
            inner.state.clone(),
            stopped,
        ));
        RedisStore { inner: Arc::new(inner) }
    }

    /// The event subscription's state, as it changes: wait on it for the
    /// first subscription, or for a revocation event to arrive.
    pub fn subscription(&self) -> watch::Receiver<Subscription> {
        self.inner.state.subscribe()
    }

    async fn query<T: FromRedisValue>(&self, command: &Cmd) -> Result<T, StoreError> {
        match &self.inner.commands {
            Commands::Single(manager) => command.query_async(&mut manager.clone()).await.map_err(unavailable),
            Commands::Cluster(connection) => {
                let mut connection = connection
                    .get()
                    .ok_or_else(|| StoreError::Unavailable("not connected yet".to_owned()))?
                    .clone();
                command.query_async(&mut connection).await.map_err(unavailable)
            }
        }
    }

    async fn found(&self, lookup: &Lookup) -> Result<Found, StoreError> {
        let keys = &self.inner.keys;
        let subject = &lookup.subject;
        let mut names = vec![keys.before(subject)];
        names.extend(lookup.jti.iter().map(|jti| keys.token(subject, jti)));
        names.extend(lookup.session.iter().map(|handle| keys.session(subject, handle)));
        // One MGET, one hash slot: every key carries the subject's tag.
        let values: Vec<Option<Vec<u8>>> = self.query(redis::cmd("MGET").arg(&names)).await?;
        if values.len() != names.len() {
            return Err(StoreError::Garbage("a reply of the wrong length"));
        }
        let mut values = values.into_iter();
        let until = match values.next().flatten() {
            None => None,
            Some(value) => Some(
                std::str::from_utf8(&value)
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok())
                    .ok_or(StoreError::Garbage("a `before` value that is not Unix seconds"))?,
            ),
        };
        let token_revoked = lookup.jti.is_some() && values.next().flatten().is_some();
        let session_revoked = lookup.session.is_some() && values.next().flatten().is_some();
        Ok(Found {
            token_revoked,
            session_revoked,
            revoked_until: until,
        })
    }

    async fn write(&self, revocation: &Revocation) -> Result<(), StoreError> {
        let keep_until = super::store::unix_seconds(revocation.keep_until);
        if revocation.keep_until <= SystemTime::now() {
            return Ok(()); // Every token it could revoke has expired already.
        }
        let keys = &self.inner.keys;
        let subject = &revocation.subject;
        match &revocation.revoked {
            Revoked::Token(jti) => self.set_until(keys.token(subject, jti), keep_until).await?,
            Revoked::Session(handle) => self.set_until(keys.session(subject, handle), keep_until).await?,
            Revoked::IssuedUntil(until) => {
                let mut eval = redis::cmd("EVAL");
                eval.arg(ISSUED_UNTIL_SCRIPT)
                    .arg(1)
                    .arg(keys.before(subject))
                    .arg(until)
                    .arg(keep_until);
                self.query::<i64>(&eval).await?;
            }
        }
        let encoded = keys::encode(subject.as_bytes());
        self.query::<i64>(redis::cmd("PUBLISH").arg(keys.channel()).arg(encoded))
            .await?;
        Ok(())
    }

    async fn set_until(&self, key: String, unix_seconds: u64) -> Result<(), StoreError> {
        let mut set = redis::cmd("SET");
        set.arg(key).arg(1).arg("EXAT").arg(unix_seconds);
        self.query::<String>(&set).await.map(drop)
    }
}

impl SessionStore for RedisStore {
    fn lookup<'a>(&'a self, lookup: &'a Lookup) -> StoreFuture<'a, Found> {
        Box::pin(self.found(lookup))
    }

    fn revoke<'a>(&'a self, revocation: &'a Revocation) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.write(revocation).await?;
            // This instance need not wait for its own event.
            self.inner
                .listeners
                .each(|listener| listener.revoked(&revocation.subject));
            Ok(())
        })
    }

    fn first_use<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut set = redis::cmd("SET");
            let millis = ttl.as_millis().clamp(1, u64::MAX as u128) as u64;
            set.arg(self.inner.keys.once(key))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(millis);
            let reply: Option<String> = self.query(&set).await?;
            Ok(reply.is_some())
        })
    }

    fn listen(&self, listener: Listener) {
        // Under the state's lock, so that a (re)subscription cannot slip
        // between adding the listener and telling it the state.
        self.inner.state.send_if_modified(|state| {
            self.inner.listeners.add(listener.clone());
            if !state.connected {
                listener.unsubscribed();
            }
            false
        });
    }
}

/// Makes the cluster connection (it reconnects by itself from then on).
async fn connect_cluster(
    cluster: redis::cluster::ClusterClient,
    connection: Arc<OnceLock<ClusterConnection>>,
    mut shutdown: watch::Receiver<()>,
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        if let Ok(Ok(made)) = tokio::time::timeout(CONNECT_TIMEOUT, cluster.get_async_connection()).await {
            let _ = connection.set(made);
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Hears revocation events for as long as the store lives: subscribes
/// (through each node in turn), tells the listeners of every event, and of
/// every loss and resubscription.
async fn listen_for_events(
    clients: Vec<redis::Client>,
    channel: String,
    listeners: Arc<Listeners>,
    state: Arc<watch::Sender<Subscription>>,
    mut shutdown: watch::Receiver<()>,
) {
    let mut backoff = Duration::from_millis(50);
    for client in clients.iter().cycle() {
        if let Some(mut messages) = subscribe(client, &channel).await {
            backoff = Duration::from_millis(50);
            state.send_modify(|state| {
                listeners.each(Listener::subscribed);
                state.connected = true;
                state.subscriptions += 1;
            });
            loop {
                tokio::select! {
                    message = messages.next() => match message {
                        Some(message) => {
                            match keys::decode(message.get_payload_bytes()) {
                                Some(subject) => listeners.each(|listener| listener.revoked(&subject)),
                                // Not an event we write: it may stand for anything.
                                None => listeners.each(Listener::subscribed),
                            }
                            state.send_modify(|state| state.events += 1);
                        }
                        None => break,
                    },
                    _ = shutdown.changed() => return,
                }
            }
            tracing::warn!(target: "authorizer", "session store: revocation events lost, resubscribing");
            state.send_modify(|state| {
                listeners.each(Listener::unsubscribed);
                state.connected = false;
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn subscribe(client: &redis::Client, channel: &str) -> Option<redis::aio::PubSubStream> {
    let subscribing = async {
        let mut pubsub = client.get_async_pubsub().await.ok()?;
        pubsub.subscribe(channel).await.ok()?;
        Some(pubsub.into_on_message())
    };
    tokio::time::timeout(CONNECT_TIMEOUT, subscribing).await.ok().flatten()
}
