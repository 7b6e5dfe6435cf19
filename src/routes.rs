//! Route tables: which rule applies to a request's method and path.
//!
//! A [`RouteTable`] maps `METHOD /path` patterns to [`RouteRule`]s (optional,
//! a valid session, a [`Requirement`], or deny), and means the same in every
//! adapter: [`RequireLayer::routes`](crate::tower::RequireLayer::routes) on a
//! tower server (axum, hyper, tonic), `RequireMiddleware::routes` on actix-web,
//! and the Lambda authorizer's IAM policy. [`RouteTable::authorize`] is the one
//! decision they share.
//!
//! gRPC methods are routes too: a call to `Method` of `package.Service` is a
//! `POST` to `/package.Service/Method`, so `POST /package.Service/Method` or
//! `ANY /package.Service/{method}` name one method or a whole service.
//!
//! ```
//! use authorizer::require::scope;
//! use authorizer::routes::{RouteRule, RouteTable};
//!
//! let routes = RouteTable::new()
//!     .route("ANY /grpc.health.v1.Health/{method}", RouteRule::optional())?
//!     .route("POST /shop.v1.Items/List", RouteRule::require(scope("read:items")))?
//!     .fallback(RouteRule::deny());
//! assert!(routes.rule_for("POST", "/grpc.health.v1.Health/Check").is_optional());
//! assert!(routes.rule_for("POST", "/shop.v1.Items/List").requirement().is_some());
//! assert_eq!(routes.rule_for("POST", "/shop.v1.Items/Delete"), &RouteRule::deny());
//! # Ok::<(), authorizer::routes::RouteError>(())
//! ```

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::binding::DpopMode;
use crate::error::{ClaimError, Denied, Error, InvalidToken, Rejection};
use crate::pipeline::{Authentication, RequestExtensions};
use crate::principal::Principal;
use crate::require::Requirement;
use crate::telemetry::{self, Stage};

/// A route rule's verdict on one caller, with the reasons of a refusal.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Verdict {
    /// The caller may call the route.
    Allowed,
    /// The route needs a session and the caller has none (a 401).
    Unauthenticated,
    /// The caller may not call the route (a 403): every check it failed, or,
    /// for a [`RouteRule::deny`] route, one named `route`.
    Denied(Denied),
    /// The caller's authorization scheme is not the route's
    /// [DPoP mode](RouteRule::dpop)'s (a 401): `DPoP` where it is off, another
    /// where it is required.
    WrongScheme,
}

impl Verdict {
    /// Whether the caller may call the route.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allowed)
    }
}

/// What one route needs from its caller.
///
/// The data form (JSON, TOML, any serde format) is an object with at most one
/// of these keys: `{}` (a valid session), `{"optional": true}`,
/// `{"require": <requirement>}` (the [requirement data form](crate::require#data-form))
/// or `{"deny": true}`; and `"check_session": true` beside any but `deny`
/// (see [`RouteRule::check_session`]); and a [DPoP mode](RouteRule::dpop)
/// beside any of them: `{"dpop": "required"}`.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteRule {
    access: Access,
    check_session: bool,
    dpop: Option<DpopMode>,
}

#[derive(Clone, Debug, PartialEq)]
enum Access {
    Optional,
    Session,
    Require(Arc<Requirement>),
    Deny,
}

impl RouteRule {
    /// Anyone may call: a request without a credential is allowed anonymously;
    /// one with an invalid credential is still refused (by the authentication
    /// in front of the table, which must be optional to let anonymous callers
    /// reach it).
    pub fn optional() -> Self {
        RouteRule {
            access: Access::Optional,
            check_session: false,
            dpop: None,
        }
    }

    /// A valid session (credential) is needed, and nothing more.
    pub fn session() -> Self {
        RouteRule {
            access: Access::Session,
            check_session: false,
            dpop: None,
        }
    }

    /// A valid session whose principal meets `requirement`.
    pub fn require(requirement: impl Into<Arc<Requirement>>) -> Self {
        RouteRule {
            access: Access::Require(requirement.into()),
            check_session: false,
            dpop: None,
        }
    }

    /// Nobody may call (for the table's [fallback](RouteTable::fallback), say).
    pub fn deny() -> Self {
        RouteRule {
            access: Access::Deny,
            check_session: false,
            dpop: None,
        }
    }

