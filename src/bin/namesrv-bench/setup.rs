//! `setup`: register brokers and keep them alive until killed.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use futures::{SinkExt, StreamExt};

use crate::load::{connect, Conn};
use crate::register::{register_body, register_request, BrokerSet};

#[derive(Args, Clone)]
pub(crate) struct SetupArgs {
    #[arg(long, default_value = "127.0.0.1:9876")]
    pub(crate) addr: SocketAddr,
    #[arg(short = 'b', long, default_value_t = 1)]
    pub(crate) brokers: usize,
    #[arg(short = 'k', long, default_value_t = 1000)]
    pub(crate) topics_per_broker: usize,
    #[arg(long, default_value = "BenchTopic")]
    pub(crate) topic_prefix: String,
    /// Seconds between re-registrations (keeps brokers alive).
    #[arg(long, default_value_t = 30)]
    pub(crate) period: u64,
}

pub(crate) async fn run_setup(args: &SetupArgs) -> std::io::Result<()> {
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
