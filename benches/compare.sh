#!/usr/bin/env bash
# Side-by-side comparison of NameServers in one run, on loopback:
#   ours      - target/release/namesrv
#   rust      - the rocketmq-rust NameServer (crate rocketmq-namesrv 1.0, built by scripts/peers.sh)
#   java      - the Apache RocketMQ 5.5.0 NameServer (the official build from Maven Central,
#               installed by scripts/java-peers.sh), heap $JAVA_NS_HEAP
#               (default -Xms1g -Xmx1g), otherwise its launcher's default flags (full JIT)
#   echo      - namesrv-bench echo: answers every frame with a fixed body of the
#               same size as our route answer (the ceiling of this machine)
# One real rocketmq-rust broker registers with the three NameServers (namesrvAddr
# lists them all), so all hold the same routes.
# Warm-up: before any counted round, one uncounted route round against every
# server and one uncounted registration round against every NameServer (the
# Java server needs its JIT warm; the others are warmed alike for fairness).
# Route lookups: the same load (namesrv-bench route) runs against each server
# in turn, ROUNDS times, interleaved; the median round (by req/s) is reported,
# as a shared 2-core machine is noisy.
# Then, against the three NameServers: registrations of 10,000-topic bodies
# (namesrv-bench register, 4 brokers back to back, the Java JSON form with
# bodyCrc32), each with a new data version (the same topics; then one topic's
# perm changed too, as by updateTopic; then every topic's), then each repeating
# the broker's previous body (--unchanged: what a broker sends every 30 s), and
# route lookups while 10 brokers x 10,000 topics re-register back to back
# (namesrv-bench mixed): route p99 under churn over idle. Last, on a fresh
# server of each kind, resident memory with 100 brokers x 10,000 topics.
# Server CPU per request: the load generator shares the 2 cores, so req/s
# depends on how much CPU the generator leaves; CPU time per request much less so.
# It is the server process's utime+stime (/proc/PID/stat, in clock ticks of
# getconf CLK_TCK; for Java the JVM's, all threads, JIT and GC included),
# sampled right before and right after each measured run, divided by the
# requests answered in it: route lookups over all rounds, registrations, and
# under churn the server's whole CPU in the churn phase (registrations'
# parsing included) over the route lookups answered in that phase.
# Usage: bash benches/compare.sh [connections] [pipeline] [seconds] [rounds]
# (COMPARE_KEEP_WORK=1 keeps the work directory: the servers' logs, the raw results.)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

CONNS="${1:-64}"; PIPE="${2:-8}"; SECS="${3:-10}"; ROUNDS="${4:-3}"
TOPICS="TBW102,SELF_TEST_TOPIC,BenchmarkTest,OFFSET_MOVED_EVENT"
JAVA_HEAP="${JAVA_NS_HEAP:--Xms1g -Xmx1g}"
TICK=$(getconf CLK_TCK)

JAVA_PEERS=$(bash scripts/java-peers.sh 5.5.0)
JAVA_NS="$JAVA_PEERS/java-5.5.0/bin/mqnamesrv"

mapfile -t bins < <(bash scripts/peers.sh)
BROKER_BIN="${bins[0]}"; RUST_NS_BIN="${bins[1]}"
cargo build --release --bins >&2
BENCH=target/release/namesrv-bench

work=$(mktemp -d)
res="$work/results" # one file per server and measurement, JSON lines
mkdir -p "$res"
pids=()
cleanup() { end_work "${COMPARE_KEEP_WORK:-}" "servers' logs, results"; }
trap cleanup EXIT

OURS=$(free_port); RUST=$(free_port); JAVA=$(free_port); ECHO=$(free_port); BROKER=$(free_port)

