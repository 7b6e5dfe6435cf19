//! The function behind a WebSocket API's routes, with the Lambda authorizer
//! (`examples/lambda_authorizer.rs`) on `$connect`.
//!
//! API Gateway runs the authorizer once, when a connection opens, and hands
//! its answer to every route of that connection in `requestContext.authorizer`.
//! This function reads the caller from there on `$connect`, `$default`,
//! `$disconnect` and custom routes alike, and checks per route what the gateway
//! cannot: the `admin` route (messages `{"action": "admin", ...}` under the
//! route selection expression `$request.body.action`) needs the `admin` role.
//!
//! It answers 200 with `{"route": ..., "id": ..., "source": ...}`; without a
//! caller (no authorizer on `$connect`, an anonymous or malformed authorizer
//! context) 401, and 403 with the failed checks, in the configured error
//! style. A non-2xx answer to `$connect` refuses the connection. A browser
//! that offered its token as a WebSocket protocol after `access_token`
//! (`new WebSocket(url, ["access_token", token])`, read by the authorizer with
//! `Location::WebSocketProtocol`) gets `access_token` as the chosen protocol
//! in the `$connect` answer: never the token, and without it the browser drops
//! the connection.
//!
//! Run it where a Lambda Runtime API is (`AWS_LAMBDA_RUNTIME_API`): deployed
//! behind a WebSocket API, or with `cargo test --all-features --test
//! integration lambda_e2e`, which serves one on 127.0.0.1 and feeds this binary
//! the events API Gateway sends, behind the authorizer's answers.
//!
//! Environment: `AUTHORIZER_ERROR_STYLE` (`supertokens`, the default, or `rfc6750`).

use authorizer::credential::DEFAULT_PROTOCOL_MARKER;
use authorizer::lambda::principal_from_websocket_event;
use authorizer::require::{Requirement, supertokens};
use authorizer::{Error, ErrorStyle, Principal};
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::json;

/// The route whose messages need the `admin` role.
const ADMIN_ROUTE: &str = "admin";

#[tokio::main]
async fn main() {
    let style = match std::env::var("AUTHORIZER_ERROR_STYLE") {
        Ok(style) if !style.trim().is_empty() => match style.parse::<ErrorStyle>() {
            Ok(style) => style,
            Err(error) => {
                eprintln!("configuration error: AUTHORIZER_ERROR_STYLE: {error}");
                std::process::exit(2);
            }
        },
        _ => ErrorStyle::SuperTokens,
    };
    let admin = supertokens::has_role("admin");
    let handler = service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
        let response = answer(&event.payload, &admin, style);
        async move { Ok::<_, lambda_runtime::Error>(response) }
    });
    if let Err(error) = lambda_runtime::run(handler).await {
        eprintln!("Lambda runtime: {error}");
        std::process::exit(1);
    }
}

fn answer(event: &ApiGatewayWebsocketProxyRequest, admin: &Requirement, style: ErrorStyle) -> ApiGatewayProxyResponse {
    let route = event.request_context.route_key.as_deref().unwrap_or_default();
    match caller(event, route, admin) {
        Ok(caller) => {
            let body = json!({"route": route, "id": caller.id(), "source": caller.source()});
            let mut response = response(200, body.to_string());
            if route == "$connect" && offers_marker(event) {
                response.headers.insert(
                    "sec-websocket-protocol",
                    http::HeaderValue::from_static(DEFAULT_PROTOCOL_MARKER),
                );
            }
            response
        }
        Err(error) => {
            let refusal = error.to_response(style);
            response(i64::from(refusal.status.as_u16()), refusal.body)
        }
    }
}

/// The caller the authorizer established, if the route admits it.
fn caller(event: &ApiGatewayWebsocketProxyRequest, route: &str, admin: &Requirement) -> Result<Principal, Error> {
    let caller = principal_from_websocket_event(event).unwrap_or(Err(Error::MissingCredential))?;
    if route == ADMIN_ROUTE {
        admin.evaluate(&caller).map_err(Error::Forbidden)?;
    }
    Ok(caller)
}

/// Whether the client offered the marker protocol (the token follows it).
fn offers_marker(event: &ApiGatewayWebsocketProxyRequest) -> bool {
    event
        .headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .any(|protocol| protocol.trim() == DEFAULT_PROTOCOL_MARKER)
}

fn response(status: i64, body: String) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.body = Some(body.into());
    response
}
