//! Issue 11: invariants of our controller under repeated random faults.
//!
//! Three of our namesrv processes with the embedded controller and three
//! Java 5.5.0 brokers of one group in controller mode. For a bounded number
//! of rounds (`CHAOS_ROUNDS`, default 10) one random fault, chosen by a
//! seeded generator (`CHAOS_SEED`, else the time; printed, so a failure can
//! be replayed): kill -9 a broker and restart it, SIGSTOP a broker (below or
//! beyond its heartbeat timeout), kill -9 a controller and restart it, or
//! SIGSTOP a controller; the leader or the master is picked half the time.
//! Each fault is healed before the next, so at most one controller is down.
//!
//! Meanwhile an observer polls every controller every 200 ms (1005, 1004,
//! 1006 and 1012; any node that answers 1004 with SUCCESS is believed) and
//! checks, over all observations from all controllers:
//! - one master per masterEpoch (no two masters of the group in an epoch);
//! - masterEpoch, syncStateSetEpoch and nextBrokerId never go back, and the
//!   group, once registered, never vanishes (2008 from a leader);
//! - one sync-state set per (masterEpoch, syncStateSetEpoch), the master in
//!   it, every member a registered id;
//! - broker ids never reused: an address keeps its id, an id its address,
//!   and every id is below nextBrokerId.
//!
//! At the end, with everything healed: the three controllers agree on the
//! leader, every broker is in the sync-state set, every NameServer routes
//! the controller's master as id 0 and the others by their controller ids,
//! each broker's identity file holds the id the controller gave its address,
//! and the state (1004, 1006, 1012) is the same on every node: the leader is
//! killed and restarted in turn until every node has led, each new leader
//! showing the state the first one showed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv::remoting::codec::encode_frame;
use namesrv::remoting::{RemotingCodec, RemotingCommand};
use namesrv_interop::controller::{body_json, ext, loopback, signal, ControllerCluster};
use namesrv_interop::{free_broker_port, request, JavaVersion};
use serde_json::Value;
use tokio_util::codec::Decoder;

const CLUSTER: &str = "ChaosCluster";
const GROUP: &str = "chaos-a";
const BROKERS: usize = 3;
/// The brokers' controllerHeartBeatTimeoutMills: SIGSTOPs of 2-9 s fall on
/// both sides of it.
const HEARTBEAT_TIMEOUT_MS: u64 = 4000;
const BROKER_JVM: &str =
    "-Xms256m -Xmx256m -XX:MaxDirectMemorySize=256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";
/// One probe of the observer; a stopped node costs this much per cycle.
const PROBE: Duration = Duration::from_millis(400);

fn ext_i64(resp: &RemotingCommand, key: &str) -> Option<i64> {
    ext(resp, key).and_then(|v| v.parse().ok())
}

