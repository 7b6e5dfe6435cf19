//! An OAuth 2.0 protected resource (RFC 9728): the identifier tokens must be
//! minted for, and the metadata document clients discover it by.
//!
//! Give a [`ProtectedResource`] to the [verifier](crate::VerifierBuilder::protected_resource)
//! and three things follow from one setting:
//!
//! - issuers configured without an audience accept only tokens whose `aud`
//!   names the resource (a token minted for another resource is a 401);
//! - every `WWW-Authenticate` challenge carries `resource_metadata="<url>"`
//!   (RFC 9728 §5.1), which is how MCP clients find the authorization server;
//! - [`Authenticator::resource_metadata`](crate::Authenticator::resource_metadata)
//!   is the document to serve at the well-known URL, with
//!   `authorization_servers` defaulting to the configured issuers and
//!   `bearer_methods_supported` to where credentials are read. The tower
//!   service [`MetadataService`](crate::tower::MetadataService) and actix-web's
//!   [`metadata_resource`](crate::actix::metadata_resource) serve it.
//!
//! ```
//! use authorizer::resource::ProtectedResource;
//! use authorizer::{Authenticator, Issuer, Verifier};
//! # use authorizer::testing::TestIssuer;
//! # let issuer = TestIssuer::new();
//!
//! let resource = ProtectedResource::new("https://api.example.com/mcp")?
//!     .scopes_supported(["mcp:tools", "mcp:admin"])
//!     .name("Example MCP server");
//! assert_eq!(
//!     resource.metadata_url(),
//!     "https://api.example.com/.well-known/oauth-protected-resource/mcp"
//! );
//! let verifier = Verifier::builder()
//!     .issuer(Issuer::static_keys(issuer.issuer(), issuer.key_set())) // no audience: the resource is
//!     .protected_resource(resource)
//!     .build()?;
//! let auth = Authenticator::new(verifier);
//! let metadata = auth.resource_metadata().expect("a resource is configured");
//! assert_eq!(metadata.path(), "/.well-known/oauth-protected-resource/mcp");
//! let document: serde_json::Value = serde_json::from_str(metadata.body())?;
//! assert_eq!(document["resource"], "https://api.example.com/mcp");
//! assert_eq!(document["authorization_servers"][0], issuer.issuer());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde_json::{Map, Value, json};

use crate::error::quotable_url;
use crate::routes::RouteTable;

/// The RFC 9728 well-known path segment.
const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// A protected resource: its identifier and what its metadata says beyond the
/// defaults. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedResource {
    identifier: String,
    /// Where the path starts in `identifier` (after scheme and authority).
    path_start: usize,
    authorization_servers: Vec<String>,
    scopes: Vec<String>,
    name: Option<String>,
    documentation: Option<String>,
    policy_uri: Option<String>,
    tos_uri: Option<String>,
}

/// Why a resource identifier or a metadata URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// Not an absolute `https` URL (`http` only on a loopback host), or one
    /// with user information, a query or a fragment (RFC 9728 §1.2).
    #[error("{0:?} is not a resource identifier: an https URL (http only on loopback) without user, query or fragment")]
    Identifier(String),
    /// A metadata member that must be a URL is not an absolute http(s) URL
    /// of visible ASCII.
    #[error("{0:?} is not an absolute http(s) URL")]
    Url(String),
}

impl ProtectedResource {
    /// A resource identified by `identifier`: an `https` URL (or `http` on
    /// 127.0.0.1, `[::1]` or `localhost`, for development) with no user
    /// information, query or fragment.
    pub fn new(identifier: &str) -> Result<Self, ResourceError> {
        let refused = || ResourceError::Identifier(identifier.to_owned());
        quotable_url(identifier).map_err(|_| refused())?;
        let (scheme, rest) = identifier.split_once("://").ok_or_else(refused)?;
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let host = host_of(authority).ok_or_else(refused)?;
        let secure = scheme == "https" || (scheme == "http" && is_loopback(host));
        let path = &rest[authority_end..];
        if !secure || identifier.contains(['?', '#']) || has_dot_segment(path) {
            return Err(refused());
        }
        Ok(ProtectedResource {
            identifier: identifier.to_owned(),
            path_start: scheme.len() + 3 + authority_end,
            authorization_servers: Vec::new(),
            scopes: Vec::new(),
            name: None,
            documentation: None,
            policy_uri: None,
            tos_uri: None,
        })
    }

