//! What every part of a running controller shares: the raft handle, the
//! applied state, the heartbeat table, the connections, and the writer's
//! queue with the decisions sent to it. The tasks that use it (listener,
//! writer, leadership watch, liveness scans) import it; it imports none of
//! them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, oneshot};

use super::config::ControllerConfig;
use super::heartbeat::{BrokerIdentity, HeartbeatTable, LiveView, Liveness};
use super::notify::RoleChange;
use super::outcome::Outcome;
use super::peers::Peers;
use super::raft::network::RaftPeers;
use super::raft::types::Raft;
use super::state::ControllerState;
use crate::metrics::Metrics;
use crate::net::registry::ConnRegistry;
use crate::remoting::{ConnId, ResponseCode};

/// Leader-only requests waiting for the writer, at most.
pub const QUEUE_CAPACITY: usize = 1024;

/// A leader decision, taken inside the writer.
pub type Decide =
    Box<dyn FnOnce(&ControllerState, &dyn Liveness, &ControllerConfig) -> Outcome + Send>;

/// A decision queued for the writer, and where its outcome goes.
pub struct Job {
    pub(super) decide: Decide,
    pub(super) reply: oneshot::Sender<Outcome>,
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
    pub(super) ready: AtomicBool,
    /// When `ready` was last set.
    pub(super) ready_since: Mutex<Option<Instant>>,
    /// A raft leader without a quorum's acknowledgement for longer than
    /// the election timeout: not ready, and not named leader by 1005.
    pub(super) isolated: AtomicBool,
    pub(super) writer: mpsc::Sender<Job>,
    /// The controller port's connections, to drop a broker whose heartbeat expired.
    pub(super) conns: ConnRegistry,
    pub(super) clock: Instant,
    /// Where raft role, term, leader changes and elections are recorded
    /// (the HTTP listener's registry; a no-op registry without one).
    pub metrics: Arc<Metrics>,
    /// NOTIFY_BROKER_ROLE_CHANGED sends still pending, so a newer epoch can
    /// cancel an older one.
    pub(super) pushes: super::push::Pushes,
    /// The NameServer's users and ACLs, when embedded in one: the port
    /// checks requests by the same rules. `None` standalone.
    pub auth: Option<Arc<crate::auth::Auth>>,
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

    /// A connection closed: the brokers whose heartbeats it carried are
    /// gone at once (Java's channel close event). Returns them, for the
    /// caller to report inactive (which on the leader may elect).
    pub(super) fn close_conn(&self, id: ConnId) -> Vec<BrokerIdentity> {
        self.heartbeats.lock().remove_conn(id)
    }

    /// Asks the connection `id` to close (a broker whose heartbeat expired).
    pub(super) fn kick_conn(&self, id: ConnId) {
        self.conns.close(id);
    }

    /// Queues `decide` for the writer and waits for its outcome. A node
    /// that is not the ready leader answers 2007 without queueing.
    pub async fn submit(&self, decide: Decide) -> Outcome {
        if !self.is_ready_leader() {
            return not_leader();
        }
        let (reply, rx) = oneshot::channel();
        if self.writer.send(Job { decide, reply }).await.is_err() {
            return stopping();
        }
        rx.await.unwrap_or_else(|_| stopping())
    }
}

pub fn not_leader() -> Outcome {
    Outcome::refused(
        ResponseCode::CONTROLLER_NOT_LEADER,
        "The controller is not in leader state",
    )
}

fn stopping() -> Outcome {
    Outcome::refused(ResponseCode::SYSTEM_ERROR, "the controller is stopping")
}
