//! `route`: GET_ROUTEINFO_BY_TOPIC load.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use futures::{SinkExt, StreamExt};

use namesrv::remoting::{RemotingCommand, RequestCode, ResponseCode};

use crate::load::{connect, progress, Report, Stats};

#[derive(Args, Clone)]
pub(crate) struct RouteArgs {
    #[arg(long, default_value = "127.0.0.1:9876")]
    pub(crate) addr: SocketAddr,
    #[arg(short = 'c', long, default_value_t = 64)]
    pub(crate) connections: usize,
    #[arg(short = 'p', long, default_value_t = 8)]
    pub(crate) pipeline: usize,
    #[arg(short = 't', long, default_value_t = 1000)]
    pub(crate) topics: usize,
    #[arg(long, default_value = "BenchTopic")]
    pub(crate) topic_prefix: String,
    /// Look up these topics (comma-separated) instead of prefix + number.
    #[arg(long, value_delimiter = ',')]
    pub(crate) topic_names: Vec<String>,
    #[arg(short = 'd', long, default_value_t = 10)]
    pub(crate) duration: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Signed as RocketMQ's `AclClientRPCHook` signs (as registrations are),
/// when `$NAMESRV_BENCH_ACCESS_KEY` and `$NAMESRV_BENCH_SECRET_KEY` are set:
/// the cost of authentication on the server.
fn route_request(topic: &str, opaque: i32) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(RequestCode::GET_ROUTEINFO_BY_TOPIC.value(), opaque)
        .with_ext("topic", topic);
    if let Some((ak, sk)) = credentials() {
        namesrv::auth::signature::sign_request(&mut cmd.ext_fields, &[], ak, sk);
    }
    cmd
}

pub(crate) fn credentials() -> Option<&'static (String, String)> {
    static CREDENTIALS: std::sync::OnceLock<Option<(String, String)>> = std::sync::OnceLock::new();
    CREDENTIALS
        .get_or_init(|| {
            let ak = std::env::var("NAMESRV_BENCH_ACCESS_KEY").ok()?;
            let sk = std::env::var("NAMESRV_BENCH_SECRET_KEY").ok()?;
            Some((ak, sk))
        })
        .as_ref()
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

pub(crate) async fn run_route(args: &RouteArgs, label: &str) -> Report {
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
