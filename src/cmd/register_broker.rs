//! REGISTER_BROKER (103): a broker's full registration, every 30 s. The
//! header is read here; the route table does the rest
//! ([`RouteInfoManager::register`](crate::route::RouteInfoManager::register)):
//! most repeat the previous one and only refresh liveness, the rest are
//! decoded and applied on the bulk pool.

use std::sync::Arc;

use super::get_route_info::ZONE_NAME;
use super::{CmdError, Header, HeaderError, Origin};
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::route::{
    RegisterContext, RegisterHeader, RegisterRequest, RegisterResult, RegistrationError,
};
use crate::state::kv::{kv_table_json, NAMESPACE_ORDER_TOPIC_CONFIG};
use crate::state::shared::Shared;

pub struct RegisterBroker<'r> {
    request: RegisterRequest<'r>,
}

impl<'r> RegisterBroker<'r> {
    pub fn parse(req: &'r RemotingCommand, origin: Origin) -> Result<Self, CmdError> {
        Ok(RegisterBroker {
            request: request(req, origin)?,
        })
    }

    pub async fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        let on = RegisterContext {
            opts: shared.route_options(),
            inflate_limit: shared.max_frame(),
            clock: Shared::now_ms,
            bulk: &shared.bulk,
            cache: &shared.route_cache,
            metrics: &shared.metrics,
        };
        match shared.routes.register(self.request, &on).await {
            Ok(result) => Ok(answer(shared, req, result)),
            Err(RegistrationError::Refused(refused)) => {
                tracing::warn!(%refused, "registration refused");
                Ok(req.response(
                    ResponseCode::SYSTEM_ERROR,
                    Some("register broker failed".into()),
                ))
            }
            Err(err @ RegistrationError::PoolStopped(_)) => {
                Err(CmdError::Internal(err.to_string()))
            }
            Err(err) => Err(CmdError::Body(err.to_string())),
        }
    }
}

/// The fast path for a frame's head (a large body's first bytes, of a body
/// `body_len` long): the answer when it repeats the broker's previous
/// registration, so the rest of the body need not be read. `None` sends
/// the request on, read whole, to [`RegisterBroker`].
pub fn answer_if_claimed_unchanged(
    shared: &Shared,
    origin: Origin,
    req: &RemotingCommand,
    body_len: usize,
) -> Option<RemotingCommand> {
    // A header that does not read is refused once the request is whole.
    let request = request(req, origin).ok()?;
    let result = shared.routes.refresh_from_head(
        &request,
        body_len,
        shared.route_options(),
        Shared::now_ms,
    )?;
    Some(answer(shared, req, result))
}

fn request(req: &RemotingCommand, origin: Origin) -> Result<RegisterRequest<'_>, HeaderError> {
    let h = Header(&req.ext_fields);
    let header = RegisterHeader {
        broker_name: h.required("brokerName")?,
        broker_addr: h.required("brokerAddr")?,
        cluster_name: h.required("clusterName")?,
        // Java registers a broker without an HA address (null) and skips
        // an optional number it cannot parse; we do likewise.
        ha_server_addr: h.optional("haServerAddr").unwrap_or_default(),
        broker_id: h.required_i64("brokerId")?,
        heartbeat_timeout_ms: h.lenient_i64("heartbeatTimeoutMillis"),
        enable_acting_master: h.optional_bool("enableActingMaster"),
        compressed: h.bool_or_false("compressed"),
        zone_name: h.optional(ZONE_NAME),
        claimed_crc: h.lenient_i64("bodyCrc32").unwrap_or(0),
    };
    Ok(RegisterRequest {
        header,
        fields: &req.ext_fields,
        body: &req.body,
        version: req.version,
        conn: origin.conn,
    })
}

/// SUCCESS with a slave's master addresses, and the ORDER_TOPIC_CONFIG KV
/// table when `returnOrderTopicConfigToBroker` (as Java answers).
fn answer(shared: &Shared, req: &RemotingCommand, result: RegisterResult) -> RemotingCommand {
    if let Some(notice) = result.notice {
        shared.notify(vec![notice]);
    }
    let mut response = req.response(ResponseCode::SUCCESS, None);
    if let Some(addr) = result.master_addr {
        response = response.with_ext("masterAddr", addr);
    }
    if let Some(addr) = result.ha_server_addr {
        response = response.with_ext("haServerAddr", addr);
    }
    if shared.config().namesrv.return_order_topic_config_to_broker {
        if let Some(entries) = shared.kv.list(NAMESPACE_ORDER_TOPIC_CONFIG) {
            response = response.with_body(kv_table_json(&entries));
        }
    }
    response
}
