//! `topicRoute`: a topic's route, as fastjson pretty-prints the decoded
//! TopicRouteData (`-l`: one line per broker).

use clap::Args;

use crate::admin::body::{BrokerData, TopicRouteData};
use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::java_format::{pretty, JavaJson};
use crate::admin::java_order::{hash_map_order, long_hash, string_hash};
use crate::admin::Printed;
use crate::json;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct TopicRoute {
    /// topic name
    #[arg(short = 't', long = "topic")]
    topic: String,
    /// Use list format to print data
    #[arg(short = 'l', long = "list")]
    list: bool,
}

/// Asks one NameServer for `topic`'s route; SUCCESS without a body is an
/// error, as in mqadmin.
pub async fn fetch_route(
    ctx: &mut Context,
    topic: &str,
) -> Result<(String, TopicRouteData, Vec<u8>), AdminError> {
    let request = RemotingCommand::request(RequestCode::GET_ROUTEINFO_BY_TOPIC.value(), 0)
        .with_ext("topic", topic);
    let (ns, resp) = ctx.namesrv_call_ok(request).await?;
    let route = TopicRouteData::decode(&ns, &resp.body)?;
    Ok((ns, route, resp.body.to_vec()))
}

impl TopicRoute {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let (_, route, body) = fetch_route(ctx, self.topic.trim()).await?;
        let mut printed = Printed {
            json: json::read::parse(&body).unwrap_or_default(),
            ..Printed::default()
        };
        if self.list {
            printed.text = list_format(&route)?;
        } else {
            printed.text = pretty(&route_bean(&route));
            printed.text.push('\n');
        }
        Ok(printed)
    }
}

fn broker_bean(b: &BrokerData) -> JavaJson {
    let addrs = hash_map_order(b.broker_addrs.clone(), |(id, _)| long_hash(*id));
    let mut props = vec![
        (
            "brokerAddrs",
            JavaJson::IntMap(
                addrs
                    .into_iter()
                    .map(|(id, a)| (id, JavaJson::Str(a)))
                    .collect(),
            ),
        ),
        ("enableActingMaster", JavaJson::Bool(b.enable_acting_master)),
    ];
    if let Some(name) = &b.broker_name {
        props.push(("brokerName", JavaJson::Str(name.clone())));
    }
    if let Some(cluster) = &b.cluster {
        props.push(("cluster", JavaJson::Str(cluster.clone())));
    }
    if let Some(zone) = &b.zone_name {
        props.push(("zoneName", JavaJson::Str(zone.clone())));
    }
    JavaJson::Bean(props)
}

fn str_map<T>(entries: &[(String, T)], each: impl Fn(&T) -> JavaJson) -> JavaJson {
    let ordered = hash_map_order(entries.iter().collect(), |(k, _)| string_hash(k));
    JavaJson::StrMap(
        ordered
            .into_iter()
            .map(|(k, v)| (k.clone(), each(v)))
            .collect(),
    )
}

/// The decoded route as the Java object graph fastjson walks.
fn route_bean(route: &TopicRouteData) -> JavaJson {
    let mut props = vec![
        (
            "brokerDatas",
            JavaJson::List(route.broker_datas.iter().map(broker_bean).collect()),
        ),
        (
            "filterServerTable",
            str_map(&route.filter_server_table, |servers| {
                JavaJson::List(servers.iter().map(|s| JavaJson::Str(s.clone())).collect())
            }),
        ),
        (
            "queueDatas",
            JavaJson::List(
                route
                    .queue_datas
                    .iter()
                    .map(|q| {
                        let mut p = vec![
                            ("perm", JavaJson::Int(q.perm)),
                            ("readQueueNums", JavaJson::Int(q.read_queue_nums)),
                            ("topicSysFlag", JavaJson::Int(q.topic_sys_flag)),
                            ("writeQueueNums", JavaJson::Int(q.write_queue_nums)),
                        ];
                        if let Some(name) = &q.broker_name {
                            p.push(("brokerName", JavaJson::Str(name.clone())));
                        }
                        JavaJson::Bean(p)
                    })
                    .collect(),
            ),
        ),
    ];
    if let Some(conf) = &route.order_topic_conf {
        props.push(("orderTopicConf", JavaJson::Str(conf.clone())));
    }
    if let Some(mappings) = &route.topic_queue_mapping_by_broker {
        props.push((
            "topicQueueMappingByBroker",
            str_map(mappings, |m| {
                let mut p = vec![
                    ("dirty", JavaJson::Bool(m.dirty)),
                    ("epoch", JavaJson::Int(m.epoch)),
                    ("totalQueues", JavaJson::Int(m.total_queues)),
                ];
                let strs = [
                    ("bname", &m.bname),
                    ("scope", &m.scope),
                    ("topic", &m.topic),
                ];
                for (name, v) in strs {
                    if let Some(v) = v {
                        p.push((name, JavaJson::Str(v.clone())));
                    }
                }
                if let Some(ids) = &m.curr_id_map {
                    let ids = hash_map_order(ids.clone(), |(k, _)| long_hash(*k));
                    p.push((
                        "currIdMap",
                        JavaJson::IntMap(
                            ids.into_iter()
                                .map(|(k, v)| (k, JavaJson::Int(v)))
                                .collect(),
                        ),
                    ));
                }
                JavaJson::Bean(p)
            }),
        ));
    }
    JavaJson::Bean(props)
}

