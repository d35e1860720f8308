//! The controller (enableControllerInNamesrv=true) driven through the real
//! binary: one node, and a 3-node raft cluster on loopback with fake
//! brokers that speak the broker's controller sequence.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{eventually, request, Client, Server};
use namesrv::remoting::RemotingCommand;

const BOUND: Duration = Duration::from_secs(20);

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn ext<'a>(resp: &'a RemotingCommand, key: &str) -> Option<&'a str> {
    resp.ext_fields.get(key).map(String::as_str)
}

fn body(resp: &RemotingCommand) -> String {
    String::from_utf8_lossy(&resp.body).into_owned()
}

/// One call on a fresh connection; `None` if the node does not answer.
fn try_call(port: u16, req: RemotingCommand) -> Option<RemotingCommand> {
    let stream = TcpStream::connect_timeout(&addr(port), Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(6))).ok()?;
    let mut c = Client::from_stream(stream);
    let mut req = req;
    req.opaque = c.next_opaque();
    c.send(&req);
    c.recv()
}

fn call(port: u16, req: RemotingCommand) -> RemotingCommand {
    try_call(port, req).expect("controller did not answer")
}

/// A cluster of `n` namesrv processes with embedded controllers, sharing
/// one directory of raft stores that outlives restarts.
struct Cluster {
    ports: Vec<u16>,
    peers: String,
    stores: tempfile::TempDir,
    nodes: Vec<Option<Server>>,
}

