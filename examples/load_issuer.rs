//! The issuer side of `scripts/load.sh`: serves a test JWKS on 127.0.0.1 and
//! writes token files for the load generator, then serves until killed.
//!
//! ```sh
//! ISSUER_PORT=4100 TOKENS_DIR=/tmp/tokens DISTINCT=300000 FLOOD=1000000 \
//!     cargo run --release --all-features --example load_issuer
//! ```
//!
//! Files written in `TOKENS_DIR`, one token per line:
//! - `one.txt`: one valid RS256 token (the cached-token scenario);
//! - `distinct.txt`: `DISTINCT` valid EdDSA tokens, each for another subject
//!   (cache misses, as long as the run does not wrap around);
//! - `invalid.txt`: 10,000 tokens with a broken signature;
//! - `flood.txt`: `FLOOD` more valid EdDSA tokens (the memory test; 0 skips it).
//!
//! It prints `ready <issuer>` once every file is complete.

use std::io::{BufWriter, Write};
use std::path::Path;

use authorizer::Algorithm;
use authorizer::testing::TestIssuer;

fn count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Mints `n` tokens on every core; `prefix` keeps subjects of different files apart.
fn mint(issuer: &TestIssuer, n: usize, prefix: &str, alg: Algorithm) -> Vec<String> {
    let workers = std::thread::available_parallelism().map_or(1, |p| p.get());
    let chunk = n.div_ceil(workers.max(1)).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                scope.spawn(move || {
                    (start..(start + chunk).min(n))
                        .map(|i| {
                            issuer
                                .token()
                                .alg(alg)
                                .subject(&format!("{prefix}-{i}"))
                                .expires_in(6 * 3600)
                                .sign()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("minting thread"))
            .collect()
    })
}

fn write(dir: &Path, name: &str, tokens: &[String]) -> std::io::Result<()> {
    let mut file = BufWriter::new(std::fs::File::create(dir.join(name))?);
    for token in tokens {
        writeln!(file, "{token}")?;
    }
    file.flush()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = count("ISSUER_PORT", 4100).try_into().unwrap_or(4100);
    let dir = std::path::PathBuf::from(std::env::var("TOKENS_DIR").unwrap_or_else(|_| "tokens".into()));
    std::fs::create_dir_all(&dir)?;
    let issuer = TestIssuer::start_on(port).await?;

    write(&dir, "one.txt", &[issuer.token().expires_in(6 * 3600).sign()])?;
    write(
        &dir,
        "distinct.txt",
        &mint(&issuer, count("DISTINCT", 300_000), "distinct", Algorithm::EdDSA),
    )?;
    let invalid: Vec<String> = mint(&issuer, 10_000, "invalid", Algorithm::EdDSA)
        .into_iter()
        .map(|t| {
            // Flip the signature's first character: well-formed, but forged.
            let (head, signature) = t.rsplit_once('.').expect("three segments");
            let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
            format!("{head}.{flipped}{}", &signature[1..])
        })
        .collect();
    write(&dir, "invalid.txt", &invalid)?;
    write(
        &dir,
        "flood.txt",
        &mint(&issuer, count("FLOOD", 0), "flood", Algorithm::EdDSA),
    )?;

    println!("ready {}", issuer.issuer());
    std::future::pending::<()>().await;
    Ok(())
}
