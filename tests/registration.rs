//! Issue 12: a REGISTER_BROKER that repeats the broker's previous one byte
//! for byte, on the same connection with nothing changed in the tables since,
//! only refreshes liveness (the fast path); anything else is applied in full.
//! The server's debug log says which path each registration took. Large
//! registrations are recognised from their header and first bytes, and the
//! rest of their body is dropped unread.

mod common;

use std::time::Duration;

use common::*;

const FULL: &str = "registration applied in full";
const AGAINST_LAST: &str = "registration read against the broker's last body and applied";
const UNCHANGED: &str = "unchanged registration; liveness refreshed";

/// Parsed and applied: in full, or against the broker's last body.
const PARSED: &str = "parsed";

fn start() -> Server {
    Server::start_logging(
        tempfile::tempdir().unwrap(),
        &[],
        "info,namesrv::cmd::register_broker=debug",
    )
}

/// Which path the next registration in the log took: [`UNCHANGED`] or
/// [`PARSED`].
fn next_path(server: &Server) -> &'static str {
    match next_exact_path(server) {
        UNCHANGED => UNCHANGED,
        _ => PARSED,
    }
}

/// [`next_path`], telling a full parse from one against the last body.
fn next_exact_path(server: &Server) -> &'static str {
    loop {
        let line = server
            .log
            .recv_timeout(Duration::from_secs(10))
            .expect("no registration logged");
        for path in [FULL, AGAINST_LAST, UNCHANGED] {
            if line.contains(path) {
                return path;
            }
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
    assert_eq!(next_path(&server), PARSED);
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
    assert_eq!(next_path(&server), PARSED);
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
    assert_eq!(next_path(&server), PARSED);
    assert_eq!(c.call(route_request("T3")).code, 0);
    assert_eq!(c.call(changed.clone()).code, 0);
    assert_eq!(next_path(&server), UNCHANGED);

    // A topic deleted in the NameServer comes back with the next
    // registration, as in Java: the fast path must not skip that.
    assert_eq!(c.call(request(216, &[("topic", "T3")])).code, 0);
    assert_eq!(c.call(route_request("T3")).code, 17);
    assert_eq!(c.call(changed.clone()).code, 0);
    assert_eq!(next_path(&server), PARSED);
    assert_eq!(c.call(route_request("T3")).code, 0);

    // The same bytes over another connection: the broker reconnected, and
    // the full path moves its connection.
    let mut other = server.client();
    assert_eq!(other.call(changed.clone()).code, 0);
    assert_eq!(next_path(&server), PARSED);
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
    assert_eq!(next_path(&server), PARSED);
    let mut slave = server.client();
    let slave_reg = register_request("broker-a", 1, "127.0.0.1:10921", body);
    let first = slave.call(slave_reg.clone());
    assert_eq!(next_path(&server), PARSED);
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
    assert_eq!(next_path(&server), PARSED);
    assert!(!alone.ext_fields.contains_key("masterAddr"), "{alone:?}");
}

fn cluster_info_ids(server: &Server) -> Vec<i64> {
    // Cluster info comes in the fastjson form (unquoted integer keys).
    let body = server.client().call(request(106, &[])).body;
    let info = namesrv::json::read::parse(&body).unwrap();
    info["brokerAddrTable"]["broker-a"]["brokerAddrs"]
        .as_object()
        .map(|m| m.keys().map(|k| k.parse().unwrap()).collect())
        .unwrap_or_default()
}

/// A 5.x broker's body as fastjson writes it (keys in alphabetical order,
/// so `mappingDataVersion` near the start), stamped with `millis`, with
/// `topics` topics: 2,000 make about 280 KB, so it comes head first.
fn stamped_body(counter: i64, topics: usize, millis: u64) -> Vec<u8> {
    let names: Vec<String> = (0..topics).map(|i| format!("Topic{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    String::from_utf8(register_body(counter, &names))
        .unwrap()
        .replace(
            r#""topicConfigTable""#,
            &format!(r#""mappingDataVersion":{{"counter":0,"stateVersion":0,"timestamp":{millis}}},"topicConfigTable""#),
        )
        .into_bytes()
}

/// With bodyCrc32, as real brokers send it.
fn claimed(body: Vec<u8>) -> namesrv::remoting::RemotingCommand {
    let crc = crc32fast::hash(&body) & 0x7FFF_FFFF;
    let mut req = register_request("broker-a", 0, ADDR_A, body);
    req.ext_fields.insert("bodyCrc32".into(), crc.to_string());
    req
}

#[test]
fn large_repeated_registrations_are_known_by_their_first_bytes() {
    let server = start();
    let mut c = server.client();
    let first = claimed(stamped_body(1, 2000, 1795622018033));
    assert!(first.body.len() > 256 * 1024);
    assert_eq!(c.call(first.clone()).code, 0);
    assert_eq!(next_path(&server), PARSED);
    // The same bytes, then only the stamp moved.
    assert_eq!(c.call(first.clone()).code, 0);
    assert_eq!(next_path(&server), UNCHANGED);
    let later = claimed(stamped_body(1, 2000, 1795622028033));
    assert_eq!(c.call(later.clone()).code, 0);
    assert_eq!(next_path(&server), UNCHANGED);

    // Pipelined behind an unread body, a lookup is answered in step: the
    // dropped rest did not shift the stream.
    let mut lookup = route_request("Topic1999");
    lookup.opaque = 900;
    let mut again = later.clone();
    again.opaque = 901;
    c.send(&again);
    c.send(&lookup);
    let answers = [c.recv().unwrap(), c.recv().unwrap()];
    assert_eq!(
        answers
            .iter()
            .map(|a| (a.opaque, a.code))
            .collect::<Vec<_>>(),
        vec![(901, 0), (900, 0)]
    );
    assert_eq!(next_path(&server), UNCHANGED);

    // A wrong claim with the same bytes is read whole and refused.
    let mut corrupt = later.clone();
    corrupt.ext_fields.insert("bodyCrc32".into(), "1".into());
    let refused = c.call(corrupt);
    assert_eq!(
        (refused.code, refused.remark.as_deref()),
        (1, Some("crc32 not match"))
    );

    // A new data version and a new topic: read against the last body (the
    // new topic's run parsed, the rest stepped over) and applied.
    assert_eq!(c.call(route_request("Topic2000")).code, 17);
    let changed = claimed(stamped_body(2, 2001, 1795622038033));
    assert_eq!(c.call(changed).code, 0);
    assert_eq!(next_exact_path(&server), AGAINST_LAST);
    assert_eq!(c.call(route_request("Topic2000")).code, 0);
    // Only the stamp back: the first bytes hold the old data version.
    assert_eq!(c.call(later).code, 0);
    assert_eq!(next_exact_path(&server), AGAINST_LAST);
    assert_eq!(c.call(route_request("Topic1999")).code, 0);
}

#[test]
fn a_large_body_sent_slowly_is_read_and_one_that_stalls_is_dropped() {
    let server = Server::start_logging(
        tempfile::tempdir().unwrap(),
        &[("serverChannelMaxIdleTimeSeconds", "2")],
        "info,namesrv::cmd::register_broker=debug",
    );
    let mut c = server.client();
    let first = claimed(stamped_body(1, 2000, 1795622018033));
    let bytes = namesrv::remoting::codec::encode_frame(&first);
    // The header and first bytes, then the rest in pieces with pauses:
    // both the unread-rest and the whole-body readers wait for it.
    for _ in 0..2 {
        for piece in bytes.chunks(bytes.len() / 5 + 1) {
            c.send_raw(piece);
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(c.recv().unwrap().code, 0);
    }
    assert_eq!(next_path(&server), PARSED);
    assert_eq!(next_path(&server), UNCHANGED);

    // A peer that stops halfway through a body is closed, and its broker
    // with it, after the idle time.
    c.send_raw(&bytes[..bytes.len() / 2]);
    assert!(c.is_closed_by_server());
    let mut other = server.client();
    eventually(Duration::from_secs(5), "stalled broker removed", || {
        other.call(route_request("Topic1")).code == 17
    });
}