    /// Which authorization schemes this route takes from an authenticated
    /// caller: [`DpopMode::Required`] refuses every credential but a DPoP-bound
    /// token with its proof, [`DpopMode::Off`] refuses the `DPoP` scheme. A
    /// route can only narrow what the authentication layer's
    /// [`Binding`](crate::binding::Binding) takes. Unset: whatever the layer took.
    ///
    /// ```
    /// use authorizer::binding::DpopMode;
    /// use authorizer::routes::{RouteRule, RouteTable, Verdict};
    /// use authorizer::{Principal, Source};
    ///
    /// let routes = RouteTable::new()
    ///     .route("POST /payments", RouteRule::session().dpop(DpopMode::Required))?;
    /// let rule = routes.rule_for("POST", "/payments");
    /// assert_eq!(rule.check(Some(&Principal::new("u1", Source::Bearer))), Verdict::WrongScheme);
    /// assert_eq!(rule.check(Some(&Principal::new("u1", Source::Dpop))), Verdict::Allowed);
    /// # Ok::<(), authorizer::routes::RouteError>(())
    /// ```
    pub fn dpop(mut self, mode: DpopMode) -> Self {
        self.dpop = Some(mode);
        self
    }

    /// The route's DPoP mode, if it sets one.
    pub fn dpop_mode(&self) -> Option<DpopMode> {
        self.dpop
    }

    /// Marks the route for the session check (SuperTokens' `checkDatabase`):
    /// a [`SessionCheck`](crate::session::SessionCheck) given this table with
    /// [`routes`](crate::session::SessionCheck::routes) checks whether the
    /// caller's token or session was revoked on this route, and only on
    /// routes so marked. The same table then means the same in every adapter.
    ///
    /// ```
    /// use authorizer::routes::{RouteRule, RouteTable};
    ///
    /// let routes = RouteTable::new()
    ///     .route("GET /feed", RouteRule::session())?
    ///     .route("ANY /account/{proxy+}", RouteRule::session().check_session())?;
    /// assert!(routes.rule_for("POST", "/account/password").checks_session());
    /// assert!(!routes.rule_for("GET", "/feed").checks_session());
    /// # Ok::<(), authorizer::routes::RouteError>(())
    /// ```
    pub fn check_session(mut self) -> Self {
        self.check_session = true;
        self
    }

    /// Whether the route is marked for the session check.
    pub fn checks_session(&self) -> bool {
        self.check_session
    }

    /// Whether a request without a credential passes.
    pub fn is_optional(&self) -> bool {
        self.access == Access::Optional
    }

    /// The requirement, for a [`RouteRule::require`] rule.
    pub fn requirement(&self) -> Option<&Requirement> {
        match &self.access {
            Access::Require(requirement) => Some(requirement),
            _ => None,
        }
    }

    /// The verdict on `who` (`None` for an anonymous caller): the requirement
    /// is evaluated once, and a refusal carries its reasons.
    ///
    /// ```
    /// use authorizer::routes::{RouteRule, Verdict};
    /// use authorizer::require::scope;
    /// use authorizer::{Principal, Source};
    ///
    /// let rule = RouteRule::require(scope("read:items"));
    /// assert_eq!(rule.check(None), Verdict::Unauthenticated);
    /// let Verdict::Denied(denied) = rule.check(Some(&Principal::new("user-1", Source::Bearer))) else {
    ///     panic!("no scopes, no items");
    /// };
    /// assert_eq!(denied.missing_scopes, ["read:items"]);
    /// ```
    pub fn check(&self, who: Option<&Principal>) -> Verdict {
        if let (Some(mode), Some(principal)) = (self.dpop, who)
            && !mode.admits(principal.source())
        {
            return Verdict::WrongScheme;
        }
        match (&self.access, who) {
            (Access::Optional, _) | (Access::Session, Some(_)) => Verdict::Allowed,
            (Access::Require(requirement), Some(principal)) => match requirement.evaluate(principal) {
                Ok(()) => Verdict::Allowed,
                Err(denied) => Verdict::Denied(denied),
            },
            (Access::Session | Access::Require(_), None) => Verdict::Unauthenticated,
            (Access::Deny, _) => Verdict::Denied(Denied {
                errors: vec![ClaimError::new("route", "no rule allows this route")],
                missing_scopes: Vec::new(),
                step_up: None,
            }),
        }
    }
}

/// The data form of a [`RouteRule`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    require: Option<Requirement>,
    #[serde(default)]
    deny: bool,
    #[serde(default)]
    check_session: bool,
    dpop: Option<DpopMode>,
}

