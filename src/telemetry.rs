//! What the library reports about its decisions: metrics through the
//! [`metrics`](https://docs.rs/metrics) facade (feature `metrics`, on by
//! default) and one `tracing` span per decision.
//!
//! The library installs no recorder and no subscriber: the application picks
//! an exporter (Prometheus, OpenTelemetry, StatsD, ...) and installs it. With
//! none installed, each metric costs a thread-local read and an atomic load.
//!
//! # Metrics
//!
//! | name | type | labels | unit |
//! | --- | --- | --- | --- |
//! | `authorizer_decisions_total` | counter | `stage`, `outcome`, `reason` | decisions |
//! | `authorizer_requirement_failures_total` | counter | `check` | failed checks |
//! | `authorizer_verification_duration_seconds` | histogram | `outcome` | seconds |
//! | `authorizer_token_cache_lookups_total` | counter | `result` | lookups |
//! | `authorizer_key_fetches_total` | counter | `issuer`, `result` | fetches |
//! | `authorizer_key_set_age_seconds` | gauge | `issuer` | seconds |
//!
//! Label values are bounded and never come from a token:
//!
//! - `stage`: `authenticate` (the pipeline: one per request through a layer,
//!   middleware or Lambda authorizer) or `authorize` (a requirement or route
//!   table check, and a principal read with no layer in front).
//! - `outcome` and `reason`:
//!
//!   | `outcome` | status | `reason` |
//!   | --- | --- | --- |
//!   | `allowed` | 2xx | `none` |
//!   | `anonymous` | 2xx | `no_credential` (an optional layer let it pass) |
//!   | `unauthenticated` | 401 | `missing`, `expired`, `malformed`, `too_large`, `ambiguous`, `algorithm`, `unsupported_header`, `unknown_key`, `signature`, `issuer`, `audience`, `not_yet_valid`, `missing_claim`, `claim_type`, `type`, `too_old`, `inactive` |
//!   | `forbidden` | 403 | `csrf`, `requirement` |
//!   | `unavailable` | 503 | `keys_unavailable`, `introspection_unavailable` |
//!   | `error` | 500 | `missing_layer` |
//!
//! - `check`: the id of each failed check of a 403 for `requirement` (the
//!   claim name, `scope`, a custom check's name, `route` for a deny rule):
//!   configured, never the claim's value.
//! - `result` of a cache lookup: `hit` or `miss` (only verifications that
//!   looked: a cache of capacity 0 counts nothing).
//! - `issuer`: the configured `iss` of a remote key set.
//! - `result` of a key fetch: `ok`, `empty` (no usable key; the last good set
//!   stays), `timeout`, `http` (the request failed: connection, TLS, a broken body), `status` (not 2xx),
//!   `too_large`, `unparsable` (not a JWKS), `discovery` (the OpenID
//!   configuration is unusable).
//!
//! The duration histogram covers verifications that missed the cache (a
//! cache hit is decided without waiting); the key-set age is set whenever a
//! remote key set is used or replaced, so it is the age of the keys a
//! verification used last. [`describe`] registers units and help texts with
//! the installed recorder.
//!
//! ```
//! # #[cfg(feature = "metrics")] {
//! use authorizer::telemetry;
//! // After installing the application's recorder (an exporter):
//! telemetry::describe();
//! assert_eq!(telemetry::DECISIONS, "authorizer_decisions_total");
//! # }
//! ```
//!
//! # Tracing
//!
//! Each run of the pipeline is one span, [`DECIDE_SPAN`] (`authorizer.decide`,
//! level `INFO`, target `authorizer`), with the fields below; a field is left
//! empty when the decision did not learn it (a cache hit knows no key id, a
//! request without a credential no issuer). A verification that waits (a key
//! fetch) runs inside the span, so its events are the span's children.
//!
//! | field | value |
//! | --- | --- |
//! | `source` | where the credential came from (`Bearer`, `Cookie`, ...) |
//! | `issuer` | the configured issuer that matched the token |
//! | `kid` | the key id of the key that verified the signature |
//! | `alg` | the token's algorithm, once its issuer allows it |
//! | `outcome`, `reason` | as the labels above |
//!
//! The token, its subject and its claim values are never recorded.

