#!/bin/sh
# Builds yardstick and installs it, with the files it reads at run time, into PREFIX: the steps
# of the container recipe's build stage (Dockerfile, docker/Dockerfile.cuda), kept in this script
# so they can be run — and are tested — outside a container.
#
#   docker/install.sh PREFIX
#       release build with RUSTFLAGS="-C target-cpu=$TARGET_CPU" (default x86-64-v3: AVX2 and
#       FMA, which candle's fast kernels need; `native` for this machine) and cargo features
#       $FEATURES (e.g. "cuda"), then install
#   YARDSTICK_BINARY=path/to/yardstick docker/install.sh PREFIX
#       install an already built binary (no build)
#
# PREFIX then holds bin/yardstick, models.toml, hardware.toml, nightly.toml, tasks/, prices/ and
# an empty results/. The binary carries the same files compiled in and runs from anywhere; with
# PREFIX as the working directory, PREFIX's copies (editable) are used and results go to
# PREFIX/results.
set -eu
if [ $# -ne 1 ]; then
  echo "usage: docker/install.sh PREFIX" >&2
  exit 2
fi
prefix=$1
source_dir=$(cd "$(dirname "$0")/.." && pwd)
cd "$source_dir"
if [ -z "${YARDSTICK_BINARY:-}" ]; then
  RUSTFLAGS="-C target-cpu=${TARGET_CPU:-x86-64-v3}"
  export RUSTFLAGS
  if [ -n "${FEATURES:-}" ]; then
    cargo build --release --locked --features "$FEATURES"
  else
    cargo build --release --locked
  fi
  YARDSTICK_BINARY="${CARGO_TARGET_DIR:-target}/release/yardstick"
fi
mkdir -p "$prefix/bin" "$prefix/results"
cp "$YARDSTICK_BINARY" "$prefix/bin/yardstick"
chmod 0755 "$prefix/bin/yardstick"
cp models.toml hardware.toml nightly.toml "$prefix/"
rm -rf "$prefix/tasks" "$prefix/prices"
cp -R tasks prices "$prefix/"
cp results/README.md "$prefix/results/"
echo "installed yardstick into $prefix"