# start_ours/start_rust/start_java PORT TAG: a NameServer with its files under
# $work/TAG and its output in $work/TAG.log; sets STARTED_PID.
start_ours() {
  mkdir -p "$work/$2"
  target/release/namesrv -D listenPort="$1" -D httpListenPort="$(free_port)" -D bindAddress=127.0.0.1 \
    -D kvConfigPath="$work/$2/kv.json" -D configStorePath="$work/$2/store.properties" >"$work/$2.log" 2>&1 &
  STARTED_PID=$!; pids+=("$STARTED_PID")
}
start_rust() {
  mkdir -p "$work/$2"
  ROCKETMQ_HOME="$work/$2" RUST_LOG=warn "$RUST_NS_BIN" --listenPort "$1" --bindAddress 127.0.0.1 \
    --kvConfigPath "$work/$2/kv.json" >"$work/$2.log" 2>&1 &
  STARTED_PID=$!; pids+=("$STARTED_PID")
}
start_java() { # the launcher execs java: $! is the JVM
  mkdir -p "$work/$2"
  printf 'listenPort=%s\nbindAddress=127.0.0.1\nkvConfigPath=%s\n' "$1" "$work/$2/kv.json" >"$work/$2.properties"
  RMQ_HOME="$work/$2" JAVA_OPT_EXT="$JAVA_HEAP" "$JAVA_NS" -c "$work/$2.properties" >"$work/$2.log" 2>&1 &
  STARTED_PID=$!; pids+=("$STARTED_PID")
}
# wait_port PORT PID TAG: until PORT accepts connections; fails if PID dies or after 60 s.
wait_port() {
  port_up "$1" "$2" 120 0.5 && return 0
  echo "$3 does not accept connections on 127.0.0.1:$1; its output:" >&2
  tail -20 "$work/$3.log" >&2
  exit 1
}
start_ours "$OURS" ours; OURS_PID=$STARTED_PID
start_rust "$RUST" rust; RUST_PID=$STARTED_PID
start_java "$JAVA" java; JAVA_PID=$STARTED_PID
wait_port "$OURS" "$OURS_PID" ours; wait_port "$RUST" "$RUST_PID" rust; wait_port "$JAVA" "$JAVA_PID" java

mkdir -p "$work/bhome/conf" "$work/store"
cat >"$work/broker.properties" <<PROPS
brokerClusterName=BenchCluster
brokerName=bench-broker-a
brokerId=0
listenPort=$BROKER
brokerIP1=127.0.0.1
namesrvAddr=127.0.0.1:$OURS;127.0.0.1:$RUST;127.0.0.1:$JAVA
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
for port in "$OURS" "$RUST" "$JAVA"; do
  for _ in $(seq 1 120); do
    size=$(route_size "$port" 2>/dev/null || echo -1)
    [ "$size" -gt 0 ] && break
    sleep 0.5
  done
  [ "$size" -gt 0 ] || { echo "broker did not register with 127.0.0.1:$port" >&2; tail -20 "$work/broker.log" >&2; exit 1; }
done
BODY=$(route_size "$OURS")

"$BENCH" echo --listen "127.0.0.1:$ECHO" --body-size "$BODY" 2>/dev/null &
ECHO_PID=$!; pids+=("$ECHO_PID")
wait_port "$ECHO" "$ECHO_PID" echo

# measure PID CMD...: runs CMD (a namesrv-bench mode printing one JSON line)
# and prints that line with "cpu_ticks": the CPU time PID spent meanwhile.
measure() {
  local pid=$1 before after out; shift
  before=$(cpu_ticks "$pid")
  out=$("$@" 2>/dev/null | tail -1)
  after=$(cpu_ticks "$pid")
  [[ $out == '{'*'}' ]] || { echo "no result from: $*" >&2; exit 1; }
  echo "${out%\}},\"cpu_ticks\":$((after - before))}"
}
route() { "$BENCH" route --addr "127.0.0.1:$1" -c "$CONNS" -p "$PIPE" -d "$SECS" --topic-names "$TOPICS" --json; }
reg() { "$BENCH" register --register-addr "127.0.0.1:$1" -b 4 -k 10000 --register-duration "$SECS" --register-json "${@:2}"; }

echo "warm-up (uncounted, JIT warm-up for the Java server, every server alike): one route round per server, one registration round per NameServer" >&2
for port in "$OURS" "$RUST" "$JAVA" "$ECHO"; do route "$port" >/dev/null 2>&1; done
for port in "$OURS" "$RUST" "$JAVA"; do reg "$port" >/dev/null 2>&1; done