/// A kept-open connection with a bound on every call; any failure drops
/// it, so a late answer never meets the next request.
struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: BytesMut,
    opaque: i32,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            stream: None,
            buf: BytesMut::new(),
            opaque: 0,
        }
    }

    fn call(&mut self, mut cmd: RemotingCommand, timeout: Duration) -> Option<RemotingCommand> {
        if self.stream.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, timeout).ok()?;
            let _ = s.set_nodelay(true);
            self.stream = Some(s);
            self.buf.clear();
        }
        self.opaque += 1;
        cmd.opaque = self.opaque;
        let answer = self.exchange(&cmd, timeout);
        if answer.is_none() {
            self.stream = None;
        }
        answer
    }

    fn exchange(&mut self, cmd: &RemotingCommand, timeout: Duration) -> Option<RemotingCommand> {
        let deadline = Instant::now() + timeout;
        let stream = self.stream.as_mut()?;
        stream.set_write_timeout(Some(timeout)).ok()?;
        stream.write_all(&encode_frame(cmd)).ok()?;
        let mut codec = RemotingCodec::new(64 << 20);
        loop {
            match codec.decode(&mut self.buf) {
                Ok(Some(resp)) if resp.opaque == cmd.opaque => return Some(resp),
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(_) => return None,
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            stream.set_read_timeout(Some(left)).ok()?;
            let mut chunk = [0u8; 65536];
            let n = stream.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn call_once(addr: SocketAddr, cmd: RemotingCommand, timeout: Duration) -> Option<RemotingCommand> {
    Conn::new(addr).call(cmd, timeout)
}

/// xorshift64*: enough randomness for picking faults, replayable by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A duration in [lo, hi) milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo))
    }
}

// ---------------------------------------------------------------------------
// The processes: our controllers are the harness's `ControllerCluster`, the
// brokers these.

/// A Java 5.5.0 broker in controller mode on fixed ports, so a restart
/// keeps its address (and, by its identity file, its id).
struct JBroker {
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
    stopped: bool,
}

impl JBroker {
    fn new(dir: PathBuf, ctl: &ControllerCluster) -> JBroker {
        std::fs::create_dir_all(dir.join("home")).unwrap();
        let port = free_broker_port();
        let store = dir.join("store");
        let props = [
            ("brokerClusterName", CLUSTER.to_string()),
            ("brokerName", GROUP.to_string()),
            ("brokerId", "-1".into()),
            ("brokerRole", "SLAVE".into()),
            ("enableControllerMode", "true".into()),
            ("controllerAddr", ctl.controller_addrs()),
            ("namesrvAddr", ctl.namesrv_addrs()),
            (
                "controllerHeartBeatTimeoutMills",
                HEARTBEAT_TIMEOUT_MS.to_string(),
            ),
            ("brokerIP1", "127.0.0.1".into()),
            ("brokerIP2", "127.0.0.1".into()),
            ("bindAddress", "127.0.0.1".into()),
            ("listenPort", port.to_string()),
            ("haListenPort", (port + 1).to_string()),
            ("storePathRootDir", store.display().to_string()),
            (
                "storePathCommitLog",
                store.join("commitlog").display().to_string(),
            ),
            ("mappedFileSizeCommitLog", "67108864".into()),
            ("mappedFileSizeConsumeQueue", "600000".into()),
            ("flushDiskType", "ASYNC_FLUSH".into()),
        ];
        let text: String = props.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(dir.join("broker.properties"), text).unwrap();
        JBroker {
            dir,
            port,
            child: None,
            stopped: false,
        }
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn start(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("out.log"))
            .unwrap();
        let child = Command::new(JavaVersion::V5_5_0.bin_dir().join("mqbroker"))
            .arg("-c")
            .arg(self.dir.join("broker.properties"))
            .env("RMQ_HOME", self.dir.join("home"))
            .env("JAVA_OPT_EXT", BROKER_JVM)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start mqbroker (is `java` on PATH?)");
        self.child = Some(child);
        self.stopped = false;
        let deadline = Instant::now() + Duration::from_secs(120);
        let addr = loopback(self.port);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            let exited = self.child.as_mut().unwrap().try_wait().ok().flatten();
            assert!(
                exited.is_none(),
                "broker {} exited: {}",
                self.addr(),
                std::fs::read_to_string(self.dir.join("out.log")).unwrap_or_default()
            );
            assert!(
                Instant::now() < deadline,
                "broker {} did not listen",
                self.addr()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn stop(&mut self) {
        signal(self.child.as_ref().unwrap().id(), "STOP");
        self.stopped = true;
    }

    fn cont(&mut self) {
        signal(self.child.as_ref().unwrap().id(), "CONT");
        self.stopped = false;
    }

    /// The id in the broker's identity file (`cluster#name#id`), if any:
    /// `brokerIdentity` under its store or, by Java's default, its home.
    fn identity(&self) -> Option<(String, i64)> {
        let text = ["store/brokerIdentity", "home/store/brokerIdentity"]
            .iter()
            .find_map(|p| std::fs::read_to_string(self.dir.join(p)).ok())?;
        let id = text.trim().rsplit('#').next()?.trim().parse().ok()?;
        Some((text.trim().to_string(), id))
    }
}

impl Drop for JBroker {
    fn drop(&mut self) {
        self.kill9();
    }
}

// ---------------------------------------------------------------------------
// The observer and its invariants.

/// What one leader read said about the group.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GroupState {
    master_epoch: i64,
    master: Option<i64>,
    ss_epoch: i64,
    sss: BTreeSet<i64>,
}

#[derive(Default)]
struct Record {
    started: Option<Instant>,
    cycles: u64,
    /// (node, code) -> how many answers.
    answers: BTreeMap<(usize, i32, i32), u64>,
    unanswered: BTreeMap<usize, u64>,
    epoch_master: BTreeMap<i64, (Option<i64>, usize, f64)>,
    sets: BTreeMap<(i64, i64), BTreeSet<i64>>,
    max_master_epoch: i64,
    max_ss_epoch: i64,
    max_next_id: i64,
    group_seen: bool,
    id_addr: BTreeMap<i64, String>,
    addr_id: BTreeMap<String, i64>,
    latest: Option<GroupState>,
    violations: Vec<String>,
}

impl Record {
    fn at(&self) -> f64 {
        self.started.map_or(0.0, |s| s.elapsed().as_secs_f64())
    }

    fn violation(&mut self, node: usize, what: String) {
        self.violation_by(&format!("n{node}"), what);
    }

    fn violation_by(&mut self, who: &str, what: String) {
        let line = format!("[{:7.2}s {who}] {what}", self.at());
        eprintln!("INVARIANT VIOLATED {line}");
        self.violations.push(line);
    }

    fn group_state(&mut self, node: usize, code: i32, state: GroupState) {
        let at = self.at();
        match self.epoch_master.get(&state.master_epoch) {
            Some((m, by, when)) if *m != state.master => {
                let text = format!(
                    "two masters in masterEpoch {}: {:?} (n{by} at {when:.2}s) and {:?}",
                    state.master_epoch, m, state.master
                );
                self.violation(node, text);
            }
            Some(_) => {}
            None => {
                self.epoch_master
                    .insert(state.master_epoch, (state.master, node, at));
            }
        }
        if state.master_epoch < self.max_master_epoch {
            let text = format!(
                "masterEpoch went back: {} after {} (code {code})",
                state.master_epoch, self.max_master_epoch
            );
            self.violation(node, text);
        }
        if state.ss_epoch < self.max_ss_epoch {
            let text = format!(
                "syncStateSetEpoch went back: {} after {} (code {code})",
                state.ss_epoch, self.max_ss_epoch
            );
            self.violation(node, text);
        }
        self.max_master_epoch = self.max_master_epoch.max(state.master_epoch);
        self.max_ss_epoch = self.max_ss_epoch.max(state.ss_epoch);
        let key = (state.master_epoch, state.ss_epoch);
        match self.sets.get(&key) {
            Some(set) if *set != state.sss => {
                let text = format!(
                    "two sync-state sets at epochs {key:?}: {set:?} and {:?}",
                    state.sss
                );
                self.violation(node, text);
            }
            Some(_) => {}
            None => {
                self.sets.insert(key, state.sss.clone());
            }
        }
        if let Some(m) = state.master {
            if !state.sss.contains(&m) {
                let text = format!("master {m} not in its sync-state set {:?}", state.sss);
                self.violation(node, text);
            }
        }
        self.group_seen = true;
        self.latest = Some(state);
    }

    fn broker(&mut self, node: usize, id: i64, addr: &str) {
        match self.id_addr.get(&id) {
            Some(a) if a != addr => {
                let text = format!("broker id {id} handed to {a} and to {addr}");
                self.violation(node, text);
            }
            Some(_) => {}
            None => {
                self.id_addr.insert(id, addr.to_string());
            }
        }
        match self.addr_id.get(addr) {
            Some(i) if *i != id => {
                let text = format!("broker {addr} had id {i}, now {id}");
                self.violation(node, text);
            }
            Some(_) => {}
            None => {
                self.addr_id.insert(addr.to_string(), id);
            }
        }
    }
}

fn parse_1004(resp: &RemotingCommand) -> Option<GroupState> {
    let body = body_json(resp);
    Some(GroupState {
        master_epoch: ext_i64(resp, "masterEpoch")?,
        master: ext_i64(resp, "masterBrokerId"),
        ss_epoch: body["syncStateSetEpoch"].as_i64()?,
        sss: body["syncStateSet"]
            .as_array()?
            .iter()
            .filter_map(Value::as_i64)
            .collect(),
    })
}

/// 1006's view of the group: its state and (id, address) of every replica.
fn parse_1006(resp: &RemotingCommand) -> Option<(GroupState, Vec<(i64, String)>)> {
    let body = body_json(resp);
    let g = &body["replicasInfoTable"][GROUP];
    let mut sss = BTreeSet::new();
    let mut replicas = Vec::new();
    for (key, in_sync) in [("inSyncReplicas", true), ("notInSyncReplicas", false)] {
        for r in g[key].as_array()? {
            let id = r["brokerId"].as_i64()?;
            replicas.push((id, r["brokerAddress"].as_str()?.to_string()));
            if in_sync {
                sss.insert(id);
            }
        }
    }
    Some((
        GroupState {
            master_epoch: g["masterEpoch"].as_i64()?,
            master: g["masterBrokerId"].as_i64(),
            ss_epoch: g["syncStateSetEpoch"].as_i64()?,
            sss,
        },
        replicas,
    ))
}

/// Polls every controller until stopped; everything goes into `record`.
fn observe(ports: Vec<u16>, record: Arc<Mutex<Record>>, stop: Arc<AtomicBool>) {
    let mut conns: Vec<Conn> = ports.iter().map(|p| Conn::new(loopback(*p))).collect();
    while !stop.load(Ordering::Relaxed) {
        for (node, conn) in conns.iter_mut().enumerate() {
            let Some(meta) = conn.call(request(1005, &[]), PROBE) else {
                *record.lock().unwrap().unanswered.entry(node).or_default() += 1;
                continue;
            };
            let _ = meta;
            let info = conn.call(request(1004, &[("brokerName", GROUP)]), PROBE);
            let sync = conn.call(
                request(1006, &[]).with_body(format!("[\"{GROUP}\"]").into_bytes()),
                PROBE,
            );
            let next = conn.call(
                request(1012, &[("clusterName", CLUSTER), ("brokerName", GROUP)]),
                PROBE,
            );
            let mut rec = record.lock().unwrap();
            for (code, r) in [(1004, &info), (1006, &sync), (1012, &next)] {
                let answer = r.as_ref().map_or(-1, |r| r.code);
                *rec.answers.entry((node, code, answer)).or_default() += 1;
            }
            if let Some(r) = &info {
                match r.code {
                    0 => match parse_1004(r) {
                        Some(s) => rec.group_state(node, 1004, s),
                        None => rec.violation(node, format!("unparsable 1004 answer {r:?}")),
                    },
                    2008 if rec.group_seen => {
                        rec.violation(node, "1004 answered 2008: the group vanished".into())
                    }
                    _ => {}
                }
            }
            if let Some(r) = sync.as_ref().filter(|r| r.code == 0) {
                if let Some((s, replicas)) = parse_1006(r) {
                    rec.group_state(node, 1006, s);
                    for (id, addr) in replicas {
                        rec.broker(node, id, &addr);
                    }
                }
            }
            if let Some(n) = next.as_ref().filter(|r| r.code == 0) {
                let n = ext_i64(n, "nextBrokerId").unwrap_or(-1);
                if n < rec.max_next_id {
                    let text = format!("nextBrokerId went back: {n} after {}", rec.max_next_id);
                    rec.violation(node, text);
                }
                rec.max_next_id = rec.max_next_id.max(n);
                let top = rec.id_addr.keys().next_back().copied();
                if let Some(top) = top.filter(|t| *t >= n) {
                    rec.violation(node, format!("id {top} in use but nextBrokerId is {n}"));
                }
            }
        }
        record.lock().unwrap().cycles += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
}

// ---------------------------------------------------------------------------
// The faults.

#[derive(Debug, Clone, Copy)]
enum Fault {
    KillBroker(usize, Duration),
    StopBroker(usize, Duration),
    KillController(usize, Duration),
    StopController(usize, Duration),
}

struct World {
    ctl: ControllerCluster,
    brokers: Vec<JBroker>,
    record: Arc<Mutex<Record>>,
}

impl World {
    fn latest(&self) -> Option<GroupState> {
        self.record.lock().unwrap().latest.clone()
    }

    /// The index of the broker the controller last reported as master.
    fn master_broker(&self) -> Option<usize> {
        let master = self.latest()?.master?;
        let addr = self.record.lock().unwrap().id_addr.get(&master).cloned()?;
        self.brokers.iter().position(|b| b.addr() == addr)
    }

    fn pick(&self, rng: &mut Rng) -> Fault {
        let leader = self.ctl.leader_now();
        let ctl = match leader {
            Some(l) if rng.below(2) == 0 => l,
            _ => rng.below(3) as usize,
        };
        let broker = match self.master_broker() {
            Some(m) if rng.below(2) == 0 => m,
            _ => rng.below(BROKERS as u64) as usize,
        };
        match rng.below(4) {
            0 => Fault::KillBroker(broker, rng.millis(1000, 5000)),
            1 => Fault::StopBroker(broker, rng.millis(2000, 9000)),
            2 => Fault::KillController(ctl, rng.millis(500, 4000)),
            _ => Fault::StopController(ctl, rng.millis(1000, 5000)),
        }
    }

    fn describe(&self, f: Fault) -> String {
        let leader = self.ctl.leader_now();
        let master = self.master_broker();
        let tag = |is: bool, what: &str| {
            if is {
                format!(" ({what})")
            } else {
                String::new()
            }
        };
        match f {
            Fault::KillBroker(b, d) => format!(
                "kill -9 broker b{b}{} for {:.1}s, restart",
                tag(master == Some(b), "master"),
                d.as_secs_f64()
            ),
            Fault::StopBroker(b, d) => format!(
                "SIGSTOP broker b{b}{} for {:.1}s",
                tag(master == Some(b), "master"),
                d.as_secs_f64()
            ),
            Fault::KillController(c, d) => format!(
                "kill -9 controller n{c}{} for {:.1}s, restart",
                tag(leader == Some(c), "leader"),
                d.as_secs_f64()
            ),
            Fault::StopController(c, d) => format!(
                "SIGSTOP controller n{c}{} for {:.1}s",
                tag(leader == Some(c), "leader"),
                d.as_secs_f64()
            ),
        }
    }

    fn apply(&mut self, f: Fault) {
        match f {
            Fault::KillBroker(b, d) => {
                self.brokers[b].kill9();
                std::thread::sleep(d);
                self.brokers[b].start();
            }
            Fault::StopBroker(b, d) => {
                self.brokers[b].stop();
                std::thread::sleep(d);
                self.brokers[b].cont();
            }
            Fault::KillController(c, d) => {
                self.ctl.kill9(c);
                std::thread::sleep(d);
                self.ctl.restart(c);
            }
            Fault::StopController(c, d) => {
                self.ctl.stop(c);
                std::thread::sleep(d);
                self.ctl.cont(c);
            }
        }
    }

    /// Until all controllers agree on a leader and the group has a master.
    fn settle(&self, timeout: Duration) -> Option<Duration> {
        let started = Instant::now();
        loop {
            if self.ctl.leader_now().is_some() {
                let leader_state = self.ctl.leader_now().and_then(|l| {
                    call_once(
                        self.ctl.nodes[l].ctl(),
                        request(1004, &[("brokerName", GROUP)]),
                        PROBE * 5,
                    )
                    .filter(|r| r.code == 0)
                    .and_then(|r| parse_1004(&r))
                });
                if leader_state.is_some_and(|s| s.master.is_some()) {
                    return Some(started.elapsed());
                }
            }
            if started.elapsed() > timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The leader's answers to 1004, 1006 and 1012, as one comparable text.
fn digest(ctl: &ControllerCluster, at: usize) -> Option<String> {
    let addr = ctl.nodes[at].ctl();
    let info = call_once(addr, request(1004, &[("brokerName", GROUP)]), PROBE * 5)?;
    let sync = call_once(
        addr,
        request(1006, &[]).with_body(format!("[\"{GROUP}\"]").into_bytes()),
        PROBE * 5,
    )?;
    let next = call_once(
        addr,
        request(1012, &[("clusterName", CLUSTER), ("brokerName", GROUP)]),
        PROBE * 5,
    )?;
    if info.code != 0 || sync.code != 0 || next.code != 0 {
        return None;
    }
    let mut header: Vec<_> = info.ext_fields.iter().collect();
    header.sort();
    // `alive` is the leader's local heartbeat view, not replicated state.
    let sync_body = String::from_utf8_lossy(&sync.body)
        .replace("\"alive\":false", "\"alive\":?")
        .replace("\"alive\":true", "\"alive\":?");
    Some(format!(
        "1004 {header:?} {}\n1006 {sync_body}\n1012 nextBrokerId={}",
        String::from_utf8_lossy(&info.body),
        ext(&next, "nextBrokerId").unwrap_or("?")
    ))
}

/// brokerId -> address in the route of the group's topic on one NameServer.
fn route(ns: SocketAddr) -> Option<BTreeMap<i64, String>> {
    let r = call_once(ns, request(105, &[("topic", GROUP)]), PROBE * 5)?;
    if r.code != 0 {
        return None;
    }
    let body = body_json(&r);
    let data = body["brokerDatas"]
        .as_array()?
        .iter()
        .find(|d| d["brokerName"] == GROUP)?;
    Some(
        data["brokerAddrs"]
            .as_object()?
            .iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_str()?.to_string())))
            .collect(),
    )
}

fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn controller_invariants_hold_under_random_faults() {
    let test_start = Instant::now();
    let seed = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
        | 1;
    let rounds: usize = std::env::var("CHAOS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    println!("chaos: seed {seed} (replay with CHAOS_SEED={seed}), {rounds} rounds");
    let mut rng = Rng(seed);

    let dir = tempfile::tempdir().unwrap();
    let ctl = ControllerCluster::start(
        &dir.path().join("ctl"),
        &[
            ("scanNotActiveBrokerInterval", "1000"),
            ("scanInactiveMasterInterval", "1000"),
        ],
    );
    let first = ctl.await_leader(Duration::from_secs(30));
    let ctl_ports: Vec<u16> = ctl.nodes.iter().map(|n| n.ctl_port).collect();
    println!("controllers {ctl_ports:?}, leader n{first}");

    let record = Arc::new(Mutex::new(Record {
        started: Some(Instant::now()),
        ..Record::default()
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let observer = {
        let (ports, record, stop) = (ctl_ports, record.clone(), stop.clone());
        std::thread::spawn(move || observe(ports, record, stop))
    };

    let brokers = (0..BROKERS)
        .map(|i| JBroker::new(dir.path().join(format!("b{i}")), &ctl))
        .collect();
    let mut world = World {
        ctl,
        brokers,
        record: record.clone(),
    };
    for (b, broker) in world.brokers.iter_mut().enumerate() {
        broker.start();
        println!("broker b{b} on {}", broker.addr());
    }
    let up_at = Instant::now();
    assert!(
        wait_until(Duration::from_secs(120), || {
            world
                .latest()
                .is_some_and(|s| s.master.is_some() && s.sss.len() == BROKERS)
        }),
        "the group never had a master with every broker in sync: {:?}",
        world.latest()
    );
    println!(
        "setup: {:.1}s; all {BROKERS} brokers in sync {:.1}s after starting: {:?}",
        test_start.elapsed().as_secs_f64(),
        up_at.elapsed().as_secs_f64(),
        world.latest()
    );

    let mut summary = Vec::new();
    for round in 1..=rounds {
        let fault = world.pick(&mut rng);
        let what = world.describe(fault);
        let before = world.latest();
        let t = Instant::now();
        world.apply(fault);
        let applied = t.elapsed();
        let settled = world.settle(Duration::from_secs(60));
        let after = world.latest();
        let line = format!(
            "round {round:2}: {what:<46} fault {:5.1}s, settled {}; master {:?}@{:?} -> {:?}@{:?}",
            applied.as_secs_f64(),
            settled.map_or("NEVER (60 s)".to_string(), |d| format!(
                "{:4.1}s",
                d.as_secs_f64()
            )),
            before.as_ref().and_then(|s| s.master),
            before.as_ref().map(|s| s.master_epoch),
            after.as_ref().and_then(|s| s.master),
            after.as_ref().map(|s| s.master_epoch),
        );
        println!("{line}");
        if settled.is_none() {
            record.lock().unwrap().violation_by(
                "test",
                format!("round {round}: no leader with a master 60 s after healing"),
            );
        }
        summary.push(line);
        std::thread::sleep(rng.millis(500, 2000));
    }

    // Heal and converge: one leader, every broker in sync and routed.
    let heal = Instant::now();
    let in_sync = wait_until(Duration::from_secs(120), || {
        world.ctl.leader_now().is_some()
            && world
                .latest()
                .is_some_and(|s| s.master.is_some() && s.sss.len() == BROKERS)
    });
    println!(
        "healed: every broker in sync {in_sync} after {:.1}s: {:?}",
        heal.elapsed().as_secs_f64(),
        world.latest()
    );
    assert!(in_sync, "the group did not heal: {:?}", world.latest());
    let ids = record.lock().unwrap().id_addr.clone();
    let master = world.latest().unwrap().master.unwrap();
    let want: BTreeMap<i64, String> = ids
        .iter()
        .map(|(id, a)| (if *id == master { 0 } else { *id }, a.clone()))
        .collect();
    for ns in world.ctl.ns_addrs() {
        let mut seen = None;
        let ok = wait_until(Duration::from_secs(90), || {
            seen = route(ns);
            seen.as_ref() == Some(&want)
        });
        assert!(
            ok,
            "NameServer {ns} routes {seen:?}, the controller says {want:?}"
        );
    }
    println!("every NameServer routes {want:?}");
    for b in &world.brokers {
        let controller_id = ids.iter().find(|(_, a)| **a == b.addr()).map(|(i, _)| *i);
        match b.identity() {
            Some((text, id)) => assert_eq!(
                Some(id),
                controller_id,
                "broker {} identity file {text:?}",
                b.addr()
            ),
            None => panic!("broker {} has no readable brokerIdentity file", b.addr()),
        }
    }

    // Every node leads in turn and shows the same state.
    let leader = world.ctl.await_leader(Duration::from_secs(30));
    let reference = digest(&world.ctl, leader).expect("leader digest");
    println!("state on the leader n{leader}:\n{reference}");
    let mut led = BTreeSet::from([leader]);
    let mut current = leader;
    for turn in 0..6 {
        if led.len() == 3 {
            break;
        }
        let t = Instant::now();
        world.ctl.kill9(current);
        let next = world.ctl.await_leader(Duration::from_secs(30));
        let took = t.elapsed();
        let state = digest(&world.ctl, next).expect("new leader digest");
        assert_eq!(
            state, reference,
            "n{next}, leading after n{current} was killed, shows another state"
        );
        world.ctl.restart(current);
        assert!(
            wait_until(Duration::from_secs(30), || world.ctl.leader_now()
                == Some(next)),
            "n{current} did not rejoin under n{next}"
        );
        println!(
            "turn {turn}: killed leader n{current}, n{next} led after {:.2}s with the same state",
            took.as_secs_f64()
        );
        led.insert(next);
        current = next;
    }
    println!("nodes that led with the same state: {led:?}");

    stop.store(true, Ordering::Relaxed);
    observer.join().unwrap();
    let rec = record.lock().unwrap();
    println!("\n==== chaos summary (seed {seed}) ====");
    for line in &summary {
        println!("{line}");
    }
    println!(
        "observer: {} cycles; unanswered 1005 per node {:?}",
        rec.cycles, rec.unanswered
    );
    for ((node, code, answer), n) in &rec.answers {
        if *answer != 2007 {
            println!("  n{node} {code} -> {answer}: {n}");
        }
    }
    println!(
        "masters by epoch: {}",
        rec.epoch_master
            .iter()
            .map(|(e, (m, by, at))| format!("{e}:{m:?}(n{by} {at:.1}s)"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "sync-state sets by (masterEpoch, syncStateSetEpoch): {:?}",
        rec.sets
    );
    println!("ids: {:?}; nextBrokerId {}", rec.id_addr, rec.max_next_id);
    println!(
        "nodes that led at the end: {led:?}; total {:.1}s",
        test_start.elapsed().as_secs_f64()
    );
    assert!(
        rec.violations.is_empty(),
        "invariants violated (seed {seed}):\n{}",
        rec.violations.join("\n")
    );
    assert!(rec.epoch_master.len() > 1, "no election happened at all");
}
