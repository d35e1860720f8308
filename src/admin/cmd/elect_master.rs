//! `electMaster`: ask the controller leader to make a given broker its
//! group's master.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use serde_json::json;

use crate::admin::body::parse_object;
use crate::admin::cmd::controller_metadata::controller_leader;
use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct ElectMaster {
    /// The address of controller
    #[arg(short = 'a', long = "controllerAddress")]
    controller_address: String,
    /// The id of the broker which requires to become master
    #[arg(short = 'b', long = "brokerId", allow_negative_numbers = true)]
    broker_id: i64,
    /// The broker name of the replicas that require to be manipulated (`-bn`)
    #[arg(long = "brokerName")]
    broker_name: String,
    /// the clusterName of broker
    #[arg(short = 'c', long = "clusterName")]
    cluster_name: String,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl ElectMaster {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let (cluster, broker) = (self.cluster_name.trim(), self.broker_name.trim());
        let leader = controller_leader(ctx, self.controller_address.trim()).await?;
        let request = RemotingCommand::request(RequestCode::CONTROLLER_ELECT_MASTER.value(), 0)
            .with_ext("clusterName", cluster)
            .with_ext("brokerName", broker)
            .with_ext("brokerId", self.broker_id)
            .with_ext("designateElect", true)
            .with_ext("invokeTime", now_ms());
        let resp = ctx.call_ok(&leader, request).await?;
        let get = |k: &str| resp.ext_fields.get(k).cloned();
        let text = format!(
            "\n#ClusterName\t{cluster}\n#BrokerName\t{broker}\n#BrokerMasterAddr\t{}\n#MasterEpoch\t{}\n#SyncStateSetEpoch\t{}\n",
            get("masterAddress").as_deref().unwrap_or("null"),
            get("masterEpoch").as_deref().unwrap_or("null"),
            get("syncStateSetEpoch").as_deref().unwrap_or("null"),
        );
        // mqadmin reads the body as a bare BrokerMemberGroup, which the
        // controller never sends, so it prints no member lines; --json has them.
        let body = if resp.body.is_empty() {
            serde_json::Value::Null
        } else {
            parse_object(&leader, "election result", &resp.body)?
        };
        Ok(Printed::new(
            text,
            json!({
                "clusterName": cluster,
                "brokerName": broker,
                "masterBrokerId": get("masterBrokerId"),
                "masterAddress": get("masterAddress"),
                "masterEpoch": get("masterEpoch"),
                "syncStateSetEpoch": get("syncStateSetEpoch"),
                "result": body,
            }),
        ))
    }
}
