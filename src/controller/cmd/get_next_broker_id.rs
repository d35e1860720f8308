//! 1012 CONTROLLER_GET_NEXT_BROKER_ID: the id a new broker should apply for.

use crate::controller::error::ControllerError;
use crate::controller::outcome::Outcome;
use crate::controller::request::GetNextBrokerIdRequest;
use crate::controller::state::{ControllerState, FIRST_BROKER_ID};

/// Looks at the id table alone (not both maps), as Java does.
pub fn handle(
    state: &ControllerState,
    req: &GetNextBrokerIdRequest,
) -> Result<Outcome, ControllerError> {
    let name = req.broker_name.need()?;
    let next = state
        .replica_info(&name)
        .map_or(FIRST_BROKER_ID, |r| r.next_assign_broker_id);
    Ok(Outcome::success()
        .opt_header("clusterName", req.cluster_name.as_deref())
        .header("brokerName", name)
        .header("nextBrokerId", next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cmd::fixture::*;
    use crate::controller::request::ext;

    #[test]
    fn next_id_or_one_for_an_unknown_set() {
        let req =
            GetNextBrokerIdRequest::decode(&ext(&[("clusterName", "c"), ("brokerName", "b")]));
        let out = handle(&ControllerState::new(), &req).unwrap();
        assert_eq!(hdr(&out, "nextBrokerId"), Some("1"));
        assert_eq!(hdr(&out, "clusterName"), Some("c"));
        assert_eq!(hdr(&out, "brokerName"), Some("b"));
        let out = handle(&state(&[1, 2], None, &[]), &req).unwrap();
        assert_eq!(hdr(&out, "nextBrokerId"), Some("3"));
        assert!(out.events.is_empty());
        let req = GetNextBrokerIdRequest::decode(&ext(&[]));
        assert!(handle(&ControllerState::new(), &req).is_err());
    }
}
