//! 1013 CONTROLLER_APPLY_BROKER_ID: a new broker claims the id 1012 offered.
//! The check code (`<address>;<millis>`, kept in the broker's temp file)
//! makes a retry after a lost reply idempotent.

use crate::controller::error::ControllerError;
use crate::controller::event::ControllerEvent;
use crate::controller::outcome::Outcome;
use crate::controller::request::ApplyBrokerIdRequest;
use crate::controller::state::{ControllerState, FIRST_BROKER_ID};
use crate::remoting::ResponseCode;

/// Like 1012 this looks at the id table alone. There is no check that the
/// id is the one 1012 offered, as in Java.
pub fn handle(
    state: &ControllerState,
    req: &ApplyBrokerIdRequest,
) -> Result<Outcome, ControllerError> {
    let check_code = req.register_check_code.need()?;
    let name = req.broker_name.need()?;
    let cluster = req.cluster_name.need()?;
    let out = Outcome::success()
        .header("clusterName", &cluster)
        .header("brokerName", &name);
    let address = check_code.split(';').next().unwrap_or_default().to_string();
    let id = req.applied_broker_id.need()?;
    let accepted = match state.replica_info(&name) {
        None => id == FIRST_BROKER_ID,
        Some(replicas) => replicas
            .brokers
            .get(&id)
            .is_none_or(|entry| entry.register_check_code == check_code),
    };
    if !accepted {
        return Ok(out.fail(
            ResponseCode::CONTROLLER_BROKER_ID_INVALID,
            format!("broker id {id} cannot be applied for in {name}"),
        ));
    }
    Ok(out.event(ControllerEvent::ApplyBrokerId {
        cluster_name: cluster,
        broker_name: name,
        broker_address: address,
        new_broker_id: id,
        register_check_code: check_code,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cmd::fixture::*;
    use crate::controller::event::BrokerId;
    use crate::controller::request::ext;

    fn req(id: BrokerId, code: &str) -> ApplyBrokerIdRequest {
        ApplyBrokerIdRequest::decode(&ext(&[
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("appliedBrokerId", &id.to_string()),
            ("registerCheckCode", code),
        ]))
    }

    #[test]
    fn an_unknown_set_accepts_only_id_one() {
        let s = ControllerState::new();
        let out = handle(&s, &req(5, &check_code(5))).unwrap();
        assert_eq!(code(&out), ResponseCode::CONTROLLER_BROKER_ID_INVALID);
        assert_eq!(hdr(&out, "brokerName"), Some("b"));
        assert!(out.events.is_empty());
        let out = handle(&s, &req(1, &check_code(1))).unwrap();
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(out.events, [apply_id("b", 1)]);
    }

    #[test]
    fn retries_with_the_same_code_are_idempotent_and_others_conflict() {
        let mut s = state(&[1, 2], None, &[]);
        let out = handle(&s, &req(2, &check_code(2))).unwrap();
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        let before = s.clone();
        s.apply_all(&out.events);
        assert_eq!(s, before, "a retry changes nothing");
        let out = handle(&s, &req(2, "10.0.0.9:1;77")).unwrap();
        assert_eq!(code(&out), ResponseCode::CONTROLLER_BROKER_ID_INVALID);
        // Any unused id is accepted, even one 1012 would not offer.
        let out = handle(&s, &req(9, "10.0.0.9:1;77")).unwrap();
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        s.apply_all(&out.events);
        let replicas = s.replica_info("b").unwrap();
        assert_eq!(replicas.brokers[&9].address, "10.0.0.9:1");
        assert_eq!(replicas.next_assign_broker_id, 4);
    }

    #[test]
    fn null_fields_fail_in_java_order() {
        let s = ControllerState::new();
        let r = ApplyBrokerIdRequest::decode(&ext(&[("brokerName", "b")]));
        assert_eq!(
            handle(&s, &r).unwrap_err(),
            ControllerError::MissingField("registerCheckCode")
        );
        let r = ApplyBrokerIdRequest::decode(&ext(&[
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("registerCheckCode", "a;1"),
            ("appliedBrokerId", "one"),
        ]));
        assert!(matches!(
            handle(&s, &r).unwrap_err(),
            ControllerError::MalformedField {
                field: "appliedBrokerId",
                ..
            }
        ));
    }
}
