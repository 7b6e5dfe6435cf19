#!/usr/bin/env python3
"""Medians from the last `cargo bench` run, each beside its floor.

    cargo bench --all-features && python3 scripts/bench_table.py

Reads target/criterion/*/new/estimates.json (criterion's own output) and
prints a Markdown table: the median of every benchmark, and for each one
that has a floor in the same run, the ratio (or the difference) to it.
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"


def median_ns(bench: str):
    # criterion keeps a group's functions as <group>/<function with / as _>.
    group, _, function = bench.partition("/")
    path = root.joinpath(group, function.replace("/", "_"), "new", "estimates.json")
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def fmt(ns: float) -> str:
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


# (benchmark, its floor, how to compare: "ratio" or "over")
ROWS = [
    *[(f"cold/{alg}/authorizer", f"cold/{alg}/jsonwebtoken", "ratio") for alg in ["RS256", "PS256", "ES256", "EdDSA", "HS256"]],
    ("cache_hit", None, None),
    *[(f"layer/{s}/layer", f"layer/{s}/bare", "over") for s in ["no_credential_optional", "cached_bearer", "cached_cookie"]],
    ("require/three_checks/pass", None, None),
    ("require/three_checks/fail", None, None),
    ("lambda/authorizer/warm_token_event", "lambda/verifier_cache_hit", "over"),
    ("rotation/known_kid/refetch_in_flight", "rotation/known_kid/fresh_keys", "ratio"),
]

print("| benchmark | median | floor (same run) | floor median | ratio / over the floor |")
print("| --- | --- | --- | --- | --- |")
missing = []
for bench, floor, how in ROWS:
    value = median_ns(bench)
    if value is None:
        missing.append(bench)
        continue
    if floor is None:
        print(f"| `{bench}` | {fmt(value)} | | | |")
        continue
    base = median_ns(floor)
    if base is None:
        missing.append(floor)
        continue
    compared = f"{value / base:.3f}x" if how == "ratio" else f"+{fmt(value - base)}"
    print(f"| `{bench}` | {fmt(value)} | `{floor}` | {fmt(base)} | {compared} |")
if missing:
    print(f"\nnot measured: {', '.join(missing)}", file=sys.stderr)
