//! `authorizer explain`: the decision the layer would make on a token, step
//! by step, ending with the library's own verdict (the steps before it are a
//! reading of the token for people; the verdict is the real pipeline's).

use std::io::Read;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use authorizer::config::Config;
use authorizer::routes::Verdict;
use authorizer::{
    Authenticator, Error, ErrorRenderer, ErrorStyle, Issuer, KeySet, Principal, Rejection, Source, Verifier,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::{Failure, input, jwks, routes};

/// Arguments of `authorizer explain`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The token (a JWS); read from stdin when absent or `-`.
    token: Option<String>,
    /// The authenticator's configuration file (JSON, or TOML by its `.toml` extension),
    /// with the `AUTHORIZER_*` variables applied as the library applies them.
    #[arg(long, conflicts_with_all = ["issuer", "jwks", "audience"], required_unless_present = "issuer")]
    config: Option<String>,
    /// The issuer (`iss`) to accept, instead of a configuration file.
    #[arg(long, requires = "jwks")]
    issuer: Option<String>,
    /// Its key set: a JWKS file, or an https URL (http to a loopback host only).
    #[arg(long, requires = "issuer")]
    jwks: Option<String>,
    /// An audience to accept (repeatable).
    #[arg(long)]
    audience: Vec<String>,
    /// A route table (JSON), to judge the request with `--route`.
    #[arg(long, requires = "route")]
    routes: Option<String>,
    /// The request, as `METHOD /path`.
    #[arg(long, requires = "routes")]
    route: Option<String>,
}

/// What the explanation needs besides the authenticator: where keys come
/// from, the clock skew, the audiences, and the styles to render.
struct Setup {
    authenticator: Authenticator,
    keys: Option<(String, Vec<u8>)>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    leeway: u64,
    renderers: Vec<(&'static str, ErrorRenderer)>,
}

/// A decoded JOSE header or claims set.
type Object = Map<String, Value>;

/// The library's default clock skew (`VerifierBuilder::leeway`).
const DEFAULT_LEEWAY: u64 = 60;

pub(crate) fn run(args: Args) -> Result<ExitCode, Failure> {
    let token = read_token(args.token.as_deref())?;
    let (header, claims) = decode(&token)?;
    let table = match (&args.routes, &args.route) {
        (Some(file), Some(route)) => {
            let (method, path) = route
                .trim()
                .split_once(' ')
                .filter(|(m, p)| !m.is_empty() && p.starts_with('/'))
                .ok_or_else(|| format!("--route `{route}` is not `METHOD /path`"))?;
            Some((routes::load(file)?, method.to_owned(), path.trim().to_owned()))
        }
        _ => None,
    };
    let runtime = input::runtime()?;
    let _guard = runtime.enter();
    let setup = match &args.config {
        Some(file) => from_config(file, &claims)?,
        None => from_flags(&args)?,
    };

    let prefix: String = token.chars().take(12).collect();
    println!("token: {prefix}... ({} characters)", token.len());
    let text = |v: Option<&Value>| v.map_or("(none)".to_owned(), Value::to_string);
    println!(
        "header: alg {}, kid {}, typ {}",
        text(header.get("alg")),
        text(header.get("kid")),
        text(header.get("typ"))
    );
    println!("claims: {}", Value::Object(claims.clone()));

    let iss = claims.get("iss").and_then(Value::as_str);
    match iss {
        Some(iss) if setup.issuers.iter().any(|i| i == iss) => println!("issuer: {iss:?} is accepted"),
        Some(iss) => println!("issuer: {iss:?} is not one of {:?}", setup.issuers),
        None => println!("issuer: the token has no iss"),
    }
    explain_key(&setup, &header)?;
    explain_time(&claims, setup.leeway);
    explain_audience(&claims, &setup.audiences);

    let outcome = runtime.block_on(
        setup
            .authenticator
            .authenticate_token(&token, Source::Bearer)
            .into_future(),
    );
    let principal = outcome.principal().cloned();
    let mut refused = false;
    match (&principal, outcome.error()) {
        (Some(principal), _) => println!("signature and checks: verified; principal {:?}", principal.id()),
        (None, Some(error)) => {
            refused = true;
            println!("signature and checks: refused: {error}");
            print_refusal(error, &setup.renderers);
        }
        (None, None) => {
            refused = true;
            println!("signature and checks: no credential");
        }
    }

    if let Some((table, method, path)) = table {
        if refused {
            // The authentication in front of every table refuses a bad credential
            // on any route, optional ones too: no rule is consulted.
            println!(
                "route: {method} {path}: {}",
                routes::describe(table.rule_for(&method, &path))
            );
            println!("decision: refused before the route's rule (the credential is not valid)");
            println!("lambda authorizer: no policy: the error `Unauthorized`, which API Gateway answers with 401");
        } else {
            refused |= explain_route(&table, &method, &path, principal.as_ref(), &setup.renderers);
        }
    } else if !refused {
        println!("decision: allowed (no route given: authentication alone)");
    }
    Ok(if refused { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn read_token(argument: Option<&str>) -> Result<String, Failure> {
    let token = match argument {
        Some(token) if token != "-" => token.to_owned(),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut text)
                .map_err(|e| format!("cannot read the token from stdin: {e}"))?;
            text
        }
    };
    let token = token.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    if token.is_empty() {
        return Err(Failure("no token given (an argument, or on stdin)".to_owned()));
    }
    Ok(token.to_owned())
}

/// The header and claims, decoded without any check: only to show them.
fn decode(token: &str) -> Result<(Object, Object), Failure> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(Failure(format!(
            "the token is not a JWS (header.payload.signature): it has {} part(s)",
            parts.len()
        )));
    }
    let part = |index: usize, name: &str| -> Result<Object, Failure> {
        let bytes = URL_SAFE_NO_PAD
            .decode(parts[index])
            .map_err(|_| format!("the token's {name} is not base64url"))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(object)) => Ok(object),
            _ => Err(Failure(format!("the token's {name} is not a JSON object"))),
        }
    };
    Ok((part(0, "header")?, part(1, "payload")?))
}

