//! Declarative claim requirements per route.
//!
//! A [`Requirement`] is a value: built in Rust with the functions of this
//! module, or read from a JSON or TOML document (see [Data form](#data-form)).
//! Evaluating one against a [`Principal`] never answers a bare `bool`: a failure
//! is a [`Denied`] that lists every failed check as a [`ClaimError`], in the
//! shape of SuperTokens' `claimValidationErrors`, and names the missing OAuth
//! scopes for the RFC 6750 `insufficient_scope` challenge.
//!
//! ```
//! use std::time::Duration;
//! use authorizer::require::{all, any, claim, scope, supertokens};
//!
//! let requirement = all([
//!     supertokens::email_verified(),
//!     any([supertokens::has_role("admin"), scope("items:write")]),
//!     claim("iat").max_age(Duration::from_secs(3600)),
//!     claim("org").at("tier").one_of(["gold", "platinum"]),
//! ]);
//! # let _ = requirement;
//! ```
//!
//! Nothing here depends on a framework: the adapters enforce a requirement per
//! route (`tower::RequireLayer` in any tower stack, `actix::RequireMiddleware`
//! on actix-web), and the [`Require`] extractor does it from a handler's
//! signature in both; all of them through the pipeline's
//! [`Authentication::authorize`](crate::pipeline::Authentication::authorize).
//!
//! # Checks and their failures
//!
//! Each failure carries an `id` (the top-level claim name, `scope` for scope
//! checks, or the id given with [`Requirement::with_id`]), a `message`, and where
//! it applies an `expectedValue` and the claim's `actualValue`:
//!
//! | check | passes when the value at the path | `expectedValue` on failure |
//! | --- | --- | --- |
//! | [`eq(v)`](ClaimPath::eq) | equals `v` (numbers by value: `1 == 1.0`) | `v` |
//! | [`ne(v)`](ClaimPath::ne) | exists and differs from `v` | `{"ne": v}` |
//! | [`exists()`](ClaimPath::exists) | exists and is not `null` | `{"exists": true}` |
//! | [`contains(v)`](ClaimPath::contains) | is an array holding `v`, or a space-separated string with the word `v` | `v` |
//! | [`contains_all(vs)`](ClaimPath::contains_all) | holds every item of `vs` (as `contains`) | `vs` |
//! | [`contains_any(vs)`](ClaimPath::contains_any) | holds at least one item of `vs` | `{"contains_any": vs}` |
//! | [`one_of(vs)`](ClaimPath::one_of) | equals one item of `vs` | `{"one_of": vs}` |
//! | [`gt`](ClaimPath::gt), [`ge`](ClaimPath::ge), [`lt`](ClaimPath::lt), [`le`](ClaimPath::le) | is a number `>`, `>=`, `<`, `<=` the bound | `{"gt": n}`, ... |
//! | [`matches(re)`](ClaimPath::matches) | is a string that the regex matches *in full* | `{"matches": re}` |
//! | [`max_age(d)`](ClaimPath::max_age) | is a timestamp at most `d` old | `{"maxAgeInSeconds": n}` |
//! | [`scope(s)`](scope), [`all_scopes`], [`any_scope`] | ([`Principal::scopes`]) holds `s` / all / one | `s`, `[..]`, `{"any_scope": [..]}` |
//! | [`not(r)`](not) | `r` fails | `{"not": r}` (`r` in its data form) |
//!
//! The messages are SuperTokens': `value does not exist` when the claim (or a key
//! or index on the path) is absent, `expired` for a stale timestamp (with
//! `{"ageInSeconds": n}` as the actual value), and `wrong value` otherwise. A value
//! of the wrong type (a string where the path needs an object, `null`, a number
//! where an array is expected) fails with `wrong value`: it never passes and never
//! panics.
//!
//! # Data form
//!
//! Every requirement is an object with exactly one kind of check, and an optional
//! `id`:
//!
//! | keys | Rust form |
//! | --- | --- |
//! | `{"claim": "st-ev", "at": ["v"], "eq": true}` | `claim("st-ev").at("v").eq(true)` |
//! | `ne`, `exists` (only `true`), `contains`, `contains_all`, `contains_any`, `one_of`, `gt`, `ge`, `lt`, `le`, `matches` in place of `eq` | the method of that name |
//! | `{"claim": "iat", "max_age": 300}` (seconds; may be fractional) | `claim("iat").max_age(Duration::from_secs(300))` |
//! | `{"claim": "st-ev", "at": ["t"], "max_age": 300, "unit": "ms"}` | `.max_age_in(d, TimeUnit::Milliseconds)` |
//! | `{"scope": "read"}`, `{"all_scopes": [..]}`, `{"any_scope": [..]}` | [`scope`], [`all_scopes`], [`any_scope`] |
//! | `{"all": [..]}`, `{"any": [..]}`, `{"not": {..}}` | [`all`], [`any`], [`not`] |
//! | `{"acr_one_of": [..]}`, `{"amr_contains": [..]}`, `{"authenticated_within": 300}`, `{"mfa_completed": true}` | the [`step_up`] presets |
//! | `"id": "name"` beside any of these | [`Requirement::with_id`] |
//!
//! `at` is a list of object keys (strings) and array indexes (numbers); a single
//! key may be written as a string. [`custom`] requirements exist only in Rust:
//! serializing one is an error. The same requirement in TOML:
//!
//! ```toml
//! [routes."/admin"]
//! all = [
//!   { claim = "st-ev", at = ["v"], eq = true },
//!   { id = "admin", claim = "st-role", at = ["v"], contains = "admin" },
//! ]
//! ```
//!
//! A bad document fails to load with the place it went wrong: a line and column
//! from the format, and with [`Requirement::from_json`] or
//! [`Requirement::from_deserializer`] also the path (`all[1].contains`).

