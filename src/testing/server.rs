//! The issuer's HTTP server: discovery and JWKS, nothing else.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;

use super::Shared;

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

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response
}
