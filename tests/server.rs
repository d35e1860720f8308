//! The real binary over TCP: registration, routes, liveness, errors, shutdown.

mod common;

use std::time::Duration;

use common::*;
use namesrv::remoting::command::FLAG_ONEWAY;
use namesrv::remoting::SerializeType;

const ADDR_A: &str = "127.0.0.1:10911";

#[test]
fn broker_registers_and_route_is_served_in_both_codecs_and_dialects() {
    let server = InProcess::start(&[]);
    for st in [SerializeType::Json, SerializeType::RocketMq] {
        let mut c = server.client();
        let resp = c.call(with_codec(
            register_request(
                "broker-a",
                0,
                ADDR_A,
                register_body(1, &["TopicTest", "T2"]),
            ),
            st,
        ));
        assert_eq!(resp.code, 0, "{:?}", resp.remark);
        assert_eq!(resp.serialize_type, st, "answer uses the request's codec");

        // A 5.x client (version 479) gets standard JSON.
        let route = c.call(with_codec(route_request("TopicTest"), st));
        assert_eq!(route.code, 0);
        let v = json(&route.body);
        assert_eq!(v["brokerDatas"][0]["brokerAddrs"]["0"], ADDR_A);
        assert_eq!(v["brokerDatas"][0]["enableActingMaster"], false);
        assert_eq!(v["queueDatas"][0]["perm"], 6);

        // A pre-4.9.4 client gets fastjson's unquoted numeric keys.
        let mut old = route_request("TopicTest");
        old.version = 373;
        let route = c.call(with_codec(old, st));
        let text = String::from_utf8(route.body.to_vec()).unwrap();
        assert!(
            text.contains(r#""brokerAddrs":{0:"127.0.0.1:10911"}"#),
            "{text}"
        );
        // ...unless it asks for standard JSON.
        let mut old = route_request("TopicTest");
        old.version = 373;
        old.ext_fields
            .insert("acceptStandardJsonOnly".into(), "true".into());
        json(&c.call(with_codec(old, st)).body);
    }
}

#[test]
fn unknown_topic_and_unknown_code_and_missing_field_answer_errors() {
    let server = InProcess::start(&[]);
    let mut c = server.client();
    let resp = c.call(route_request("Nope"));
    assert_eq!(resp.code, 17);
    assert!(resp
        .remark
        .unwrap()
        .contains("No topic route info in name server for the topic: Nope"));

    let resp = c.call(request(4242, &[]));
    assert_eq!(resp.code, 3);
    assert_eq!(
        resp.remark.as_deref(),
        Some(" request type 4242 not supported")
    );

    let mut missing = register_request("broker-a", 0, ADDR_A, register_body(1, &["T1", "T2"]));
    missing.ext_fields.remove("clusterName");
    let resp = c.call(missing);
    assert_eq!(resp.code, 1);
    assert!(resp.remark.unwrap().contains("<clusterName>"));

    let mut bad = register_request("broker-a", 0, ADDR_A, register_body(1, &["T1", "T2"]));
    bad.ext_fields.insert("brokerId".into(), "abc".into());
    let resp = c.call(bad);
    assert_eq!(resp.code, 1);
    assert!(resp.remark.unwrap().contains("brokerId"));
}

/// Java's header decoder logs a missing or unparsable field and leaves it
/// null; each handler then does what it does with a null.
#[test]
fn missing_optional_header_fields_are_treated_as_java_treats_nulls() {
    let server = InProcess::start(&[]);
    let mut c = server.client();
    let resp = c.call(request(105, &[]));
    assert_eq!(resp.code, 17);
    assert!(resp.remark.unwrap().contains("for the topic: null"));

    // A broker without an HA address registers.
    let mut no_ha = register_request("broker-a", 0, ADDR_A, register_body(1, &["T1", "T2"]));
    no_ha.ext_fields.remove("haServerAddr");
    no_ha
        .ext_fields
        .insert("bodyCrc32".into(), "not-a-number".into());
    assert_eq!(c.call(no_ha).code, 0);
    assert_eq!(c.call(route_request("T1")).code, 0);

    for (code, fields, expected) in [
        (904, &[][..], 0),                    // heartbeat: SUCCESS, refreshes nothing
        (904, &[("epoch", "x")][..], 0),      // malformed optional field ignored
        (322, &[][..], 1),                    // data version: Java's lookup fails on the null
        (101, &[("namespace", "n")][..], 22), // KV get without key: not found
        (102, &[][..], 0),                    // KV delete without key: nothing deleted
        (219, &[][..], 22),                   // KV list without namespace
        (104, &[("brokerName", "broker-a")][..], 0), // unregister: nothing removed
        (205, &[][..], 0),                    // wipe perm of no broker: count 0
        (216, &[][..], 0),                    // delete no topic
        (901, &[][..], 0),                    // member group of no broker
    ] {
        let resp = c.call(request(code, fields));
        assert_eq!(
            resp.code, expected,
            "code {code} {fields:?}: {:?}",
            resp.remark
        );
    }
    // None of that touched broker-a.
    assert_eq!(c.call(route_request("T1")).code, 0);
    let refused = c.call(request(322, &[("clusterName", "DefaultCluster")]));
    assert_eq!(
        (refused.code, refused.remark.as_deref()),
        (1, Some("the custom field <brokerAddr> is null"))
    );
    let wiped = c.call(request(205, &[]));
    assert_eq!(
        wiped.ext_fields.get("wipeTopicCount").map(String::as_str),
        Some("0")
    );
}

#[test]
fn oneway_requests_get_no_answer() {
    let server = InProcess::start(&[]);
    let mut c = server.client();
    let mut oneway = route_request("Nope");
    oneway.flag = FLAG_ONEWAY;
    oneway.opaque = 1000;
    c.send(&oneway);
    let resp = c.call(request(4242, &[]));
    assert_eq!(resp.code, 3, "the first answer is to the second request");
}

#[test]
fn crc_and_compressed_bodies() {
    use flate2::write::ZlibEncoder;
    use std::io::Write;
    let server = InProcess::start(&[]);
    let mut c = server.client();

    let body = register_body(1, &["T1", "T2"]);
    let mut req = register_request("broker-a", 0, ADDR_A, body.clone());
    req.ext_fields.insert("bodyCrc32".into(), "12345".into());
    let resp = c.call(req);
    assert_eq!(
        (resp.code, resp.remark.as_deref()),
        (1, Some("crc32 not match"))
    );

    let crc = (crc32fast::hash(&body) & 0x7fff_ffff).to_string();
    let mut req = register_request("broker-a", 0, ADDR_A, body);
    req.ext_fields.insert("bodyCrc32".into(), crc);
    assert_eq!(c.call(req).code, 0);

    // The compressed form Java brokers send with compressRegisterBody... = true.
    let mut raw = Vec::new();
    let dv = br#"{"counter":2,"stateVersion":0,"timestamp":1}"#;
    raw.extend_from_slice(&(dv.len() as i32).to_be_bytes());
    raw.extend_from_slice(dv);
    raw.extend_from_slice(&2i32.to_be_bytes());
    for t in ["Z1 8 8 6 SINGLE_TAG {}", "Z2 2 2 6 SINGLE_TAG {}"] {
        raw.extend_from_slice(&(t.len() as i32).to_be_bytes());
        raw.extend_from_slice(t.as_bytes());
    }
    raw.extend_from_slice(&2i32.to_be_bytes());
    raw.extend_from_slice(b"[]");
    raw.extend_from_slice(&0i32.to_be_bytes());
    let mut z = ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&raw).unwrap();
    let mut req = register_request("broker-z", 0, "127.0.0.1:20911", z.finish().unwrap());
    req.ext_fields.insert("compressed".into(), "true".into());
    assert_eq!(c.call(req).code, 0);
    let v = json(&c.call(route_request("Z1")).body);
    assert_eq!(v["queueDatas"][0]["readQueueNums"], 8);

    let mut req = register_request("broker-z", 0, "127.0.0.1:20911", b"garbage".to_vec());
    req.ext_fields.insert("compressed".into(), "true".into());
    let resp = c.call(req);
    assert_eq!(resp.code, 1);
    assert!(resp.remark.unwrap().contains("RegisterBrokerBody"));
}

