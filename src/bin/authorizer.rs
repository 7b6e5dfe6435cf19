//! `authorizer`: check a key set or a route table, mint development tokens
//! from the test issuer, and explain the decision the library would make on a
//! token. Built with `cargo install authorizer --features cli`.

#[path = "../cli/mod.rs"]
mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
