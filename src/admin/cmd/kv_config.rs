//! `updateKvConfig`, `deleteKvConfig` (sent to every NameServer of `-n`) and
//! `getKvConfig` (ours: mqadmin has no command that reads the KV store).

use clap::Args;
use serde_json::json;

use crate::admin::body::kv_table;
use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::java_order::{hash_map_order, string_hash};
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct UpdateKvConfig {
    /// set the namespace
    #[arg(short = 's', long = "namespace")]
    namespace: String,
    /// set the key name
    #[arg(short = 'k', long = "key")]
    key: String,
    /// set the key value
    #[arg(short = 'v', long = "value")]
    value: String,
}

#[derive(Debug, Args)]
pub struct DeleteKvConfig {
    /// set the namespace
    #[arg(short = 's', long = "namespace")]
    namespace: String,
    /// set the key name
    #[arg(short = 'k', long = "key")]
    key: String,
}

#[derive(Debug, Args)]
pub struct GetKvConfig {
    /// the namespace to list
    #[arg(short = 's', long = "namespace")]
    namespace: String,
    /// only this key
    #[arg(short = 'k', long = "key")]
    key: Option<String>,
}

/// Sends `request` to every NameServer in turn. As mqadmin: a server that
/// cannot be reached stops the loop; a refusal is reported after the rest
/// were tried.
async fn to_every_namesrv(
    ctx: &mut Context,
    request: RemotingCommand,
) -> Result<Vec<String>, AdminError> {
    let addrs = ctx.namesrvs()?.to_vec();
    let mut refused = None;
    for addr in &addrs {
        if let Err(e) = ctx.call_ok(addr, request.clone()).await {
            match e {
                AdminError::Refused { .. } => refused = Some(e),
                other => return Err(other),
            }
        }
    }
    match refused {
        Some(e) => Err(e),
        None => Ok(addrs),
    }
}

impl UpdateKvConfig {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let request = RemotingCommand::request(RequestCode::PUT_KV_CONFIG.value(), 0)
            .with_ext("namespace", self.namespace.trim())
            .with_ext("key", self.key.trim())
            .with_ext("value", self.value.trim());
        let servers = to_every_namesrv(ctx, request).await?;
        Ok(Printed::new(
            "create or update kv config to namespace success.\n",
            json!({"namesrvs": servers, "namespace": self.namespace.trim(), "key": self.key.trim(), "value": self.value.trim()}),
        ))
    }
}

impl DeleteKvConfig {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let request = RemotingCommand::request(RequestCode::DELETE_KV_CONFIG.value(), 0)
            .with_ext("namespace", self.namespace.trim())
            .with_ext("key", self.key.trim());
        let servers = to_every_namesrv(ctx, request).await?;
        Ok(Printed::new(
            "delete kv config from namespace success.\n",
            json!({"namesrvs": servers, "namespace": self.namespace.trim(), "key": self.key.trim()}),
        ))
    }
}

impl GetKvConfig {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let namespace = self.namespace.trim();
        let entries = match self.key.as_deref().map(str::trim) {
            Some(key) => {
                let request = RemotingCommand::request(RequestCode::GET_KV_CONFIG.value(), 0)
                    .with_ext("namespace", namespace)
                    .with_ext("key", key);
                let (_, resp) = ctx.namesrv_call_ok(request).await?;
                let value = resp.ext_fields.get("value").cloned().unwrap_or_default();
                vec![(key.to_string(), value)]
            }
            None => {
                let request =
                    RemotingCommand::request(RequestCode::GET_KVLIST_BY_NAMESPACE.value(), 0)
                        .with_ext("namespace", namespace);
                let (ns, resp) = ctx.namesrv_call_ok(request).await?;
                hash_map_order(kv_table(&ns, &resp.body)?, |(k, _)| string_hash(k))
            }
        };
        let mut printed = Printed::default();
        for (k, v) in &entries {
            printed.text.push_str(&format!("{k:<50}=  {v}\n"));
        }
        let table: serde_json::Map<String, serde_json::Value> =
            entries.into_iter().map(|(k, v)| (k, json!(v))).collect();
        printed.json = json!({"namespace": namespace, "table": table});
        Ok(printed)
    }
}