impl Cluster {
    fn start(n: usize) -> Cluster {
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let peers = ports
            .iter()
            .enumerate()
            .map(|(i, p)| format!("n{i}-127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(";");
        let mut cluster = Cluster {
            ports,
            peers,
            stores: tempfile::tempdir().unwrap(),
            nodes: Vec::new(),
        };
        for i in 0..n {
            let node = cluster.start_node(i);
            cluster.nodes.push(Some(node));
        }
        cluster
    }

    fn start_node(&self, i: usize) -> Server {
        let store = self.stores.path().join(format!("n{i}"));
        let self_id = format!("n{i}");
        let store = store.display().to_string();
        Server::start(&[
            ("enableControllerInNamesrv", "true"),
            ("controllerDLegerGroup", "group1"),
            ("controllerDLegerPeers", &self.peers),
            ("controllerDLegerSelfId", &self_id),
            ("controllerStorePath", &store),
            ("scanInactiveMasterInterval", "1000"),
        ])
    }

    fn restart(&mut self, i: usize) {
        self.nodes[i] = Some(self.start_node(i));
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }

    fn live(&self) -> Vec<usize> {
        (0..self.ports.len())
            .filter(|i| self.nodes[*i].is_some())
            .collect()
    }

    /// The node that says it leads, serves a leader-only read, and that
    /// every live node names as leader (so no election is still going on).
    fn await_leader(&self) -> usize {
        let mut found = None;
        eventually(
            BOUND,
            "a ready controller leader all nodes agree on",
            || {
                found = self.live().into_iter().find(|i| {
                    let port = self.ports[*i];
                    let meta = try_call(port, request(1005, &[]));
                    let leads = meta.is_some_and(|m| ext(&m, "isLeader") == Some("true"));
                    leads
                        && try_call(
                            port,
                            request(1012, &[("clusterName", "c"), ("brokerName", "probe")]),
                        )
                        .is_some_and(|r| r.code == 0)
                        && self.live().into_iter().all(|j| {
                            try_call(self.ports[j], request(1005, &[])).is_some_and(|m| {
                                ext(&m, "controllerLeaderAddress")
                                    == Some(format!("127.0.0.1:{port}").as_str())
                            })
                        })
                });
                found.is_some()
            },
        );
        found.unwrap()
    }
}

/// A broker as far as the controller sees it: a connection per controller
/// (heartbeats go to all, as ReplicasManager sends them) and an address
/// that is a real listener, so the 1008 push can be received.
struct FakeBroker {
    name: String,
    id: i64,
    listener: TcpListener,
    conns: Vec<(u16, Client)>,
}

impl FakeBroker {
    fn new(name: &str) -> FakeBroker {
        FakeBroker {
            name: name.to_string(),
            id: -1,
            listener: TcpListener::bind("127.0.0.1:0").unwrap(),
            conns: Vec::new(),
        }
    }

    fn addr(&self) -> String {
        self.listener.local_addr().unwrap().to_string()
    }

    fn conn(&mut self, port: u16) -> &mut Client {
        if let Some(i) = self.conns.iter().position(|(p, _)| *p == port) {
            return &mut self.conns[i].1;
        }
        self.conns.push((port, Client::connect(addr(port))));
        &mut self.conns.last_mut().unwrap().1
    }

    fn call(&mut self, port: u16, code: i32, fields: &[(&str, &str)]) -> RemotingCommand {
        let mut fields = fields.to_vec();
        let name = self.name.clone();
        fields.push(("clusterName", "c"));
        fields.push(("brokerName", &name));
        self.conn(port).call(request(code, &fields))
    }

    /// 1005, 1012, 1013, 1003, 904, 1002: the registration of a new broker.
    /// Returns the 1003 and 1002 replies.
    fn register(&mut self, leader: u16, all: &[u16]) -> (RemotingCommand, RemotingCommand) {
        let meta = self.call(leader, 1005, &[]);
        assert_eq!(ext(&meta, "isLeader"), Some("true"));
        let next = self.call(leader, 1012, &[]);
        assert_eq!(next.code, 0, "{next:?}");
        let id: i64 = ext(&next, "nextBrokerId").unwrap().parse().unwrap();
        let broker_addr = self.addr();
        let check = format!("{broker_addr};1700000000000");
        let id_text = id.to_string();
        let applied = self.call(
            leader,
            1013,
            &[("appliedBrokerId", &id_text), ("registerCheckCode", &check)],
        );
        assert_eq!(applied.code, 0, "{applied:?}");
        let registered = self.call(
            leader,
            1003,
            &[("brokerId", &id_text), ("brokerAddress", &broker_addr)],
        );
        assert_eq!(registered.code, 0, "{registered:?}");
        self.id = id;
        self.heartbeat(all);
        let elected = self.call(leader, 1002, &[("brokerId", &id_text)]);
        (registered, elected)
    }

    /// One-way 904 to every controller in `ports`.
    fn heartbeat(&mut self, ports: &[u16]) {
        let id = self.id.to_string();
        let broker_addr = self.addr();
        let name = self.name.clone();
        for port in ports {
            let hb = request(
                904,
                &[
                    ("clusterName", "c"),
                    ("brokerName", &name),
                    ("brokerAddr", &broker_addr),
                    ("brokerId", &id),
                    ("epoch", "1"),
                    ("maxOffset", "0"),
                    ("heartbeatTimeoutMills", "60000"),
                ],
            )
            .mark_oneway();
            self.conn(*port).send(&hb);
        }
        // One-way requests get no reply: a metadata call on each
        // connection returns after the controller has read the 904.
        for port in ports {
            let meta = self.conn(*port).call(request(1005, &[]));
            assert_eq!(meta.code, 0);
        }
    }

    /// The next request pushed to this broker's address (the 1008).
    fn accept_push(&self, timeout: Duration) -> RemotingCommand {
        self.listener.set_nonblocking(false).unwrap();
        let deadline = Instant::now() + timeout;
        let (stream, _) = self.listener.accept().unwrap();
        stream
            .set_read_timeout(Some(deadline.saturating_duration_since(Instant::now())))
            .unwrap();
        let mut c = Client::from_stream(stream);
        c.recv().expect("no push received")
    }
}

fn replica_info(port: u16, name: &str) -> RemotingCommand {
    call(port, request(1004, &[("brokerName", name)]))
}

/// After a failover or restart, the leader on `port` shows broker-a as it was
/// `before` (its 1004) and still hands out id 3 next: the raft state survived.
fn assert_group_kept(port: u16, before: &RemotingCommand) {
    let after = replica_info(port, "broker-a");
    assert_eq!(after.code, 0);
    assert_eq!(after.ext_fields, before.ext_fields);
    assert_eq!(body(&after), body(before));
    let next = call(
        port,
        request(1012, &[("clusterName", "c"), ("brokerName", "broker-a")]),
    );
    assert_eq!(ext(&next, "nextBrokerId"), Some("3"));
}

/// The binary run to its end with `args`.
fn run(args: &[&str]) -> std::process::Output {
    Command::new(common::binary()).args(args).output().unwrap()
}

/// What the binary prints with `args` (which end in `-p`), having succeeded.
fn printed(args: &[&str]) -> String {
    let out = run(args);
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_one_node_controller_serves_beside_the_name_server() {
    let port = free_port();
    let stores = tempfile::tempdir().unwrap();
    let peers = format!("n0-127.0.0.1:{port}");
    let store = stores.path().display().to_string();
    let server = Server::start(&[
        ("enableControllerInNamesrv", "true"),
        ("controllerDLegerGroup", "group1"),
        ("controllerDLegerPeers", &peers),
        ("controllerDLegerSelfId", "n0"),
        ("controllerStorePath", &store),
    ]);
    let mut meta = None;
    eventually(BOUND, "1005 names this node leader", || {
        meta = try_call(port, request(1005, &[]));
        meta.as_ref()
            .is_some_and(|m| ext(m, "controllerLeaderAddress").is_some())
    });
    let meta = meta.unwrap();
    assert_eq!(meta.code, 0);
    assert_eq!(ext(&meta, "isLeader"), Some("true"));
    assert_eq!(ext(&meta, "group"), Some("group1"));
    assert_eq!(ext(&meta, "controllerLeaderId"), Some("n0"));
    assert_eq!(
        ext(&meta, "controllerLeaderAddress"),
        Some(format!("127.0.0.1:{port}").as_str())
    );
    assert_eq!(
        ext(&meta, "peers"),
        Some(format!("n0:127.0.0.1:{port};").as_str())
    );
    // The NameServer port keeps its own table: the controller's codes are unknown there.
    let mut ns = server.client();
    assert_eq!(ns.call(request(1005, &[])).code, 3);
    assert!(!server
        .log
        .try_iter()
        .any(|l| l.contains("unknown config property")));

    // Bad input on the controller port.
    let mut c = Client::connect(addr(port));
    eventually(BOUND, "the node is the ready leader", || {
        c.call(request(1012, &[("clusterName", "c"), ("brokerName", "x")]))
            .code
            == 0
    });
    let unknown = c.call(request(7777, &[]));
    assert_eq!(unknown.code, 3);
    // Missing @CFNotNull fields: Java's handler fails with SYSTEM_ERROR.
    let missing = c.call(request(1012, &[("clusterName", "c")]));
    assert_eq!(missing.code, 1);
    assert!(missing.remark.unwrap_or_default().contains("brokerName"));
    let missing = c.call(request(1013, &[("clusterName", "c"), ("brokerName", "b")]));
    assert_eq!(missing.code, 1);
    assert_eq!(c.call(request(1004, &[("brokerName", "nope")])).code, 2008);
    assert_eq!(
        c.call(request(
            1002,
            &[("clusterName", "c"), ("brokerName", "nope")]
        ))
        .code,
        2010
    );
    // A heartbeat without brokerId is refused with 2005 (sent two-way to see it).
    let hb = c.call(request(
        904,
        &[
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("brokerAddr", "h:1"),
        ],
    ));
    assert_eq!(hb.code, 2005);
    let bad_body = c.call(
        request(
            1001,
            &[
                ("brokerName", "b"),
                ("masterBrokerId", "1"),
                ("masterEpoch", "1"),
            ],
        )
        .with_body(b"{not json".to_vec()),
    );
    assert_eq!(bad_body.code, 1);
    // Raft RPCs from a node id that is not a peer are refused.
    let raft = c.call(request(29_102, &[("raftFrom", "9")]).with_body(b"{}".to_vec()));
    assert_eq!(raft.code, 16);
    // A garbage frame closes that connection; the server still serves.
    let mut garbage = Client::connect(addr(port));
    garbage.send_raw(&[0, 0, 0, 8, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4]);
    assert!(garbage.is_closed_by_server());
    assert_eq!(call(port, request(1005, &[])).code, 0);
}

#[test]
fn start_up_fails_without_peers_or_self_id_and_p_prints_controller_keys() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("ns.properties");
    std::fs::write(
        &conf,
        "listenPort=0\nenableControllerInNamesrv=true\ncontrollerDLegerPeers=n0-127.0.0.1:1\n",
    )
    .unwrap();
    let conf_arg = conf.to_str().unwrap();
    let out = run(&["-c", conf_arg]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("controllerDLegerSelfId"), "{err}");

    std::fs::write(
        &conf,
        "enableControllerInNamesrv=true\ncontrollerDLegerPeers=n0-127.0.0.1:1\ncontrollerDLegerSelfId=n0\n",
    )
    .unwrap();
    let text = printed(&["-c", conf_arg, "-p"]);
    assert!(text.contains("listenPort=9876"), "{text}");
    assert!(
        text.contains("controllerDLegerPeers=n0-127.0.0.1:1"),
        "{text}"
    );
    assert!(text.contains("electMasterMaxRetryCount=3"), "{text}");

    let text = printed(&["--controller", "-c", conf_arg, "-p"]);
    assert!(text.contains("controllerDLegerSelfId=n0"), "{text}");
    assert!(!text.contains("listenPort"), "{text}");
}

#[test]
fn a_three_node_cluster_elects_masters_fails_over_and_recovers() {
    let mut cluster = Cluster::start(3);
    let ports = cluster.ports.clone();
    let leader = cluster.await_leader();
    let lp = ports[leader];

    // Two brokers of one set: the first becomes master, the second slave.
    let mut a = FakeBroker::new("broker-a");
    let (reg, elected) = a.register(lp, &ports);
    assert_eq!(a.id, 1);
    assert_eq!(ext(&reg, "masterBrokerId"), None);
    assert_eq!(elected.code, 0, "{elected:?}");
    assert_eq!(ext(&elected, "masterBrokerId"), Some("1"));
    assert_eq!(ext(&elected, "masterEpoch"), Some("1"));
    assert!(body(&elected).contains(r#""syncStateSet":[1]"#));
    let mut b = FakeBroker::new("broker-a");
    let (reg, elected) = b.register(lp, &ports);
    assert_eq!(b.id, 2);
    assert_eq!(ext(&reg, "masterBrokerId"), Some("1"));
    assert_eq!(elected.code, 2011, "{elected:?}");

    // Followers: 2007 to leader-only codes, local ones served.
    for f in (0..3).filter(|i| *i != leader) {
        for code in [1001, 1002, 1003, 1004, 1006, 1011, 1012, 1013] {
            let resp = call(ports[f], request(code, &[("brokerName", "broker-a")]));
            assert_eq!(resp.code, 2007, "code {code} on follower n{f}");
        }
        let meta = call(ports[f], request(1005, &[]));
        assert_eq!(ext(&meta, "isLeader"), Some("false"));
        assert_eq!(
            ext(&meta, "controllerLeaderAddress"),
            Some(format!("127.0.0.1:{lp}").as_str())
        );
        assert_eq!(call(ports[f], request(1010, &[])).code, 0);
        assert_eq!(call(ports[f], request(1009, &[])).code, 0);
    }

    // The master adds the slave to its sync-state set.
    let alter = a.call(lp, 1001, &[("masterBrokerId", "1"), ("masterEpoch", "1")]);
    assert_eq!(alter.code, 1, "no body: Java fails on the null set");
    let mut req = request(
        1001,
        &[
            ("clusterName", "c"),
            ("brokerName", "broker-a"),
            ("masterBrokerId", "1"),
            ("masterEpoch", "1"),
        ],
    );
    req = req.with_body(br#"{"syncStateSet":[1,2],"syncStateSetEpoch":1}"#.to_vec());
    let alter = a.conn(lp).call(req);
    assert_eq!(alter.code, 0, "{alter:?}");
    assert_eq!(ext(&alter, "newSyncStateSetEpoch"), Some("2"));
    let before = replica_info(lp, "broker-a");
    assert_eq!(
        body(&before),
        r#"{"syncStateSet":[1,2],"syncStateSetEpoch":2}"#
    );

    // kill -9 the leader: another takes over with the same state.
    let killed_at = Instant::now();
    cluster.kill(leader);
    let leader = cluster.await_leader();
    eprintln!(
        "controller leader kill -> new ready leader: {:?}",
        killed_at.elapsed()
    );
    let lp = ports[leader];
    assert_group_kept(lp, &before);
    let dead = (0..3).find(|i| cluster.nodes[*i].is_none()).unwrap();
    cluster.restart(dead);

    // The master's connections close: the leader elects the slave at once.
    b.heartbeat(&[lp]);
    a.heartbeat(&[lp]);
    let closed_at = Instant::now();
    a.conns.clear();
    let mut info = None;
    eventually(BOUND, "broker 2 elected after broker 1 went away", || {
        let r = replica_info(lp, "broker-a");
        let done = ext(&r, "masterBrokerId") == Some("2");
        info = Some(r);
        done
    });
    eprintln!(
        "master connection close -> new master: {:?}",
        closed_at.elapsed()
    );
    let info = info.unwrap();
    assert_eq!(ext(&info, "masterEpoch"), Some("2"));
    assert_eq!(body(&info), r#"{"syncStateSet":[2],"syncStateSetEpoch":3}"#);
    let push = b.accept_push(BOUND);
    assert_eq!(push.code, 1008);
    assert_eq!(ext(&push, "masterBrokerId"), Some("2"));
    assert_eq!(ext(&push, "masterEpoch"), Some("2"));
    assert_eq!(ext(&push, "masterAddress"), Some(b.addr().as_str()));

    // Restart all three: the state comes back from disk.
    // Killed before B's connections close, so no node sees its master go.
    let before = replica_info(lp, "broker-a");
    for i in 0..3 {
        cluster.kill(i);
    }
    b.conns.clear();
    for i in 0..3 {
        cluster.restart(i);
    }
    let leader = cluster.await_leader();
    let lp = ports[leader];
    assert_group_kept(lp, &before);
}

#[test]
fn the_standalone_controller_runs_from_the_same_binary_and_stops_on_sigterm() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("controller.properties");
    std::fs::write(
        &conf,
        format!(
            "controllerDLegerGroup=g\ncontrollerDLegerPeers=n0-127.0.0.1:{port}\ncontrollerDLegerSelfId=n0\ncontrollerStorePath={}\n",
            dir.path().join("store").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(common::binary())
        .arg("--controller")
        .arg("-c")
        .arg(&conf)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + BOUND;
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the controller did not report its start");
        if line.contains("The controller boot success") {
            break;
        }
    }
    let mut meta = None;
    eventually(BOUND, "the standalone node leads", || {
        meta = try_call(port, request(1005, &[]));
        meta.as_ref()
            .is_some_and(|m| ext(m, "isLeader") == Some("true"))
    });
    assert_eq!(
        meta.and_then(|m| m.ext_fields.get("group").cloned())
            .as_deref(),
        Some("g")
    );
    common::unsafe_kill(child.id(), "TERM");
    let status = common::wait_exit(&mut child, BOUND);
    assert!(status.success(), "{status:?}");
}

/// The value of the first `/metrics` line starting with `series`.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_show_the_controllers_role_term_and_elections() {
    let port = free_port();
    let http = free_port();
    let stores = tempfile::tempdir().unwrap();
    let peers = format!("n0-127.0.0.1:{port}");
    let store = stores.path().display().to_string();
    let http_text = http.to_string();
    let _server = Server::start(&[
        ("enableControllerInNamesrv", "true"),
        ("controllerDLegerPeers", &peers),
        ("controllerDLegerSelfId", "n0"),
        ("controllerStorePath", &store),
        ("httpListenPort", &http_text),
    ]);
    eventually(BOUND, "the node is the ready leader", || {
        let (_, text) = common::http_get(http, "/metrics");
        metric(&text, "namesrv_controller_ready_leader{node=\"n0\"}") == Some(1.0)
    });
    let (status, _) = common::http_get(http, "/readyz");
    assert_eq!(status, 200);

    let mut broker = FakeBroker::new("broker-m");
    let (_, elected) = broker.register(port, &[port]);
    assert_eq!(elected.code, 0, "{elected:?}");
    let (_, text) = common::http_get(http, "/metrics");
    let get = |series: &str| metric(&text, series);
    assert_eq!(
        get("namesrv_controller_raft_state{node=\"n0\",state=\"Leader\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        get("namesrv_controller_raft_state{node=\"n0\",state=\"Follower\"}"),
        Some(0.0)
    );
    assert!(
        get("namesrv_controller_raft_term{node=\"n0\"}").unwrap_or(0.0) >= 1.0,
        "{text}"
    );
    assert_eq!(
        get("namesrv_controller_leader_changes_total{node=\"n0\"}"),
        Some(1.0)
    );
    assert_eq!(
        get("namesrv_controller_elections_total{node=\"n0\",result=\"elected\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        get("namesrv_controller_election_duration_seconds_count"),
        Some(1.0)
    );
}
