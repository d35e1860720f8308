//! PUT_KV_CONFIG (100), GET_KV_CONFIG (101), DELETE_KV_CONFIG (102) and
//! GET_KVLIST_BY_NAMESPACE (219): the namespaced KV store.

use std::sync::Arc;

use super::{CmdError, Header};
use crate::kvconfig::kv_table_json;
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::shared::Shared;

pub struct PutKvConfig {
    namespace: String,
    key: String,
    value: String,
}

impl PutKvConfig {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        Ok(PutKvConfig {
            namespace: h.required_string("namespace")?,
            key: h.required_string("key")?,
            value: h.required_string("value")?,
        })
    }

    /// Answers only once the change is on disk.
    pub async fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let kv = shared.clone();
        super::blocking(move || kv.kv.put(&self.namespace, &self.key, &self.value)).await?;
        Ok(req.response(ResponseCode::SUCCESS, None))
    }
}

pub struct GetKvConfig {
    namespace: String,
    key: String,
}

impl GetKvConfig {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        Ok(GetKvConfig {
            namespace: h.required_string("namespace")?,
            key: h.required_string("key")?,
        })
    }

    pub fn apply(self, shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
        match shared.kv.get(&self.namespace, &self.key) {
            Some(value) => req
                .response(ResponseCode::SUCCESS, None)
                .with_ext("value", value),
            None => req.response(
                ResponseCode::QUERY_NOT_FOUND,
                Some(format!(
                    "No config item, Namespace: {} Key: {}",
                    self.namespace, self.key
                )),
            ),
        }
    }
}

pub struct DeleteKvConfig {
    namespace: String,
    key: String,
}

impl DeleteKvConfig {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        Ok(DeleteKvConfig {
            namespace: h.required_string("namespace")?,
            key: h.required_string("key")?,
        })
    }

    pub async fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let kv = shared.clone();
        super::blocking(move || kv.kv.delete(&self.namespace, &self.key)).await?;
        Ok(req.response(ResponseCode::SUCCESS, None))
    }
}

pub struct GetKvList {
    namespace: String,
}

impl GetKvList {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        Ok(GetKvList {
            namespace: Header(&req.ext_fields).required_string("namespace")?,
        })
    }

    pub fn apply(self, shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
        match shared.kv.list(&self.namespace) {
            Some(entries) => req
                .response(ResponseCode::SUCCESS, None)
                .with_body(kv_table_json(&entries)),
            None => req.response(
                ResponseCode::QUERY_NOT_FOUND,
                Some(format!("No config item, Namespace: {}", self.namespace)),
            ),
        }
    }
}
