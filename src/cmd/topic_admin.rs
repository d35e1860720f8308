//! DELETE_TOPIC_IN_NAMESRV (216) and REGISTER_TOPIC_IN_NAMESRV (217): admin
//! changes to one topic's route.

use std::sync::Arc;

use serde_json::Value;

use super::{CmdError, Header};
use crate::json;
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::route::QueueData;
use crate::state::shared::Shared;

/// Without a topic nothing matches: Java answers SUCCESS having deleted nothing.
pub struct DeleteTopic {
    topic: Option<String>,
    cluster_name: Option<String>,
}

impl DeleteTopic {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        Ok(DeleteTopic {
            topic: h.optional("topic").map(str::to_string),
            cluster_name: h
                .optional("clusterName")
                // Java tests only for empty: " " names a cluster (that does not exist).
                .filter(|c| !c.is_empty())
                .map(str::to_string),
        })
    }

    pub fn apply(self, shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
        if let Some(topic) = &self.topic {
            shared
                .routes
                .delete_topic(topic, self.cluster_name.as_deref());
            tracing::info!(%topic, cluster = ?self.cluster_name, "topic deleted");
        }
        req.response(ResponseCode::SUCCESS, None)
    }
}

pub struct RegisterTopic {
    topic: String,
    queues: Vec<QueueData>,
}

impl RegisterTopic {
    /// The body is a TopicRouteData; only its `queueDatas` are used.
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let topic = Header(&req.ext_fields).required_string("topic")?;
        let mut queues = Vec::new();
        if !req.body.is_empty() {
            let body = json::read::parse(&req.body)
                .map_err(|e| CmdError::Body(format!("TopicRouteData body: {e}")))?;
            match body.get("queueDatas") {
                None | Some(Value::Null) => {}
                Some(Value::Array(items)) => {
                    for item in items {
                        queues.push(queue_data(item)?);
                    }
                }
                Some(_) => return Err(CmdError::Body("queueDatas is not an array".into())),
            }
        }
        Ok(RegisterTopic { topic, queues })
    }

    pub fn apply(self, shared: &Arc<Shared>, req: &RemotingCommand) -> RemotingCommand {
        if !shared.routes.register_topic(&self.topic, self.queues) {
            tracing::warn!(topic = %self.topic, "register topic names an unknown broker; ignored");
        }
        req.response(ResponseCode::SUCCESS, None)
    }
}

fn queue_data(item: &Value) -> Result<QueueData, CmdError> {
    let int = |field: &str| -> Result<i32, CmdError> {
        match item.get(field) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => v
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| CmdError::Body(format!("queueDatas.{field} is not an int"))),
        }
    };
    let broker_name = item
        .get("brokerName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| CmdError::Body("queueDatas.brokerName is missing".into()))?;
    Ok(QueueData {
        broker_name: broker_name.into(),
        read_queue_nums: int("readQueueNums")?,
        write_queue_nums: int("writeQueueNums")?,
        perm: int("perm")?,
        topic_sys_flag: int("topicSysFlag")?,
    })
}
