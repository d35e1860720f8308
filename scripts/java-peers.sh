#!/usr/bin/env bash
# Prints the directory of the Java RocketMQ peers (holding 4.9.7/ and 5.3.3/):
# $ROCKETMQ_JAVA_PEERS, else shared/peers/java beside the checkout or one of
# its parents. Fails with a message when they or `java` are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -n "${ROCKETMQ_JAVA_PEERS:-}" ]; then
  peers="$ROCKETMQ_JAVA_PEERS"
else
  peers=""
  dir=$(pwd -P)
  while [ "$dir" != / ]; do
    if [ -d "$dir/shared/peers/java" ]; then peers="$dir/shared/peers/java"; break; fi
    dir=$(dirname "$dir")
  done
fi
[ -n "$peers" ] || { echo "Java RocketMQ peers not found: set ROCKETMQ_JAVA_PEERS to ../shared/peers/java" >&2; exit 1; }
[ -x "$peers/5.3.3/bin/mqnamesrv" ] || { echo "$peers/5.3.3/bin/mqnamesrv missing (Java peers at $peers)" >&2; exit 1; }
command -v java >/dev/null || { echo "java (17) is not on PATH; the Java peers need it" >&2; exit 1; }
echo "$peers"
