//! An MCP server (Streamable HTTP, on `rmcp`) protected as the MCP
//! authorization specification asks, with an in-process test issuer.
//!
//! ```sh
//! cargo run --example mcp
//! ```
//!
//! Serves on 127.0.0.1:3000:
//!
//! | route | what |
//! | --- | --- |
//! | `/.well-known/oauth-protected-resource/mcp` | the RFC 9728 metadata (no token needed) |
//! | `/mcp` | the MCP endpoint: every request needs the scope `mcp:tools` |
//!
//! Tools: `whoami` answers the caller's principal id; `admin_whoami` also
//! needs `mcp:admin`. A call without it is refused as the MCP specification's
//! scope step-up describes: HTTP 403 with `WWW-Authenticate: Bearer
//! error="insufficient_scope", scope="mcp:admin", resource_metadata="..."`,
//! so the client can ask for the scope and retry. Every 401 points to the
//! metadata, and a token minted for another resource (another `aud`) is a 401.
//!
//! Environment: the quickstart's (`PORT`, `AUTHORIZER_ISSUER`,
//! `AUTHORIZER_JWKS_URL`, `AUTHORIZER_AUDIENCE`, `AUTHORIZER_ERROR_STYLE`,
//! default `rfc6750` here) and `AUTHORIZER_RESOURCE`, the resource
//! identifier (default `http://127.0.0.1:$PORT/mcp`). Without
//! `AUTHORIZER_ISSUER` it starts a test issuer and prints how to call it.

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use authorizer::pipeline::Authentication;
use authorizer::require::{Requirement, scope};
use authorizer::testing::TestIssuer;
use authorizer::tower::{AuthLayer, MetadataService, RequireLayer};
use authorizer::{Authenticator, ErrorStyle, Principal};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use serde_json::Value;

/// Every request to `/mcp` needs it.
pub const TOOLS_SCOPE: &str = "mcp:tools";
/// `admin_whoami` needs it too.
pub const ADMIN_SCOPE: &str = "mcp:admin";
/// Where the MCP endpoint is served.
pub const MCP_PATH: &str = "/mcp";

/// A JSON-RPC request body larger than this is refused before it is read.
const MAX_BODY: usize = 1 << 20;

/// The tools. The layers in front have authenticated the caller; each tool
/// reads the principal from the HTTP request rmcp hands over.
#[derive(Clone, Default)]
pub struct Tools;

#[tool_router]
impl Tools {
    #[tool(description = "Who is calling: the principal id of the access token")]
    fn whoami(&self, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        let caller = caller(&context, None)?;
        Ok(CallToolResult::success(vec![ContentBlock::text(caller.id())]))
    }

    #[tool(description = "Who is calling, for administrators (needs the mcp:admin scope)")]
    fn admin_whoami(&self, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        let caller = caller(&context, Some(ADMIN_SCOPE))?;
        Ok(CallToolResult::success(vec![ContentBlock::text(caller.id())]))
    }
}

#[tool_handler]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// The caller the layers recorded. The scope was checked over HTTP already
/// (see [`guard`]); checking it here again keeps a tool safe if the
/// router is ever mounted without that layer.
fn caller(context: &RequestContext<RoleServer>, needs: Option<&str>) -> Result<Principal, ErrorData> {
    let parts = context
        .extensions
        .get::<http::request::Parts>()
        .ok_or_else(|| ErrorData::internal_error("not served over HTTP", None))?;
    let refused = |_| ErrorData::invalid_request("forbidden: the access token does not allow this tool", None);
    let principal = match needs {
        Some(name) => Authentication::authorize(&parts.extensions, &scope(name)).map_err(refused)?,
        None => Authentication::required_principal(&parts.extensions).map_err(refused)?,
    };
    Ok(principal.clone())
}

/// The scope each tool needs beyond [`TOOLS_SCOPE`].
fn tool_requirement(tool: &str) -> Option<Requirement> {
    (tool == "admin_whoami").then(|| scope(ADMIN_SCOPE))
}

/// Which principal opened each MCP session (`Mcp-Session-Id`).
#[derive(Clone, Default)]
pub struct SessionOwners(Arc<Mutex<HashMap<String, String>>>);

const SESSION_HEADER: &str = "mcp-session-id";

/// In front of rmcp, after authentication:
///
/// - a session belongs to the principal that opened it: a request with another
///   caller's `Mcp-Session-Id` is answered 404, as an unknown session (a
///   session id is no credential, as the MCP security guidance says);
/// - a `tools/call` whose tool needs a scope the token lacks gets the HTTP
///   403 `insufficient_scope` challenge the MCP specification asks for,
///   before rmcp answers it inside a 200 stream.
async fn guard(State(owners): State<SessionOwners>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let caller = match Authentication::required_principal(&parts.extensions) {
        Ok(principal) => principal.id().to_owned(),
        Err(rejection) => return rejection.into_response(),
    };
    if let Some(session) = parts.headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()) {
        let owner = owners.0.lock().unwrap_or_else(|e| e.into_inner()).get(session).cloned();
        if owner.is_some_and(|owner| owner != caller) {
            return (http::StatusCode::NOT_FOUND, "unknown session").into_response();
        }
    }
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(error) if is_too_large(&error) => {
            return (http::StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
        }
        Err(_) => return (http::StatusCode::BAD_REQUEST, "unreadable request body").into_response(),
    };
    for tool in called_tools(&bytes) {
        if let Some(requirement) = tool_requirement(&tool)
            && let Err(rejection) = Authentication::authorize(&parts.extensions, &requirement)
        {
            return rejection.into_response();
        }
    }
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if let Some(session) = response.headers().get(SESSION_HEADER).and_then(|v| v.to_str().ok()) {
        let mut owners = owners.0.lock().unwrap_or_else(|e| e.into_inner());
        owners.entry(session.to_owned()).or_insert(caller);
    }
    response
}

