//! WebSocket handshakes through the same layers: the quickstart's `/ws`
//! (axum, `AuthLayer`) and the actix example's (`AuthMiddleware`), served on
//! 127.0.0.1 and called by a real WebSocket client (tokio-tungstenite).

#![cfg(all(feature = "actix-web", feature = "axum", feature = "testing"))]

use authorizer::credential::{Credentials, Location};
use authorizer::testing::TestIssuer;
use authorizer::tower::AuthLayer;
use authorizer::{Authenticator, Principal};
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::{Request, Response};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::{client, demo_app, serve};
use crate::parity::serve_actix;
use crate::support::CLOSE_CREDENTIAL_EXPIRED;

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// The quickstart (axum) and the actix example, both with `issuer`'s keys:
/// their HTTP base URLs, each with a name for failure messages.
async fn both_servers(issuer: &TestIssuer) -> Vec<(&'static str, String)> {
    let auth = || Authenticator::new(issuer.verifier());
    let axum = serve(demo_app(auth())).await;
    let (actix, handle) = serve_actix(auth()).await;
    // The actix server stops with the test process.
    std::mem::forget(handle);
    vec![("axum", axum), ("actix", actix)]
}

fn handshake(base: &str, path: &str, headers: &[(&str, &str)]) -> Request {
    let url = format!("{}{path}", base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request
            .headers_mut()
            .append(name, value.parse().expect("a valid header value"));
    }
    request
}

async fn open(request: Request) -> Result<(Socket, Response), tungstenite::Error> {
    tokio_tungstenite::connect_async(request).await
}

/// The refusal's status and body: the handshake must never have succeeded.
async fn refused(request: Request) -> (u16, String) {
    match open(request).await {
        Ok((_, response)) => panic!("upgraded, with status {}", response.status()),
        Err(tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            (response.status().as_u16(), body.into_owned())
        }
        Err(other) => panic!("no HTTP answer: {other}"),
    }
}

