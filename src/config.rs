//! The whole [`Authenticator`] as data: read from a file in the format of
//! your choice (anything serde reads: TOML, JSON, YAML), overridden by the
//! environment, checked, then built.
//!
//! ```
//! use authorizer::config::Config;
//!
//! let text = r#"
//! error_style = "rfc6750"
//! leeway_secs = 30
//!
//! [[issuers]]
//! iss = "https://auth.example.com/"
//! audiences = ["https://api.example.com"]
//! access_token_profile = true
//! fetch = { cooldown_secs = 60 }
//!
//! [credentials]
//! order = ["bearer", "cookie:sAccessToken"]
//! allowed_origins = ["https://app.example.com"]
//! "#;
//! let config = Config::from_deserializer(toml::Deserializer::parse(text).unwrap())?;
//! let authenticator = config.build()?;
//! # let _ = authenticator;
//! # Ok::<(), authorizer::config::ConfigFileError>(())
//! ```
//!
//! # Schema
//!
//! | key | meaning | default |
//! | --- | --- | --- |
//! | `issuers` | one table per issuer (below); at least one | |
//! | `algorithms` | allowed algorithms (`["RS256", "ES256"]`) | every asymmetric one |
//! | `leeway_secs` | clock skew allowed on `exp`, `nbf`, `iat` | 60 |
//! | `require_exp` | refuse tokens without `exp` | true |
//! | `typ` | the `typ` header tokens must carry | not checked |
//! | `max_token_age_secs` | refuse tokens whose `iat` is older | not checked |
//! | `cache_capacity` | verified tokens kept | 10 000 |
//! | `id_claim` | the claim the principal id comes from | `sub` |
//! | `error_style` | `rfc6750` or `supertokens` | `supertokens` |
//! | `credentials` | where tokens are read (below) | bearer, `st-access-token`, `sAccessToken` |
//! | `resource` | the OAuth protected resource this API is (below) | none |
//!
//! An issuer: `iss` (exactly as tokens spell it); its keys from one of
//! `discover = true` (the default), `jwks_url`, or `jwks_file` (a JWKS
//! document on disk); `audiences`; `access_token_profile` (RFC 9068); and
//! `fetch` (`default_ttl_secs`, `min_ttl_secs`, `max_ttl_secs`,
//! `cooldown_secs`, `timeout_secs`, `max_body_bytes`, `allow_plain_http`);
//! and `introspection` (RFC 7662, for opaque tokens: `client_id`,
//! `client_secret`, `endpoint` (default: from the issuer's metadata),
//! `max_cache_secs`, `jwts` to introspect JWTs too; one issuer at most).
//!
//! `credentials`: `order`, a list of `bearer`, `header:<name>`,
//! `cookie:<name>`, `query:<name>` and `websocket_protocol:<marker>`;
//! `max_len`; `allowed_origins`; `accept_rid_header`.
//!
//! `resource` ([RFC 9728](crate::resource)): `identifier` (the URL tokens
//! must name in `aud`: issuers without `audiences` then accept only it, and
//! every challenge points to its metadata), and the metadata members
//! `authorization_servers` (default: every issuer), `scopes_supported`,
//! `name`, `documentation`, `policy_uri`, `tos_uri`.
//!
//! Unknown keys are refused, so a misspelt setting never silently falls back
//! to its default. Every error names the entry it is about
//! (`issuers[1].jwks_url`).
//!
//! # The environment
//!
//! [`Config::with_env`] applies these variables over the file (the same ones
//! the demo servers read); an unset or empty variable changes nothing:
//!
//! | variable | effect |
//! | --- | --- |
//! | `AUTHORIZER_ISSUER` | replaces the issuer list with this one issuer (keys by discovery, or `AUTHORIZER_JWKS_URL`); a file's only issuer keeps its audiences, profile and fetch policy; over several issuers with audiences, `AUTHORIZER_AUDIENCE` must be set too |
//! | `AUTHORIZER_JWKS_URL` | the key set of that issuer (only with `AUTHORIZER_ISSUER`) |
//! | `AUTHORIZER_AUDIENCE` | replaces every issuer's audiences (comma-separated) |
//! | `AUTHORIZER_ERROR_STYLE` | replaces `error_style` |
//! | `AUTHORIZER_RESOURCE` | replaces the resource identifier (the file's other `resource` members stay) |
//! | `AUTHORIZER_CLIENT_ID`, `AUTHORIZER_CLIENT_SECRET` | the one issuer's introspection client (both needed) |
//! | `AUTHORIZER_INTROSPECTION_URL` | its introspection endpoint (default: from its metadata) |
//!
//! # Refused combinations
//!
//! Besides what [`VerifierBuilder::build`](crate::VerifierBuilder::build)
//! refuses (`http` key URLs outside loopback without `allow_plain_http`, the
//! RFC 9068 profile without an audience), a configuration is refused when an
//! issuer accepts tokens for many tenants (Microsoft's `common`,
//! `organizations` and `consumers` endpoints, or an `iss` with a `{tenantid}`
//! placeholder) without an audience: every other tenant's tokens would pass.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::credential::{Credentials, Location};
use crate::error::ErrorStyle;
use crate::pipeline::authenticator::Authenticator;
use crate::principal::PrincipalMapping;
use crate::resource::{ProtectedResource, ResourceError};
#[cfg(feature = "remote-keys")]
use crate::verify::FetchPolicy;
use crate::verify::{ConfigError, Issuer, KeySet, Verifier};