#[cfg(feature = "metrics")]
use std::time::Duration;

/// A metric key with constant labels, built at compile time.
#[cfg(feature = "metrics")]
macro_rules! static_key {
    ($name:expr $(, $label:expr => $value:expr)* $(,)?) => {{
        static LABELS: &[metrics::Label] = &[$(metrics::Label::from_static_parts($label, $value)),*];
        static KEY: metrics::Key = metrics::Key::from_static_parts($name, LABELS);
        &KEY
    }};
}

use crate::error::{Error, InvalidProof, InvalidToken};
use crate::principal::Principal;

/// Counter: decisions, by `stage`, `outcome` and `reason`.
pub const DECISIONS: &str = "authorizer_decisions_total";
/// Counter: failed checks of refused requirements, by `check`.
pub const REQUIREMENT_FAILURES: &str = "authorizer_requirement_failures_total";
/// Histogram (seconds): verifications that missed the cache, by `outcome`.
pub const VERIFICATION_DURATION: &str = "authorizer_verification_duration_seconds";
/// Counter: verified-token cache lookups, by `result` (`hit`, `miss`).
pub const TOKEN_CACHE_LOOKUPS: &str = "authorizer_token_cache_lookups_total";
/// Counter: remote key-set fetches, by `issuer` and `result`.
pub const KEY_FETCHES: &str = "authorizer_key_fetches_total";
/// Gauge (seconds): the age of the remote key set in use, by `issuer`.
pub const KEY_SET_AGE: &str = "authorizer_key_set_age_seconds";

/// Label: `authenticate` or `authorize`.
pub const STAGE: &str = "stage";
/// Label: what was decided (`allowed`, `unauthenticated`, ...).
pub const OUTCOME: &str = "outcome";
/// Label: why, as a fixed name (`expired`, `signature`, ...).
pub const REASON: &str = "reason";
/// Label: the id of a failed requirement check.
pub const CHECK: &str = "check";
/// Label: a cache lookup's or key fetch's result.
pub const RESULT: &str = "result";
/// Label: a configured issuer.
pub const ISSUER: &str = "issuer";

/// The span around each decision of the pipeline.
pub const DECIDE_SPAN: &str = "authorizer.decide";

/// Where a decision was taken.
#[derive(Clone, Copy)]
pub(crate) enum Stage {
    Authenticate,
    Authorize,
}

impl Stage {
    #[cfg(feature = "metrics")]
    fn name(self) -> &'static str {
        match self {
            Stage::Authenticate => "authenticate",
            Stage::Authorize => "authorize",
        }
    }
}