async fn next_text(socket: &mut Socket) -> String {
    loop {
        match socket.next().await.expect("the socket is open").expect("a frame") {
            Message::Text(text) => return text.to_string(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

/// What `GET /me` answers for `token`: the principal the socket must greet with.
async fn me(base: &str, token: &str) -> Value {
    let response = client()
        .get(format!("{base}/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_session_opens_the_socket_from_a_header_a_cookie_or_the_protocol_list() {
    let issuer = TestIssuer::start().await;
    let token = issuer
        .token()
        .subject("user-ws")
        .claim("scope", "read:items".into())
        .sign();
    for (server, base) in both_servers(&issuer).await {
        let expected = me(&base, &token).await;
        let bearer = format!("Bearer {token}");
        let cookie = format!("sAccessToken={token}");
        let offered = format!("chat, access_token, {token}");
        let ways: [(&str, Vec<(&str, &str)>); 4] = [
            ("bearer", vec![("authorization", &bearer)]),
            ("header", vec![("st-access-token", &token)]),
            ("cookie", vec![("cookie", &cookie), ("rid", "session")]),
            ("websocket_protocol", vec![("sec-websocket-protocol", &offered)]),
        ];
        for (way, headers) in ways {
            let mut expected = expected.clone();
            expected["source"] = way.into();
            let (mut socket, response) = open(handshake(&base, "/ws", &headers))
                .await
                .unwrap_or_else(|e| panic!("{server}, {way}: {e}"));
            let chosen = response.headers().get("sec-websocket-protocol");
            if way == "websocket_protocol" {
                assert_eq!(
                    chosen.map(|v| v.to_str().unwrap()),
                    Some("access_token"),
                    "{server}: the marker is chosen, never the token"
                );
            }
            let all_headers = format!("{:?}", response.headers());
            assert!(!all_headers.contains(&token), "{server}, {way}: the token is echoed");

            let greeting: Value = serde_json::from_str(&next_text(&mut socket).await).unwrap();
            assert_eq!(greeting, expected, "{server}, {way}: the greeting is the /me shape");
            socket.send(Message::text("hello")).await.unwrap();
            assert_eq!(next_text(&mut socket).await, "hello", "{server}, {way}: echo");
            socket.close(None).await.unwrap();
        }
    }
}

/// A refused handshake: what it is, its headers, and the status expected.
type Case<'a> = (&'static str, Vec<(&'static str, &'a str)>, u16);

#[tokio::test]
async fn bad_handshakes_are_refused_before_the_upgrade() {
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("user-ws").sign();
    let other = issuer.token().subject("someone-else").sign();
    let expired = issuer.token().expires_in(-3600).sign();
    for (server, base) in both_servers(&issuer).await {
        let bearer = format!("Bearer {token}");
        let cookie = format!("sAccessToken={token}");
        let in_protocol = format!("access_token, {token}");
        let two_tokens = format!("access_token, {token}, access_token, {other}");
        let expired_protocol = format!("access_token, {expired}");
        let oversized = format!("{}, access_token, {token}", vec!["p"; 40].join(", "));
        let cases: [Case; 10] = [
            ("no credential", vec![], 401),
            ("a junk bearer", vec![("authorization", "Bearer junk")], 401),
            (
                "an expired token",
                vec![("sec-websocket-protocol", &expired_protocol)],
                401,
            ),
            ("a cookie without proof", vec![("cookie", &cookie)], 403),
            (
                "a cookie from a foreign page (cross-site WebSocket hijacking)",
                vec![("cookie", &cookie), ("origin", "https://evil.example.com")],
                403,
            ),
            (
                "a token in the header and in the protocol list",
                vec![("authorization", &bearer), ("sec-websocket-protocol", &in_protocol)],
                401,
            ),
            (
                "a cookie beside a protocol token",
                vec![("cookie", &cookie), ("sec-websocket-protocol", &in_protocol)],
                401,
            ),
            (
                "two tokens in the protocol list",
                vec![("sec-websocket-protocol", &two_tokens)],
                401,
            ),
            (
                "a marker with no token",
                vec![("sec-websocket-protocol", "chat, access_token")],
                401,
            ),
            (
                "an oversized protocol list",
                vec![("sec-websocket-protocol", &oversized)],
                401,
            ),
        ];
        for (case, headers, status) in cases {
            let (got, body) = refused(handshake(&base, "/ws", &headers)).await;
            assert_eq!(got, status, "{server}: {case}: {body}");
            for secret in [&token, &other, &expired] {
                assert!(
                    !body.contains(secret.as_str()),
                    "{server}: {case}: the body holds a token"
                );
            }
        }
        // The server keeps serving.
        assert_eq!(me(&base, &token).await["id"], "user-ws", "{server}");
    }
}

#[tokio::test]
async fn the_socket_closes_with_4401_when_the_credential_expires() {
    let issuer = TestIssuer::start().await;
    for (server, base) in both_servers(&issuer).await {
        let token = issuer.token().subject("short-lived").expires_in(2).sign();
        let bearer = format!("Bearer {token}");
        let (mut socket, _) = open(handshake(&base, "/ws", &[("authorization", &bearer)]))
            .await
            .unwrap();
        let greeting: Value = serde_json::from_str(&next_text(&mut socket).await).unwrap();
        assert_eq!(greeting["id"], "short-lived", "{server}");
        // Nothing is sent after the greeting: the next frame is the close.
        let close = loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("{server}: expected a close frame, got {other:?}"),
            }
        };
        let frame = close.unwrap_or_else(|| panic!("{server}: a close frame without a code"));
        assert_eq!(u16::from(frame.code), CLOSE_CREDENTIAL_EXPIRED, "{server}");
        assert_eq!(frame.reason.as_str(), "credential expired", "{server}");
    }
}

/// The `Sec-WebSocket-Protocol` header as the handler sees it.
async fn protocols_seen(headers: HeaderMap) -> String {
    headers
        .get_all("sec-websocket-protocol")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[tokio::test]
async fn handlers_never_see_the_protocol_token() {
    let issuer = TestIssuer::start().await;
    let token = issuer.token().sign();
    let auth = Authenticator::new(issuer.verifier())
        .credentials(Credentials::default().order([Location::WebSocketProtocol("access_token".into())]));
    let app = Router::new()
        .route("/seen", get(protocols_seen))
        .layer(AuthLayer::required(auth));
    let base = serve(app).await;
    let seen = client()
        .get(format!("{base}/seen"))
        .header("sec-websocket-protocol", format!("chat, access_token, {token}"))
        .header("sec-websocket-protocol", "v2")
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), 200);
    assert_eq!(seen.text().await.unwrap(), "chat, access_token, v2");
}

#[tokio::test]
async fn a_query_parameter_is_read_only_where_enabled() {
    let issuer = TestIssuer::start().await;
    let token = issuer.token().subject("from-query").sign();
    let with_query = Authenticator::new(issuer.verifier())
        .credentials(Credentials::default().order([Location::Bearer, Location::Query("access_token".into())]));
    let app = |auth| {
        Router::new()
            .route("/who", get(|p: Principal| async move { p.id().to_owned() }))
            .layer(AuthLayer::required(auth))
    };
    let enabled = serve(app(with_query)).await;
    let disabled = serve(app(Authenticator::new(issuer.verifier()))).await;
    let get = |url: String| async move { client().get(url).send().await.unwrap() };

    let answer = get(format!("{enabled}/who?access_token={token}")).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "from-query");
    assert_eq!(get(format!("{disabled}/who?access_token={token}")).await.status(), 401);
    let twice = get(format!("{enabled}/who?access_token={token}&access_token={token}")).await;
    assert_eq!(twice.status(), 401);
    let beside_bearer = client()
        .get(format!("{enabled}/who?access_token={token}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(beside_bearer.status(), 401, "two credentials are refused");
}