impl<'de> Deserialize<'de> for RouteRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let doc = RuleDoc::deserialize(deserializer)?;
        let rule = match (doc.optional, doc.require, doc.deny) {
            (false, None, false) => RouteRule::session(),
            (true, None, false) => RouteRule::optional(),
            (false, Some(requirement), false) => RouteRule::require(requirement),
            (false, None, true) if !doc.check_session => RouteRule::deny(),
            (false, None, true) => {
                return Err(de::Error::custom("a `deny` route checks no session"));
            }
            _ => {
                return Err(de::Error::custom(
                    "a route rule takes one of `optional`, `require` and `deny`",
                ));
            }
        };
        let rule = if doc.check_session { rule.check_session() } else { rule };
        Ok(RouteRule { dpop: doc.dpop, ..rule })
    }
}

impl Serialize for RouteRule {
    /// Fails for a rule whose requirement holds a [`custom`](crate::require::custom) check.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match &self.access {
            Access::Optional => map.serialize_entry("optional", &true)?,
            Access::Session => {}
            Access::Require(requirement) => map.serialize_entry("require", &**requirement)?,
            Access::Deny => map.serialize_entry("deny", &true)?,
        }
        if let Some(mode) = &self.dpop {
            map.serialize_entry("dpop", mode)?;
        }
        if self.check_session {
            map.serialize_entry("check_session", &true)?;
        }
        map.end()
    }
}

/// A route key that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// Not `METHOD /path` (`GET /items/{id}`, `ANY /admin/{proxy+}`).
    #[error("route `{0}` is not `METHOD /path` (for example `GET /items/{{id}}`)")]
    Syntax(String),
    /// A path segment is empty, a `{greedy+}` segment is not the last, or a
    /// segment holds `{`, `}`, `*` or `?` outside a parameter.
    #[error("route `{0}` has an invalid path segment")]
    Segment(String),
    /// The same method and path shape twice (`GET /a/{x}` and `GET /a/{y}`).
    #[error("route `{0}` is listed twice")]
    Duplicate(String),
}

/// One path segment of a route pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: one segment.
    Param,
    /// `{name+}`: one or more segments, last.
    Greedy,
}

impl Segment {
    /// Literal beats parameter beats greedy, as in API Gateway.
    fn rank(&self) -> u8 {
        match self {
            Segment::Literal(_) => 2,
            Segment::Param => 1,
            Segment::Greedy => 0,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Route {
    key: String,
    /// Uppercase; `None` for `ANY`.
    method: Option<String>,
    segments: Vec<Segment>,
    /// The IAM resource patterns of the route, made once.
    #[cfg(feature = "lambda")]
    globs: Vec<String>,
    pub(crate) rule: RouteRule,
}

impl Route {
    fn parse(key: &str, rule: RouteRule) -> Result<Route, RouteError> {
        let syntax = || RouteError::Syntax(key.to_owned());
        let (method, path) = key.trim().split_once(' ').ok_or_else(syntax)?;
        let path = path.trim();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) && method != "*" {
            return Err(syntax());
        }
        let method = method.to_ascii_uppercase();
        let method = (method != "ANY" && method != "*").then_some(method);
        let rest = path.strip_prefix('/').ok_or_else(syntax)?;
        let mut segments = Vec::new();
        if !rest.is_empty() {
            for part in rest.split('/') {
                let bad = || RouteError::Segment(key.to_owned());
                if segments.last() == Some(&Segment::Greedy) || part.is_empty() {
                    return Err(bad());
                }
                let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) => {
                        let (name, greedy) = match name.strip_suffix('+') {
                            Some(name) => (name, true),
                            None => (name, false),
                        };
                        if name.is_empty() || name.contains(['{', '}', '*', '?', '+']) {
                            return Err(bad());
                        }
                        if greedy { Segment::Greedy } else { Segment::Param }
                    }
                    None if part.contains(['{', '}', '*', '?']) => return Err(bad()),
                    None => Segment::Literal(part.to_owned()),
                };
                segments.push(segment);
            }
        }
        Ok(Route {
            key: key.trim().to_owned(),
            #[cfg(feature = "lambda")]
            globs: iam::resource_globs(method.as_deref(), &segments),
            method,
            segments,
            rule,
        })
    }

    fn same_shape(&self, other: &Route) -> bool {
        self.method == other.method && self.segments == other.segments
    }

    /// How specifically this route matches, or `None` when it does not.
    fn score(&self, method: &str, path: &[&str]) -> Option<(Vec<u8>, bool)> {
        if let Some(own) = &self.method
            && !own.eq_ignore_ascii_case(method)
        {
            return None;
        }
        let mut ranks = Vec::with_capacity(self.segments.len());
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Greedy => {
                    if path.len() <= i {
                        return None;
                    }
                    ranks.push(segment.rank());
                    return Some((ranks, self.method.is_some()));
                }
                Segment::Param => {
                    if path.get(i).is_none_or(|p| p.is_empty()) {
                        return None;
                    }
                }
                Segment::Literal(literal) => {
                    if path.get(i) != Some(&literal.as_str()) {
                        return None;
                    }
                }
            }
            ranks.push(segment.rank());
        }
        (path.len() == self.segments.len()).then_some((ranks, self.method.is_some()))
    }
}

