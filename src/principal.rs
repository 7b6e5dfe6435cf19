//! The authenticated caller, shaped like API Gateway's authorizer context.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a [`Principal`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: DPoP <token>` with a `DPoP` proof (RFC 9449), checked.
    Dpop,
    /// A session cookie (SuperTokens' `sAccessToken` by default).
    Cookie,
    /// A named request header (SuperTokens' `st-access-token` by default).
    Header,
    /// A query parameter (only where enabled: WebSocket clients in browsers).
    Query,
    /// A WebSocket upgrade's `Sec-WebSocket-Protocol` list, after the marker
    /// protocol (browsers cannot set other headers on a WebSocket).
    #[serde(rename = "websocket_protocol")]
    WebSocketProtocol,
    /// A [`CredentialSource`](crate::credential::CredentialSource) of the application's.
    Custom,
    /// API Gateway's HTTP API JWT authorizer (`requestContext.authorizer.jwt`).
    GatewayJwt,
    /// An API Gateway Lambda authorizer (`requestContext.authorizer` or `.lambda`).
    GatewayLambda,
    /// An API Gateway Cognito user pool authorizer (`requestContext.authorizer.claims`).
    GatewayCognito,
    /// API Gateway IAM authorization (SigV4): the caller's ARN.
    GatewayIam,
    /// A REST API's native JWT authorizer (`requestContext.authorizer.claims`,
    /// claims with their JSON types kept).
    GatewayRestJwt,
}

impl Source {
    /// The name used in JSON (`"bearer"`, `"cookie"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Bearer => "bearer",
            Source::Dpop => "dpop",
            Source::Cookie => "cookie",
            Source::Header => "header",
            Source::Query => "query",
            Source::WebSocketProtocol => "websocket_protocol",
            Source::Custom => "custom",
            Source::GatewayJwt => "gateway_jwt",
            Source::GatewayLambda => "gateway_lambda",
            Source::GatewayCognito => "gateway_cognito",
            Source::GatewayIam => "gateway_iam",
            Source::GatewayRestJwt => "gateway_rest_jwt",
        }
    }
}

/// A value allowed in API Gateway's flat authorizer `context`: string, number or boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContextValue {
    /// A boolean.
    Bool(bool),
    /// A JSON number.
    Number(serde_json::Number),
    /// A string.
    String(String),
}

impl ContextValue {
    /// The context value for a JSON scalar; `None` for null, arrays and objects,
    /// which API Gateway does not allow in an authorizer context.
    pub fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(ContextValue::Bool(*b)),
            Value::Number(n) => Some(ContextValue::Number(n.clone())),
            Value::String(s) => Some(ContextValue::String(s.clone())),
            Value::Null | Value::Array(_) | Value::Object(_) => None,
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> Value {
        match self {
            ContextValue::Bool(b) => Value::Bool(*b),
            ContextValue::Number(n) => Value::Number(n.clone()),
            ContextValue::String(s) => Value::String(s.clone()),
        }
    }
}

/// A claim could not be read as the requested type.
#[derive(Debug, thiserror::Error)]
#[error("claim `{name}` does not have the expected type")]
pub struct ClaimTypeError {
    name: String,
    #[source]
    source: serde_json::Error,
}

impl ClaimTypeError {
    /// The claim that did not fit (empty when all claims were deserialized at once).
    pub fn claim(&self) -> &str {
        &self.name
    }
}

/// The authenticated caller.
///
/// It mirrors what API Gateway hands a backend in its authorizer context: an
/// `id` (the `principalId`), the full `claims`, the OAuth `scopes`, a flat
/// `context` of scalar values, and the `source` of the credential. Cloning is
/// one reference-count increment.
///
/// ```
/// use authorizer::{Principal, Source};
///
/// let claims = serde_json::json!({"sub": "user-1", "scope": "read:items", "tier": "gold"});
/// let principal = Principal::new("user-1", Source::Bearer)
///     .with_claims(claims.as_object().unwrap().clone())
///     .with_scopes(vec!["read:items".into()]);
/// assert_eq!(principal.id(), "user-1");
/// assert!(principal.has_scope("read:items"));
/// assert_eq!(principal.claim::<String>("tier")?, Some("gold".to_owned()));
/// # Ok::<(), authorizer::ClaimTypeError>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Principal {
    inner: Arc<Inner>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
