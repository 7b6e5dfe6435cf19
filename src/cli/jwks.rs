//! `authorizer jwks`: the hygiene verdict on each key of a key set.

use std::collections::HashMap;
use std::process::ExitCode;

use authorizer::{KeyError, KeySet};
use serde_json::Value;

use super::{Failure, input};

/// Arguments of `authorizer jwks`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// A JWKS file, `-` for stdin, or an https URL (http to a loopback host only).
    source: String,
}

/// What this crate makes of one JWK.
pub(crate) struct Verdict {
    pub(crate) kid: Option<String>,
    pub(crate) kty: String,
    /// The algorithms the key verifies, or why it is skipped.
    pub(crate) outcome: Result<Vec<&'static str>, String>,
}

/// Judges every key of a JWKS document by the rules of [`KeySet::from_jwks`].
pub(crate) fn judge(document: &[u8], source: &str) -> Result<Vec<Verdict>, Failure> {
    let document: Value = serde_json::from_slice(document).map_err(|e| format!("{source} is not JSON: {e}"))?;
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{source} is not a JWKS: no `keys` array"))?;
    let mut verdicts: Vec<Verdict> = keys.iter().map(judge_key).collect();
    // A kid shared by two usable keys cannot name either: the library drops both.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for verdict in verdicts.iter().filter(|v| v.outcome.is_ok()) {
        if let Some(kid) = &verdict.kid {
            *counts.entry(kid.clone()).or_default() += 1;
        }
    }
    for verdict in &mut verdicts {
        if verdict.outcome.is_ok() && verdict.kid.as_ref().is_some_and(|kid| counts[kid] > 1) {
            verdict.outcome = Err("kid shared with another key".to_owned());
        }
    }
    Ok(verdicts)
}

fn judge_key(jwk: &Value) -> Verdict {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str).map(str::to_owned);
    let kid = text("kid");
    let kty = text("kty").unwrap_or_else(|| "?".to_owned());
    let outcome = match KeySet::new().with_jwk(jwk) {
        Ok(_) => Ok(algorithms(jwk)),
        Err(KeyError::Rejected(reason)) => Err(reason.to_owned()),
        Err(other) => Err(other.to_string()),
    };
    Verdict { kid, kty, outcome }
}

/// The algorithms a usable key verifies: its `alg`, else every one its type
/// and curve fit (the library accepted the key, so these are known values).
fn algorithms(jwk: &Value) -> Vec<&'static str> {
    const ALL: [&str; 9] = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
    ];
    if let Some(alg) = jwk.get("alg").and_then(Value::as_str) {
        return ALL.iter().copied().filter(|a| *a == alg).collect();
    }
    match (
        jwk.get("kty").and_then(Value::as_str),
        jwk.get("crv").and_then(Value::as_str),
    ) {
        (Some("RSA"), _) => ALL[..6].to_vec(),
        (Some("EC"), Some("P-256")) => vec!["ES256"],
        (Some("EC"), Some("P-384")) => vec!["ES384"],
        (Some("OKP"), _) => vec!["EdDSA"],
        _ => Vec::new(),
    }
}

pub(crate) fn run(args: Args) -> Result<ExitCode, Failure> {
    let document = input::read(&args.source)?;
    let verdicts = judge(&document, &args.source)?;
    let mut usable = 0;
    for (index, verdict) in verdicts.iter().enumerate() {
        // Kids come from the document: quoted, so odd characters stay visible.
        let kid = verdict
            .kid
            .as_deref()
            .map_or("(no kid)".to_owned(), |k| format!("{k:?}"));
        match &verdict.outcome {
            Ok(algs) => {
                usable += 1;
                println!(
                    "key {index}: use   kid {kid}, kty {}, alg {}",
                    verdict.kty,
                    algs.join(" ")
                );
            }
            Err(reason) => println!("key {index}: skip  kid {kid}, kty {}: {reason}", verdict.kty),
        }
    }
    let skipped = verdicts.len() - usable;
    println!("{usable} usable, {skipped} skipped");
    if usable == 0 {
        eprintln!("authorizer: no usable key in {}", args.source);
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
