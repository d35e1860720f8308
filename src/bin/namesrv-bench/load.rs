//! What every load mode shares: connections, latency samples, reports and
//! the progress line.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use namesrv::remoting::RemotingCodec;

pub(crate) type Conn = Framed<TcpStream, RemotingCodec>;

pub(crate) async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(Framed::new(stream, RemotingCodec::new(64 << 20)))
}

/// Latency samples in microseconds, and outcome counts.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) latencies_us: Vec<u32>,
    pub(crate) ok: u64,
    pub(crate) errors: u64,
}

impl Stats {
    pub(crate) fn merge(&mut self, other: Stats) {
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

    pub(crate) fn report(mut self, label: &str, elapsed: Duration, json: bool) -> Report {
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

pub(crate) struct Report {
    pub(crate) label: String,
    pub(crate) requests: u64,
    pub(crate) errors: u64,
    pub(crate) per_sec: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) p999_ms: f64,
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

/// Sleeps `secs`, printing a progress line to stderr every second.
pub(crate) async fn progress(secs: u64, done: &AtomicU64, quiet: bool) {
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
