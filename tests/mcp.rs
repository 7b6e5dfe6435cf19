//! The MCP demo (`examples/mcp.rs`, compiled whole) with real MCP client
//! sessions (rmcp's Streamable HTTP client) on 127.0.0.1: the tools answer the
//! caller, `admin_whoami` is refused with the scope step-up challenge, and a
//! client without a token (or with one for another resource) is pointed to
//! the metadata that says how to get one.

#![cfg(all(feature = "axum", feature = "testing"))]

use authorizer::resource::ProtectedResource;
use authorizer::testing::TestIssuer;
use authorizer::{Authenticator, ErrorStyle, Issuer, Verifier};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{InsufficientScopeError, StreamableHttpClientTransportConfig};
use serde_json::{Value, json};

use crate::common::client;
use crate::mcp_example::{self, ADMIN_SCOPE, MCP_PATH, McpTokens, TOOLS_SCOPE};

struct Demo {
    base: String,
    resource: String,
    issuer: TestIssuer,
    tokens: McpTokens,
}

impl Demo {
    fn metadata_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource/mcp", self.base)
    }
}

/// The demo as `cargo run --example mcp` serves it, on a free port, with its
/// resource named after that port.
async fn serve_demo() -> Demo {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let resource = format!("{base}{MCP_PATH}");
    let issuer = TestIssuer::new();
    let verifier = Verifier::builder()
        .issuer(Issuer::static_keys(issuer.issuer(), issuer.key_set()))
        .protected_resource(
            ProtectedResource::new(&resource)
                .unwrap()
                .scopes_supported([TOOLS_SCOPE, ADMIN_SCOPE]),
        )
        .build()
        .unwrap();
    let auth = Authenticator::new(verifier).error_style(ErrorStyle::Rfc6750);
    let app = mcp_example::app(auth);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let tokens = mcp_example::tokens(&issuer, &resource);
    Demo {
        base,
        resource,
        issuer,
        tokens,
    }
}

fn transport(demo: &Demo, token: Option<&str>) -> StreamableHttpClientTransport<reqwest::Client> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(format!("{}{MCP_PATH}", demo.base));
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    StreamableHttpClientTransport::with_client(client(), config)
}

async fn session(demo: &Demo, token: &str) -> RunningService<RoleClient, ClientConfig> {
    ClientConfig::default()
        .serve(transport(demo, Some(token)))
        .await
        .expect("an MCP session starts with a token for this resource")
}

async fn call(session: &RunningService<RoleClient, ClientConfig>, tool: &str) -> Result<String, rmcp::ServiceError> {
    let result = session.call_tool(CallToolRequestParams::new(tool.to_owned())).await?;
    let text = result.content[0]
        .as_text()
        .map(|text| text.text.clone())
        .expect("the tools answer text");
    Ok(text)
}

/// The `insufficient_scope` challenge somewhere in an error's sources.
fn insufficient_scope<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e InsufficientScopeError> {
    let mut source = Some(error);
    while let Some(current) = source {
        if let Some(found) = current.downcast_ref::<InsufficientScopeError>() {
            return Some(found);
        }
        source = current.source();
    }
    None
}

#[tokio::test]
async fn a_session_calls_whoami_and_admin_whoami_needs_the_admin_scope() {
    let demo = serve_demo().await;
    let user = session(&demo, &demo.tokens.tools).await;
    let tools = user.list_all_tools().await.expect("tools are listed");
    let mut names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(names, ["admin_whoami", "whoami"]);
    assert_eq!(call(&user, "whoami").await.unwrap(), "user-1");

    let refused = call(&user, "admin_whoami")
        .await
        .expect_err("admin_whoami needs mcp:admin");
    let challenge =
        insufficient_scope(&refused).unwrap_or_else(|| panic!("not refused with a 403 scope challenge: {refused:?}"));
    assert_eq!(
        challenge.www_authenticate_header,
        format!(
            r#"Bearer error="insufficient_scope", scope="{ADMIN_SCOPE}", resource_metadata="{}""#,
            demo.metadata_url()
        )
    );
    assert_eq!(challenge.get_required_scope(), Some(ADMIN_SCOPE));
    user.cancel().await.unwrap();

    let admin = session(&demo, &demo.tokens.admin).await;
    assert_eq!(call(&admin, "admin_whoami").await.unwrap(), "admin-1");
    assert_eq!(call(&admin, "whoami").await.unwrap(), "admin-1");
    admin.cancel().await.unwrap();
}

