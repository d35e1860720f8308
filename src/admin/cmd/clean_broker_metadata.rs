//! `cleanBrokerMetadata`: make the controller forget brokers of a group.

use clap::Args;
use serde_json::json;

use crate::admin::cmd::controller_metadata::controller_leader;
use crate::admin::cmd::elect_master::now_ms;
use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct CleanBrokerMetadata {
    /// The address of controller
    #[arg(short = 'a', long = "controllerAddress")]
    controller_address: String,
    /// The brokerController id list which requires to clean metadata. eg: 1;2;3
    #[arg(short = 'b', long = "brokerControllerIdsToClean")]
    ids: Option<String>,
    /// The broker name of the replicas that require to be manipulated (`-bn`)
    #[arg(long = "brokerName")]
    broker_name: String,
    /// The clusterName of broker
    #[arg(short = 'c', long = "clusterName")]
    cluster_name: Option<String>,
    /// Whether clean up living brokers,default value is false
    #[arg(short = 'l', long = "cleanLivingBroker")]
    clean_living: bool,
}

impl CleanBrokerMetadata {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let cluster = self
            .cluster_name
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if !self.clean_living && cluster.is_none() {
            return Err(AdminError::Invalid(
                "cleanLivingBroker option is false, clusterName option can not be empty.".into(),
            ));
        }
        let ids = self.ids.as_deref().map(str::trim).filter(|i| !i.is_empty());
        if let Some(ids) = ids {
            if let Some(bad) = ids.split(';').find(|id| id.trim().parse::<i64>().is_err()) {
                return Err(AdminError::Invalid(format!(
                    "-b takes broker ids separated by ';', not {bad:?}"
                )));
            }
        }
        let broker = self.broker_name.trim();
        let leader = controller_leader(ctx, self.controller_address.trim()).await?;
        let mut request = RemotingCommand::request(RequestCode::CLEAN_BROKER_DATA.value(), 0)
            .with_ext("brokerName", broker)
            .with_ext("isCleanLivingBroker", self.clean_living)
            .with_ext("invokeTime", now_ms());
        if let Some(c) = cluster {
            request = request.with_ext("clusterName", c);
        }
        if let Some(ids) = ids {
            request = request.with_ext("brokerControllerIdsToClean", ids);
        }
        ctx.call_ok(&leader, request).await?;
        Ok(Printed::new(
            format!("clear broker {broker} metadata from controller success! \n"),
            json!({"brokerName": broker, "clusterName": cluster, "brokerControllerIdsToClean": ids, "cleanLivingBroker": self.clean_living}),
        ))
    }
}