struct Inner {
    id: String,
    claims: Map<String, Value>,
    scopes: Vec<String>,
    context: BTreeMap<String, ContextValue>,
    source: Source,
    #[serde(skip)]
    claims_text: ClaimsText,
}

/// The claims as JSON text, written once per principal: a cached principal
/// answers every warm Lambda authorizer event with the same text.
#[derive(Clone, Default)]
struct ClaimsText(std::sync::OnceLock<Box<str>>);

impl PartialEq for ClaimsText {
    /// Only a copy of the claims, which the principals compare already.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Principal {
    /// A principal with the given id and source, and no claims, scopes or context.
    pub fn new(id: impl Into<String>, source: Source) -> Self {
        Principal {
            inner: Arc::new(Inner {
                id: id.into(),
                claims: Map::new(),
                scopes: Vec::new(),
                context: BTreeMap::new(),
                source,
                claims_text: ClaimsText::default(),
            }),
        }
    }

    /// Replaces the claims.
    pub fn with_claims(mut self, claims: Map<String, Value>) -> Self {
        let inner = Arc::make_mut(&mut self.inner);
        inner.claims = claims;
        inner.claims_text = ClaimsText::default();
        self
    }

    /// Replaces the scopes.
    pub fn with_scopes(mut self, scopes: Vec<String>) -> Self {
        Arc::make_mut(&mut self.inner).scopes = scopes;
        self
    }

    /// Replaces the flat context.
    pub fn with_context(mut self, context: BTreeMap<String, ContextValue>) -> Self {
        Arc::make_mut(&mut self.inner).context = context;
        self
    }

    /// The principal id (API Gateway's `principalId`; the `sub` claim by default).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// Every claim of the credential.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.inner.claims
    }

    /// The claims as JSON text, written on first use and kept with the principal.
    #[cfg_attr(not(feature = "lambda"), allow(dead_code))]
    pub(crate) fn claims_json(&self) -> &str {
        self.inner.claims_text.0.get_or_init(|| {
            serde_json::to_string(&self.inner.claims)
                .unwrap_or_else(|_| "{}".to_owned())
                .into()
        })
    }

    /// The OAuth scopes (from `scope` or `scp`).
    pub fn scopes(&self) -> &[String] {
        &self.inner.scopes
    }

    /// Whether the principal holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.inner.scopes.iter().any(|s| s == scope)
    }

    /// The flat context (string, number and boolean values only).
    pub fn context(&self) -> &BTreeMap<String, ContextValue> {
        &self.inner.context
    }

    /// Which credential (or gateway authorizer) this principal came from.
    pub fn source(&self) -> Source {
        self.inner.source
    }

    /// When the credential stops being valid: its `exp` claim (a number of
    /// seconds, or such a number as text, as API Gateway passes claims on),
    /// if it has one. A long-lived connection (a WebSocket, a gRPC stream)
    /// that outlives its credential should end here.
    ///
    /// ```
    /// # use std::time::{Duration, UNIX_EPOCH};
    /// # use authorizer::{Principal, Source};
    /// # let claims = serde_json::json!({"exp": 1_900_000_000});
    /// # let p = Principal::new("u1", Source::Bearer).with_claims(claims.as_object().unwrap().clone());
    /// assert_eq!(p.expires_at(), Some(UNIX_EPOCH + Duration::from_secs(1_900_000_000)));
    /// ```
    pub fn expires_at(&self) -> Option<SystemTime> {
        let seconds = match self.inner.claims.get("exp")? {
            Value::Number(number) => number.as_u64(),
            Value::String(text) => text.trim().parse().ok(),
            _ => None,
        }?;
        UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
    }

    /// One claim as `T`: `Ok(None)` when absent, an error when present with another type.
    ///
    /// ```
    /// # use authorizer::{Principal, Source};
    /// # let claims = serde_json::json!({"st-ev": {"v": true}});
    /// # let p = Principal::new("u1", Source::Bearer).with_claims(claims.as_object().unwrap().clone());
    /// #[derive(serde::Deserialize)]
    /// struct EmailVerified { v: bool }
    /// let ev: Option<EmailVerified> = p.claim("st-ev")?;
    /// assert!(ev.unwrap().v);
    /// # Ok::<(), authorizer::ClaimTypeError>(())
    /// ```
    pub fn claim<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ClaimTypeError> {
        match self.inner.claims.get(name) {
            None => Ok(None),
            Some(value) => T::deserialize(value).map(Some).map_err(|source| ClaimTypeError {
                name: name.to_owned(),
                source,
            }),
        }
    }

    /// All claims deserialized into a user type.
    pub fn claims_as<T: DeserializeOwned>(&self) -> Result<T, ClaimTypeError> {
        T::deserialize(MapDeserializer(&self.inner.claims)).map_err(|source| ClaimTypeError {
            name: String::new(),
            source,
        })
    }
}

