#!/usr/bin/env bash
# Controller failover, side by side in one run, on loopback:
#   ours - three target/release/namesrv processes, each with its embedded controller
#   java  - three Apache RocketMQ 5.5.0 NameServers with their embedded controller,
#           controllerType=DLedger (the official build from Maven Central, installed
#           by scripts/java-peers.sh), heap $JAVA_NS_HEAP (default -Xms128m -Xmx128m)
#   jraft - the same with controllerType=jRaft (jRaftGroupId=bench,
#           jRaftServerId=127.0.0.1:RK, jRaftInitConf=the three raft ports,
#           jRaftControllerRPCAddr=the three controller ports)
# Both sides get the same properties file apart from their own ports and paths:
#   listenPort=P, bindAddress=127.0.0.1, kvConfigPath, configStorePath,
#   enableControllerInNamesrv=true, controllerDLegerGroup=bench,
#   controllerDLegerPeers=n0-127.0.0.1:C0;n1-127.0.0.1:C1;n2-127.0.0.1:C2,
#   controllerDLegerSelfId=nK, controllerStorePath=$work/SIDE/nsK/controller
# (ours also httpListenPort=0); every controller timing key at its default
# (scanNotActiveBrokerInterval=5000, scanInactiveMasterInterval=5000, ...).
# Per side, two Java 5.5.0 brokers of one group (bench-a in BenchCluster) in
# controller mode: enableControllerMode=true, controllerAddr=the three controller
# ports, brokerId=-1, brokerRole=SLAVE, namesrvAddr=the three NameServer ports,
# default controllerHeartBeatTimeoutMills (10000) and brokerHeartbeatInterval
# (1000), heap $JAVA_BROKER_HEAP (default -Xms256m -Xmx256m
# -XX:MaxDirectMemorySize=256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1), each
# JVM with its own RMQ_HOME. B1 starts first (and becomes master), B2 once B1 is
# routed as brokerId 0; both in the sync-state set before the first fault.
# Measured, per side, the clock starting when the signal is sent:
#   1. kill -9 of the master broker -> the slave is brokerId 0 in the route of
#      topic bench-a (GET_ROUTEINFO_BY_TOPIC, polled every 20 ms) on every NameServer;
#   2. the killed broker restarted (same store) -> rejoined as slave and in the
#      sync-state set (1004 on the leader); then SIGSTOP of the master -> the other
#      broker is brokerId 0 on every NameServer (then SIGCONT; the group heals);
#   3. kill -9 of the controller leader (found with 1005) -> a survivor answers 1005
#      with isLeader=true (and, for information, the time until it also serves a
#      leader-only read, 1012).
# The sides run one after the other (2 cores: one side's JVMs would slow the
# other's); each side's processes are killed before the next starts.
# Usage: bash benches/controller.sh
# (CONTROLLER_BENCH_KEEP_WORK=1 keeps the work directory: every process's logs.)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/lib.sh

NS_HEAP="${JAVA_NS_HEAP:--Xms128m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"
BROKER_HEAP="${JAVA_BROKER_HEAP:--Xms256m -Xmx256m -XX:MaxDirectMemorySize=256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"
GROUP=bench-a
CLUSTER=BenchCluster

JAVA_PEERS=$(bash scripts/java-peers.sh 5.5.0)
JAVA_HOME_550="$JAVA_PEERS/java-5.5.0"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --bin namesrv --bin namesrv-admin >&2
OURS_BIN="$CARGO_TARGET_DIR/release/namesrv"

work=$(mktemp -d)
pids=()
cleanup() { end_work "${CONTROLLER_BENCH_KEEP_WORK:-}" "every process's logs"; }
trap cleanup EXIT

# The probe: a small remoting client (JSON headers) for the waits and the timings.
cat >"$work/probe.py" <<'PY'
import json, os, re, signal, socket, struct, sys, time

