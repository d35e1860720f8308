//! namesrv-bench: a load generator speaking the RocketMQ remoting protocol,
//! plus a bare echo server that answers every frame with a fixed body (the
//! ceiling of the machine for the same frames).
//!
//! Modes: `route` (GET_ROUTEINFO_BY_TOPIC), `register` (REGISTER_BROKER
//! churn), `mixed` (route load idle, then under churn), `setup` (register
//! brokers and hold them), `echo` (the ceiling server).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args, Parser, Subcommand};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

use namesrv::remoting::{RemotingCodec, RemotingCommand, RequestCode, ResponseCode};

#[derive(Parser)]
#[command(
    name = "namesrv-bench",
    about = "Load generator for RocketMQ NameServers"
)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Route lookups: C connections, P requests in flight each, over T topics.
    Route(RouteArgs),
    /// Brokers re-registering their whole topic table.
    Register(RegisterArgs),
    /// Route load idle, then the same load while brokers re-register.
    Mixed {
        #[command(flatten)]
        route: RouteArgs,
        #[command(flatten)]
        register: RegisterArgs,
    },
    /// Register B brokers × K topics and keep them alive until killed.
    Setup(SetupArgs),
    /// Answer every request with a fixed body (the ceiling server).
    Echo {
        #[arg(long, default_value = "127.0.0.1:19999")]
        listen: SocketAddr,
        /// Body size in bytes (match a real route answer).
        #[arg(long, default_value_t = 300)]
        body_size: usize,
    },
}

#[derive(Args, Clone)]
struct RouteArgs {
    #[arg(long, default_value = "127.0.0.1:9876")]
    addr: SocketAddr,
    #[arg(short = 'c', long, default_value_t = 64)]
    connections: usize,
    #[arg(short = 'p', long, default_value_t = 8)]
    pipeline: usize,
    #[arg(short = 't', long, default_value_t = 1000)]
    topics: usize,
    #[arg(long, default_value = "BenchTopic")]
    topic_prefix: String,
    /// Look up these topics (comma-separated) instead of prefix + number.
    #[arg(long, value_delimiter = ',')]
    topic_names: Vec<String>,
    #[arg(short = 'd', long, default_value_t = 10)]
    duration: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Clone)]
struct RegisterArgs {
    #[arg(long = "register-addr", default_value = "127.0.0.1:9876")]
    register_addr: SocketAddr,
    #[arg(short = 'b', long, default_value_t = 10)]
    brokers: usize,
    #[arg(short = 'k', long, default_value_t = 10_000)]
    topics_per_broker: usize,
    /// Registrations per second per broker; 0 = back to back.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Send the compressed body form (compressed=true).
    #[arg(long)]
    compressed: bool,
    /// Send the same body every time, as a broker whose topics do not change
    /// (default: two data versions alternate, so each registration changes).
    #[arg(long)]
    unchanged: bool,
    /// How many topics the two alternating bodies differ in (their perm),
    /// spread over the table: 0 = only the data version changes, 1 = one
    /// topic changed as by `updateTopic`, the topic count = every topic.
    #[arg(long = "changed-topics", default_value_t = 0)]
    changed_topics: usize,
    /// A registration storm: every broker registers once, all at once (as
    /// after a NameServer restart), and keeps its connection open.
    #[arg(long)]
    once: bool,
    #[arg(long = "register-duration", default_value_t = 10)]
    register_duration: u64,
    #[arg(long = "register-json")]
    register_json: bool,
}

#[derive(Args, Clone)]
struct SetupArgs {
    #[arg(long, default_value = "127.0.0.1:9876")]
    addr: SocketAddr,
    #[arg(short = 'b', long, default_value_t = 1)]
    brokers: usize,
    #[arg(short = 'k', long, default_value_t = 1000)]
    topics_per_broker: usize,
    #[arg(long, default_value = "BenchTopic")]
    topic_prefix: String,
    /// Seconds between re-registrations (keeps brokers alive).
    #[arg(long, default_value_t = 30)]
    period: u64,
}

type Conn = Framed<TcpStream, RemotingCodec>;

async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(Framed::new(stream, RemotingCodec::new(64 << 20)))
}

