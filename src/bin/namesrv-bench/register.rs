//! `register`: brokers re-registering their whole topic table, or all at
//! once (`--once`, the storm after a restart).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use futures::{SinkExt, StreamExt};

use namesrv::remoting::{RemotingCommand, RequestCode};

use crate::load::{connect, progress, Report, Stats};

#[derive(Args, Clone)]
pub(crate) struct RegisterArgs {
    #[arg(long = "register-addr", default_value = "127.0.0.1:9876")]
    pub(crate) register_addr: SocketAddr,
    #[arg(short = 'b', long, default_value_t = 10)]
    pub(crate) brokers: usize,
    #[arg(short = 'k', long, default_value_t = 10_000)]
    pub(crate) topics_per_broker: usize,
    /// Registrations per second per broker; 0 = back to back.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) rate: f64,
    /// Send the compressed body form (compressed=true).
    #[arg(long)]
    pub(crate) compressed: bool,
    /// Send the same body every time, as a broker whose topics do not change
    /// (default: two data versions alternate, so each registration changes).
    #[arg(long)]
    pub(crate) unchanged: bool,
    /// How many topics the two alternating bodies differ in (their perm),
    /// spread over the table: 0 = only the data version changes, 1 = one
    /// topic changed as by `updateTopic`, the topic count = every topic.
    #[arg(long = "changed-topics", default_value_t = 0)]
    pub(crate) changed_topics: usize,
    /// A registration storm: every broker registers once, all at once (as
    /// after a NameServer restart), and keeps its connection open.
    #[arg(long)]
    pub(crate) once: bool,
    #[arg(long = "register-duration", default_value_t = 10)]
    pub(crate) register_duration: u64,
    #[arg(long = "register-json")]
    pub(crate) register_json: bool,
}

/// Whether topic `i` of `k` is one of `changed` spread over the table.
fn is_changed(i: usize, k: usize, changed: usize) -> bool {
    if changed == 0 {
        return false;
    }
    let step = (k / changed).max(1);
    i.is_multiple_of(step) && i / step < changed
}

