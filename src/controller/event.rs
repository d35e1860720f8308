//! The replicated log's payload: outcomes the leader decided, never the
//! requests that led to them, so applying one needs no clock and no
//! heartbeat table.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// A broker's controller-assigned id (`brokerId` on the controller port).
pub type BrokerId = i64;

/// One event of the controller's state machine (Java `EventType`).
///
/// Externally tagged so any serde format (not only JSON) can carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControllerEvent {
    /// A master's new sync-state set (1001).
    AlterSyncStateSet {
        broker_name: String,
        new_sync_state_set: BTreeSet<BrokerId>,
    },
    /// A broker took an id (1013); the first one creates the broker set.
    ApplyBrokerId {
        cluster_name: String,
        broker_name: String,
        broker_address: String,
        new_broker_id: BrokerId,
        register_check_code: String,
    },
    /// An election's result (1002 or a controller trigger). `None` records
    /// that the master is gone and nobody could replace it; Java encodes the
    /// same with `newMasterElected=false`.
    ElectMaster {
        broker_name: String,
        new_master: Option<BrokerId>,
    },
    /// An admin clean (1011): `None` or an empty set drops the whole set.
    CleanBrokerData {
        broker_name: String,
        broker_ids_to_clean: Option<BTreeSet<BrokerId>>,
    },
    /// A registered broker came back on another address (1003).
    UpdateBrokerAddress {
        cluster_name: Option<String>,
        broker_name: String,
        broker_address: String,
        broker_id: BrokerId,
    },
}

impl ControllerEvent {
    /// Java's event type id, for logs and metrics.
    pub fn type_id(&self) -> u16 {
        match self {
            Self::AlterSyncStateSet { .. } => 1,
            Self::ApplyBrokerId { .. } => 2,
            Self::ElectMaster { .. } => 3,
            Self::CleanBrokerData { .. } => 5,
            Self::UpdateBrokerAddress { .. } => 6,
        }
    }

    pub fn broker_name(&self) -> &str {
        match self {
            Self::AlterSyncStateSet { broker_name, .. }
            | Self::ApplyBrokerId { broker_name, .. }
            | Self::ElectMaster { broker_name, .. }
            | Self::CleanBrokerData { broker_name, .. }
            | Self::UpdateBrokerAddress { broker_name, .. } => broker_name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_serde() {
        let events = vec![
            ControllerEvent::AlterSyncStateSet {
                broker_name: "b".into(),
                new_sync_state_set: [1, 2].into(),
            },
            ControllerEvent::ApplyBrokerId {
                cluster_name: "c".into(),
                broker_name: "b".into(),
                broker_address: "h:1".into(),
                new_broker_id: 1,
                register_check_code: "h:1;5".into(),
            },
            ControllerEvent::ElectMaster {
                broker_name: "b".into(),
                new_master: None,
            },
            ControllerEvent::CleanBrokerData {
                broker_name: "b".into(),
                broker_ids_to_clean: Some([3].into()),
            },
            ControllerEvent::UpdateBrokerAddress {
                cluster_name: None,
                broker_name: "b".into(),
                broker_address: "h:2".into(),
                broker_id: 1,
            },
        ];
        let text = serde_json::to_string(&events).unwrap();
        let back: Vec<ControllerEvent> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, events);
        let ids: Vec<u16> = events.iter().map(ControllerEvent::type_id).collect();
        assert_eq!(ids, [1, 2, 3, 5, 6]);
        assert!(events.iter().all(|e| e.broker_name() == "b"));
    }
}
