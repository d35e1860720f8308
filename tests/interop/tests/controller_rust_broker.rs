//! Issue 11: the rocketmq-rust broker 1.0 in controller mode
//! (`enableControllerMode=true`, `controllerAddr`, `brokerRole=SLAVE`)
//! against three of our controller nodes. What it does, as this test shows:
//!
//! - Java's `brokerId=-1` is refused at start-up: the id is a `u64`
//!   (rocketmq-model-1.0.0/src/common/broker/broker_identity.rs:38), so the
//!   broker exits before it talks to any controller. Left at its default
//!   (0), the controller assigns the id as it does for Java brokers.
//! - It then follows the broker sequence against ours: 1005, 1012, 1013,
//!   1003, 904, 1002; one becomes master (brokerId 0 in every route), the
//!   other a slave under its controller id, replicating over HA.
//! - Its master never asks the controller to grow the sync-state set:
//!   `BrokerOuterAPI::alter_sync_state_set`
//!   (rocketmq-broker-1.0.0/src/out_api/broker_outer_api.rs:1586) has no
//!   caller in rocketmq-broker or rocketmq-store 1.0.0, so 1001 is never
//!   sent and the slave stays out of the set.
//! - So, with unclean election off (Java's default), killing the master
//!   leaves the group without one: the controller elects nobody and the
//!   slave is not promoted, exactly as Java's controller decides for the
//!   same requests (DefaultElectPolicy considers the sync-state set only).

use std::time::{Duration, Instant};

use namesrv_interop::controller::{await_master_everywhere, ext, route_addrs, ControllerCluster};
use namesrv_interop::*;

const CLUSTER: &str = "RustCtl";
const GROUP: &str = "rg";
const BOUND: Duration = Duration::from_secs(90);

fn start(cluster: &ControllerCluster, dir: &std::path::Path, extra: &[(&str, &str)]) -> Broker {
    let ctl = cluster.controller_addrs();
    let mut props = vec![
        ("enableControllerMode", "true"),
        ("controllerAddr", ctl.as_str()),
        ("brokerRole", "SLAVE"),
    ];
    props.extend_from_slice(extra);
    Broker::start_with(&cluster.namesrv_addrs(), CLUSTER, GROUP, dir, &props)
}

#[test]
fn rust_broker_in_controller_mode() {
    let dir = tempfile::Builder::new()
        .prefix("ctl-rust-")
        .tempdir()
        .unwrap();
    let cluster = ControllerCluster::start(&dir.path().join("ctl"), &[]);
    cluster.await_leader(Duration::from_secs(30));
    let nss = cluster.ns_addrs();

    // brokerId=-1, as Java's controller-mode brokers ship: refused.
    let mut refused = start(&cluster, &dir.path().join("b0"), &[("brokerId", "-1")]);
    let mut status = None;
    wait_for(
        Duration::from_secs(30),
        "the brokerId=-1 broker exits",
        || {
            status = refused.child.try_wait().ok().flatten();
            status.is_some()
        },
    );
    let out = std::fs::read_to_string(refused.dir.join("broker.err")).unwrap_or_default();
    println!("brokerId=-1: {status:?}: {out}");
    assert!(status.is_some_and(|s| !s.success()));
    refused.kill();
    let next = cluster
        .leader_call(request(
            1012,
            &[("clusterName", CLUSTER), ("brokerName", GROUP)],
        ))
        .unwrap();
    assert_eq!(
        ext(&next, "nextBrokerId"),
        Some("1"),
        "it reached the controller"
    );

    // Default id: the first becomes master, the second its slave.
    let started = Instant::now();
    let mut b1 = start(&cluster, &dir.path().join("b1"), &[]);
    let took = await_master_everywhere(&nss, GROUP, GROUP, &b1.addr, BOUND);
    println!("TIME rust broker 1 -> brokerId 0 in all 3 routes: {took:?}");
    let b2 = start(&cluster, &dir.path().join("b2"), &[]);
    wait_for(BOUND, "rust broker 2 routed as a slave everywhere", || {
        nss.iter().all(|ns| {
            route_addrs(*ns, GROUP, GROUP).is_some_and(|m| {
                m["0"] == b1.addr.as_str()
                    && m.as_object()
                        .is_some_and(|o| o.iter().any(|(k, v)| k != "0" && *v == b2.addr.as_str()))
            })
        })
    });
    println!("TIME both rust brokers routed: {:?}", started.elapsed());

    // The slave replicates, yet stays out of the sync-state set: Java
    // brokers are in it within seconds (controller_java.rs).
    let settle = Instant::now();
    let mut state = serde_json::Value::Null;
    while settle.elapsed() < Duration::from_secs(20) {
        state = cluster.sync_state(GROUP).unwrap_or_default();
        assert_eq!(
            state["inSyncReplicas"].as_array().map(Vec::len),
            Some(1),
            "the set grew: {state}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let not_in_sync = state["notInSyncReplicas"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        not_in_sync
            .iter()
            .any(|r| r["brokerAddress"] == b2.addr.as_str() && r["alive"] == true),
        "{state}"
    );
    println!("after 20 s: {state}");

    // Kill -9 the master: no candidate in the set, so no master.
    b1.kill();
    let killed = Instant::now();
    let mut info = None;
    wait_for(BOUND, "the controller drops the dead master", || {
        info = cluster.leader_call(request(1004, &[("brokerName", GROUP)]));
        info.as_ref()
            .is_some_and(|r| r.code == 0 && ext(r, "masterBrokerId").is_none())
    });
    let epoch = info
        .as_ref()
        .and_then(|r| ext(r, "masterEpoch"))
        .unwrap_or("?");
    println!(
        "TIME master kill -> controller has no master (masterEpoch {epoch}): {:?}",
        killed.elapsed()
    );
    std::thread::sleep(Duration::from_secs(5));
    for ns in &nss {
        let routed = route_addrs(*ns, GROUP, GROUP);
        assert!(
            routed.as_ref().is_none_or(|m| m.get("0").is_none()),
            "a master was routed: {routed:?}"
        );
    }
}
