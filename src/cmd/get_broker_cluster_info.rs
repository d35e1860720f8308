//! GET_BROKER_CLUSTER_INFO (106): every broker group and cluster.

use std::sync::Arc;

use crate::json::write::Dialect;
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::state::shared::Shared;

pub fn apply(shared: &Arc<Shared>, req: &RemotingCommand) -> RemotingCommand {
    let info = shared.routes.cluster_info();
    req.response(ResponseCode::SUCCESS, None)
        .with_body(info.to_json(Dialect::Fastjson))
}
