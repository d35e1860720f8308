//! The topic-list requests: GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206),
//! GET_TOPICS_BY_CLUSTER (224), GET_SYSTEM_TOPIC_LIST_FROM_NS (304),
//! GET_UNIT_TOPIC_LIST (311), GET_HAS_UNIT_SUB_TOPIC_LIST (312) and
//! GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST (313).

use super::{CmdError, Header};
use crate::json::write::JsonWriter;
use crate::remoting::{RemotingCommand, RequestCode, ResponseCode};
use crate::state::shared::Shared;

/// `{"brokerAddr":..,"topicList":[..]}` (Java `TopicList`).
pub fn topic_list_json(topics: &[String], broker_addr: Option<&str>) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + topics.len() * 24);
    let mut w = JsonWriter::standard(&mut out);
    w.begin_object();
    w.field_opt_str("brokerAddr", broker_addr);
    w.key("topicList");
    w.begin_array();
    for topic in topics {
        w.str(topic);
    }
    w.end_array();
    w.end_object();
    out
}

fn disabled(req: &RemotingCommand) -> RemotingCommand {
    req.response(ResponseCode::SYSTEM_ERROR, Some("disable".into()))
}

fn list(req: &RemotingCommand, topics: &[String]) -> RemotingCommand {
    req.response(ResponseCode::SUCCESS, None)
        .with_body(topic_list_json(topics, None))
}

pub fn apply(
    shared: &Shared,
    code: RequestCode,
    req: &RemotingCommand,
) -> Result<RemotingCommand, CmdError> {
    let (all_enabled, enabled) = {
        let c = &shared.config().namesrv;
        (c.enable_all_topic_list, c.enable_topic_list)
    };
    let routes = &shared.routes;
    Ok(match code {
        RequestCode::GET_ALL_TOPIC_LIST_FROM_NAMESERVER if all_enabled => {
            list(req, &routes.all_topics())
        }
        RequestCode::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => disabled(req),
        RequestCode::GET_SYSTEM_TOPIC_LIST_FROM_NS => {
            let (topics, addr) = routes.system_topics();
            req.response(ResponseCode::SUCCESS, None)
                .with_body(topic_list_json(&topics, addr.as_deref()))
        }
        _ if !enabled => disabled(req),
        RequestCode::GET_TOPICS_BY_CLUSTER => {
            // Java reads a missing cluster as null, which names no cluster.
            let topics = match Header(&req.ext_fields).optional("cluster") {
                Some(cluster) => routes.topics_by_cluster(cluster),
                None => Vec::new(),
            };
            list(req, &topics)
        }
        RequestCode::GET_UNIT_TOPIC_LIST => list(req, &routes.unit_topics()),
        RequestCode::GET_HAS_UNIT_SUB_TOPIC_LIST => list(req, &routes.has_unit_sub_topics()),
        RequestCode::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST => {
            list(req, &routes.has_unit_sub_ununit_topics())
        }
        _ => {
            return Err(CmdError::Internal(format!(
                "{} is not a topic-list request",
                code.name()
            )))
        }
    })
}
