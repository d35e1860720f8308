//! Issue 12: a REGISTER_BROKER that repeats the broker's previous one byte
//! for byte, on the same connection with nothing changed in the tables since,
//! only refreshes liveness (the fast path); anything else is applied in full.
//! The server's debug log says which path each registration took.

mod common;

use std::time::Duration;

use common::*;

const FULL: &str = "registration applied in full";
const UNCHANGED: &str = "unchanged registration; liveness refreshed";

fn start() -> Server {
    Server::start_logging(
        tempfile::tempdir().unwrap(),
        &[],
        "info,namesrv::cmd::register_broker=debug",
    )
}

/// Which path the next registration in the log took.
fn next_path(server: &Server) -> &'static str {
    loop {
        let line = server
            .log
            .recv_timeout(Duration::from_secs(10))
            .expect("no registration logged");
        if line.contains(FULL) {
            return FULL;
        }
        if line.contains(UNCHANGED) {
            return UNCHANGED;
        }
    }
}

const ADDR_A: &str = "127.0.0.1:10911";

#[test]
fn repeated_registrations_take_the_fast_path_until_something_changes() {
    let server = start();
    let mut c = server.client();
    let first = register_request("broker-a", 0, ADDR_A, register_body(1, &["T1", "T2"]));

    let answer = c.call(first.clone());
    assert_eq!(answer.code, 0);
    assert_eq!(next_path(&server), FULL);
    let again = c.call(first.clone());
    assert_eq!((again.code, &again.ext_fields), (0, &answer.ext_fields));
    assert_eq!(again.body, answer.body);
    assert_eq!(next_path(&server), UNCHANGED);

    // A 5.x broker stamps a fresh mappingDataVersion on every registration;
    // no NameServer reads it, so only that changing is still "unchanged".
    let stamped = |millis: &str| {
        let body = String::from_utf8(register_body(1, &["T1", "T2"])).unwrap().replace(
            r#""topicConfigTable""#,
            &format!(r#""mappingDataVersion":{{"counter":0,"stateVersion":0,"timestamp":{millis}}},"topicConfigTable""#),
        );
        // With bodyCrc32, as real brokers send it (it changes with the stamp).
        let crc = crc32fast::hash(body.as_bytes()) & 0x7FFF_FFFF;
        let mut req = register_request("broker-a", 0, ADDR_A, body.into_bytes());
        req.ext_fields.insert("bodyCrc32".into(), crc.to_string());
        req
    };
    assert_eq!(c.call(stamped("1795622018033")).code, 0);
    assert_eq!(next_path(&server), FULL);
    assert_eq!(c.call(stamped("1795622028033")).code, 0);
    assert_eq!(next_path(&server), UNCHANGED);
    // The same bytes under a wrong bodyCrc32 are refused, as always.
    let mut corrupt = stamped("1795622028033");
    corrupt.ext_fields.insert("bodyCrc32".into(), "1".into());
    let refused = c.call(corrupt);
    assert_eq!(
        (refused.code, refused.remark.as_deref()),
        (1, Some("crc32 not match"))
    );

    // A new data version (a topic changed on the broker): full path.
    let changed = register_request("broker-a", 0, ADDR_A, register_body(2, &["T1", "T2", "T3"]));
    assert_eq!(c.call(changed.clone()).code, 0);
    assert_eq!(next_path(&server), FULL);
    assert_eq!(c.call(route_request("T3")).code, 0);
    assert_eq!(c.call(changed.clone()).code, 0);
    assert_eq!(next_path(&server), UNCHANGED);

    // A topic deleted in the NameServer comes back with the next
    // registration, as in Java: the fast path must not skip that.
    assert_eq!(c.call(request(216, &[("topic", "T3")])).code, 0);
    assert_eq!(c.call(route_request("T3")).code, 17);
    assert_eq!(c.call(changed.clone()).code, 0);
    assert_eq!(next_path(&server), FULL);
    assert_eq!(c.call(route_request("T3")).code, 0);

    // The same bytes over another connection: the broker reconnected, and
    // the full path moves its connection.
    let mut other = server.client();
    assert_eq!(other.call(changed.clone()).code, 0);
    assert_eq!(next_path(&server), FULL);
    assert_eq!(other.call(changed).code, 0);
    assert_eq!(next_path(&server), UNCHANGED);
}

#[test]
fn a_repeated_slave_registration_is_answered_with_its_master() {
    let server = start();
    let mut master = server.client();
    let body = register_body(1, &["T1", "T2"]);
    assert_eq!(
        master
            .call(register_request("broker-a", 0, ADDR_A, body.clone()))
            .code,
        0
    );
    assert_eq!(next_path(&server), FULL);
    let mut slave = server.client();
    let slave_reg = register_request("broker-a", 1, "127.0.0.1:10921", body);
    let first = slave.call(slave_reg.clone());
    assert_eq!(next_path(&server), FULL);
    let again = slave.call(slave_reg.clone());
    assert_eq!(next_path(&server), UNCHANGED);
    assert_eq!(again.ext_fields["masterAddr"], ADDR_A);
    assert_eq!(again.ext_fields, first.ext_fields);

    // The master leaves: the slave's next registration no longer names it.
    drop(master);
    eventually(Duration::from_secs(5), "master removed", || {
        cluster_info_ids(&server) == vec![1]
    });
    let alone = slave.call(slave_reg);
    assert_eq!(next_path(&server), FULL);
    assert!(!alone.ext_fields.contains_key("masterAddr"), "{alone:?}");
}

fn cluster_info_ids(server: &Server) -> Vec<i64> {
    // Cluster info comes in the fastjson form (unquoted integer keys).
    let body = server.client().call(request(106, &[])).body;
    let info = namesrv::json_read::parse(&body).unwrap();
    info["brokerAddrTable"]["broker-a"]["brokerAddrs"]
        .as_object()
        .map(|m| m.keys().map(|k| k.parse().unwrap()).collect())
        .unwrap_or_default()
}
