//! The controller (enableControllerInNamesrv=true) driven through the real
//! binary: one node, and a 3-node raft cluster on loopback with fake
//! brokers that speak the broker's controller sequence.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{eventually, request, Client, InProcess, Server};
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
    /// Extra properties, environment (test hooks) and `RUST_LOG` of every node.
    props: Vec<(String, String)>,
    env: Vec<(String, String)>,
    log_filter: String,
}

impl Cluster {
    fn start(n: usize) -> Cluster {
        Self::start_with(n, &[], &[], "info")
    }

    fn start_with(
        n: usize,
        props: &[(&str, &str)],
        env: &[(&str, &str)],
        log_filter: &str,
    ) -> Cluster {
        let owned = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let (ports, peers) = common::controller_peers(n);
        let mut cluster = Cluster {
            ports,
            peers,
            stores: tempfile::tempdir().unwrap(),
            nodes: Vec::new(),
            props: owned(props),
            env: owned(env),
            log_filter: log_filter.to_string(),
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
        let mut props = vec![
            ("enableControllerInNamesrv", "true"),
            ("controllerDLegerGroup", "group1"),
            ("controllerDLegerPeers", &self.peers),
            ("controllerDLegerSelfId", &self_id),
            ("controllerStorePath", &store),
            ("scanInactiveMasterInterval", "1000"),
        ];
        props.extend(self.props.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Server::start_with_env(tempfile::tempdir().unwrap(), &props, &self.log_filter, &env)
    }

    fn pid(&self, i: usize) -> u32 {
        self.nodes[i].as_ref().map(|n| n.child.id()).unwrap()
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
    /// The `heartbeatTimeoutMills` its heartbeats carry.
    timeout_ms: u64,
}

impl FakeBroker {
    fn new(name: &str) -> FakeBroker {
        FakeBroker {
            name: name.to_string(),
            id: -1,
            listener: TcpListener::bind("127.0.0.1:0").unwrap(),
            conns: Vec::new(),
            timeout_ms: 60_000,
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

    /// This broker's one-way 904.
    fn heartbeat_request(&self) -> RemotingCommand {
        let id = self.id.to_string();
        let timeout = self.timeout_ms.to_string();
        request(
            904,
            &[
                ("clusterName", "c"),
                ("brokerName", &self.name),
                ("brokerAddr", &self.addr()),
                ("brokerId", &id),
                ("epoch", "1"),
                ("maxOffset", "0"),
                ("heartbeatTimeoutMills", &timeout),
            ],
        )
        .mark_oneway()
    }

    /// One-way 904 to every controller in `ports`.
    fn heartbeat(&mut self, ports: &[u16]) {
        for port in ports {
            let hb = self.heartbeat_request();
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

/// A one-node controller on a free port beside its NameServer, its raft
/// store in the returned directory.
fn one_node() -> (Server, u16, tempfile::TempDir) {
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
    (server, port, stores)
}

#[test]
fn a_one_node_controller_serves_beside_the_name_server() {
    let (server, port, _stores) = one_node();
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
    let ready = dir.path().join("ready");
    let mut child = Command::new(common::binary())
        .arg("--controller")
        .arg("-c")
        .arg(&conf)
        .arg("--ready-file")
        .arg(&ready)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::wait_ready(&mut child, &ready);
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
    let _server = InProcess::start(&[
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

// ---------------------------------------------------------------------------
// Safety (issue 26): each test below reproduces one way two brokers of a set
// could both act as master, or a node could fail to restart.

/// Set broker-a up on the leader at `lp`: brokers 1 (master, epoch 1) and
/// 2 (slave), both in the sync-state set, heartbeating to `all`.
fn master_and_slave(lp: u16, all: &[u16]) -> (FakeBroker, FakeBroker) {
    let mut a = FakeBroker::new("broker-a");
    let (_, elected) = a.register(lp, all);
    assert_eq!(elected.code, 0, "{elected:?}");
    let mut b = FakeBroker::new("broker-a");
    let (_, elected) = b.register(lp, all);
    assert_eq!(elected.code, 2011, "{elected:?}");
    alter_sync_state_set(&mut a, lp, &[1, 2], 1);
    (a, b)
}

fn alter_sync_state_set(master: &mut FakeBroker, lp: u16, ids: &[i64], epoch: i32) {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let req = request(
        1001,
        &[
            ("clusterName", "c"),
            ("brokerName", &master.name),
            ("masterBrokerId", &master.id.to_string()),
            ("masterEpoch", "1"),
        ],
    )
    .with_body(
        format!(
            r#"{{"syncStateSet":[{}],"syncStateSetEpoch":{epoch}}}"#,
            list.join(",")
        )
        .into_bytes(),
    );
    let alter = master.conn(lp).call(req);
    assert_eq!(alter.code, 0, "{alter:?}");
}

/// (masterBrokerId, masterEpoch) of broker-a as the node on `port` answers 1004.
fn master_of(port: u16) -> (Option<String>, Option<String>) {
    let r = replica_info(port, "broker-a");
    assert_eq!(r.code, 0, "{r:?}");
    (
        ext(&r, "masterBrokerId").map(str::to_string),
        ext(&r, "masterEpoch").map(str::to_string),
    )
}

const DELAY_HOOK: &str = "NAMESRV_TEST_APPEND_DELAY_FILE";

/// Defect 1: a broker's 904s and its writes share one connection. With
/// every append slowed to 1 s, three writes pipelined ahead of the
/// heartbeats held them unread for 3 s, past the master's 1.5 s timeout:
/// the master expired and the slave was elected while the master lived.
#[test]
fn heartbeats_are_recorded_while_writes_on_the_same_connection_wait() {
    let hooks = tempfile::tempdir().unwrap();
    let delay = hooks.path().join("delay-ms");
    let delay_text = delay.display().to_string();
    let cluster = Cluster::start_with(1, &[], &[(DELAY_HOOK, &delay_text)], "info");
    let lp = cluster.ports[cluster.await_leader()];
    let (mut a, _b) = master_and_slave(lp, &[lp]);
    a.timeout_ms = 1500;
    a.heartbeat(&[lp]);

    std::fs::write(&delay, "1000").unwrap();
    let stream = a.conn(lp).stream.try_clone().unwrap();
    let writer = std::sync::Arc::new(std::sync::Mutex::new(stream.try_clone().unwrap()));
    let mut reader = Client::from_stream(stream);
    let send = |w: &std::sync::Mutex<TcpStream>, cmd: &RemotingCommand| {
        use std::io::Write;
        let frame = namesrv::remoting::codec::encode_frame(cmd);
        w.lock().unwrap().write_all(&frame).unwrap();
    };
    // Three writes (new broker sets, one ApplyBrokerId each), pipelined.
    let broker_addr = a.addr();
    for i in 0..3 {
        let name = format!("filler-{i}");
        let check = format!("{broker_addr};1");
        let mut req = request(
            1013,
            &[
                ("clusterName", "c"),
                ("brokerName", &name),
                ("appliedBrokerId", "1"),
                ("registerCheckCode", &check),
            ],
        );
        req.opaque = 1000 + i;
        send(&writer, &req);
    }
    // The master's heartbeats every 200 ms, behind them on the same socket.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let beats = {
        let (writer, stop, hb) = (writer.clone(), stop.clone(), a.heartbeat_request());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                send(&writer, &hb);
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let mut answered = Vec::new();
    for _ in 0..3 {
        let resp = reader
            .try_recv()
            .expect("the controller closed the master's connection: it expired the master");
        assert_eq!(resp.code, 0, "{resp:?}");
        answered.push(resp.opaque);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    beats.join().unwrap();
    answered.sort();
    assert_eq!(answered, [1000, 1001, 1002]);
    std::fs::remove_file(&delay).unwrap();
    assert_eq!(
        master_of(lp),
        (Some("1".into()), Some("1".into())),
        "the master was deposed while its heartbeats flowed"
    );
}

/// Defect 1, second path: a broker whose first connection is stuck opens a
/// new one and heartbeats there; when the old one finally closes it must
/// not take the (fresh) entry with it and depose the master.
#[test]
fn an_old_connection_closing_keeps_a_broker_that_heartbeats_elsewhere() {
    let cluster = Cluster::start_with(1, &[], &[], "info,namesrv::controller::service=debug");
    let leader = cluster.await_leader();
    let lp = cluster.ports[leader];
    let (mut a, _b) = master_and_slave(lp, &[lp]);
    let mut second = Client::connect(addr(lp));
    second.send(&a.heartbeat_request());
    assert_eq!(second.call(request(1005, &[])).code, 0);
    let old = a.conn(lp).stream.local_addr().unwrap().to_string();
    a.conns.clear();
    let node = cluster.nodes[leader].as_ref().unwrap();
    let closed = loop {
        let line = node.wait_log("controller connection closed", BOUND);
        if line.contains(&old) {
            break line;
        }
    };
    assert!(
        closed.contains("brokers=0"),
        "the old connection still owned the master's entry: {closed}"
    );
    assert_eq!(master_of(lp), (Some("1".into()), Some("1".into())));
}

/// Defect 2: an election whose write outlives the 5 s write timeout still
/// commits; a retry decided before it lands was computed on the state
/// without it. Brokers 2 and 3 were then both master at epoch 2 (3 was
/// told epoch 2 while the log gave epoch 2 to broker 2).
#[test]
fn a_retry_after_a_timed_out_election_is_decided_on_its_outcome() {
    let hooks = tempfile::tempdir().unwrap();
    let delay = hooks.path().join("delay-ms");
    let delay_text = delay.display().to_string();
    let cluster = Cluster::start_with(
        1,
        &[("enableElectUncleanMaster", "true")],
        &[(DELAY_HOOK, &delay_text)],
        "info",
    );
    let lp = cluster.ports[cluster.await_leader()];
    let (mut a, _b) = master_and_slave(lp, &[lp]);
    let mut c = FakeBroker::new("broker-a");
    let (_, elected) = c.register(lp, &[lp]);
    assert_eq!(elected.code, 2011, "{elected:?}");
    alter_sync_state_set(&mut a, lp, &[1, 2, 3], 2);

    let designate = |id: &str| {
        request(
            1002,
            &[
                ("clusterName", "c"),
                ("brokerName", "broker-a"),
                ("brokerId", id),
                ("designateElect", "true"),
            ],
        )
    };
    std::fs::write(&delay, "5600").unwrap();
    let first = call(lp, designate("2"));
    assert_eq!(first.code, 1, "the write should time out: {first:?}");
    std::fs::remove_file(&delay).unwrap();
    let retry = call(lp, designate("3"));
    let committed = master_of(lp);
    assert_eq!(
        committed.1.as_deref(),
        Some("3"),
        "both elections commit: {committed:?}"
    );
    if retry.code == 0 {
        assert_eq!(
            (
                ext(&retry, "masterBrokerId").map(str::to_string),
                ext(&retry, "masterEpoch").map(str::to_string)
            ),
            committed,
            "broker 3 was told an epoch the log gave to broker 2"
        );
    }
}

/// Defect 3: a leader cut off from both peers (SIGSTOPped) but reachable by
/// brokers kept serving 1004 from its stale state and naming itself leader.
#[test]
fn an_isolated_leader_steps_down_within_the_election_timeout() {
    let cluster = Cluster::start(3);
    let leader = cluster.await_leader();
    let lp = cluster.ports[leader];
    let mut a = FakeBroker::new("broker-a");
    let (_, elected) = a.register(lp, &cluster.ports);
    assert_eq!(elected.code, 0, "{elected:?}");
    let followers: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    for f in &followers {
        common::unsafe_kill(cluster.pid(*f), "STOP");
    }
    let stopped = Instant::now();
    let mut answer = None;
    // The election timeout is 0.4-0.7 s; allow for the check's period and a
    // busy machine, but far less than the 5 s a write would take to fail.
    let deadline = stopped + Duration::from_secs(3);
    while Instant::now() < deadline {
        let r = call(lp, request(1004, &[("brokerName", "broker-a")]));
        if r.code != 0 {
            answer = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let elapsed = stopped.elapsed();
    let meta = call(lp, request(1005, &[]));
    for f in &followers {
        common::unsafe_kill(cluster.pid(*f), "CONT");
    }
    let answer = answer.unwrap_or_else(|| {
        panic!("the isolated leader still served 1004 from its state after {elapsed:?}")
    });
    assert_eq!(answer.code, 2007, "{answer:?}");
    eprintln!("isolated leader answered 2007 after {elapsed:?}");
    assert_eq!(ext(&meta, "isLeader"), Some("false"), "{meta:?}");
    assert_ne!(
        ext(&meta, "controllerLeaderAddress"),
        Some(format!("127.0.0.1:{lp}").as_str()),
        "{meta:?}"
    );
    // Once the peers are back a leader serves again.
    let leader = cluster.await_leader();
    assert_eq!(master_of(cluster.ports[leader]).0.as_deref(), Some("1"));
}

/// Defect 5: after every controller restarted at once, the new leader's
/// heartbeat table holds only who has reached it yet. A slave asking to be
/// elected in that window won over a live master the leader had not heard
/// from, and the master was not told.
#[test]
fn a_new_leader_does_not_elect_over_a_master_it_has_not_heard_from_yet() {
    let mut cluster = Cluster::start(3);
    let ports = cluster.ports.clone();
    let lp = ports[cluster.await_leader()];
    let (mut a, mut b) = master_and_slave(lp, &ports);
    for i in 0..3 {
        cluster.kill(i);
    }
    a.conns.clear();
    b.conns.clear();
    for i in 0..3 {
        cluster.restart(i);
    }
    // The slave heartbeats to every node and asks each to elect it, from
    // before any leads until one that leads answers.
    let mut conns: Vec<Option<Client>> = (0..3).map(|_| None).collect();
    let deadline = Instant::now() + BOUND;
    let answer = 'found: loop {
        assert!(Instant::now() < deadline, "no leader answered the slave");
        for (i, port) in ports.iter().enumerate() {
            if conns[i].is_none() {
                conns[i] = TcpStream::connect_timeout(&addr(*port), Duration::from_millis(200))
                    .ok()
                    .map(|s| {
                        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                        Client::from_stream(s)
                    });
            }
            let Some(c) = conns[i].as_mut() else { continue };
            let hb = namesrv::remoting::codec::encode_frame(&b.heartbeat_request());
            if std::io::Write::write_all(&mut c.stream, &hb).is_err() {
                conns[i] = None;
                continue;
            }
            let elect = request(
                1002,
                &[
                    ("clusterName", "c"),
                    ("brokerName", "broker-a"),
                    ("brokerId", "2"),
                ],
            );
            match c.try_call(elect) {
                None => conns[i] = None,
                Some(r) if r.code == 2007 => {}
                Some(r) => break 'found r,
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        answer.code, 2011,
        "the slave was elected over a live master: {answer:?}"
    );
    assert_eq!(ext(&answer, "masterBrokerId"), Some("1"));
    let lp = ports[cluster.await_leader()];
    a.heartbeat(&ports);
    assert_eq!(master_of(lp), (Some("1".into()), Some("1".into())));
}

/// [`one_node`] once its controller answers, and a connection to it.
fn one_node_connected() -> (Server, tempfile::TempDir, Client) {
    let (server, port, stores) = one_node();
    eventually(BOUND, "the controller answers", || {
        try_call(port, request(1005, &[])).is_some()
    });
    let stream = TcpStream::connect(addr(port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    (server, stores, Client::from_stream(stream))
}

/// Requests written back to back in one segment are all answered on the
/// same connection, each matched by its opaque.
#[test]
fn the_controller_port_answers_pipelined_requests() {
    let (_server, _stores, mut c) = one_node_connected();
    let mut bytes = Vec::new();
    let mut sent = Vec::new();
    for i in 0..20 {
        // 1005 and 1010 alternate: both answered concurrently, in any order.
        let mut req = request(if i % 2 == 0 { 1005 } else { 1010 }, &[]);
        req.opaque = c.next_opaque();
        sent.push(req.opaque);
        bytes.extend_from_slice(&namesrv::remoting::codec::encode_frame(&req));
    }
    c.send_raw(&bytes);
    let mut answered: Vec<i32> = (0..sent.len())
        .map(|_| {
            let resp = c.recv().expect("a pipelined request went unanswered");
            assert!(resp.is_response());
            assert_eq!(resp.code, 0, "{}", body(&resp));
            resp.opaque
        })
        .collect();
    answered.sort_unstable();
    assert_eq!(answered, sent);
}

/// On SIGTERM a request already sent on the controller port is still
/// answered before its connection closes.
#[test]
fn the_controller_port_drains_on_shutdown() {
    let (mut server, _stores, mut c) = one_node_connected();
    // The connection is open and idle before the signal.
    let mut first = request(1010, &[]);
    first.opaque = c.next_opaque();
    c.send(&first);
    assert_eq!(c.recv().map(|r| r.opaque), Some(first.opaque));
    let mut req = request(1005, &[]);
    req.opaque = c.next_opaque();
    c.send(&req);
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let resp = c
        .recv()
        .expect("the request sent before shutdown went unanswered");
    assert_eq!(resp.opaque, req.opaque);
    assert!(
        c.recv().is_none(),
        "the connection stays open after shutdown"
    );
}

/// A process killed when the test ends, however it ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Issue 24 item 1: three NameServers with embedded controllers on one
/// host, each from a Java-style properties file that says nothing of our
/// HTTP port: all three start and serve (at most one gets the default HTTP
/// port; the others warn and go without), and the controllers elect.
#[test]
fn three_java_style_name_servers_share_a_host() {
    let (ports, peers) = common::controller_peers(3);
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = Vec::new();
    for i in 0..3 {
        let home = dir.path().join(format!("n{i}"));
        std::fs::create_dir_all(&home).unwrap();
        let conf = home.join("namesrv.properties");
        // What a Java NameServer with its controller is started from.
        std::fs::write(
            &conf,
            format!(
                "listenPort={}\nkvConfigPath={}\nconfigStorePath={}\n\
                 enableControllerInNamesrv=true\ncontrollerDLegerGroup=group1\n\
                 controllerDLegerPeers={peers}\ncontrollerDLegerSelfId=n{i}\n\
                 controllerStorePath={}\n",
                free_port(),
                home.join("kvConfig.json").display(),
                home.join("namesrv.properties.store").display(),
                home.join("controller").display(),
            ),
        )
        .unwrap();
        let ready = home.join("ready");
        let mut child = Command::new(common::binary())
            .arg("-c")
            .arg(&conf)
            .arg("--ready-file")
            .arg(&ready)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let text = common::wait_ready(&mut child, &ready);
        let addr = common::ready_address(&text, "namesrv").expect("namesrv address");
        let http = common::ready_address(&text, "http");
        nodes.push((Killed(child), addr, http));
    }
    let with_http = nodes.iter().filter(|(_, _, http)| http.is_some()).count();
    assert!(
        with_http <= 1,
        "{with_http} NameServers on one default port"
    );
    for (_, addr, _) in &nodes {
        let mut c = Client::connect(*addr);
        assert_eq!(c.call(common::route_request("NoSuchTopic")).code, 17);
    }
    eventually(BOUND, "one leader named by all three", || {
        let seen: Vec<_> = ports
            .iter()
            .map(|&p| {
                try_call(p, request(1005, &[]))
                    .and_then(|m| ext(&m, "controllerLeaderAddress").map(str::to_string))
            })
            .collect();
        seen[0].is_some() && seen.iter().all(|s| *s == seen[0])
    });
}