#[test]
fn slave_learns_master_address_and_heartbeat_and_data_version_work() {
    let server = InProcess::start(&[]);
    let mut master = server.client();
    let mut slave = server.client();
    assert_eq!(
        master
            .call(register_request(
                "broker-a",
                0,
                ADDR_A,
                register_body(1, &["T1", "T2"])
            ))
            .code,
        0
    );
    let mut req = register_request(
        "broker-a",
        1,
        "127.0.0.1:10921",
        register_body(1, &["T1", "T2"]),
    );
    req.ext_fields
        .insert("haServerAddr".into(), "127.0.0.1:10922".into());
    let resp = slave.call(req);
    assert_eq!(
        resp.ext_fields.get("masterAddr").map(String::as_str),
        Some(ADDR_A)
    );
    assert_eq!(
        resp.ext_fields.get("haServerAddr").map(String::as_str),
        Some("127.0.0.1:10912")
    );

    let hb = request(
        904,
        &[
            ("clusterName", "DefaultCluster"),
            ("brokerAddr", ADDR_A),
            ("brokerName", "broker-a"),
            ("brokerId", "0"),
        ],
    );
    assert_eq!(master.call(hb).code, 0);

    let fields = [
        ("clusterName", "DefaultCluster"),
        ("brokerAddr", ADDR_A),
        ("brokerName", "broker-a"),
        ("brokerId", "0"),
    ];
    let mut q = request(322, &fields);
    q.body = br#"{"counter":1,"stateVersion":0,"timestamp":1700000000000}"#
        .to_vec()
        .into();
    let resp = master.call(q);
    assert_eq!(resp.ext_fields["changed"], "false");
    assert_eq!(json(&resp.body)["counter"], 1);
    let mut q = request(322, &fields);
    q.body = br#"{"counter":9,"stateVersion":0,"timestamp":1700000000000}"#
        .to_vec()
        .into();
    assert_eq!(master.call(q).ext_fields["changed"], "true");

    let cluster = master.call(request(106, &[]));
    let text = String::from_utf8(cluster.body.to_vec()).unwrap();
    assert!(
        text.contains(r#""brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#""clusterAddrTable":{"DefaultCluster":["broker-a"]}"#),
        "{text}"
    );

    // Unregistering the master leaves the slave.
    let resp = master.call(request(104, &fields));
    assert_eq!(resp.code, 0);
    let v = json(&master.call(route_request("T1")).body);
    assert_eq!(
        v["brokerDatas"][0]["brokerAddrs"],
        serde_json::json!({"1": "127.0.0.1:10921"})
    );
}

#[test]
fn closing_the_broker_connection_removes_it_at_once() {
    let server = InProcess::start(&[]);
    let mut broker = server.client();
    broker.call(register_request(
        "broker-a",
        0,
        ADDR_A,
        register_body(1, &["T1", "T2"]),
    ));
    let mut client = server.client();
    assert_eq!(client.call(route_request("T1")).code, 0);
    drop(broker);
    eventually(Duration::from_secs(5), "route removed after close", || {
        client.call(route_request("T1")).code == 17
    });
    assert!(
        json(&client.call(request(106, &[])).body)["clusterAddrTable"]
            .as_object()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn silent_broker_expires_after_its_heartbeat_timeout() {
    let server = Server::start(&[("scanNotActiveBrokerInterval", "200")]);
    let mut broker = server.client();
    let mut req = register_request("broker-a", 0, ADDR_A, register_body(1, &["T1", "T2"]));
    req.ext_fields
        .insert("heartbeatTimeoutMillis".into(), "1000".into());
    broker.call(req);
    let mut client = server.client();
    assert_eq!(client.call(route_request("T1")).code, 0);
    server.wait_log("heartbeat expired", Duration::from_secs(10));
    assert_eq!(client.call(route_request("T1")).code, 17);
    // Its connection is closed too, as Java closes the channel.
    assert!(broker.is_closed_by_server());
}

#[test]
fn oversized_frame_closes_only_that_connection() {
    let server = InProcess::start(&[("frameMaxLength", "1024")]);
    let mut good = server.client();
    good.call(register_request(
        "broker-a",
        0,
        ADDR_A,
        register_body(1, &["T1", "T2"]),
    ));
    let mut bad = server.client();
    bad.send_raw(&(2000i32).to_be_bytes());
    assert!(bad.is_closed_by_server());
    assert_eq!(good.call(route_request("T1")).code, 0);
    let mut fresh = server.client();
    assert_eq!(fresh.call(route_request("T1")).code, 0);
}

#[test]
fn pipelined_requests_are_all_answered_in_order() {
    let server = InProcess::start(&[]);
    let mut c = server.client();
    c.call(register_request(
        "broker-a",
        0,
        ADDR_A,
        register_body(1, &["T1", "T2"]),
    ));
    let mut frames = Vec::new();
    for i in 0..500 {
        let mut r = route_request(if i % 2 == 0 { "T1" } else { "Nope" });
        r.opaque = 10_000 + i;
        frames.extend_from_slice(&namesrv::remoting::codec::encode_frame(&r));
    }
    c.send_raw(&frames);
    for i in 0..500 {
        let resp = c.recv().unwrap();
        assert_eq!(resp.opaque, 10_000 + i);
        assert_eq!(resp.code, if i % 2 == 0 { 0 } else { 17 });
    }
}

#[test]
fn sigterm_shuts_down_gracefully_with_exit_zero() {
    let mut server = Server::start(&[]);
    let mut c = server.client();
    assert_eq!(c.call(request(106, &[])).code, 0);
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
}

/// Cached route answers follow re-registrations: a changed queue count is
/// seen at once in both dialects, an unchanged re-registration keeps it.
#[test]
fn route_answers_follow_changed_re_registrations() {
    let server = InProcess::start(&[]);
    let mut broker = server.client();
    let mut c = server.client();
    let queues = |c: &mut Client, standard: bool| -> i64 {
        let mut req = route_request("T1");
        if standard {
            req.version = 479;
        } else {
            req.version = 100;
        }
        let resp = c.call(req);
        assert_eq!(resp.code, 0);
        let text = String::from_utf8(resp.body.to_vec()).unwrap();
        // fastjson keys are unquoted only in brokerAddrs; queue counts parse either way.
        let at = text.find("\"writeQueueNums\":").expect(&text) + 17;
        text[at..]
            .split(|ch: char| !ch.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let body = register_body(1, &["T1", "T2"]);
    assert_eq!(
        broker
            .call(register_request("a", 0, "127.0.0.1:10911", body))
            .code,
        0
    );
    assert_eq!((queues(&mut c, true), queues(&mut c, false)), (4, 4));

    let eight = String::from_utf8(register_body(2, &["T1", "T2"]))
        .unwrap()
        .replace("\"writeQueueNums\":4", "\"writeQueueNums\":8");
    let req = register_request("a", 0, "127.0.0.1:10911", eight.clone().into_bytes());
    assert_eq!(broker.call(req).code, 0);
    assert_eq!((queues(&mut c, true), queues(&mut c, false)), (8, 8));

    let same = eight.replace("\"counter\":2", "\"counter\":3");
    let req = register_request("a", 0, "127.0.0.1:10911", same.into_bytes());
    assert_eq!(broker.call(req).code, 0);
    assert_eq!((queues(&mut c, true), queues(&mut c, false)), (8, 8));
}

/// SIGTERM while clients pipeline KV writes and lookups: every batch a
/// client sent is answered in full or (sent after the close) not at all,
/// no answer is cut short, every acknowledged KV write is on disk, exit 0.
#[test]
fn sigterm_under_load_answers_in_flight_requests_and_keeps_acknowledged_writes() {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let mut server = Server::start(&[]);
    let mut broker = server.client();
    let body = register_body(1, &["T1", "T2"]);
    assert_eq!(
        broker
            .call(register_request("a", 0, "127.0.0.1:10911", body))
            .code,
        0
    );

    const BATCH: usize = 16;
    let acked = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let addr = server.addr;
            let acked = acked.clone();
            std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(20)))
                    .unwrap();
                let mut codec = namesrv::remoting::codec::RemotingCodec::new(1 << 20);
                let mut buf = bytes::BytesMut::new();
                let mut keys = Vec::new();
                let mut opaque = 0;
                'outer: loop {
                    // One write: the whole batch is in the server's socket
                    // buffer before it can see a shutdown.
                    let mut batch = Vec::new();
                    let mut expected = Vec::new();
                    for i in 0..BATCH {
                        opaque += 1;
                        let mut req = if i % 4 == 0 {
                            let key = format!("w{w}-{opaque}");
                            expected.push((opaque, Some(key.clone())));
                            request(100, &[("namespace", "LOAD"), ("key", &key), ("value", "v")])
                        } else {
                            expected.push((opaque, None));
                            route_request("T1")
                        };
                        req.opaque = opaque;
                        batch.extend_from_slice(&namesrv::remoting::codec::encode_frame(&req));
                    }
                    if stream.write_all(&batch).is_err() {
                        break;
                    }
                    for (answered, (want, key)) in expected.iter().enumerate() {
                        let resp = loop {
                            use tokio_util::codec::Decoder;
                            if let Some(resp) = codec.decode(&mut buf).unwrap() {
                                break resp;
                            }
                            let mut chunk = [0u8; 8192];
                            match stream.read(&mut chunk) {
                                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                                _ => {
                                    assert!(buf.is_empty(), "an answer was cut short");
                                    assert_eq!(
                                        answered, 0,
                                        "batch answered in part ({answered}/{BATCH})"
                                    );
                                    break 'outer;
                                }
                            }
                        };
                        assert_eq!(resp.opaque, *want);
                        // Lookups may find the route gone: the broker's own
                        // connection closes with the server.
                        let ok = resp.code == 0 || (key.is_none() && resp.code == 17);
                        assert!(ok, "code {} {:?}", resp.code, resp.remark);
                        if let Some(key) = key {
                            keys.push(key.clone());
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                keys
            })
        })
        .collect();

    eventually(Duration::from_secs(30), "load running", || {
        acked.load(Ordering::Relaxed) >= 100
    });
    // In flight for sure: more writes than one batch of the server's
    // (64), each with an fsync, sent before the signal.
    let mut in_flight = server.client();
    // One answer first: the connection is accepted, not still in the
    // listen backlog, when the burst and the signal follow.
    assert_eq!(in_flight.call(route_request("T1")).code, 0);
    let mut burst = Vec::new();
    let burst_keys: Vec<String> = (0..200).map(|i| format!("burst-{i}")).collect();
    for (i, key) in burst_keys.iter().enumerate() {
        let mut req = request(100, &[("namespace", "LOAD"), ("key", key), ("value", "v")]);
        req.opaque = i as i32 + 1;
        burst.extend_from_slice(&namesrv::remoting::codec::encode_frame(&req));
    }
    in_flight.send_raw(&burst);
    common::unsafe_kill(server.child.id(), "TERM");
    for i in 0..burst_keys.len() {
        let resp = in_flight
            .recv()
            .unwrap_or_else(|| panic!("in-flight request {i} of 200 not answered"));
        assert_eq!((resp.opaque, resp.code), (i as i32 + 1, 0));
    }
    let status = common::wait_exit(&mut server.child, Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
    let mut keys: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("a client saw a broken answer"))
        .collect();
    keys.extend(burst_keys);
    assert!(keys.len() >= 100);
    let stored = json(&std::fs::read(server.path("kvConfig.json")).unwrap());
    let table = &stored["configTable"]["LOAD"];
    for key in &keys {
        assert_eq!(
            table[key.as_str()],
            "v",
            "acknowledged {key} missing after shutdown"
        );
    }
    eprintln!("{} acknowledged writes, all on disk", keys.len());
}
