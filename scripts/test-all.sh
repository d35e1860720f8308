#!/usr/bin/env bash
# Runs every test: the crate's unit and integration tests, then the interop
# tests against real peers (rocketmq-rust broker and client, ali-ons, the C++
# client, the Java 4.9.7/5.3.3/5.5.0 NameServer, brokers and mqadmin).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --release --all-targets
bash scripts/interop.sh
