//! QUERY_DATA_VERSION (322): the broker asks whether its topic table changed
//! since its last registration, to skip re-sending it.

use std::sync::Arc;

use super::{CmdError, Header};
use crate::json;
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::route::register_body::data_version_from_json;
use crate::route::DataVersion;
use crate::state::shared::Shared;

/// Java reads only the cluster and address. A missing body is a null version
/// (`changed=true`); a missing cluster or address fails Java's lookup (a
/// NullPointerException: SYSTEM_ERROR), so it is refused here, naming the field.
pub struct QueryDataVersion {
    cluster_name: String,
    broker_addr: String,
    version: Option<DataVersion>,
}

impl QueryDataVersion {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        let version = if req.body.is_empty() {
            None
        } else {
            let value = json::read::parse(&req.body)
                .map_err(|e| CmdError::Body(format!("DataVersion body: {e}")))?;
            Some(data_version_from_json(&value).map_err(|e| CmdError::Body(e.to_string()))?)
        };
        Ok(QueryDataVersion {
            cluster_name: h.required_string("clusterName")?,
            broker_addr: h.required_string("brokerAddr")?,
            version,
        })
    }

    pub fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let (changed, ours) = shared.routes.query_data_version(
            &self.cluster_name,
            &self.broker_addr,
            self.version.as_ref(),
            Shared::now_ms(),
        );
        let mut response = req
            .response(ResponseCode::SUCCESS, None)
            .with_ext("changed", changed);
        if let Some(ours) = ours {
            response = response.with_body(ours.to_json());
        }
        Ok(response)
    }
}
