//! 1002 CONTROLLER_ELECT_MASTER, sent by a broker (its own id), an admin
//! (designateElect with a target) or run by the leader itself (id -1) when
//! a master goes inactive.

use std::collections::BTreeSet;

use crate::controller::body::{self, MemberGroup};
use crate::controller::election::{self, ElectInput};
use crate::controller::event::{BrokerId, ControllerEvent};
use crate::controller::heartbeat::Liveness;
use crate::controller::notify::RoleChange;
use crate::controller::outcome::Outcome;
use crate::controller::request::ElectMasterRequest;
use crate::controller::state::{BrokerSet, ControllerState};
use crate::remoting::ResponseCode;

/// `unclean`: `enableElectUncleanMaster`.
pub fn handle(
    state: &ControllerState,
    live: &dyn Liveness,
    req: &ElectMasterRequest,
    unclean: bool,
) -> Outcome {
    let Some(set) = state.broker_set(&req.broker_name) else {
        return Outcome::refused(
            ResponseCode::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED,
            format!("broker set {} is not registered", req.broker_name),
        );
    };
    let sync = set.sync;
    match choose(live, set, req, unclean) {
        Some(m) if Some(m) == sync.master_broker_id => master_still_exists(set, m),
        Some(m) => elected(set, m),
        None if req.is_controller_triggered() => Outcome::refused(
            ResponseCode::CONTROLLER_MASTER_NOT_AVAILABLE,
            format!(
                "the master of {} is gone and no broker can replace it",
                req.broker_name
            ),
        )
        // Recorded so the set shows no master and brokers stop following it.
        .event(ControllerEvent::ElectMaster {
            broker_name: req.broker_name.clone(),
            new_master: None,
        }),
        None => Outcome::refused(
            ResponseCode::CONTROLLER_ELECT_MASTER_FAILED,
            format!("no broker of {} can be elected", req.broker_name),
        ),
    }
}

/// The first election of a set takes the requester as is, with no liveness
/// check: nobody has data yet. Later ones (and a first one sent with -1)
/// go through the policy.
fn choose(
    live: &dyn Liveness,
    set: BrokerSet<'_>,
    req: &ElectMasterRequest,
    unclean: bool,
) -> Option<BrokerId> {
    let first = set.sync.is_first_election().then_some(req.broker_id);
    if first.is_some_and(|id| id != -1) {
        return first;
    }
    let all: Option<BTreeSet<BrokerId>> = unclean.then(|| set.replicas.ids());
    election::elect(
        live,
        &ElectInput {
            cluster_name: &set.replicas.cluster_name,
            broker_name: &set.replicas.broker_name,
            sync_state_set: &set.sync.sync_state_set,
            all_replicas: all.as_ref(),
            old_master: set.sync.master_broker_id,
            // designateElect without a brokerId names nobody: read as a
            // target of -1 it would match no broker and depose a live
            // master, so it is an undesignated election instead.
            prefer: (req.designate_elect && req.broker_id != -1).then_some(req.broker_id),
        },
    )
}

fn master_still_exists(set: BrokerSet<'_>, master: BrokerId) -> Outcome {
    let sync = set.sync;
    Outcome::refused(
        ResponseCode::CONTROLLER_MASTER_STILL_EXIST,
        format!("master {master} of {} is still alive", sync.broker_name),
    )
    .header("masterBrokerId", master)
    .opt_header("masterAddress", set.replicas.address(Some(master)))
    .header("masterEpoch", sync.master_epoch)
    .header("syncStateSetEpoch", sync.sync_state_set_epoch)
    .body(body::elect_master(None, &sync.sync_state_set))
}