class Conn:
    def __init__(self, port, timeout=0.5):
        self.port, self.timeout, self.s, self.opaque = port, timeout, None, 0

    def close(self):
        if self.s is not None:
            try: self.s.close()
            except OSError: pass
        self.s = None

    def _recvn(self, n):
        d = b""
        while len(d) < n:
            c = self.s.recv(n - len(d))
            if not c: raise OSError("closed")
            d += c
        return d

    def call(self, code, ext=None, body=b""):
        """(header dict, body bytes), or None if the node does not answer in time."""
        try:
            if self.s is None:
                self.s = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
            self.s.settimeout(self.timeout)
            self.opaque += 1
            h = json.dumps({"code": code, "extFields": ext or {}, "flag": 0, "language": "JAVA",
                            "opaque": self.opaque, "version": 479,
                            "serializeTypeCurrentRPC": "JSON"}).encode()
            self.s.sendall(struct.pack(">ii", 4 + len(h) + len(body), len(h)) + h + body)
            while True:
                n = struct.unpack(">i", self._recvn(4))[0]
                d = self._recvn(n)
                hl = struct.unpack(">i", d[:4])[0] & 0xFFFFFF
                hdr = json.loads(d[4:4 + hl])
                if hdr.get("opaque") == self.opaque:
                    return hdr, d[4 + hl:]
        except (OSError, ValueError, struct.error):
            self.close()
            return None

def ext(r, k):
    return None if r is None else (r[0].get("extFields") or {}).get(k)

def addrs(conn, topic):
    """brokerId -> address in the route of `topic`, {} when there is none."""
    r = conn.call(105, {"topic": topic})
    if r is None or r[0].get("code") != 0: return {}
    text = r[1].decode("utf-8", "replace")
    m = re.search(r'"brokerAddrs":\{([^}]*)\}', text)
    if not m: return {}
    return {int(k): v for k, v in re.findall(r'"?(-?\d+)"?:"([^"]+)"', m.group(1))}

def leader(conns):
    """The port of the node that says it leads, serves 1012 and all answering nodes name."""
    metas = [(c, c.call(1005)) for c in conns]
    for c, m in metas:
        if ext(m, "isLeader") != "true": continue
        me = ext(m, "controllerLeaderAddress")
        if me != f"127.0.0.1:{c.port}": continue
        if any(x is not None and ext(x, "controllerLeaderAddress") != me for _, x in metas): continue
        r = c.call(1012, {"clusterName": "probe", "brokerName": "probe"})
        if r is not None and r[0].get("code") == 0: return c.port
    return None

def sss(conns, name):
    p = leader(conns)
    if p is None: return None
    r = Conn(p, 2).call(1004, {"brokerName": name})
    if r is None or r[0].get("code") != 0: return None
    return json.loads(r[1] or b"{}").get("syncStateSet", []), ext(r, "masterBrokerId")

def ports(s): return [int(p) for p in s.split(",")]

def until(timeout, step, f):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = f()
        if v: return v
        time.sleep(step)
    return None

mode, args = sys.argv[1], sys.argv[2:]
if mode == "free-ports":  # N loopback ports, each with port-2 and port+1 free (a broker's triple)
    out, held = [], []
    while len(out) < int(args[0]):
        s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; held.append(s)
        if not 1030 <= p <= 65000: continue
        try:
            for q in (p - 2, p + 1):
                t = socket.socket(); t.bind(("127.0.0.1", q)); held.append(t)
        except OSError: continue
        if any(abs(p - o) < 4 for o in out): continue
        out.append(p)
    print(" ".join(map(str, out)))
elif mode == "leader":  # CTL_PORTS TIMEOUT: prints the leader's port
    conns = [Conn(p) for p in ports(args[0])]
    p = until(float(args[1]), 0.2, lambda: leader(conns))
    if p is None: sys.exit("no controller leader within %s s" % args[1])
    print(p)
