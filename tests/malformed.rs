//! A catalogue of malformed requests against the running binary. Each gets
//! its documented outcome (an error answer with a clear remark, or a clean
//! close of that connection only); afterwards the server still serves other
//! connections and the route table is unchanged.

mod common;

use bytes::BufMut;
use common::*;
use namesrv::remoting::codec::encode_frame;
use namesrv::remoting::{RemotingCommand, SerializeType};

enum Outcome {
    /// The connection is closed without an answer.
    Closed,
    /// An answer with this code whose remark contains this text.
    Error(i32, &'static str),
    /// Served normally (valid if odd input): these topics are then routed,
    /// those are not (checked on the same connection, which holds the broker).
    Ok(&'static [&'static str], &'static [&'static str]),
}

fn frame(type_byte: u8, header: &[u8], body: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.put_i32((4 + header.len() + body.len()) as i32);
    f.put_u32(u32::from(type_byte) << 24 | header.len() as u32);
    f.put_slice(header);
    f.put_slice(body);
    f
}

fn binary_header(remark_len: i32, remark: &[u8], ext_len: i32, ext: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    h.put_i16(105);
    h.put_u8(0);
    h.put_i16(479);
    h.put_i32(77);
    h.put_i32(0);
    h.put_i32(remark_len);
    h.put_slice(remark);
    h.put_i32(ext_len);
    h.put_slice(ext);
    h
}

fn register_with(fields: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut req = register_request("broker-x", 0, "127.0.0.1:30911", body.to_vec());
    for (k, v) in fields {
        if v.is_empty() && *k != "brokerName" {
            req.ext_fields.remove(*k);
        } else {
            req.ext_fields.insert(k.to_string(), v.to_string());
        }
    }
    req.opaque = 77;
    encode_frame(&req).to_vec()
}

