//! The controller port's request table: raft RPCs from peers, the requests
//! every node answers locally (904, 1005, 1009, 1010), and the leader-only
//! ones, which go through the writer. Kept apart from the NameServer's
//! table: 904 means something else there.

use std::net::IpAddr;
use std::sync::Arc;

use super::body::{self, SyncStateSetBody};
use super::cmd;
use super::error::ControllerError;
use super::handle::{Controller, Decide};
use super::heartbeat::ConnId;
use super::outcome::Outcome;
use super::raft::network;
use super::request::*;
use crate::disk::write_atomically;
use crate::remoting::{RemotingCommand, RequestCode as Code, ResponseCode};

/// The reply to `req`, or `None` for a one-way request.
pub async fn dispatch(
    ctl: &Arc<Controller>,
    conn: ConnId,
    source: Option<IpAddr>,
    req: RemotingCommand,
) -> Option<RemotingCommand> {
    if network::is_raft_code(req.code) {
        let from = network::sender(&req);
        if !ctl.raft_peers.admits(from, source).await {
            tracing::warn!(?from, ?source, "raft request from a non-peer refused");
            return Some(req.response(
                ResponseCode::NO_PERMISSION,
                Some("raft requests are accepted from the configured peers only".into()),
            ));
        }
        return Some(network::serve(&ctl.raft, &req).await);
    }
    if let Some(auth) = ctl.auth.as_deref().filter(|a| a.checks_requests()) {
        let source = source.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let code = Code::from_value(req.code);
        if let Err(refusal) = crate::auth::access::check(auth, code, &req, source) {
            ctl.metrics.audited("refused");
            crate::auth::access::log_refused("controller", &req, source, &refusal.remark);
            return (!req.is_oneway())
                .then(|| req.response(crate::auth::Refusal::CODE, Some(refusal.remark)));
        }
    }
    let outcome = match Code::from_value(req.code) {
        Some(code) if is_leader_only(code) => match leader_job(code, &req) {
            Ok(decide) => ctl.submit(decide).await,
            Err(e) => Outcome::system_error(&e),
        },
        // Everything else, including the NameServer's codes, goes to
        // `local`, which answers 3 to what it does not serve.
        Some(code) => local(ctl, code, conn, &req).await,
        None => not_supported(&req),
    };
    (!req.is_oneway()).then(|| outcome.into_response(&req))
}

/// Requests any node answers from its own view.
async fn local(ctl: &Arc<Controller>, code: Code, conn: ConnId, req: &RemotingCommand) -> Outcome {
    match code {
        Code::BROKER_HEARTBEAT => {
            let hb = BrokerHeartbeatRequest::decode(&req.ext_fields);
            let now = ctl.now_ms();
            let mut table = ctl.heartbeats.lock();
            Outcome::from_result(cmd::broker_heartbeat::handle(&mut table, &hb, conn, now))
        }
        Code::CONTROLLER_GET_METADATA_INFO => {
            let (mut leader, mut is_leader) = {
                let m = ctl.raft.metrics();
                let m = m.borrow();
                (m.current_leader, m.state == openraft::ServerState::Leader)
            };
            // An isolated leader must not draw brokers to itself.
            if is_leader && ctl.is_isolated() {
                is_leader = false;
                leader = None;
            }
            let group = ctl.config.read().controller_dleger_group.clone();
            cmd::get_metadata::handle(group.as_deref(), &ctl.peers, leader, is_leader)
        }
        Code::UPDATE_CONTROLLER_CONFIG => update_config(ctl, &req.body).await,
        Code::GET_CONTROLLER_CONFIG => cmd::controller_config::get(&ctl.config.read()),
        _ => not_supported(req),
    }
}

fn not_supported(req: &RemotingCommand) -> Outcome {
    Outcome::refused(
        ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
        format!(" request type {} not supported", req.code),
    )
}

