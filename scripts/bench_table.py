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


# (benchmark, its floor, how to compare: "ratio" or "over", the budget if any:
# the most the ratio or the difference may be, or for "abs" rows the median).
ROWS = [
    *[(f"cold/{alg}/authorizer", f"cold/{alg}/jsonwebtoken", "ratio", 1.15) for alg in ["RS256", "PS256", "ES256", "EdDSA", "HS256"]],
    ("cache_hit", None, None, None),
    ("layer/no_credential_optional/layer", "layer/no_credential_optional/bare", "over", None),
    ("layer/cached_bearer/layer", "layer/cached_bearer/bare", "over", 300),
    ("layer/cached_cookie/layer", "layer/cached_cookie/bare", "over", None),
    ("layer/cached_cookie/layer", "layer/cached_bearer/layer", "over", 100),
    ("session/cached_answer", "session/no_stage", "over", 100),
    ("session/memory_lookup", "session/no_stage", "over", None),
    ("session/redis_lookup", "session/no_stage", "over", None),
    ("dpop/dpop_cached_token", "dpop/floor_cached_bearer_plus_es256_signature", "ratio", 1.1),
    ("require/three_checks/pass", None, "abs", 500),
    ("require/three_checks/fail", None, "abs", 500),
    ("lambda/authorizer/warm_token_event", "lambda/verifier_cache_hit", "over", None),
    ("lambda/authorizer/warm_token_event", None, "abs", 2000),
    ("rotation/known_kid/refetch_in_flight", "rotation/known_kid/fresh_keys", "ratio", None),
]


def verdict(value, budget, unit):
    if budget is None:
        return ""
    shown = f"{budget}x" if unit == "ratio" else fmt(budget)
    return f"{'met' if value <= budget else 'NOT met'} (≤ {shown})"


print("| benchmark | median | floor (same run) | floor median | ratio / over the floor | budget |")
print("| --- | --- | --- | --- | --- | --- |")
missing = []
for bench, floor, how, budget in ROWS:
    value = median_ns(bench)
    if value is None:
        missing.append(bench)
        continue
    if floor is None:
        check = verdict(value, budget, "abs") if how == "abs" else ""
        print(f"| `{bench}` | {fmt(value)} | | | | {check} |")
        continue
    base = median_ns(floor)
    if base is None:
        missing.append(floor)
        continue
    if how == "ratio":
        compared, check = f"{value / base:.3f}x", verdict(value / base, budget, "ratio")
    else:
        sign = "+" if value >= base else "-"
        compared, check = f"{sign}{fmt(abs(value - base))}", verdict(value - base, budget, "over")
    print(f"| `{bench}` | {fmt(value)} | `{floor}` | {fmt(base)} | {compared} | {check} |")
if missing:
    print(f"\nnot measured: {', '.join(missing)}", file=sys.stderr)
