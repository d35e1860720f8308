//! Issue 3 with a peer: the rocketmq-rust admin API (DefaultMQAdminExt)
//! drives the KV, topic-list, perm and config requests against namesrv with a
//! real broker registered; after a restart the KV entries and the updated
//! config are still there.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use cheetah_string::CheetahString;
use namesrv_interop::*;
use rocketmq_client_rust::{
    BrokerAdmin, DefaultMQAdminExt, MQAdminReadExt, RouteAdmin, TopicAdmin,
};

fn s(text: &str) -> CheetahString {
    CheetahString::from(text.to_string())
}

async fn admin_for(env: &ClientEnv, addr: &str) -> DefaultMQAdminExt {
    let mut admin = DefaultMQAdminExt::new(env.runtime.clone());
    admin.set_namesrv_addr(addr.to_string());
    admin.start().await.expect("admin start");
    admin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let ns_dir = dir.path().join("namesrv");
    let namesrv = Namesrv::start(&ns_dir, &[]);
    let addr = namesrv.addr_string();
    let broker = Broker::start(
        &addr,
        "AdminCluster",
        "admin-broker-a",
        &dir.path().join("broker"),
    );
    let ns = namesrv.addr;
    tokio::task::spawn_blocking(move || {
        wait_for(Duration::from_secs(60), "broker registered", || {
            cluster_info(ns)["clusterAddrTable"]["AdminCluster"].is_array()
        })
    })
    .await
    .unwrap();

    let env = ClientEnv::new("admin");
    let admin = admin_for(&env, &addr).await;

    // KV config.
    RouteAdmin::put_kv_config(&admin, s("INTEROP_NS"), s("color"), s("blue")).await;
    RouteAdmin::put_kv_config(&admin, s("INTEROP_NS"), s("shape"), s("round")).await;
    let value = RouteAdmin::get_kv_config(&admin, s("INTEROP_NS"), s("color"))
        .await
        .expect("get kv");
    println!("getKVConfig INTEROP_NS.color = {value}");
    assert_eq!(value.as_str(), "blue");
    let table = RouteAdmin::get_kv_list_by_namespace(&admin, s("INTEROP_NS"))
        .await
        .expect("kv list");
    println!("getKVListByNamespace INTEROP_NS = {:?}", table.table);
    assert_eq!(table.table.len(), 2);
    RouteAdmin::delete_kv_config(&admin, s("INTEROP_NS"), s("shape"))
        .await
        .expect("delete kv");
    // The client maps QUERY_NOT_FOUND to an empty value.
    let gone = RouteAdmin::get_kv_config(&admin, s("INTEROP_NS"), s("shape")).await;
    println!("getKVConfig INTEROP_NS.shape after delete = {gone:?}");
    assert!(gone.map_or(true, |v| v.is_empty()));
    let raw = namesrv.call(request(
        101,
        &[("namespace", "INTEROP_NS"), ("key", "shape")],
    ));
    assert_eq!(raw.code, 22);

    // Topic lists.
    let all = MQAdminReadExt::fetch_all_topic_list(&admin)
        .await
        .expect("topic list");
    println!(
        "fetchAllTopicList: {} topics, e.g. {:?}",
        all.topic_list.len(),
        all.topic_list.iter().take(5).collect::<Vec<_>>()
    );
    assert!(all.topic_list.iter().any(|t| t.as_str() == "TBW102"));
    let by_cluster = TopicAdmin::fetch_topics_by_cluster(&admin, s("AdminCluster"))
        .await
        .expect("by cluster");
    println!(
        "fetchTopicsByCluster(AdminCluster): {} topics",
        by_cluster.topic_list.len()
    );
    assert_eq!(by_cluster.topic_list.len(), all.topic_list.len());

    // Write perms.
    let wiped = BrokerAdmin::wipe_write_perm_of_broker(&admin, s(&addr), s("admin-broker-a"))
        .await
        .expect("wipe");
    println!("wipeWritePermOfBroker: {wiped} topics");
    assert_eq!(wiped as usize, all.topic_list.len());
    let route = MQAdminReadExt::examine_topic_route_info(&admin, s("TBW102"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(route.queue_datas[0].perm() & 2, 0, "write perm wiped");
    let added = BrokerAdmin::add_write_perm_of_broker(&admin, s(&addr), s("admin-broker-a"))
        .await
        .expect("add");
    println!("addWritePermOfBroker: {added} topics");
    assert_eq!(added, wiped);

    // Delete a topic from namesrv for this cluster.
    TopicAdmin::delete_topic_in_name_server(
        &admin,
        HashSet::from([s(&addr)]),
        Some(s("AdminCluster")),
        s("TBW102"),
    )
    .await
    .expect("delete topic");
    assert_eq!(namesrv.route_code("TBW102"), 17);

    // Namesrv config.
    RouteAdmin::update_name_server_config(
        &admin,
        HashMap::from([(s("enableTopicList"), s("false"))]),
        Some(vec![s(&addr)]),
    )
    .await
    .expect("update config");
    let config = RouteAdmin::get_name_server_config(&admin, vec![s(&addr)])
        .await
        .expect("get config");
    let ours = &config[&s(&addr)];
    println!(
        "getNameServerConfig: {} keys, enableTopicList={:?}",
        ours.len(),
        ours.get(&s("enableTopicList"))
    );
    assert_eq!(
        ours.get(&s("enableTopicList")).map(|v| v.as_str()),
        Some("false")
    );
    let refused = RouteAdmin::update_name_server_config(
        &admin,
        HashMap::from([(s("kvConfigPath"), s("/tmp/x"))]),
        Some(vec![s(&addr)]),
    )
    .await;
    println!("update of black-listed kvConfigPath: {refused:?}");
    assert!(refused.is_err());

    // Restart namesrv on the same port: KV entries and config survive.
    drop(broker);
    let port = namesrv.addr.port();
    drop(namesrv);
    let namesrv = Namesrv::start_on(&ns_dir, port, &[]);
    let admin = admin_for(&env, &namesrv.addr_string()).await;
    let value = RouteAdmin::get_kv_config(&admin, s("INTEROP_NS"), s("color"))
        .await
        .expect("kv after restart");
    println!("after restart: INTEROP_NS.color = {value}");
    assert_eq!(value.as_str(), "blue");
    let config = RouteAdmin::get_name_server_config(&admin, vec![s(&addr)])
        .await
        .expect("config after restart");
    assert_eq!(
        config[&s(&addr)]
            .get(&s("enableTopicList"))
            .map(|v| v.as_str()),
        Some("false")
    );
    println!("after restart: enableTopicList=false survived");
}
