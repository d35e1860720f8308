//! Micro-benchmarks: frame decode/encode in both header codecs, parsing a
//! 10,000-topic register body (JSON in both dialects, and compressed), a
//! changed 10,000-topic registration minus I/O, and route lookup on a table
//! of 1M (topic, broker) entries.
//!
//! Run: `cargo bench --bench micro`

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use namesrv::remoting::codec::{encode_frame, RemotingCodec};
use namesrv::remoting::{RemotingCommand, SerializeType};
use namesrv::route::model::{topic_problem, TopicConfig};
use namesrv::route::register_body::{self, Layout};
use namesrv::route::{BrokerRegistration, RouteInfoManager, RouteOptions, TopicConfigWrapper};
use tokio_util::codec::Decoder;

fn route_request(st: SerializeType) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(105, 42).with_ext("topic", "BenchTopic123");
    cmd.serialize_type = st;
    cmd
}

fn frames(c: &mut Criterion) {
    for st in [SerializeType::Json, SerializeType::RocketMq] {
        let cmd = route_request(st);
        let bytes = encode_frame(&cmd);
        c.bench_function(&format!("decode {} route request", st.name()), |b| {
            let mut codec = RemotingCodec::default();
            b.iter(|| {
                let mut buf = BytesMut::from(&bytes[..]);
                black_box(codec.decode(&mut buf).unwrap())
            })
        });
        let resp = cmd
            .response(namesrv::remoting::ResponseCode::SUCCESS, None)
            .with_body(vec![b'x'; 300]);
        c.bench_function(&format!("encode {} route response", st.name()), |b| {
            b.iter(|| black_box(encode_frame(black_box(&resp))))
        });
    }
}

