//! BROKER_HEARTBEAT (904): a lightweight liveness refresh (5.x brokers).

use std::sync::Arc;

use super::{CmdError, Header};
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::shared::Shared;

pub struct BrokerHeartbeat {
    cluster_name: String,
    broker_addr: String,
}

impl BrokerHeartbeat {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        // brokerName is required by Java's header class though unused.
        h.required("brokerName")?;
        // Optional numeric fields must still parse, as Java decodes them.
        for field in [
            "brokerId",
            "epoch",
            "maxOffset",
            "confirmOffset",
            "heartbeatTimeoutMills",
            "electionPriority",
        ] {
            h.optional_i64(field)?;
        }
        Ok(BrokerHeartbeat {
            cluster_name: h.required_string("clusterName")?,
            broker_addr: h.required_string("brokerAddr")?,
        })
    }

    pub fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        if !shared
            .routes
            .heartbeat(&self.cluster_name, &self.broker_addr, Shared::now_ms())
        {
            tracing::debug!(cluster = %self.cluster_name, addr = %self.broker_addr, "heartbeat from unregistered broker");
        }
        Ok(req.response(ResponseCode::SUCCESS, None))
    }
}
