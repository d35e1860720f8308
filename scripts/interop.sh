#!/usr/bin/env bash
# Interop tests against real peers: the rocketmq-rust broker (a process) with
# our namesrv, the rocketmq-rust client (linked into tests/interop) and the
# ali-ons Node.js client (tests/interop-node).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${NAMESRV_INTEROP_CACHE:-$HOME/.cache/namesrv-interop}"
mapfile -t bins < <(bash scripts/peers.sh)
export ROCKETMQ_BROKER_BIN="${bins[0]}"
export ROCKETMQ_NAMESRV_BIN="${bins[1]}"

cargo build --release --bin namesrv
export NAMESRV_BIN="$PWD/target/release/namesrv"

if [ ! -d tests/interop-node/node_modules ]; then
  (cd tests/interop-node && npm ci --no-audit --no-fund)
fi

# Shares the peers' target dir, so their compiled dependencies are reused.
(cd tests/interop && CARGO_TARGET_DIR="$CACHE/target" cargo test --release -- --test-threads=1 --nocapture)
