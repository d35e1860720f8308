#!/usr/bin/env bash
# What the operator's view costs route lookups, on loopback, in one run:
#  1. Recording metrics: two of our servers holding the same routes, one with
#     the HTTP listener (metrics recorded, the default) and one with
#     httpListenPort=0 (nothing can scrape, so nothing is recorded). The same
#     route load (namesrv-bench route) runs against each in turn, ROUNDS times,
#     interleaved; median round by req/s, and server CPU per lookup
#     (utime+stime from /proc/PID/stat around each run, over lookups answered).
#  2. Scrapes: on the server with metrics, route lookups idle, then the same
#     load while 1,000 concurrent GET /metrics are sent every second (curl
#     --parallel, 1,000 at once); route p99 during the scrapes over idle.
# Each server holds 10 brokers x 1,000 topics (namesrv-bench setup).
# Usage: bash benches/metrics.sh [connections] [pipeline] [seconds] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

CONNS="${1:-64}"; PIPE="${2:-8}"; SECS="${3:-10}"; ROUNDS="${4:-3}"
SCRAPERS=1000
TICK=$(getconf CLK_TCK)
command -v curl >/dev/null || { echo "curl is required (Debian package curl)" >&2; exit 1; }
cargo build --release --bin namesrv --bin namesrv-bench >&2
BENCH=target/release/namesrv-bench

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_port() {
  port_up "$1" "" 100 0.1 && return 0
  echo "nothing listens on 127.0.0.1:$1" >&2; exit 1
}
# start TAG PORT HTTP_PORT: one of our servers; sets STARTED_PID.
start() {
  mkdir -p "$work/$1"
  target/release/namesrv -D listenPort="$2" -D httpListenPort="$3" -D bindAddress=127.0.0.1 \
    -D kvConfigPath="$work/$1/kv.json" -D configStorePath="$work/$1/store.properties" >"$work/$1.log" 2>&1 &
  STARTED_PID=$!; pids+=("$STARTED_PID")
  wait_port "$2"
  "$BENCH" setup --addr "127.0.0.1:$2" -b 10 -k 1000 >"$work/$1.setup.log" 2>&1 &
  pids+=($!)
}
ON=$(free_port); HTTP=$(free_port); OFF=$(free_port)
start on "$ON" "$HTTP"; ON_PID=$STARTED_PID
start off "$OFF" 0; OFF_PID=$STARTED_PID
# Routable once setup's brokers have registered.
for port in "$ON" "$OFF"; do
  for _ in $(seq 1 100); do
    "$BENCH" route --addr "127.0.0.1:$port" -c 1 -p 1 -d 1 -t 1000 --json 2>/dev/null | grep -q '"errors":0' && break
    sleep 0.2
  done
done

route() { "$BENCH" route --addr "127.0.0.1:$1" -c "$CONNS" -p "$PIPE" -d "$SECS" -t 1000 --json 2>/dev/null | tail -1; }
# measure PID PORT: one route run, printed as its JSON line plus the server's cpu_ticks.
measure() {
  local before after out
  before=$(cpu_ticks "$1"); out=$(route "$2"); after=$(cpu_ticks "$1")
  echo "${out%\}},\"cpu_ticks\":$((after - before))}"
}

echo "warm-up (uncounted)" >&2
route "$ON" >/dev/null; route "$OFF" >/dev/null
echo "metrics on vs off: $CONNS connections x $PIPE in flight, $SECS s x $ROUNDS rounds each" >&2
for _ in $(seq 1 "$ROUNDS"); do
  measure "$ON_PID" "$ON" >>"$work/on.route"
  measure "$OFF_PID" "$OFF" >>"$work/off.route"
done

# scrape_loop: 1,000 concurrent scrapes, every second, until killed.
printf 'url = "http://127.0.0.1:%s/metrics"\noutput = "/dev/null"\n' "$HTTP" >"$work/one.curl"
for _ in $(seq 1 "$SCRAPERS"); do cat "$work/one.curl"; done >"$work/scrapes.curl"
scrape_loop() {
  while :; do
    curl -s --no-progress-meter --parallel --parallel-immediate --parallel-max "$SCRAPERS" -K "$work/scrapes.curl" \
      -w '%{http_code}\n' >>"$work/scrape.codes" || true
    sleep 1
  done
}
echo "scrapes: route p99 idle, then with $SCRAPERS concurrent GET /metrics every second" >&2
measure "$ON_PID" "$ON" >"$work/idle.route"
scrape_loop & SCRAPE_PID=$!; pids+=("$SCRAPE_PID")
sleep 1
measure "$ON_PID" "$ON" >"$work/busy.route"
kill "$SCRAPE_PID" 2>/dev/null || true
ok=$(grep -c '^200$' "$work/scrape.codes" || true)
bad=$(grep -vc '^200$' "$work/scrape.codes" || true)

python3 - "$work" "$TICK" "$ok" "$bad" "$CONNS" "$PIPE" "$SECS" "$ROUNDS" <<'PY'
import json, sys, statistics
work, tick, ok, bad = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
conns, pipe, secs, rounds = sys.argv[5:9]
def rows(name):
    return [json.loads(l) for l in open(f"{work}/{name}") if l.strip()]
def median(rs):
    return sorted(rs, key=lambda r: r["per_sec"])[len(rs) // 2]
def cpu_us(rs):
    return sum(r["cpu_ticks"] for r in rs) / tick * 1e6 / max(1, sum(r["requests"] for r in rs))
print(f"## route lookups, metrics on vs off ({conns} conns x {pipe} in flight, {secs} s x {rounds} rounds, median round)")
print("| server | req/s | p50 ms | p99 ms | CPU per lookup |")
print("|---|---:|---:|---:|---:|")
for tag, label in (("on", "metrics on (httpListenPort set)"), ("off", "metrics off (httpListenPort=0)")):
    rs = rows(f"{tag}.route"); m = median(rs)
    print(f"| {label} | {m['per_sec']:,.0f} | {m['p50_ms']:.3f} | {m['p99_ms']:.3f} | {cpu_us(rs):.2f} µs |")
idle, busy = rows("idle.route")[0], rows("busy.route")[0]
print()
print(f"## route lookups during 1,000 concurrent scrapes a second ({ok} scrapes answered 200, {bad} not)")
print("| phase | req/s | p99 ms | CPU per lookup (server, scrapes included) |")
print("|---|---:|---:|---:|")
for label, r in (("idle", idle), ("scraped", busy)):
    print(f"| {label} | {r['per_sec']:,.0f} | {r['p99_ms']:.3f} | {cpu_us([r]):.2f} µs |")
print(f"\nroute p99 scraped / idle: {busy['p99_ms'] / idle['p99_ms']:.2f}x")
PY