/// Deserializes a borrowed claims map without cloning it into a `Value`.
struct MapDeserializer<'a>(&'a Map<String, Value>);

impl<'de> serde::Deserializer<'de> for MapDeserializer<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        use serde::de::value::MapDeserializer as Inner;
        let mut map = Inner::new(self.0.iter().map(|(k, v)| (k.as_str(), v)));
        let value = visitor.visit_map(&mut map)?;
        map.end()?;
        Ok(value)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl fmt::Debug for Principal {
    // Claim values can be personal data; keys are enough to debug with.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("id", &self.inner.id)
            .field("source", &self.inner.source)
            .field("scopes", &self.inner.scopes)
            .field("claims", &self.inner.claims.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.inner.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Inner::deserialize(deserializer).map(|inner| Principal { inner: Arc::new(inner) })
    }
}

/// Which claims go into [`Principal::context`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContextClaims {
    /// Every top-level claim whose value is a string, number or boolean (the default).
    #[default]
    AllScalars,
    /// Only the named top-level claims, and only when their value is a scalar.
    Only(Vec<String>),
    /// None.
    Nothing,
}

/// How verified claims become a [`Principal`].
///
/// ```
/// use authorizer::{ContextClaims, Issuer, PrincipalMapping, Verifier};
///
/// // The id from `email`, and only two claims in the flat context.
/// let mapping = PrincipalMapping::default()
///     .id_claim("email")
///     .context(ContextClaims::Only(vec!["tenant".into(), "tier".into()]));
/// let verifier = Verifier::builder()
///     .issuer(Issuer::discover("https://auth.example.com"))
///     .principal_mapping(mapping)
///     .build()?;
/// # let _ = verifier;
/// # Ok::<(), authorizer::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalMapping {
    id_claim: String,
    context: ContextClaims,
}

impl Default for PrincipalMapping {
    fn default() -> Self {
        PrincipalMapping {
            id_claim: "sub".to_owned(),
            context: ContextClaims::AllScalars,
        }
    }
}