elif mode == "route":  # NS_PORTS TOPIC N TIMEOUT: every NS routes N brokers, one of them id 0; prints id 0's address
    conns = [Conn(p) for p in ports(args[0])]
    def same():
        seen = [addrs(c, args[1]) for c in conns]
        ok = all(len(a) == int(args[2]) and 0 in a and a == seen[0] for a in seen)
        return seen[0][0] if ok else None
    a = until(float(args[3]), 0.2, same)
    if a is None: sys.exit("route of %s: not %s brokers with a master on every NameServer: %s"
                           % (args[1], args[2], [addrs(c, args[1]) for c in conns]))
    print(a)
elif mode == "sss":  # CTL_PORTS NAME N TIMEOUT: the leader's 1004 shows N ids in the sync-state set
    conns = [Conn(p) for p in ports(args[0])]
    v = until(float(args[3]), 0.3, lambda: (lambda s: s if s and len(s[0]) == int(args[2]) else None)(sss(conns, args[1])))
    if v is None: sys.exit("sync-state set of %s never had %s members: %s" % (args[1], args[2], sss(conns, args[1])))
    print("sync-state set %s, master %s" % (v[0], v[1]))
elif mode == "broker-fail":  # SIGNAL PID NS_PORTS TOPIC EXPECTED TIMEOUT: seconds until every NS routes EXPECTED as id 0
    sig, pid, conns, topic, want, timeout = getattr(signal, args[0]), int(args[1]), [Conn(p) for p in ports(args[2])], args[3], args[4], float(args[5])
    for c in conns: addrs(c, topic)  # connections open before the clock starts
    t0 = time.monotonic(); os.kill(pid, sig)
    done = until(timeout, 0.02, lambda: all(addrs(c, topic).get(0) == want for c in conns))
    print("%.3f" % (time.monotonic() - t0) if done else "timeout(>%ss)" % args[5])
elif mode == "ctl-fail":  # PID CTL_PORTS OLD_PORT TIMEOUT: seconds until a survivor says it leads; then until it serves 1012
    pid, all_ports, old, timeout = int(args[0]), ports(args[1]), int(args[2]), float(args[3])
    conns = [Conn(p) for p in all_ports if p != old]
    for c in conns: c.call(1005)
    t0 = time.monotonic(); os.kill(pid, signal.SIGKILL)
    def says():
        for c in conns:
            if ext(c.call(1005), "isLeader") == "true": return c
        return None
    c = until(timeout, 0.02, says)
    if c is None: print("timeout(>%ss) timeout" % args[3]); sys.exit(0)
    t1 = time.monotonic() - t0
    ok = until(timeout, 0.02, lambda: (lambda r: r is not None and r[0].get("code") == 0)(c.call(1012, {"clusterName": "probe", "brokerName": "probe"})))
    print("%.3f %s" % (t1, "%.3f" % (time.monotonic() - t0) if ok else "timeout"))
PY
probe() { python3 "$work/probe.py" "$@"; }

# wait_port PORT PID LOG: until PORT accepts connections; fails if PID dies or after 90 s.
wait_port() {
  port_up "$1" "$2" 180 0.5 && return 0
  echo "nothing accepts connections on 127.0.0.1:$1; the end of $3:" >&2
  tail -20 "$3" >&2
  exit 1
}