mod data;
mod guard;
mod path;

pub mod oauth;
pub mod step_up;
pub mod supertokens;

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use regex::Regex;
use serde_json::{Value, json};

use crate::error::{ClaimError, Denied, Error};
use crate::principal::Principal;

pub use data::DocumentError;
pub use guard::{Require, RequirementSpec};
pub use path::PathSegment;

use path::{Lookup, resolve};
use step_up::{StepUp, StepUpCheck};

const MISSING: &str = "value does not exist";
const WRONG: &str = "wrong value";
const EXPIRED: &str = "expired";

/// A claim requirement: what a [`Principal`] must satisfy to pass a route.
///
/// Build one with [`claim`], [`scope`], [`all_scopes`], [`any_scope`], [`all`],
/// [`any`], [`not`] and [`custom`] (or the [`supertokens`], [`oauth`] and
/// [`step_up`] presets), or read it from a document with serde. Evaluating it does not
/// allocate unless a check fails; clone it freely (it is plain data, and regexes
/// share their compiled form).
///
/// ```
/// use authorizer::require::{all, any, claim, scope};
/// use authorizer::{Principal, Source};
///
/// let reports = all([
///     claim("email_verified").eq(true),
///     any([claim("roles").contains("admin"), scope("reports:read")]),
/// ]);
/// let claims = serde_json::json!({"email_verified": true, "roles": ["user"]});
/// let caller = Principal::new("user-1", Source::Bearer).with_claims(claims.as_object().unwrap().clone());
/// let denied = reports.evaluate(&caller).unwrap_err();
/// assert_eq!(denied.errors.len(), 2, "both branches of `any` failed, each with its reason");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    id: Option<Box<str>>,
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Claim(ClaimCheck),
    Scopes(ScopeCheck),
    All(Vec<Requirement>),
    Any(Vec<Requirement>),
    Not(Box<Requirement>),
    Custom(Custom),
    StepUp(StepUpCheck),
}

#[derive(Clone, Debug, PartialEq)]
struct ClaimCheck {
    claim: Box<str>,
    path: Vec<PathSegment>,
    op: Op,
}

