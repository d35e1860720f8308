//! PUT_KV_CONFIG (100), GET_KV_CONFIG (101), DELETE_KV_CONFIG (102) and
//! GET_KVLIST_BY_NAMESPACE (219): the namespaced KV store.

use std::sync::Arc;

use super::{CmdError, Header};
use crate::kvconfig::kv_table_json;
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::shared::Shared;

/// The `namespace` and `key` header fields every single-entry request names.
struct KvKey {
    namespace: String,
    key: String,
}

impl KvKey {
    fn parse(h: &Header<'_>) -> Result<Self, CmdError> {
        Ok(KvKey {
            namespace: h.required_string("namespace")?,
            key: h.required_string("key")?,
        })
    }
}

pub struct PutKvConfig {
    at: KvKey,
    value: String,
}

impl PutKvConfig {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        Ok(PutKvConfig {
            at: KvKey::parse(&h)?,
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
        let PutKvConfig { at, value } = self;
        super::blocking(move || kv.kv.put(&at.namespace, &at.key, &value)).await?;
        Ok(req.response(ResponseCode::SUCCESS, None))
    }
}

pub struct GetKvConfig(KvKey);

impl GetKvConfig {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        KvKey::parse(&Header(&req.ext_fields)).map(GetKvConfig)
    }

    pub fn apply(self, shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
        let KvKey { namespace, key } = self.0;
        match shared.kv.get(&namespace, &key) {
            Some(value) => req
                .response(ResponseCode::SUCCESS, None)
                .with_ext("value", value),
            None => req.response(
                ResponseCode::QUERY_NOT_FOUND,
                Some(format!("No config item, Namespace: {namespace} Key: {key}")),
            ),
        }
    }
}

pub struct DeleteKvConfig(KvKey);

impl DeleteKvConfig {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        KvKey::parse(&Header(&req.ext_fields)).map(DeleteKvConfig)
    }

    pub async fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let kv = shared.clone();
        let KvKey { namespace, key } = self.0;
        super::blocking(move || kv.kv.delete(&namespace, &key)).await?;
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
