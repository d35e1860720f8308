//! Issue 28, item 5: how RocketMQ 5 users connect. A Java 5.5.0
//! `rocketmq-proxy` in cluster mode with our NameServer as its only
//! `namesrvAddr`, in front of a 5.5.0 broker registered with ours; the topic
//! is created with 5.5.0 `mqadmin updateTopic` through ours (the broker
//! auto-creates nothing), and a rocketmq-client-java 5.2.0 producer and
//! simple consumer (tests/interop-java/ProxyClient.java) send and receive a
//! message through the proxy's gRPC endpoint: every route the proxy serves
//! them comes from ours.

use std::time::{Duration, Instant};

use namesrv_interop::*;

const CLUSTER: &str = "ProxyCluster";
const BROKER: &str = "proxyb";
const TOPIC: &str = "ProxyTopic";
const GROUP: &str = "ProxyClientGroup";

#[test]
fn grpc_client_sends_and_receives_through_the_proxy_on_our_namesrv() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let ours = Namesrv::start(&dir.path().join("ours"), &[]);
    let broker = JavaBroker::start(
        &dir.path().join("broker"),
        JavaBrokerConf {
            version: JavaVersion::V5_5_0,
            cluster: CLUSTER,
            name: BROKER,
            id: 0,
            role: "ASYNC_MASTER",
            namesrv: &ours.addr_string(),
            extra: &[("autoCreateTopicEnable", "false")],
        },
    );
    // The proxy creates its system topic on the cluster's brokers as it
    // starts, and exits if our cluster info names none yet.
    wait_for(
        Duration::from_secs(90),
        "the 5.5.0 broker registered with ours",
        || {
            cluster_info(ours.addr)["brokerAddrTable"][BROKER]["brokerAddrs"]["0"]
                == broker.addr.as_str()
        },
    );
    let proxy = JavaProxy::start_cluster(&dir.path().join("proxy"), &ours.addr_string(), CLUSTER);
    // TOPIC_NOT_EXIST (17) until mqadmin creates it.
    assert_eq!(
        ours.route_code(TOPIC),
        17,
        "{TOPIC} routed before it exists"
    );

    let ns = ours.addr_string();
    let admin = mqadmin(
        JavaVersion::V5_5_0,
        &dir.path().join("mqadmin"),
        &[
            "updateTopic",
            "-n",
            &ns,
            "-c",
            CLUSTER,
            "-t",
            TOPIC,
            "-r",
            "4",
            "-w",
            "4",
        ],
    );
    println!("$ mqadmin updateTopic\n{}{}", admin.stdout, admin.stderr);
    assert!(
        admin.status.success() && admin.stdout.contains("success"),
        "mqadmin updateTopic failed"
    );
    wait_for(Duration::from_secs(30), "ours routes the new topic", || {
        ours.route_code(TOPIC) == 0
    });

    let body = format!(
        "through the 5.5.0 proxy on our namesrv, pid {}",
        std::process::id()
    );
    let client_started = Instant::now();
    let client = proxy_client(
        &dir.path().join("client"),
        proxy.grpc,
        TOPIC,
        GROUP,
        &body,
        90,
    );
    println!(
        "$ java ProxyClient.java {} {TOPIC} {GROUP} ({} ms, {})\n{}{}",
        proxy.grpc,
        client_started.elapsed().as_millis(),
        client.status,
        client.stdout,
        client.stderr
    );
    assert!(
        client.status.success(),
        "ProxyClient failed; proxy log tail:\n{}",
        tail(&proxy.log(), 40)
    );
    let line = |prefix: &str| {
        client
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line from ProxyClient"))
            .to_string()
    };
    let sent = line("sent ");
    let received = line("received ");
    assert!(!sent.is_empty(), "empty message id");
    assert_eq!(
        received,
        format!("{sent} {body}"),
        "received another message"
    );
    println!("test took {:.1} s", started.elapsed().as_secs_f64());
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
