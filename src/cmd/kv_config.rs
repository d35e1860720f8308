//! PUT_KV_CONFIG (100), GET_KV_CONFIG (101), DELETE_KV_CONFIG (102) and
//! GET_KVLIST_BY_NAMESPACE (219): the namespaced KV store.

use std::sync::Arc;

use super::{CmdError, Header};
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::state::kv::kv_table_json;
use crate::state::shared::Shared;

/// The `namespace` and `key` of GET and DELETE. Java looks a missing one up
/// as null, which finds nothing; so do we.
struct KvKey {
    namespace: Option<String>,
    key: Option<String>,
}

impl KvKey {
    fn parse(req: &RemotingCommand) -> Self {
        let h = Header(&req.ext_fields);
        KvKey {
            namespace: h.optional("namespace").map(str::to_string),
            key: h.optional("key").map(str::to_string),
        }
    }

    fn both(&self) -> Option<(&str, &str)> {
        Some((self.namespace.as_deref()?, self.key.as_deref()?))
    }
}

/// Java's text for an absent field in a remark.
fn or_null(part: &Option<String>) -> &str {
    part.as_deref().unwrap_or("null")
}

/// PUT refuses a missing field (Java would store a null that its own file
/// format then drops).
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
        super::blocking(move || {
            let started = std::time::Instant::now();
            kv.kv.put(&self.namespace, &self.key, &self.value)?;
            kv.metrics.kv_written(started.elapsed());
            Ok::<_, crate::state::kv::KvError>(())
        })
        .await?;
        Ok(req.response(ResponseCode::SUCCESS, None))
    }
}

pub struct GetKvConfig(KvKey);

impl GetKvConfig {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        Ok(GetKvConfig(KvKey::parse(req)))
    }

    pub fn apply(self, shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
        let value = self.0.both().and_then(|(ns, key)| shared.kv.get(ns, key));
        match value {
            Some(value) => req
                .response(ResponseCode::SUCCESS, None)
                .with_ext("value", value),
            None => req.response(
                ResponseCode::QUERY_NOT_FOUND,
                Some(format!(
                    "No config item, Namespace: {} Key: {}",
                    or_null(&self.0.namespace),
                    or_null(&self.0.key)
                )),
            ),
        }
    }
}

pub struct DeleteKvConfig(KvKey);

impl DeleteKvConfig {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        Ok(DeleteKvConfig(KvKey::parse(req)))
    }

    pub async fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        if let (Some(namespace), Some(key)) = (self.0.namespace, self.0.key) {
            let kv = shared.clone();
            super::blocking(move || {
                let started = std::time::Instant::now();
                kv.kv.delete(&namespace, &key)?;
                kv.metrics.kv_written(started.elapsed());
                Ok::<_, crate::state::kv::KvError>(())
            })
            .await?;
        }
        Ok(req.response(ResponseCode::SUCCESS, None))
    }
}

pub struct GetKvList {
    namespace: Option<String>,
}

impl GetKvList {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        Ok(GetKvList {
            namespace: Header(&req.ext_fields)
                .optional("namespace")
                .map(str::to_string),
        })
    }

    pub fn apply(self, shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
        match self.namespace.as_deref().and_then(|ns| shared.kv.list(ns)) {
            Some(entries) => req
                .response(ResponseCode::SUCCESS, None)
                .with_body(kv_table_json(&entries)),
            None => req.response(
                ResponseCode::QUERY_NOT_FOUND,
                Some(format!(
                    "No config item, Namespace: {}",
                    or_null(&self.namespace)
                )),
            ),
        }
    }
}