/// The rules of an API's routes: `METHOD /path` patterns (`GET /items/{id}`,
/// `ANY /admin/{proxy+}`, `POST /package.Service/Method`) to [`RouteRule`]s,
/// and a fallback for requests that match no pattern (by default a valid
/// session).
///
/// The most specific pattern wins, as in API Gateway: literal segments before
/// `{param}` before `{greedy+}`, compared from the left, then a named method
/// before `ANY`. Paths are matched as the request spells them (no
/// percent-decoding, no `.` or `..` resolution, a trailing `/` is a segment
/// of its own), as routers match them; a fallback of [`RouteRule::deny`]
/// refuses whatever the table does not name.
///
/// ```
/// use authorizer::routes::{RouteRule, RouteTable};
/// use authorizer::require::supertokens;
///
/// let routes = RouteTable::new()
///     .route("GET /public", RouteRule::optional())?
///     .route("ANY /me", RouteRule::session())?
///     .route("ANY /admin/{proxy+}", RouteRule::require(supertokens::has_role("admin")))?
///     .fallback(RouteRule::deny());
///
/// // The same table as data:
/// let same: RouteTable = serde_json::from_str(r#"{
///     "routes": {
///         "GET /public": {"optional": true},
///         "ANY /me": {},
///         "ANY /admin/{proxy+}": {"require": {"claim": "st-role", "at": "v", "contains": "admin"}}
///     },
///     "fallback": {"deny": true}
/// }"#)?;
/// assert!(same.rule_for("GET", "/admin/users/7").requirement().is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct RouteTable {
    routes: Vec<Route>,
    fallback: RouteRule,
}

impl Default for RouteTable {
    fn default() -> Self {
        RouteTable::new()
    }
}

impl RouteTable {
    /// No routes; the fallback is [`RouteRule::session`].
    pub fn new() -> Self {
        RouteTable {
            routes: Vec::new(),
            fallback: RouteRule::session(),
        }
    }

    /// Adds a route: `key` is `METHOD /path` (`ANY` or `*` for every method).
    pub fn route(mut self, key: &str, rule: RouteRule) -> Result<Self, RouteError> {
        let route = Route::parse(key, rule)?;
        if self.routes.iter().any(|r| r.same_shape(&route)) {
            return Err(RouteError::Duplicate(route.key));
        }
        self.routes.push(route);
        Ok(self)
    }

    /// The rule for paths no route matches (default: [`RouteRule::session`]).
    pub fn fallback(mut self, rule: RouteRule) -> Self {
        self.fallback = rule;
        self
    }

    /// The fallback rule.
    pub fn fallback_rule(&self) -> &RouteRule {
        &self.fallback
    }