# start_ns SIDE K: NameServer K of SIDE (ours|java) on ${NS[K]} with its controller on ${CTL[K]}.
start_ns() {
  local side=$1 k=$2 dir="$work/$1/ns$2"
  mkdir -p "$dir/home"
  {
    echo "listenPort=${NS[$k]}"
    echo "bindAddress=127.0.0.1"
    echo "kvConfigPath=$dir/kv.json"
    echo "configStorePath=$dir/namesrv.properties.store"
    echo "enableControllerInNamesrv=true"
    echo "controllerDLegerGroup=bench"
    echo "controllerDLegerPeers=$PEERS"
    echo "controllerDLegerSelfId=n$k"
    echo "controllerStorePath=$dir/controller"
    [ "$side" = ours ] && echo "httpListenPort=0"
    if [ "$side" = jraft ]; then
      echo "controllerType=jRaft"
      echo "jRaftGroupId=bench"
      echo "jRaftServerId=127.0.0.1:${RAFT[$k]}"
      echo "jRaftInitConf=127.0.0.1:${RAFT[0]},127.0.0.1:${RAFT[1]},127.0.0.1:${RAFT[2]}"
      echo "jRaftControllerRPCAddr=127.0.0.1:${CTL[0]},127.0.0.1:${CTL[1]},127.0.0.1:${CTL[2]}"
    fi
    true
  } >"$dir/namesrv.properties"
  if [ "$side" = ours ]; then
    RUST_LOG=info "$OURS_BIN" -c "$dir/namesrv.properties" >"$dir/out.log" 2>&1 &
  else # the launcher execs java: $! is the JVM
    RMQ_HOME="$dir/home" JAVA_OPT_EXT="$NS_HEAP" "$JAVA_HOME_550/bin/mqnamesrv" -c "$dir/namesrv.properties" >"$dir/out.log" 2>&1 &
  fi
  NS_PID[$k]=$!; pids+=("${NS_PID[$k]}")
}

# start_broker SIDE K: broker BK of SIDE on ${BP[K]} (its store survives restarts).
start_broker() {
  local side=$1 k=$2 dir="$work/$1/b$2"
  mkdir -p "$dir/home"
  cat >"$dir/broker.properties" <<PROPS
brokerClusterName=$CLUSTER
brokerName=$GROUP
brokerId=-1
brokerRole=SLAVE
enableControllerMode=true
controllerAddr=$CTL_ADDRS
namesrvAddr=$NS_ADDRS
brokerIP1=127.0.0.1
brokerIP2=127.0.0.1
bindAddress=127.0.0.1
listenPort=${BP[$k]}
haListenPort=$((BP[k] + 1))
storePathRootDir=$dir/store
storePathCommitLog=$dir/store/commitlog
mappedFileSizeCommitLog=67108864
mappedFileSizeConsumeQueue=600000
flushDiskType=ASYNC_FLUSH
PROPS
  RMQ_HOME="$dir/home" JAVA_OPT_EXT="$BROKER_HEAP" "$JAVA_HOME_550/bin/mqbroker" -c "$dir/broker.properties" >>"$dir/out.log" 2>&1 &
  B_PID[$k]=$!; pids+=("${B_PID[$k]}")
  wait_port "${BP[$k]}" "${B_PID[$k]}" "$dir/out.log"
}

