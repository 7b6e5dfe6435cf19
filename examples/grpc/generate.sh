#!/usr/bin/env bash
# Regenerates examples/grpc/authorizer.demo.v1.rs from examples/grpc/demo.proto
# with tonic-prost-build, parsing the proto with protox (pure Rust), so neither
# protoc nor a build script is needed. The generated file is committed: the
# example builds on a fresh machine with no code generation at all.
#
#   examples/grpc/generate.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cat >"$work/Cargo.toml" <<'TOML'
[package]
name = "generate-grpc-demo"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
tonic-prost-build = "=0.14.9"
protox = "=0.9.1"
TOML
cat >"$work/src/main.rs" <<'RUST'
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: generate-grpc-demo <dir holding demo.proto>")?;
    let descriptors = protox::compile(["demo.proto"], [&dir])?;
    tonic_prost_build::configure()
        .emit_rerun_if_changed(false)
        .out_dir(&dir)
        .compile_fds(descriptors)?;
    Ok(())
}
RUST
cargo run --quiet --manifest-path "$work/Cargo.toml" --target-dir "$work/target" -- "$here"
echo "wrote $here/authorizer.demo.v1.rs"