/// A RegisterBrokerBody with `k` topics as a Java 5.x broker writes it.
fn register_json(k: usize, counter: u64) -> Vec<u8> {
    let table: Vec<String> = (0..k)
        .map(|i| format!(r#""Topic{i}":{{"attributes":{{}},"order":false,"perm":6,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"Topic{i}","topicSysFlag":0,"writeQueueNums":8}}"#))
        .collect();
    format!(
        r#"{{"filterServerList":[],"topicConfigSerializeWrapper":{{"dataVersion":{{"counter":{counter},"stateVersion":0,"timestamp":1700000000000}},"topicConfigTable":{{{}}},"mappingDataVersion":{{"counter":0,"stateVersion":0,"timestamp":1700000000000}},"topicQueueMappingDetailMap":{{}},"topicQueueMappingInfoMap":{{}}}}}}"#,
        table.join(",")
    )
    .into_bytes()
}

fn register_compressed(k: usize) -> Vec<u8> {
    let topics: Vec<TopicConfig> = (0..k)
        .map(|i| TopicConfig {
            topic_name: format!("Topic{i}"),
            read_queue_nums: 8,
            write_queue_nums: 8,
            ..TopicConfig::default()
        })
        .collect();
    register_body::encode_compressed(&Default::default(), &topics)
}

fn register_bodies(c: &mut Criterion) {
    let json = register_json(10_000, 1);
    let mut group = c.benchmark_group("register body 10k topics");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.bench_function("decode standard JSON (simd-json fast path)", |b| {
        b.iter(|| black_box(register_body::decode(&json, false, 479, 64 << 20).unwrap()))
    });
    group.bench_function("decode standard JSON, making its layout", |b| {
        b.iter(|| {
            black_box(
                register_body::decode_with(&json, false, 479, 64 << 20, Layout::Make).unwrap(),
            )
        })
    });
    // The next body of the same broker: a new data version and one topic's
    // perm changed, read against the layout of the last.
    let layout = register_body::decode_with(&json, false, 479, 64 << 20, Layout::Make)
        .unwrap()
        .layout
        .unwrap();
    let next = String::from_utf8(register_json(10_000, 2))
        .unwrap()
        .replacen(
            r#""perm":6,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"Topic5000""#,
            r#""perm":4,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"Topic5000""#,
            1,
        );
    group.throughput(Throughput::Bytes(next.len() as u64));
    group.bench_function(
        "decode standard JSON against the last body (one topic changed)",
        |b| {
            b.iter(|| {
                let d = register_body::decode_with(
                    next.as_bytes(),
                    false,
                    479,
                    64 << 20,
                    Layout::ReadAgainst(&layout),
                )
                .unwrap();
                assert!(d.reused_topics.is_some());
                black_box(d)
            })
        },
    );
    // One static-topic mapping in fastjson's dialect (an unquoted key), as a
    // 5.x broker with static topics sends: the tolerant reader's cost.
    let mut fastjson = json.clone();
    let tail = br#""topicQueueMappingInfoMap":{}}}"#;
    fastjson.truncate(fastjson.len() - tail.len());
    fastjson.extend_from_slice(br#""topicQueueMappingInfoMap":{"Topic0":{"bname":"broker-a","currIdMap":{0:0},"epoch":1,"topic":"Topic0","totalQueues":8}}}}"#);
    group.throughput(Throughput::Bytes(fastjson.len() as u64));
    group.bench_function("decode fastjson JSON (tolerant reader)", |b| {
        b.iter(|| black_box(register_body::decode(&fastjson, false, 479, 64 << 20).unwrap()))
    });
    let compressed = register_compressed(10_000);
    group.throughput(Throughput::Bytes(compressed.len() as u64));
    group.bench_function("decode compressed", |b| {
        b.iter(|| black_box(register_body::decode(&compressed, true, 479, 64 << 20).unwrap()))
    });
    group.finish();
}

/// A changed registration minus I/O and the header: the body decoded and
/// checked, then registered over the same 10,000 topics under a new data
/// version (so every topic is compared and none changes), then dropped.
fn changed_registration(c: &mut Criterion) {
    let bodies = [register_json(10_000, 1), register_json(10_000, 2)];
    let registration = |body: &[u8]| {
        let decoded = register_body::decode(body, false, 479, 64 << 20).unwrap();
        let mut wrapper = decoded.wrapper;
        wrapper
            .topics
            .retain(|name, queues| topic_problem(name, queues).is_none());
        BrokerRegistration {
            cluster_name: "C".into(),
            broker_addr: "10.0.0.1:10911".into(),
            broker_name: "broker-a".into(),
            broker_id: 0,
            enable_acting_master: Some(false),
            wrapper,
            filter_server_list: decoded.filter_server_list,
            ..Default::default()
        }
    };
    let routes = RouteInfoManager::new();
    routes
        .register_broker(registration(&bodies[0]), RouteOptions::default(), 0)
        .unwrap();
    let mut group = c.benchmark_group("register 10k topics");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(bodies[0].len() as u64));
    let mut i = 0;
    group.bench_function("changed data version, same topics", |b| {
        b.iter(|| {
            i += 1;
            let result = routes
                .register_broker(registration(&bodies[i % 2]), RouteOptions::default(), 0)
                .unwrap();
            assert!(result.changed_topics.is_empty());
            black_box(result)
        })
    });
    group.finish();
}

/// 100 brokers × 10,000 topics = 1M (topic, broker) queue entries.
fn big_table() -> RouteInfoManager {
    let routes = RouteInfoManager::new();
    let configs: Vec<TopicConfig> = (0..10_000)
        .map(|i| TopicConfig {
            topic_name: format!("Topic{i}"),
            read_queue_nums: 8,
            write_queue_nums: 8,
            ..TopicConfig::default()
        })
        .collect();
    for b in 0..100 {
        let reg = BrokerRegistration {
            cluster_name: "C".into(),
            broker_addr: format!("10.0.0.{b}:10911"),
            broker_name: format!("broker-{b}"),
            broker_id: 0,
            enable_acting_master: Some(false),
            wrapper: TopicConfigWrapper {
                topics: configs.iter().cloned().collect(),
                ..Default::default()
            },
            ..Default::default()
        };
        routes
            .register_broker(reg, RouteOptions::default(), 0)
            .unwrap();
    }
    routes
}

fn route_lookup(c: &mut Criterion) {
    let routes = big_table();
    let mut i = 0usize;
    c.bench_function("route lookup, 1M entries (100 brokers per topic)", |b| {
        b.iter(|| {
            i = (i + 7919) % 10_000;
            black_box(routes.pickup_route(&format!("Topic{i}"), RouteOptions::default()))
        })
    });
}

criterion_group!(
    benches,
    frames,
    register_bodies,
    changed_registration,
    route_lookup
);
criterion_main!(benches);
