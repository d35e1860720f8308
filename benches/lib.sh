# Helpers the bench scripts share; sourced by them (`source benches/lib.sh`
# from the checkout's root), not run. Each script keeps its own messages: a
# helper that can fail returns non-zero and the script says what did not start.

# free_port: a loopback TCP port that is free now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# cpu_ticks PID: utime+stime of the process (all its threads), in clock ticks.
cpu_ticks() {
  local stat fields
  stat=$(<"/proc/$1/stat")
  read -ra fields <<<"${stat##*")"}" # after "(comm)": fields[0] is field 3 (state)
  echo $((fields[11] + fields[12]))   # fields 14 and 15
}

# port_up PORT PID TRIES STEP: until PORT on 127.0.0.1 accepts connections,
# trying TRIES times STEP seconds apart; non-zero if it never does or if PID
# (when not empty) dies first.
port_up() {
  for _ in $(seq 1 "$3"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    [ -z "$2" ] || kill -0 "$2" 2>/dev/null || break
    sleep "$4"
  done
  return 1
}

# stop_pids: ends every process in the array pids (SIGCONT first, for one that
# is stopped; SIGTERM, 10 s for the JVMs to stop, then SIGKILL), reaps them
# and empties pids.
stop_pids() {
  local p alive
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  for _ in $(seq 1 40); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.25
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  { for p in "${pids[@]}"; do wait "$p" || true; done; } 2>/dev/null # no "Killed" job notices
  pids=()
}

# end_work KEEP WHAT: the EXIT trap's work: stop_pids, then remove $work, or
# keep it if KEEP is not empty and say so (WHAT: what it holds).
end_work() {
  stop_pids
  if [ -n "$1" ]; then echo "kept $work ($2)" >&2
  else rm -rf "$work" 2>/dev/null || true; fi
}
