//! Session checks and revocation: a token refused before it expires, on every
//! instance, within a second.
//!
//! A JWT stays valid until its `exp`. The session stage refuses, after
//! verification and on verification cache hits too, a token that was
//! revoked:
//!
//! - **one token**, by its `jti`;
//! - **one session**, by its handle (SuperTokens' `sessionHandle` claim, or
//!   the claim [`SessionCheck::session_claim`] names: `sid` for OpenID Connect);
//! - **everything a subject was issued until a time** ("log out everywhere"):
//!   a token whose `iat` is at or before it (or that has no `iat`).
//!
//! A revoked token is refused as an invalid token (401: `invalid_token` in
//! the RFC 6750 style, `unauthorised` in SuperTokens', gRPC 16). The stage is
//! opt-in per authenticator ([`Authenticator::session_check`](crate::Authenticator::session_check))
//! and per route ([`SessionCheck::routes`] with [`RouteRule::check_session`](crate::routes::RouteRule::check_session)),
//! and every adapter runs it: tower/axum, tonic, actix-web, the Lambda
//! authorizer and a service behind API Gateway.
//!
//! # Stores
//!
//! - [`MemoryStore`]: this process only (one instance, tests).
//! - [`RedisStore`] (feature `redis`): shared by every instance, on Redis or
//!   Valkey, a single node or a Redis Cluster.
//!
//! Both implement [`SessionStore`], whose [`first_use`](SessionStore::first_use)
//! is also the replay primitive a DPoP proof cache shares.
//!
//! # The hot path
//!
//! The store's answer about a token is cached locally for the
//! [recheck interval](SessionCheck::recheck_interval): a request whose answer
//! is cached makes no round trip and stays synchronous. Every revocation is
//! published (Redis pub/sub), and every instance drops the cached answers of
//! that subject at once; a lost subscription drops them all, and none is
//! cached until it is back (then the store is asked again, so what was
//! revoked meanwhile is honoured).
//!
//! # Faults
//!
//! Every store call is bounded by [`SessionCheck::timeout`]; a circuit
//! breaker stops asking a failing store for a while
//! ([`SessionCheck::circuit_breaker`]); when the store cannot answer,
//! [`OnStoreFailure`] decides: fail closed (503, the default) or fail open
//! (served, logged). A store answering garbage counts as failing. No lock is
//! held across a store call.
//!
//! # Key layout
//!
//! Any service can revoke by writing a key (the SuperTokens backend in Node
//! or Python, say). `SUBJECT` is the principal id (the `sub` claim unless a
//! [`PrincipalMapping`](crate::PrincipalMapping) names another); `SUBJECT`,
//! `JTI` and `HANDLE` are percent-encoded: every byte outside `A-Z a-z 0-9 - .
//! _ ~` as `%XX` in upper-case hex (Python: `urllib.parse.quote(s, safe="")`;
//! JavaScript: `encodeURIComponent(s)` with `!'()*` also escaped). So no
//! identifier can reach another key, another hash slot, or the protocol.
//!
//! | key | value | expires (`EXAT`) |
//! | --- | --- | --- |
//! | `authorizer:rv:{SUBJECT}:jti:JTI` | `1` | the token's `exp` |
//! | `authorizer:rv:{SUBJECT}:sid:HANDLE` | `1` | now + the longest token lifetime |
//! | `authorizer:rv:{SUBJECT}:before` | Unix seconds, decimal: tokens with `iat` ≤ it are refused | that time + the longest token lifetime |
//! | `authorizer:once:{KEY}` | `1` ([`first_use`](SessionStore::first_use)) | its ttl (`SET NX PX`) |
//!
//! After writing, publish `SUBJECT` (encoded) on the channel `authorizer:rv`,
//! so that every instance drops its cached answers at once (without it, they
//! see the revocation within the recheck interval). For "log out everywhere",
//! never lower an existing `before` value. In Python:
//!
//! ```text
//! sub = quote(user_id, safe="")
//! r.set(f"authorizer:rv:{{{sub}}}:sid:{quote(handle, safe='')}", 1, exat=int(time.time()) + 86400)
//! r.publish("authorizer:rv", sub)
//! ```
//!
//! The `{SUBJECT}` hash tag puts every key of one subject in one hash slot:
//! a check is one `MGET` on one node of a Redis Cluster. A value that is not
//! what this table says (a `before` that is not a number) counts as the store
//! failing, never as "not revoked".

mod breaker;
mod cache;
mod check;
mod keys;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod revoke;
mod store;

pub(crate) use check::Checked;
pub use check::{OnStoreFailure, SessionCheck};
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{RedisStore, Subscription};
pub use revoke::{RevokeError, RevokedKind, Revoker};
pub use store::{Found, Listener, Lookup, Revocation, Revoked, SessionStore, StoreError, StoreFuture};