fn cmd_bytes(cmd: RemotingCommand) -> Vec<u8> {
    let mut cmd = cmd;
    cmd.opaque = 77;
    encode_frame(&cmd).to_vec()
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

fn catalogue() -> Vec<(&'static str, Vec<u8>, Outcome)> {
    use Outcome::*;
    let good_body = register_body(1, &["T1", "T2"]);
    let mut bomb = Vec::new();
    bomb.extend_from_slice(&(20i32 << 20).to_be_bytes());
    bomb.extend(std::iter::repeat_n(b' ', 20 << 20));
    let mut ext_bad_key = Vec::new();
    ext_bad_key.put_i16(500);
    ext_bad_key.put_slice(b"key");
    let mut ext_bad_utf8 = Vec::new();
    ext_bad_utf8.put_i16(5);
    ext_bad_utf8.put_slice(b"topic");
    ext_bad_utf8.put_i32(2);
    ext_bad_utf8.put_slice(&[0xff, 0xfe]);
    let mut ext_empty_topic = Vec::new();
    ext_empty_topic.put_i16(5);
    ext_empty_topic.put_slice(b"topic");
    ext_empty_topic.put_i32(0);
    let long_topic = "T".repeat(200);
    vec![
        ("total length 0", 0i32.to_be_bytes().to_vec(), Closed),
        ("negative total length", (-1i32).to_be_bytes().to_vec(), Closed),
        ("total length below 4", 2i32.to_be_bytes().to_vec(), Closed),
        ("total length above the maximum", (64i32 << 20).to_be_bytes().to_vec(), Closed),
        ("header length larger than the frame", {
            let mut f = frame(0, b"{}", b"");
            f[4..8].copy_from_slice(&1000u32.to_be_bytes());
            f
        }, Closed),
        ("unknown serialize type", frame(7, br#"{"code":105}"#, b""), Closed),
        ("JSON header not JSON", frame(0, b"not json at all", b""), Closed),
        ("JSON header not an object", frame(0, b"[1,2,3]", b""), Closed),
        ("JSON header without code (request 0, as Java reads it)", frame(0, br#"{"opaque":77,"flag":0}"#, b""), Error(3, "request type 0 not supported")),
        ("JSON header code of wrong type", frame(0, br#"{"code":[105]}"#, b""), Closed),
        ("JSON header extFields of wrong type", frame(0, br#"{"code":105,"extFields":[1]}"#, b""), Closed),
        // Java decodes header strings as `new String(bytes, UTF_8)`: bad bytes become U+FFFD.
        ("JSON header invalid UTF-8", frame(0, b"{\"code\":105,\"opaque\":77,\"remark\":\"\xff\xfe\"}", b""), Error(17, "topic: null")),
        ("JSON header nested 100000 deep", frame(0, &[b'['; 100_000], b""), Closed),
        ("ROCKETMQ header truncated", frame(1, &[0, 105, 0], b""), Closed),
        ("ROCKETMQ remark length past the end", frame(1, &binary_header(1000, b"abc", 0, b""), b""), Closed),
        ("ROCKETMQ huge extFields length", frame(1, &binary_header(0, b"", i32::MAX, b""), b""), Closed),
        // Java reads extFields only for a positive length: none here.
        ("ROCKETMQ negative extFields length", frame(1, &binary_header(0, b"", -5, b""), b""), Error(17, "topic: null")),
        ("ROCKETMQ key length past the end", frame(1, &binary_header(0, b"", ext_bad_key.len() as i32, &ext_bad_key), b""), Closed),
        ("ROCKETMQ invalid UTF-8 value", frame(1, &binary_header(0, b"", ext_bad_utf8.len() as i32, &ext_bad_utf8), b""), Error(17, "\u{fffd}\u{fffd}")),
        ("ROCKETMQ empty value (Java: null, so missing)", frame(1, &binary_header(0, b"", ext_empty_topic.len() as i32, &ext_empty_topic), b""), Error(17, "topic: null")),
        ("unknown request code", cmd_bytes(request(31337, &[])), Error(3, "request type 31337 not supported")),
        // Java's header decoder leaves a missing field null, and a null topic routes nowhere.
        ("route without topic", cmd_bytes(request(105, &[])), Error(17, "topic: null")),
        ("register without brokerAddr", register_with(&[("brokerAddr", "")], &good_body), Error(1, "<brokerAddr>")),
        ("register with brokerId abc", register_with(&[("brokerId", "abc")], &good_body), Error(1, "brokerId")),
        // Java skips an optional number it cannot parse: the default timeout applies.
        ("register with heartbeatTimeoutMillis x", register_with(&[("heartbeatTimeoutMillis", "x")], &good_body), Ok(&["T1", "T2"], &[])),
        ("register with empty broker name", register_with(&[("brokerName", " ")], &good_body), Error(1, "<brokerName> is empty")),
        ("register body not JSON", register_with(&[], b"definitely not json"), Error(1, "RegisterBrokerBody")),
        ("register body of the wrong shape", register_with(&[], b"[1,2]"), Error(1, "RegisterBrokerBody")),
        ("register topic config of the wrong shape", register_with(&[], br#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":"rw"}}}}"#), Error(1, "topicConfigTable.T")),
        ("register with bodyCrc32 mismatch", register_with(&[("bodyCrc32", "1")], &good_body), Error(1, "crc32 not match")),
        ("register compressed garbage", register_with(&[("compressed", "true")], b"\x78\x9c garbage"), Error(1, "does not inflate")),
        ("register compressed zip bomb", register_with(&[("compressed", "true")], &zlib(&bomb)), Error(1, "inflates past")),
        ("register compressed truncated sections", register_with(&[("compressed", "true")], &zlib(&[0, 0, 0, 50, b'{'])), Error(1, "truncated")),
        // Java decodes a missing body as a null version: "changed", not an error.
        ("query data version without body", cmd_bytes(request(322, &[("clusterName", "c"), ("brokerAddr", "a"), ("brokerName", "b"), ("brokerId", "0")])), Ok(&[], &[])),
        ("query data version body not JSON", {
            let mut r = request(322, &[("clusterName", "c"), ("brokerAddr", "a"), ("brokerName", "b"), ("brokerId", "0")]);
            r.body = b"{{{".to_vec().into();
            cmd_bytes(r)
        }, Error(1, "DataVersion")),
        ("update config body not UTF-8", {
            let mut r = request(318, &[]);
            r.body = vec![0xff, 0xfe, b'='].into();
            cmd_bytes(r)
        }, Error(1, "UTF-8")),
        ("register topic body of the wrong shape", {
            let mut r = request(217, &[("topic", "T9")]);
            r.body = br#"{"queueDatas":{"a":1}}"#.to_vec().into();
            cmd_bytes(r)
        }, Error(1, "queueDatas")),
        ("put kv without value", cmd_bytes(request(100, &[("namespace", "n"), ("key", "k")])), Error(1, "<value>")),
        // fastjson oddities are valid input: unquoted numeric keys, single quotes, trailing commas.
        ("fastjson-style register body", register_with(&[], br#"{'topicConfigSerializeWrapper':{'dataVersion':{'counter':1,'timestamp':2,},'topicConfigTable':{'F1':{'topicName':'F1','perm':6,'readQueueNums':1,'writeQueueNums':1},'F2':{topicName:'F2',perm:6}}},'filterServerList':[],}"#), Ok(&["F1", "F2"], &[])),
        // Absurd values: an illegal topic is skipped, the rest registers.
        ("register with illegal topic names and negative queues", register_with(&[], format!(
            r#"{{"topicConfigSerializeWrapper":{{"topicConfigTable":{{"{long_topic}":{{"topicName":"{long_topic}","perm":6}},"bad topic":{{"topicName":"bad topic","perm":6}},"NEG":{{"topicName":"NEG","readQueueNums":-4,"perm":6}},"G1":{{"topicName":"G1","perm":6}},"G2":{{"topicName":"G2","perm":6}}}}}}}}"#
        ).as_bytes()), Ok(&["G1", "G2"], &["NEG", "bad topic"])),
    ]
}

/// Route table fingerprint: cluster info plus the route of T1.
fn snapshot(server: &InProcess) -> (String, String) {
    let mut c = server.client();
    let cluster = c.call(request(106, &[]));
    let route = c.call(route_request("T1"));
    (
        String::from_utf8(cluster.body.to_vec()).unwrap(),
        String::from_utf8(route.body.to_vec()).unwrap(),
    )
}

#[test]
fn malformed_requests_get_their_documented_outcome() {
    let server = InProcess::start(&[("frameMaxLength", "16777216")]);
    // A broker whose routes must survive everything below.
    let mut broker = server.client();
    assert_eq!(
        broker
            .call(register_request(
                "broker-a",
                0,
                "127.0.0.1:10911",
                register_body(1, &["T1", "T2"])
            ))
            .code,
        0
    );
    let before = snapshot(&server);
    let cases = catalogue();
    assert!(cases.len() >= 30, "catalogue has {} cases", cases.len());
    for (name, bytes, outcome) in cases {
        let mut c = server.client();
        c.send_raw(&bytes);
        match outcome {
            Outcome::Closed => assert!(c.is_closed_by_server(), "{name}: expected a close"),
            Outcome::Error(code, text) => {
                let resp = c
                    .recv()
                    .unwrap_or_else(|| panic!("{name}: closed instead of answering"));
                let remark = resp.remark.clone().unwrap_or_default();
                assert_eq!(resp.code, code, "{name}: {remark}");
                assert!(
                    remark.contains(text),
                    "{name}: remark {remark:?} lacks {text:?}"
                );
                assert_eq!(resp.opaque, 77, "{name}");
            }
            Outcome::Ok(routed, absent) => {
                let resp = c.recv().unwrap_or_else(|| panic!("{name}: closed"));
                assert_eq!(resp.code, 0, "{name}: {:?}", resp.remark);
                for topic in routed {
                    assert_eq!(
                        c.call(route_request(topic)).code,
                        0,
                        "{name}: {topic} routed"
                    );
                }
                for topic in absent {
                    assert_eq!(
                        c.call(route_request(topic)).code,
                        17,
                        "{name}: {topic} not routed"
                    );
                }
            }
        }
        drop(c);
        // Another connection is served, and broker-a's routes are intact.
        let mut other = server.client();
        assert_eq!(
            other
                .call(with_codec(route_request("T1"), SerializeType::RocketMq))
                .code,
            0,
            "after {name}"
        );
    }
    // The accepted registrations left with their connections; broker-a is untouched.
    assert_eq!(snapshot(&server), before);
}