echo "route lookups: $CONNS connections x $PIPE in flight, $SECS s x $ROUNDS rounds each, topics $TOPICS, our answer $BODY bytes" >&2
for _ in $(seq 1 "$ROUNDS"); do
  measure "$OURS_PID" route "$OURS" >>"$res/ours.route"
  measure "$RUST_PID" route "$RUST" >>"$res/rust.route"
  measure "$JAVA_PID" route "$JAVA" >>"$res/java.route"
  measure "$ECHO_PID" route "$ECHO" >>"$res/echo.route"
done
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
echo "{\"ours\":$(rss "$OURS_PID"),\"rust\":$(rss "$RUST_PID"),\"java\":$(rss "$JAVA_PID")}" >"$res/route.rss"

echo "registrations: 4 brokers x 10,000 topics back to back, $SECS s each" >&2
measure "$OURS_PID" reg "$OURS" >"$res/ours.reg"
measure "$RUST_PID" reg "$RUST" >"$res/rust.reg"
measure "$JAVA_PID" reg "$JAVA" >"$res/java.reg"
echo "registrations changing one topic as well (--changed-topics 1), then every topic (--changed-topics 10000)" >&2
for kind in one:1 all:10000; do
  measure "$OURS_PID" reg "$OURS" --changed-topics "${kind#*:}" >"$res/ours.${kind%:*}"
  measure "$RUST_PID" reg "$RUST" --changed-topics "${kind#*:}" >"$res/rust.${kind%:*}"
  measure "$JAVA_PID" reg "$JAVA" --changed-topics "${kind#*:}" >"$res/java.${kind%:*}"
done
echo "unchanged re-registrations: the same, each broker re-sending one body (a broker whose topics did not change)" >&2
measure "$OURS_PID" reg "$OURS" --unchanged >"$res/ours.same"
measure "$RUST_PID" reg "$RUST" --unchanged >"$res/rust.same"
measure "$JAVA_PID" reg "$JAVA" --unchanged >"$res/java.same"

# mixed PID PORT [REGISTER ARGS]: namesrv-bench mixed (a route phase idle, then
# one under churn; the churn is 10 brokers x 10,000 topics unless told);
# prints its JSON lines plus {"mode":"cpu","idle_ticks":…,"churn_ticks":…}: the
# server's CPU in each phase. /proc/PID/stat is sampled before the run, when the
# idle phase's report appears (the churn phase starts right after it), and
# after the run (which waits for the registrations still in flight).
mixed() {
  local pid=$1 start idle end line done=0
  start=$(cpu_ticks "$pid"); idle=$start
  while IFS= read -r line; do
    echo "$line"
    [[ $line == *'"route-idle"'* ]] && idle=$(cpu_ticks "$pid")
    [[ $line == *'"register-churn"'* ]] && done=1
  done < <("$BENCH" mixed --addr "127.0.0.1:$2" --register-addr "127.0.0.1:$2" -c "$CONNS" -p "$PIPE" -d "$SECS" \
    --topic-names "$TOPICS" "${@:3}" --json 2>/dev/null)
  end=$(cpu_ticks "$pid")
  [ "$done" = 1 ] || { echo "no result from namesrv-bench mixed against port $2" >&2; exit 1; }
  echo "{\"mode\":\"cpu\",\"idle_ticks\":$((idle - start)),\"churn_ticks\":$((end - idle))}"
}
echo "churn: route load as above while 10 brokers x 10,000 topics re-register back to back" >&2
mixed "$OURS_PID" "$OURS" -b 10 -k 10000 >"$res/ours.mix"
mixed "$RUST_PID" "$RUST" -b 10 -k 10000 >"$res/rust.mix"
mixed "$JAVA_PID" "$JAVA" -b 10 -k 10000 >"$res/java.mix"