    /// Every scope the table's requirements name, once each, in the order
    /// the routes were added (the fallback's last): what a
    /// [protected resource](crate::resource::ProtectedResource) lists as
    /// `scopes_supported`.
    pub fn scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = Vec::new();
        let rules = self.routes.iter().map(|route| &route.rule).chain([&self.fallback]);
        for requirement in rules.filter_map(RouteRule::requirement) {
            for scope in requirement.named_scopes() {
                if !scopes.iter().any(|s| s == scope) {
                    scopes.push(scope.to_owned());
                }
            }
        }
        scopes
    }

    /// The rule for a request: the most specific matching route's, or the fallback.
    pub fn rule_for(&self, method: &str, path: &str) -> &RouteRule {
        self.route_for(method, path).map_or(&self.fallback, |route| &route.rule)
    }

    /// What a request to `method` and `path` (without the query) may do, by
    /// the rule [`rule_for`](RouteTable::rule_for) picks and the principal
    /// that authentication recorded in `extensions` (the
    /// [principal protocol](crate::pipeline::Authentication)): the principal
    /// (`None` for an anonymous caller on an optional route), or a rejection
    /// in the recorded error style: 401 without a principal where one is
    /// needed, 403 with every failed check, 500 when no authentication ran.
    ///
    /// The decision of every adapter's per-route check (and of the Lambda
    /// authorizer, which answers the same verdicts as a policy).
    ///
    /// A `HEAD` request that no route names (an `ANY` route names it) is
    /// judged by the rule for `GET`: axum's `get`, and many actix-web apps,
    /// run the `GET` handler for `HEAD`, which the fallback rule must not
    /// open. (An HTTP/2 WebSocket handshake is a `CONNECT`: name such routes
    /// with `ANY`.)
    ///
    /// ```
    /// use authorizer::pipeline::Authentication;
    /// use authorizer::require::scope;
    /// use authorizer::routes::{RouteRule, RouteTable};
    /// use authorizer::{ErrorStyle, Principal, Source};
    ///
    /// let routes = RouteTable::new()
    ///     .route("GET /public", RouteRule::optional())?
    ///     .route("GET /items", RouteRule::require(scope("read:items")))?;
    /// let mut anonymous = http::Extensions::new();
    /// Authentication::record(&mut anonymous, ErrorStyle::Rfc6750, None);
    /// assert!(routes.authorize(&anonymous, "GET", "/public")?.is_none());
    /// let refused = routes.authorize(&anonymous, "GET", "/items").unwrap_err();
    /// assert_eq!(refused.error().status(), 401);
    ///
    /// let mut signed_in = http::Extensions::new();
    /// let caller = Principal::new("user-1", Source::Bearer);
    /// Authentication::record(&mut signed_in, ErrorStyle::Rfc6750, Some(caller));
    /// let refused = routes.authorize(&signed_in, "GET", "/items").unwrap_err();
    /// assert_eq!(refused.error().status(), 403);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn authorize<'e, E: RequestExtensions + ?Sized>(
        &self,
        extensions: &'e E,
        method: &str,
        path: &str,
    ) -> Result<Option<&'e Principal>, Rejection> {
        let found = Authentication::principal(extensions)?;
        let error = match self.judged_rule(method, path).check(found) {
            Verdict::Allowed => {
                telemetry::decision(Stage::Authorize, Ok(found));
                return Ok(found);
            }
            Verdict::Unauthenticated => Error::MissingCredential,
            Verdict::WrongScheme => Error::InvalidToken(InvalidToken::Scheme),
            Verdict::Denied(denied) => {
                tracing::debug!(failed = denied.errors.len(), "claim requirements not met");
                Error::Forbidden(denied)
            }
        };
        telemetry::decision(Stage::Authorize, Err(&error));
        Err(Rejection::new(error, Authentication::renderer_of(extensions)))
    }

    /// The rule a request is judged by: [`rule_for`](RouteTable::rule_for)
    /// the method [`authorize`](RouteTable::authorize) judges it as.
    pub(crate) fn judged_rule(&self, method: &str, path: &str) -> &RouteRule {
        self.rule_for(self.judged_method(method, path), path)
    }

    /// The method a request is judged as. Routers run a `GET` handler for
    /// `HEAD` (axum's `get`, and actix-web apps that route both to one
    /// handler), so a `HEAD` no route names is judged by the `GET` route:
    /// otherwise the fallback rule, often weaker, would let the handler run.
    fn judged_method<'m>(&self, method: &'m str, path: &str) -> &'m str {
        if method == "HEAD" && self.route_for(method, path).is_none() {
            "GET"
        } else {
            method
        }
    }

    pub(crate) fn route_for(&self, method: &str, path: &str) -> Option<&Route> {
        if self.routes.is_empty() {
            // A lone requirement (a layer's) is a table of a fallback alone: no path to split.
            return None;
        }
        let segments: Vec<&str> = match path.strip_prefix('/').unwrap_or(path) {
            "" => Vec::new(),
            rest => rest.split('/').collect(),
        };
        self.routes
            .iter()
            .filter_map(|route| route.score(method, &segments).map(|score| (score, route)))
            .max_by(|(a, _), (b, _)| a.cmp(b))
            .map(|(_, route)| route)
    }
}

impl<'de> Deserialize<'de> for RouteTable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct TableDoc {
            #[serde(default)]
            routes: Routes,
            #[serde(default)]
            fallback: Option<RouteRule>,
        }
        let doc = TableDoc::deserialize(deserializer)?;
        let mut table = RouteTable::new();
        for (key, rule) in doc.routes.0 {
            table = table.route(&key, rule).map_err(de::Error::custom)?;
        }
        if let Some(fallback) = doc.fallback {
            table = table.fallback(fallback);
        }
        Ok(table)
    }
}

impl Serialize for RouteTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct RoutesRef<'a>(&'a [Route]);
        impl Serialize for RoutesRef<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_map(self.0.iter().map(|r| (&r.key, &r.rule)))
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("routes", &RoutesRef(&self.routes))?;
        map.serialize_entry("fallback", &self.fallback)?;
        map.end()
    }
}

