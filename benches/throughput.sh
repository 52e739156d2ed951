#!/usr/bin/env bash
# Throughput of yardstick's mistral.rs backend with and without each speed lever, beside llama.cpp
# on the same GGUF files and thread count, the memory-bandwidth roofline, greedy-output identity
# and the harness's own overhead. Writes docs/PERFORMANCE.md.
#
#   benches/throughput.sh [REPETITIONS]      (default 3 per measurement)
#
# llama.cpp comes from llama-cpp-python, installed by this script into a virtual environment
# under $YARDSTICK_BENCH_DIR (it compiles llama.cpp: minutes; not part of CI). Needs the shipped
# models (pulled if missing) and the datasets (imported from $YARDSTICK_DATASETS if missing).
# Run it on an otherwise idle machine: every number is a speed.
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-3}"
prompt=490
generate=128
workload="pp${prompt}-tg${generate}"
work="${YARDSTICK_BENCH_DIR:-$HOME/.cache/yardstick/bench}"
home="${YARDSTICK_HOME:-$HOME/.cache/yardstick}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yardstick/cargo-target}"
cores=$(nproc)
out="$work/throughput-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
echo "results of this bench run: $out"

cargo build --release --quiet
yardstick="$CARGO_TARGET_DIR/release/yardstick"

if [ ! -x "$work/llama-venv/bin/python" ] || ! "$work/llama-venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
  echo "installing llama-cpp-python (compiles llama.cpp)…"
  python3 -m venv "$work/llama-venv"
  # The CPU's SIMD, but no AMX: a VM may report AMX without granting the tile state, and
  # llama.cpp's AMX kernels then crash (seen: segfault in ggml_backend_amx_mul_mat).
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
    -DGGML_AVX512=$(grep -q avx512f /proc/cpuinfo && echo ON || echo OFF) \
    -DGGML_AVX512_VNNI=$(grep -q avx512_vnni /proc/cpuinfo && echo ON || echo OFF) \
    -DGGML_AVX_VNNI=$(grep -q avx_vnni /proc/cpuinfo && echo ON || echo OFF) -DGGML_BMI2=ON \
    -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_BLAS=OFF" \
    "$work/llama-venv/bin/python" -m pip install --quiet llama-cpp-python==0.3.36
fi
"$work/llama-venv/bin/python" -c 'import llama_cpp; print(llama_cpp.__version__)' > "$out/llama_cpp_version.txt"

# A private copy of the project files: registering the q8_0 variants must not edit yours.
project="$out/project"
mkdir -p "$project"
cp -r models.toml hardware.toml tasks prices "$project/"
ys() { (cd "$project" && "$yardstick" "$@"); }
ys data import "${YARDSTICK_DATASETS:-$PWD/../shared/datasets}" > /dev/null
parents=(smollm2-135m-instruct qwen2.5-coder-0.5b-instruct)
ys models pull "${parents[@]}"
models=()
for parent in "${parents[@]}"; do
  ys models quantize "$parent" --to q8_0 --as "$parent-q80" | tee "$out/quantize-$parent.txt"
  models+=("$parent" "$parent-q80")
done

perf() { # model load-path dtype output [env...]
  local model=$1 load_path=$2 dtype=$3 output=$4; shift 4
  (cd "$project" && env HF_HUB_OFFLINE=1 "$@" "$yardstick" perf --model "$model" \
    --workload "$workload" --repetitions "$reps" --no-sweep --load-path "$load_path" \
    --dtype "$dtype" --json --results-dir "$out/results") > "$output"
}
for model in "${models[@]}"; do
  echo "== $model"
  # Baseline: mistral.rs's GgufModelBuilder with every default.
  perf "$model" gguf-model-builder auto "$out/$model.builder.json" RAYON_NUM_THREADS="$cores"
  perf "$model" loader auto "$out/$model.auto.json" RAYON_NUM_THREADS="$cores"
  perf "$model" loader f32 "$out/$model.f32.json" RAYON_NUM_THREADS="$cores"
  # The workers lever: one single-threaded instance per core, on the same work at once.
  pids=()
  for worker in $(seq 1 "$cores"); do
    perf "$model" loader f32 "$out/$model.f32.worker$worker.json" RAYON_NUM_THREADS=1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  "$work/llama-venv/bin/python" benches/llama_cpp_speed.py "$home/models/$model.gguf" "$cores" \
    "$prompt" "$generate" "$reps" > "$out/$model.llama.json"
done

echo "== greedy outputs: auto dtype vs F32 vs F32 with workers (SmolLM2, 10 GSM8K chat items)"
for setup in "auto 1" "f32 1" "f32 $cores"; do
  set -- $setup
  ys run --model smollm2-135m-instruct --task gsm8k_chat --limit 10 --dtype "$1" --workers "$2" \
    --weights quantized --no-pull --results-dir "$out/results" --run-id "identity-$1-w$2" > /dev/null
done

echo "== harness overhead: the default quick suite"
# One process: the overhead figure is one process's (a merged workers run has none).
ys run --workers 1 --no-pull --results-dir "$out/results" --run-id default-suite > "$out/default-suite.txt"

# The suite comparison (benches/suite_vs_llama_server.sh), the full-size extrapolation
# (benches/full_size_extrapolation.py), the CPU profile (benches/attention_profile.py) and the
# attention micro-benchmark (benches/attention_kernel.sh) keep their own blocks of the page.
block() { sed -n "/<!-- $1:start -->/,/<!-- $1:end -->/p" docs/PERFORMANCE.md 2>/dev/null || true; }
suite_block=$(block suite-vs-llama-server)
full_size_block=$(block full-size-extrapolation)
full_size_patched_block=$(block full-size-extrapolation-patched)
profile_block=$(block attention-profile)
kernel_block=$(block attention-kernel)
python3 benches/performance_report.py "$out" "$cores" "$reps" > docs/PERFORMANCE.md
keep() {
  if [ -n "$2" ]; then printf '\n## %s\n\n%s\n' "$1" "$2" >> docs/PERFORMANCE.md; fi
}
keep "Suite speed against llama-server" "$suite_block"
keep "Full-size suites, extrapolated" "$full_size_block"
keep "Full-size suites with the attention patch, extrapolated" "$full_size_patched_block"
keep "Where prefill time goes" "$profile_block"
keep "CPU attention kernel, alone" "$kernel_block"
echo "wrote docs/PERFORMANCE.md"