#[tokio::test]
async fn a_session_belongs_to_the_principal_that_opened_it() {
    let demo = serve_demo().await;
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}});
    let post = |token: &str, session: Option<&str>, body: &Value| {
        let mut request = client()
            .post(format!("{}{MCP_PATH}", demo.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .json(body);
        if let Some(session) = session {
            request = request.header("mcp-session-id", session);
        }
        request.send()
    };
    let opened = post(&demo.tokens.tools, None, &initialize).await.unwrap();
    assert_eq!(opened.status(), 200);
    let session = opened.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let stolen = post(&demo.tokens.admin, Some(&session), &list).await.unwrap();
    assert_eq!(stolen.status(), 404, "another caller's session is unknown to them");
    let own = post(&demo.tokens.tools, Some(&session), &list).await.unwrap();
    assert_ne!(own.status(), 404, "the owner keeps their session");
}

#[tokio::test]
async fn a_client_without_a_fitting_token_is_pointed_to_the_metadata() {
    let demo = serve_demo().await;
    let metadata = demo.metadata_url();

    let refused = ClientConfig::default()
        .serve(transport(&demo, None))
        .await
        .expect_err("no token, no session");
    assert_eq!(
        refused.auth_challenge(),
        Some(format!(r#"Bearer resource_metadata="{metadata}""#).as_str())
    );

    let foreign = ClientConfig::default()
        .serve(transport(&demo, Some(&demo.tokens.other_resource)))
        .await
        .expect_err("a token minted for another resource");
    let challenge = foreign.auth_challenge().expect("a 401 challenge");
    assert!(challenge.starts_with(r#"Bearer error="invalid_token""#), "{challenge}");
    assert!(
        challenge.ends_with(&format!(r#"resource_metadata="{metadata}""#)),
        "{challenge}"
    );

    let no_tools = demo
        .issuer
        .token()
        .claim("aud", json!(demo.resource))
        .claim("scope", json!("profile"))
        .sign();
    let refused = ClientConfig::default()
        .serve(transport(&demo, Some(&no_tools)))
        .await
        .expect_err("every request to /mcp needs mcp:tools");
    assert_eq!(
        refused.auth_challenge(),
        Some(
            format!(r#"Bearer error="insufficient_scope", scope="{TOOLS_SCOPE}", resource_metadata="{metadata}""#)
                .as_str()
        )
    );

    let document: Value = client().get(&metadata).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        document,
        json!({
            "resource": demo.resource,
            "authorization_servers": [demo.issuer.issuer()],
            "bearer_methods_supported": ["header"],
            "scopes_supported": [TOOLS_SCOPE, ADMIN_SCOPE],
        })
    );
}

#[tokio::test]
async fn a_tool_call_that_is_not_json_or_too_large_is_refused_without_a_panic() {
    let demo = serve_demo().await;
    let url = format!("{}{MCP_PATH}", demo.base);
    let send = |body: Vec<u8>| {
        client()
            .post(&url)
            .bearer_auth(&demo.tokens.tools)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
            .send()
    };
    let huge = send(vec![b' '; 2 << 20]).await.unwrap();
    assert_eq!(huge.status(), 413);
    let junk = send(b"{\"method\": \"tools/call\", \"params\": ".to_vec())
        .await
        .unwrap();
    assert!(junk.status().is_client_error(), "{}", junk.status());
    // A batch that hides the admin tool among others is still refused.
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami"}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "admin_whoami"}},
    ]);
    let hidden = send(batch.to_string().into_bytes()).await.unwrap();
    assert_eq!(hidden.status(), 403);
}
