//! Three of our namesrv processes with the embedded controller
//! (`enableControllerInNamesrv=true`) on loopback, each with its own raft
//! store that outlives restarts, and the probes the controller tests use:
//! the leader via 1005, leader reads (1004, 1006, 1012) and the master in
//! each NameServer's route (105).

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use namesrv::remoting::RemotingCommand;

use crate::namesrv::Namesrv;
use crate::remoting::{request, try_call};

/// Bounds of a single probe: a stopped or dying node must not hang a wait.
const PROBE: Duration = Duration::from_secs(3);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `port` on 127.0.0.1, where every process of the tests listens.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A header field of an answer.
pub fn ext<'a>(resp: &'a RemotingCommand, key: &str) -> Option<&'a str> {
    resp.ext_fields.get(key).map(String::as_str)
}

/// A fastjson body as standard JSON (`Null` if it does not parse).
pub fn body_json(resp: &RemotingCommand) -> serde_json::Value {
    namesrv::json::read::parse(&resp.body).unwrap_or(serde_json::Value::Null)
}

/// One node: a NameServer port and a controller port, both fixed for the
/// life of the cluster so brokers' `namesrvAddr` and `controllerAddr` stay
/// right across restarts.
pub struct Node {
    pub ns_port: u16,
    pub ctl_port: u16,
    pub process: Option<Namesrv>,
    stopped: bool,
}

impl Node {
    pub fn ns(&self) -> SocketAddr {
        loopback(self.ns_port)
    }

    pub fn ctl(&self) -> SocketAddr {
        loopback(self.ctl_port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.child.id())
    }
}

pub struct ControllerCluster {
    pub dir: PathBuf,
    pub nodes: Vec<Node>,
    peers: String,
    extra: Vec<(String, String)>,
}

impl ControllerCluster {
    /// Starts three nodes under `dir`, `extra` added to every node's file.
    pub fn start(dir: &Path, extra: &[(&str, &str)]) -> ControllerCluster {
        let nodes: Vec<Node> = (0..3)
            .map(|_| Node {
                ns_port: free_port(),
                ctl_port: free_port(),
                process: None,
                stopped: false,
            })
            .collect();
        let peers = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| format!("n{i}-127.0.0.1:{}", n.ctl_port))
            .collect::<Vec<_>>()
            .join(";");
        let mut cluster = ControllerCluster {
            dir: dir.to_path_buf(),
            nodes,
            peers,
            extra: extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        for i in 0..3 {
            cluster.restart(i);
        }
        cluster
    }

    /// (Re)starts node `i` on its ports and its store.
    pub fn restart(&mut self, i: usize) {
        self.kill9(i);
        let node_dir = self.dir.join(format!("n{i}"));
        let store = node_dir.join("controller-store").display().to_string();
        let self_id = format!("n{i}");
        let mut props: Vec<(&str, &str)> = vec![
            ("enableControllerInNamesrv", "true"),
            ("controllerDLegerGroup", "group1"),
            ("controllerDLegerPeers", self.peers.as_str()),
            ("controllerDLegerSelfId", self_id.as_str()),
            ("controllerStorePath", store.as_str()),
        ];
        props.extend(self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let process = Namesrv::start_on(&node_dir, self.nodes[i].ns_port, &props);
        self.nodes[i].process = Some(process);
        self.nodes[i].stopped = false;
    }

    /// SIGKILL node `i` (a no-op if it is down).
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut p) = self.nodes[i].process.take() {
            if self.nodes[i].stopped {
                signal(p.child.id(), "CONT");
            }
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        self.nodes[i].stopped = false;
    }

    /// SIGSTOP node `i`; [`cont`](Self::cont) resumes it.
    pub fn stop(&mut self, i: usize) {
        if let Some(pid) = self.nodes[i].pid() {
            signal(pid, "STOP");
            self.nodes[i].stopped = true;
        }
    }

    pub fn cont(&mut self, i: usize) {
        if let Some(pid) = self.nodes[i].pid() {
            signal(pid, "CONT");
            self.nodes[i].stopped = false;
        }
    }

