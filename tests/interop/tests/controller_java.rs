//! Issue 11: Java 5.5.0 brokers in controller mode on three of our namesrv
//! processes with the embedded controller. The brokers get their ids and
//! roles from our controllers and register with our NameServers; Java's
//! `mqadmin` controller commands work against ours; the group fails over
//! when its master is killed or stopped, when the controller leader dies,
//! and after all controllers restart.
//!
//! Times printed (`TIME ...`) are for the notes; the bounds are generous.

mod controller_java_support;

use std::time::{Duration, Instant};

use controller_java_support::*;
use namesrv_interop::*;

/// Registration, roles, the sync-state set and Java's controller commands;
/// then a designated hand-over, a producer across a master kill, and the
/// clean of the dead broker.
#[test]
fn java_brokers_register_fail_over_and_mqadmin_works() {
    let (fleet, master, slave, slave_id) = Fleet::start_in_sync("cj");
    let leader = fleet.cluster.await_leader(Duration::from_secs(30));
    let leader_ctl = fleet.cluster.nodes[leader].ctl().to_string();
    let follower = (leader + 1) % 3;
    let follower_ctl = fleet.cluster.nodes[follower].ctl().to_string();

    // getControllerMetaData on every controller names the same leader and
    // prints what our namesrv-admin prints.
    for node in &fleet.cluster.nodes {
        let ctl = node.ctl().to_string();
        let out = fleet.mqadmin(&["getControllerMetaData", "-a", &ctl]);
        assert!(out.status.success(), "{}", out.stderr);
        assert!(
            out.stdout
                .contains(&format!("#ControllerGroup\tgroup1\n#ControllerLeaderId\tn{leader}\n#ControllerLeaderAddress\t{leader_ctl}\n")),
            "{}",
            out.stdout
        );
        for (i, n) in fleet.cluster.nodes.iter().enumerate() {
            assert!(out.stdout.contains(&format!("#Peer:\tn{i}:{}", n.ctl())));
        }
        let ours = namesrv_admin(&["getControllerMetaData", "-a", &ctl]);
        assert_eq!(ours.stdout, out.stdout, "namesrv-admin differs");
    }

    // getSyncStateSet through a follower (mqadmin asks it for the leader).
    let out = fleet.mqadmin(&["getSyncStateSet", "-a", &follower_ctl, "-b", GROUP]);
    let master_id = fleet.id_of(master);
    for want in [
        format!(
            "#brokerName\t{GROUP}\n#MasterBrokerId\t{master_id}\n#MasterAddr\t{}\n",
            fleet.addr(master)
        ),
        "#SyncStateSetNums\t2\n".to_string(),
        format!(
            "brokerId={master_id}, brokerAddress='{}', alive=true",
            fleet.addr(master)
        ),
        format!(
            "brokerId={slave_id}, brokerAddress='{}', alive=true",
            fleet.addr(slave)
        ),
    ] {
        assert!(out.stdout.contains(&want), "no {want:?} in\n{}", out.stdout);
    }
    let ours = namesrv_admin(&["getSyncStateSet", "-a", &follower_ctl, "-b", GROUP]);
    assert_eq!(ours.stdout, out.stdout, "namesrv-admin differs");

    // A topic, and acknowledged messages before any failover.
    let ns = fleet.cluster.namesrv_addrs();
    let made = fleet.mqadmin(&["updateTopic", "-n", &ns, "-c", CLUSTER, "-t", TOPIC]);
    assert!(made.stdout.contains("success"), "{}", made.stdout);
    let mut acked = Vec::new();
    for i in 0..3 {
        acked.push(fleet.send_until_ok(&format!("before-{i}"), Duration::from_secs(60)));
    }

    // Hand mastership to the slave with Java's electMaster.
    let epoch_before = fleet.master_epoch();
    let started = Instant::now();
    let out = fleet.mqadmin(&[
        "electMaster",
        "-a",
        &follower_ctl,
        "-c",
        CLUSTER,
        "-bn",
        GROUP,
        "-b",
        &slave_id.to_string(),
    ]);
    assert!(
        out.stdout.contains(&format!(
            "#BrokerMasterAddr\t{}\n#MasterEpoch\t{}\n",
            fleet.addr(slave),
            epoch_before + 1
        )),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let took = fleet.await_routed_master(slave);
    println!(
        "TIME electMaster -> new master in every route: {took:?} (mqadmin run included: {:?})",
        started.elapsed()
    );
    let (master, slave) = (slave, master);
    fleet.await_both_in_sync(master, slave);
    for i in 0..3 {
        acked.push(fleet.send_until_ok(&format!("handed-{i}"), Duration::from_secs(60)));
    }

    // Kill -9 the master: the slave (in the sync-state set, so it holds
    // every acknowledged message) becomes master in every route.
    let dead_id = fleet.id_of(master);
    let mut fleet = fleet;
    fleet.brokers[master].process.kill9();
    let took = fleet.await_routed_master(slave);
    println!("TIME broker kill -9 -> slave is brokerId 0 in all 3 routes: {took:?}");

    // The producer carries on through our NameServers.
    let started = Instant::now();
    for i in 0..3 {
        acked.push(fleet.send_until_ok(&format!("after-{i}"), Duration::from_secs(90)));
    }
    println!(
        "TIME three SEND_OK after the failover within {:?}",
        started.elapsed()
    );

    // Every acknowledged message is on the new master: its queues hold at
    // least as many messages, and a consumer reads every acknowledged body.
    let status = fleet.mqadmin(&["topicStatus", "-n", &ns, "-t", TOPIC]);
    let stored = max_offset_sum(&status.stdout, GROUP);
    assert!(
        stored >= acked.len() as u64,
        "{} acknowledged, {stored} stored:\n{}",
        acked.len(),
        status.stdout
    );
    let consumed = fleet.mqadmin(&["consumeMessage", "-n", &ns, "-t", TOPIC, "-c", "64"]);
    for sent in &acked {
        assert!(
            consumed.stdout.contains(&sent.body),
            "acknowledged {} (msgId {}) not consumed:\n{}",
            sent.body,
            sent.msg_id,
            consumed.stdout
        );
    }
    for sent in acked.iter().take(2) {
        let found = fleet.mqadmin(&["queryMsgById", "-n", &ns, "-t", TOPIC, "-i", &sent.msg_id]);
        assert!(
            found.stdout.contains(&sent.msg_id),
            "queryMsgById {}:\n{}{}",
            sent.msg_id,
            found.stdout,
            found.stderr
        );
    }
    println!(
        "checked: {} acknowledged messages, {stored} in the new master's queues, all bodies consumed",
        acked.len()
    );

    // cleanBrokerMetadata of the killed broker, with Java's tool.
    let out = fleet.mqadmin(&[
        "cleanBrokerMetadata",
        "-a",
        &leader_ctl,
        "-c",
        CLUSTER,
        "-bn",
        GROUP,
        "-b",
        &dead_id.to_string(),
    ]);
    assert!(
        out.stdout.contains(&format!(
            "clear broker {GROUP} metadata from controller success!"
        )),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let state = fleet.cluster.sync_state(GROUP).unwrap();
    let ids = ids_in(&state);
    assert!(!ids.contains(&dead_id), "{dead_id} still listed: {state}");
    assert!(ids.contains(&fleet.id_of(slave)), "{state}");
}

/// Faults: SIGSTOP of the master broker, kill -9 of the controller leader,
/// a restart of all controllers, then a master kill on the restarted ones.
#[test]
fn java_brokers_survive_broker_stop_and_controller_faults() {
    let (mut fleet, master, slave, _) = Fleet::start_in_sync("cf");

    // SIGSTOP the master: its connections stay open, so only the
    // heartbeat timeout (10 s) and the expiry scan find it.
    signal(fleet.brokers[master].process.pid(), "STOP");
    let took = fleet.await_routed_master(slave);
    println!("TIME broker SIGSTOP -> slave is brokerId 0 in all 3 routes: {took:?}");
    // Resumed, the old master learns the higher epoch and turns slave.
    signal(fleet.brokers[master].process.pid(), "CONT");
    let (master, slave) = (slave, master);
    let started = Instant::now();
    fleet.await_both_in_sync(master, slave);
    println!(
        "TIME resumed old master back in the sync-state set as slave: {:?}",
        started.elapsed()
    );

    // Kill -9 the controller leader: a survivor leads with the same state.
    let leader = fleet.cluster.await_leader(BOUND);
    let before = fleet.digest(leader);
    let killed = Instant::now();
    fleet.cluster.kill9(leader);
    let new_leader = fleet.cluster.await_leader(BOUND);
    println!(
        "TIME controller leader kill -9 -> new ready leader (n{leader} -> n{new_leader}): {:?}",
        killed.elapsed()
    );
    assert_ne!(new_leader, leader);
    assert_eq!(
        fleet.digest(new_leader),
        before,
        "state changed on failover"
    );
    fleet.cluster.restart(leader);
    fleet.cluster.await_leader(BOUND);

    // Restart all three controllers: the state comes back from disk.
    let before = fleet.digest(fleet.cluster.await_leader(BOUND));
    for i in 0..3 {
        fleet.cluster.kill9(i);
    }
    let restarted = Instant::now();
    for i in 0..3 {
        fleet.cluster.restart(i);
    }
    let leader = fleet.cluster.await_leader(BOUND);
    println!(
        "TIME all controllers restarted -> ready leader: {:?}",
        restarted.elapsed()
    );
    assert_eq!(
        fleet.digest(leader),
        before,
        "state not recovered from disk"
    );
    // The brokers carry on: both heartbeat the new controllers again...
    fleet.await_both_in_sync(master, slave);
    // ...and a master kill still fails over.
    fleet.brokers[master].process.kill9();
    let took = fleet.await_routed_master(slave);
    println!(
        "TIME broker kill -9 after the controller restart -> new master in all routes: {took:?}"
    );
}
