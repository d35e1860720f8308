//! Conformance: every request code the Java NameServer serves, over TCP,
//! as a Java client encodes it (JSON and ROCKETMQ headers), checked field by field.

mod common;

use common::*;
use namesrv::remoting::SerializeType;

const CODECS: [SerializeType; 2] = [SerializeType::Json, SerializeType::RocketMq];

fn call(
    c: &mut Client,
    st: SerializeType,
    code: i32,
    fields: &[(&str, &str)],
) -> namesrv::remoting::RemotingCommand {
    c.call(with_codec(request(code, fields), st))
}

fn registered(server: &InProcess) -> Client {
    let mut c = server.client();
    let resp = c.call(register_request(
        "broker-a",
        0,
        "127.0.0.1:10911",
        register_body(1, &["T1", "T2"]),
    ));
    assert_eq!(resp.code, 0);
    c
}

#[test]
fn kv_config_put_get_delete_list() {
    let server = InProcess::start(&[]);
    for st in CODECS {
        let mut c = server.client();
        let ns = format!("NS_{st:?}");
        let put = call(
            &mut c,
            st,
            100,
            &[("namespace", &ns), ("key", "k1"), ("value", "v1")],
        );
        assert_eq!((put.code, put.remark.as_deref()), (0, None));
        let get = call(&mut c, st, 101, &[("namespace", &ns), ("key", "k1")]);
        assert_eq!(get.code, 0);
        assert_eq!(get.ext_fields["value"], "v1");
        let list = call(&mut c, st, 219, &[("namespace", &ns)]);
        assert_eq!(json(&list.body), serde_json::json!({"table": {"k1": "v1"}}));
        let del = call(&mut c, st, 102, &[("namespace", &ns), ("key", "k1")]);
        assert_eq!(del.code, 0);
        let get = call(&mut c, st, 101, &[("namespace", &ns), ("key", "k1")]);
        assert_eq!(get.code, 22);
        assert_eq!(
            get.remark.unwrap(),
            format!("No config item, Namespace: {ns} Key: k1")
        );
        // The emptied namespace stays, as in Java: an empty table, not "not found".
        let list = call(&mut c, st, 219, &[("namespace", &ns)]);
        assert_eq!(json(&list.body), serde_json::json!({"table": {}}));
        let list = call(&mut c, st, 219, &[("namespace", "NO_SUCH_NAMESPACE")]);
        assert_eq!(list.code, 22);
        let missing = call(&mut c, st, 100, &[("namespace", &ns), ("key", "k1")]);
        assert_eq!(missing.code, 1);
        assert!(missing.remark.unwrap().contains("<value>"));
    }
    let file = std::fs::read_to_string(server.path("kvConfig.json")).unwrap();
    assert_eq!(
        json(file.as_bytes()),
        serde_json::json!({"configTable": {"NS_Json": {}, "NS_RocketMq": {}}})
    );
}

#[test]
fn order_topic_config_reaches_routes_and_register_answers() {
    let server = InProcess::start(&[("orderMessageEnable", "true")]);
    let mut c = server.client();
    let put = call(
        &mut c,
        SerializeType::Json,
        100,
        &[
            ("namespace", "ORDER_TOPIC_CONFIG"),
            ("key", "T1"),
            ("value", "broker-a:4"),
        ],
    );
    assert_eq!(put.code, 0);
    let resp = c.call(register_request(
        "broker-a",
        0,
        "127.0.0.1:10911",
        register_body(1, &["T1", "T2"]),
    ));
    assert_eq!(
        json(&resp.body),
        serde_json::json!({"table": {"T1": "broker-a:4"}})
    );
    let route = c.call(route_request("T1"));
    assert_eq!(json(&route.body)["orderTopicConf"], "broker-a:4");
    let route = c.call(route_request("T2"));
    assert!(json(&route.body).get("orderTopicConf").is_none());
}

