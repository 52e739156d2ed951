#!/usr/bin/env bash
# Is HumanEval's output speed measured clean of code execution? Runs the same HumanEval items
# on the same model twice with generated code executed (between generations, as `run` does) and
# twice without (`--predict-only`), in the order exec, predict, predict, exec (so a steady drift
# of the machine's speed cancels), and prints each run's median output tokens/s, the paired
# per-sample ratio with execution ÷ without, and the same ratio between the two runs of one mode
# (the noise floor).
#
# Usage: benches/code_exec_speed.sh [ITEMS] [MODEL]   (default 20 items, the default model)
set -euo pipefail
cd "$(dirname "$0")/.."
items="${1:-20}"
model="${2:-smollm2-135m-instruct}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yardstick/cargo-target}"
cargo build --release --quiet
yardstick="$CARGO_TARGET_DIR/release/yardstick"
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

run() { # id, extra flags...
  local id=$1; shift
  "$yardstick" run --model "$model" --task humaneval --limit "$items" --allow-code-exec \
    --results-dir "$results" --run-id "$id" "$@" >/dev/null 2>"$results/$id.log" ||
    { cat "$results/$id.log" >&2; exit 1; }
}
run exec-1
run predict-1 --predict-only
run predict-2 --predict-only
run exec-2

python3 - "$results" "$items" "$model" <<'PY'
import json, statistics, sys
from pathlib import Path
root, items, model = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
def speeds(run):
    samples = [json.loads(l) for l in (root / "runs" / run / "samples.jsonl").read_text().splitlines() if l.strip()]
    return {s["item_id"]: s["output_tokens_per_second"] for s in samples if s["output_tokens_per_second"]}
def executed(run):
    samples = [json.loads(l) for l in (root / "runs" / run / "samples.jsonl").read_text().splitlines() if l.strip()]
    return sum(1 for s in samples if s.get("execution"))
runs = ["exec-1", "predict-1", "predict-2", "exec-2"]
data = {r: speeds(r) for r in runs}
print(f"HumanEval, {items} items, {model}: median output tok/s per run")
for r in runs:
    print(f"  {r:<10} {statistics.median(data[r].values()):7.2f} tok/s  ({executed(r)} programs executed)")
def ratio(a, b):
    shared = sorted(set(data[a]) & set(data[b]))
    ratios = [data[a][i] / data[b][i] for i in shared]
    return statistics.median(ratios), min(ratios), max(ratios), len(ratios)
print("paired per-sample ratio (median [min, max], n):")
for a, b in [("exec-1", "predict-1"), ("exec-2", "predict-2"), ("exec-1", "exec-2"), ("predict-1", "predict-2")]:
    m, lo, hi, n = ratio(a, b)
    print(f"  {a} / {b:<10} {m:.3f} [{lo:.3f}, {hi:.3f}]  n = {n}")
shared = sorted(set.intersection(*(set(data[r]) for r in runs)))
pooled = [(data["exec-1"][i] + data["exec-2"][i]) / (data["predict-1"][i] + data["predict-2"][i]) for i in shared]
print(f"pooled (exec-1 + exec-2) / (predict-1 + predict-2) per sample: median {statistics.median(pooled):.3f} "
      f"[{min(pooled):.3f}, {max(pooled):.3f}], n = {len(pooled)}")
PY
