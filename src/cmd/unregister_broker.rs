//! UNREGISTER_BROKER (104): a broker shutting down cleanly.

use std::sync::Arc;

use super::{CmdError, Header};
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::route::UnregisterRequest;
use crate::shared::Shared;

pub struct UnregisterBroker(UnregisterRequest);

impl UnregisterBroker {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        Ok(UnregisterBroker(UnregisterRequest {
            broker_name: h.required_string("brokerName")?,
            broker_addr: h.required_string("brokerAddr")?,
            cluster_name: h.required_string("clusterName")?,
            broker_id: h.required_i64("brokerId")?,
        }))
    }

    /// Java queues the request and answers at once; we apply it before
    /// answering, so a client that sees SUCCESS also sees the route gone.
    pub fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let notices = shared
            .routes
            .unregister_brokers(&[self.0], shared.route_options());
        shared.notify(notices);
        Ok(req.response(ResponseCode::SUCCESS, None))
    }
}