# run_side SIDE: the whole scenario; writes $work/SIDE.result (kill stop ctl ctl_ready).
run_side() {
  local side=$1 p k master slave t_kill t_stop ctl leader old_pid
  echo "== $side: three NameServers with embedded controllers" >&2
  read -ra P <<<"$(probe free-ports 11)"
  NS=("${P[@]:0:3}"); CTL=("${P[@]:3:3}"); BP=([1]="${P[6]}" [2]="${P[7]}"); RAFT=("${P[@]:8:3}")
  PEERS="n0-127.0.0.1:${CTL[0]};n1-127.0.0.1:${CTL[1]};n2-127.0.0.1:${CTL[2]}"
  CTL_ADDRS="127.0.0.1:${CTL[0]};127.0.0.1:${CTL[1]};127.0.0.1:${CTL[2]}"
  NS_ADDRS="127.0.0.1:${NS[0]};127.0.0.1:${NS[1]};127.0.0.1:${NS[2]}"
  local ns_csv="${NS[0]},${NS[1]},${NS[2]}" ctl_csv="${CTL[0]},${CTL[1]},${CTL[2]}"
  declare -gA NS_PID=() B_PID=()
  for k in 0 1 2; do start_ns "$side" "$k"; done
  for k in 0 1 2; do
    wait_port "${NS[$k]}" "${NS_PID[$k]}" "$work/$side/ns$k/out.log"
    wait_port "${CTL[$k]}" "${NS_PID[$k]}" "$work/$side/ns$k/out.log"
  done
  leader=$(probe leader "$ctl_csv" 120)
  echo "$side: controller leader on port $leader" >&2

  start_broker "$side" 1
  master=$(probe route "$ns_csv" "$GROUP" 1 180)
  echo "$side: B1 ($master) is master" >&2
  start_broker "$side" 2
  master=$(probe route "$ns_csv" "$GROUP" 2 180)
  probe sss "$ctl_csv" "$GROUP" 2 180 >&2
  if [ "$master" = "127.0.0.1:${BP[1]}" ]; then k=1; slave="127.0.0.1:${BP[2]}"; else k=2; slave="127.0.0.1:${BP[1]}"; fi
  echo "$side: master B$k ($master), slave $slave, both in sync: kill -9 the master" >&2
  t_kill=$(probe broker-fail SIGKILL "${B_PID[$k]}" "$ns_csv" "$GROUP" "$slave" 60)
  { wait "${B_PID[$k]}" || true; } 2>/dev/null
  echo "$side: kill -9 master -> slave routed as id 0 everywhere: $t_kill s" >&2

  echo "$side: restart B$k; wait until it is a slave in the sync-state set" >&2
  start_broker "$side" "$k"
  probe route "$ns_csv" "$GROUP" 2 180 >/dev/null
  probe sss "$ctl_csv" "$GROUP" 2 180 >&2
  local new_master=$slave old_master="127.0.0.1:${BP[$k]}" m=$((3 - k))
  echo "$side: SIGSTOP the master B$m ($new_master)" >&2
  t_stop=$(probe broker-fail SIGSTOP "${B_PID[$m]}" "$ns_csv" "$GROUP" "$old_master" 90)
  echo "$side: SIGSTOP master -> the other routed as id 0 everywhere: $t_stop s" >&2
  kill -CONT "${B_PID[$m]}"
  probe route "$ns_csv" "$GROUP" 2 120 >/dev/null || echo "$side: (the group did not heal after SIGCONT; going on)" >&2

  leader=$(probe leader "$ctl_csv" 60)
  for k in 0 1 2; do if [ "${CTL[$k]}" = "$leader" ]; then old_pid=${NS_PID[$k]}; fi; done
  echo "$side: kill -9 the controller leader (port $leader, pid $old_pid)" >&2
  ctl=$(probe ctl-fail "$old_pid" "$ctl_csv" "$leader" 60)
  echo "$side: controller leader kill -> new leader (1005, serves 1012): $ctl s" >&2
  echo "$t_kill $t_stop $ctl" >"$work/$side.result"
  stop_pids
}

run_side ours
run_side java
run_side jraft

python3 - "$work/ours.result" "$work/java.result" "$work/jraft.result" <<'PY'
import sys
ours, java, jraft = (open(p).read().split() for p in sys.argv[1:4])
rows = [("kill -9 master broker -> slave is id 0 on every NameServer", 0, "1 s"),
        ("SIGSTOP master broker -> other is id 0 on every NameServer", 1, "11 s (10 s heartbeat timeout + 1 s)"),
        ("kill -9 controller leader -> a survivor answers 1005 as leader", 2, "2 s"),
        ("  (the same, until that leader serves 1012)", 3, "-")]
def s(v): return v if v.startswith("timeout") else f"{float(v):.3f} s"
print(f"{'scenario':<64}{'ours':>12}{'5.5.0 DLedger':>15}{'5.5.0 jRaft':>14}   our target")
for name, i, target in rows:
    print(f"{name:<64}{s(ours[i]):>12}{s(java[i]):>15}{s(jraft[i]):>14}   {target}")
print("(default controller and broker timings on both sides: brokers' heartbeat timeout 10 s, expiry scan 5 s;"
      " route polled every 20 ms on all three NameServers; the clock starts when the signal is sent)")
PY
