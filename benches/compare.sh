#!/usr/bin/env bash
# Side-by-side route-lookup comparison in one run, on loopback:
#   ours      - target/release/namesrv
#   rust      - the rocketmq-rust NameServer (crate rocketmq-namesrv 1.0, built by scripts/peers.sh)
#   echo      - namesrv-bench echo: answers every frame with a fixed body of the
#               same size as our route answer (the ceiling of this machine)
# One real rocketmq-rust broker registers with both NameServers (namesrvAddr
# lists both), so both hold the same routes. The same load (namesrv-bench
# route) runs against each in turn; a table of absolute figures and ratios
# is printed. Each server is measured ROUNDS times, interleaved, and the
# median round (by req/s) is reported: a shared 2-core machine is noisy.
# Then, against both NameServers: registrations of 10,000-topic bodies
# (namesrv-bench register, 4 brokers back to back, the Java JSON form) and
# route lookups while 10 brokers x 10,000 topics re-register back to back
# (namesrv-bench mixed): route p99 under churn over idle. Last, on a fresh
# server of each kind, resident memory with 100 brokers x 10,000 topics.
# Usage: bash benches/compare.sh [connections] [pipeline] [seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS="${1:-64}"; PIPE="${2:-8}"; SECS="${3:-10}"; ROUNDS="${4:-3}"
TOPICS="TBW102,SELF_TEST_TOPIC,BenchmarkTest,OFFSET_MOVED_EVENT"

mapfile -t bins < <(bash scripts/peers.sh)
BROKER_BIN="${bins[0]}"; RUST_NS_BIN="${bins[1]}"
cargo build --release --bins >&2
BENCH=target/release/namesrv-bench

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work" 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
OURS=$(free_port); RUST=$(free_port); ECHO=$(free_port); BROKER=$(free_port)

# start_ours/start_rust PORT TAG: a NameServer with its files under $work/TAG; sets STARTED_PID.
start_ours() {
  mkdir -p "$work/$2"
  target/release/namesrv -D listenPort="$1" -D bindAddress=127.0.0.1 \
    -D kvConfigPath="$work/$2/kv.json" -D configStorePath="$work/$2/store.properties" >"$work/$2.log" 2>&1 &
  STARTED_PID=$!; pids+=("$STARTED_PID")
}
start_rust() {
  mkdir -p "$work/$2"
  ROCKETMQ_HOME="$work/$2" RUST_LOG=warn "$RUST_NS_BIN" --listenPort "$1" --bindAddress 127.0.0.1 \
    --kvConfigPath "$work/$2/kv.json" >"$work/$2.log" 2>&1 &
  STARTED_PID=$!; pids+=("$STARTED_PID")
}
start_ours "$OURS" ours; OURS_PID=$STARTED_PID
start_rust "$RUST" rust; RUST_PID=$STARTED_PID
sleep 1

mkdir -p "$work/bhome/conf" "$work/store"
cat >"$work/broker.properties" <<PROPS
brokerClusterName=BenchCluster
brokerName=bench-broker-a
brokerId=0
listenPort=$BROKER
brokerIP1=127.0.0.1
namesrvAddr=127.0.0.1:$OURS;127.0.0.1:$RUST
storePathRootDir=$work/store
storePathCommitLog=$work/store/commitlog
haListenPort=$((BROKER + 1))
PROPS
ROCKETMQ_HOME="$work/bhome" RUST_LOG=warn NO_COLOR=1 "$BROKER_BIN" -c "$work/broker.properties" >"$work/broker.log" 2>&1 &
pids+=($!)

