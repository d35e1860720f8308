//! 1011 CLEAN_BROKER_DATA: an admin drops a set, or some of its ids, from
//! the controller's metadata.

use std::collections::BTreeSet;

use crate::controller::error::ControllerError;
use crate::controller::event::{BrokerId, ControllerEvent};
use crate::controller::heartbeat::Liveness;
use crate::controller::outcome::Outcome;
use crate::controller::request::CleanBrokerDataRequest;
use crate::controller::state::ControllerState;
use crate::remoting::ResponseCode;

/// Unless `isCleanLivingBroker` is set, the clean is refused while the set
/// has a master (no ids given) or any listed id is alive. Liveness is looked
/// up under the request's cluster; without one nothing is alive, as in Java.
///
/// With `isCleanLivingBroker`, Java never parses the id list, so the whole
/// set is dropped even when ids are given; we do the same.
pub fn handle(
    state: &ControllerState,
    live: &dyn Liveness,
    req: &CleanBrokerDataRequest,
) -> Result<Outcome, ControllerError> {
    let name = req.broker_name.need()?;
    let refuse = |remark: String| {
        Ok(Outcome::refused(
            ResponseCode::CONTROLLER_INVALID_CLEAN_BROKER_METADATA,
            remark,
        ))
    };
    let mut ids = None;
    if !req.is_clean_living_broker {
        let listed = req
            .broker_controller_ids_to_clean
            .as_deref()
            .filter(|s| !s.trim().is_empty());
        let has_master = state
            .sync_state(&name)
            .is_some_and(|s| s.master_broker_id.is_some());
        if listed.is_none() && has_master {
            return refuse(format!("broker set {name} still has a master"));
        }
        if let Some(listed) = listed {
            let Some(parsed) = parse_ids(listed) else {
                return refuse(format!(
                    "brokerControllerIdsToClean {listed:?} is not a ';'-separated list of ids"
                ));
            };
            let cluster = req.cluster_name.as_deref();
            if let Some(id) = parsed
                .iter()
                .find(|id| cluster.is_some_and(|c| live.is_alive(c, &name, **id)))
            {
                return refuse(format!("broker {id} of {name} is still alive"));
            }
            ids = Some(parsed);
        }
    }
    if state.broker_set(&name).is_none() {
        return refuse(format!("broker set {name} is not registered"));
    }
    Ok(Outcome::success().event(ControllerEvent::CleanBrokerData {
        broker_name: name,
        broker_ids_to_clean: ids,
    }))
}

/// Java's `split(";")` then `Long.valueOf` on each piece: trailing empty
/// pieces vanish, any other empty or non-numeric piece fails the list.
fn parse_ids(text: &str) -> Option<BTreeSet<BrokerId>> {
    let mut pieces: Vec<&str> = text.split(';').collect();
    while pieces.last().is_some_and(|p| p.is_empty()) {
        pieces.pop();
    }
    pieces.into_iter().map(|p| p.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cmd::fixture::*;
    use crate::controller::heartbeat::HeartbeatTable;
    use crate::controller::request::ext;

    fn req(ids: Option<&str>, living: bool) -> CleanBrokerDataRequest {
        let mut fields = vec![("clusterName", "c"), ("brokerName", "b")];
        if let Some(ids) = ids {
            fields.push(("brokerControllerIdsToClean", ids));
        }
        if living {
            fields.push(("isCleanLivingBroker", "true"));
        }
        CleanBrokerDataRequest::decode(&ext(&fields))
    }

    fn run(s: &ControllerState, t: &HeartbeatTable, r: &CleanBrokerDataRequest) -> Outcome {
        Outcome::from_result(handle(s, &t.view(NOW), r))
    }

    #[test]
    fn refusals_give_2009() {
        let invalid = ResponseCode::CONTROLLER_INVALID_CLEAN_BROKER_METADATA;
        let s = state(&[1, 2], Some(1), &[1, 2]);
        let t = table(&[2], &[1]);
        for (ids, why) in [
            (None, "a master is set"),
            (Some("  "), "blank is no list"),
            (Some("1;x"), "unparsable"),
            (Some(";1"), "an empty leading piece"),
            (Some("1; 2"), "Java does not trim"),
            (Some("1;2"), "2 is alive"),
        ] {
            let out = run(&s, &t, &req(ids, false));
            assert_eq!(code(&out), invalid, "{why}");
            assert!(out.events.is_empty());
        }
        let out = run(&ControllerState::new(), &t, &req(Some("1"), false));
        assert_eq!(code(&out), invalid, "unknown set");
        let out = run(&ControllerState::new(), &t, &req(None, true));
        assert_eq!(code(&out), invalid, "unknown set, even for living brokers");
    }

    #[test]
    fn dead_ids_are_cleaned_and_ids_stay_unused() {
        let s = state(&[1, 2, 3], Some(1), &[1, 2]);
        let t = table(&[1], &[2, 3]);
        let out = run(&s, &t, &req(Some("2;3;"), false));
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(
            out.events,
            [ControllerEvent::CleanBrokerData {
                broker_name: "b".into(),
                broker_ids_to_clean: Some([2, 3].into())
            }]
        );
        let mut s = s;
        s.apply_all(&out.events);
        let r = s.replica_info("b").unwrap();
        assert_eq!(r.ids(), [1].into());
        assert_eq!(
            r.next_assign_broker_id, 4,
            "cleaned ids are not handed out again"
        );
        assert_eq!(s.sync_state("b").unwrap().sync_state_set, [1].into());
    }

    #[test]
    fn a_set_without_master_is_dropped_whole_and_ids_restart() {
        let mut s = state(&[1, 2], Some(1), &[1]);
        s.apply(&ControllerEvent::ElectMaster {
            broker_name: "b".into(),
            new_master: None,
        });
        let out = run(&s, &table(&[], &[1, 2]), &req(None, false));
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        s.apply_all(&out.events);
        assert!(s.replica_info("b").is_none() && s.sync_state("b").is_none());
    }

    #[test]
    fn living_brokers_are_dropped_whole_when_asked() {
        let s = state(&[1, 2], Some(1), &[1, 2]);
        let out = run(&s, &table(&[1, 2], &[]), &req(Some("2"), true));
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(
            out.events,
            [ControllerEvent::CleanBrokerData {
                broker_name: "b".into(),
                broker_ids_to_clean: None
            }]
        );
    }

    #[test]
    fn without_a_cluster_nothing_counts_as_alive() {
        let s = state(&[1, 2], Some(1), &[1, 2]);
        let r = CleanBrokerDataRequest::decode(&ext(&[
            ("brokerName", "b"),
            ("brokerControllerIdsToClean", "2"),
        ]));
        let out = run(&s, &table(&[1, 2], &[]), &r);
        assert_eq!(code(&out), ResponseCode::SUCCESS);
    }
}
