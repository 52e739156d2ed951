#!/usr/bin/env bash
# Builds yardstick with one of benches/patches applied to mistral.rs's mistralrs-core 0.8.1, for
# measuring what the patch changes (yardstick itself ships mistral.rs unpatched). The patched
# crate's version gets the build metadata "+yardstick.NAME", so the binary's manifests,
# calibration cache and `yardstick doctor` say "0.8.1 with mistralrs-core 0.8.1+yardstick.NAME":
# its results are never compared with a stock build's as like with like.
#
# Usage: benches/patched_build.sh benches/patches/mistralrs-core-0.8.1-NAME.patch
#   Builds the commit checked out here (HEAD; uncommitted changes are not in it) in a git
#   worktree under ~/.cache/yardstick/patched/NAME/, with the same CARGO_TARGET_DIR as the stock
#   build (only mistral.rs's crates and yardstick recompile; the stock binary in it is relinked
#   by the next plain `cargo build`), and copies the binary to ~/.cache/yardstick/patched/NAME/yardstick.
set -euo pipefail
cd "$(dirname "$0")/.."

patch_file="$(realpath "${1:?usage: benches/patched_build.sh PATCH}")"
if [ ! -f "$patch_file" ]; then
  echo "error: no patch file $1 (the patches are in benches/patches/)" >&2
  exit 2
fi
name="$(basename "$patch_file" .patch)"
name="${name#mistralrs-core-0.8.1-}"
# NAME becomes semver build metadata of the patched crate: letters, digits, '-' and '.' only.
if ! [[ "$name" =~ ^[0-9A-Za-z.-]+$ ]]; then
  echo "error: $patch_file: name the patch mistralrs-core-0.8.1-NAME.patch, NAME made of letters, digits, '-' and '.'" >&2
  exit 2
fi
base="$HOME/.cache/yardstick/patched/$name"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yardstick/cargo-target}"

# The registry's source of mistralrs-core 0.8.1, patched once per version of the patch.
cargo fetch --quiet
src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/mistralrs-core-0.8.1 | head -n1)"
core="$base/mistralrs-core"
stamp="$(sha256sum "$patch_file" | cut -d' ' -f1)"
if [ "$(cat "$base/patch.sha256" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$core"
  mkdir -p "$base"
  cp -r "$src" "$core"
  chmod -R u+w "$core"
  patch --quiet -d "$core" -p1 < "$patch_file"
  sed -i "0,/^version = \"0.8.1\"$/s//version = \"0.8.1+yardstick.$name\"/" "$core/Cargo.toml"
  echo "$stamp" > "$base/patch.sha256"
fi

commit="$(git rev-parse HEAD)"
[ -z "$(git status --porcelain --untracked-files=no)" ] \
  || echo "note: building commit ${commit:0:12}; uncommitted changes here are not in it" >&2
checkout="$base/checkout"
git worktree prune
if [ -d "$checkout" ]; then
  git -C "$checkout" reset --quiet --hard "$commit"
else
  git worktree add --quiet --detach "$checkout" "$commit"
fi
patched=(--config "patch.crates-io.mistralrs-core.path=\"$core\"")
# The worktree's Cargo.lock moves from the registry's 0.8.1 to the patched 0.8.1+yardstick.NAME.
(cd "$checkout" && cargo update --quiet -p mistralrs-core "${patched[@]}" \
  && cargo build --release "${patched[@]}")
cp "$CARGO_TARGET_DIR/release/yardstick" "$base/yardstick"
"$base/yardstick" doctor | grep -i "mistral.rs" || true
echo "$base/yardstick"
