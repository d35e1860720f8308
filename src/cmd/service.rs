//! The NameServer port as the listener sees it: every request goes to
//! [`dispatch`], large registrations are offered head first to
//! [`serve_head`], and a closed connection unregisters the brokers that
//! registered over it.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::broadcast;

use super::{dispatch, serve_head, Origin, HEAD_FIRST};
use crate::metrics::Metrics;
use crate::net::registry::ConnRegistry;
use crate::net::server::{self, Conn, Limits, Service};
use crate::net::tls::Tls;
use crate::remoting::{FrameHead, HeadFirst, RemotingCommand};
use crate::state::shared::{self, Shared};

/// The NameServer's request table behind the listener.
pub struct NameServer {
    shared: Arc<Shared>,
}

impl Service for NameServer {
    fn limits(&self) -> Limits {
        // One read of the configuration: parking_lot's read lock is not
        // reentrant, and a second one under the first can deadlock behind a
        // waiting UPDATE_NAMESRV_CONFIG.
        let config = self.shared.config();
        let s = &config.server;
        Limits {
            max_connections: s.max_connections.max(1) as usize,
            idle: Duration::from_secs(s.server_channel_max_idle_time_seconds.max(1) as u64),
            max_frame: s.max_frame(),
            drain_wait: Duration::from_secs(s.shutdown_wait_time_seconds.max(1) as u64),
            // Every request is answered in order: none waits on anything slow.
            max_in_flight: 1,
        }
    }

    fn metrics(&self) -> Option<&Metrics> {
        Some(&self.shared.metrics)
    }

    fn connections(&self) -> &ConnRegistry {
        self.shared.connections()
    }

    fn head_first(&self) -> HeadFirst {
        HEAD_FIRST
    }

    fn serve_head(&self, conn: Conn, head: &FrameHead) -> Option<Option<RemotingCommand>> {
        serve_head(&self.shared, origin(conn), head)
    }

    fn call(
        &self,
        conn: Conn,
        req: RemotingCommand,
    ) -> impl Future<Output = Option<RemotingCommand>> + Send {
        dispatch(&self.shared, origin(conn), req)
    }

    fn closed(&self, conn: Conn) {
        self.shared.connection_closed(conn.id);
    }
}

fn origin(conn: Conn) -> Origin {
    Origin {
        conn: conn.id,
        source: conn
            .peer
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip()),
    }
}

/// Serves the NameServer port, and expires lapsed brokers beside it, until
/// `signal` completes; then drains connections (bounded by
/// `shutdownWaitTimeSeconds`) and returns.
pub async fn run(listener: TcpListener, shared: Arc<Shared>, tls: Arc<Tls>, signal: impl Future) {
    if let Ok(addr) = listener.local_addr() {
        shared.set_listen_addr(addr);
    }
    let (stop_scan, scan_stopped) = broadcast::channel(1);
    let scan = tokio::spawn(shared::run_scan_task(shared.clone(), scan_stopped));
    let signal = async move {
        signal.await;
        let _ = stop_scan.send(());
    };
    server::run(listener, Arc::new(NameServer { shared }), tls, signal).await;
    let _ = scan.await;
}