fn from_flags(args: &Args) -> Result<Setup, Failure> {
    let (Some(iss), Some(source)) = (&args.issuer, &args.jwks) else {
        return Err(Failure("give --config, or --issuer with --jwks".to_owned()));
    };
    let document = input::read(source)?;
    let issuer = if source.contains("://") {
        Issuer::jwks(iss, input::check_url(source)?.as_str())
    } else {
        let keys = KeySet::from_jwks(&document).map_err(|e| format!("{source}: {e}"))?;
        Issuer::static_keys(iss, keys)
    };
    let issuer = args.audience.iter().fold(issuer, |issuer, aud| issuer.audience(aud));
    let verifier = Verifier::builder()
        .issuer(issuer)
        .build()
        .map_err(|e| format!("cannot build a verifier: {e}"))?;
    Ok(Setup {
        authenticator: Authenticator::new(verifier),
        keys: Some((source.clone(), document)),
        issuers: vec![iss.clone()],
        audiences: args.audience.clone(),
        leeway: DEFAULT_LEEWAY,
        renderers: vec![
            ("rfc6750", ErrorStyle::Rfc6750.into()),
            ("supertokens", ErrorStyle::SuperTokens.into()),
        ],
    })
}

fn from_config(file: &str, claims: &Map<String, Value>) -> Result<Setup, Failure> {
    let bytes = input::read(file)?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{file} is not UTF-8"))?;
    let document: Value = if file.ends_with(".toml") {
        let table: toml::Table = text.parse().map_err(|e| format!("{file}: {e}"))?;
        serde_json::to_value(table).map_err(|e| format!("{file}: {e}"))?
    } else {
        serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?
    };
    let config = Config::from_deserializer(document.clone())
        .and_then(Config::with_env)
        .map_err(|e| format!("{file}: {e}"))?;
    let authenticator = config.build().map_err(|e| format!("{file}: {e}"))?;
    // The configuration's types keep their entries private; the document
    // (read again as plain data) says where keys come from, for the explanation only.
    let entries = document
        .get("issuers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let iss = claims.get("iss").and_then(Value::as_str);
    let entry = entries.iter().find(|e| e.get("iss").and_then(Value::as_str) == iss);
    let mut keys = None;
    if let Some(entry) = entry {
        let source = entry
            .get("jwks_file")
            .or_else(|| entry.get("jwks_url"))
            .and_then(Value::as_str);
        match source {
            Some(source) => keys = Some((source.to_owned(), input::read(source)?)),
            None => println!("keys: found through discovery of {:?}", iss.unwrap_or_default()),
        }
    }
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    Ok(Setup {
        renderers: vec![(
            authenticator.renderer().style().map_or("custom", style_name),
            authenticator.renderer().clone(),
        )],
        authenticator,
        keys,
        issuers: entries
            .iter()
            .filter_map(|e| e.get("iss").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        audiences: match entry.map(|e| strings(e.get("audiences"))).unwrap_or_default() {
            // An issuer without audiences accepts the protected resource's.
            none if none.is_empty() => document
                .pointer("/resource/identifier")
                .and_then(Value::as_str)
                .map(|identifier| vec![identifier.to_owned()])
                .unwrap_or_default(),
            audiences => audiences,
        },
        leeway: document
            .get("leeway_secs")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_LEEWAY),
    })
}

/// The key the token names, and this crate's verdict on it.
fn explain_key(setup: &Setup, header: &Map<String, Value>) -> Result<(), Failure> {
    let Some((source, document)) = &setup.keys else {
        return Ok(());
    };
    let verdicts = jwks::judge(document, source)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or_default();
    let chosen = match header.get("kid").and_then(Value::as_str) {
        Some(kid) => verdicts.iter().find(|v| v.kid.as_deref() == Some(kid)),
        None => {
            let fitting: Vec<_> = verdicts
                .iter()
                .filter(|v| v.outcome.as_ref().is_ok_and(|algs| algs.contains(&alg)))
                .collect();
            match fitting.as_slice() {
                [one] => Some(*one),
                _ => {
                    println!(
                        "key: the token has no kid and {} keys fit {alg}: none is chosen",
                        fitting.len()
                    );
                    return Ok(());
                }
            }
        }
    };
    match chosen {
        None => println!("key: no key in {source} has that kid"),
        Some(verdict) => {
            let kid = verdict.kid.as_deref().unwrap_or("(no kid)");
            match &verdict.outcome {
                Ok(algs) if algs.contains(&alg) => {
                    println!(
                        "key: {kid:?} ({}) from {source}, usable for {}",
                        verdict.kty,
                        algs.join(" ")
                    )
                }
                Ok(algs) => println!("key: {kid:?} verifies {} only, not {alg}", algs.join(" ")),
                Err(reason) => println!("key: {kid:?} is skipped: {reason}"),
            }
        }
    }
    Ok(())
}

fn explain_time(claims: &Map<String, Value>, leeway: u64) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let relative = |name: &str| match claims.get(name).and_then(Value::as_i64) {
        None => format!("{name} (none)"),
        Some(t) if t >= now => format!("{name} in {} s", t - now),
        Some(t) => format!("{name} {} s ago", now - t),
    };
    println!(
        "time: {}, {}, {}; clock skew allowed {leeway} s",
        relative("exp"),
        relative("nbf"),
        relative("iat")
    );
}