    /// Nodes that run and are not stopped.
    pub fn live(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].process.is_some() && !self.nodes[*i].stopped)
            .collect()
    }

    /// `;`-separated NameServer addresses, for a broker's `namesrvAddr`.
    pub fn namesrv_addrs(&self) -> String {
        join(self.nodes.iter().map(Node::ns))
    }

    /// `;`-separated controller addresses, for a broker's `controllerAddr`.
    pub fn controller_addrs(&self) -> String {
        join(self.nodes.iter().map(Node::ctl))
    }

    pub fn ns_addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(Node::ns).collect()
    }

    /// 1005 on node `i`, `None` if it does not answer.
    pub fn metadata(&self, i: usize) -> Option<RemotingCommand> {
        try_call(self.nodes[i].ctl(), request(1005, &[]), PROBE)
    }

    /// The node that says it leads, serves a leader read (1012), and that
    /// every live node names as leader; `None` while that is not so.
    pub fn leader_now(&self) -> Option<usize> {
        let live = self.live();
        live.iter().copied().find(|&i| {
            let leads = self
                .metadata(i)
                .is_some_and(|m| ext(&m, "isLeader") == Some("true"));
            let serves = leads
                && try_call(
                    self.nodes[i].ctl(),
                    request(1012, &[("clusterName", "probe"), ("brokerName", "probe")]),
                    PROBE,
                )
                .is_some_and(|r| r.code == 0);
            let addr = self.nodes[i].ctl().to_string();
            serves
                && live.iter().all(|&j| {
                    self.metadata(j)
                        .is_some_and(|m| ext(&m, "controllerLeaderAddress") == Some(addr.as_str()))
                })
        })
    }

    /// Waits up to `timeout` for [`leader_now`](Self::leader_now).
    pub fn await_leader(&self, timeout: Duration) -> usize {
        let mut found = None;
        crate::wait_for(timeout, "a ready controller leader all nodes name", || {
            found = self.leader_now();
            found.is_some()
        });
        found.unwrap_or_default()
    }

    /// A leader-only request sent to the current leader.
    pub fn leader_call(&self, cmd: RemotingCommand) -> Option<RemotingCommand> {
        let leader = self.leader_now()?;
        try_call(self.nodes[leader].ctl(), cmd, PROBE)
    }

    /// 1006 for `name` on the leader: its entry of `replicasInfoTable`.
    pub fn sync_state(&self, name: &str) -> Option<serde_json::Value> {
        let mut cmd = request(1006, &[]);
        cmd.body = format!("[\"{name}\"]").into_bytes().into();
        let resp = self.leader_call(cmd)?;
        let entry = body_json(&resp)["replicasInfoTable"][name].clone();
        (resp.code == 0 && !entry.is_null()).then_some(entry)
    }

    /// 1004 and 1012 for a group on node `at`, as one comparable string:
    /// the replicated state a client sees.
    pub fn state_digest(&self, at: usize, cluster: &str, name: &str) -> Option<String> {
        let ctl = self.nodes[at].ctl();
        let info = try_call(ctl, request(1004, &[("brokerName", name)]), PROBE)?;
        let next = try_call(
            ctl,
            request(1012, &[("clusterName", cluster), ("brokerName", name)]),
            PROBE,
        )?;
        if info.code != 0 || next.code != 0 {
            return None;
        }
        Some(format!(
            "master={:?} addr={:?} epoch={:?} sss={} nextBrokerId={:?}",
            ext(&info, "masterBrokerId"),
            ext(&info, "masterAddress"),
            ext(&info, "masterEpoch"),
            body_json(&info),
            ext(&next, "nextBrokerId")
        ))
    }
}

impl Drop for ControllerCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill9(i);
        }
    }
}

fn join(addrs: impl Iterator<Item = SocketAddr>) -> String {
    addrs.map(|a| a.to_string()).collect::<Vec<_>>().join(";")
}

/// `kill -SIG pid`, for signals std does not send.
pub fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("cannot run kill");
    assert!(status.success(), "kill -{sig} {pid} failed");
}

/// A group's brokers in a NameServer's route of `topic` (105): id → address.
pub fn route_addrs(ns: SocketAddr, topic: &str, name: &str) -> Option<serde_json::Value> {
    let resp = try_call(ns, request(105, &[("topic", topic)]), PROBE)?;
    if resp.code != 0 {
        return None;
    }
    body_json(&resp)["brokerDatas"]
        .as_array()?
        .iter()
        .find(|b| b["brokerName"] == name)
        .map(|b| b["brokerAddrs"].clone())
}

/// The address routed as brokerId 0 of group `name` in `topic` on `ns`.
pub fn route_master(ns: SocketAddr, topic: &str, name: &str) -> Option<String> {
    route_addrs(ns, topic, name)?["0"]
        .as_str()
        .map(str::to_string)
}

/// Waits until every NameServer routes `addr` as the master of `name` (and
/// no other id has `addr`); the time it took.
pub fn await_master_everywhere(
    nss: &[SocketAddr],
    topic: &str,
    name: &str,
    addr: &str,
    timeout: Duration,
) -> Duration {
    let started = Instant::now();
    crate::wait_for(
        timeout,
        &format!("{addr} routed as brokerId 0 of {name} by every NameServer"),
        || {
            nss.iter().all(|ns| {
                route_addrs(*ns, topic, name).is_some_and(|m| {
                    m["0"] == addr
                        && m.as_object().is_some_and(|o| {
                            o.iter().filter(|(_, v)| v.as_str() == Some(addr)).count() == 1
                        })
                })
            })
        },
    );
    started.elapsed()
}
