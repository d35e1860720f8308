//! One controller node: opens its raft storage, starts openraft, joins the
//! configured membership, and runs the listener, the writer, the
//! leadership watch and the liveness scans until the shutdown signal.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::error::{InitializeError, RaftError as OpenRaftError};
use openraft::BasicNode;
use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, Notify};
use tokio::task::JoinHandle;

use super::config::ControllerConfig;
use super::heartbeat::{ConnId, HeartbeatTable, LiveView};
use super::notify::RoleChange;
use super::outcome::Outcome;
use super::peers::Peers;
use super::raft::log_store::LogStore;
use super::raft::network::{NetworkFactory, RaftPeers};
use super::raft::state_machine::StateMachine;
use super::raft::types::Raft;
use super::raft::{raft_config, RaftError};
use super::state::ControllerState;
use super::writer::{self, Decide, Job};
use super::{leadership, liveness, server};
use crate::metrics::Metrics;

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

/// How long a new leader treats brokers it has not heard from as possibly
/// alive: a broker heartbeats every second (Java's
/// `brokerHeartbeatInterval`), and after controllers restart it needs one
/// interval to reconnect and one to send.
pub const HEARTBEAT_WARM_UP: Duration = Duration::from_secs(2);

/// What every part of a running controller shares.
pub struct Controller {
    pub config: RwLock<ControllerConfig>,
    pub peers: Peers,
    pub raft_peers: RaftPeers,
    pub raft: Raft,
    /// The applied state; written only by the state machine.
    pub state: Arc<RwLock<ControllerState>>,
    pub heartbeats: Mutex<HeartbeatTable>,
    /// Set once this node leads and has committed its first entry (§3.4).
    ready: AtomicBool,
    /// When `ready` was last set.
    ready_since: Mutex<Option<Instant>>,
    /// A raft leader without a quorum's acknowledgement for longer than
    /// the election timeout: not ready, and not named leader by 1005.
    isolated: AtomicBool,
    pub(super) writer: mpsc::Sender<Job>,
    /// Closers of open connections, to drop a broker whose heartbeat expired.
    conns: Mutex<HashMap<ConnId, Arc<Notify>>>,
    next_conn: AtomicU64,
    clock: Instant,
    /// Where raft role, term, leader changes and elections are recorded
    /// (the HTTP listener's registry; a no-op registry without one).
    pub metrics: Arc<Metrics>,
}

impl Controller {
    pub fn is_ready_leader(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub(super) fn set_ready(&self, ready: bool) {
        let mut since = self.ready_since.lock();
        if !ready {
            *since = None;
        } else if since.is_none() {
            *since = Some(Instant::now());
        }
        self.ready.store(ready, Ordering::Release);
    }

    pub fn is_isolated(&self) -> bool {
        self.isolated.load(Ordering::Acquire)
    }

    pub(super) fn set_isolated(&self, isolated: bool) {
        self.isolated.store(isolated, Ordering::Release);
    }

    /// How long this node has been the ready leader without a break.
    pub fn ready_leader_for(&self) -> Option<std::time::Duration> {
        let since = *self.ready_since.lock();
        since
            .filter(|_| self.is_ready_leader())
            .map(|t| t.elapsed())
    }

    /// Milliseconds on a monotonic clock: heartbeat ages only, never stored.
    pub fn now_ms(&self) -> i64 {
        i64::try_from(self.clock.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// The heartbeat table as decisions see it now: while this node has
    /// led for less than [`HEARTBEAT_WARM_UP`], brokers it never heard
    /// from are possibly alive.
    pub(super) fn live_view<'a>(&self, table: &'a HeartbeatTable) -> LiveView<'a> {
        let warming_up = self
            .ready_leader_for()
            .is_none_or(|led| led < HEARTBEAT_WARM_UP);
        table.view(self.now_ms()).warming_up(warming_up)
    }

    /// Runs a decision on the applied state and the heartbeat table as they
    /// are now; returns it with whether reads must be confirmed first.
    pub(super) fn decide(&self, decide: Decide) -> (Outcome, bool) {
        let config = self.config.read().clone();
        let state = self.state.read();
        let table = self.heartbeats.lock();
        let outcome = decide(&state, &self.live_view(&table), &config);
        (outcome, config.process_read_event)
    }

    pub(super) fn role_change_targets(&self, change: &RoleChange) -> Vec<String> {
        change.targets(&self.live_view(&self.heartbeats.lock()))
    }

    pub(super) fn open_conn(&self) -> (ConnId, Arc<Notify>) {
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let closer = Arc::new(Notify::new());
        self.conns.lock().insert(id, closer.clone());
        (id, closer)
    }

    /// A connection closed: its brokers are gone at once (Java's channel
    /// close event), which on the leader may start an election. Returns
    /// how many brokers it removed.
    pub(super) fn close_conn(self: &Arc<Self>, id: ConnId) -> usize {
        self.conns.lock().remove(&id);
        let gone = self.heartbeats.lock().remove_conn(id);
        let removed = gone.len();
        for broker in gone {
            tracing::info!(?broker, "broker connection closed");
            liveness::on_inactive(self, broker);
        }
        removed
    }

    /// Asks the connection `id` to close (a broker whose heartbeat expired).
    pub(super) fn kick_conn(&self, id: ConnId) {
        if let Some(closer) = self.conns.lock().get(&id) {
            closer.notify_one();
        }
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
/// node's port in `controllerDLegerPeers`; it stops on `shutdown`.
pub async fn start(
    config: ControllerConfig,
    bind_host: &str,
    shutdown: &broadcast::Sender<()>,
    metrics: Arc<Metrics>,
) -> Result<Running, StartError> {
    let peers = config.peers()?;
    let raft_peers = RaftPeers::resolve(&peers)
        .await
        .map_err(StartError::Peers)?;
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
        NetworkFactory::new(me.node_id),
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

    let (writer_tx, writer_rx) = mpsc::channel(writer::QUEUE_CAPACITY);
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
        conns: Mutex::new(HashMap::new()),
        next_conn: AtomicU64::new(1),
        clock: Instant::now(),
        metrics,
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
        tokio::spawn(server::run(
            listener,
            controller.clone(),
            shutdown.subscribe(),
        )),
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