# A registration storm, as after a NameServer restart: 1,000 brokers x 1,000
# topics connect and register at once (each once, then they stay connected).
# First alone: the time until every registration is answered (60 s at most),
# and the server's CPU; then with the route load running: route p99 during
# the storm over idle.
storm() { "$BENCH" register --register-addr "127.0.0.1:$1" -b 1000 -k 1000 --once --register-duration 60 --register-json; }
echo "storm: 1,000 brokers x 1,000 topics registering at once, alone, then under the route load" >&2
for s in ours rust java; do
  pid_var="${s^^}_PID"; port_var="${s^^}"
  measure "${!pid_var}" storm "${!port_var}" >"$res/$s.storm"
  mixed "${!pid_var}" "${!port_var}" -b 1000 -k 1000 --once >"$res/$s.smix"
done

# Memory: fresh servers (no churn history), N brokers x 10,000 topics = N x 10,000
# (topic, broker) queue entries each, held alive by namesrv-bench setup; for each
# N in COMPARE_MEM_BROKERS (default "100 1000": 1M and 10M entries). The Java
# heap is $JAVA_HEAP at 1M entries and $JAVA_MEM_HEAP (default -Xms1g -Xmx8g)
# above. Each size's servers are stopped before the next starts; one still
# loading after MEM_SETUP_SECS (default 300) is reported with the RSS it reached.
JAVA_MEM_HEAP="${JAVA_MEM_HEAP:--Xms1g -Xmx8g}"
MEM_SETUP_SECS="${MEM_SETUP_SECS:-300}" # a server still loading after this is reported as such
# loaded_rss PID PORT NAME BROKERS: appends {"NAME":[idle_kib, loaded_kib]} to $res/mem-BROKERS.
loaded_rss() {
  local before setup
  before=$(rss "$1")
  "$BENCH" setup --addr "127.0.0.1:$2" -b "$4" -k 10000 --period 3600 >"$work/setup-$2.out" 2>&1 &
  setup=$!; pids+=("$setup")
  for _ in $(seq 1 $((2 * MEM_SETUP_SECS))); do
    grep -q registered "$work/setup-$2.out" && break
    kill -0 "$setup" 2>/dev/null || { echo "setup against $3 (port $2) failed:" >&2; cat "$work/setup-$2.out" >&2; exit 1; }
    sleep 0.5
  done
  if grep -q registered "$work/setup-$2.out"; then
    sleep 2 # let transient parse buffers be given back
    echo "{\"$3\":[$before,$(rss "$1")]}" >>"$res/mem-$4"
  else # recorded as not loaded, with the RSS it had reached
    echo "$3 did not take $4 registrations within $MEM_SETUP_SECS s" >&2
    echo "{\"$3\":[$before,null,$(rss "$1")]}" >>"$res/mem-$4"
  fi
  kill "$setup" 2>/dev/null || true
}
for brokers in ${COMPARE_MEM_BROKERS:-100 1000}; do
  heap="$JAVA_HEAP"; [ "$brokers" -le 100 ] || heap="$JAVA_MEM_HEAP"
  echo "memory: $brokers brokers x 10,000 topics registered on a fresh server of each kind (Java heap $heap)" >&2
  for s in ours rust java; do
    port=$(free_port)
    JAVA_HEAP="$heap" "start_$s" "$port" "$s-mem-$brokers"
    wait_port "$port" "$STARTED_PID" "$s-mem-$brokers"
    sleep 1
    loaded_rss "$STARTED_PID" "$port" "$s" "$brokers"
    kill "$STARTED_PID" 2>/dev/null || true # its memory back before the next server loads
    wait "$STARTED_PID" 2>/dev/null || true
  done
  echo "{\"java_heap\":\"$heap\"}" >>"$res/mem-$brokers"
done

python3 - "$res" "$TICK" "$ROUNDS" "$JAVA_HEAP" "$MEM_SETUP_SECS" <<'PY'
import json, sys
res, tick, rounds, heap, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]

def lines(name):
    with open(f"{res}/{name}") as f:
        return [json.loads(l) for l in f if l.strip()]

def cpu_per(ticks, requests, unit):  # server CPU per request, in seconds * unit
    return ticks / tick * unit / requests if requests else float("nan")

