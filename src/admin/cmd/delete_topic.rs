//! `deleteTopic`: delete a topic from the masters of a cluster, then from
//! every NameServer of `-n`.

use clap::Args;
use serde_json::json;

use crate::admin::body::ClusterInfo;
use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::java_order::string_set_order;
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct DeleteTopic {
    /// topic name
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// delete topic from which cluster
    #[arg(short = 'c', long = "clusterName")]
    cluster_name: String,
}

impl DeleteTopic {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let (topic, cluster) = (self.topic.trim(), self.cluster_name.trim());
        let request = RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO.value(), 0);
        let (ns, resp) = ctx.namesrv_call_ok(request).await?;
        let info = ClusterInfo::decode(&ns, &resp.body)?;
        let mut printed = Printed::default();
        let masters: Vec<String> = match info.broker_names_of(cluster) {
            Some(names) => string_set_order(
                names
                    .iter()
                    .filter_map(|n| info.broker(n)?.master_addr().map(str::to_string)),
            ),
            None => {
                // mqadmin prints this without a newline and carries on.
                printed.text.push_str("[error] Make sure the specified clusterName exists or the name server connected to is correct.");
                Vec::new()
            }
        };
        let in_broker = RemotingCommand::request(RequestCode::DELETE_TOPIC_IN_BROKER.value(), 0)
            .with_ext("topic", topic);
        for master in &masters {
            ctx.call_ok(master, in_broker.clone()).await?;
        }
        printed.text.push_str(&format!(
            "delete topic [{topic}] from cluster [{cluster}] success.\n"
        ));
        let in_namesrv = RemotingCommand::request(RequestCode::DELETE_TOPIC_IN_NAMESRV.value(), 0)
            .with_ext("topic", topic)
            .with_ext("clusterName", cluster);
        let namesrvs = ctx.namesrvs()?.to_vec();
        for addr in &namesrvs {
            ctx.call_ok(addr, in_namesrv.clone()).await?;
        }
        printed.text.push_str(&format!(
            "delete topic [{topic}] from NameServer success.\n"
        ));
        printed.json =
            json!({"topic": topic, "cluster": cluster, "brokers": masters, "namesrvs": namesrvs});
        Ok(printed)
    }
}