impl PrincipalMapping {
    /// The default mapping, shared: what claims verified elsewhere (by a
    /// gateway) become when no verifier says otherwise.
    pub(crate) fn shared_default() -> &'static PrincipalMapping {
        static DEFAULT: std::sync::LazyLock<PrincipalMapping> = std::sync::LazyLock::new(PrincipalMapping::default);
        &DEFAULT
    }

    /// The claim that becomes [`Principal::id`] (default `sub`). It must be a string.
    pub fn id_claim(mut self, claim: impl Into<String>) -> Self {
        self.id_claim = claim.into();
        self
    }

    /// Which claims go into [`Principal::context`].
    pub fn context(mut self, claims: ContextClaims) -> Self {
        self.context = claims;
        self
    }

    /// Builds the principal; `None` when the id claim is absent, not a string,
    /// or empty (an empty principal id means an anonymous caller to API Gateway).
    pub(crate) fn principal(&self, claims: Map<String, Value>, source: Source) -> Option<Principal> {
        let id = match claims.get(&self.id_claim) {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => return None,
        };
        let scopes = scopes_of(&claims);
        let context = self.context_of(&claims);
        Some(Principal {
            inner: Arc::new(Inner {
                id,
                claims,
                scopes,
                context,
                source,
                claims_text: ClaimsText::default(),
            }),
        })
    }

    pub(crate) fn context_of(&self, claims: &Map<String, Value>) -> BTreeMap<String, ContextValue> {
        let scalar = |(k, v): (&String, &Value)| ContextValue::from_json(v).map(|v| (k.clone(), v));
        match &self.context {
            ContextClaims::AllScalars => claims.iter().filter_map(scalar).collect(),
            ContextClaims::Only(names) => names
                .iter()
                .filter_map(|name| claims.get_key_value(name))
                .filter_map(scalar)
                .collect(),
            ContextClaims::Nothing => BTreeMap::new(),
        }
    }
}

/// Scopes from `scope` and `scp`, each either a space-separated string or an
/// array of strings (issuers differ), without duplicates, in order of appearance.
pub(crate) fn scopes_of(claims: &Map<String, Value>) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for name in ["scope", "scp"] {
        match claims.get(name) {
            Some(Value::String(s)) => s.split_ascii_whitespace().for_each(|s| push_unique(&mut scopes, s)),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .for_each(|s| push_unique(&mut scopes, s)),
            _ => {}
        }
    }
    scopes
}

pub(crate) fn push_unique(scopes: &mut Vec<String>, scope: &str) {
    if !scope.is_empty() && !scopes.iter().any(|s| s == scope) {
        scopes.push(scope.to_owned());
    }
}

/// The principal's claims deserialized into `T`: an extractor in every
/// framework adapter (axum, actix-web).
///
/// ```
/// use authorizer::Claims;
///
/// #[derive(serde::Deserialize)]
/// struct Session {
///     sub: String,
///     #[serde(rename = "st-role")]
///     roles: Option<serde_json::Value>,
/// }
///
/// async fn handler(Claims(session): Claims<Session>) -> String {
///     session.sub
/// }
/// ```
///
/// Claims that do not fit `T` are answered as an invalid token (401); no
/// principal is answered as for [`Principal`] (401 anonymous, 500 no layer).
#[derive(Debug, Clone, PartialEq)]
pub struct Claims<T>(pub T);

