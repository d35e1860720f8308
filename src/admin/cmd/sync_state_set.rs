//! `getSyncStateSet`: each broker group's master and in-sync replicas, from
//! the controller leader.

use clap::Args;
use serde_json::json;

use crate::admin::body::{replicas_info, ClusterInfo, ReplicaIdentity};
use crate::admin::cmd::controller_metadata::controller_leader;
use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::java_order::{hash_map_order, string_hash, string_set_order};
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct GetSyncStateSet {
    /// the address of controller
    #[arg(short = 'a', long = "controllerAddress")]
    controller_address: String,
    /// which cluster
    #[arg(short = 'c', long = "clusterName")]
    cluster_name: Option<String>,
    /// which broker to fetch
    #[arg(short = 'b', long = "brokerName")]
    broker_name: Option<String>,
    /// the interval(second) of get info
    #[arg(short = 'i', long = "interval")]
    pub interval: Option<u64>,
}

fn identity(r: &ReplicaIdentity) -> String {
    format!(
        "ReplicaIdentity{{brokerName='{}', brokerId={}, brokerAddress='{}', alive={}}}",
        r.broker_name.as_deref().unwrap_or("null"),
        r.broker_id.map_or("null".into(), |v| v.to_string()),
        r.broker_address.as_deref().unwrap_or("null"),
        r.alive.map_or("null".into(), |v| v.to_string()),
    )
}

fn opt(v: Option<i64>) -> String {
    v.map_or("null".into(), |v| v.to_string())
}

impl GetSyncStateSet {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let brokers: Vec<String> = match (
            self.broker_name
                .as_deref()
                .map(str::trim)
                .filter(|b| !b.is_empty()),
            self.cluster_name
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty()),
        ) {
            (Some(b), _) => vec![b.to_string()],
            (None, Some(c)) => {
                let request =
                    RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO.value(), 0);
                let (ns, resp) = ctx.namesrv_call_ok(request).await?;
                let info = ClusterInfo::decode(&ns, &resp.body)?;
                match info.broker_names_of(c) {
                    Some(names) if !names.is_empty() => string_set_order(names.iter().cloned()),
                    _ => {
                        return Err(AdminError::Invalid(format!(
                            "{ns} knows no cluster {c}: make sure the specified clusterName exists or the name server connected to is correct"
                        )))
                    }
                }
            }
            (None, None) => {
                return Err(AdminError::Invalid(
                    "give -b brokerName or -c clusterName".into(),
                ))
            }
        };
        let leader = controller_leader(ctx, self.controller_address.trim()).await?;
        let request =
            RemotingCommand::request(RequestCode::CONTROLLER_GET_SYNC_STATE_DATA.value(), 0)
                .with_body(serde_json::to_vec(&brokers).unwrap_or_default());
        let resp = ctx.call_ok(&leader, request).await?;
        let table = replicas_info(&leader, &resp.body)?;
        let table = hash_map_order(table, |(name, _)| string_hash(name));
        let mut printed = Printed::default();
        let mut groups = Vec::new();
        for (name, info) in &table {
            let in_sync = info.in_sync.as_deref().unwrap_or_default();
            let not_in_sync = info.not_in_sync.as_deref().unwrap_or_default();
            printed.text.push_str(&format!(
                "\n#brokerName\t{name}\n#MasterBrokerId\t{}\n#MasterAddr\t{}\n#MasterEpoch\t{}\n#SyncStateSetEpoch\t{}\n#SyncStateSetNums\t{}\n",
                opt(info.master_broker_id),
                info.master_address.as_deref().unwrap_or("null"),
                opt(info.master_epoch),
                opt(info.sync_state_set_epoch),
                in_sync.len()
            ));
            for r in in_sync {
                printed
                    .text
                    .push_str(&format!("\nInSyncReplica:\t{}\n", identity(r)));
            }
            for r in not_in_sync {
                printed
                    .text
                    .push_str(&format!("\nNotInSyncReplica:\t{}\n", identity(r)));
            }
            let replica = |r: &ReplicaIdentity| json!({"brokerName": r.broker_name, "brokerId": r.broker_id, "brokerAddress": r.broker_address, "alive": r.alive});
            groups.push(json!({
                "brokerName": name,
                "masterBrokerId": info.master_broker_id,
                "masterAddress": info.master_address,
                "masterEpoch": info.master_epoch,
                "syncStateSetEpoch": info.sync_state_set_epoch,
                "inSyncReplicas": in_sync.iter().map(replica).collect::<Vec<_>>(),
                "notInSyncReplicas": not_in_sync.iter().map(replica).collect::<Vec<_>>(),
            }));
        }
        printed.json = json!({"controllerLeader": leader, "brokers": groups});
        Ok(printed)
    }
}
