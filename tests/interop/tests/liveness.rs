//! Issue 5 faults with a real rocketmq-rust broker: a broker that stops
//! answering without closing (SIGSTOP) expires within its heartbeat timeout
//! plus the scan interval; after SIGCONT, and after a namesrv restart, the
//! broker re-registers within its 30 s period and its routes come back.

use std::time::{Duration, Instant};

use namesrv_interop::*;

fn registered(ns: std::net::SocketAddr) -> bool {
    raw_call(ns, request(105, &[("topic", "TBW102")])).code == 0
}

#[test]
fn stopped_broker_expires_and_comes_back_and_survives_a_namesrv_restart() {
    let dir = tempfile::tempdir().unwrap();
    let ns_dir = dir.path().join("namesrv");
    let namesrv = Namesrv::start(&ns_dir, &[("scanNotActiveBrokerInterval", "500")]);
    // With acting master enabled the broker announces its heartbeat timeout
    // (brokerNotActiveTimeoutMillis) and sends BROKER_HEARTBEAT.
    let broker = Broker::start_with(
        &namesrv.addr_string(),
        "LiveCluster",
        "live-broker-a",
        &dir.path().join("broker"),
        &[
            ("enableSlaveActingMaster", "true"),
            ("brokerNotActiveTimeoutMillis", "3000"),
        ],
    );
    let ns = namesrv.addr;
    wait_for(Duration::from_secs(60), "broker registered", || {
        registered(ns)
    });

    broker.signal("STOP");
    let stopped = Instant::now();
    wait_for(
        Duration::from_secs(3 + 1 + 5),
        "stopped broker expired",
        || !registered(ns),
    );
    println!(
        "SIGSTOPped broker expired after {:?} (timeout 3 s + scan 0.5 s)",
        stopped.elapsed()
    );
    assert!(namesrv.log().contains("heartbeat expired"));

    broker.signal("CONT");
    let resumed = Instant::now();
    wait_for(
        Duration::from_secs(45),
        "resumed broker re-registered",
        || registered(ns),
    );
    println!("resumed broker re-registered after {:?}", resumed.elapsed());

    let port = namesrv.addr.port();
    drop(namesrv);
    let namesrv = Namesrv::start_on(&ns_dir, port, &[("scanNotActiveBrokerInterval", "500")]);
    let restarted = Instant::now();
    let ns = namesrv.addr;
    wait_for(
        Duration::from_secs(45),
        "broker re-registered with the restarted namesrv",
        || registered(ns),
    );
    println!(
        "after a namesrv restart the broker re-registered after {:?}",
        restarted.elapsed()
    );
}
