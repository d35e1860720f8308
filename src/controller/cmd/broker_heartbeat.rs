//! 904 BROKER_HEARTBEAT on the controller port: served by every node into
//! its own table, never replicated. One-way, so the reply is never sent;
//! it is computed anyway for logs and metrics.

use crate::controller::error::ControllerError;
use crate::controller::heartbeat::{ConnId, HeartbeatTable};
use crate::controller::outcome::Outcome;
use crate::controller::request::BrokerHeartbeatRequest;
use crate::remoting::ResponseCode;

/// Records the heartbeat. A heartbeat without cluster, name or address is
/// an error (see [`BrokerHeartbeatRequest::to_heartbeat`]).
pub fn handle(
    table: &mut HeartbeatTable,
    req: &BrokerHeartbeatRequest,
    conn: ConnId,
    now_ms: i64,
) -> Result<Outcome, ControllerError> {
    let Some(id) = req.broker_id else {
        return Ok(Outcome::refused(
            ResponseCode::CONTROLLER_INVALID_REQUEST,
            "a heartbeat needs a brokerId",
        ));
    };
    table.on_heartbeat(req.to_heartbeat(id)?, conn, now_ms);
    Ok(Outcome::refused(
        ResponseCode::SUCCESS,
        "heartbeat recorded",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::request::ext;

    #[test]
    fn records_or_refuses_without_an_id() {
        let mut t = HeartbeatTable::new();
        let fields = [
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("brokerAddr", "h:1"),
            ("heartbeatTimeoutMills", "3000"),
            ("electionPriority", "5"),
        ];
        let req = BrokerHeartbeatRequest::decode(&ext(&fields));
        let out = handle(&mut t, &req, 1, 0).unwrap();
        assert_eq!(out.code, ResponseCode::CONTROLLER_INVALID_REQUEST);
        assert!(t.is_empty());
        let mut with_id = fields.to_vec();
        with_id.push(("brokerId", "2"));
        let req = BrokerHeartbeatRequest::decode(&ext(&with_id));
        assert_eq!(
            handle(&mut t, &req, 1, 0).unwrap().code,
            ResponseCode::SUCCESS
        );
        let info = t.get("c", "b", 2).unwrap();
        assert_eq!((info.timeout_ms, info.election_priority), (3000, 5));
        assert!(t.is_alive("c", "b", 2, 3000) && !t.is_alive("c", "b", 2, 3001));
        let req = BrokerHeartbeatRequest::decode(&ext(&[("brokerId", "2")]));
        assert!(handle(&mut t, &req, 1, 0).is_err());
    }
}
