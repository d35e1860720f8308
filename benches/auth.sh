#!/usr/bin/env bash
# The cost of authentication and authorization on route lookups (issue 25):
# one server with the auth keys off, or on with a normal user whose ACL
# allows Topic:BenchTopic* Sub; 10 brokers x 1,000 topics registered
# (signed by a super user when on), then 64 connections x 8 in flight for
# 8 s, every lookup signed as AclClientRPCHook signs when on. Prints
# req/s, p99 and the server's CPU per lookup (/proc/PID/stat).
# Usage: bash benches/auth.sh off|on [PORT]   (after cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=$1; PORT=${2:-25876}
B=$PWD/target/release
D=$(mktemp -d)
cat > $D/n.properties <<P
listenPort=$PORT
httpListenPort=$((PORT+1))
kvConfigPath=$D/kv.json
configStorePath=$D/ns.properties
P
if [ $MODE = on ]; then cat >> $D/n.properties <<P
authenticationEnabled=true
authorizationEnabled=true
initAuthenticationUser={"username":"root","password":"root-pw"}
authStorePath=$D/auth.json
P
fi
SETUP_ENV=""; ROUTE_ENV=""
$B/namesrv -c $D/n.properties > $D/log 2>&1 &
PID=$!
for i in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
if [ $MODE = on ]; then
  export NAMESRV_ACCESS_KEY=root NAMESRV_SECRET_KEY=root-pw
  $B/namesrv-admin createUser -n 127.0.0.1:$PORT -u bench -p bench-pw -t Normal >/dev/null
  $B/namesrv-admin createAcl -n 127.0.0.1:$PORT -s User:bench -r 'Topic:BenchTopic*' -a Sub -d Allow >/dev/null
  unset NAMESRV_ACCESS_KEY NAMESRV_SECRET_KEY
  SETUP_ENV="NAMESRV_BENCH_ACCESS_KEY=root NAMESRV_BENCH_SECRET_KEY=root-pw"
  ROUTE_ENV="NAMESRV_BENCH_ACCESS_KEY=bench NAMESRV_BENCH_SECRET_KEY=bench-pw"
fi
env $SETUP_ENV $B/namesrv-bench setup --addr 127.0.0.1:$PORT -b 10 -k 1000 > $D/setup.log 2>&1 &
SP=$!
sleep 3
t() { awk '{print $14+$15}' /proc/$1/stat; }
b=$(t $PID)
out=$(env $ROUTE_ENV $B/namesrv-bench route --addr 127.0.0.1:$PORT -c 64 -p 8 -t 1000 -d 8 --json 2>/dev/null | tail -1)
a=$(t $PID)
kill $SP $PID; wait 2>/dev/null
python3 -c "
import json,sys
o=json.loads(sys.argv[1]); print(f\"$MODE: {o['per_sec']:.0f} req/s, errors {o.get('errors')}, p99 {o['p99_ms']:.2f} ms, {(int(sys.argv[2]))*10000/o['requests']:.2f} us cpu/lookup\")" "$out" $((a-b))
rm -rf $D
