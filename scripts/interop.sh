#!/usr/bin/env bash
# Interop tests against real peers: the rocketmq-rust broker (a process) with
# our namesrv, the rocketmq-rust client (linked into tests/interop), the
# ali-ons Node.js client (tests/interop-node), the C++ client through its
# Python binding (tests/interop-python), the Java RocketMQ 4.9.7/5.3.3/5.5.0
# NameServer, brokers and mqadmin (official builds from Maven Central, cached
# outside the checkout by scripts/java-peers.sh),
# and headless Chromium on the cluster page (tests/browser).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${NAMESRV_INTEROP_CACHE:-$HOME/.cache/namesrv-interop}"
mapfile -t bins < <(bash scripts/peers.sh)
export ROCKETMQ_BROKER_BIN="${bins[0]}"
export ROCKETMQ_NAMESRV_BIN="${bins[1]}"

cargo build --release --bin namesrv --bin namesrv-admin
export NAMESRV_BIN="$PWD/target/release/namesrv"

# The C++ client (rocketmq-client-cpp 2.0) ships inside this wheel of the
# Python client; a venv in the cache keeps it off the system Python.
PYENV="$CACHE/python-rocketmq-client-0.5.0rc2"
if [ ! -x "$PYENV/bin/python" ] || ! "$PYENV/bin/python" -c 'import rocketmq.client' 2>/dev/null; then
  rm -rf "$PYENV"
  python3 -m venv "$PYENV"
  "$PYENV/bin/pip" install --quiet --disable-pip-version-check 'rocketmq-client-python==0.5.0rc2'
fi
export CPP_CLIENT_PYTHON="$PYENV/bin/python"

if [ ! -d tests/interop-node/node_modules ]; then
  (cd tests/interop-node && npm ci --no-audit --no-fund)
fi

# The cluster page in headless Chromium (Debian's chromium, driven by
# playwright-core from tests/browser; no browser download).
if [ ! -d tests/browser/node_modules ]; then
  (cd tests/browser && npm ci --no-audit --no-fund)
fi
export CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"

# The Java peers (Maven Central, cached); the tests find them through this.
ROCKETMQ_JAVA_PEERS=$(bash scripts/java-peers.sh)
export ROCKETMQ_JAVA_PEERS
echo "Java peers: $ROCKETMQ_JAVA_PEERS" >&2

# The Go client (tests/interop-go, rocketmq-client-go v2.1.2 from the Go
# module proxy): built once per version of its sources into the cache.
GO_INTEROP="$CACHE/go-interop-$(sha256sum tests/interop-go/go.mod tests/interop-go/go.sum tests/interop-go/main.go | sha256sum | cut -c1-16)"
if [ ! -x "$GO_INTEROP/interop-go" ]; then
  mkdir -p "$GO_INTEROP"
  (cd tests/interop-go && go build -o "$GO_INTEROP/interop-go" .)
fi
export GO_CLIENT_BIN="$GO_INTEROP/interop-go"

# Shares the peers' target dir, so their compiled dependencies are reused.
# Arguments select tests (e.g. `--test java_differential`); none runs them all.
(cd tests/interop && CARGO_TARGET_DIR="$CACHE/target" cargo test --release "$@" -- --test-threads=1 --nocapture)