    /// The identifier: the audience tokens must name.
    pub fn identifier(&self) -> &str {
        &self.identifier
    }

    /// The authorization servers to list (default: the `iss` of every
    /// configured issuer).
    pub fn authorization_servers<S: Into<String>>(mut self, servers: impl IntoIterator<Item = S>) -> Self {
        self.authorization_servers = servers.into_iter().map(Into::into).collect();
        self
    }

    /// Scopes to list in `scopes_supported` (added to any already listed).
    pub fn scopes_supported<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        for scope in scopes.into_iter().map(Into::into) {
            if !self.scopes.contains(&scope) {
                self.scopes.push(scope);
            }
        }
        self
    }

    /// Lists every scope a route table's requirements name.
    pub fn scopes_from(self, table: &RouteTable) -> Self {
        self.scopes_supported(table.scopes())
    }

    /// A human-readable name (`resource_name`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Documentation for developers (`resource_documentation`).
    pub fn documentation(self, url: &str) -> Result<Self, ResourceError> {
        let url = checked_url(url)?;
        Ok(ProtectedResource {
            documentation: Some(url),
            ..self
        })
    }

    /// The policy on how clients may use data (`resource_policy_uri`).
    pub fn policy_uri(self, url: &str) -> Result<Self, ResourceError> {
        let url = checked_url(url)?;
        Ok(ProtectedResource {
            policy_uri: Some(url),
            ..self
        })
    }

    /// The terms of service (`resource_tos_uri`).
    pub fn tos_uri(self, url: &str) -> Result<Self, ResourceError> {
        let url = checked_url(url)?;
        Ok(ProtectedResource {
            tos_uri: Some(url),
            ..self
        })
    }

    /// Where the metadata is served: the well-known path inserted between
    /// the host and the identifier's path (RFC 9728 §3.1).
    pub fn metadata_url(&self) -> String {
        format!("{}{}", &self.identifier[..self.path_start], self.metadata_path())
    }

    /// The path part of [`metadata_url`](ProtectedResource::metadata_url):
    /// the route to serve the document on.
    pub fn metadata_path(&self) -> String {
        let path = self.identifier[self.path_start..].trim_end_matches('/');
        format!("{WELL_KNOWN}{path}")
    }

    /// The metadata document. `issuers` and `bearer_methods` fill the
    /// members this resource does not set itself.
    pub(crate) fn document(&self, issuers: &[&str], bearer_methods: &[&str], extra: Map<String, Value>) -> Value {
        let servers: Vec<&str> = if self.authorization_servers.is_empty() {
            issuers.to_vec()
        } else {
            self.authorization_servers.iter().map(String::as_str).collect()
        };
        let mut document = json!({
            "resource": self.identifier,
            "authorization_servers": servers,
            "bearer_methods_supported": bearer_methods,
        });
        let members = [
            ("resource_name", &self.name),
            ("resource_documentation", &self.documentation),
            ("resource_policy_uri", &self.policy_uri),
            ("resource_tos_uri", &self.tos_uri),
        ];
        for (member, value) in members {
            if let Some(value) = value {
                document[member] = Value::from(value.as_str());
            }
        }
        if !self.scopes.is_empty() {
            document["scopes_supported"] = Value::from(self.scopes.clone());
        }
        if let Value::Object(members) = &mut document {
            members.extend(extra);
        }
        document
    }
}

/// The metadata document of a configured resource, ready to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMetadata {
    path: String,
    url: String,
    body: String,
}

impl ResourceMetadata {
    pub(crate) fn new(resource: &ProtectedResource, document: &Value) -> Self {
        ResourceMetadata {
            path: resource.metadata_path(),
            url: resource.metadata_url(),
            body: document.to_string(),
        }
    }

    /// The path to serve it on (`/.well-known/oauth-protected-resource/...`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The absolute URL challenges point to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The JSON document (`application/json`).
    pub fn body(&self) -> &str {
        &self.body
    }
}