/// Route keys to rules, refusing a key given twice (which a plain map would
/// silently let the last one win).
#[derive(Default)]
struct Routes(Vec<(String, RouteRule)>);

impl<'de> Deserialize<'de> for Routes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RoutesVisitor;
        impl<'de> Visitor<'de> for RoutesVisitor {
            type Value = Routes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of `METHOD /path` to route rules")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Routes, A::Error> {
                let mut routes: Vec<(String, RouteRule)> = Vec::new();
                while let Some((key, rule)) = map.next_entry::<String, RouteRule>()? {
                    if routes.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(RouteError::Duplicate(key)));
                    }
                    routes.push((key, rule));
                }
                Ok(Routes(routes))
            }
        }
        deserializer.deserialize_map(RoutesVisitor)
    }
}

/// What only the Lambda authorizer's IAM policies need of a table.
#[cfg(feature = "lambda")]
mod iam {
    use super::{Principal, Route, RouteRule, RouteTable, Segment};

    /// The methods API Gateway puts in a `methodArn`/`routeArn` for an `ANY` route.
    pub(super) const HTTP_METHODS: [&str; 7] = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"];

    /// Parameters become `*`, which IAM lets match across `/`, so a pattern can
    /// cover more paths than the route. `ANY` becomes one pattern per method: a `*`
    /// method would span the `/` into other paths (`*/me` matches `GET/x/me`).
    pub(super) fn resource_globs(method: Option<&str>, segments: &[Segment]) -> Vec<String> {
        let path: Vec<&str> = segments
            .iter()
            .map(|s| match s {
                Segment::Literal(literal) => literal.as_str(),
                Segment::Param | Segment::Greedy => "*",
            })
            .collect();
        let path = path.join("/");
        match method {
            Some(method) => vec![format!("{method}/{path}")],
            None => HTTP_METHODS.iter().map(|method| format!("{method}/{path}")).collect(),
        }
    }

    impl Route {
        /// The IAM resource patterns after `arn:...:apiId/stage/`: `GET/items/*`
        /// (made once, when the route is parsed).
        pub(crate) fn resource_globs(&self) -> &[String] {
            &self.globs
        }

        /// Whether the patterns cover exactly the paths of the route (no single-segment parameter).
        pub(crate) fn glob_is_exact(&self) -> bool {
            !self.segments.contains(&Segment::Param)
        }
    }

    impl RouteRule {
        /// Whether `who` may call, where the reasons are not needed (the other
        /// routes of a cached policy): the requirement's check without them.
        pub(crate) fn admits(&self, who: Option<&Principal>) -> bool {
            use super::Access;
            match (&self.access, who) {
                (Access::Optional, _) | (Access::Session, Some(_)) => true,
                (Access::Require(requirement), Some(principal)) => requirement.is_met(principal),
                (Access::Session | Access::Require(_), None) | (Access::Deny, _) => false,
            }
        }
    }

