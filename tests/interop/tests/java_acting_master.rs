//! Issue 10, acting master: with `supportActingMaster=true` on both
//! NameServers and a 5.5.0 master and slave with
//! `enableSlaveActingMaster=true`, the master is killed with SIGKILL; the
//! route answer then names the slave as acting master on ours exactly as on
//! Java's (same brokerAddrs, same flags), compared by the harness.

use std::time::Duration;

use namesrv::remoting::SerializeType;
use namesrv_interop::*;

const CLUSTER: &str = "ActCluster";

#[test]
fn killed_master_leaves_the_slave_acting_as_on_java() {
    let dir = tempfile::tempdir().unwrap();
    let acting = [("supportActingMaster", "true")];
    let ours = Namesrv::start(&dir.path().join("ours"), &acting);
    let java = JavaNamesrv::start(JavaVersion::V5_5_0, &dir.path().join("java-ns"), &acting);
    let both = format!("{};{}", ours.addr, java.addr);
    let broker = |id, role, sub: &str| {
        JavaBroker::start(
            &dir.path().join(sub),
            JavaBrokerConf {
                version: JavaVersion::V5_5_0,
                cluster: CLUSTER,
                name: "act5",
                id,
                role,
                namesrv: &both,
                extra: &[("enableSlaveActingMaster", "true")],
            },
        )
    };
    let mut master = broker(0, "ASYNC_MASTER", "master");
    let slave = broker(1, "SLAVE", "slave");
    let diff = Differential {
        ours: ours.addr,
        java: java.addr,
    };
    let route = request(105, &[("topic", "act5")]);
    let addrs = |c: &Comparison| c.ours.json()["brokerDatas"][0]["brokerAddrs"].clone();

    wait_for(Duration::from_secs(90), "master and slave on both", || {
        let c = diff.compare("before", &route, SerializeType::Json);
        c.differences.is_empty() && addrs(&c)["1"] == slave.addr.as_str()
    });
    let before = diff.assert_same("105 act5 before the kill", &route);
    assert_eq!(
        before.json()["brokerDatas"][0]["brokerAddrs"]["0"],
        master.addr.as_str()
    );

    master.process.kill9();
    println!("master {} killed", master.addr);

    // Both NameServers drop the master when its connections close; the
    // answers must then agree with the slave standing in as id 0.
    wait_for(
        Duration::from_secs(60),
        "slave acting master on both",
        || {
            let c = diff.compare("after", &route, SerializeType::Json);
            c.differences.is_empty() && addrs(&c)["0"] == slave.addr.as_str()
        },
    );
    for topic in ["act5", "TBW102", CLUSTER] {
        let answer = diff.assert_same(
            &format!("105 {topic} after the kill"),
            &request(105, &[("topic", topic)]),
        );
        let data = &answer.json()["brokerDatas"][0];
        assert_eq!(data["brokerAddrs"]["0"], slave.addr.as_str(), "{answer:?}");
        assert!(data["brokerAddrs"].get("1").is_none(), "{answer:?}");
        assert_eq!(data["enableActingMaster"], true, "{answer:?}");
    }
    diff.assert_same("106 after the kill", &request(106, &[]));
    diff.assert_same(
        "901 after the kill",
        &request(901, &[("clusterName", CLUSTER), ("brokerName", "act5")]),
    );
}
