//! Request handlers: one module per request, each parsing its own header
//! and body and applying itself to the shared state. `dispatch` routes a
//! decoded request to its handler and turns errors into error responses.

mod auth_admin;
mod broker_heartbeat;
mod broker_perm;
mod get_broker_cluster_info;
mod get_route_info;
pub mod header;
mod kv_config;
mod namesrv_config;
mod query_data_version;
mod register_broker;
pub mod service;
mod topic_admin;
mod topic_list;
mod unregister_broker;

use std::net::IpAddr;
use std::sync::Arc;

use crate::auth::Refusal;
use crate::remoting::{FrameHead, HeadFirst, RemotingCommand, RequestCode, ResponseCode};
use crate::route::registration::MAPPING_VERSION_WINDOW;
use crate::route::ConnId;
use crate::state::shared::Shared;

pub use header::{Header, HeaderError};

/// Why a request could not be served; becomes a SYSTEM_ERROR response whose
/// remark is this error's text, as Java answers a RemotingCommandException.
#[derive(Debug, thiserror::Error)]
pub enum CmdError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("{0}")]
    Body(String),
    #[error("{0}")]
    Internal(String),
}

/// Runs blocking work (disk I/O, parsing megabytes) on the blocking pool so
/// the workers that answer route lookups stay free.
async fn blocking<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, CmdError>
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CmdError::Internal(e.to_string()))?
        .map_err(|e| CmdError::Internal(e.to_string()))
}

/// What a handler sees of the request's origin.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub conn: ConnId,
    /// The peer's address (unspecified when the socket could not say).
    pub source: IpAddr,
}

/// Serves one request. `None` for one-way requests, which get no answer.
pub async fn dispatch(
    shared: &Arc<Shared>,
    origin: Origin,
    req: RemotingCommand,
) -> Option<RemotingCommand> {
    let oneway = req.is_oneway();
    let started = std::time::Instant::now();
    let code = RequestCode::from_value(req.code);
    let checked = shared.auth.checks_requests();
    if checked {
        if let Err(refusal) = crate::auth::access::check(&shared.auth, code, &req, origin.source) {
            shared.metrics.audited("refused");
            crate::auth::access::log_refused("namesrv", &req, origin.source, &refusal.remark);
            let response = req.response(Refusal::CODE, Some(refusal.remark));
            shared
                .metrics
                .record_request(code, Some(Refusal::CODE), started.elapsed());
            return (!oneway).then_some(response);
        }
    }
    let response = match code {
        Some(code) => match serve(shared, origin, code, &req).await {
            Ok(response) => response,
            Err(err) => {
                tracing::warn!(code = req.code, opaque = req.opaque, error = %err, "request failed");
                req.response(ResponseCode::SYSTEM_ERROR, Some(err.to_string()))
            }
        },
        None => not_supported(&req),
    };
    if checked && code.is_some_and(crate::auth::access::changes_state) {
        shared.metrics.audited("allowed");
        crate::auth::access::log_served(&req, origin.source, response.code);
    }
    shared.metrics.record_request(
        code,
        ResponseCode::from_value(response.code),
        started.elapsed(),
    );
    (!oneway).then_some(response)
}

/// Which frames the connection hands over head first, to [`serve_head`]:
/// those large enough that not reading them is worth a second step, with
/// enough of the body to recognise a repeated registration.
pub const HEAD_FIRST: HeadFirst = HeadFirst {
    min_body: 64 * 1024,
    prefix: MAPPING_VERSION_WINDOW,
};

/// Serves a request from its head alone when its body's rest is not
/// needed: a registration repeating the previous one. `Some` holds the
/// answer (`None` for a one-way request), and the caller drops the rest of
/// the body unread; `None` means the request needs its whole body.
pub fn serve_head(
    shared: &Arc<Shared>,
    origin: Origin,
    head: &FrameHead,
) -> Option<Option<RemotingCommand>> {
    let started = std::time::Instant::now();
    let req = &head.cmd;
    if RequestCode::from_value(req.code) != Some(RequestCode::REGISTER_BROKER) {
        return None;
    }
    let answer = register_broker::answer_if_claimed_unchanged(shared, origin, req, head.body_len)?;
    shared.metrics.registered("unchanged", head.body_len);
    shared.metrics.record_request(
        Some(RequestCode::REGISTER_BROKER),
        ResponseCode::from_value(answer.code),
        started.elapsed(),
    );
    Some((!req.is_oneway()).then_some(answer))
}

fn not_supported(req: &RemotingCommand) -> RemotingCommand {
    tracing::debug!(code = req.code, "request code not supported");
    req.response(
        ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
        Some(format!(" request type {} not supported", req.code)),
    )
}

