#!/usr/bin/env bash
# Instructions per request on each hot path, counted by callgrind: a figure
# that does not move with the machine's load, unlike the criterion medians.
#
#   scripts/instructions.sh            # every scenario of examples/hot_path.rs
#   N=2000 scripts/instructions.sh bearer bare_bearer
#
# Only the measured loop is counted (--toggle-collect), after the setup and a
# warm-up request. Needs valgrind (Debian package `valgrind`; installed with
# apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-5000}
. scripts/need.sh
need valgrind
cargo build --release --all-features --example hot_path >&2
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(bare_none optional_none bare_bearer bearer bare_cookie cookie auth_plain auth_session lambda_clone lambda)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-16s %14s\n' scenario instructions
for scenario in "${scenarios[@]}"; do
  total=$(setarch -R valgrind --tool=callgrind --callgrind-out-file="$out/$scenario" \
    --toggle-collect='hot_path::requests' --toggle-collect='hot_path::authenticate' \
    --toggle-collect='hot_path::lambda_events' \
    target/release/examples/hot_path "$scenario" "$N" 2>&1 | awk '/Collected/ {print $4}')
  printf '%-16s %14d\n' "$scenario" $((total / N))
done
