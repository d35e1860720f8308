//! NOTIFY_BROKER_ROLE_CHANGED (1008): after a successful election the leader
//! tells the set's live brokers who the master is. One-way, no retry: the
//! brokers' 5 s poll of 1004 covers a lost message.

use std::collections::{BTreeMap, BTreeSet};

use super::body;
use super::event::BrokerId;
use super::heartbeat::Liveness;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    pub cluster_name: String,
    pub broker_name: String,
    pub master_broker_id: BrokerId,
    pub master_address: Option<String>,
    pub master_epoch: i32,
    pub sync_state_set_epoch: i32,
    pub sync_state_set: BTreeSet<BrokerId>,
    /// Every member at election time, by id.
    pub broker_addrs: BTreeMap<BrokerId, String>,
}

impl RoleChange {
    /// The addresses to notify: members alive in the leader's table.
    pub fn targets(&self, live: &dyn Liveness) -> Vec<String> {
        self.broker_addrs
            .iter()
            .filter(|(id, _)| live.is_alive(&self.cluster_name, &self.broker_name, **id))
            .map(|(_, addr)| addr.clone())
            .filter(|addr| !addr.is_empty())
            .collect()
    }

    /// The one-way request sent to each target.
    pub fn to_request(&self, opaque: i32) -> RemotingCommand {
        let mut req =
            RemotingCommand::request(RequestCode::NOTIFY_BROKER_ROLE_CHANGED.value(), opaque)
                .with_ext("masterBrokerId", self.master_broker_id)
                .with_ext("masterEpoch", self.master_epoch)
                .with_ext("syncStateSetEpoch", self.sync_state_set_epoch)
                .with_body(body::sync_state_set(
                    &self.sync_state_set,
                    self.sync_state_set_epoch,
                ))
                .mark_oneway();
        if let Some(addr) = &self.master_address {
            req = req.with_ext("masterAddress", addr);
        }
        req
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::heartbeat::{BrokerIdentity, Heartbeat, HeartbeatTable};

    #[test]
    fn notifies_live_members_with_the_new_epochs() {
        let change = RoleChange {
            cluster_name: "c".into(),
            broker_name: "b".into(),
            master_broker_id: 2,
            master_address: Some("h:2".into()),
            master_epoch: 3,
            sync_state_set_epoch: 4,
            sync_state_set: [2].into(),
            broker_addrs: [(1, "h:1".to_string()), (2, "h:2".to_string())].into(),
        };
        let mut table = HeartbeatTable::new();
        table.on_heartbeat(
            Heartbeat {
                identity: BrokerIdentity::new("c", "b", 2),
                broker_addr: "h:2".into(),
                timeout_ms: None,
                epoch: None,
                max_offset: None,
                confirm_offset: None,
                election_priority: None,
            },
            1,
            0,
        );
        assert_eq!(change.targets(&table.view(0)), ["h:2"]);
        let req = change.to_request(9);
        assert_eq!(req.code, 1008);
        assert!(req.is_oneway());
        assert_eq!(req.ext_fields["masterEpoch"], "3");
        assert_eq!(req.ext_fields["masterAddress"], "h:2");
        assert_eq!(
            &req.body[..],
            br#"{"syncStateSet":[2],"syncStateSetEpoch":4}"#
        );
    }
}
