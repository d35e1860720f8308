//! BROKER_HEARTBEAT (904): a lightweight liveness refresh (5.x brokers).

use std::sync::Arc;

use super::{CmdError, Header};
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::state::shared::Shared;

/// Java reads only the cluster and address (its other fields, even
/// malformed ones, are ignored) and always answers SUCCESS; a heartbeat
/// without them refreshes nothing.
pub struct BrokerHeartbeat {
    cluster_name: Option<String>,
    broker_addr: Option<String>,
}

impl BrokerHeartbeat {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        Ok(BrokerHeartbeat {
            cluster_name: h.optional("clusterName").map(str::to_string),
            broker_addr: h.optional("brokerAddr").map(str::to_string),
        })
    }

    pub fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let known = match (&self.cluster_name, &self.broker_addr) {
            (Some(cluster), Some(addr)) => shared.routes.heartbeat(cluster, addr, Shared::now_ms()),
            _ => false,
        };
        if !known {
            tracing::debug!(cluster = ?self.cluster_name, addr = ?self.broker_addr, "heartbeat from unregistered broker");
        }
        Ok(req.response(ResponseCode::SUCCESS, None))
    }
}
