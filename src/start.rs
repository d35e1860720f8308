//! Start-up: the listeners, the shared state and the controller, in Java's order.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::config::TlsConfig;
use crate::controller::{self, ControllerConfig};
use crate::http;
use crate::metrics::Metrics;
use crate::net::server;
use crate::net::tls::Tls;
use crate::state::bulk::BulkPool;
use crate::state::kv::KvConfigManager;
use crate::state::notify;
use crate::state::shared::Shared;

/// How often certificate files are checked for changes (Java: 500 ms).
const TLS_WATCH_PERIOD: Duration = Duration::from_secs(1);

/// The controller alone, as `mqcontroller`.
pub async fn run_controller(
    config: ControllerConfig,
    signal: impl Future<Output = ()>,
) -> Result<(), String> {
    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    // No HTTP listener here: nothing could read metrics.
    let metrics = Arc::new(Metrics::new(false));
    let running = controller::node::start(config, "0.0.0.0", &stop_tx, metrics)
        .await
        .map_err(|e| e.to_string())?;
    signal.await;
    let _ = stop_tx.send(());
    running.join().await;
    tracing::info!("shutdown complete");
    Ok(())
}

/// The NameServer (and the controller beside it when configured).
pub async fn run_namesrv(
    config: Config,
    controller_config: Option<ControllerConfig>,
    kv: KvConfigManager,
    tls_settings: TlsConfig,
    signal: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let addr = format!(
        "{}:{}",
        config.server.bind_address, config.server.listen_port
    );
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let bulk = BulkPool::start(BulkPool::default_threads())
        .map_err(|e| format!("cannot start the bulk work threads: {e}"))?;
    let http_port = config.server.http_listen_port;
    let http_listener = if http_port != 0 {
        let addr = format!("{}:{}", config.server.bind_address, http_port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} (httpListenPort): {e}"))?;
        Some(listener)
    } else {
        None
    };
    // One signal stops every listener.
    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let bind_address = config.server.bind_address.clone();
    let (shared, notices) = Shared::new(config, kv, bulk);
    let controller = match controller_config {
        // Java starts the controller after the NameServer, on the same
        // bind address and this node's port in controllerDLegerPeers.
        Some(c) => Some(
            controller::node::start(c, &bind_address, &stop_tx, shared.metrics.clone())
                .await
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    tokio::spawn(notify::run_notifier(notices));
    let tls = Arc::new(Tls::new(tls_settings).map_err(|e| e.to_string())?);
    tracing::info!(mode = ?tls.mode(), "TLS mode (tls.server.mode)");
    tokio::spawn(tls.clone().watch_files(TLS_WATCH_PERIOD));
    tracing::info!(address = %local, "The Name Server boot success. serializeType=JSON");
    if let Some(listener) = http_listener {
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let listener = http::HttpListener::new(listener, tls.clone(), shared.metrics.clone())
            .map_err(|e| e.to_string())?;
        tracing::info!(http = %address, tls = ?tls.mode(), "HTTP listener started (metrics, API, cluster page)");
        let mut stop = stop_tx.subscribe();
        let state = http::AppState::new(
            shared.clone(),
            controller.as_ref().map(|c| c.controller.clone()),
        );
        tokio::spawn(http::serve(listener, state, async move {
            let _ = stop.recv().await;
        }));
    }
    let stop = stop_tx.clone();
    server::run(listener, shared, tls, async move {
        signal.await;
        let _ = stop.send(());
    })
    .await;
    if let Some(running) = controller {
        running.join().await;
    }
    tracing::info!("shutdown complete");
    Ok(())
}