route_size() { python3 - "$1" <<'PY'
import socket, struct, json, sys
port = int(sys.argv[1])
h = json.dumps({"code":105,"extFields":{"topic":"TBW102"},"flag":0,"language":"JAVA","opaque":1,"version":479,"serializeTypeCurrentRPC":"JSON"}).encode()
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(5)
s.sendall(struct.pack(">ii", 4+len(h), len(h)) + h)
buf = b""
while len(buf) < 4: buf += s.recv(4 - len(buf))
n = struct.unpack(">i", buf)[0]; d = b""
while len(d) < n: d += s.recv(n - len(d))
hl = struct.unpack(">i", d[:4])[0] & 0xffffff
code = json.loads(d[4:4+hl])["code"]
print(len(d) - 4 - hl if code == 0 else -1)
PY
}
for port in "$OURS" "$RUST"; do
  for _ in $(seq 1 120); do
    size=$(route_size "$port" 2>/dev/null || echo -1)
    [ "$size" -gt 0 ] && break
    sleep 0.5
  done
  [ "$size" -gt 0 ] || { echo "broker did not register with 127.0.0.1:$port" >&2; tail -20 "$work/broker.log" >&2; exit 1; }
done
BODY=$(route_size "$OURS")

"$BENCH" echo --listen "127.0.0.1:$ECHO" --body-size "$BODY" 2>/dev/null &
pids+=($!)
sleep 0.5

run() { "$BENCH" route --addr "127.0.0.1:$1" -c "$CONNS" -p "$PIPE" -d "$SECS" --topic-names "$TOPICS" --json 2>/dev/null; }
echo "route lookups: $CONNS connections x $PIPE in flight, $SECS s x $ROUNDS rounds each, topics $TOPICS, answer $BODY bytes" >&2
OURS_RUNS=(); RUST_RUNS=(); ECHO_RUNS=()
for _ in $(seq 1 "$ROUNDS"); do
  OURS_RUNS+=("$(run "$OURS")"); RUST_RUNS+=("$(run "$RUST")"); ECHO_RUNS+=("$(run "$ECHO")")
done
median() { printf '%s\n' "$@" | python3 -c 'import json,sys; r=sorted((json.loads(l) for l in sys.stdin if l.strip()), key=lambda x: x["per_sec"]); print(json.dumps(r[len(r)//2]))'; }
OURS_JSON=$(median "${OURS_RUNS[@]}"); RUST_JSON=$(median "${RUST_RUNS[@]}"); ECHO_JSON=$(median "${ECHO_RUNS[@]}")
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
OURS_RSS=$(rss "$OURS_PID"); RUST_RSS=$(rss "$RUST_PID")

echo "registrations: 4 brokers x 10,000 topics back to back, $SECS s each" >&2
reg() { "$BENCH" register --register-addr "127.0.0.1:$1" -b 4 -k 10000 --register-duration "$SECS" --register-json 2>/dev/null | tail -1; }
OURS_REG=$(reg "$OURS"); RUST_REG=$(reg "$RUST")
echo "churn: route load as above while 10 brokers x 10,000 topics re-register back to back" >&2
mixed() { "$BENCH" mixed --addr "127.0.0.1:$1" --register-addr "127.0.0.1:$1" -c "$CONNS" -p "$PIPE" -d "$SECS" \
  --topic-names "$TOPICS" -b 10 -k 10000 --json 2>/dev/null | python3 -c 'import json,sys; print(json.dumps({j["mode"]: j for j in map(json.loads, sys.stdin)}))'; }
OURS_MIX=$(mixed "$OURS"); RUST_MIX=$(mixed "$RUST")

# Memory: fresh servers (no churn history), 100 brokers x 10,000 topics = 1M
# (topic, broker) queue entries each, held alive by namesrv-bench setup.
echo "memory: 100 brokers x 10,000 topics registered on a fresh server of each kind" >&2
MEM_OURS=$(free_port); MEM_RUST=$(free_port)
start_ours "$MEM_OURS" ours-mem; MEM_OURS_PID=$STARTED_PID
start_rust "$MEM_RUST" rust-mem; MEM_RUST_PID=$STARTED_PID
sleep 1
loaded_rss() { # pid port -> "idle_kib loaded_kib"
  local before; before=$(rss "$1")
  "$BENCH" setup --addr "127.0.0.1:$2" -b 100 -k 10000 --period 3600 >"$work/setup-$2.out" 2>&1 &
  local setup=$!; pids+=($setup)
  for _ in $(seq 1 1200); do
    grep -q registered "$work/setup-$2.out" && break
    kill -0 "$setup" 2>/dev/null || { echo "setup against port $2 failed:" >&2; cat "$work/setup-$2.out" >&2; exit 1; }
    sleep 0.5
  done
  sleep 2 # let transient parse buffers be given back
  echo "$before $(rss "$1")"
  kill "$setup" 2>/dev/null || true
}
OURS_MEM=$(loaded_rss "$MEM_OURS_PID" "$MEM_OURS"); RUST_MEM=$(loaded_rss "$MEM_RUST_PID" "$MEM_RUST")