/// An authenticator's configuration, as read from a file (see the [module
/// docs](self) for the keys).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    issuers: Vec<IssuerConfig>,
    algorithms: Option<Vec<jsonwebtoken::Algorithm>>,
    leeway_secs: Option<u64>,
    require_exp: Option<bool>,
    typ: Option<String>,
    max_token_age_secs: Option<u64>,
    cache_capacity: Option<u64>,
    id_claim: Option<String>,
    error_style: Option<ErrorStyle>,
    credentials: Option<CredentialsConfig>,
    resource: Option<ResourceConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceConfig {
    identifier: String,
    authorization_servers: Option<Vec<String>>,
    #[serde(default)]
    scopes_supported: Vec<String>,
    name: Option<String>,
    documentation: Option<String>,
    policy_uri: Option<String>,
    tos_uri: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuerConfig {
    iss: String,
    #[serde(default)]
    discover: Option<bool>,
    jwks_url: Option<String>,
    jwks_file: Option<String>,
    #[serde(default)]
    audiences: Vec<String>,
    #[serde(default)]
    access_token_profile: bool,
    fetch: Option<FetchConfig>,
    introspection: Option<IntrospectionConfig>,
}

/// Read even without `remote-keys`, to refuse it with a clear message.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(feature = "remote-keys"), allow(dead_code))]
struct IntrospectionConfig {
    client_id: String,
    client_secret: String,
    endpoint: Option<String>,
    max_cache_secs: Option<u64>,
    #[serde(default)]
    jwts: bool,
}

impl fmt::Debug for IntrospectionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Read even without `remote-keys`, so that a file written for a build with
/// it is refused with a clear message rather than as an unknown key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(feature = "remote-keys"), allow(dead_code))]
struct FetchConfig {
    default_ttl_secs: Option<u64>,
    min_ttl_secs: Option<u64>,
    max_ttl_secs: Option<u64>,
    cooldown_secs: Option<u64>,
    timeout_secs: Option<u64>,
    max_body_bytes: Option<usize>,
    allow_plain_http: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsConfig {
    order: Option<Vec<String>>,
    max_len: Option<usize>,
    allowed_origins: Option<Vec<String>>,
    accept_rid_header: Option<bool>,
}

/// A configuration that cannot be read or built, with the entry it is about.
#[derive(Debug)]
pub struct ConfigFileError {
    path: String,
    message: String,
}

impl ConfigFileError {
    fn at(path: impl Into<String>, message: impl fmt::Display) -> Self {
        ConfigFileError {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// The entry, as a path (`issuers[0].audiences`); empty for the whole document.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigFileError {}

impl Config {
    /// Reads a configuration with any serde deserializer (`toml`,
    /// `serde_json`, `serde_yaml`...). An unknown key, a wrong type or a
    /// missing required entry is an error naming its path.
    pub fn from_deserializer<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, ConfigFileError> {
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let path = error.path().to_string();
            let path = if path == "." { String::new() } else { path };
            ConfigFileError::at(path, error.into_inner())
        })
    }

    /// This configuration with the `AUTHORIZER_*` variables of the process
    /// environment applied over it (see the [module docs](self#the-environment)).
    pub fn with_env(self) -> Result<Self, ConfigFileError> {
        let vars: BTreeMap<String, String> = std::env::vars()
            .filter(|(name, _)| name.starts_with("AUTHORIZER_"))
            .collect();
        self.with_vars(&vars)
    }

    fn with_vars(mut self, vars: &BTreeMap<String, String>) -> Result<Self, ConfigFileError> {
        let var = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        if let Some(iss) = var("AUTHORIZER_ISSUER") {
            // One issuer in the file: only its name and keys change, so its
            // audience and profile still hold. Several: which one's settings
            // to keep is a guess, so the audience must come with it.
            let kept = match self.issuers.as_slice() {
                [only] => only.clone(),
                issuers => {
                    if issuers.iter().any(|i| !i.audiences.is_empty()) && var("AUTHORIZER_AUDIENCE").is_none() {
                        return Err(ConfigFileError::at(
                            "AUTHORIZER_ISSUER",
                            "replaces several issuers with audiences: set AUTHORIZER_AUDIENCE too",
                        ));
                    }
                    IssuerConfig {
                        iss: String::new(),
                        discover: None,
                        jwks_url: None,
                        jwks_file: None,
                        audiences: Vec::new(),
                        access_token_profile: false,
                        fetch: None,
                        introspection: None,
                    }
                }
            };
            self.issuers = vec![IssuerConfig {
                iss: iss.to_owned(),
                discover: None,
                jwks_url: var("AUTHORIZER_JWKS_URL").map(str::to_owned),
                jwks_file: None,
                ..kept
            }];
        } else if var("AUTHORIZER_JWKS_URL").is_some() {
            return Err(ConfigFileError::at(
                "AUTHORIZER_JWKS_URL",
                "needs AUTHORIZER_ISSUER (the issuer whose keys it holds)",
            ));
        }
        if let Some(audiences) = var("AUTHORIZER_AUDIENCE") {
            let audiences: Vec<String> = audiences
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect();
            for issuer in &mut self.issuers {
                issuer.audiences.clone_from(&audiences);
            }
        }
        if let Some(style) = var("AUTHORIZER_ERROR_STYLE") {
            let style = style
                .parse()
                .map_err(|e| ConfigFileError::at("AUTHORIZER_ERROR_STYLE", e))?;
            self.error_style = Some(style);
        }
        self.introspection_from_vars(&var)?;
        if let Some(identifier) = var("AUTHORIZER_RESOURCE") {
            self.resource.get_or_insert_with(ResourceConfig::default).identifier = identifier.to_owned();
        }
        Ok(self)
    }

    /// `AUTHORIZER_CLIENT_ID`, `AUTHORIZER_CLIENT_SECRET` and
    /// `AUTHORIZER_INTROSPECTION_URL`, over the one issuer's introspection.
    fn introspection_from_vars<'v>(&mut self, var: &impl Fn(&str) -> Option<&'v str>) -> Result<(), ConfigFileError> {
        let (id, secret, url) = (
            var("AUTHORIZER_CLIENT_ID"),
            var("AUTHORIZER_CLIENT_SECRET"),
            var("AUTHORIZER_INTROSPECTION_URL"),
        );
        if id.is_none() && secret.is_none() && url.is_none() {
            return Ok(());
        }
        let [issuer] = self.issuers.as_mut_slice() else {
            return Err(ConfigFileError::at(
                "AUTHORIZER_CLIENT_ID",
                "introspection from the environment needs exactly one issuer",
            ));
        };
        let mut introspection = issuer.introspection.take().unwrap_or_default();
        if let Some(id) = id {
            introspection.client_id = id.to_owned();
        }
        if let Some(secret) = secret {
            introspection.client_secret = secret.to_owned();
        }
        if let Some(url) = url {
            introspection.endpoint = Some(url.to_owned());
        }
        if introspection.client_id.is_empty() || introspection.client_secret.is_empty() {
            return Err(ConfigFileError::at(
                "AUTHORIZER_CLIENT_ID",
                "introspection needs both AUTHORIZER_CLIENT_ID and AUTHORIZER_CLIENT_SECRET",
            ));
        }
        issuer.introspection = Some(introspection);
        Ok(())
    }

    /// Checks the configuration and builds the [`Authenticator`] it describes.
    pub fn build(&self) -> Result<Authenticator, ConfigFileError> {
        if self.issuers.is_empty() {
            return Err(ConfigFileError::at("issuers", "at least one issuer is needed"));
        }
        let mut builder = Verifier::builder();
        for (index, issuer) in self.issuers.iter().enumerate() {
            builder = builder.issuer(issuer.build(&format!("issuers[{index}]"), self.resource.is_some())?);
        }
        if let Some(resource) = &self.resource {
            builder = builder.protected_resource(resource.build()?);
        }
        if let Some(algorithms) = &self.algorithms {
            builder = builder.algorithms(algorithms.iter().copied());
        }
        if let Some(secs) = self.leeway_secs {
            builder = builder.leeway(Duration::from_secs(secs));
        }
        if let Some(require) = self.require_exp {
            builder = builder.require_exp(require);
        }
        if let Some(typ) = &self.typ {
            builder = builder.typ(typ.clone());
        }
        if let Some(secs) = self.max_token_age_secs {
            builder = builder.max_token_age(Duration::from_secs(secs));
        }
        if let Some(capacity) = self.cache_capacity {
            builder = builder.cache_capacity(capacity);
        }
        if let Some(claim) = &self.id_claim {
            builder = builder.principal_mapping(PrincipalMapping::default().id_claim(claim.clone()));
        }
        let verifier = builder.build().map_err(|error| self.locate(error))?;
        let mut authenticator = Authenticator::new(verifier).error_style(self.error_style.unwrap_or_default());
        if let Some(credentials) = &self.credentials {
            authenticator = authenticator.credentials(credentials.build()?);
        }
        Ok(authenticator)
    }

    /// A verifier error with the entry it comes from.
    fn locate(&self, error: ConfigError) -> ConfigFileError {
        let issuer_named = |iss: &str| {
            self.issuers
                .iter()
                .position(|issuer| issuer.iss == iss)
                .map_or_else(|| "issuers".to_owned(), |index| format!("issuers[{index}]"))
        };
        let path = match &error {
            ConfigError::NoAlgorithm => "algorithms".to_owned(),
            ConfigError::DuplicateIssuer(iss) | ConfigError::NoUsableKey(iss) => issuer_named(iss),
            ConfigError::ProfileWithoutAudience(iss) => format!("{}.access_token_profile", issuer_named(iss)),
            #[cfg(feature = "remote-keys")]
            ConfigError::Url { iss, .. } => issuer_named(iss),
            _ => String::new(),
        };
        ConfigFileError::at(path, error)
    }
}

impl ResourceConfig {
    fn build(&self) -> Result<ProtectedResource, ConfigFileError> {
        let at = |key: &'static str| move |error: ResourceError| ConfigFileError::at(format!("resource.{key}"), error);
        let mut resource = ProtectedResource::new(&self.identifier)
            .map_err(at("identifier"))?
            .scopes_supported(self.scopes_supported.iter().cloned());
        if let Some(servers) = &self.authorization_servers {
            resource = resource.authorization_servers(servers.iter().cloned());
        }
        if let Some(name) = &self.name {
            resource = resource.name(name.clone());
        }
        if let Some(url) = &self.documentation {
            resource = resource.documentation(url).map_err(at("documentation"))?;
        }
        if let Some(url) = &self.policy_uri {
            resource = resource.policy_uri(url).map_err(at("policy_uri"))?;
        }
        if let Some(url) = &self.tos_uri {
            resource = resource.tos_uri(url).map_err(at("tos_uri"))?;
        }
        Ok(resource)
    }
}

impl IssuerConfig {
    /// `resource`: whether a protected resource supplies the audience when
    /// the issuer names none.
    fn build(&self, at: &str, resource: bool) -> Result<Issuer, ConfigFileError> {
        if self.audiences.is_empty() && !resource && accepts_many_tenants(&self.iss) {
            return Err(ConfigFileError::at(
                format!("{at}.audiences"),
                "an issuer that signs for many tenants needs an audience, or every tenant's tokens pass",
            ));
        }
        let sources = [
            self.discover == Some(true),
            self.jwks_url.is_some(),
            self.jwks_file.is_some(),
        ];
        if self.discover == Some(false) && self.jwks_url.is_none() && self.jwks_file.is_none() {
            return Err(ConfigFileError::at(
                format!("{at}.discover"),
                "`discover = false` needs `jwks_url` or `jwks_file`",
            ));
        }
        if sources.iter().filter(|set| **set).count() > 1 {
            return Err(ConfigFileError::at(
                at,
                "name one key source: `discover`, `jwks_url` or `jwks_file`",
            ));
        }
        let issuer = if let Some(file) = &self.jwks_file {
            if self.fetch.is_some() {
                return Err(ConfigFileError::at(format!("{at}.fetch"), "a key file is not fetched"));
            }
            let document = std::fs::read(file)
                .map_err(|e| ConfigFileError::at(format!("{at}.jwks_file"), format!("{file}: {e}")))?;
            let keys = KeySet::from_jwks(&document).map_err(|e| ConfigFileError::at(format!("{at}.jwks_file"), e))?;
            Issuer::static_keys(self.iss.clone(), keys)
        } else {
            self.remote(at)?
        };
        let issuer = issuer.audiences(self.audiences.iter().cloned());
        let issuer = match &self.introspection {
            Some(introspection) => introspection.apply(issuer, at)?,
            None => issuer,
        };
        Ok(if self.access_token_profile {
            issuer.access_token_profile()
        } else {
            issuer
        })
    }

    #[cfg(feature = "remote-keys")]
    fn remote(&self, _at: &str) -> Result<Issuer, ConfigFileError> {
        let issuer = match &self.jwks_url {
            Some(url) => Issuer::jwks(self.iss.clone(), url.clone()),
            None => Issuer::discover(self.iss.clone()),
        };
        Ok(issuer.fetch_policy(self.fetch.clone().unwrap_or_default().policy()))
    }

    #[cfg(not(feature = "remote-keys"))]
    fn remote(&self, at: &str) -> Result<Issuer, ConfigFileError> {
        Err(ConfigFileError::at(
            at,
            "keys by discovery or URL need the `remote-keys` feature; use `jwks_file`",
        ))
    }
}

impl IntrospectionConfig {
    #[cfg(feature = "remote-keys")]
    fn apply(&self, issuer: Issuer, _at: &str) -> Result<Issuer, ConfigFileError> {
        let mut introspection = crate::Introspection::new(self.client_id.clone(), self.client_secret.clone());
        if let Some(url) = &self.endpoint {
            introspection = introspection.endpoint(url.clone());
        }
        if let Some(secs) = self.max_cache_secs {
            introspection = introspection.max_cache_ttl(Duration::from_secs(secs));
        }
        if self.jwts {
            introspection = introspection.jwts_too();
        }
        Ok(issuer.introspection(introspection))
    }

    #[cfg(not(feature = "remote-keys"))]
    fn apply(&self, _: Issuer, at: &str) -> Result<Issuer, ConfigFileError> {
        Err(ConfigFileError::at(
            format!("{at}.introspection"),
            "introspection needs the `remote-keys` feature",
        ))
    }
}

#[cfg(feature = "remote-keys")]
impl FetchConfig {
    fn policy(&self) -> FetchPolicy {
        let default = FetchPolicy::default();
        let secs = |value: Option<u64>, default: Duration| value.map_or(default, Duration::from_secs);
        FetchPolicy {
            default_ttl: secs(self.default_ttl_secs, default.default_ttl),
            min_ttl: secs(self.min_ttl_secs, default.min_ttl),
            max_ttl: secs(self.max_ttl_secs, default.max_ttl),
            cooldown: secs(self.cooldown_secs, default.cooldown),
            timeout: secs(self.timeout_secs, default.timeout),
            max_body_bytes: self.max_body_bytes.unwrap_or(default.max_body_bytes),
            allow_plain_http: self.allow_plain_http.unwrap_or(default.allow_plain_http),
        }
    }
}

impl CredentialsConfig {
    fn build(&self) -> Result<Credentials, ConfigFileError> {
        let mut credentials = Credentials::default();
        if let Some(order) = &self.order {
            let locations = order
                .iter()
                .enumerate()
                .map(|(index, spec)| {
                    location(spec).map_err(|e| ConfigFileError::at(format!("credentials.order[{index}]"), e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            credentials = credentials.order(locations);
        }
        if let Some(max_len) = self.max_len {
            credentials = credentials.max_len(max_len);
        }
        if let Some(origins) = &self.allowed_origins {
            credentials = credentials.allowed_origins(origins.iter().cloned());
        }
        if let Some(accept) = self.accept_rid_header {
            credentials = credentials.accept_rid_header(accept);
        }
        Ok(credentials)
    }
}

/// `bearer`, `header:<name>`, `cookie:<name>`, `query:<name>` or
/// `websocket_protocol:<marker>`.
fn location(spec: &str) -> Result<Location, String> {
    let (kind, name) = spec.split_once(':').unwrap_or((spec, ""));
    let named = |what: &str| {
        if name.is_empty() {
            Err(format!("`{kind}` needs a {what}: `{kind}:<{what}>`"))
        } else {
            Ok(name.to_owned())
        }
    };
    match kind {
        "bearer" if name.is_empty() => Ok(Location::Bearer),
        "header" => {
            let name = named("name")?;
            http::HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
                .map(Location::Header)
                .map_err(|_| format!("`{name}` is not a header name"))
        }
        "cookie" => named("name").map(Location::Cookie),
        "query" => named("name").map(Location::Query),
        "websocket_protocol" => named("marker").map(Location::WebSocketProtocol),
        _ => Err(format!(
            "`{spec}` is not `bearer`, `header:<name>`, `cookie:<name>`, `query:<name>` or `websocket_protocol:<marker>`"
        )),
    }
}

/// Whether `iss` names an endpoint that signs for any tenant: Microsoft's
/// shared endpoints, or a template with a tenant placeholder.
fn accepts_many_tenants(iss: &str) -> bool {
    let lower = iss.to_ascii_lowercase();
    lower.contains('{')
        || ["/common/", "/organizations/", "/consumers/"]
            .iter()
            .any(|shared| lower.contains(shared) || lower.ends_with(shared.trim_end_matches('/')))
}

#[cfg(test)]
mod tests;
