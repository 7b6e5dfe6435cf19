//! `authorizer routes`: validate a route table and say what each route requires.

use std::process::ExitCode;

use authorizer::routes::{RouteRule, RouteTable};
use serde_json::Value;

use super::{Failure, input};

/// Arguments of `authorizer routes`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// A route table in JSON (`{"routes": {"GET /path": rule, ...}, "fallback": rule}`), or `-` for stdin.
    file: String,
}

/// Loads a route table; an error names the entry it is in.
pub(crate) fn load(source: &str) -> Result<RouteTable, Failure> {
    let bytes = input::read(source)?;
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let table: RouteTable = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        match path.as_str() {
            "." | "" => format!("{source}: {}", e.inner()),
            _ => format!("{source}: at {path}: {}", e.inner()),
        }
    })?;
    deserializer.end().map_err(|e| format!("{source}: {e}"))?;
    Ok(table)
}

/// A rule in words: optional, session, deny, or the requirement as its data form.
pub(crate) fn describe(rule: &RouteRule) -> String {
    if rule.is_optional() {
        return "optional (no credential needed; a bad one is still refused)".to_owned();
    }
    if let Some(requirement) = rule.requirement() {
        return match serde_json::to_string(requirement) {
            Ok(text) => format!("require {text}"),
            Err(_) => "require (a custom check)".to_owned(),
        };
    }
    if rule.check(None) == authorizer::routes::Verdict::Unauthenticated {
        "session (any valid credential)".to_owned()
    } else {
        "deny".to_owned()
    }
}

pub(crate) fn run(args: Args) -> Result<ExitCode, Failure> {
    let table = load(&args.file)?;
    let value = serde_json::to_value(&table).map_err(|e| format!("{}: {e}", args.file))?;
    let empty = serde_json::Map::new();
    let routes = value.get("routes").and_then(Value::as_object).unwrap_or(&empty);
    for (key, rule) in routes {
        let rule: RouteRule = serde_json::from_value(rule.clone()).map_err(|e| format!("{key}: {e}"))?;
        let (method, path) = key.split_once(' ').unwrap_or((key, ""));
        println!("{method:<7} {path:<40} {}", describe(&rule));
    }
    println!("{:<48} {}", "fallback", describe(table.fallback_rule()));
    println!("{} routes", routes.len());
    Ok(ExitCode::SUCCESS)
}
