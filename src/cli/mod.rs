//! The command-line tool's commands. Each returns an exit code or a
//! [`Failure`], which `main` prints as one line on stderr.

mod input;
mod jwks;
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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Jwks(args) => jwks::run(args),
        Command::Routes(args) => routes::run(args),
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
