//! The state every connection shares: route table, KV store, configuration,
//! and the outbox for notifications to brokers. Background tasks that keep
//! it (the broker scan, the notifier) live beside it here.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{RwLock, RwLockReadGuard};
use tokio::sync::{broadcast, mpsc};

use crate::auth::Auth;
use crate::config::Config;
use crate::metrics::{Metrics, RouteGauges};
use crate::net::registry::ConnRegistry;
use crate::route::cache::RouteCache;
use crate::route::{ConnId, MinBrokerIdNotice, RouteInfoManager, RouteOptions};
use crate::state::bulk::BulkPool;
use crate::state::kv::KvConfigManager;

pub struct Shared {
    /// Shared with the bulk pool's threads, where registrations apply.
    pub routes: Arc<RouteInfoManager>,
    pub route_cache: Arc<RouteCache>,
    pub kv: KvConfigManager,
    /// Where register bodies are parsed (see `bulk`).
    pub bulk: BulkPool,
    config: RwLock<Config>,
    pub started_at: Instant,
    pub metrics: Arc<Metrics>,
    notices: mpsc::UnboundedSender<MinBrokerIdNotice>,
    connections: ConnRegistry,
    /// Where the NameServer port is bound, once it is (`listenPort` may be 0).
    listen_addr: OnceLock<SocketAddr>,
    /// Users, ACLs and the checks made with them; the auth keys cannot be
    /// changed at run time, so it is read without the config lock.
    pub auth: Arc<Auth>,
}

impl Shared {
    /// Returns the shared state and the receiver the notifier task drains.
    pub fn new(
        config: Config,
        kv: KvConfigManager,
        bulk: BulkPool,
        auth: Arc<Auth>,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<MinBrokerIdNotice>) {
        let (notices, rx) = mpsc::unbounded_channel();
        // Nothing can read metrics without the HTTP listener.
        let metrics = Arc::new(Metrics::new(config.server.http_listen_port != 0));
        let shared = Arc::new(Shared {
            routes: Arc::default(),
            route_cache: Arc::default(),
            kv,
            bulk,
            config: RwLock::new(config),
            started_at: Instant::now(),
            metrics,
            notices,
            connections: ConnRegistry::default(),
            listen_addr: OnceLock::new(),
            auth,
        });
        (shared, rx)
    }

    pub fn config(&self) -> RwLockReadGuard<'_, Config> {
        self.config.read()
    }

    /// Applies `change` to the live configuration.
    pub fn update_config<R>(&self, change: impl FnOnce(&mut Config) -> R) -> R {
        change(&mut self.config.write())
    }

    pub fn route_options(&self) -> RouteOptions {
        let c = &self.config().namesrv;
        RouteOptions {
            support_acting_master: c.support_acting_master,
            delete_topic_with_broker_registration: c.delete_topic_with_broker_registration,
            notify_min_broker_id_changed: c.notify_min_broker_id_changed,
        }
    }

    pub fn max_frame(&self) -> usize {
        self.config().server.max_frame()
    }

    pub fn now_ms() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    pub fn notify(&self, notices: Vec<MinBrokerIdNotice>) {
        for notice in notices {
            // The receiver lives as long as the server; a send error means shutdown.
            let _ = self.notices.send(notice);
        }
    }

    /// Records where the NameServer port is bound.
    pub fn set_listen_addr(&self, addr: SocketAddr) {
        let _ = self.listen_addr.set(addr);
    }

    /// The NameServer port as bound, if it is yet.
    pub fn listen_addr(&self) -> Option<SocketAddr> {
        self.listen_addr.get().copied()
    }

    pub fn connections(&self) -> &ConnRegistry {
        &self.connections
    }

    /// The metrics text, with the route table's gauges read now.
    pub fn render_metrics(&self) -> String {
        let stats = self.routes.stats();
        let routes = RouteGauges {
            brokers_per_cluster: stats.live_per_cluster,
            broker_groups: stats.broker_groups,
            topics: stats.topics,
            queue_entries: stats.queue_entries,
        };
        self.metrics.render(routes, self.started_at.elapsed())
    }

    /// A connection closed: unregister every broker that registered over it.
    pub fn connection_closed(&self, conn: ConnId) {
        let (removed, notices) = self.routes.on_connection_closed(conn, self.route_options());
        self.metrics.removed("connection_close", removed.len());
        for addr in removed {
            tracing::info!(
                cluster = %addr.cluster_name, addr = %addr.broker_addr,
                "broker connection closed; broker removed"
            );
        }
        self.notify(notices);
    }

    /// One pass of the liveness scan.
    pub fn scan_once(&self) {
        let (expired, notices) = self
            .routes
            .scan_not_active(Self::now_ms(), self.route_options());
        self.metrics.removed("timeout", expired.len());
        for broker in expired {
            tracing::warn!(
                cluster = %broker.addr.cluster_name, addr = %broker.addr.broker_addr,
                timeout_ms = broker.timeout_ms, "broker heartbeat expired; broker removed"
            );
            if let Some(conn) = broker.conn {
                self.connections.close(conn);
            }
        }
        self.notify(notices);
    }
}

/// Expires lapsed brokers every `scanNotActiveBrokerInterval` until shutdown.
pub async fn run_scan_task(shared: Arc<Shared>, mut shutdown: broadcast::Receiver<()>) {
    loop {
        let interval = shared
            .config()
            .namesrv
            .scan_not_active_broker_interval
            .max(100) as u64;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(interval)) => shared.scan_once(),
            _ = shutdown.recv() => return,
        }
    }
}