#[derive(Clone, Debug, PartialEq)]
enum Op {
    Eq(Value),
    Ne(Value),
    Exists,
    Contains(Value),
    ContainsAll(Vec<Value>),
    ContainsAny(Vec<Value>),
    OneOf(Vec<Value>),
    Compare(Comparison, Bound),
    Matches(Pattern),
    MaxAge { max: Duration, unit: TimeUnit },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Comparison {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Comparison {
    fn key(self) -> &'static str {
        match self {
            Comparison::Gt => "gt",
            Comparison::Ge => "ge",
            Comparison::Lt => "lt",
            Comparison::Le => "le",
        }
    }

    fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        matches!(
            (self, ordering),
            (Comparison::Gt, Greater)
                | (Comparison::Ge, Greater | Equal)
                | (Comparison::Lt, Less)
                | (Comparison::Le, Less | Equal)
        )
    }
}

impl Requirement {
    /// Every scope this requirement names, in any branch (for a protected
    /// resource's `scopes_supported`).
    pub(crate) fn named_scopes(&self) -> Vec<&str> {
        let mut scopes = Vec::new();
        self.collect_scopes(&mut scopes);
        scopes
    }

    fn collect_scopes<'a>(&'a self, out: &mut Vec<&'a str>) {
        match &self.kind {
            Kind::Scopes(ScopeCheck::One(scope)) => out.push(scope),
            Kind::Scopes(ScopeCheck::All(scopes) | ScopeCheck::Any(scopes)) => {
                out.extend(scopes.iter().map(|s| &**s));
            }
            Kind::All(branches) | Kind::Any(branches) => {
                branches.iter().for_each(|branch| branch.collect_scopes(out));
            }
            // A scope that must be absent is not one a client should ask for.
            Kind::Not(_) | Kind::Claim(_) | Kind::Custom(_) | Kind::StepUp(_) => {}
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum ScopeCheck {
    One(Box<str>),
    All(Vec<Box<str>>),
    Any(Vec<Box<str>>),
}

/// The unit of a timestamp claim checked by [`ClaimPath::max_age_in`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum TimeUnit {
    /// Seconds since the Unix epoch (`iat`, `auth_time`, `exp`).
    #[default]
    Seconds,
    /// Milliseconds since the Unix epoch (the `t` of SuperTokens' claims).
    Milliseconds,
}

/// A number to compare a claim with ([`ClaimPath::gt`] and its siblings): made
/// from any integer or float, and compared exactly with integer claims.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound(Num);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Num {
    Int(i128),
    Float(f64),
}

macro_rules! bound_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Bound {
            fn from(n: $t) -> Self {
                Bound(Num::Int(n as i128))
            }
        }
    )*};
}
bound_from_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl From<f64> for Bound {
    fn from(n: f64) -> Self {
        Bound(Num::Float(n))
    }
}

impl From<f32> for Bound {
    fn from(n: f32) -> Self {
        Bound(Num::Float(n.into()))
    }
}

impl Num {
    fn of(n: &serde_json::Number) -> Num {
        if let Some(i) = n.as_i64() {
            Num::Int(i.into())
        } else if let Some(u) = n.as_u64() {
            Num::Int(u.into())
        } else {
            Num::Float(n.as_f64().unwrap_or(f64::NAN))
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    fn partial_cmp(self, other: Num) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Num::Int(a), Num::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }

    fn to_json(self) -> Value {
        match self {
            Num::Int(i) => i64::try_from(i)
                .map(Value::from)
                .or_else(|_| u64::try_from(i).map(Value::from))
                .unwrap_or(Value::Null),
            Num::Float(f) => Value::from(f),
        }
    }
}

/// A regex that must match a whole string; compared by its source.
#[derive(Clone)]
struct Pattern {
    source: Box<str>,
    regex: Regex,
}

impl Pattern {
    fn new(source: &str) -> Result<Pattern, regex::Error> {
        Ok(Pattern {
            source: source.into(),
            regex: Regex::new(&format!(r"\A(?:{source})\z"))?,
        })
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.source, f)
    }
}

