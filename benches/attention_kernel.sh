#!/usr/bin/env bash
# CPU attention alone, on the shipped models' shapes: mistral.rs 0.8.1's kernels (prefill: one
# query row at a time; decode: one key at a time) against the reorganised ones of
# benches/patches/mistralrs-core-0.8.1-cpu-attention-blocked.patch (the same code for F32,
# without ALiBi or soft-capping), in the stand-alone micro-benchmark benches/attention-kernel
# (same random inputs and causal mask; every kernel checked against an f64 attention before
# timing). Prints Markdown tables, one per thread count, and puts
# them into docs/PERFORMANCE.md between <!-- attention-kernel:start --> and
# <!-- attention-kernel:end --> (benches/marked_block.py).
#
# Usage: benches/attention_kernel.sh [TARGET.md]
#   Environment: THREADS (default "1 <cores>"), REPS (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."

target_md="${1:-docs/PERFORMANCE.md}"
cores="$(nproc)"
threads="${THREADS:-1 $cores}"
reps="${REPS:-5}"
target_dir="${CARGO_TARGET_DIR:-$HOME/.cache/yardstick/cargo-target}/attention-kernel"

# The repository's .cargo/config.toml applies (-C target-cpu=native), as for yardstick itself.
cargo build --release --quiet --manifest-path benches/attention-kernel/Cargo.toml \
  --target-dir "$target_dir"
bench="$target_dir/release/attention-kernel"
"$bench" --check-only

cpu="$( (grep -m1 'model name' /proc/cpuinfo || echo ': unknown CPU') | cut -d: -f2- | sed 's/^ *//')"
block="$(mktemp)"
trap 'rm -f "$block"' EXIT
{
  echo "CPU attention alone (\`benches/attention_kernel.sh\`, $(date -u +%Y-%m-%d)): mistral.rs 0.8.1's kernels against the reorganised ones of \`benches/patches/mistralrs-core-0.8.1-cpu-attention-blocked.patch\`, one layer's attention, F32, random inputs: prefill = a causal prompt of that many tokens, decode = one token after that many cached ones; $cpu, $cores logical cores."
  for t in $threads; do
    echo
    # The correctness checks ran above; the page gets the timings.
    RAYON_NUM_THREADS="$t" "$bench" --reps "$reps" | grep -v '^check ' \
      | sed "1s/^threads \([0-9]*\);/**\1 thread(s)**;/"
  done
} > "$block"
cat "$block"
python3 - "$target_md" "$block" <<'PY'
import sys
from pathlib import Path

sys.path.insert(0, "benches")
from marked_block import put_block

put_block(Path(sys.argv[1]), "attention-kernel", Path(sys.argv[2]).read_text(),
          "CPU attention kernel, alone")
PY
