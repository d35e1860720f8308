//! `topicClusterList`: the clusters holding a topic's first broker.

use clap::Args;
use serde_json::json;

use crate::admin::body::ClusterInfo;
use crate::admin::cmd::topic_route::fetch_route;
use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::java_order::string_set_order;
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct TopicClusterList {
    /// topic name
    #[arg(short = 't', long = "topic")]
    topic: String,
}

impl TopicClusterList {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let topic = self.topic.trim();
        let request = RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO.value(), 0);
        let (ns, resp) = ctx.namesrv_call_ok(request).await?;
        let info = ClusterInfo::decode(&ns, &resp.body)?;
        let (ns, route, _) = fetch_route(ctx, topic).await?;
        let first = route.broker_datas.first().ok_or_else(|| {
            AdminError::Invalid(format!("{ns} routes topic {topic} to no broker"))
        })?;
        let name = first.broker_name.clone().unwrap_or_default();
        let clusters = string_set_order(
            info.cluster_addr_table
                .iter()
                .filter(|(_, names)| names.contains(&name))
                .map(|(c, _)| c.clone()),
        );
        let mut printed = Printed::default();
        for c in &clusters {
            printed.text.push_str(c);
            printed.text.push('\n');
        }
        printed.json = json!({ "topic": topic, "clusters": clusters });
        Ok(printed)
    }
}
