//! Start-up: the listeners, the shared state and the controller, in Java's
//! order. [`start`] returns once every listener is bound, so a caller (the
//! binary, or a test on port 0) learns the real addresses from [`Running`]
//! rather than from the log.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::{Auth, AuthError};
use crate::cmd;
use crate::config::Config;
use crate::controller::{self, ControllerConfig, ControllerError};
use crate::http;
use crate::metrics::Metrics;
use crate::net::tls::{self, Tls, TlsError};
use crate::state::bulk::BulkPool;
use crate::state::kv::{KvConfigManager, KvError};
use crate::state::notify;
use crate::state::shared::Shared;

/// How often certificate files are checked for changes (Java: 500 ms).
const TLS_WATCH_PERIOD: Duration = Duration::from_secs(1);

/// The bind address of the controller started alone: Java's mqcontroller
/// listens on every interface.
const CONTROLLER_ONLY_HOST: &str = "0.0.0.0";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Kv(#[from] KvError),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("authentication store: {0}")]
    Auth(#[from] AuthError),
    #[error("cannot listen on {addr}{role}: {source}")]
    Listen {
        addr: String,
        role: &'static str,
        source: std::io::Error,
    },
    #[error("cannot start the bulk work threads: {0}")]
    Bulk(std::io::Error),
    #[error("cannot start the HTTP listener: {0}")]
    Http(std::io::Error),
    #[error(transparent)]
    ControllerConfig(#[from] ControllerError),
    #[error(transparent)]
    Controller(#[from] controller::node::StartError),
}

/// What to run.
#[derive(Debug, Clone)]
pub enum Services {
    /// The NameServer, with the controller beside it when its
    /// configuration is given (`enableControllerInNamesrv`).
    NameServer(Box<Config>, Option<ControllerConfig>),
    /// The controller alone (`namesrv --controller`, as `mqcontroller`).
    Controller(ControllerConfig),
}

/// A started server: where it listens, and its end.
pub struct Running {
    /// The NameServer's remoting address (none for the controller alone).
    pub namesrv: Option<SocketAddr>,
    /// The HTTP listener (`httpListenPort`), when enabled.
    pub http: Option<SocketAddr>,
    /// The controller's address, when one runs.
    pub controller: Option<SocketAddr>,
    task: JoinHandle<()>,
}

impl Running {
    /// Waits until everything started has stopped, which follows the
    /// shutdown future given to [`start`].
    pub async fn join(self) {
        if let Err(e) = self.task.await {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }

    /// The addresses as `role=host:port` lines, for `--ready-file`.
    pub fn addresses_text(&self) -> String {
        [
            ("namesrv", self.namesrv),
            ("http", self.http),
            ("controller", self.controller),
        ]
        .into_iter()
        .filter_map(|(role, addr)| addr.map(|a| format!("{role}={a}\n")))
        .collect()
    }
}

/// Starts `services` on the current tokio runtime; they stop when
/// `shutdown` completes. Returns once every listener is bound.
pub async fn start(
    services: Services,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Running, StartError> {
    let (config, controller_config) = match services {
        Services::NameServer(config, controller_config) => (*config, controller_config),
        Services::Controller(config) => {
            let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
            let controller = controller_addr(&config, CONTROLLER_ONLY_HOST).await?;
            // No HTTP listener here: nothing could read metrics.
            let metrics = Arc::new(Metrics::new(false));
            // The controller's own properties carry no TLS keys: plaintext.
            let tls = Arc::new(Tls::disabled());
            let running =
                controller::node::start(config, CONTROLLER_ONLY_HOST, tls, &stop_tx, metrics, None)
                    .await?;
            let task = tokio::spawn(async move {
                shutdown.await;
                let _ = stop_tx.send(());
                running.join().await;
            });
            return Ok(Running {
                namesrv: None,
                http: None,
                controller,
                task,
            });
        }
    };
    let kv = KvConfigManager::load(&config.namesrv.kv_config_path)?;
    let auth = Arc::new(Auth::open(&config.auth)?);
    let tls_settings = tls::effective_settings(&config.tls)?;
    let bind_address = config.server.bind_address.clone();
    let (listener, local) = bind(&bind_address, config.server.listen_port, "").await?;
    let bulk = BulkPool::start(BulkPool::default_threads()).map_err(StartError::Bulk)?;
    let http_port = config.server.http_listen_port;
    let http_listener = match (http_port, config.http_port_explicit) {
        (0, _) => None,
        (_, true) => Some(bind(&bind_address, http_port, " (httpListenPort)").await?),
        // A Java properties file says nothing of our HTTP port, so several
        // NameServers started from such files on one host would all ask for
        // the default: the first gets it, the others serve without it.
        (_, false) => match bind(&bind_address, http_port, " (httpListenPort)").await {
            Ok(bound) => Some(bound),
            Err(e) => {
                tracing::warn!(error = %e, "HTTP listener (metrics, API, cluster page) not started: its default port is taken; set httpListenPort to give this NameServer one");
                None
            }
        },
    };
    // One signal stops every listener.
    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let (shared, notices) = Shared::new(config, kv, bulk, auth);
    // Both the NameServer and the controller port follow tls.server.mode.
    let tls = Arc::new(Tls::new(tls_settings)?);
    tracing::info!(mode = ?tls.mode(), "TLS mode (tls.server.mode)");
    tokio::spawn(tls.clone().watch_files(TLS_WATCH_PERIOD));
    let (controller, controller_address) = match controller_config {
        // Java starts the controller after the NameServer, on the same
        // bind address and this node's port in controllerDLegerPeers.
        Some(c) => {
            let address = controller_addr(&c, &bind_address).await?;
            let running = controller::node::start(
                c,
                &bind_address,
                tls.clone(),
                &stop_tx,
                shared.metrics.clone(),
                Some(shared.auth.clone()),
            )
            .await?;
            (Some(running), address)
        }
        None => (None, None),
    };
    tokio::spawn(notify::run_notifier(notices));
    tracing::info!(address = %local, "The Name Server boot success. serializeType=JSON");
    let http_address = http_listener.as_ref().map(|(_, address)| *address);
    if let Some((listener, address)) = http_listener {
        let listener = http::HttpListener::new(listener, tls.clone(), shared.metrics.clone())
            .map_err(StartError::Http)?;
        tracing::info!(http = %address, tls = ?tls.mode(), "HTTP listener started (metrics, API, cluster page)");
        let mut stop = stop_tx.subscribe();
        let state = http::AppState::new(
            shared.clone(),
            controller.as_ref().map(|c| c.controller.clone()),
        );
        // Sampled only where something can show it: beside the listener.
        tokio::spawn(http::history::run(
            shared.clone(),
            state.history.clone(),
            stop_tx.subscribe(),
        ));
        tokio::spawn(http::serve(listener, state, async move {
            let _ = stop.recv().await;
        }));
    }
    let stop = stop_tx.clone();
    let task = tokio::spawn(async move {
        cmd::service::run(listener, shared, tls, async move {
            shutdown.await;
            let _ = stop.send(());
        })
        .await;
        if let Some(running) = controller {
            running.join().await;
        }
    });
    Ok(Running {
        namesrv: Some(local),
        http: http_address,
        controller: controller_address,
        task,
    })
}

/// A bound listener and its address (the real port when `port` is 0).
async fn bind(
    host: &str,
    port: i32,
    role: &'static str,
) -> Result<(TcpListener, SocketAddr), StartError> {
    let addr = format!("{host}:{port}");
    let bound = TcpListener::bind(&addr)
        .await
        .and_then(|listener| Ok((listener.local_addr()?, listener)));
    match bound {
        Ok((local, listener)) => Ok((listener, local)),
        Err(source) => Err(StartError::Listen { addr, role, source }),
    }
}

/// Where the controller of `config` listens: `host` and this node's port in
/// controllerDLegerPeers (fixed there, so known before it binds).
async fn controller_addr(
    config: &ControllerConfig,
    host: &str,
) -> Result<Option<SocketAddr>, StartError> {
    let port = config.peers()?.me().port;
    // A host name that does not resolve fails the bind with a clear error.
    Ok(tokio::net::lookup_host((host, port))
        .await
        .ok()
        .and_then(|mut addrs| addrs.next()))
}
