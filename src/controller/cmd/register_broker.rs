//! 1003 CONTROLLER_REGISTER_BROKER: a broker with an id announces itself
//! and learns whether its set has a live master to follow.

use crate::controller::body;
use crate::controller::error::ControllerError;
use crate::controller::event::ControllerEvent;
use crate::controller::heartbeat::Liveness;
use crate::controller::outcome::Outcome;
use crate::controller::request::RegisterBrokerRequest;
use crate::controller::state::ControllerState;
use crate::remoting::ResponseCode;

pub fn handle(
    state: &ControllerState,
    live: &dyn Liveness,
    req: &RegisterBrokerRequest,
) -> Result<Outcome, ControllerError> {
    let name = req.broker_name.need()?;
    // Java fills these two before any check, so refusals carry them too.
    let out = Outcome::success()
        .opt_header("clusterName", req.cluster_name.as_deref())
        .header("brokerName", &name);
    let Some(set) = state.broker_set(&name) else {
        return Ok(out.fail(
            ResponseCode::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED,
            format!("broker set {name} is not registered"),
        ));
    };
    let id = req.broker_id.need()?;
    if !set.replicas.contains(id) {
        return Ok(out.fail(
            ResponseCode::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED,
            format!("broker id {id} is not registered in {name}"),
        ));
    }
    let sync = set.sync;
    // Liveness is looked up under the cluster the broker names; without
    // one (Java: null) no entry matches.
    let live_master = sync.master_broker_id.filter(|m| {
        req.cluster_name
            .as_deref()
            .is_some_and(|cluster| live.is_alive(cluster, &name, *m))
    });
    let mut out = match live_master {
        Some(m) => out
            .header("masterBrokerId", m)
            .opt_header("masterAddress", set.replicas.address(Some(m)))
            .header("masterEpoch", sync.master_epoch)
            .header("syncStateSetEpoch", sync.sync_state_set_epoch),
        None => out,
    }
    .body(body::sync_state_set(
        &sync.sync_state_set,
        sync.sync_state_set_epoch,
    ));
    let address = req.broker_address.need()?;
    if set.replicas.address(Some(id)) != Some(address.as_str()) {
        out = out.event(ControllerEvent::UpdateBrokerAddress {
            cluster_name: req.cluster_name.clone(),
            broker_name: name,
            broker_address: address,
            broker_id: id,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cmd::fixture::*;
    use crate::controller::request::ext;

    fn req(id: &str, address: &str) -> RegisterBrokerRequest {
        RegisterBrokerRequest::decode(&ext(&[
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("brokerId", id),
            ("brokerAddress", address),
        ]))
    }

    #[test]
    fn master_fields_only_when_the_master_is_alive() {
        let s = state(&[1, 2], Some(1), &[1, 2]);
        let out = handle(&s, &table(&[1, 2], &[]).view(NOW), &req("2", &addr(2))).unwrap();
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(hdr(&out, "clusterName"), Some("c"));
        assert_eq!(hdr(&out, "brokerName"), Some("b"));
        assert_eq!(hdr(&out, "masterBrokerId"), Some("1"));
        assert_eq!(hdr(&out, "masterAddress"), Some(addr(1).as_str()));
        assert_eq!(hdr(&out, "masterEpoch"), Some("1"));
        assert_eq!(hdr(&out, "syncStateSetEpoch"), Some("2"));
        assert_eq!(
            body(&out),
            r#"{"syncStateSet":[1,2],"syncStateSetEpoch":2}"#
        );
        assert!(out.events.is_empty());
        let out = handle(&s, &table(&[2], &[1]).view(NOW), &req("2", &addr(2))).unwrap();
        assert_eq!(code(&out), ResponseCode::SUCCESS);
        assert_eq!(hdr(&out, "masterBrokerId"), None);
        assert_eq!(hdr(&out, "masterEpoch"), None);
        assert_eq!(
            body(&out),
            r#"{"syncStateSet":[1,2],"syncStateSetEpoch":2}"#
        );
    }

    #[test]
    fn a_new_address_is_recorded() {
        let s = state(&[1], Some(1), &[1]);
        let out = handle(&s, &table(&[1], &[]).view(NOW), &req("1", "10.9.9.9:1")).unwrap();
        assert_eq!(
            out.events,
            [ControllerEvent::UpdateBrokerAddress {
                cluster_name: Some("c".into()),
                broker_name: "b".into(),
                broker_address: "10.9.9.9:1".into(),
                broker_id: 1
            }]
        );
        let mut s = s;
        s.apply_all(&out.events);
        let entry = &s.replica_info("b").unwrap().brokers[&1];
        assert_eq!(entry.address, "10.9.9.9:1");
        assert_eq!(entry.register_check_code, check_code(1), "the code is kept");
    }

    #[test]
    fn unknown_set_or_id_must_register_first() {
        let t = table(&[1], &[]);
        let out = handle(&ControllerState::new(), &t.view(NOW), &req("1", "x")).unwrap();
        assert_eq!(
            code(&out),
            ResponseCode::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED
        );
        assert_eq!(hdr(&out, "brokerName"), Some("b"));
        let s = state(&[1], None, &[]);
        let out = handle(&s, &t.view(NOW), &req("5", "x")).unwrap();
        assert_eq!(
            code(&out),
            ResponseCode::CONTROLLER_BROKER_NEED_TO_BE_REGISTERED
        );
        // Null fields: the id is needed after the set check, the address last.
        let r = RegisterBrokerRequest::decode(&ext(&[("brokerName", "b")]));
        assert_eq!(
            handle(&s, &t.view(NOW), &r).unwrap_err(),
            ControllerError::MissingField("brokerId")
        );
        let r = RegisterBrokerRequest::decode(&ext(&[("brokerName", "b"), ("brokerId", "1")]));
        assert_eq!(
            handle(&s, &t.view(NOW), &r).unwrap_err(),
            ControllerError::MissingField("brokerAddress")
        );
        let r = RegisterBrokerRequest::decode(&ext(&[("brokerName", "zz")]));
        assert!(handle(&s, &t.view(NOW), &r).is_ok());
    }
}