    impl RouteTable {
        /// Every route, in the order added.
        pub(crate) fn routes(&self) -> &[Route] {
            &self.routes
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::require::scope;

    fn table() -> RouteTable {
        RouteTable::new()
            .route("GET /public", RouteRule::optional())
            .unwrap()
            .route("ANY /items/{id}", RouteRule::session())
            .unwrap()
            .route("DELETE /items/{id}", RouteRule::require(scope("items:delete")))
            .unwrap()
            .route("GET /items/special", RouteRule::deny())
            .unwrap()
            .route("ANY /files/{path+}", RouteRule::optional())
            .unwrap()
            .route("GET /", RouteRule::optional())
            .unwrap()
    }

    #[test]
    fn most_specific_route_wins() {
        let t = table();
        assert!(t.rule_for("GET", "/public").is_optional());
        assert_eq!(t.rule_for("GET", "/items/7"), &RouteRule::session());
        assert!(t.rule_for("DELETE", "/items/7").requirement().is_some());
        assert_eq!(t.rule_for("GET", "/items/special"), &RouteRule::deny());
        assert!(t.rule_for("POST", "/items/special") == &RouteRule::session());
        assert!(t.rule_for("GET", "/files/a/b/c").is_optional());
        assert_eq!(t.rule_for("GET", "/files"), &RouteRule::session());
        assert!(t.rule_for("GET", "/").is_optional());
        assert_eq!(t.rule_for("GET", "/items/7/x"), &RouteRule::session());
        assert_eq!(t.rule_for("GET", "/items/"), &RouteRule::session());
    }

    #[test]
    fn bad_keys() {
        for key in [
            "/no-method",
            "GET no-slash",
            "GET /a//b",
            "GET /{p+}/x",
            "GET /a*",
            "GET /{}",
            "G3T /a",
            "",
        ] {
            assert!(RouteTable::new().route(key, RouteRule::session()).is_err(), "{key}");
        }
        let dup = RouteTable::new()
            .route("GET /a/{x}", RouteRule::session())
            .unwrap()
            .route("get /a/{y}", RouteRule::optional());
        assert!(matches!(dup, Err(RouteError::Duplicate(_))));
    }

    #[cfg(feature = "lambda")]
    #[test]
    fn globs() {
        let t = table();
        let globs: Vec<String> = t.routes().iter().flat_map(|r| r.resource_globs().to_vec()).collect();
        let any = |path: &str| iam::HTTP_METHODS.map(|m| format!("{m}/{path}"));
        let expected: Vec<String> = [
            vec!["GET/public".to_owned()],
            any("items/*").to_vec(),
            vec!["DELETE/items/*".to_owned(), "GET/items/special".to_owned()],
            any("files/*").to_vec(),
            vec!["GET/".to_owned()],
        ]
        .concat();
        assert_eq!(globs, expected);
    }

    #[test]
    fn grpc_methods_are_post_routes() {
        let t = RouteTable::new()
            .route("POST /authorizer.demo.v1.Demo/WhoAmI", RouteRule::session())
            .unwrap()
            .route("ANY /authorizer.demo.v1.Demo/Admin", RouteRule::require(scope("admin")))
            .unwrap()
            .route("ANY /grpc.health.v1.Health/{method}", RouteRule::optional())
            .unwrap()
            .fallback(RouteRule::deny());
        assert_eq!(
            t.rule_for("POST", "/authorizer.demo.v1.Demo/WhoAmI"),
            &RouteRule::session()
        );
        assert!(
            t.rule_for("POST", "/authorizer.demo.v1.Demo/Admin")
                .requirement()
                .is_some()
        );
        assert!(t.rule_for("POST", "/grpc.health.v1.Health/Check").is_optional());
        assert!(t.rule_for("POST", "/grpc.health.v1.Health/Watch").is_optional());
        // Other methods, services, spellings and HTTP methods fall back.
        for (method, path) in [
            ("POST", "/authorizer.demo.v1.Demo/Items"),
            ("GET", "/authorizer.demo.v1.Demo/WhoAmI"),
            ("POST", "/authorizer.demo.v1.Demo/whoami"),
            ("POST", "/authorizer.demo.v1.Demo/WhoAmI/"),
            ("POST", "//authorizer.demo.v1.Demo/WhoAmI"),
            ("POST", "/authorizer.demo.v1.Demo/%57hoAmI"),
            ("POST", "/grpc.health.v1.Health"),
            ("POST", "/authorizer.demo.v1.Demo"),
        ] {
            assert_eq!(t.rule_for(method, path), &RouteRule::deny(), "{method} {path}");
        }
    }

    #[test]
    fn a_head_no_route_names_is_judged_as_get() {
        use crate::error::ErrorStyle;
        use crate::principal::Source;
        use crate::require::scope;

        let routes = RouteTable::new()
            .route("GET /admin", RouteRule::require(scope("admin")))
            .unwrap()
            .route("HEAD /probe", RouteRule::optional())
            .unwrap()
            .route("GET /probe", RouteRule::deny())
            .unwrap()
            .route("ANY /any", RouteRule::deny())
            .unwrap()
            .fallback(RouteRule::optional());
        let mut user = http::Extensions::new();
        Authentication::record(
            &mut user,
            ErrorStyle::Rfc6750,
            Some(Principal::new("u", Source::Bearer)),
        );
        let status = |method: &str, path: &str| match routes.authorize(&user, method, path) {
            Ok(_) => 200,
            Err(rejection) => rejection.error().status().as_u16(),
        };
        // axum runs a `get` handler for HEAD: the GET route's rule, not the
        // optional fallback, decides.
        assert_eq!(status("HEAD", "/admin"), 403);
        assert_eq!(status("GET", "/admin"), 403);
        assert_eq!(status("HEAD", "/probe"), 200, "a HEAD route of its own wins");
        assert_eq!(status("HEAD", "/any"), 403, "ANY names HEAD");
        assert_eq!(status("HEAD", "/elsewhere"), 200, "the fallback, as for GET");
        // The Lambda authorizer's own matching is untouched: API Gateway
        // routes HEAD as a method of its own.
        assert_eq!(routes.rule_for("HEAD", "/admin"), &RouteRule::optional());
    }

    #[test]
    fn authorize_follows_the_rule_and_the_protocol() {
        use crate::error::ErrorStyle;
        use crate::principal::Source;

        let t = table();
        let status =
            |extensions: &http::Extensions, method: &str, path: &str| match t.authorize(extensions, method, path) {
                Ok(_) => 200,
                Err(rejection) => rejection.error().status().as_u16(),
            };
        let mut anonymous = http::Extensions::new();
        Authentication::record(&mut anonymous, ErrorStyle::Rfc6750, None);
        let mut user = http::Extensions::new();
        Authentication::record(
            &mut user,
            ErrorStyle::SuperTokens,
            Some(Principal::new("u", Source::Bearer)),
        );
        let none = http::Extensions::new();
        for (method, path, anonymous_status, user_status) in [
            ("GET", "/public", 200, 200),
            ("GET", "/items/7", 401, 200),
            ("DELETE", "/items/7", 401, 403),
            ("GET", "/items/special", 403, 403),
            ("GET", "/elsewhere", 401, 200),
        ] {
            assert_eq!(status(&anonymous, method, path), anonymous_status, "{method} {path}");
            assert_eq!(status(&user, method, path), user_status, "{method} {path}");
            // No authentication ran: a server bug, whatever the rule.
            assert_eq!(status(&none, method, path), 500, "{method} {path}");
        }
        assert_eq!(t.authorize(&user, "GET", "/public").unwrap().unwrap().id(), "u");
        assert!(t.authorize(&anonymous, "GET", "/public").unwrap().is_none());
        // The refusal is written in the style authentication recorded.
        let refused = t.authorize(&anonymous, "GET", "/items/7").unwrap_err();
        assert_eq!(
            refused.to_response(),
            Error::MissingCredential.to_response(ErrorStyle::Rfc6750)
        );
    }

    #[test]
    fn verdicts_carry_reasons_and_agree_with_admits() {
        use crate::principal::Source;

        let scoped = RouteRule::require(scope("items:delete"));
        let with_scope = Principal::new("u", Source::Bearer).with_scopes(vec!["items:delete".to_owned()]);
        let without = Principal::new("u", Source::Bearer);
        let cases = [
            (RouteRule::optional(), None, Verdict::Allowed),
            (RouteRule::optional(), Some(&without), Verdict::Allowed),
            (RouteRule::session(), None, Verdict::Unauthenticated),
            (RouteRule::session(), Some(&without), Verdict::Allowed),
            (scoped.clone(), None, Verdict::Unauthenticated),
            (scoped.clone(), Some(&with_scope), Verdict::Allowed),
        ];
        for (rule, who, expected) in cases {
            assert_eq!(rule.check(who), expected, "{rule:?}");
            #[cfg(feature = "lambda")]
            assert_eq!(rule.admits(who), expected.is_allowed(), "{rule:?}");
        }
        let Verdict::Denied(denied) = scoped.check(Some(&without)) else {
            panic!("a missing scope is a refusal");
        };
        assert_eq!(denied.missing_scopes, ["items:delete"]);
        #[cfg(feature = "lambda")]
        assert!(!scoped.admits(Some(&without)));
        for who in [None, Some(&with_scope)] {
            let Verdict::Denied(denied) = RouteRule::deny().check(who) else {
                panic!("deny refuses everyone");
            };
            assert_eq!(denied.errors[0].id, "route");
            #[cfg(feature = "lambda")]
            assert!(!RouteRule::deny().admits(who));
        }
    }

    #[test]
    fn data_form_round_trips_and_refuses_duplicates() {
        let doc = r#"{"routes": {"GET /public": {"optional": true}, "ANY /me": {},
            "GET /scoped": {"require": {"scope": "read:items"}}}, "fallback": {"deny": true}}"#;
        let t: RouteTable = serde_json::from_str(doc).unwrap();
        assert_eq!(t.fallback_rule(), &RouteRule::deny());
        let value = serde_json::to_value(&t).unwrap();
        let again: RouteTable = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&again).unwrap(), value);
        assert_eq!(value["routes"].as_object().unwrap().len(), 3);
        let dup = r#"{"routes": {"GET /a": {}, "GET /a": {"optional": true}}}"#;
        assert!(serde_json::from_str::<RouteTable>(dup).is_err());
        let both = r#"{"routes": {"GET /a": {"optional": true, "deny": true}}}"#;
        assert!(serde_json::from_str::<RouteTable>(both).is_err());
        let unknown = r#"{"routes": {"GET /a": {"optinal": true}}}"#;
        assert!(serde_json::from_str::<RouteTable>(unknown).is_err());
    }
}
