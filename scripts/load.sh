#!/usr/bin/env bash
# Load test: the quickstart server in release mode on 127.0.0.1, driven by wrk.
#
#   scripts/load.sh            # every scenario, then the memory floods
#   DURATION=5 FLOOD=0 scripts/load.sh   # shorter, without the 1,000,000-token flood
#
# Prints requests/s and p50/p99 latency for: /public without a credential (the
# baseline), /public with one cached token (the same handler, so the difference
# is the authorizer alone), /me with one cached token (which also serializes the
# whole principal), /me with distinct valid tokens (cache
# misses), /me with invalid tokens; then the server's resident memory before
# and after a flood of FLOOD distinct valid tokens and a flood of invalid ones.
# Needs wrk (Debian package `wrk`; installed here with apt-get when missing).
# Every address is 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
DISTINCT=${DISTINCT:-300000}
FLOOD=${FLOOD:-1000000}
PORT=${PORT:-4180}
ISSUER_PORT=${ISSUER_PORT:-4181}

. scripts/need.sh
need wrk

cargo build --release --all-features --example quickstart --example load_issuer >&2

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "minting tokens (distinct: $DISTINCT, flood: $FLOOD)..." >&2
ISSUER_PORT=$ISSUER_PORT TOKENS_DIR=$work DISTINCT=$DISTINCT FLOOD=$FLOOD \
  target/release/examples/load_issuer >"$work/issuer.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do grep -q '^ready' "$work/issuer.out" 2>/dev/null && break; sleep 0.5; done
grep -q '^ready' "$work/issuer.out" || { cat "$work/issuer.out" >&2; exit 1; }

issuer="http://127.0.0.1:$ISSUER_PORT"
PORT=$PORT AUTHORIZER_ISSUER=$issuer AUTHORIZER_JWKS_URL="$issuer/jwks.json" AUTHORIZER_AUDIENCE=authorizer-test \
  target/release/examples/quickstart >"$work/server.out" 2>&1 &
server=$!
pids+=($server)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/public" >/dev/null 2>&1 && break; sleep 0.1; done
base="http://127.0.0.1:$PORT"

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$server/status"; }

# One wrk run: prints "name req/s p50 p99 wraps".
run() {
  local name=$1 path=$2 tokens=${3:-} duration=${4:-$DURATION} out
  if [ -n "$tokens" ] && [ "$(wc -l <"$work/$tokens")" -eq 1 ]; then
    # One token: a static request, as the baseline's, so wrk does the same work for both.
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${duration}s" -s scripts/plain.lua \
      -H "Authorization: Bearer $(cat "$work/$tokens")" "$base$path")
  elif [ -n "$tokens" ]; then
    out=$(TOKENS_FILE="$work/$tokens" WRK_THREADS=$THREADS \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"${duration}s" -s scripts/me.lua "$base$path")
  else
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${duration}s" -s scripts/plain.lua "$base$path")
  fi
  local rps p50 p99 wraps non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '/^p50_us/ {print $2}' <<<"$out")
  p99=$(awk '/^p99_us/ {print $2}' <<<"$out")
  wraps=$(awk '/^wraps/ {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '%-22s %12s %10s %10s %8s %10s\n' "$name" "$rps" "${p50}us" "${p99}us" "${wraps:--}" "${non2xx:-0}"
}

# Warm the key set and the one cached token.
curl -fs -H "Authorization: Bearer $(cat "$work/one.txt")" "$base/me" >/dev/null
rss_at_start=$(rss_kib)

echo
echo "machine: $(nproc) cores; wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s; server and wrk share the machine"
printf '%-22s %12s %10s %10s %8s %10s\n' scenario "requests/s" p50 p99 wraps non-2xx
run "public (baseline)" /public
run "public, cached token" /public one.txt
run "me, cached token" /me one.txt
run "me, distinct tokens" /me distinct.txt
run "me, invalid tokens" /me invalid.txt

if [ "$FLOOD" -gt 0 ]; then
  echo
  echo "resident memory of the server (cache capacity 10,000):"
  echo "  at start (one token cached):           ${rss_at_start} KiB"
  before=$(rss_kib)
  echo "  after the scenarios above (cache full): ${before} KiB"
  flood_seconds=$(( FLOOD / 10000 + 10 ))
  run "flood, valid tokens" /me flood.txt "$flood_seconds" >"$work/flood.line"
  after_valid=$(rss_kib)
  echo "  after $FLOOD distinct valid tokens: ${after_valid} KiB   ($(cat "$work/flood.line"))"
  run "flood, invalid tokens" /me invalid.txt 20 >"$work/invalid.line"
  after_invalid=$(rss_kib)
  echo "  after 20 s of invalid tokens:           ${after_invalid} KiB   ($(cat "$work/invalid.line"))"
fi