impl<T> Claims<T> {
    /// The claims.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Claims<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_source_has_one_name_in_json_and_in_text() {
        use Source::*;
        let all = [
            Bearer,
            Cookie,
            Header,
            Query,
            WebSocketProtocol,
            Custom,
            GatewayJwt,
            GatewayLambda,
            GatewayCognito,
            GatewayIam,
            GatewayRestJwt,
        ];
        for source in all {
            assert_eq!(serde_json::to_value(source).unwrap(), json!(source.as_str()));
            assert_eq!(
                serde_json::from_value::<Source>(json!(source.as_str())).unwrap(),
                source
            );
        }
    }

    #[test]
    fn expiry_comes_from_the_exp_claim() {
        let at = |exp: Value| Principal::new("u", Source::Bearer).with_claims(claims(json!({ "exp": exp })));
        let expected = Some(UNIX_EPOCH + Duration::from_secs(1_900_000_000));
        assert_eq!(at(json!(1_900_000_000)).expires_at(), expected);
        assert_eq!(
            at(json!("1900000000")).expires_at(),
            expected,
            "as API Gateway passes it on"
        );
        for unreadable in [json!(-1), json!(1.5), json!("soon"), json!(null), json!([1])] {
            assert_eq!(at(unreadable.clone()).expires_at(), None, "{unreadable}");
        }
        assert_eq!(Principal::new("u", Source::Bearer).expires_at(), None);
    }

    #[test]
    fn maps_sub_scopes_and_scalar_context() {
        let c = claims(json!({
            "sub": "u1", "scope": "read write read", "scp": ["admin", "write"],
            "email": "a@b.c", "n": 3, "ok": true, "st-ev": {"v": true}, "roles": ["x"], "nil": null
        }));
        let p = PrincipalMapping::default().principal(c, Source::Bearer).unwrap();
        assert_eq!(p.id(), "u1");
        assert_eq!(p.scopes(), ["read", "write", "admin"]);
        assert!(p.has_scope("admin") && !p.has_scope("adm"));
        let keys: Vec<_> = p.context().keys().cloned().collect();
        assert_eq!(keys, ["email", "n", "ok", "scope", "sub"]);
        assert_eq!(p.context()["n"], ContextValue::Number(3.into()));
        assert_eq!(p.source(), Source::Bearer);
    }

    #[test]
    fn id_claim_must_be_a_string() {
        let m = PrincipalMapping::default();
        assert!(m.principal(claims(json!({"sub": 7})), Source::Bearer).is_none());
        assert!(m.principal(claims(json!({})), Source::Bearer).is_none());
        let m = m.id_claim("uid");
        assert_eq!(
            m.principal(claims(json!({"uid": "x"})), Source::Cookie).unwrap().id(),
            "x"
        );
    }

    #[test]
    fn context_only_named_scalars() {
        let m = PrincipalMapping::default().context(ContextClaims::Only(vec!["email".into(), "obj".into()]));
        let p = m
            .principal(
                claims(json!({"sub": "u", "email": "e", "obj": {}, "other": 1})),
                Source::Bearer,
            )
            .unwrap();
        assert_eq!(p.context().len(), 1);
        let none = PrincipalMapping::default().context(ContextClaims::Nothing);
        assert!(
            none.principal(claims(json!({"sub": "u"})), Source::Bearer)
                .unwrap()
                .context()
                .is_empty()
        );
    }

    #[test]
    fn typed_claims() {
        #[derive(Deserialize)]
        struct Mine {
            sub: String,
            #[serde(rename = "st-ev")]
            ev: Ev,
        }
        #[derive(Deserialize)]
        struct Ev {
            v: bool,
        }
        let p = PrincipalMapping::default()
            .principal(claims(json!({"sub": "u", "st-ev": {"v": false}})), Source::Bearer)
            .unwrap();
        let mine: Mine = p.claims_as().unwrap();
        assert_eq!(mine.sub, "u");
        assert!(!mine.ev.v);
        assert!(p.claim::<Ev>("absent").unwrap().is_none());
        let err = p.claim::<u64>("sub").unwrap_err();
        assert_eq!(err.claim(), "sub");
        assert!(p.claims_as::<Vec<String>>().is_err());
    }

    #[test]
    fn serializes_as_documented_and_round_trips() {
        let p = PrincipalMapping::default()
            .principal(claims(json!({"sub": "u", "scope": "a"})), Source::Cookie)
            .unwrap();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["id"], "u");
        assert_eq!(v["source"], "cookie");
        assert_eq!(v["scopes"], json!(["a"]));
        assert_eq!(v["context"]["scope"], "a");
        let back: Principal = serde_json::from_value(v).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn debug_hides_claim_values() {
        let p = Principal::new("u", Source::Bearer).with_claims(claims(json!({"email": "secret@x"})));
        let d = format!("{p:?}");
        assert!(d.contains("email") && !d.contains("secret@x"));
    }
}
