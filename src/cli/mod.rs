//! The command-line tool's commands. Each returns an exit code or a
//! [`Failure`], which `main` prints as one line on stderr.

mod explain;
mod input;
mod jwks;
mod mint;
mod routes;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Check key sets and route tables, mint development tokens, explain decisions.
#[derive(Parser)]
#[command(name = "authorizer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report which keys of a JWKS (file or URL) this crate would use, and why it skips the others.
    ///
    /// A URL must be https, or http to a loopback host (as the library fetches keys).
    /// Exits with 1 when no key is usable.
    Jwks(jwks::Args),
    /// Validate a route table (JSON) and print what each route requires.
    Routes(routes::Args),
    /// Print a token signed by the test issuer (development only: its keys are
    /// fixed test keys published in the crate, so anyone can forge its tokens).
    Mint(mint::MintArgs),
    /// Serve the test issuer's JWKS and discovery on 127.0.0.1 until interrupted
    /// (development only: fixed test keys), printing its issuer and JWKS URLs.
    ServeIssuer(mint::ServeArgs),
    /// Explain, step by step, the decision the layer would make on a token
    /// (header, key, time, audience, verdict, response body; with `--routes`,
    /// the route's rule and the Lambda authorizer's answer). Exits with 1 on a refusal.
    Explain(explain::Args),
}

/// A command that could not run: bad input, an unreachable URL. Printed as
/// one line, so scripts and people read the same thing.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) String);

impl<T: std::fmt::Display> From<T> for Failure {
    fn from(message: T) -> Self {
        Failure(message.to_string())
    }
}

/// Input errors exit with 2, like clap's usage errors; 1 is kept for a
/// negative answer (no usable key, a refused token), so scripts can tell them apart.
const INPUT_ERROR: u8 = 2;

pub(crate) fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => error.exit(),
        Err(error) => {
            // clap's report spans several lines; what is wrong comes before the usage.
            let rendered = error.render().to_string();
            let what: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty())
                .collect();
            let what = what.join(" ");
            let what = what.strip_prefix("error: ").unwrap_or(&what);
            eprintln!("authorizer: {what} (see --help)");
            return ExitCode::from(INPUT_ERROR);
        }
    };
    let result = match cli.command {
        Command::Jwks(args) => jwks::run(args),
        Command::Routes(args) => routes::run(args),
        Command::Mint(args) => mint::mint(args),
        Command::ServeIssuer(args) => mint::serve(args),
        Command::Explain(args) => explain::run(args),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) => {
            // Messages never span lines: a multi-line error from a parser is folded.
            let line = message.split_whitespace().collect::<Vec<_>>().join(" ");
            eprintln!("authorizer: {line}");
            ExitCode::from(INPUT_ERROR)
        }
    }
}