/// The requests only a ready leader serves (others answer 2007).
pub fn is_leader_only(code: Code) -> bool {
    matches!(
        code,
        Code::CONTROLLER_ALTER_SYNC_STATE_SET
            | Code::CONTROLLER_ELECT_MASTER
            | Code::CONTROLLER_REGISTER_BROKER
            | Code::CONTROLLER_GET_REPLICA_INFO
            | Code::CONTROLLER_GET_SYNC_STATE_DATA
            | Code::CLEAN_BROKER_DATA
            | Code::CONTROLLER_GET_NEXT_BROKER_ID
            | Code::CONTROLLER_APPLY_BROKER_ID
    )
}

/// 1009: applied to this node only, then persisted to `configStorePath`
/// as Java persists it.
async fn update_config(ctl: &Arc<Controller>, body: &[u8]) -> Outcome {
    let (out, persist) = {
        let mut config = ctl.config.write();
        let out = cmd::controller_config::update(&mut config, body);
        let persist = (out.code == ResponseCode::SUCCESS && !body.is_empty()).then(|| {
            (
                config.config_store_path.clone(),
                config.to_properties_text(),
            )
        });
        (out, persist)
    };
    if let Some((path, text)) = persist {
        let written = tokio::task::spawn_blocking(move || {
            write_atomically(std::path::Path::new(&path), text.as_bytes())
        })
        .await;
        if !matches!(written, Ok(Ok(()))) {
            tracing::warn!(?written, "controller config updated but not persisted");
        }
    }
    out
}

/// Decodes a leader-only request into the decision the writer will take;
/// a body that does not decode is answered at once, as Java's decode fails
/// before anything is queued.
fn leader_job(code: Code, req: &RemotingCommand) -> Result<Decide, ControllerError> {
    let ext = &req.ext_fields;
    Ok(match code {
        Code::CONTROLLER_ALTER_SYNC_STATE_SET => {
            let r = AlterSyncStateSetRequest::decode(ext);
            let body = SyncStateSetBody::decode(&req.body)?;
            Box::new(move |state, live, _| {
                Outcome::from_result(cmd::alter_sync_state_set::handle(
                    state,
                    live,
                    &r,
                    body.as_ref(),
                ))
            })
        }
        Code::CONTROLLER_ELECT_MASTER => {
            let r = ElectMasterRequest::decode(ext);
            Box::new(move |state, live, config| {
                cmd::elect_master::handle(state, live, &r, config.enable_elect_unclean_master)
            })
        }
        Code::CONTROLLER_REGISTER_BROKER => {
            let r = RegisterBrokerRequest::decode(ext);
            Box::new(move |state, live, _| {
                Outcome::from_result(cmd::register_broker::handle(state, live, &r))
            })
        }
        Code::CONTROLLER_GET_REPLICA_INFO => {
            let r = GetReplicaInfoRequest::decode(ext);
            Box::new(move |state, _, _| {
                Outcome::from_result(cmd::get_replica_info::handle(state, &r))
            })
        }
        Code::CONTROLLER_GET_SYNC_STATE_DATA => {
            let names = body::decode_broker_names(&req.body)?;
            Box::new(move |state, live, _| cmd::get_sync_state_data::handle(state, live, &names))
        }
        Code::CLEAN_BROKER_DATA => {
            let r = CleanBrokerDataRequest::decode(ext);
            Box::new(move |state, live, _| {
                Outcome::from_result(cmd::clean_broker_data::handle(state, live, &r))
            })
        }
        Code::CONTROLLER_GET_NEXT_BROKER_ID => {
            let r = GetNextBrokerIdRequest::decode(ext);
            Box::new(move |state, _, _| {
                Outcome::from_result(cmd::get_next_broker_id::handle(state, &r))
            })
        }
        Code::CONTROLLER_APPLY_BROKER_ID => {
            let r = ApplyBrokerIdRequest::decode(ext);
            Box::new(move |state, _, _| {
                Outcome::from_result(cmd::apply_broker_id::handle(state, &r))
            })
        }
        _ => Box::new(|_, _, _| Outcome::not_set()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_only_set_matches_java() {
        let leader_only: Vec<i32> = Code::ALL
            .iter()
            .filter(|c| is_leader_only(**c))
            .map(|c| c.value())
            .collect();
        assert_eq!(
            leader_only,
            [1001, 1002, 1003, 1004, 1006, 1011, 1012, 1013]
        );
    }
}