fn explain_audience(claims: &Map<String, Value>, accepted: &[String]) {
    let aud = claims.get("aud").map_or("(none)".to_owned(), Value::to_string);
    if accepted.is_empty() {
        println!("audience: {aud}; no audience configured");
        return;
    }
    let matches = match claims.get("aud") {
        Some(Value::String(a)) => accepted.contains(a),
        Some(Value::Array(all)) => all
            .iter()
            .filter_map(Value::as_str)
            .any(|a| accepted.iter().any(|x| x == a)),
        _ => false,
    };
    let verdict = if matches { "matches" } else { "does not match" };
    println!("audience: {aud} {verdict} {accepted:?}");
}

fn print_refusal(error: &Error, renderers: &[(&str, ErrorRenderer)]) {
    for (name, renderer) in renderers {
        let response = renderer.render(error);
        let challenge: String = response
            .www_authenticate
            .iter()
            .filter_map(|h| h.to_str().ok())
            .map(|h| format!(", WWW-Authenticate: {h}"))
            .collect();
        println!(
            "response ({}): {}{challenge}, body {}",
            name, response.status, response.body
        );
    }
}

fn style_name(style: ErrorStyle) -> &'static str {
    match style {
        ErrorStyle::Rfc6750 => "rfc6750",
        _ => "supertokens",
    }
}

/// Returns whether the route refuses the request.
fn explain_route(
    table: &authorizer::routes::RouteTable,
    method: &str,
    path: &str,
    principal: Option<&Principal>,
    renderers: &[(&str, ErrorRenderer)],
) -> bool {
    let rule = table.rule_for(method, path);
    println!("route: {method} {path}: {}", routes::describe(rule));
    let (error, lambda) = match rule.check(principal) {
        Verdict::Allowed => {
            println!("decision: allowed");
            println!("lambda authorizer: Allow (IAM policy effect)");
            return false;
        }
        Verdict::Denied(denied) => {
            for failed in &denied.errors {
                println!("requirement {:?}: {}", failed.id, failed.reason.message);
            }
            (Error::Forbidden(denied), "Deny (IAM policy effect)")
        }
        // `Verdict` may grow; anything this tool does not know is read as a missing credential.
        _ => (
            Error::MissingCredential,
            "no policy: the error `Unauthorized`, which API Gateway answers with 401",
        ),
    };
    let rejection = Rejection::new(error, renderers[0].1.clone());
    println!("decision: refused with {}", rejection.status());
    print_refusal(rejection.error(), renderers);
    println!("lambda authorizer: {lambda}");
    true
}