fn is_too_large(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = current.source();
    }
    false
}

/// The tools a JSON-RPC message (or batch) calls. A body that is not JSON
/// calls none here; rmcp answers it with its own error.
fn called_tools(body: &Bytes) -> Vec<String> {
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let messages = match message {
        Value::Array(batch) => batch,
        single => vec![single],
    };
    messages
        .iter()
        .filter(|m| m["method"] == "tools/call")
        .filter_map(|m| m["params"]["name"].as_str().map(str::to_owned))
        .collect()
}

/// The MCP endpoint behind the layers, and the metadata beside it.
pub fn app(auth: Authenticator) -> Router {
    let metadata = auth
        .resource_metadata()
        .expect("the MCP demo's verifier guards a protected resource");
    let mcp = StreamableHttpService::new(
        || Ok(Tools),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let protected = Router::new()
        .nest_service(MCP_PATH, mcp)
        .route_layer(from_fn_with_state(SessionOwners::default(), guard))
        .route_layer(RequireLayer::new(scope(TOOLS_SCOPE)))
        .route_layer(AuthLayer::required(auth));
    Router::new()
        .route_service(metadata.path(), MetadataService::new(&metadata))
        .merge(protected)
}

/// The demo's configuration from the environment.
pub async fn demo() -> Result<support::Demo, String> {
    let mut demo = support::resource_from_env(3000, MCP_PATH, |resource| {
        resource
            .scopes_supported([TOOLS_SCOPE, ADMIN_SCOPE])
            .name("authorizer MCP demo")
    })
    .await?;
    if std::env::var_os("AUTHORIZER_ERROR_STYLE").is_none() {
        demo.authenticator = demo.authenticator.error_style(ErrorStyle::Rfc6750);
    }
    Ok(demo)
}

/// Tokens for the resource: with `mcp:tools`, with both scopes, and for
/// another resource. Valid for 24 hours.
pub struct McpTokens {
    pub tools: String,
    pub admin: String,
    pub other_resource: String,
}

pub fn tokens(issuer: &TestIssuer, resource: &str) -> McpTokens {
    let token = |aud: &str, scopes: &str, sub: &str| {
        issuer
            .token()
            .subject(sub)
            .claim("aud", Value::from(aud))
            .claim("scope", Value::from(scopes))
            .expires_in(24 * 3600)
            .sign()
    };
    McpTokens {
        tools: token(resource, TOOLS_SCOPE, "user-1"),
        admin: token(resource, &format!("{TOOLS_SCOPE} {ADMIN_SCOPE}"), "admin-1"),
        other_resource: token("https://other.example.com/mcp", TOOLS_SCOPE, "user-1"),
    }
}

#[tokio::main]
async fn main() {
    let demo = match demo().await {
        Ok(demo) => demo,
        Err(error) => {
            eprintln!("configuration error: {error}");
            std::process::exit(2);
        }
    };
    let metadata = demo
        .authenticator
        .resource_metadata()
        .expect("a resource is configured");
    let resource: Value = serde_json::from_str(metadata.body()).expect("the metadata is JSON");
    let resource = resource["resource"].as_str().unwrap_or_default().to_owned();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", demo.port))
        .await
        .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{}: {e}", demo.port));
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    println!("MCP server on {base}{MCP_PATH} (resource {resource})");
    println!("metadata: curl {base}{}", metadata.path());
    if let Some(issuer) = &demo.test_issuer {
        let tokens = tokens(issuer, &resource);
        println!("test issuer: {} (tokens valid for 24 hours)\n", issuer.issuer());
        println!("# 401 pointing to the metadata:");
        println!("curl -i -X POST {base}{MCP_PATH}");
        let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}"#;
        println!("\n# initialize a session with the mcp:tools token (note the mcp-session-id header):");
        println!(
            "curl -i -X POST {base}{MCP_PATH} -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '{initialize}'",
            tokens.tools
        );
        println!("\nmcp:tools token: {}", tokens.tools);
        println!("mcp:tools + mcp:admin token: {}", tokens.admin);
        println!("token for another resource (401): {}", tokens.other_resource);
        println!(
            "\nAn MCP client (MCP Inspector, `npx @modelcontextprotocol/inspector`) connects to {base}{MCP_PATH} with one of these as the bearer token."
        );
    }
    axum::serve(listener, app(demo.authenticator))
        .await
        .expect("server runs");
}
