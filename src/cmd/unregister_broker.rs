//! UNREGISTER_BROKER (104): a broker shutting down cleanly.

use std::sync::Arc;

use super::{CmdError, Header};
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::route::UnregisterRequest;
use crate::state::shared::Shared;

/// `None` when a field is missing or unparsable: Java queues such a request
/// all the same, answers SUCCESS, and its removal then finds nothing.
pub struct UnregisterBroker(Option<UnregisterRequest>);

impl UnregisterBroker {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        let field = |name| h.optional(name).map(str::to_string);
        let request = match (
            field("brokerName"),
            field("brokerAddr"),
            field("clusterName"),
            h.lenient_i64("brokerId"),
        ) {
            (Some(broker_name), Some(broker_addr), Some(cluster_name), Some(broker_id)) => {
                Some(UnregisterRequest {
                    broker_name,
                    broker_addr,
                    cluster_name,
                    broker_id,
                })
            }
            _ => None,
        };
        Ok(UnregisterBroker(request))
    }

    /// Java queues the request and answers at once; we apply it before
    /// answering, so a client that sees SUCCESS also sees the route gone.
    pub fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let Some(request) = self.0 else {
            tracing::debug!("unregister request without its broker fields; nothing removed");
            return Ok(req.response(ResponseCode::SUCCESS, None));
        };
        let was_live = shared
            .routes
            .is_registered(&request.cluster_name, &request.broker_addr);
        let notices = shared
            .routes
            .unregister_brokers(&[request], shared.route_options());
        shared.metrics.removed("unregister", usize::from(was_live));
        shared.notify(notices);
        Ok(req.response(ResponseCode::SUCCESS, None))
    }
}