/// Latency samples in microseconds, and outcome counts.
#[derive(Default)]
struct Stats {
    latencies_us: Vec<u32>,
    ok: u64,
    errors: u64,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.latencies_us.extend(other.latencies_us);
        self.ok += other.ok;
        self.errors += other.errors;
    }

    fn percentile(sorted: &[u32], p: f64) -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        f64::from(sorted[idx.min(sorted.len() - 1)]) / 1000.0
    }

    fn report(mut self, label: &str, elapsed: Duration, json: bool) -> Report {
        self.latencies_us.sort_unstable();
        let r = Report {
            label: label.to_string(),
            requests: self.ok + self.errors,
            errors: self.errors,
            per_sec: (self.ok + self.errors) as f64 / elapsed.as_secs_f64(),
            p50_ms: Self::percentile(&self.latencies_us, 0.50),
            p99_ms: Self::percentile(&self.latencies_us, 0.99),
            p999_ms: Self::percentile(&self.latencies_us, 0.999),
        };
        r.print(json);
        r
    }
}

struct Report {
    label: String,
    requests: u64,
    errors: u64,
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
}

impl Report {
    fn print(&self, json: bool) {
        if json {
            println!(
                "{{\"mode\":\"{}\",\"requests\":{},\"errors\":{},\"per_sec\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"p999_ms\":{:.3}}}",
                self.label, self.requests, self.errors, self.per_sec, self.p50_ms, self.p99_ms, self.p999_ms
            );
        } else {
            println!(
                "{:<16} {:>10} req {:>6} err {:>12.0}/s   p50 {:>8.3} ms   p99 {:>8.3} ms   p99.9 {:>8.3} ms",
                self.label, self.requests, self.errors, self.per_sec, self.p50_ms, self.p99_ms, self.p999_ms
            );
        }
    }
}

fn route_request(topic: &str, opaque: i32) -> RemotingCommand {
    RemotingCommand::request(RequestCode::GET_ROUTEINFO_BY_TOPIC.value(), opaque)
        .with_ext("topic", topic)
}

/// One connection keeping `pipeline` lookups in flight until `stop`.
async fn route_worker(
    args: RouteArgs,
    seed: usize,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
) -> Stats {
    let mut stats = Stats::default();
    let Ok(mut conn) = connect(args.addr).await else {
        stats.errors += 1;
        return stats;
    };
    // Send time by opaque: servers may answer out of order.
    let mut sent_at: std::collections::HashMap<i32, Instant> = std::collections::HashMap::new();
    let mut next = seed;
    let mut opaque = 0i32;
    let mut next_request = |sent_at: &mut std::collections::HashMap<i32, Instant>| {
        let topic = if args.topic_names.is_empty() {
            format!("{}{}", args.topic_prefix, next % args.topics.max(1))
        } else {
            args.topic_names[next % args.topic_names.len()].clone()
        };
        next = next
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
            >> 1;
        opaque = opaque.wrapping_add(1);
        sent_at.insert(opaque, Instant::now());
        route_request(&topic, opaque)
    };
    for _ in 0..args.pipeline.max(1) {
        let req = next_request(&mut sent_at);
        if conn.feed(req).await.is_err() {
            stats.errors += 1;
            return stats;
        }
    }
    if conn.flush().await.is_err() {
        stats.errors += 1;
        return stats;
    }
    while let Some(frame) = conn.next().await {
        let Ok(resp) = frame else {
            stats.errors += 1;
            break;
        };
        if let Some(at) = sent_at.remove(&resp.opaque) {
            stats
                .latencies_us
                .push(at.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        }
        if resp.code == ResponseCode::SUCCESS.value() {
            stats.ok += 1;
        } else {
            stats.errors += 1;
        }
        done.fetch_add(1, Ordering::Relaxed);
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let req = next_request(&mut sent_at);
        if conn.send(req).await.is_err() {
            stats.errors += 1;
            break;
        }
    }
    stats
}

async fn run_route(args: &RouteArgs, label: &str) -> Report {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections)
        .map(|i| {
            tokio::spawn(route_worker(
                args.clone(),
                i * 7919 + 1,
                stop.clone(),
                done.clone(),
            ))
        })
        .collect();
    progress(args.duration, &done, args.json).await;
    stop.store(true, Ordering::Relaxed);
    let mut stats = Stats::default();
    for w in workers {
        if let Ok(s) = w.await {
            stats.merge(s);
        }
    }
    stats.report(label, started.elapsed(), args.json)
}

