#!/usr/bin/env bash
# How far outputs and scores move with mistral.rs's prefix cache on against off: the same run
# (a few-shot task, greedy) twice, `--prefix-cache on` and `off`, everything else forced equal
# (dtype, weights); prints identical greedy outputs, each run's score with its interval, backend
# seconds, model loads and peak memory.
#
#   benches/prefix_cache_agreement.sh [MODEL] [TASK] [ITEMS] [WEIGHTS]
#   (defaults: smollm2-135m-instruct gsm8k_cot 30 dequantized)
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-smollm2-135m-instruct}"
task="${2:-gsm8k_cot}"
items="${3:-30}"
weights="${4:-dequantized}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yardstick/cargo-target}"
work="${YARDSTICK_BENCH_DIR:-$HOME/.cache/yardstick/bench}/prefix-cache-$(date -u +%Y%m%dT%H%M%SZ)"
cargo build --release --quiet
yardstick="$CARGO_TARGET_DIR/release/yardstick"
for cache in off on; do
  "$yardstick" run --model "$model" --task "$task" --limit "$items" --dtype f32 \
    --weights "$weights" --prefix-cache "$cache" --workers 1 --results-dir "$work" --run-id "$cache" \
    > "$work-$cache.txt" 2>&1 || { cat "$work-$cache.txt"; exit 1; }
done
python3 - "$work" <<'PY'
import json, sys
from pathlib import Path
work = Path(sys.argv[1])
def run(name):
    d = work / "runs" / name
    samples = [json.loads(l) for l in (d / "samples.jsonl").read_text().splitlines() if l]
    return samples, json.loads((d / "summary.json").read_text())
(off, off_summary), (on, on_summary) = run("off"), run("on")
same = sum(a["output"] == b["output"] for a, b in zip(off, on))
print(f"greedy outputs identical: {same} of {len(off)} ({100 * same / len(off):.0f}%)")
for name, summary in [("off", off_summary), ("on", on_summary)]:
    r = summary["results"][0]
    m = r["metrics"][r["primary_metric"]]
    print(f"prefix cache {name}: {r['primary_metric']} {100 * m['value']:.1f}% "
          f"[{100 * m['ci_low']:.1f}, {100 * m['ci_high']:.1f}], backend {r['speed']['busy_seconds']:.1f} s, "
          f"{len(summary['models'])} load(s), peak {summary['peak_rss_bytes'] / 2**20:.0f} MB")
PY
