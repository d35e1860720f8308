//! The controller port as the listener sees it: brokers, admin tools and
//! peer controllers on one port. Heartbeats are recorded and raft RPCs
//! answered in the order they are read; everything else is answered
//! concurrently (a broker's 904s share its connection with requests that
//! wait for commits). A closed connection drops the brokers whose
//! heartbeats it carried, and reports them inactive.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::dispatch::dispatch;
use super::handle::Controller;
use super::liveness;
use super::raft::network;
use crate::net::registry::ConnRegistry;
use crate::net::server::{Conn, Limits, Service};
use crate::remoting::codec::DEFAULT_MAX_FRAME;
use crate::remoting::{RemotingCommand, RequestCode};

const LIMITS: Limits = Limits {
    max_connections: 4096,
    // Java closes a channel idle for 120 s (and reports its brokers inactive).
    idle: Duration::from_secs(120),
    max_frame: DEFAULT_MAX_FRAME,
    drain_wait: Duration::from_secs(3),
    max_in_flight: 256,
};

/// The controller's request table behind the listener.
pub struct ControllerPort {
    ctl: Arc<Controller>,
}

impl ControllerPort {
    pub fn new(ctl: Arc<Controller>) -> Self {
        ControllerPort { ctl }
    }
}

impl Service for ControllerPort {
    fn limits(&self) -> Limits {
        LIMITS
    }

    fn connections(&self) -> &ConnRegistry {
        &self.ctl.conns
    }

    /// A heartbeat is recorded the moment it is read, never behind a slow
    /// request of the same broker (Java gives them their own pool), and
    /// raft RPCs keep their order; anything else may wait for the writer.
    fn concurrent(&self, req: &RemotingCommand) -> bool {
        req.code != RequestCode::BROKER_HEARTBEAT.value() && !network::is_raft_code(req.code)
    }

    fn call(
        &self,
        conn: Conn,
        req: RemotingCommand,
    ) -> impl Future<Output = Option<RemotingCommand>> + Send {
        dispatch(&self.ctl, conn.id, conn.peer.map(|p| p.ip()), req)
    }

    fn closed(&self, conn: Conn) {
        let gone = self.ctl.close_conn(conn.id);
        tracing::debug!(id = conn.id, peer = ?conn.peer, brokers = gone.len(), "controller connection closed");
        for broker in gone {
            tracing::info!(?broker, "broker connection closed");
            liveness::on_inactive(&self.ctl, broker);
        }
    }
}
