//! 1001 CONTROLLER_ALTER_SYNC_STATE_SET: a master grows or shrinks its
//! sync-state set. The checks run in Java's order, so a request wrong in
//! several ways gets the same code as from Java.

use crate::controller::body::{self, SyncStateSetBody};
use crate::controller::error::ControllerError;
use crate::controller::event::ControllerEvent;
use crate::controller::heartbeat::Liveness;
use crate::controller::outcome::Outcome;
use crate::controller::request::AlterSyncStateSetRequest;
use crate::controller::state::ControllerState;
use crate::remoting::ResponseCode;

pub fn handle(
    state: &ControllerState,
    live: &dyn Liveness,
    req: &AlterSyncStateSetRequest,
    body: Option<&SyncStateSetBody>,
) -> Result<Outcome, ControllerError> {
    use ResponseCode::*;
    let name = req.broker_name.need()?;
    // Java's reply header is an int field, so even refusals carry a 0.
    let refuse =
        |code, remark: String| Ok(Outcome::refused(code, remark).header("newSyncStateSetEpoch", 0));
    let Some(set) = state.broker_set(&name) else {
        return refuse(
            CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            format!("broker set {name} is not registered"),
        );
    };
    let body = body.ok_or(ControllerError::MissingBody)?;
    let new_set = body
        .sync_state_set
        .as_ref()
        .ok_or_else(|| ControllerError::BadBody {
            what: "SyncStateSet",
            detail: "syncStateSet is missing".into(),
        })?;
    let sync = set.sync;
    if *new_set == sync.sync_state_set {
        return refuse(
            CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            "the new sync-state set equals the current one".into(),
        );
    }
    if sync.master_broker_id.is_none() || req.master_broker_id != sync.master_broker_id {
        return refuse(
            CONTROLLER_INVALID_MASTER,
            format!(
                "the master of {name} is {:?}, not {:?}",
                sync.master_broker_id, req.master_broker_id
            ),
        );
    }
    let master_epoch = req.master_epoch.need()?;
    if master_epoch != sync.master_epoch {
        return refuse(
            CONTROLLER_FENCED_MASTER_EPOCH,
            format!(
                "master epoch {master_epoch} is not the current {}",
                sync.master_epoch
            ),
        );
    }
    if body.sync_state_set_epoch != sync.sync_state_set_epoch {
        return refuse(
            CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH,
            format!(
                "sync-state set epoch {} is not the current {}",
                body.sync_state_set_epoch, sync.sync_state_set_epoch
            ),
        );
    }
    for id in new_set {
        if !set.replicas.contains(*id) {
            return refuse(
                CONTROLLER_INVALID_REPLICAS,
                format!("broker {id} is not registered in {name}"),
            );
        }
        if !live.is_alive(&set.replicas.cluster_name, &name, *id) {
            return refuse(
                CONTROLLER_BROKER_NOT_ALIVE,
                format!("broker {id} of {name} is not alive"),
            );
        }
    }
    if !sync.master_broker_id.is_some_and(|m| new_set.contains(&m)) {
        return refuse(
            CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            "the new sync-state set leaves out the master".into(),
        );
    }
    let epoch = sync.sync_state_set_epoch.wrapping_add(1);
    Ok(Outcome::success()
        .header("newSyncStateSetEpoch", epoch)
        .body(body::sync_state_set(new_set, epoch))
        .event(ControllerEvent::AlterSyncStateSet {
            broker_name: name,
            new_sync_state_set: new_set.clone(),
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cmd::fixture::*;
    use crate::controller::event::BrokerId;
    use crate::controller::request::ext;

    /// Alters set `b` (master 1, epochs 1/1, sss {1}) from master `master` at
    /// `epoch` to `ids` at `ss_epoch`.
    fn alter(
        state: &ControllerState,
        alive: &[BrokerId],
        master: &str,
        epoch: &str,
        ids: &[BrokerId],
        ss_epoch: i32,
    ) -> Outcome {
        let req = AlterSyncStateSetRequest::decode(&ext(&[
            ("brokerName", "b"),
            ("masterBrokerId", master),
            ("masterEpoch", epoch),
        ]));
        let body = SyncStateSetBody {
            sync_state_set: Some(ids.iter().copied().collect()),
            sync_state_set_epoch: ss_epoch,
        };
        let t = table(alive, &[]);
        Outcome::from_result(handle(state, &t.view(NOW), &req, Some(&body)))
    }

    #[test]
    fn success_bumps_the_set_epoch_and_emits_the_event() {
        let s = state(&[1, 2], Some(1), &[1]);
        let out = alter(&s, &[1, 2], "1", "1", &[1, 2], 1);
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(hdr(&out, "newSyncStateSetEpoch"), Some("2"));
        assert_eq!(
            body(&out),
            r#"{"syncStateSet":[1,2],"syncStateSetEpoch":2}"#
        );
        assert_eq!(
            out.events,
            [ControllerEvent::AlterSyncStateSet {
                broker_name: "b".into(),
                new_sync_state_set: [1, 2].into()
            }]
        );
        let mut s = s;
        s.apply_all(&out.events);
        let sync = s.sync_state("b").unwrap();
        assert_eq!(sync.sync_state_set_epoch, 2);
        assert_eq!(sync.master_epoch, 1);
    }

    /// (alive, masterBrokerId, masterEpoch, new set, ssEpoch, expected code)
    type Case = (
        &'static [BrokerId],
        &'static str,
        &'static str,
        &'static [BrokerId],
        i32,
        ResponseCode,
    );

    #[test]
    fn each_refusal_in_java_order() {
        use ResponseCode::*;
        let s = state(&[1, 2, 3], Some(1), &[1]);
        let cases: &[Case] = &[
            // Unchanged set beats every other fault.
            (
                &[1, 2],
                "9",
                "9",
                &[1],
                9,
                CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            ),
            (&[1, 2], "2", "9", &[1, 2], 9, CONTROLLER_INVALID_MASTER),
            (&[1, 2], "x", "1", &[1, 2], 1, CONTROLLER_INVALID_MASTER),
            (
                &[1, 2],
                "1",
                "0",
                &[1, 2],
                9,
                CONTROLLER_FENCED_MASTER_EPOCH,
            ),
            (
                &[1, 2],
                "1",
                "1",
                &[1, 2],
                0,
                CONTROLLER_FENCED_SYNC_STATE_SET_EPOCH,
            ),
            (&[1, 2], "1", "1", &[1, 7], 1, CONTROLLER_INVALID_REPLICAS),
            (&[1], "1", "1", &[1, 2], 1, CONTROLLER_BROKER_NOT_ALIVE),
            // Ids are checked in order: a dead 2 is found before an unknown 7.
            (&[1], "1", "1", &[1, 2, 7], 1, CONTROLLER_BROKER_NOT_ALIVE),
            (
                &[1, 2, 3],
                "1",
                "1",
                &[2, 3],
                1,
                CONTROLLER_ALTER_SYNC_STATE_SET_FAILED,
            ),
        ];
        for (alive, master, epoch, ids, ss_epoch, expected) in cases {
            let out = alter(&s, alive, master, epoch, ids, *ss_epoch);
            assert_eq!(code(&out), *expected, "{master} {epoch} {ids:?} {ss_epoch}");
            assert_eq!(hdr(&out, "newSyncStateSetEpoch"), Some("0"));
            assert!(out.events.is_empty());
        }
    }

    #[test]
    fn unknown_set_and_missing_master_refuse_with_2013_and_2002() {
        use ResponseCode::*;
        let empty = ControllerState::new();
        let out = alter(&empty, &[1], "1", "1", &[1, 2], 1);
        assert_eq!(code(&out), CONTROLLER_ALTER_SYNC_STATE_SET_FAILED);
        // A set whose master is gone (ElectMaster without a winner).
        let mut s = state(&[1, 2], Some(1), &[1]);
        s.apply(&ControllerEvent::ElectMaster {
            broker_name: "b".into(),
            new_master: None,
        });
        let out = alter(&s, &[1, 2], "1", "2", &[1, 2], 1);
        assert_eq!(code(&out), CONTROLLER_INVALID_MASTER);
    }

    #[test]
    fn null_fields_fail_where_java_dereferences_them() {
        let s = state(&[1, 2], Some(1), &[1]);
        let t = table(&[1, 2], &[]);
        let req =
            AlterSyncStateSetRequest::decode(&ext(&[("brokerName", "b"), ("masterBrokerId", "1")]));
        let body = SyncStateSetBody {
            sync_state_set: Some([1, 2].into()),
            sync_state_set_epoch: 1,
        };
        let err = handle(&s, &t.view(NOW), &req, Some(&body)).unwrap_err();
        assert_eq!(err, ControllerError::MissingField("masterEpoch"));
        // The unknown-set check comes before the body is looked at.
        let req = AlterSyncStateSetRequest::decode(&ext(&[("brokerName", "zz")]));
        let out = handle(&s, &t.view(NOW), &req, None).unwrap();
        assert_eq!(
            code(&out),
            ResponseCode::CONTROLLER_ALTER_SYNC_STATE_SET_FAILED
        );
        let req = AlterSyncStateSetRequest::decode(&ext(&[("brokerName", "b")]));
        assert_eq!(
            handle(&s, &t.view(NOW), &req, None).unwrap_err(),
            ControllerError::MissingBody
        );
        let no_set = SyncStateSetBody {
            sync_state_set: None,
            sync_state_set_epoch: 1,
        };
        assert!(handle(&s, &t.view(NOW), &req, Some(&no_set)).is_err());
        let req = AlterSyncStateSetRequest::decode(&ext(&[]));
        assert_eq!(
            handle(&s, &t.view(NOW), &req, Some(&body)).unwrap_err(),
            ControllerError::MissingField("brokerName")
        );
    }
}