type CheckFn = dyn Fn(&Principal) -> Result<(), ClaimError> + Send + Sync;

/// A check written in Rust; equal only to its own clones.
#[derive(Clone)]
struct Custom {
    id: Box<str>,
    check: Arc<CheckFn>,
}

impl PartialEq for Custom {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && Arc::ptr_eq(&self.check, &other.check)
    }
}

impl fmt::Debug for Custom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Custom").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A claim and a path into its value, waiting for its check: made by [`claim`].
///
/// ```
/// use authorizer::require::claim;
/// let verified = claim("st-ev").at("v").eq(true);
/// let first_role_is_admin = claim("st-role").at("v").at(0).eq("admin");
/// # let _ = (verified, first_role_is_admin);
/// ```
#[derive(Clone, Debug)]
#[must_use = "a claim path does nothing until a check (eq, contains, ...) makes it a Requirement"]
pub struct ClaimPath {
    claim: Box<str>,
    path: Vec<PathSegment>,
}

/// Starts a check on the top-level claim `name` (`st-ev`, `iat`, `https://example.com/roles`).
pub fn claim(name: impl Into<String>) -> ClaimPath {
    ClaimPath {
        claim: name.into().into_boxed_str(),
        path: Vec::new(),
    }
}

impl ClaimPath {
    /// Steps into the value: an object key (`"v"`) or an array index (`0`).
    pub fn at(mut self, segment: impl Into<PathSegment>) -> Self {
        self.path.push(segment.into());
        self
    }

    fn check(self, op: Op) -> Requirement {
        Requirement {
            id: None,
            kind: Kind::Claim(ClaimCheck {
                claim: self.claim,
                path: self.path,
                op,
            }),
        }
    }

    /// The value equals `value` (numbers compare by value, so `1` equals `1.0`).
    pub fn eq(self, value: impl Into<Value>) -> Requirement {
        self.check(Op::Eq(value.into()))
    }

    /// The value exists and differs from `value`. To also accept an absent claim,
    /// use [`not`]`(claim(..).eq(value))`.
    pub fn ne(self, value: impl Into<Value>) -> Requirement {
        self.check(Op::Ne(value.into()))
    }

    /// The value exists and is not `null`.
    pub fn exists(self) -> Requirement {
        self.check(Op::Exists)
    }

    /// The value is an array holding `item`, or a string whose space-separated
    /// words include `item` (as in `"read write"`).
    pub fn contains(self, item: impl Into<Value>) -> Requirement {
        self.check(Op::Contains(item.into()))
    }

    /// The value holds every one of `items` (as [`contains`](ClaimPath::contains));
    /// an empty list passes for any array or string.
    pub fn contains_all<V: Into<Value>>(self, items: impl IntoIterator<Item = V>) -> Requirement {
        self.check(Op::ContainsAll(items.into_iter().map(Into::into).collect()))
    }

    /// The value holds at least one of `items`; an empty list never passes.
    pub fn contains_any<V: Into<Value>>(self, items: impl IntoIterator<Item = V>) -> Requirement {
        self.check(Op::ContainsAny(items.into_iter().map(Into::into).collect()))
    }

    /// The value equals one of `values`.
    pub fn one_of<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Requirement {
        self.check(Op::OneOf(values.into_iter().map(Into::into).collect()))
    }

    /// The value is a number greater than `bound`.
    pub fn gt(self, bound: impl Into<Bound>) -> Requirement {
        self.check(Op::Compare(Comparison::Gt, bound.into()))
    }

    /// The value is a number greater than or equal to `bound`.
    pub fn ge(self, bound: impl Into<Bound>) -> Requirement {
        self.check(Op::Compare(Comparison::Ge, bound.into()))
    }

    /// The value is a number less than `bound`.
    pub fn lt(self, bound: impl Into<Bound>) -> Requirement {
        self.check(Op::Compare(Comparison::Lt, bound.into()))
    }