/// The `outcome` and `reason` of a decision.
pub(crate) fn classify(result: Result<Option<&Principal>, &Error>) -> (&'static str, &'static str) {
    let error = match result {
        Ok(Some(_)) => return ("allowed", "none"),
        Ok(None) => return ("anonymous", "no_credential"),
        Err(error) => error,
    };
    let unauthenticated = |reason| ("unauthenticated", reason);
    match error {
        Error::MissingCredential => unauthenticated("missing"),
        Error::Expired => unauthenticated("expired"),
        Error::InvalidToken(reason) => unauthenticated(match reason {
            InvalidToken::Malformed => "malformed",
            InvalidToken::TooLarge => "too_large",
            InvalidToken::Ambiguous => "ambiguous",
            InvalidToken::Algorithm => "algorithm",
            InvalidToken::UnsupportedHeader => "unsupported_header",
            InvalidToken::UnknownKey => "unknown_key",
            InvalidToken::Signature => "signature",
            InvalidToken::Issuer => "issuer",
            InvalidToken::Audience => "audience",
            InvalidToken::NotYetValid => "not_yet_valid",
            InvalidToken::MissingClaim => "missing_claim",
            InvalidToken::ClaimType => "claim_type",
            InvalidToken::Type => "type",
            InvalidToken::TooOld => "too_old",
            InvalidToken::Binding => "binding",
            InvalidToken::KeyMismatch => "key_mismatch",
            InvalidToken::Certificate => "certificate",
            InvalidToken::Scheme => "scheme",
            InvalidToken::Revoked => "revoked",
            InvalidToken::Inactive => "inactive",
        }),
        Error::InvalidProof(reason) => unauthenticated(match reason {
            InvalidProof::Missing => "proof_missing",
            InvalidProof::Multiple => "proof_multiple",
            InvalidProof::TooLarge => "proof_too_large",
            InvalidProof::Malformed => "proof_malformed",
            InvalidProof::Type => "proof_type",
            InvalidProof::Algorithm => "proof_algorithm",
            InvalidProof::Key => "proof_key",
            InvalidProof::Signature => "proof_signature",
            InvalidProof::MissingClaim => "proof_missing_claim",
            InvalidProof::Method => "proof_method",
            InvalidProof::Url => "proof_url",
            InvalidProof::IssuedAt => "proof_iat",
            InvalidProof::AccessTokenHash => "proof_ath",
            InvalidProof::Replayed => "proof_replayed",
        }),
        Error::UseDpopNonce(_) => unauthenticated("use_dpop_nonce"),
        Error::ReplayStoreUnavailable => ("unavailable", "replay_store_unavailable"),
        Error::CsrfRejected => ("forbidden", "csrf"),
        Error::Forbidden(_) => ("forbidden", "requirement"),
        Error::KeysUnavailable => ("unavailable", "keys_unavailable"),
        Error::SessionStoreUnavailable => ("unavailable", "session_store_unavailable"),
        Error::IntrospectionUnavailable => ("unavailable", "introspection_unavailable"),
        Error::MissingLayer => ("error", "missing_layer"),
    }
}

/// Whether any subscriber may take the decide span (an info span): when
/// none does, the pipeline makes no span and asks for no current one.
pub(crate) fn spans_on() -> bool {
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    tracing::Level::INFO <= LevelFilter::current() && tracing::Level::INFO <= STATIC_MAX_LEVEL
}

/// A new [`DECIDE_SPAN`], its fields still empty.
pub(crate) fn decide_span() -> tracing::Span {
    use tracing::field::Empty;
    tracing::info_span!(
        target: "authorizer",
        "authorizer.decide",
        source = Empty,
        issuer = Empty,
        kid = Empty,
        alg = Empty,
        outcome = Empty,
        reason = Empty,
    )
}

/// Records a field on the current span if it is a [`DECIDE_SPAN`]: a
/// [`Verifier`](crate::Verifier) called directly, inside some other span of
/// the application's, leaves that span alone.
pub(crate) fn record_current(field: &'static str, value: &dyn tracing::Value) {
    let span = tracing::Span::current();
    if span.metadata().is_some_and(|meta| meta.name() == DECIDE_SPAN) {
        span.record(field, value);
    }
}

/// Records a decision's outcome on its span.
pub(crate) fn record_outcome(span: &tracing::Span, result: Result<Option<&Principal>, &Error>) {
    // Only on a decide span: when that one is filtered out, the current span
    // is the application's, whose own fields are not ours to write.
    if span.is_disabled() || span.metadata().is_none_or(|meta| meta.name() != DECIDE_SPAN) {
        return;
    }
    let (outcome, reason) = classify(result);
    span.record("outcome", outcome);
    span.record("reason", reason);
}