fn checked_url(url: &str) -> Result<String, ResourceError> {
    quotable_url(url)
        .map(str::to_owned)
        .map_err(|_| ResourceError::Url(url.to_owned()))
}

/// The host of an authority (`host`, `host:port`, `[v6]:port`), if well
/// formed: a DNS name or IPv4 address, or an IPv6 address in brackets, then
/// at most a numeric port. No user information.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        (host, after.strip_prefix(':').map_or(after, |port| port))
    } else {
        let (host, port) = authority.split_once(':').unwrap_or((authority, ""));
        let name = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
        if !host.bytes().all(name) || host.starts_with('.') || host.contains("..") {
            return None;
        }
        (host, port)
    };
    let port_ok = port.is_empty() || (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    (!host.is_empty() && port_ok).then_some(host)
}

/// `.` or `..` as a path segment (percent-encoded too): the well-known path
/// built from it would climb out of `/.well-known/oauth-protected-resource`.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::require::{all, any, scope};
    use crate::routes::RouteRule;

    #[test]
    fn the_well_known_path_is_inserted_after_the_host() {
        let cases = [
            (
                "https://api.example.com",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://api.example.com/",
                "https://api.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://api.example.com:8443/mcp",
                "https://api.example.com:8443/.well-known/oauth-protected-resource/mcp",
            ),
            (
                "https://api.example.com/v1/mcp/",
                "https://api.example.com/.well-known/oauth-protected-resource/v1/mcp",
            ),
            (
                "http://127.0.0.1:3000/mcp",
                "http://127.0.0.1:3000/.well-known/oauth-protected-resource/mcp",
            ),
            (
                "http://[::1]:3000",
                "http://[::1]:3000/.well-known/oauth-protected-resource",
            ),
        ];
        for (identifier, url) in cases {
            assert_eq!(ProtectedResource::new(identifier).unwrap().metadata_url(), url);
        }
    }

    #[test]
    fn identifiers_that_rfc_9728_forbids_are_refused() {
        for bad in [
            "api.example.com/mcp",
            "http://api.example.com/mcp",
            "http://10.0.0.1/mcp",
            "https://user@api.example.com/mcp",
            "https://api.example.com/mcp?tenant=1",
            "https://api.example.com/mcp#top",
            "https://api.example.com/m\"cp",
            "https:///mcp",
            "https://[::1/mcp",
            "ftp://api.example.com",
            "http://[::1].evil.com/mcp",
            "http://[::1]x/",
            "https://api.example.com:abc/mcp",
            "https://api.example.com:123456/mcp",
            "https://api.example.com/../mcp",
            "https://api.example.com/a/%2E%2e/mcp",
            "https://api.example.com/./mcp",
            "https://api..example.com/mcp",
            "https://api_example.com/mcp",
        ] {
            assert!(ProtectedResource::new(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn the_document_fills_defaults_and_keeps_what_was_set() {
        let table = RouteTable::new()
            .route(
                "GET /a",
                RouteRule::require(all([scope("read"), any([scope("write"), scope("read")])])),
            )
            .unwrap()
            .fallback(RouteRule::require(scope("admin")));
        let resource = ProtectedResource::new("https://api.example.com/mcp")
            .unwrap()
            .scopes_from(&table)
            .documentation("https://docs.example.com")
            .unwrap();
        let document = resource.document(&["https://issuer.example.com"], &["header"], Map::new());
        assert_eq!(
            document,
            json!({
                "resource": "https://api.example.com/mcp",
                "authorization_servers": ["https://issuer.example.com"],
                "bearer_methods_supported": ["header"],
                "scopes_supported": ["read", "write", "admin"],
                "resource_documentation": "https://docs.example.com",
            })
        );
        let chosen = resource.authorization_servers(["https://login.example.com"]);
        assert_eq!(
            chosen.document(&["ignored"], &[], Map::new())["authorization_servers"],
            json!(["https://login.example.com"])
        );
        assert!(
            ProtectedResource::new("https://a")
                .unwrap()
                .tos_uri("not a url")
                .is_err()
        );
    }
}