    /// The value is a number less than or equal to `bound`.
    pub fn le(self, bound: impl Into<Bound>) -> Requirement {
        self.check(Op::Compare(Comparison::Le, bound.into()))
    }

    /// The value is a string that `pattern` matches in full (as if written
    /// `^(?:pattern)$`), with the syntax of the [`regex`] crate. The regex is
    /// compiled here, once.
    pub fn matches(self, pattern: &str) -> Result<Requirement, regex::Error> {
        Ok(self.check(Op::Matches(Pattern::new(pattern)?)))
    }

    /// The value is a timestamp in seconds since the Unix epoch (`iat`,
    /// `auth_time`) at most `max` old. A timestamp in the future passes, as in
    /// SuperTokens; the verifier is where clock skew on `iat` is judged.
    pub fn max_age(self, max: Duration) -> Requirement {
        self.max_age_in(max, TimeUnit::Seconds)
    }

    /// As [`max_age`](ClaimPath::max_age), for a timestamp in `unit`
    /// (SuperTokens' `t` is in [`TimeUnit::Milliseconds`]).
    pub fn max_age_in(self, max: Duration, unit: TimeUnit) -> Requirement {
        self.check(Op::MaxAge { max, unit })
    }
}

/// The principal holds OAuth scope `name` ([`Principal::scopes`]). A failure
/// names it in the RFC 6750 `insufficient_scope` challenge.
pub fn scope(name: impl Into<String>) -> Requirement {
    Requirement::of(Kind::Scopes(ScopeCheck::One(name.into().into_boxed_str())))
}

/// The principal holds every one of `names`.
pub fn all_scopes<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Requirement {
    Requirement::of(Kind::Scopes(ScopeCheck::All(boxed(names))))
}

/// The principal holds at least one of `names`; an empty list never passes.
pub fn any_scope<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Requirement {
    Requirement::of(Kind::Scopes(ScopeCheck::Any(boxed(names))))
}

fn boxed<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Vec<Box<str>> {
    names.into_iter().map(|s| s.into().into_boxed_str()).collect()
}

/// Every one of `requirements` holds (an empty list always passes). A failure
/// lists the failures of each part that failed.
pub fn all(requirements: impl IntoIterator<Item = Requirement>) -> Requirement {
    Requirement::of(Kind::All(requirements.into_iter().collect()))
}

/// At least one of `requirements` holds (an empty list never passes). A failure
/// lists the failures of every part.
pub fn any(requirements: impl IntoIterator<Item = Requirement>) -> Requirement {
    Requirement::of(Kind::Any(requirements.into_iter().collect()))
}

/// `requirement` fails. The failure's id is that of `requirement` (its claim,
/// `scope`, or the id given to it), or `not` for a composite.
pub fn not(requirement: Requirement) -> Requirement {
    Requirement::of(Kind::Not(Box::new(requirement)))
}

/// A check written in Rust, named `id` (the data form cannot hold it).
///
/// A returned [`ClaimError`] with an empty id gets `id`. The check may run twice
/// for a request it denies (once to decide, once to explain), so keep it pure.
///
/// ```
/// use authorizer::ClaimError;
/// use authorizer::require::custom;
///
/// let staff = custom("staff", |p| {
///     if p.id().starts_with("staff-") {
///         Ok(())
///     } else {
///         Err(ClaimError::new("", "not a staff account").actual(p.id()))
///     }
/// });
/// # let _ = staff;
/// ```
pub fn custom(
    id: impl Into<String>,
    check: impl Fn(&Principal) -> Result<(), ClaimError> + Send + Sync + 'static,
) -> Requirement {
    Requirement::of(Kind::Custom(Custom {
        id: id.into().into_boxed_str(),
        check: Arc::new(check),
    }))
}

/// What an evaluation needs besides the requirement; "now" is read at most once.
struct Ctx<'a> {
    principal: &'a Principal,
    now: Cell<Option<SystemTime>>,
}

impl Ctx<'_> {
    fn now(&self) -> SystemTime {
        match self.now.get() {
            Some(now) => now,
            None => {
                let now = SystemTime::now();
                self.now.set(Some(now));
                now
            }
        }
    }
}

