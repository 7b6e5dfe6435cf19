//! The issuer's HTTP server: discovery, JWKS and introspection, nothing else.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use super::{Shared, TEST_CLIENT_ID, TEST_CLIENT_SECRET};

pub(crate) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| respond(request, shared.clone()));
            let _closed = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn respond(request: Request<Incoming>, shared: Arc<Shared>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path();
    let counter = match path {
        "/jwks.json" => &shared.jwks_fetches,
        "/.well-known/openid-configuration" => &shared.discovery_fetches,
        "/introspect" => return Ok(introspect(request, &shared).await),
        _ => return Ok(plain(StatusCode::NOT_FOUND, "not found")),
    };
    // Counted on arrival, so a test can see a fetch that is still in flight.
    counter.fetch_add(1, Ordering::SeqCst);
    let delay = shared.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if shared.outage.load(Ordering::SeqCst) {
        return Ok(plain(StatusCode::SERVICE_UNAVAILABLE, "outage"));
    }
    let (body, cache_control) = if path == "/jwks.json" {
        let jwks = shared.jwks.lock().unwrap_or_else(|e| e.into_inner()).clone();
        (jwks.body, jwks.cache_control)
    } else {
        let document = json!({
            "issuer": shared.issuer,
            "jwks_uri": format!("{}/jwks.json", shared.issuer),
            "introspection_endpoint": format!("{}/introspect", shared.issuer),
            "id_token_signing_alg_values_supported": ["RS256", "PS256", "ES256", "ES384", "EdDSA"],
        });
        (document.to_string(), None)
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    if let Some(value) = cache_control.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    Ok(response)
}

/// RFC 7662: `POST token=...` with the test client's HTTP Basic credentials.
async fn introspect(request: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    shared.introspections.fetch_add(1, Ordering::SeqCst);
    let delay = shared.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if shared.outage.load(Ordering::SeqCst) {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "outage");
    }
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{TEST_CLIENT_ID}:{TEST_CLIENT_SECRET}"))
    );
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v == expected.as_str());
    if request.method() != http::Method::POST || !authorized {
        return plain(StatusCode::UNAUTHORIZED, "client authentication failed");
    }
    let Ok(body) = request.into_body().collect().await.map(|b| b.to_bytes()) else {
        return plain(StatusCode::BAD_REQUEST, "unreadable body");
    };
    let token = form_value(&body, "token").unwrap_or_default();
    let replaced = shared
        .introspection_body
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let answer = match replaced {
        Some(body) => body,
        None => answer_for(&token, shared).to_string(),
    };
    let mut response = Response::new(Full::new(Bytes::from(answer)));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

/// What the issuer knows of `token`: a registered opaque token's answer, or
/// an unregistered JWT naming this issuer as active with its claims.
fn answer_for(token: &str, shared: &Shared) -> Value {
    if let Some(answer) = shared.opaque.lock().unwrap_or_else(|e| e.into_inner()).get(token) {
        return answer.clone();
    }
    let claims = token
        .split('.')
        .nth(1)
        .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
        .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
        .filter(|claims| claims["iss"] == shared.issuer.as_str());
    match claims {
        Some(Value::Object(mut claims)) => {
            claims.insert("active".to_owned(), Value::Bool(true));
            Value::Object(claims)
        }
        _ => json!({ "active": false }),
    }
}

/// One value of an `application/x-www-form-urlencoded` body, decoded.
fn form_value(body: &[u8], name: &str) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    body.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(value))?
    })
}

fn percent_decode(value: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut input = value.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = [input.next()?, input.next()?];
                bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response
}
