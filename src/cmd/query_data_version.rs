//! QUERY_DATA_VERSION (322): the broker asks whether its topic table changed
//! since its last registration, to skip re-sending it.

use std::sync::Arc;

use super::{CmdError, Header};
use crate::json_read;
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::route::register_body::data_version_from_json;
use crate::route::DataVersion;
use crate::shared::Shared;

/// Java reads only the cluster and address, and a missing one (or a missing
/// body) just finds no match: the answer is then `changed=true`.
pub struct QueryDataVersion {
    cluster_name: Option<String>,
    broker_addr: Option<String>,
    version: Option<DataVersion>,
}

impl QueryDataVersion {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        let version = if req.body.is_empty() {
            None
        } else {
            let value = json_read::parse(&req.body)
                .map_err(|e| CmdError::Body(format!("DataVersion body: {e}")))?;
            Some(data_version_from_json(&value).map_err(|e| CmdError::Body(e.to_string()))?)
        };
        Ok(QueryDataVersion {
            cluster_name: h.optional("clusterName").map(str::to_string),
            broker_addr: h.optional("brokerAddr").map(str::to_string),
            version,
        })
    }

    pub fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let (changed, ours) = match (&self.cluster_name, &self.broker_addr) {
            (Some(cluster), Some(addr)) => shared.routes.query_data_version(
                cluster,
                addr,
                self.version.as_ref(),
                Shared::now_ms(),
            ),
            _ => (true, None),
        };
        let mut response = req
            .response(ResponseCode::SUCCESS, None)
            .with_ext("changed", changed);
        if let Some(ours) = ours {
            response = response.with_body(ours.to_json());
        }
        Ok(response)
    }
}
