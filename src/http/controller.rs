//! `/api/v1/controller`: the embedded controller as this node sees it: its
//! raft role, the leader and members, and every broker set's master,
//! epochs and sync-state set from the replicated state, with each
//! replica's liveness in this node's heartbeat table.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::AppState;
use crate::controller::event::BrokerId;
use crate::controller::handle::Controller;

/// One broker set, copied out of the replicated state.
struct SetCopy {
    cluster: String,
    broker_name: String,
    master: Option<BrokerId>,
    master_epoch: i32,
    sync_state_set_epoch: i32,
    sync_state_set: BTreeSet<BrokerId>,
    /// Id and address of every replica.
    replicas: Vec<(BrokerId, String)>,
}

fn broker_sets(ctl: &Controller) -> Vec<SetCopy> {
    // Copied under the read lock and nothing else: the state machine's
    // writer waits for no JSON.
    let state = ctl.state.read();
    state
        .sync_states()
        .filter_map(|sync| state.broker_set(&sync.broker_name))
        .map(|set| SetCopy {
            cluster: set.sync.cluster_name.clone(),
            broker_name: set.sync.broker_name.clone(),
            master: set.sync.master_broker_id,
            master_epoch: set.sync.master_epoch,
            sync_state_set_epoch: set.sync.sync_state_set_epoch,
            sync_state_set: set.sync.sync_state_set.clone(),
            replicas: set
                .replicas
                .brokers
                .iter()
                .map(|(id, entry)| (*id, entry.address.clone()))
                .collect(),
        })
        .collect()
}

/// Liveness of each replica of `sets` in this node's heartbeat table:
/// `(alive, milliseconds since its last heartbeat)`, absent when it has
/// sent none here.
fn liveness(ctl: &Controller, sets: &[SetCopy]) -> Vec<Vec<Option<(bool, i64)>>> {
    let now = ctl.now_ms();
    let table = ctl.heartbeats.lock();
    sets.iter()
        .map(|set| {
            set.replicas
                .iter()
                .map(|(id, _)| {
                    table
                        .get(&set.cluster, &set.broker_name, *id)
                        .map(|info| (info.is_alive(now), (now - info.last_update_ms).max(0)))
                })
                .collect()
        })
        .collect()
}

fn set_json(set: &SetCopy, live: &[Option<(bool, i64)>]) -> Value {
    let address_of = |id: Option<BrokerId>| {
        id.and_then(|id| set.replicas.iter().find(|(r, _)| *r == id))
            .map(|(_, addr)| addr.clone())
    };
    let replicas: Vec<Value> = set
        .replicas
        .iter()
        .zip(live)
        .map(|((id, addr), live)| {
            json!({
                "id": id,
                "addr": addr,
                "master": set.master == Some(*id),
                "inSync": set.sync_state_set.contains(id),
                "alive": live.is_some_and(|(alive, _)| alive),
                "lastHeartbeatAgeMs": live.map(|(_, age)| age),
            })
        })
        .collect();
    json!({
        "cluster": set.cluster,
        "brokerName": set.broker_name,
        "masterBrokerId": set.master,
        "masterAddress": address_of(set.master),
        "masterEpoch": set.master_epoch,
        "syncStateSetEpoch": set.sync_state_set_epoch,
        "syncStateSet": set.sync_state_set,
        "replicas": replicas,
    })
}

pub async fn controller(State(state): State<AppState>) -> Response {
    let Some(ctl) = state.controller.as_ref() else {
        return Json(json!({ "enabled": false })).into_response();
    };
    // What raft reports, copied out of its watch channel at once.
    let (raft_state, term, leader, last_log, applied, voters, nodes, matched) = {
        let m = ctl.raft.metrics();
        let m = m.borrow();
        let membership = m.membership_config.membership();
        (
            m.state,
            m.current_term,
            m.current_leader,
            m.last_log_index,
            m.last_applied.map(|l| l.index),
            membership.voter_ids().collect::<BTreeSet<_>>(),
            membership
                .nodes()
                .map(|(id, node)| (*id, node.addr.clone()))
                .collect::<Vec<_>>(),
            m.replication.as_ref().map(|r| {
                r.iter()
                    .map(|(id, log)| (*id, log.map(|l| l.index)))
                    .collect::<Vec<_>>()
            }),
        )
    };
    let me = ctl.peers.me();
    let members: Vec<Value> = nodes
        .iter()
        .map(|(raft_id, addr)| {
            let peer = ctl.peers.by_node_id(*raft_id);
            let matched_index = matched
                .as_ref()
                .and_then(|m| m.iter().find(|(id, _)| id == raft_id))
                .and_then(|(_, index)| *index);
            json!({
                "id": peer.map_or_else(|| raft_id.to_string(), |p| p.id.clone()),
                "raftId": raft_id,
                "addr": addr,
                "voter": voters.contains(raft_id),
                "leader": leader == Some(*raft_id),
                "self": *raft_id == me.node_id,
                // Known on the leader only: how far each member's log matches.
                "matchedIndex": matched_index,
            })
        })
        .collect();
    let leader_json = leader.map(|id| {
        let peer = ctl.peers.by_node_id(id);
        json!({
            "id": peer.map_or_else(|| id.to_string(), |p| p.id.clone()),
            "raftId": id,
            "addr": peer.map(|p| p.address()),
        })
    });
    let group = ctl.config.read().controller_dleger_group.clone();
    let sets = broker_sets(ctl);
    let live = liveness(ctl, &sets);
    let sets: Vec<Value> = sets
        .iter()
        .zip(&live)
        .map(|(set, live)| set_json(set, live))
        .collect();
    Json(json!({
        "enabled": true,
        "group": group,
        "nodeId": me.id,
        "raftId": me.node_id,
        "addr": me.address(),
        "role": crate::controller::leadership::state_name(raft_state),
        "ready": ctl.is_ready_leader(),
        "term": term,
        "leader": leader_json,
        "lastLogIndex": last_log,
        "lastApplied": applied,
        "members": members,
        "brokerSets": sets,
    }))
    .into_response()
}
