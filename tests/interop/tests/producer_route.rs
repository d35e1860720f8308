//! Issue 2 "done": a real rocketmq-rust broker registers with our namesrv; a
//! real rocketmq-rust producer starts, finds the route through namesrv and
//! sends single messages and a batch; admin reads show the broker; killing
//! the broker removes its route at once.

use std::time::Duration;

use cheetah_string::CheetahString;
use namesrv_interop::*;
use rocketmq_client_rust::{DefaultMQAdminExt, DefaultMQProducer, MQAdminReadExt};
use rocketmq_model::common::message::message_single::Message;
use rocketmq_model::result::SendStatus;

const TOPIC: &str = "InteropTopic";

fn message(i: usize) -> Message {
    Message::builder()
        .topic(TOPIC)
        .tags("TagA")
        .key(format!("key-{i}"))
        .body_slice(format!("hello namesrv {i}").as_bytes())
        .build_unchecked()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_routes_through_namesrv_and_sends() {
    let dir = tempfile::tempdir().unwrap();
    let namesrv = Namesrv::start(&dir.path().join("namesrv"), &[]);
    let mut broker = Broker::start(
        &namesrv.addr_string(),
        "InteropCluster",
        "interop-broker-a",
        &dir.path().join("broker"),
    );

    let ns = namesrv.addr;
    let broker_addr = broker.addr.clone();
    tokio::task::spawn_blocking(move || {
        wait_for(
            Duration::from_secs(60),
            "broker registered with namesrv",
            || {
                cluster_info(ns)["brokerAddrTable"]["interop-broker-a"]["brokerAddrs"]["0"]
                    == broker_addr.as_str()
            },
        )
    })
    .await
    .unwrap();
    println!("cluster info from namesrv: {}", cluster_info(namesrv.addr));

    let env = ClientEnv::new("producer");
    let mut producer = DefaultMQProducer::builder(env.runtime.clone())
        .producer_group("interop_producer_group".to_string())
        .name_server_addr(namesrv.addr_string())
        .build();
    producer.start().await.expect("producer start");

    for i in 0..3 {
        let result = producer
            .send_with_timeout(message(i), 10_000)
            .await
            .expect("send")
            .expect("a send result");
        println!(
            "single send {i}: {:?} queue={:?}",
            result.send_status, result.message_queue
        );
        assert_eq!(result.send_status, SendStatus::SendOk);
        assert_eq!(
            result
                .message_queue
                .as_ref()
                .map(|q| q.broker_name().to_string()),
            Some("interop-broker-a".to_string())
        );
    }
    let batch = producer
        .send_batch((3..8).map(message).collect::<Vec<_>>())
        .await
        .expect("batch send");
    println!(
        "batch send: {:?} queue={:?}",
        batch.send_status, batch.message_queue
    );
    assert_eq!(batch.send_status, SendStatus::SendOk);

    // The topic the broker auto-created is now routed by namesrv.
    assert_eq!(namesrv.route_code(TOPIC), 0);

    let mut admin = DefaultMQAdminExt::new(env.runtime.clone());
    admin.set_namesrv_addr(namesrv.addr_string());
    admin.start().await.expect("admin start");
    let clusters = admin
        .examine_broker_cluster_info()
        .await
        .expect("cluster info");
    println!("admin examineBrokerClusterInfo: {clusters:?}");
    let route = admin
        .examine_topic_route_info(CheetahString::from(TOPIC))
        .await
        .expect("route")
        .expect("route present");
    println!("admin examineTopicRouteInfo({TOPIC}): {route:?}");
    let broker_data = &route.broker_datas[0];
    assert_eq!(broker_data.broker_name().as_str(), "interop-broker-a");
    assert_eq!(
        broker_data.broker_addrs().get(&0).map(|a| a.to_string()),
        Some(broker.addr.clone())
    );

    producer.shutdown().await;

    // ali-ons (Node.js) reads the same route in fastjson's form.
    let node_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop-node");
    let out = tokio::process::Command::new("node")
        .arg(node_dir.join("route.js"))
        .env("NAMESRV_ADDR", namesrv.addr_string())
        .env("TOPIC", TOPIC)
        .env("EXPECT_BROKER_ADDR", &broker.addr)
        .env("EXPECT_BROKER_NAME", "interop-broker-a")
        .output()
        .await
        .expect("run node (install it and run npm ci in tests/interop-node)");
    println!("ali-ons: {}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "ali-ons failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Kill the broker: its connection closes and its routes go at once
    // (issue 5: within 1 s).
    broker.kill();
    let killed = std::time::Instant::now();
    let ns = namesrv.addr;
    tokio::task::spawn_blocking(move || {
        wait_for(
            Duration::from_secs(1),
            "route removed within 1 s of the broker kill",
            || raw_call(ns, request(105, &[("topic", TOPIC)])).code == 17,
        )
    })
    .await
    .unwrap();
    println!(
        "{:?} after kill: route for {TOPIC} answers TOPIC_NOT_EXIST; cluster info {}",
        killed.elapsed(),
        cluster_info(namesrv.addr)
    );
}