python3 - "$OURS_JSON" "$RUST_JSON" "$ECHO_JSON" "$OURS_RSS" "$RUST_RSS" "$OURS_REG" "$RUST_REG" "$OURS_MIX" "$RUST_MIX" "$OURS_MEM" "$RUST_MEM" <<'PY'
import json, sys
ours, rust, echo = (json.loads(a) for a in sys.argv[1:4])
ours_rss, rust_rss = int(sys.argv[4]), int(sys.argv[5])
ours_reg, rust_reg, ours_mix, rust_mix = (json.loads(a) for a in sys.argv[6:10])
print(f"{'server':<22}{'req/s':>12}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}{'RSS MiB':>9}")
for name, r, mem in (("namesrv (ours)", ours, ours_rss), ("rocketmq-namesrv 1.0", rust, rust_rss), ("echo ceiling", echo, None)):
    m = f"{mem/1024:.1f}" if mem else "-"
    print(f"{name:<22}{r['per_sec']:>12.0f}{r['errors']:>8}{r['p50_ms']:>9.3f}{r['p99_ms']:>9.3f}{r['p999_ms']:>10.3f}{m:>9}")
print(f"ours / rocketmq-namesrv: {ours['per_sec']/max(rust['per_sec'],1):.2f}x req/s, "
      f"p99 {rust['p99_ms']/max(ours['p99_ms'],1e-9):.2f}x lower")
print(f"ours / echo ceiling:     {100*ours['per_sec']/max(echo['per_sec'],1):.0f}% of req/s")
print()
print(f"{'10k-topic registrations':<24}{'reg/s':>8}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}")
for name, r in (("namesrv (ours)", ours_reg), ("rocketmq-namesrv 1.0", rust_reg)):
    print(f"{name:<24}{r['per_sec']:>8.1f}{r['errors']:>8}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}")
print(f"ours / rocketmq-namesrv: {ours_reg['per_sec']/max(rust_reg['per_sec'],1e-9):.2f}x registrations/s")
print()
print(f"{'route under churn':<24}{'idle p99':>10}{'churn p99':>10}{'ratio':>9}{'churn req/s':>13}{'reg/s':>7}")
for name, m in (("namesrv (ours)", ours_mix), ("rocketmq-namesrv 1.0", rust_mix)):
    idle, busy, reg = m["route-idle"], m["route-churn"], m["register-churn"]
    ratio = f"{busy['p99_ms']/max(idle['p99_ms'],1e-9):.2f}x"
    print(f"{name:<24}{idle['p99_ms']:>10.3f}{busy['p99_ms']:>10.3f}{ratio:>9}"
          f"{busy['per_sec']:>13.0f}{reg['per_sec']:>7.1f}")
print()
(ours_idle, ours_loaded), (rust_idle, rust_loaded) = (map(int, a.split()) for a in sys.argv[10:12])
entries = 100 * 10_000
print(f"{'1M queue entries':<24}{'idle MiB':>10}{'loaded MiB':>12}{'B/entry':>9}")
for name, idle, loaded in (("namesrv (ours)", ours_idle, ours_loaded), ("rocketmq-namesrv 1.0", rust_idle, rust_loaded)):
    print(f"{name:<24}{idle/1024:>10.1f}{loaded/1024:>12.1f}{loaded*1024/entries:>9.0f}")
print(f"rocketmq-namesrv / ours: {rust_loaded/max(ours_loaded,1):.2f}x the resident memory (B/entry: whole RSS / 1M)")
PY