fn list_line(cells: [&str; 6]) -> String {
    format!(
        "{:<45} {:<32} {:<50} {:<10} {:<11} {:<5}\n",
        cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
    )
}

fn list_format(route: &TopicRouteData) -> Result<String, AdminError> {
    let mut out = list_line([
        "#ClusterName",
        "#BrokerName",
        "#BrokerAddrs",
        "#ReadQueue",
        "#WriteQueue",
        "#Perm",
    ]);
    let queue_of = |name: &Option<String>| {
        route
            .queue_datas
            .iter()
            .rev()
            .find(|q| q.broker_name == *name)
    };
    let mut brokers: Vec<&BrokerData> = route.broker_datas.iter().collect();
    brokers.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
    let (mut read, mut write) = (0, 0);
    for b in brokers {
        let q = queue_of(&b.broker_name).ok_or_else(|| {
            AdminError::Invalid(format!(
                "the route lists broker {} without its queue data",
                b.broker_name.as_deref().unwrap_or("null")
            ))
        })?;
        let addrs = hash_map_order(b.broker_addrs.clone(), |(id, _)| long_hash(*id));
        let addrs = format!(
            "{{{}}}",
            addrs
                .iter()
                .map(|(id, a)| format!("{id}={a}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        read += q.read_queue_nums;
        write += q.write_queue_nums;
        out.push_str(&list_line([
            b.cluster.as_deref().unwrap_or("null"),
            b.broker_name.as_deref().unwrap_or("null"),
            &addrs,
            &q.read_queue_nums.to_string(),
            &q.write_queue_nums.to_string(),
            &q.perm.to_string(),
        ]));
    }
    out.push_str(&"-".repeat(158));
    out.push('\n');
    let distinct: std::collections::HashSet<&Option<String>> =
        route.queue_datas.iter().map(|q| &q.broker_name).collect();
    out.push_str(&list_line([
        "Total:",
        &distinct.len().to_string(),
        "",
        &read.to_string(),
        &write.to_string(),
        "",
    ]));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE: &[u8] = br#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:19911"},"brokerName":"j5","cluster":"JC","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"j5","perm":7,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}]}"#;

    #[test]
    fn the_default_format_is_fastjsons_pretty_print() {
        let route = TopicRouteData::decode("ns", ROUTE).unwrap();
        let expected = "{\n\t\"brokerDatas\":[\n\t\t{\n\t\t\t\"brokerAddrs\":{\n\t\t\t\t0:\"127.0.0.1:19911\"\n\t\t\t},\n\t\t\t\"brokerName\":\"j5\",\n\t\t\t\"cluster\":\"JC\",\n\t\t\t\"enableActingMaster\":false\n\t\t}\n\t],\n\t\"filterServerTable\":{},\n\t\"queueDatas\":[\n\t\t{\n\t\t\t\"brokerName\":\"j5\",\n\t\t\t\"perm\":7,\n\t\t\t\"readQueueNums\":8,\n\t\t\t\"topicSysFlag\":0,\n\t\t\t\"writeQueueNums\":8\n\t\t}\n\t]\n}";
        assert_eq!(pretty(&route_bean(&route)), expected);
    }

    #[test]
    fn the_list_format_matches_mqadmin() {
        let route = TopicRouteData::decode("ns", ROUTE).unwrap();
        let out = list_format(&route).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[1], "JC                                            j5                               {0=127.0.0.1:19911}                                8          8           7    ");
        assert_eq!(lines[2].len(), 158);
        assert_eq!(lines[3], "Total:                                        1                                                                                   8          8                ");
    }
}