/// Sleeps `secs`, printing a progress line to stderr every second.
async fn progress(secs: u64, done: &AtomicU64, quiet: bool) {
    let mut last = 0;
    for i in 1..=secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = done.load(Ordering::Relaxed);
        if !quiet {
            eprint!("\r  {i:>3}/{secs} s  {:>10}/s", now - last);
        }
        last = now;
    }
    if !quiet {
        eprintln!();
    }
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
fn register_body(prefix: &str, k: usize, counter: u64, changed: usize) -> Vec<u8> {
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
enum BrokerSet {
    Setup,
    Churn,
}

fn register_request(
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

fn spawn_registers(
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

async fn collect(workers: Vec<tokio::task::JoinHandle<Stats>>) -> Stats {
    let mut stats = Stats::default();
    for w in workers {
        if let Ok(s) = w.await {
            stats.merge(s);
        }
    }
    stats
}

async fn run_register(args: &RegisterArgs) -> Report {
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

async fn run_mixed(route: &RouteArgs, register: &RegisterArgs) {
    let idle = run_route(route, "route-idle").await;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let churn = spawn_registers(register, "ChurnTopic", &stop, &done);
    let busy = run_route(route, "route-churn").await;
    stop.store(true, Ordering::Relaxed);
    collect(churn)
        .await
        .report("register-churn", started.elapsed(), route.json);
    let ratio = if idle.p99_ms > 0.0 {
        busy.p99_ms / idle.p99_ms
    } else {
        0.0
    };
    if route.json {
        println!("{{\"mode\":\"mixed\",\"p99_ratio_churn_over_idle\":{ratio:.2}}}");
    } else {
        println!("route p99 under churn / idle: {ratio:.2}x");
    }
}

async fn run_setup(args: &SetupArgs) -> std::io::Result<()> {
    /// One registration of setup broker `b`, answered SUCCESS.
    async fn register(conn: &mut Conn, b: usize, body: &Bytes, opaque: i32) -> std::io::Result<()> {
        let req = register_request(BrokerSet::Setup, b, body.clone(), false, opaque);
        conn.send(req).await.map_err(std::io::Error::other)?;
        match conn.next().await {
            Some(Ok(resp)) if resp.code == 0 => Ok(()),
            other => Err(std::io::Error::other(format!(
                "registration of broker {b} failed: {:?}",
                other.map(|r| r.map(|c| c.remark))
            ))),
        }
    }
    // Every broker serves the same topics: one body for all of them.
    let body: Bytes = register_body(&args.topic_prefix, args.topics_per_broker, 1, 0).into();
    let mut conns = Vec::new();
    for b in 0..args.brokers {
        let mut conn = connect(args.addr).await?;
        register(&mut conn, b, &body, 1).await?;
        conns.push((conn, body.clone()));
    }
    println!(
        "registered {} brokers x {} topics",
        args.brokers, args.topics_per_broker
    );
    loop {
        tokio::time::sleep(Duration::from_secs(args.period.max(1))).await;
        for (b, (conn, body)) in conns.iter_mut().enumerate() {
            register(conn, b, body, 2).await?;
        }
    }
}

async fn run_echo(listen: SocketAddr, body_size: usize) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let body = Bytes::from(vec![b'x'; body_size]);
    eprintln!("echo listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let mut conn = Framed::new(stream, RemotingCodec::new(64 << 20));
            while let Some(Ok(first)) = conn.next().await {
                let mut next = Some(first);
                // Answer everything already readable, then flush once, as the server does.
                while let Some(req) = next.take() {
                    let resp = req
                        .response(ResponseCode::SUCCESS, None)
                        .with_body(body.clone());
                    if conn.feed(resp).await.is_err() {
                        return;
                    }
                    next = futures::FutureExt::now_or_never(conn.next())
                        .flatten()
                        .and_then(Result::ok);
                }
                if conn.flush().await.is_err() {
                    return;
                }
            }
        });
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("namesrv-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result: std::io::Result<()> = runtime.block_on(async {
        match cli.mode {
            Mode::Route(args) => {
                run_route(&args, "route").await;
            }
            Mode::Register(args) => {
                run_register(&args).await;
            }
            Mode::Mixed { route, register } => run_mixed(&route, &register).await,
            Mode::Setup(args) => run_setup(&args).await?,
            Mode::Echo { listen, body_size } => run_echo(listen, body_size).await?,
        }
        Ok(())
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("namesrv-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
