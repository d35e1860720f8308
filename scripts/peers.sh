#!/usr/bin/env bash
# Builds (once) the peer binaries the interop tests and benchmarks run, from
# the crates.io packages, and caches them outside the checkout keyed by
# version: ~/.cache/namesrv-interop/<crate>-<version>/bin/. Prints their paths.
set -euo pipefail

CACHE="${NAMESRV_INTEROP_CACHE:-$HOME/.cache/namesrv-interop}"
# Shared target dir: the peers share most dependencies, and so does tests/interop.
export CARGO_TARGET_DIR="$CACHE/target"
mkdir -p "$CACHE"

# crate version binary
PEERS=(
  "rocketmq-broker 1.0.0 rocketmq-broker-rust"
  "rocketmq-namesrv 1.0.0 rocketmq-namesrv-rust"
)

for peer in "${PEERS[@]}"; do
  read -r crate version bin <<<"$peer"
  root="$CACHE/$crate-$version"
  if [ ! -x "$root/bin/$bin" ]; then
    echo "building $crate $version (first run only; takes a while)..." >&2
    cargo install "$crate" --version "$version" --locked --root "$root" >&2
  fi
  echo "$root/bin/$bin"
done