async fn serve(
    shared: &Arc<Shared>,
    origin: Origin,
    code: RequestCode,
    req: &RemotingCommand,
) -> Result<RemotingCommand, CmdError> {
    use RequestCode::*;
    match code {
        // Boxed: a registration's future is large, and unboxed it would
        // size every connection's task, idle or not.
        REGISTER_BROKER => {
            Box::pin(register_broker::RegisterBroker::parse(req, origin)?.apply(shared, req)).await
        }
        UNREGISTER_BROKER => unregister_broker::UnregisterBroker::parse(req)?.apply(shared, req),
        BROKER_HEARTBEAT => broker_heartbeat::BrokerHeartbeat::parse(req)?.apply(shared, req),
        QUERY_DATA_VERSION => query_data_version::QueryDataVersion::parse(req)?.apply(shared, req),
        GET_ROUTEINFO_BY_TOPIC => get_route_info::GetRouteInfo::parse(req)?.apply(shared, req),
        GET_BROKER_CLUSTER_INFO => Ok(get_broker_cluster_info::apply(shared, req)),
        PUT_KV_CONFIG => kv_config::PutKvConfig::parse(req)?.apply(shared, req).await,
        GET_KV_CONFIG => Ok(kv_config::GetKvConfig::parse(req)?.apply(shared, req)),
        DELETE_KV_CONFIG => {
            kv_config::DeleteKvConfig::parse(req)?
                .apply(shared, req)
                .await
        }
        GET_KVLIST_BY_NAMESPACE => Ok(kv_config::GetKvList::parse(req)?.apply(shared, req)),
        GET_BROKER_MEMBER_GROUP => {
            Ok(broker_perm::GetBrokerMemberGroup::parse(req)?.apply(shared, req))
        }
        WIPE_WRITE_PERM_OF_BROKER => Ok(broker_perm::ChangeWritePerm::parse(
            req,
            broker_perm::PermChange::Wipe,
        )?
        .apply(shared, req)),
        ADD_WRITE_PERM_OF_BROKER => Ok(broker_perm::ChangeWritePerm::parse(
            req,
            broker_perm::PermChange::Add,
        )?
        .apply(shared, req)),
        GET_ALL_TOPIC_LIST_FROM_NAMESERVER
        | GET_TOPICS_BY_CLUSTER
        | GET_SYSTEM_TOPIC_LIST_FROM_NS
        | GET_UNIT_TOPIC_LIST
        | GET_HAS_UNIT_SUB_TOPIC_LIST
        | GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST => topic_list::apply(shared, code, req),
        DELETE_TOPIC_IN_NAMESRV => Ok(topic_admin::DeleteTopic::parse(req)?.apply(shared, req)),
        REGISTER_TOPIC_IN_NAMESRV => Ok(topic_admin::RegisterTopic::parse(req)?.apply(shared, req)),
        UPDATE_NAMESRV_CONFIG => {
            namesrv_config::UpdateNamesrvConfig::parse(req)?
                .apply(shared, req)
                .await
        }
        GET_NAMESRV_CONFIG => Ok(namesrv_config::get(shared, req)),
        AUTH_CREATE_USER | AUTH_UPDATE_USER | AUTH_DELETE_USER | AUTH_GET_USER | AUTH_LIST_USER
        | AUTH_CREATE_ACL | AUTH_UPDATE_ACL | AUTH_DELETE_ACL | AUTH_GET_ACL | AUTH_LIST_ACL => {
            auth_admin::AuthAdmin::parse(code, req)?
                .apply(shared, req)
                .await
        }
        // Sent by us to brokers, never served.
        NOTIFY_MIN_BROKER_ID_CHANGE => Ok(not_supported(req)),
        // Broker and controller requests (the admin tool sends them): a
        // NameServer answers them as any code it does not serve.
        GET_BROKER_RUNTIME_INFO
        | DELETE_TOPIC_IN_BROKER
        | QUERY_TOPIC_CONSUME_BY_WHO
        | CONTROLLER_ALTER_SYNC_STATE_SET
        | CONTROLLER_ELECT_MASTER
        | CONTROLLER_REGISTER_BROKER
        | CONTROLLER_GET_REPLICA_INFO
        | CONTROLLER_GET_METADATA_INFO
        | CONTROLLER_GET_SYNC_STATE_DATA
        | NOTIFY_BROKER_ROLE_CHANGED
        | UPDATE_CONTROLLER_CONFIG
        | GET_CONTROLLER_CONFIG
        | CLEAN_BROKER_DATA
        | CONTROLLER_GET_NEXT_BROKER_ID
        | CONTROLLER_APPLY_BROKER_ID
        | SWITCH_TIMER_ENGINE
        | POP_LITE_MESSAGE
        | LITE_SUBSCRIPTION_CTL
        | ACK_LITE_MESSAGE
        | NOTIFY_UNSUBSCRIBE_LITE
        | GET_BROKER_LITE_INFO
        | GET_PARENT_TOPIC_INFO
        | GET_LITE_TOPIC_INFO
        | GET_LITE_CLIENT_INFO
        | GET_LITE_GROUP_INFO
        | TRIGGER_LITE_DISPATCH => Ok(not_supported(req)),
    }
}
