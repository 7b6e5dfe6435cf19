//! Reading the documents the commands take: a file, a URL, or stdin.

use std::io::Read;
use std::time::Duration;

use super::Failure;

/// Larger documents are not key sets or tables anyone meant to pass.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// Reads `source`: a URL when it has a scheme, else a file path (`-` for stdin).
pub(crate) fn read(source: &str) -> Result<Vec<u8>, Failure> {
    if source.contains("://") {
        return fetch(source);
    }
    if source == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        return Ok(bytes);
    }
    let file = std::fs::File::open(source).map_err(|e| format!("cannot read {source}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {source}: {e}"))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(Failure(format!("{source} is larger than {MAX_BYTES} bytes")));
    }
    Ok(bytes)
}

/// The library's rules for key URLs: https, or plain http to a loopback host
/// only; no redirects (a redirect could lead anywhere); a bounded wait.
pub(crate) fn check_url(source: &str) -> Result<url::Url, Failure> {
    let url = url::Url::parse(source).map_err(|e| format!("{source} is not a valid URL: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(Failure(format!(
            "{url} is plain http; use https (plain http is allowed to a loopback host only)"
        ))),
        other => Err(Failure(format!("{url}: unsupported scheme {other} (use https)"))),
    }
}

fn fetch(source: &str) -> Result<Vec<u8>, Failure> {
    let url = check_url(source)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let response = client
            .get(url.clone())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {}", root_cause(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Failure(format!("{url} answered {status}")));
        }
        if response.content_length().is_some_and(|n| n > MAX_BYTES) {
            return Err(Failure(format!("{url} is larger than {MAX_BYTES} bytes")));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("cannot read {url}: {}", root_cause(&e)))?;
        if body.len() as u64 > MAX_BYTES {
            return Err(Failure(format!("{url} is larger than {MAX_BYTES} bytes")));
        }
        Ok(body.to_vec())
    })
}

/// reqwest's own message is "error sending request"; the cause says why.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A runtime for the one command that runs at a time.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure(format!("cannot start a runtime: {e}")))
}
