//! 1006 CONTROLLER_GET_SYNC_STATE_DATA: the admin view of some sets, each
//! member marked in or out of sync and alive or not.

use std::collections::BTreeMap;

use crate::controller::body::{self, ReplicaIdentity, ReplicasInfo};
use crate::controller::heartbeat::Liveness;
use crate::controller::outcome::Outcome;
use crate::controller::state::{BrokerSet, ControllerState};

/// `names` as decoded by [`body::decode_broker_names`]; `None` entries are
/// list items that were not strings. Java answers an empty list with its
/// "no response" SYSTEM_ERROR, and skips names it does not know.
pub fn handle(state: &ControllerState, live: &dyn Liveness, names: &[Option<String>]) -> Outcome {
    if names.is_empty() {
        return Outcome::not_set();
    }
    let table: BTreeMap<String, ReplicasInfo> = names
        .iter()
        .flatten()
        .filter_map(|name| Some((name.clone(), replicas_info(live, state.broker_set(name)?))))
        .collect();
    Outcome::success().body(body::broker_replicas_info(&table))
}

fn replicas_info(live: &dyn Liveness, set: BrokerSet<'_>) -> ReplicasInfo {
    let (replicas, sync) = (set.replicas, set.sync);
    let (in_sync, not_in_sync): (Vec<ReplicaIdentity>, Vec<ReplicaIdentity>) = replicas
        .brokers
        .iter()
        .map(|(id, entry)| ReplicaIdentity {
            broker_name: replicas.broker_name.clone(),
            broker_id: *id,
            broker_address: entry.address.clone(),
            alive: live.is_alive(&replicas.cluster_name, &replicas.broker_name, *id),
        })
        .partition(|r| sync.sync_state_set.contains(&r.broker_id));
    ReplicasInfo {
        master_broker_id: sync.master_broker_id,
        master_address: replicas.address(sync.master_broker_id).map(str::to_string),
        master_epoch: sync.master_epoch,
        sync_state_set_epoch: sync.sync_state_set_epoch,
        in_sync_replicas: in_sync,
        not_in_sync_replicas: not_in_sync,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cmd::fixture::*;
    use crate::remoting::ResponseCode;

    #[test]
    fn lists_known_sets_with_liveness() {
        let s = state(&[1, 2], Some(1), &[1]);
        let t = table(&[1], &[2]);
        let names = body::decode_broker_names(br#"["b","nope",3]"#).unwrap();
        let out = handle(&s, &t.view(NOW), &names);
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(
            body(&out),
            format!(
                r#"{{"replicasInfoTable":{{"b":{{"inSyncReplicas":[{{"alive":true,"brokerAddress":"{a1}","brokerId":1,"brokerName":"b"}}],"masterAddress":"{a1}","masterBrokerId":1,"masterEpoch":1,"notInSyncReplicas":[{{"alive":false,"brokerAddress":"{a2}","brokerId":2,"brokerName":"b"}}],"syncStateSetEpoch":1}}}}}}"#,
                a1 = addr(1),
                a2 = addr(2)
            )
        );
        let out = handle(&s, &t.view(NOW), &[None]);
        assert_eq!(body(&out), r#"{"replicasInfoTable":{}}"#);
        let out = handle(&s, &t.view(NOW), &[]);
        assert_eq!(code(&out), ResponseCode::SYSTEM_ERROR);
    }
}