/// Why a claim check failed, borrowing from the claims (nothing is cloned
/// until the failure is reported).
enum Failure<'a> {
    Missing,
    Null,
    Wrong(&'a Value),
    Expired { age_seconds: f64 },
}

impl Requirement {
    fn of(kind: Kind) -> Self {
        Requirement { id: None, kind }
    }

    /// Names this requirement: every failure it reports carries `id` instead of
    /// its claim name (or `scope`, `not`, ...).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into().into_boxed_str());
        self
    }

    /// Checks `principal`: `Ok` when it meets the requirement, otherwise every
    /// failed check. Time checks use the system clock.
    pub fn evaluate(&self, principal: &Principal) -> Result<(), Denied> {
        self.run(Ctx {
            principal,
            now: Cell::new(None),
        })
    }

    /// As [`evaluate`](Requirement::evaluate), at the time `now`.
    pub fn evaluate_at(&self, principal: &Principal, now: SystemTime) -> Result<(), Denied> {
        self.run(Ctx {
            principal,
            now: Cell::new(Some(now)),
        })
    }

    /// Whether `principal` meets the requirement (when the reasons are not needed).
    pub fn is_met(&self, principal: &Principal) -> bool {
        self.passes(&Ctx {
            principal,
            now: Cell::new(None),
        })
    }

    /// What every adapter does for a route: no principal is
    /// [`Error::MissingCredential`] (401), a failed requirement is
    /// [`Error::Forbidden`] (403, or a 401 [step-up](step_up) challenge in
    /// the RFC 6750 style).
    pub fn authorize(&self, principal: Option<&Principal>) -> Result<(), Error> {
        let principal = principal.ok_or(Error::MissingCredential)?;
        self.evaluate(principal).map_err(Error::Forbidden)
    }

    fn run(&self, ctx: Ctx<'_>) -> Result<(), Denied> {
        if self.passes(&ctx) {
            return Ok(());
        }
        let mut report = Report::default();
        self.collect(&ctx, &mut report);
        let mut denied = report.denied;
        debug_assert!(!denied.errors.is_empty(), "a failed requirement reports no failure");
        if !report.ordinary {
            denied.step_up = report.step_up;
        }
        Err(denied)
    }

    /// The fast path: no allocation, no cloning.
    fn passes(&self, ctx: &Ctx<'_>) -> bool {
        match &self.kind {
            Kind::Claim(check) => check.outcome(ctx).is_ok(),
            Kind::Scopes(check) => check.passes(ctx.principal),
            Kind::All(parts) => parts.iter().all(|r| r.passes(ctx)),
            Kind::Any(parts) => parts.iter().any(|r| r.passes(ctx)),
            Kind::Not(inner) => !inner.passes(ctx),
            Kind::Custom(custom) => (custom.check)(ctx.principal).is_ok(),
            Kind::StepUp(step_up) => step_up.check.outcome(ctx).is_ok(),
        }
    }

    /// Reports every failure into `out`; reports nothing when the requirement holds.
    fn collect(&self, ctx: &Ctx<'_>, out: &mut Report) {
        let start = out.denied.errors.len();
        match &self.kind {
            Kind::Claim(check) => {
                if let Err(failure) = check.outcome(ctx) {
                    out.ordinary(check.report(failure));
                }
            }
            Kind::StepUp(step_up) => {
                if let Err(failure) = step_up.check.outcome(ctx) {
                    out.denied.errors.push(step_up.report(step_up.check.report(failure)));
                    out.step_up
                        .get_or_insert_with(StepUp::default)
                        .merge(step_up.challenge());
                }
            }
            Kind::Scopes(check) => check.collect(ctx.principal, &mut out.denied),
            Kind::All(parts) => parts.iter().for_each(|r| r.collect(ctx, out)),
            Kind::Any(parts) => {
                if !self.passes(ctx) {
                    parts.iter().for_each(|r| r.collect(ctx, out));
                    if parts.is_empty() {
                        out.ordinary(ClaimError::new("any", "no alternative was given"));
                    }
                }
            }
            Kind::Not(inner) => {
                if inner.passes(ctx) {
                    let mut error = ClaimError::new(inner.not_id(), WRONG).expected(json!({ "not": inner.describe() }));
                    if let Kind::Claim(check) = &inner.kind
                        && let Lookup::Found(actual) = check.lookup(ctx.principal)
                    {
                        error = error.actual(actual.clone());
                    }
                    out.ordinary(error);
                }
            }
            Kind::Custom(custom) => {
                if let Err(mut error) = (custom.check)(ctx.principal) {
                    if error.id.is_empty() {
                        error.id = custom.id.to_string();
                    }
                    out.ordinary(error);
                }
            }
        }
        if let Some(id) = &self.id {
            for error in &mut out.denied.errors[start..] {
                error.id = id.to_string();
            }
        }
    }

    /// The id that names this requirement in a `not` failure: its own, or its
    /// claim's, `scope`, the custom check's; `not` for a composite.
    fn not_id(&self) -> &str {
        if let Some(id) = &self.id {
            return id;
        }
        match &self.kind {
            Kind::Claim(check) => &check.claim,
            Kind::Scopes(_) => "scope",
            Kind::Custom(custom) => &custom.id,
            Kind::StepUp(step_up) => &step_up.check.claim,
            Kind::All(_) | Kind::Any(_) | Kind::Not(_) => "not",
        }
    }

    /// The data form, with custom checks shown as `{"custom": id}`.
    fn describe(&self) -> Value {
        data::describe(self)
    }
}

