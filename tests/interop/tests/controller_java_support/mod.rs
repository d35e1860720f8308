//! The fleet of `controller_java`: three of our controller nodes and two
//! Java 5.5.0 brokers of one group in controller mode, plus the probes and
//! `mqadmin` runs its tests share.

use std::time::{Duration, Instant};

use namesrv_interop::controller::{await_master_everywhere, route_addrs};
pub use namesrv_interop::controller::{signal, ControllerCluster};
use namesrv_interop::*;

pub const CLUSTER: &str = "CtlCluster";
pub const GROUP: &str = "cj";
pub const TOPIC: &str = "CtlTopic";
/// The bound of every wait: Java brokers start in 10-20 s on a busy host,
/// and a SIGSTOP needs the 10 s heartbeat timeout plus a 5 s scan.
pub const BOUND: Duration = Duration::from_secs(120);

pub struct Fleet {
    pub dir: tempfile::TempDir,
    pub cluster: ControllerCluster,
    pub brokers: Vec<JavaBroker>,
    started: Instant,
}

/// One acknowledged message.
pub struct Sent {
    pub body: String,
    pub msg_id: String,
}

impl Fleet {
    /// The cluster, then both brokers at once (each takes seconds).
    pub fn start(tag: &str) -> Fleet {
        let started = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix(&format!("ctl-java-{tag}-"))
            .tempdir()
            .unwrap();
        let cluster = ControllerCluster::start(&dir.path().join("ctl"), &[]);
        let ns = cluster.namesrv_addrs();
        let ctl = cluster.controller_addrs();
        let brokers = std::thread::scope(|s| {
            let handles: Vec<_> = (1..=2)
                .map(|i| {
                    let (dir, ns, ctl) = (dir.path().join(format!("b{i}")), &ns, &ctl);
                    s.spawn(move || {
                        JavaBroker::start(
                            &dir,
                            JavaBrokerConf {
                                version: JavaVersion::V5_5_0,
                                cluster: CLUSTER,
                                name: GROUP,
                                id: -1,
                                role: "SLAVE",
                                namesrv: ns,
                                extra: &[
                                    ("enableControllerMode", "true"),
                                    ("controllerAddr", ctl.as_str()),
                                    // Controller mode's synchronous replication:
                                    // the master acks once every member of the
                                    // sync-state set has the message.
                                    ("allAckInSyncStateSet", "true"),
                                ],
                            },
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("broker start panicked"))
                .collect::<Vec<JavaBroker>>()
        });
        println!("fleet up (brokers listening) after {:?}", started.elapsed());
        Fleet {
            dir,
            cluster,
            brokers,
            started,
        }
    }

    /// [`start`](Self::start), then until one broker is master and the
    /// other slave in every route and both are in the sync-state set:
    /// (fleet, master, slave, the slave's id), where every test begins.
    pub fn start_in_sync(tag: &str) -> (Fleet, usize, usize, i64) {
        let fleet = Fleet::start(tag);
        let (master, slave) = fleet.await_master_and_slave();
        let slave_id = fleet.await_both_in_sync(master, slave);
        (fleet, master, slave, slave_id)
    }

    pub fn addr(&self, i: usize) -> &str {
        &self.brokers[i].addr
    }

    /// Waits until every NameServer routes one broker as brokerId 0 and
    /// the other under another id: (master, slave) as broker indexes.
    pub fn await_master_and_slave(&self) -> (usize, usize) {
        let nss = self.cluster.ns_addrs();
        let mut roles = None;
        wait_for(BOUND, "a master and a slave in every route", || {
            let seen: Vec<_> = nss
                .iter()
                .map(|ns| route_addrs(*ns, GROUP, GROUP))
                .collect();
            let Some(Some(first)) = seen.first() else {
                return false;
            };
            let Some(map) = first.as_object() else {
                return false;
            };
            let master =
                (0..2).find(|i| map.get("0").and_then(|v| v.as_str()) == Some(self.addr(*i)));
            let all_same = seen.iter().all(|s| s.as_ref() == Some(first));
            match master {
                Some(m) if all_same && map.len() == 2 => {
                    let s = 1 - m;
                    let slave_routed = map
                        .iter()
                        .any(|(k, v)| k != "0" && v.as_str() == Some(self.addr(s)));
                    roles = Some((m, s));
                    slave_routed
                }
                _ => false,
            }
        });
        let (m, s) = roles.unwrap_or((0, 1));
        println!(
            "TIME fleet start -> master {} and slave {} in all 3 routes: {:?}",
            self.addr(m),
            self.addr(s),
            self.started.elapsed()
        );
        (m, s)
    }

    /// Waits until every NameServer routes broker `i` as the master; the
    /// time it took.
    pub fn await_routed_master(&self, i: usize) -> Duration {
        await_master_everywhere(&self.cluster.ns_addrs(), GROUP, GROUP, self.addr(i), BOUND)
    }

    /// Waits until the controller's sync-state set is {master, slave}, both
    /// alive, and every route lists the slave under its controller id;
    /// the slave's id.
    pub fn await_both_in_sync(&self, master: usize, slave: usize) -> i64 {
        let started = Instant::now();
        let nss = self.cluster.ns_addrs();
        let mut slave_id = 0;
        wait_for(BOUND, "both brokers in the sync-state set", || {
            let Some(state) = self.cluster.sync_state(GROUP) else {
                return false;
            };
            let in_sync = state["inSyncReplicas"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let alive = |i: usize| {
                in_sync
                    .iter()
                    .find(|r| r["brokerAddress"] == self.addr(i) && r["alive"] == true)
                    .and_then(|r| r["brokerId"].as_i64())
            };
            let (Some(_), Some(sid)) = (alive(master), alive(slave)) else {
                return false;
            };
            slave_id = sid;
            state["masterAddress"] == self.addr(master)
                && in_sync.len() == 2
                && nss.iter().all(|ns| {
                    route_addrs(*ns, GROUP, GROUP).is_some_and(|m| {
                        m["0"] == self.addr(master) && m[sid.to_string()] == self.addr(slave)
                    })
                })
        });
        println!(
            "TIME sync-state set {{master {}, slave {} (id {slave_id})}}: {:?}",
            self.addr(master),
            self.addr(slave),
            started.elapsed()
        );
        slave_id
    }

    /// A broker's controller id, from 1006.
    pub fn id_of(&self, i: usize) -> i64 {
        let state = self.cluster.sync_state(GROUP).expect("1006 on the leader");
        ["inSyncReplicas", "notInSyncReplicas"]
            .iter()
            .flat_map(|k| state[*k].as_array().cloned().unwrap_or_default())
            .find(|r| r["brokerAddress"] == self.addr(i))
            .and_then(|r| r["brokerId"].as_i64())
            .unwrap_or_else(|| panic!("{} not in {state}", self.addr(i)))
    }

    pub fn master_epoch(&self) -> i64 {
        let state = self.cluster.sync_state(GROUP).expect("1006 on the leader");
        state["masterEpoch"].as_i64().unwrap_or_default()
    }

    /// 1004 and 1012 of the group on node `i` (waits for an answer).
    pub fn digest(&self, i: usize) -> String {
        let mut digest = None;
        wait_for(BOUND, "1004 and 1012 answered", || {
            digest = self.cluster.state_digest(i, CLUSTER, GROUP);
            digest.is_some()
        });
        let digest = digest.unwrap_or_default();
        println!("state on n{i}: {digest}");
        digest
    }

    pub fn mqadmin(&self, args: &[&str]) -> ToolOutput {
        let started = Instant::now();
        let out = mqadmin(JavaVersion::V5_5_0, &self.dir.path().join("mqadmin"), args);
        println!(
            "$ mqadmin {} ({} ms)\n{}{}",
            args.join(" "),
            started.elapsed().as_millis(),
            out.stdout,
            out.stderr
        );
        out
    }

    /// `mqadmin sendMessage` through our NameServers until SEND_OK.
    pub fn send_until_ok(&self, body: &str, timeout: Duration) -> Sent {
        let ns = self.cluster.namesrv_addrs();
        let started = Instant::now();
        let mut failures = 0;
        loop {
            let out = self.mqadmin(&["sendMessage", "-n", &ns, "-t", TOPIC, "-p", body]);
            let ok = out.stdout.lines().find(|l| l.contains("SEND_OK"));
            if let Some(msg_id) = ok.and_then(|l| l.split_whitespace().last()) {
                if failures > 0 {
                    println!("{body}: SEND_OK after {failures} failed sends");
                }
                return Sent {
                    body: body.to_string(),
                    msg_id: msg_id.to_string(),
                };
            }
            failures += 1;
            assert!(
                started.elapsed() < timeout,
                "no SEND_OK for {body} within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// The sum of `#Max Offset` over `group`'s queues in topicStatus output.
pub fn max_offset_sum(status: &str, group: &str) -> u64 {
    status
        .lines()
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            (t.len() >= 4 && t[0] == group)
                .then(|| t[3].parse::<u64>().ok())
                .flatten()
        })
        .sum()
}

/// Every broker id a 1006 entry lists.
pub fn ids_in(state: &serde_json::Value) -> Vec<i64> {
    ["inSyncReplicas", "notInSyncReplicas"]
        .iter()
        .flat_map(|k| state[*k].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["brokerId"].as_i64())
        .collect()
}