/// A RegisterBrokerBody with `k` topics in the Java JSON form; the
/// `changed` topics (see [`is_changed`]) get perm 4 instead of 6.
pub(crate) fn register_body(prefix: &str, k: usize, counter: u64, changed: usize) -> Vec<u8> {
    let mut body = String::with_capacity(k * 200 + 256);
    body.push_str(
        r#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":"#,
    );
    body.push_str(&counter.to_string());
    body.push_str(r#","stateVersion":0,"timestamp":1700000000000},"topicConfigTable":{"#);
    for i in 0..k {
        if i > 0 {
            body.push(',');
        }
        let t = format!("{prefix}{i}");
        let perm = if is_changed(i, k, changed) { 4 } else { 6 };
        body.push_str(&format!(
            r#""{t}":{{"attributes":{{}},"order":false,"perm":{perm},"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"{t}","topicSysFlag":0,"writeQueueNums":8}}"#
        ));
    }
    // mappingDataVersion as Java 5.x brokers send it (rocketmq-namesrv requires it).
    body.push_str(r#"},"mappingDataVersion":{"counter":0,"stateVersion":0,"timestamp":1700000000000},"topicQueueMappingDetailMap":{},"topicQueueMappingInfoMap":{}}}"#);
    body.into_bytes()
}

/// The compressed form of the same topics.
fn compressed_body(prefix: &str, k: usize, counter: u64, changed: usize) -> Vec<u8> {
    let version = namesrv::route::DataVersion {
        state_version: 0,
        timestamp: 1_700_000_000_000,
        counter: counter as i64,
    };
    let topics: Vec<namesrv::route::TopicConfig> = (0..k)
        .map(|i| namesrv::route::TopicConfig {
            topic_name: format!("{prefix}{i}"),
            read_queue_nums: 8,
            write_queue_nums: 8,
            perm: if is_changed(i, k, changed) { 4 } else { 6 },
            ..Default::default()
        })
        .collect();
    namesrv::route::register_body::encode_compressed(&version, &topics)
}

/// Brokers that `setup` keeps registered, and the ones `register`/`mixed`
/// churn with: distinct names and addresses, so that a churning broker's
/// connection closing never removes the routes being looked up.
#[derive(Clone, Copy)]
pub(crate) enum BrokerSet {
    Setup,
    Churn,
}

pub(crate) fn register_request(
    set: BrokerSet,
    broker: usize,
    body: Bytes,
    compressed: bool,
    opaque: i32,
) -> RemotingCommand {
    let (name, base_port) = match set {
        BrokerSet::Setup => ("bench-broker", 30000),
        BrokerSet::Churn => ("churn-broker", 40000),
    };
    // Two ports per broker: the broker's own and its HA port.
    let port = base_port + 2 * broker;
    let mut req = RemotingCommand::request(RequestCode::REGISTER_BROKER.value(), opaque)
        .with_ext("brokerName", format!("{name}-{broker}"))
        .with_ext("brokerAddr", format!("127.0.0.1:{port}"))
        .with_ext("clusterName", "BenchCluster")
        .with_ext("haServerAddr", format!("127.0.0.1:{}", port + 1))
        .with_ext("brokerId", 0)
        .with_ext("enableActingMaster", false)
        .with_ext("compressed", compressed);
    // bodyCrc32 as brokers send it (the NameServer checks it).
    let crc = crc32fast::hash(&body) & 0x7FFF_FFFF;
    req = req.with_ext("bodyCrc32", crc);
    if let Some((ak, sk)) = crate::route::credentials() {
        namesrv::auth::signature::sign_request(&mut req.ext_fields, &body, ak, sk);
    }
    req.body = body;
    req
}

/// One broker re-registering until `stop`; every registration bumps the data
/// version unless `--unchanged`.
async fn register_worker(
    args: RegisterArgs,
    broker: usize,
    prefix: String,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
) -> Stats {
    let mut stats = Stats::default();
    let (k, compressed, rate) = (args.topics_per_broker, args.compressed, args.rate);
    let Ok(mut conn) = connect(args.register_addr).await else {
        stats.errors += 1;
        return stats;
    };
    // Two bodies with different data versions, alternated, so every
    // registration is applied in full without the generator rebuilding megabytes.
    let build = |counter, changed| -> Bytes {
        if compressed {
            compressed_body(&prefix, k, counter, changed).into()
        } else {
            register_body(&prefix, k, counter, changed).into()
        }
    };
    let first = build(1, 0);
    let second = if args.unchanged {
        first.clone()
    } else {
        build(2, args.changed_topics)
    };
    let bodies = [second, first];
    let mut counter = 1u64;
    let interval = (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate));
    while !stop.load(Ordering::Relaxed) {
        let body = bodies[(counter % 2) as usize].clone();
        let started = Instant::now();
        if conn
            .send(register_request(
                BrokerSet::Churn,
                broker,
                body,
                compressed,
                counter as i32,
            ))
            .await
            .is_err()
        {
            stats.errors += 1;
            break;
        }
        match conn.next().await {
            Some(Ok(resp)) if resp.code == 0 => stats.ok += 1,
            Some(Ok(_)) => stats.errors += 1,
            _ => {
                stats.errors += 1;
                break;
            }
        }
        stats
            .latencies_us
            .push(started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        done.fetch_add(1, Ordering::Relaxed);
        counter += 1;
        if args.once {
            // Stay connected: a closed connection would unregister the broker.
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            break;
        }
        if let Some(interval) = interval {
            tokio::time::sleep(interval.saturating_sub(started.elapsed())).await;
        }
    }
    stats
}

pub(crate) fn spawn_registers(
    args: &RegisterArgs,
    prefix: &str,
    stop: &Arc<AtomicBool>,
    done: &Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<Stats>> {
    (0..args.brokers)
        .map(|b| {
            tokio::spawn(register_worker(
                args.clone(),
                b,
                prefix.to_string(),
                stop.clone(),
                done.clone(),
            ))
        })
        .collect()
}

pub(crate) async fn collect(workers: Vec<tokio::task::JoinHandle<Stats>>) -> Stats {
    let mut stats = Stats::default();
    for w in workers {
        if let Ok(s) = w.await {
            stats.merge(s);
        }
    }
    stats
}

pub(crate) async fn run_register(args: &RegisterArgs) -> Report {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers = spawn_registers(args, "ChurnTopic", &stop, &done);
    if !args.once {
        progress(args.register_duration, &done, args.register_json).await;
        stop.store(true, Ordering::Relaxed);
        return collect(workers)
            .await
            .report("register", started.elapsed(), args.register_json);
    }
    // The storm: until every broker's registration is answered (or the duration ends).
    let deadline = started + Duration::from_secs(args.register_duration);
    while done.load(Ordering::Relaxed) < args.brokers as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all_answered = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let report = collect(workers)
        .await
        .report("storm", all_answered, args.register_json);
    let (answered, ms) = (
        done.load(Ordering::Relaxed),
        all_answered.as_secs_f64() * 1e3,
    );
    if args.register_json {
        println!(
            r#"{{"mode":"storm-all","brokers":{},"answered":{answered},"all_answered_ms":{ms:.1}}}"#,
            args.brokers
        );
    } else {
        println!(
            "storm: {answered}/{} registrations answered after {ms:.1} ms (connects included)",
            args.brokers
        );
    }
    report
}
