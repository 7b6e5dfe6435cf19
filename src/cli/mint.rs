//! `authorizer mint` and `authorizer serve-issuer`: the test issuer, for
//! development. Its keys are fixed test keys compiled into the crate, so
//! anything it signs is forgeable by anyone: never trust it in production.

use std::io::Write;
use std::process::ExitCode;

use authorizer::Algorithm;
use authorizer::testing::{OFFLINE_ISSUER, TEST_AUDIENCE, TestIssuer};
use serde_json::{Map, Value};

use super::{Failure, input};

/// Arguments of `authorizer mint`.
#[derive(clap::Args)]
pub(crate) struct MintArgs {
    /// The `iss` claim: the URL `serve-issuer` printed, so its JWKS verifies the token.
    #[arg(long, default_value = OFFLINE_ISSUER)]
    issuer: String,
    /// The `aud` claim.
    #[arg(long, default_value = TEST_AUDIENCE)]
    audience: String,
    /// The `sub` claim (default `user-1`).
    #[arg(long)]
    sub: Option<String>,
    /// Seconds until `exp` (negative for a token that has already expired).
    #[arg(long, default_value_t = 3600, allow_negative_numbers = true)]
    expires_in: i64,
    /// The signing algorithm: RS256, RS384, RS512, PS256, PS384, PS512, ES256,
    /// ES384, EdDSA, or HS256 (with the test secret, which no JWKS publishes).
    #[arg(long, default_value = "RS256", value_parser = parse_alg)]
    alg: Algorithm,
    /// A claim as `name=value`; the value is JSON when it parses as JSON
    /// (`n=3`, `ok=true`, `roles=["a","b"]`), else a string. Repeatable.
    #[arg(long = "claim", value_name = "NAME=VALUE", value_parser = parse_claim)]
    claims: Vec<(String, Value)>,
    /// Claims as one JSON object (applied before the `--claim` flags).
    #[arg(long = "claims", value_name = "JSON", value_parser = parse_object)]
    object: Option<Map<String, Value>>,
}

/// Arguments of `authorizer serve-issuer`.
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
}

fn parse_alg(text: &str) -> Result<Algorithm, String> {
    let alg: Algorithm = text.parse().map_err(|_| format!("unknown algorithm `{text}`"))?;
    match alg {
        Algorithm::HS384 | Algorithm::HS512 => Err(format!("the test issuer has no {text} key (HS256 only)")),
        alg => Ok(alg),
    }
}

fn parse_claim(text: &str) -> Result<(String, Value), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not name=value"))?;
    if name.is_empty() {
        return Err("a claim needs a name".to_owned());
    }
    let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok((name.to_owned(), value))
}

fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err("not a JSON object".to_owned()),
        Err(e) => Err(format!("not JSON: {e}")),
    }
}

pub(crate) fn mint(args: MintArgs) -> Result<ExitCode, Failure> {
    let issuer = TestIssuer::new();
    let mut token = issuer
        .token()
        .alg(args.alg)
        .claim("iss", Value::String(args.issuer))
        .claim("aud", Value::String(args.audience))
        .expires_in(args.expires_in);
    for (name, value) in args.object.into_iter().flatten().chain(args.claims) {
        token = token.claim(&name, value);
    }
    if let Some(sub) = args.sub {
        token = token.subject(&sub);
    }
    println!("{}", token.sign());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn serve(args: ServeArgs) -> Result<ExitCode, Failure> {
    let runtime = input::runtime()?;
    runtime.block_on(async {
        let issuer = TestIssuer::start_on(args.port)
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
        // Scripts read these lines to find the port (stdout is flushed per
        // line); one that stops reading early must not stop the server.
        let mut out = std::io::stdout();
        let _ = writeln!(out, "issuer: {}", issuer.issuer());
        let _ = writeln!(out, "jwks: {}", issuer.jwks_url());
        let _ = writeln!(out, "discovery: {}/.well-known/openid-configuration", issuer.issuer());
        eprintln!(
            "development only: fixed test keys, anyone can forge these tokens. \
             Mint with `authorizer mint --issuer {}`; Ctrl-C stops.",
            issuer.issuer()
        );
        // Runs until the process is interrupted; the server task does the work.
        std::future::pending::<()>().await;
        Ok(ExitCode::SUCCESS)
    })
}