/// Every failure of one evaluation, and whether signing in again could cure them.
#[derive(Default)]
struct Report {
    denied: Denied,
    /// What the failed step-up checks need, if any failed.
    step_up: Option<StepUp>,
    /// Whether a check other than a step-up or scope check failed.
    ordinary: bool,
}

impl Report {
    fn ordinary(&mut self, error: ClaimError) {
        self.ordinary = true;
        self.denied.errors.push(error);
    }
}

impl ClaimCheck {
    fn lookup<'a>(&self, principal: &'a Principal) -> Lookup<'a> {
        resolve(principal.claims(), &self.claim, &self.path)
    }

    fn outcome<'a>(&self, ctx: &Ctx<'a>) -> Result<(), Failure<'a>> {
        let value = match self.lookup(ctx.principal) {
            Lookup::Found(value) => value,
            Lookup::Missing => return Err(Failure::Missing),
            Lookup::WrongType(value) => return Err(Failure::Wrong(value)),
        };
        let ok = match &self.op {
            Op::Exists => {
                if value.is_null() {
                    return Err(Failure::Null);
                }
                true
            }
            Op::Eq(expected) => json_eq(value, expected),
            Op::Ne(expected) => !json_eq(value, expected),
            Op::Contains(item) => contains(value, item),
            Op::ContainsAll(items) => is_collection(value) && items.iter().all(|item| contains(value, item)),
            Op::ContainsAny(items) => items.iter().any(|item| contains(value, item)),
            Op::OneOf(values) => values.iter().any(|expected| json_eq(value, expected)),
            Op::Compare(comparison, Bound(bound)) => match value {
                Value::Number(n) => Num::of(n).partial_cmp(*bound).is_some_and(|o| comparison.holds(o)),
                _ => false,
            },
            Op::Matches(pattern) => value.as_str().is_some_and(|s| pattern.regex.is_match(s)),
            Op::MaxAge { max, unit } => {
                let Some(stamp) = value.as_f64().filter(|_| value.is_number()) else {
                    return Err(Failure::Wrong(value));
                };
                let stamp_seconds = match unit {
                    TimeUnit::Seconds => stamp,
                    TimeUnit::Milliseconds => stamp / 1000.0,
                };
                let now = match ctx.now().duration_since(SystemTime::UNIX_EPOCH) {
                    Ok(since) => since.as_secs_f64(),
                    Err(before) => -before.duration().as_secs_f64(),
                };
                let age_seconds = now - stamp_seconds;
                if age_seconds > max.as_secs_f64() {
                    return Err(Failure::Expired { age_seconds });
                }
                true
            }
        };
        if ok { Ok(()) } else { Err(Failure::Wrong(value)) }
    }

    /// What the check wanted, for `expectedValue`.
    fn expected(&self) -> Value {
        match &self.op {
            Op::Eq(value) | Op::Contains(value) => value.clone(),
            Op::ContainsAll(items) => Value::Array(items.clone()),
            Op::Ne(value) => json!({ "ne": value }),
            Op::Exists => json!({ "exists": true }),
            Op::ContainsAny(items) => json!({ "contains_any": items }),
            Op::OneOf(values) => json!({ "one_of": values }),
            Op::Compare(comparison, Bound(bound)) => json!({ comparison.key(): bound.to_json() }),
            Op::Matches(pattern) => json!({ "matches": &*pattern.source }),
            Op::MaxAge { max, .. } => json!({ "maxAgeInSeconds": seconds_json(*max) }),
        }
    }

    fn report(&self, failure: Failure<'_>) -> ClaimError {
        let error = |message: &str| ClaimError::new(&*self.claim, message).expected(self.expected());
        match failure {
            Failure::Missing => error(MISSING),
            Failure::Null => error(MISSING).actual(Value::Null),
            Failure::Wrong(actual) => error(WRONG).actual(actual.clone()),
            Failure::Expired { age_seconds } => {
                error(EXPIRED).actual(json!({ "ageInSeconds": age_seconds.floor() as i64 }))
            }
        }
    }
}