#[test]
fn broker_member_group_and_write_perm() {
    let server = InProcess::start(&[]);
    let mut c = registered(&server);
    for st in CODECS {
        let group = call(
            &mut c,
            st,
            901,
            &[
                ("clusterName", "DefaultCluster"),
                ("brokerName", "broker-a"),
            ],
        );
        // Java leaves createResponseCommand(null)'s remark on this answer.
        assert_eq!(group.remark.as_deref(), Some("not set any response code"));
        let text = String::from_utf8(group.body.to_vec()).unwrap();
        assert_eq!(
            text,
            r#"{"brokerMemberGroup":{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}}"#
        );
        let wipe = call(&mut c, st, 205, &[("brokerName", "broker-a")]);
        assert_eq!(wipe.ext_fields["wipeTopicCount"], "2");
        assert_eq!(
            json(&c.call(route_request("T1")).body)["queueDatas"][0]["perm"],
            4
        );
        let add = call(&mut c, st, 327, &[("brokerName", "broker-a")]);
        assert_eq!(add.ext_fields["addTopicCount"], "2");
        assert_eq!(
            json(&c.call(route_request("T1")).body)["queueDatas"][0]["perm"],
            6
        );
        let none = call(&mut c, st, 205, &[("brokerName", "nobody")]);
        assert_eq!(none.ext_fields["wipeTopicCount"], "0");
    }
}

#[test]
fn topic_lists() {
    let server = InProcess::start(&[]);
    let mut c = registered(&server);
    for st in CODECS {
        let all = call(&mut c, st, 206, &[]);
        assert_eq!(
            json(&all.body),
            serde_json::json!({"topicList": ["T1", "T2"]})
        );
        let by_cluster = call(&mut c, st, 224, &[("cluster", "DefaultCluster")]);
        assert_eq!(
            json(&by_cluster.body)["topicList"],
            serde_json::json!(["T1", "T2"])
        );
        // Java reads the missing cluster as null: no cluster, no topics.
        let no_cluster = call(&mut c, st, 224, &[]);
        assert_eq!(
            (no_cluster.code, json(&no_cluster.body)),
            (0, serde_json::json!({"topicList": []}))
        );
        let sys = call(&mut c, st, 304, &[]);
        assert_eq!(
            json(&sys.body),
            serde_json::json!({"brokerAddr": "127.0.0.1:10911", "topicList": ["DefaultCluster", "broker-a"]})
        );
        for code in [311, 312, 313] {
            let unit = call(&mut c, st, code, &[]);
            assert_eq!(
                (unit.code, json(&unit.body)),
                (0, serde_json::json!({"topicList": []}))
            );
        }
    }
}

#[test]
fn topic_lists_honour_their_switches() {
    let server = InProcess::start(&[
        ("enableAllTopicList", "false"),
        ("enableTopicList", "false"),
    ]);
    let mut c = registered(&server);
    for code in [206, 311, 312, 313] {
        let resp = call(&mut c, SerializeType::Json, code, &[]);
        assert_eq!(
            (resp.code, resp.remark.as_deref()),
            (1, Some("disable")),
            "code {code}"
        );
    }
    let resp = call(
        &mut c,
        SerializeType::Json,
        224,
        &[("cluster", "DefaultCluster")],
    );
    assert_eq!(resp.code, 1);
    assert_eq!(call(&mut c, SerializeType::Json, 304, &[]).code, 0);
}

#[test]
fn delete_and_register_topic() {
    let server = InProcess::start(&[]);
    let mut c = registered(&server);
    for st in CODECS {
        let mut reg = with_codec(request(217, &[("topic", "T1")]), st);
        reg.body = br#"{"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#.to_vec().into();
        assert_eq!(c.call(reg).code, 0);
        assert_eq!(
            call(
                &mut c,
                st,
                216,
                &[("topic", "T1"), ("clusterName", "Other")]
            )
            .code,
            0
        );
        assert_eq!(c.call(route_request("T1")).code, 0);
        // A blank cluster name is a cluster name (Java tests only for empty).
        assert_eq!(
            call(&mut c, st, 216, &[("topic", "T1"), ("clusterName", " ")]).code,
            0
        );
        assert_eq!(c.call(route_request("T1")).code, 0);
        assert_eq!(
            call(
                &mut c,
                st,
                216,
                &[("topic", "T1"), ("clusterName", "DefaultCluster")]
            )
            .code,
            0
        );
        assert_eq!(c.call(route_request("T1")).code, 17);

        let mut reg = with_codec(request(217, &[("topic", "T1")]), st);
        reg.body = br#"{"brokerDatas":[],"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":2,"topicSysFlag":0,"writeQueueNums":2}]}"#.to_vec().into();
        assert_eq!(c.call(reg).code, 0);
        assert_eq!(
            json(&c.call(route_request("T1")).body)["queueDatas"][0]["readQueueNums"],
            2
        );

        assert_eq!(call(&mut c, st, 216, &[("topic", "T1")]).code, 0);
        assert_eq!(c.call(route_request("T1")).code, 17);
        let mut reg = with_codec(request(217, &[("topic", "T1")]), st);
        reg.body = b"{\"queueDatas\":".to_vec().into();
        assert_eq!(c.call(reg).code, 1);
    }
}