def x(a, b):  # a / b, or nan when b is 0 (a short run may see no CPU tick)
    return a / b if b else float("nan")

NAMES = {"ours": "namesrv (ours)", "rust": "rocketmq-namesrv 1.0",
         "java": "Java NameServer 5.5.0", "echo": "echo ceiling"}
OTHERS = ("rust", "java")
JAVA_NOTE = f"Java heap {heap}"

# Route lookups: the median round by req/s; CPU over all rounds.
route, route_cpu = {}, {}
for s in ("ours", "rust", "java", "echo"):
    runs = sorted(lines(f"{s}.route"), key=lambda r: r["per_sec"])
    route[s] = runs[len(runs) // 2]
    route_cpu[s] = cpu_per(sum(r["cpu_ticks"] for r in runs), sum(r["requests"] for r in runs), 1e6)
rss = lines("route.rss")[0]
print(f"{'route lookups':<24}{'req/s':>10}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}"
      f"{'RSS MiB':>9}{'CPU µs/lookup':>15}")
for s, r in route.items():
    mem = f"{rss[s] / 1024:.1f}" if s in rss else "-"
    print(f"{NAMES[s]:<24}{r['per_sec']:>10.0f}{r['errors']:>8}{r['p50_ms']:>9.3f}{r['p99_ms']:>9.3f}"
          f"{r['p999_ms']:>10.3f}{mem:>9}{route_cpu[s]:>15.2f}")
for s in OTHERS:
    o, r = route["ours"], route[s]
    print(f"ours / {NAMES[s]}: {o['per_sec'] / max(r['per_sec'], 1):.2f}x req/s, "
          f"p99 {r['p99_ms'] / max(o['p99_ms'], 1e-9):.2f}x lower, "
          f"{x(route_cpu[s], route_cpu['ours']):.2f}x less server CPU per lookup")
print(f"ours / echo ceiling: {100 * route['ours']['per_sec'] / max(route['echo']['per_sec'], 1):.0f}% of req/s, "
      f"{x(route_cpu['ours'], route_cpu['echo']):.2f}x its CPU per lookup")
print(f"(median round of {rounds} by req/s; CPU µs/lookup = server utime+stime over all {rounds} rounds"
      f" / lookups answered in them; {JAVA_NOTE}, its RSS depends on it)")
print()

# Registrations: each one changed (two data versions alternate; the same
# topics, one topic's perm too, every topic's), then unchanged.
for ext, title in (("reg", "10k-topic registrations, new data version only"),
                   ("one", "10k-topic registrations, one topic changed too"),
                   ("all", "10k-topic registrations, every topic changed"),
                   ("same", "unchanged re-registrations")):
    reg = {s: lines(f"{s}.{ext}")[0] for s in ("ours", "rust", "java")}
    reg_cpu = {s: cpu_per(r["cpu_ticks"], r["requests"], 1e3) for s, r in reg.items()}
    print(title)
    print(f"{'':<26}{'reg/s':>8}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/reg':>12}")
    for s, r in reg.items():
        print(f"{NAMES[s]:<26}{r['per_sec']:>8.1f}{r['errors']:>8}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{reg_cpu[s]:>12.3f}")
    for s in OTHERS:
        print(f"ours / {NAMES[s]}: {reg['ours']['per_sec'] / max(reg[s]['per_sec'], 1e-9):.2f}x registrations/s, "
              f"{x(reg_cpu[s], reg_cpu['ours']):.2f}x less server CPU per registration")
    print()

# Route lookups under churn.
mix = {s: {j["mode"]: j for j in lines(f"{s}.mix")} for s in ("ours", "rust", "java")}
print(f"{'route under churn':<24}{'idle p99':>10}{'churn p99':>11}{'ratio':>9}{'churn req/s':>13}{'reg/s':>7}"
      f"{'CPU µs/route idle':>19}{'CPU µs/route churn':>20}{'churn CPU s':>13}")
churn_cpu = {}
for s, m in mix.items():
    idle, busy, reg_c, cpu = m["route-idle"], m["route-churn"], m["register-churn"], m["cpu"]
    idle_cpu = cpu_per(cpu["idle_ticks"], idle["requests"], 1e6)
    churn_cpu[s] = cpu_per(cpu["churn_ticks"], busy["requests"], 1e6)
    ratio = f"{busy['p99_ms'] / max(idle['p99_ms'], 1e-9):.2f}x"
    print(f"{NAMES[s]:<24}{idle['p99_ms']:>10.3f}{busy['p99_ms']:>11.3f}{ratio:>9}"
          f"{busy['per_sec']:>13.0f}{reg_c['per_sec']:>7.1f}{idle_cpu:>19.2f}{churn_cpu[s]:>20.2f}"
          f"{cpu['churn_ticks'] / tick:>13.2f}")
for s in OTHERS:
    print(f"ours / {NAMES[s]}: {mix['ours']['route-churn']['per_sec'] / max(mix[s]['route-churn']['per_sec'], 1):.2f}x "
          f"route req/s under churn, {x(churn_cpu[s], churn_cpu['ours']):.2f}x less server CPU per route lookup under churn")
print("(CPU µs/route churn = the server's whole CPU in the churn phase (churn CPU s: utime+stime, the"
      " registrations' parsing included) / route lookups answered in that phase: not the cost of a lookup alone)")
print()

# Registration storm.
storm = {s: lines(f"{s}.storm")[0] for s in ("ours", "rust", "java")}
smix = {s: {j["mode"]: j for j in lines(f"{s}.smix")} for s in ("ours", "rust", "java")}
print(f"{'storm 1,000 x 1,000':<24}{'answered':>10}{'all in ms':>11}{'CPU s':>8}{'idle p99':>10}{'storm p99':>11}{'ratio':>8}")
for s in storm:
    st, idle, busy = storm[s], smix[s]["route-idle"], smix[s]["route-churn"]
    print(f"{NAMES[s]:<24}{st['answered']:>10}{st['all_answered_ms']:>11.0f}{st['cpu_ticks'] / tick:>8.2f}"
          f"{idle['p99_ms']:>10.3f}{busy['p99_ms']:>11.3f}{busy['p99_ms'] / max(idle['p99_ms'], 1e-9):>7.2f}x")
print("(all in ms: from the first connect until every registration is answered, 60 s at most; CPU s: the server's"
      " in that run; p99: route lookups idle, then while the same storm registers)")
print()

# Memory.
import glob, os
for path in sorted(glob.glob(f"{res}/mem-*"), key=lambda p: int(p.rsplit("-", 1)[1])):
    brokers = int(path.rsplit("-", 1)[1])
    mem = {s: v for d in lines(os.path.basename(path)) for s, v in d.items()}
    heap = mem.pop("java_heap")
    entries = brokers * 10_000
    print(f"{f'{entries / 1e6:g}M queue entries':<24}{'idle MiB':>10}{'loaded MiB':>12}{'B/entry':>9}")
    for s, (idle, loaded, *reached) in mem.items():
        if loaded is None:
            print(f"{NAMES[s]:<24}{idle / 1024:>10.1f}  not loaded in {secs} s (RSS then {reached[0] / 1024:.1f} MiB)")
            continue
        print(f"{NAMES[s]:<24}{idle / 1024:>10.1f}{loaded / 1024:>12.1f}{loaded * 1024 / entries:>9.0f}")
    for s in OTHERS:
        if mem.get(s, [0, None])[1] is not None and mem["ours"][1] is not None:
            print(f"{NAMES[s]} / ours: {mem[s][1] / max(mem['ours'][1], 1):.2f}x the resident memory")
    print(f"({brokers} brokers x 10,000 topics; B/entry: whole RSS / entries; Java heap {heap}: Java's RSS"
          " counts the heap pages it touched, live or garbage)")
    print()
PY

# What the operator's view costs ours: metrics recorded or not, and scrapes
# during route lookups (two servers of its own; the comparison's stay idle).
echo >&2; echo "metrics: benches/metrics.sh $CONNS $PIPE $SECS $ROUNDS" >&2
bash benches/metrics.sh "$CONNS" "$PIPE" "$SECS" "$ROUNDS"
