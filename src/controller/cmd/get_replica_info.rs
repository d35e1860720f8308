//! 1004 CONTROLLER_GET_REPLICA_INFO: a broker's 5 s poll of its set's state.

use crate::controller::body;
use crate::controller::error::ControllerError;
use crate::controller::outcome::Outcome;
use crate::controller::request::GetReplicaInfoRequest;
use crate::controller::state::ControllerState;
use crate::remoting::ResponseCode;

pub fn handle(
    state: &ControllerState,
    req: &GetReplicaInfoRequest,
) -> Result<Outcome, ControllerError> {
    let name = req.broker_name.need()?;
    let Some(set) = state.broker_set(&name) else {
        return Ok(Outcome::refused(
            ResponseCode::CONTROLLER_BROKER_METADATA_NOT_EXIST,
            format!("broker set {name} is not registered"),
        ));
    };
    let sync = set.sync;
    Ok(Outcome::success()
        .opt_header("masterBrokerId", sync.master_broker_id)
        .opt_header("masterAddress", set.replicas.address(sync.master_broker_id))
        .header("masterEpoch", sync.master_epoch)
        .body(body::sync_state_set(
            &sync.sync_state_set,
            sync.sync_state_set_epoch,
        )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cmd::fixture::*;
    use crate::controller::event::ControllerEvent;
    use crate::controller::request::ext;

    fn req(name: &str) -> GetReplicaInfoRequest {
        GetReplicaInfoRequest::decode(&ext(&[("brokerName", name)]))
    }

    #[test]
    fn reports_master_and_set_or_2008() {
        let s = state(&[1, 2], Some(2), &[2, 1]);
        let out = handle(&s, &req("b")).unwrap();
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(hdr(&out, "masterBrokerId"), Some("2"));
        assert_eq!(hdr(&out, "masterAddress"), Some(addr(2).as_str()));
        assert_eq!(hdr(&out, "masterEpoch"), Some("1"));
        assert_eq!(
            body(&out),
            r#"{"syncStateSet":[1,2],"syncStateSetEpoch":2}"#
        );
        let out = handle(&s, &req("x")).unwrap();
        assert_eq!(
            code(&out),
            ResponseCode::CONTROLLER_BROKER_METADATA_NOT_EXIST
        );
        assert!(out.header.is_empty() && out.body.is_none());
        assert!(handle(&s, &GetReplicaInfoRequest::decode(&ext(&[]))).is_err());
    }

    #[test]
    fn no_master_leaves_the_master_fields_out() {
        let mut s = state(&[1], Some(1), &[1]);
        s.apply(&ControllerEvent::ElectMaster {
            broker_name: "b".into(),
            new_master: None,
        });
        let out = handle(&s, &req("b")).unwrap();
        assert_eq!(hdr(&out, "masterBrokerId"), None);
        assert_eq!(hdr(&out, "masterAddress"), None);
        assert_eq!(hdr(&out, "masterEpoch"), Some("2"));
    }
}