/// A duration in seconds as JSON: an integer when whole.
fn seconds_json(duration: Duration) -> Value {
    if duration.subsec_nanos() == 0 {
        Value::from(duration.as_secs())
    } else {
        Value::from(duration.as_secs_f64())
    }
}

impl ScopeCheck {
    fn passes(&self, principal: &Principal) -> bool {
        match self {
            ScopeCheck::One(scope) => principal.has_scope(scope),
            ScopeCheck::All(scopes) => scopes.iter().all(|s| principal.has_scope(s)),
            ScopeCheck::Any(scopes) => scopes.iter().any(|s| principal.has_scope(s)),
        }
    }

    fn collect(&self, principal: &Principal, out: &mut Denied) {
        if self.passes(principal) {
            return;
        }
        let (expected, missing): (Value, Vec<&str>) = match self {
            ScopeCheck::One(scope) => (Value::from(&**scope), vec![&**scope]),
            ScopeCheck::All(scopes) => (
                Value::from_iter(scopes.iter().map(|s| &**s)),
                scopes
                    .iter()
                    .map(|s| &**s)
                    .filter(|s| !principal.has_scope(s))
                    .collect(),
            ),
            ScopeCheck::Any(scopes) => (
                json!({ "any_scope": scopes.iter().map(|s| &**s).collect::<Vec<_>>() }),
                scopes.iter().map(|s| &**s).collect(),
            ),
        };
        out.errors.push(
            ClaimError::new("scope", WRONG)
                .expected(expected)
                .actual(principal.scopes()),
        );
        for scope in missing {
            if !out.missing_scopes.iter().any(|s| s == scope) {
                out.missing_scopes.push(scope.to_owned());
            }
        }
    }
}

/// JSON equality with numbers compared by value (`1 == 1.0`, and exactly for integers).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => Num::of(x).partial_cmp(Num::of(y)) == Some(std::cmp::Ordering::Equal),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn is_collection(value: &Value) -> bool {
    matches!(value, Value::Array(_) | Value::String(_))
}

/// An array holding `item`, or a string with the space-separated word `item`.
fn contains(value: &Value, item: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|v| json_eq(v, item)),
        Value::String(words) => item
            .as_str()
            .is_some_and(|item| words.split_ascii_whitespace().any(|w| w == item)),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
