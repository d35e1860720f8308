//! GET_ROUTEINFO_BY_TOPIC (105): the hot path, polled by every client for
//! every topic every 30 s.

use std::sync::Arc;

use super::{CmdError, Header};
use crate::json::write::Dialect;
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::state::kv::NAMESPACE_ORDER_TOPIC_CONFIG;
use crate::state::shared::Shared;

/// MQVersion V4_9_4: clients from this version on read standard JSON.
const V4_9_4: i32 = 401;

/// The extFields Java's clients and brokers add for zone routing
/// (`MixAll.ZONE_MODE` / `MixAll.ZONE_NAME`).
pub const ZONE_MODE: &str = "__ZONE_MODE";
pub const ZONE_NAME: &str = "__ZONE_NAME";

const FAQ_SUFFIX: &str =
    "\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.";

pub struct GetRouteInfo {
    /// Absent: Java looks up a null topic and answers TOPIC_NOT_EXIST.
    topic: Option<String>,
    standard_json: bool,
    /// The client's zone when it asked for zone mode (`__ZONE_MODE=true`).
    zone: Option<String>,
}

impl GetRouteInfo {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        Ok(GetRouteInfo {
            topic: h.optional("topic").map(str::to_string),
            standard_json: req.version >= V4_9_4 || h.bool_or_false("acceptStandardJsonOnly"),
            zone: h
                .bool_or_false(ZONE_MODE)
                .then(|| h.optional(ZONE_NAME))
                .flatten()
                .filter(|z| !z.trim().is_empty())
                .map(str::to_string),
        })
    }

    pub fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let (order_enabled, acting_master, not_ready) = {
            let config = shared.config();
            let warming = shared.started_at.elapsed().as_secs()
                < config.namesrv.wait_seconds_for_service.max(0) as u64;
            (
                config.namesrv.order_message_enable,
                config.namesrv.support_acting_master,
                config.namesrv.need_wait_for_service && warming,
            )
        };
        if not_ready {
            return Ok(req.response(
                ResponseCode::SYSTEM_ERROR,
                Some("name server not ready".into()),
            ));
        }
        let Some(topic) = self.topic.as_deref() else {
            return Ok(not_found(req, "null"));
        };
        let dialect = if self.standard_json {
            Dialect::Standard
        } else {
            Dialect::Fastjson
        };
        // The common answer depends on the tables alone: serve it from the cache.
        let cacheable = self.zone.is_none() && !order_enabled && !acting_master;
        let ticket = if cacheable {
            let generation = shared.routes.generation();
            match shared.route_cache.get(topic, dialect, generation) {
                Ok(body) => {
                    shared.metrics.route_cache_hit();
                    return Ok(req.response(ResponseCode::SUCCESS, None).with_body(body));
                }
                Err(ticket) => {
                    shared.metrics.route_cache_miss();
                    Some(ticket)
                }
            }
        } else {
            None
        };
        let Some(mut route) = shared.routes.pickup_route(topic, shared.route_options()) else {
            return Ok(not_found(req, topic));
        };
        if let Some(zone) = &self.zone {
            route.retain_zone(zone);
        }
        if order_enabled {
            route.order_topic_conf = shared.kv.get(NAMESPACE_ORDER_TOPIC_CONFIG, topic);
        }
        let body = bytes::Bytes::from(route.to_json(dialect));
        if let Some(ticket) = ticket {
            shared.route_cache.put(topic, dialect, ticket, body.clone());
        }
        Ok(req.response(ResponseCode::SUCCESS, None).with_body(body))
    }
}

fn not_found(req: &RemotingCommand, topic: &str) -> RemotingCommand {
    req.response(
        ResponseCode::TOPIC_NOT_EXIST,
        Some(format!(
            "No topic route info in name server for the topic: {topic}{FAQ_SUFFIX}"
        )),
    )
}
