//! `topicList`: every topic the NameServer knows (`-c`: with its cluster and
//! the consumer groups its broker reports).

use clap::Args;
use serde_json::json;

use crate::admin::body::{parse_object, topic_list, ClusterInfo};
use crate::admin::cmd::topic_route::fetch_route;
use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::java_order::{hash_map_order, long_hash, string_set_order};
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct TopicList {
    /// clusterModel
    #[arg(short = 'c', long = "clusterModel")]
    cluster_model: bool,
}

/// All topics of one NameServer, in the order mqadmin's HashSet lists them.
pub async fn fetch_topics(ctx: &mut Context) -> Result<Vec<String>, AdminError> {
    let request =
        RemotingCommand::request(RequestCode::GET_ALL_TOPIC_LIST_FROM_NAMESERVER.value(), 0);
    let (ns, resp) = ctx.namesrv_call_ok(request).await?;
    Ok(string_set_order(topic_list(&ns, &resp.body)?))
}

/// mqadmin's `frontStringAtLeast`: at most `n` characters.
fn front(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

impl TopicList {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        if !self.cluster_model {
            let topics = fetch_topics(ctx).await?;
            let mut printed = Printed::default();
            for t in &topics {
                printed.text.push_str(t);
                printed.text.push('\n');
            }
            printed.json = json!({ "topics": topics });
            return Ok(printed);
        }
        let request = RemotingCommand::request(RequestCode::GET_BROKER_CLUSTER_INFO.value(), 0);
        let (ns, resp) = ctx.namesrv_call_ok(request).await?;
        let info = ClusterInfo::decode(&ns, &resp.body)?;
        let mut printed = Printed::default();
        printed.text.push_str(&format!(
            "{:<20}  {:<48}  {:<48}\n",
            "#Cluster Name", "#Topic", "#Consumer Group"
        ));
        let clusters = string_set_order(info.cluster_addr_table.iter().map(|(c, _)| c.clone()));
        let mut rows = Vec::new();
        for topic in fetch_topics(ctx).await? {
            if topic.starts_with("%RETRY%") || topic.starts_with("%DLQ%") {
                continue;
            }
            let (cluster, groups) = match fetch_route(ctx, &topic).await {
                Ok((_, route, _)) => {
                    let first = route.broker_datas.first();
                    let name = first.and_then(|b| b.broker_name.clone());
                    let cluster = clusters
                        .iter()
                        .find(|c| {
                            info.broker_names_of(c)
                                .is_some_and(|n| name.as_ref().is_some_and(|name| n.contains(name)))
                        })
                        .cloned()
                        .unwrap_or_else(|| "null".into());
                    // The groups come from the first broker's master (else any replica).
                    let addr = first.and_then(|b| {
                        b.master_addr().map(str::to_string).or_else(|| {
                            hash_map_order(b.broker_addrs.clone(), |(id, _)| long_hash(*id))
                                .into_iter()
                                .next()
                                .map(|(_, a)| a)
                        })
                    });
                    let groups = match addr {
                        Some(addr) => consumer_groups(ctx, &addr, &topic)
                            .await
                            .unwrap_or_default(),
                        None => Vec::new(),
                    };
                    (cluster, groups)
                }
                Err(_) => (String::new(), Vec::new()),
            };
            let groups = if groups.is_empty() {
                vec![String::new()]
            } else {
                groups
            };
            for group in groups {
                printed.text.push_str(&format!(
                    "{:<20}  {:<64}  {:<64}\n",
                    front(&cluster, 20),
                    front(&topic, 64),
                    front(&group, 64)
                ));
                rows.push(json!({"cluster": cluster, "topic": topic, "consumerGroup": group}));
            }
        }
        printed.json = json!({ "topics": rows });
        Ok(printed)
    }
}

async fn consumer_groups(
    ctx: &mut Context,
    broker: &str,
    topic: &str,
) -> Result<Vec<String>, AdminError> {
    let request = RemotingCommand::request(RequestCode::QUERY_TOPIC_CONSUME_BY_WHO.value(), 0)
        .with_ext("topic", topic);
    let resp = ctx.call_ok(broker, request).await?;
    let v = parse_object(broker, "group list", &resp.body)?;
    let groups = v
        .get("groupList")
        .and_then(|g| g.as_array())
        .map(|g| {
            g.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    Ok(string_set_order(groups))
}
