//! `getNamesrvConfig` and `updateNamesrvConfig`, sent to each NameServer of
//! `-n` in the order given. The properties printer is shared with the
//! controller's config commands.

use clap::Args;
use serde_json::{json, Map, Value};

use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::java_order::{hash_map_order, properties_order, string_hash};
use crate::admin::Printed;
use crate::config::properties;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct GetNamesrvConfig {}

#[derive(Debug, Args)]
pub struct UpdateNamesrvConfig {
    /// config key
    #[arg(short = 'k', long = "key")]
    key: String,
    /// config value
    #[arg(short = 'v', long = "value")]
    value: String,
}

/// Fetches a properties body from each server (`code` 319 or 1010) and prints
/// them as mqadmin does: per server (in HashMap order of the addresses) a
/// banner, then `key=  value` lines in Properties order.
pub async fn get_properties(
    ctx: &mut Context,
    servers: &[String],
    code: RequestCode,
) -> Result<Printed, AdminError> {
    let mut fetched: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for addr in servers {
        let resp = ctx
            .call_ok(addr, RemotingCommand::request(code.value(), 0))
            .await?;
        // Java loads the body as ISO-8859-1.
        let text: String = resp.body.iter().map(|b| *b as char).collect();
        let pairs = properties::parse(&text).map_err(|e| AdminError::BadBody {
            addr: addr.clone(),
            what: "configuration",
            detail: e.to_string(),
        })?;
        match fetched.iter_mut().find(|(a, _)| a == addr) {
            Some(slot) => slot.1 = pairs,
            None => fetched.push((addr.clone(), pairs)),
        }
    }
    let mut printed = Printed::default();
    let mut json = Map::new();
    for (addr, pairs) in hash_map_order(fetched, |(a, _)| string_hash(a)) {
        printed
            .text
            .push_str(&format!("============{addr}============\n"));
        let ordered = properties_order(pairs);
        for (k, v) in &ordered {
            printed.text.push_str(&format!("{k:<50}=  {v}\n"));
        }
        json.insert(
            addr,
            Value::Object(ordered.into_iter().map(|(k, v)| (k, json!(v))).collect()),
        );
    }
    printed.json = Value::Object(json);
    Ok(printed)
}

/// Sends `key=value` to each server (`code` 318 or 1009). A server that
/// cannot be reached stops the loop; refusals are reported after the rest
/// were tried.
pub async fn update_properties(
    ctx: &mut Context,
    servers: &[String],
    code: RequestCode,
    key: &str,
    value: &str,
) -> Result<(), AdminError> {
    let request = RemotingCommand::request(code.value(), 0)
        .with_body(format!("{key}={value}\n").into_bytes());
    let mut refused = None;
    for addr in servers {
        match ctx.call_ok(addr, request.clone()).await {
            Ok(_) => {}
            Err(e @ AdminError::Refused { .. }) => refused = Some(e),
            Err(e) => return Err(e),
        }
    }
    refused.map_or(Ok(()), Err)
}

impl GetNamesrvConfig {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let servers = ctx.namesrvs()?.to_vec();
        get_properties(ctx, &servers, RequestCode::GET_NAMESRV_CONFIG).await
    }
}

impl UpdateNamesrvConfig {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let servers = ctx.namesrvs()?.to_vec();
        let (key, value) = (self.key.trim(), self.value.trim());
        update_properties(
            ctx,
            &servers,
            RequestCode::UPDATE_NAMESRV_CONFIG,
            key,
            value,
        )
        .await?;
        Ok(Printed::new(
            format!(
                "update name server config success!{}\n{key} : {value}\n",
                java_list(&servers)
            ),
            json!({"servers": servers, "key": key, "value": value}),
        ))
    }
}

/// `List.toString()`: `[a, b]`.
pub fn java_list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}