fn elected(set: BrokerSet<'_>, master: BrokerId) -> Outcome {
    let (sync, replicas) = (set.sync, set.replicas);
    let master_epoch = sync.master_epoch.wrapping_add(1);
    let sync_state_set_epoch = sync.sync_state_set_epoch.wrapping_add(1);
    let new_set = BTreeSet::from([master]);
    let group = MemberGroup {
        cluster: replicas.cluster_name.clone(),
        broker_name: replicas.broker_name.clone(),
        broker_addrs: replicas
            .brokers
            .iter()
            .map(|(id, e)| (*id, e.address.clone()))
            .collect(),
    };
    let master_address = replicas.address(Some(master)).map(str::to_string);
    let role_change = RoleChange {
        cluster_name: group.cluster.clone(),
        broker_name: group.broker_name.clone(),
        master_broker_id: master,
        master_address: master_address.clone(),
        master_epoch,
        sync_state_set_epoch,
        sync_state_set: new_set.clone(),
        broker_addrs: group.broker_addrs.clone(),
    };
    let mut out = Outcome::success()
        .header("masterBrokerId", master)
        .opt_header("masterAddress", master_address)
        .header("masterEpoch", master_epoch)
        .header("syncStateSetEpoch", sync_state_set_epoch)
        .body(body::elect_master(Some(&group), &new_set))
        .event(ControllerEvent::ElectMaster {
            broker_name: replicas.broker_name.clone(),
            new_master: Some(master),
        });
    out.role_change = Some(role_change);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cmd::fixture::*;
    use crate::controller::heartbeat::HeartbeatTable;
    use crate::controller::request::ext;

    fn broker(id: BrokerId) -> ElectMasterRequest {
        ElectMasterRequest::decode(&ext(&[
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("brokerId", &id.to_string()),
        ]))
    }

    fn admin(id: BrokerId) -> ElectMasterRequest {
        ElectMasterRequest {
            designate_elect: true,
            ..broker(id)
        }
    }

    fn run(s: &ControllerState, t: &HeartbeatTable, req: &ElectMasterRequest) -> Outcome {
        handle(s, &t.view(NOW), req, false)
    }

    #[test]
    fn first_election_takes_the_requester_without_a_liveness_check() {
        let s = state(&[1, 2], None, &[]);
        let out = run(&s, &table(&[], &[1]), &broker(1));
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(hdr(&out, "masterBrokerId"), Some("1"));
        assert_eq!(hdr(&out, "masterAddress"), Some(addr(1).as_str()));
        assert_eq!(hdr(&out, "masterEpoch"), Some("1"));
        assert_eq!(hdr(&out, "syncStateSetEpoch"), Some("1"));
        assert_eq!(
            body(&out),
            format!(
                r#"{{"brokerMemberGroup":{{"brokerAddrs":{{"1":"{}","2":"{}"}},"brokerName":"b","cluster":"c"}},"syncStateSet":[1]}}"#,
                addr(1),
                addr(2)
            )
        );
        let change = out.role_change.clone().unwrap();
        assert_eq!((change.master_epoch, change.sync_state_set_epoch), (1, 1));
        let mut s = s;
        s.apply_all(&out.events);
        let sync = s.sync_state("b").unwrap();
        assert_eq!(sync.master_broker_id, Some(1));
        assert_eq!(sync.sync_state_set, [1].into());
    }

    #[test]
    fn a_first_election_without_an_id_uses_the_policy() {
        let s = state(&[1, 2], None, &[]);
        // The sync-state set is still empty: nobody qualifies.
        let out = run(
            &s,
            &table(&[1, 2], &[]),
            &ElectMasterRequest::controller_trigger("b"),
        );
        assert_eq!(code(&out), ResponseCode::CONTROLLER_MASTER_NOT_AVAILABLE);
    }

    #[test]
    fn a_live_master_is_kept_with_2011_and_its_current_state() {
        let s = state(&[1, 2], Some(1), &[1, 2]);
        let out = run(&s, &table(&[1, 2], &[]), &broker(2));
        assert_eq!(code(&out), ResponseCode::CONTROLLER_MASTER_STILL_EXIST);
        assert_eq!(hdr(&out, "masterBrokerId"), Some("1"));
        assert_eq!(hdr(&out, "masterEpoch"), Some("1"));
        assert_eq!(hdr(&out, "syncStateSetEpoch"), Some("2"));
        assert_eq!(body(&out), r#"{"syncStateSet":[1,2]}"#);
        assert!(out.events.is_empty() && out.role_change.is_none());
    }

    #[test]
    fn a_dead_master_is_replaced_by_the_best_in_sync_broker() {
        let s = state(&[1, 2, 3], Some(1), &[1, 2, 3]);
        let mut t = table(&[2], &[1]);
        t.on_heartbeat(heartbeat(3, 1, 500), 3, NOW);
        let out = run(&s, &t, &ElectMasterRequest::controller_trigger("b"));
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(hdr(&out, "masterBrokerId"), Some("3"));
        assert_eq!(hdr(&out, "masterEpoch"), Some("2"));
        assert_eq!(hdr(&out, "syncStateSetEpoch"), Some("3"));
        assert_eq!(
            out.role_change.as_ref().unwrap().targets(&t.view(NOW)),
            [addr(2), addr(3)]
        );
    }

    #[test]
    fn nobody_found_writes_an_event_only_when_the_controller_asked() {
        let s = state(&[1, 2], Some(1), &[1]);
        let t = table(&[2], &[1]);
        let out = run(&s, &t, &ElectMasterRequest::controller_trigger("b"));
        assert_eq!(code(&out), ResponseCode::CONTROLLER_MASTER_NOT_AVAILABLE);
        assert_eq!(
            out.events,
            [ControllerEvent::ElectMaster {
                broker_name: "b".into(),
                new_master: None
            }]
        );
        let out = run(&s, &t, &broker(2));
        assert_eq!(code(&out), ResponseCode::CONTROLLER_ELECT_MASTER_FAILED);
        assert!(out.events.is_empty() && out.header.is_empty());
        // Unclean election finds 2 outside the set.
        let out = handle(&s, &t.view(NOW), &broker(2), true);
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(hdr(&out, "masterBrokerId"), Some("2"));
    }

    #[test]
    fn admin_designated_elections() {
        let s = state(&[1, 2], Some(1), &[1, 2]);
        let t = table(&[1, 2], &[]);
        let out = run(&s, &t, &admin(2));
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(hdr(&out, "masterBrokerId"), Some("2"));
        assert_eq!(hdr(&out, "masterEpoch"), Some("2"));
        assert_eq!(out.role_change.unwrap().targets(&t.view(NOW)).len(), 2);
        let out = run(&s, &t, &admin(1));
        assert_eq!(code(&out), ResponseCode::CONTROLLER_MASTER_STILL_EXIST);
        let out = run(&s, &table(&[1], &[2]), &admin(2));
        assert_eq!(code(&out), ResponseCode::CONTROLLER_ELECT_MASTER_FAILED);
    }

    /// An admin 1002 that designates nobody (designateElect=true and no
    /// brokerId) must not depose a live master: Java answers 2011 and
    /// keeps it; reading the missing id as a target of -1 matched nobody
    /// and committed ElectMaster{None}.
    #[test]
    fn designate_elect_without_a_broker_id_keeps_a_live_master() {
        let s = state(&[1, 2], Some(1), &[1, 2]);
        let t = table(&[1, 2], &[]);
        let req = ElectMasterRequest::decode(&ext(&[
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("designateElect", "true"),
        ]));
        let out = run(&s, &t, &req);
        assert_eq!(code(&out), ResponseCode::CONTROLLER_MASTER_STILL_EXIST);
        assert_eq!(hdr(&out, "masterBrokerId"), Some("1"));
        assert_eq!(hdr(&out, "masterEpoch"), Some("1"));
        assert!(out.events.is_empty() && out.role_change.is_none());
        // With the master gone it behaves as an undesignated election.
        let out = run(&s, &table(&[2], &[1]), &req);
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(hdr(&out, "masterBrokerId"), Some("2"));
    }

    #[test]
    fn unknown_sets_must_register_first() {
        let out = run(&ControllerState::new(), &table(&[1], &[]), &broker(1));
        assert_eq!(
            code(&out),
            ResponseCode::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED
        );
        assert!(out.header.is_empty());
    }
}
