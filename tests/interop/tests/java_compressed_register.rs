//! Issue 10, beyond Java: a 5.5.0 broker with `compressedRegister=true`
//! sends a zlib body with `compressed=false` in its REGISTER_BROKER header
//! (an upstream bug). The Java 5.5.0 NameServer fails it with SYSTEM_ERROR
//! and never routes the broker; ours recognises the zlib stream and does.

use std::time::Duration;

use namesrv_interop::*;

#[test]
fn compressed_register_with_a_false_header_routes_on_ours_only() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Namesrv::start(&dir.path().join("ours"), &[]);
    let java = JavaNamesrv::start(JavaVersion::V5_5_0, &dir.path().join("java-ns"), &[]);
    let both = format!("{};{}", ours.addr, java.addr);
    let broker = JavaBroker::start(
        &dir.path().join("broker"),
        JavaBrokerConf {
            version: JavaVersion::V5_5_0,
            cluster: "ZipCluster",
            name: "zip5",
            id: 0,
            role: "ASYNC_MASTER",
            namesrv: &both,
            extra: &[("compressedRegister", "true")],
        },
    );

    wait_for(Duration::from_secs(60), "zip5 routed by ours", || {
        ours.route_code("zip5") == 0
    });
    let route = Observed::from_answer(&raw_call(ours.addr, request(105, &[("topic", "TBW102")])));
    assert_eq!(route.code, 0);
    assert_eq!(
        route.json()["brokerDatas"][0]["brokerAddrs"]["0"],
        broker.addr.as_str()
    );

    // The broker logs Java's refusal: a failed registration naming the Java
    // NameServer, then the answer's code, SYSTEM_ERROR (1).
    let log = broker.process.home.join("logs/rocketmqlogs/broker.log");
    let target = format!("TargetHost={}", java.addr);
    wait_for(
        Duration::from_secs(60),
        "broker logs Java's refusal",
        || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines
                .windows(2)
                .any(|w| w[0].contains(&target) && w[1].contains("CODE: 1 "))
        },
    );
    for topic in ["zip5", "TBW102", "ZipCluster"] {
        let java_code = raw_call(java.addr, request(105, &[("topic", topic)])).code;
        assert_eq!(
            java_code, 17,
            "Java routes {topic} (TOPIC_NOT_EXIST expected)"
        );
        assert_eq!(ours.route_code(topic), 0, "ours does not route {topic}");
    }
    let java_info = cluster_info(java.addr);
    assert!(
        java_info["brokerAddrTable"].get("zip5").is_none(),
        "Java registered the broker: {java_info}"
    );
    println!("compressed register: ours routes zip5, Java answered SYSTEM_ERROR");
}
