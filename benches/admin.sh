#!/usr/bin/env bash
# Start-to-answer time of namesrv-admin next to Java 5.5.0 mqadmin (the
# official Java peers, installed from Maven Central by scripts/java-peers.sh
# of this checkout, run with its launcher's default JVM flags), each command
# run RUNS times against our namesrv on loopback holding one registered broker
# (namesrv-bench setup). Reported per command and tool: median wall time of a
# whole process run (start, connect, ask, print, exit) and the median CPU time
# (user+sys of the tool process and its children, from bash `times`).
# Usage: bash benches/admin.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh
RUNS="${1:-10}"
JAVA_PEERS=$(bash scripts/java-peers.sh)
MQADMIN="$JAVA_PEERS/java-5.5.0/bin/mqadmin"
cargo build --release --bin namesrv --bin namesrv-admin --bin namesrv-bench >/dev/null 2>&1

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(free_port)
printf 'listenPort=%s\nhttpListenPort=0\nbindAddress=127.0.0.1\nkvConfigPath=%s/kv.json\nconfigStorePath=%s/ns.properties.store\n' \
  "$port" "$work" "$work" >"$work/ns.properties"
target/release/namesrv -c "$work/ns.properties" >"$work/ns.log" 2>&1 &
port_up "$port" "" 100 0.1 || true
NS="127.0.0.1:$port"
target/release/namesrv-bench setup --addr "$NS" --brokers 1 --topics-per-broker 100 >"$work/setup.log" 2>&1 &
sleep 1

# One run of "$@"; prints "wall_ms cpu_ms".
measure() {
  local start end
  start=$(date +%s%N)
  ( "$@" >/dev/null 2>&1 || echo "failed: $*" >>"$work/failures"; times ) >"$work/times"
  end=$(date +%s%N)
  # `times` prints the subshell's and its children's user/sys; the second line is the children's.
  local cpu
  cpu=$(sed -n 2p "$work/times" | awk '{ for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] } } END { printf "%d", t * 1000 }')
  echo "$(( (end - start) / 1000000 )) $cpu"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '%-26s %-14s %12s %12s\n' command tool wall_ms cpu_ms
for cmd in "topicList" "clusterList" "topicRoute -t BenchTopic0" "getNamesrvConfig"; do
  for tool in namesrv-admin mqadmin; do
    : >"$work/runs"
    for _ in $(seq "$RUNS"); do
      if [ "$tool" = namesrv-admin ]; then
        # shellcheck disable=SC2086
        measure target/release/namesrv-admin $cmd -n "$NS" >>"$work/runs"
      else
        # shellcheck disable=SC2086
        RMQ_HOME="$work/mqadmin" measure "$MQADMIN" $cmd -n "$NS" >>"$work/runs"
      fi
    done
    printf '%-26s %-14s %12s %12s\n' "$cmd" "$tool" \
      "$(cut -d' ' -f1 "$work/runs" | median)" "$(cut -d' ' -f2 "$work/runs" | median)"
  done
done
if [ -s "$work/failures" ]; then
  echo "some runs failed:" >&2
  sort "$work/failures" | uniq -c >&2
  exit 1
fi