/// Counts a decision.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn decision(stage: Stage, result: Result<Option<&Principal>, &Error>) {
    #[cfg(feature = "metrics")]
    {
        use metrics::{Key, Label};
        // The everyday outcomes have keys built at compile time: nothing is
        // allocated for them.
        let owned;
        let key = match (stage, result) {
            (Stage::Authenticate, Ok(Some(_))) => {
                static_key!(DECISIONS, STAGE => "authenticate", OUTCOME => "allowed", REASON => "none")
            }
            (Stage::Authorize, Ok(Some(_))) => {
                static_key!(DECISIONS, STAGE => "authorize", OUTCOME => "allowed", REASON => "none")
            }
            (Stage::Authenticate, Ok(None)) => {
                static_key!(DECISIONS, STAGE => "authenticate", OUTCOME => "anonymous", REASON => "no_credential")
            }
            _ => {
                let (outcome, reason) = classify(result);
                let labels = vec![
                    Label::from_static_parts(STAGE, stage.name()),
                    Label::from_static_parts(OUTCOME, outcome),
                    Label::from_static_parts(REASON, reason),
                ];
                owned = Key::from_parts(DECISIONS, labels);
                &owned
            }
        };
        count(key);
        if let Err(Error::Forbidden(denied)) = result {
            for failed in &denied.errors {
                let key = Key::from_parts(REQUIREMENT_FAILURES, vec![Label::new(CHECK, failed.id.clone())]);
                count(&key);
            }
        }
    }
}

/// Counts a verified-token cache lookup.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn cache_lookup(hit: bool) {
    #[cfg(feature = "metrics")]
    count(if hit {
        static_key!(TOKEN_CACHE_LOOKUPS, RESULT => "hit")
    } else {
        static_key!(TOKEN_CACHE_LOOKUPS, RESULT => "miss")
    });
}

/// Records how long a verification that missed the cache took.
#[cfg(feature = "metrics")]
pub(crate) fn verification_time(result: Result<Option<&Principal>, &Error>, elapsed: Duration) {
    let (outcome, _) = classify(result);
    metrics::histogram!(VERIFICATION_DURATION, OUTCOME => outcome).record(elapsed.as_secs_f64());
}

/// Counts a key-set fetch of a configured issuer.
#[cfg(all(feature = "metrics", feature = "remote-keys"))]
pub(crate) fn key_fetch(issuer: &str, result: &'static str) {
    metrics::counter!(KEY_FETCHES, ISSUER => issuer.to_owned(), RESULT => result).increment(1);
}

/// Sets the age of a configured issuer's key set in use.
#[cfg(all(feature = "metrics", feature = "remote-keys"))]
pub(crate) fn key_set_age(issuer: &str, age: Duration) {
    metrics::gauge!(KEY_SET_AGE, ISSUER => issuer.to_owned()).set(age.as_secs_f64());
}

#[cfg(feature = "metrics")]
fn count(key: &metrics::Key) {
    static METADATA: metrics::Metadata<'static> =
        metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));
    metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA)).increment(1);
}

/// Registers each metric's unit and help text with the installed recorder
/// (exporters show them, as Prometheus' `# HELP` lines). Call it once after
/// installing the recorder; metrics are recorded without it too.
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub fn describe() {
    use metrics::Unit;
    metrics::describe_counter!(
        DECISIONS,
        Unit::Count,
        "Authentication and authorization decisions, by stage, outcome and reason."
    );
    metrics::describe_counter!(
        REQUIREMENT_FAILURES,
        Unit::Count,
        "Failed checks of refused claim requirements, by check id."
    );
    metrics::describe_histogram!(
        VERIFICATION_DURATION,
        Unit::Seconds,
        "Time to verify a token that missed the verified-token cache, key fetches included."
    );
    metrics::describe_counter!(
        TOKEN_CACHE_LOOKUPS,
        Unit::Count,
        "Verified-token cache lookups, by result (hit or miss)."
    );
    metrics::describe_counter!(
        KEY_FETCHES,
        Unit::Count,
        "Remote key-set fetches, by issuer and result."
    );
    metrics::describe_gauge!(
        KEY_SET_AGE,
        Unit::Seconds,
        "Age of the remote key set last used or fetched, by issuer."
    );
}