#[test]
fn namesrv_config_get_update_black_list_and_persist() {
    let server = InProcess::start(&[]);
    let mut c = server.client();
    for st in CODECS {
        let got = call(&mut c, st, 319, &[]);
        let text = String::from_utf8(got.body.to_vec()).unwrap();
        assert!(text.lines().any(|l| l == "enableTopicList=true"), "{text}");

        let mut upd = with_codec(request(318, &[]), st);
        upd.body = b"kvConfigPath=/tmp/evil.json\n".to_vec().into();
        let resp = c.call(upd);
        assert_eq!(
            (resp.code, resp.remark.as_deref()),
            (16, Some("Can not update config in black list."))
        );

        let mut upd = with_codec(request(318, &[]), st);
        upd.body = b"enableTopicList=maybe\n".to_vec().into();
        assert_eq!(c.call(upd).code, 1);

        // TLS settings take effect at start-up only; a run-time change is refused.
        let mut upd = with_codec(request(318, &[]), st);
        upd.body = b"tls.server.mode=disabled\n".to_vec().into();
        let resp = c.call(upd);
        assert_eq!(resp.code, 16);
        assert!(resp.remark.unwrap_or_default().contains("tls.server.mode"));
    }
    let mut upd = request(318, &[]);
    upd.body = b"enableTopicList=false\norderMessageEnable=true\n"
        .to_vec()
        .into();
    assert_eq!(c.call(upd).code, 0);
    let text = String::from_utf8(c.call(request(319, &[])).body.to_vec()).unwrap();
    assert!(text.lines().any(|l| l == "enableTopicList=false"));
    // The change takes effect at once...
    assert_eq!(call(&mut c, SerializeType::Json, 311, &[]).code, 1);
    // ...and is persisted to configStorePath.
    let stored = std::fs::read_to_string(server.path("namesrv-store.properties")).unwrap();
    assert!(
        stored.lines().any(|l| l == "orderMessageEnable=true"),
        "{stored}"
    );
}

#[test]
fn kv_entries_and_config_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_in(dir, &[]);
    let mut c = server.client();
    assert_eq!(
        call(
            &mut c,
            SerializeType::Json,
            100,
            &[("namespace", "ns"), ("key", "k"), ("value", "v")]
        )
        .code,
        0
    );
    let mut upd = request(318, &[]);
    upd.body = b"enableAllTopicList=false\n".to_vec().into();
    assert_eq!(c.call(upd).code, 0);
    drop(c);
    assert!(server.terminate().success());
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    drop(server);

    let server = Server::start_in(dir, &[]);
    let mut c = server.client();
    let get = call(
        &mut c,
        SerializeType::Json,
        101,
        &[("namespace", "ns"), ("key", "k")],
    );
    assert_eq!(get.ext_fields["value"], "v");
    assert_eq!(call(&mut c, SerializeType::Json, 206, &[]).code, 1);
}

