//! One controller node: opens its raft storage, starts openraft, joins the
//! configured membership, and runs the listener, the writer, the
//! leadership watch and the liveness scans until the shutdown signal. The
//! one place where the controller's pieces are wired together.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use openraft::error::{InitializeError, RaftError as OpenRaftError};
use openraft::BasicNode;
use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::config::ControllerConfig;
use super::handle::{Controller, QUEUE_CAPACITY};
use super::heartbeat::HeartbeatTable;
use super::raft::log_store::LogStore;
use super::raft::network::{NetworkFactory, RaftPeers};
use super::raft::state_machine::StateMachine;
use super::raft::types::Raft;
use super::raft::{raft_config, RaftError};
use super::service::ControllerPort;
use super::state::ControllerState;
use super::{leadership, liveness, writer};
use crate::config::TlsMode;
use crate::metrics::Metrics;
use crate::net::registry::ConnRegistry;
use crate::net::tls::Tls;
use crate::remoting::Transport;

/// Why a controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] super::error::ControllerError),
    #[error(transparent)]
    Raft(#[from] RaftError),
    #[error("cannot listen on {addr} (this node's address in controllerDLegerPeers): {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Peers(String),
}

/// Raft RPCs travel on the controller port, so they speak TLS where it
/// refuses plaintext.
fn raft_transport(tls: &Tls) -> Transport {
    match tls.mode() {
        TlsMode::Enforcing => Transport::Tls,
        TlsMode::Disabled | TlsMode::Permissive => Transport::Plain,
    }
}

/// A started controller; `join` waits until it has stopped.
pub struct Running {
    pub controller: Arc<Controller>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    pub async fn join(self) {
        for task in self.tasks {
            let _ = task.await;
        }
        if let Err(e) = self.controller.raft.shutdown().await {
            tracing::warn!(error = %e, "raft did not shut down cleanly");
        }
        tracing::info!("controller stopped");
    }
}

/// Starts the controller of `config`, listening on `bind_host` and this
/// node's port in `controllerDLegerPeers` with the TLS mode of `tls`; it
/// stops on `shutdown`.
pub async fn start(
    config: ControllerConfig,
    bind_host: &str,
    tls: Arc<Tls>,
    shutdown: &broadcast::Sender<()>,
    metrics: Arc<Metrics>,
    auth: Option<Arc<crate::auth::Auth>>,
) -> Result<Running, StartError> {
    let peers = config.peers()?;
    let raft_peers = RaftPeers::resolve(&peers).await;
    let me = peers.me().clone();
    let addr = format!("{bind_host}:{}", me.port);
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: addr.clone(),
            source,
        })?;

    let store = config.effective_store_path();
    let state = Arc::new(RwLock::new(ControllerState::new()));
    let log = LogStore::open(&store)?;
    let sm = StateMachine::open(&store, state.clone())?;
    log.limit_purges_to(sm.durable_snapshot());
    let group = config.controller_dleger_group.clone().unwrap_or_default();
    let raft = Raft::new(
        me.node_id,
        raft_config(&group)?,
        NetworkFactory::new(me.node_id, raft_transport(&tls)),
        log,
        sm,
    )
    .await
    .map_err(|e| RaftError::Start(e.to_string()))?;
    let members: BTreeMap<_, _> = peers
        .all()
        .iter()
        .map(|p| (p.node_id, BasicNode::new(p.address())))
        .collect();
    match raft.initialize(members).await {
        Ok(()) => tracing::info!("controller raft membership initialized"),
        // A restart, or a peer's initialize got here first: the same
        // membership, so there is nothing to do.
        Err(OpenRaftError::APIError(InitializeError::NotAllowed(_))) => {}
        Err(e) => return Err(RaftError::Start(e.to_string()).into()),
    }

    let (writer_tx, writer_rx) = mpsc::channel(QUEUE_CAPACITY);
    let controller = Arc::new(Controller {
        config: RwLock::new(config),
        peers,
        raft_peers,
        raft,
        state,
        heartbeats: Mutex::new(HeartbeatTable::new()),
        ready: AtomicBool::new(false),
        ready_since: Mutex::new(None),
        isolated: AtomicBool::new(false),
        writer: writer_tx,
        conns: ConnRegistry::default(),
        clock: Instant::now(),
        metrics,
        pushes: Default::default(),
        auth,
    });
    let tasks = vec![
        tokio::spawn(writer::run(
            controller.clone(),
            writer_rx,
            shutdown.subscribe(),
        )),
        tokio::spawn(leadership::watch(controller.clone(), shutdown.subscribe())),
        tokio::spawn(liveness::expiry_scan(
            controller.clone(),
            shutdown.subscribe(),
        )),
        tokio::spawn(liveness::inactive_master_scan(
            controller.clone(),
            shutdown.subscribe(),
        )),
        tokio::spawn({
            let mut stop = shutdown.subscribe();
            crate::net::server::run(
                listener,
                Arc::new(ControllerPort::new(controller.clone())),
                tls,
                async move {
                    let _ = stop.recv().await;
                },
            )
        }),
    ];
    tracing::info!(
        controller = %me.address(),
        id = %me.id,
        node_id = me.node_id,
        store = %store.display(),
        "The controller boot success"
    );
    Ok(Running { controller, tasks })
}
