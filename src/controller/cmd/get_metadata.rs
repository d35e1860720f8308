//! 1005 CONTROLLER_GET_METADATA_INFO, answered by every node from its raft
//! view: how brokers and admin tools find the leader.

use crate::controller::outcome::Outcome;
use crate::controller::peers::{NodeId, Peers};

/// `is_leader` is the raw raft role (a leader whose first entry has not
/// committed yet already says true, as DLedger does); `leader` is whom this
/// node believes leads. Without a leader the leader fields are absent.
pub fn handle(
    group: Option<&str>,
    peers: &Peers,
    leader: Option<NodeId>,
    is_leader: bool,
) -> Outcome {
    let leader = leader.and_then(|id| peers.by_node_id(id));
    Outcome::success()
        .opt_header("group", group)
        .opt_header("controllerLeaderId", leader.map(|p| p.id.as_str()))
        .opt_header("controllerLeaderAddress", leader.map(|p| p.address()))
        .header("isLeader", is_leader)
        .header("peers", peers.metadata_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cmd::fixture::hdr;

    #[test]
    fn reports_the_leader_and_peers_as_dledger_does() {
        let peers = Peers::parse(Some("n0-127.0.0.1:9878;n1-127.0.0.1:9868"), Some("n0")).unwrap();
        let out = handle(Some("group1"), &peers, Some(1), false);
        assert_eq!(hdr(&out, "group"), Some("group1"));
        assert_eq!(hdr(&out, "controllerLeaderId"), Some("n1"));
        assert_eq!(hdr(&out, "controllerLeaderAddress"), Some("127.0.0.1:9868"));
        assert_eq!(hdr(&out, "isLeader"), Some("false"));
        assert_eq!(
            hdr(&out, "peers"),
            Some("n0:127.0.0.1:9878;n1:127.0.0.1:9868;")
        );
        let out = handle(None, &peers, None, false);
        assert_eq!(hdr(&out, "controllerLeaderAddress"), None);
        assert_eq!(hdr(&out, "group"), None);
    }
}