/// An update that cannot be persisted is refused and changes nothing live.
#[test]
fn config_update_that_cannot_be_written_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("sub/store.properties");
    let server = InProcess::start(&[("configStorePath", store.to_str().unwrap())]);
    // Its directory becomes a plain file: the store can no longer be written.
    std::fs::write(dir.path().join("sub"), b"").unwrap();
    let mut c = server.client();
    let mut upd = request(318, &[]);
    upd.body = b"enableTopicList=false\n".to_vec().into();
    let resp = c.call(upd);
    assert_eq!(resp.code, 1, "{:?}", resp.remark);
    assert!(resp
        .remark
        .unwrap_or_default()
        .contains("config not updated"));
    let text = String::from_utf8(c.call(request(319, &[])).body.to_vec()).unwrap();
    assert!(text.lines().any(|l| l == "enableTopicList=true"), "{text}");
}

#[test]
fn java_black_listed_keys_stay_refused_whatever_config_black_list_says() {
    let server = InProcess::start(&[("configBlackList", "listenPort")]);
    let mut c = server.client();
    for line in [
        "rocketmqHome=/x",
        "kvConfigPath=/tmp/evil.json",
        "configStorePath=/tmp/evil.properties",
        "configBlackList=",
        "listenPort=1",
    ] {
        let mut upd = request(318, &[]);
        upd.body = format!("{line}\n").into_bytes().into();
        assert_eq!(c.call(upd).code, 16, "{line}");
    }
}

#[test]
fn zone_mode_filters_brokers_of_other_zones() {
    let server = InProcess::start(&[]);
    let mut c = server.client();
    for (name, addr, zone) in [
        ("broker-a", "127.0.0.1:10911", "zone-a"),
        ("broker-b", "127.0.0.1:10921", "zone-b"),
    ] {
        let mut req = register_request(name, 0, addr, register_body(1, &["T1", "T2"]));
        req.ext_fields.insert("__ZONE_NAME".into(), zone.into());
        assert_eq!(c.call(req).code, 0);
    }
    let mut req = route_request("T1");
    req.ext_fields.insert("__ZONE_MODE".into(), "true".into());
    req.ext_fields.insert("__ZONE_NAME".into(), "zone-b".into());
    let v = json(&c.call(req).body);
    assert_eq!(v["brokerDatas"].as_array().unwrap().len(), 1);
    assert_eq!(v["brokerDatas"][0]["zoneName"], "zone-b");
    assert_eq!(v["queueDatas"][0]["brokerName"], "broker-b");
    let all = json(&c.call(route_request("T1")).body);
    assert_eq!(all["brokerDatas"].as_array().unwrap().len(), 2);
}

#[test]
fn need_wait_for_service_refuses_routes_during_warm_up() {
    let server = InProcess::start(&[
        ("needWaitForService", "true"),
        ("waitSecondsForService", "3600"),
    ]);
    let mut c = registered(&server);
    let resp = c.call(route_request("T1"));
    assert_eq!(
        (resp.code, resp.remark.as_deref()),
        (1, Some("name server not ready"))
    );
}

#[test]
fn notify_min_broker_id_change_reaches_the_slave() {
    use std::net::TcpListener;
    let server = InProcess::start(&[("notifyMinBrokerIdChanged", "true")]);
    // A fake slave broker listening for the one-way notification.
    let slave = TcpListener::bind("127.0.0.1:0").unwrap();
    let slave_addr = slave.local_addr().unwrap().to_string();
    let mut c = server.client();
    let mut req = register_request("broker-a", 1, &slave_addr, register_body(1, &["T1", "T2"]));
    req.ext_fields
        .insert("enableActingMaster".into(), "true".into());
    assert_eq!(c.call(req).code, 0);
    let mut req = register_request(
        "broker-a",
        0,
        "127.0.0.1:10911",
        register_body(1, &["T1", "T2"]),
    );
    req.ext_fields
        .insert("enableActingMaster".into(), "true".into());
    assert_eq!(c.call(req).code, 0);
    let (stream, _) = slave.accept().unwrap();
    let mut notified = Client::from_stream(stream);
    let cmd = notified.recv().unwrap();
    assert_eq!(cmd.code, 905);
    assert!(cmd.is_oneway());
    assert_eq!(cmd.ext_fields["minBrokerId"], "0");
    assert_eq!(cmd.ext_fields["minBrokerAddr"], "127.0.0.1:10911");
}
