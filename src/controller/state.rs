//! The replicated state: two maps keyed by broker name, changed only by
//! [`ControllerState::apply`], in log order, on every node.
//!
//! Apply follows Java's `ReplicasInfoManager` event handlers, quirks
//! included: a set *exists* only while it is in both maps; a partial clean
//! that empties the sync-state set but not the ids makes it not exist, and a
//! later ApplyBrokerId then recreates it from scratch.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::error::ControllerError;
use super::event::{BrokerId, ControllerEvent};

/// The first id the controller hands out (Java `FIRST_BROKER_CONTROLLER_ID`).
pub const FIRST_BROKER_ID: BrokerId = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerEntry {
    pub address: String,
    /// `<address>;<millis>`, written by the broker before it applies.
    pub register_check_code: String,
}

/// Java `BrokerReplicaInfo`: a set's members by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerReplicaInfo {
    pub cluster_name: String,
    pub broker_name: String,
    /// Up by one on every add; never down while this record lives.
    pub next_assign_broker_id: BrokerId,
    pub brokers: BTreeMap<BrokerId, BrokerEntry>,
}

impl BrokerReplicaInfo {
    fn new(cluster_name: &str, broker_name: &str) -> Self {
        BrokerReplicaInfo {
            cluster_name: cluster_name.to_string(),
            broker_name: broker_name.to_string(),
            next_assign_broker_id: FIRST_BROKER_ID,
            brokers: BTreeMap::new(),
        }
    }

    fn add(&mut self, id: BrokerId, address: &str, register_check_code: &str) {
        self.brokers.insert(
            id,
            BrokerEntry {
                address: address.to_string(),
                register_check_code: register_check_code.to_string(),
            },
        );
        self.next_assign_broker_id = self.next_assign_broker_id.wrapping_add(1);
    }

    pub fn contains(&self, id: BrokerId) -> bool {
        self.brokers.contains_key(&id)
    }

    pub fn address(&self, id: Option<BrokerId>) -> Option<&str> {
        id.and_then(|id| self.brokers.get(&id))
            .map(|e| e.address.as_str())
    }

    pub fn ids(&self) -> BTreeSet<BrokerId> {
        self.brokers.keys().copied().collect()
    }
}

/// Java `SyncStateInfo`: a set's master and in-sync replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStateInfo {
    pub cluster_name: String,
    pub broker_name: String,
    /// Java `int`s; they wrap as Java's AtomicInteger does.
    pub master_epoch: i32,
    pub sync_state_set_epoch: i32,
    pub sync_state_set: BTreeSet<BrokerId>,
    pub master_broker_id: Option<BrokerId>,
}

impl SyncStateInfo {
    fn new(cluster_name: &str, broker_name: &str) -> Self {
        SyncStateInfo {
            cluster_name: cluster_name.to_string(),
            broker_name: broker_name.to_string(),
            master_epoch: 0,
            sync_state_set_epoch: 0,
            sync_state_set: BTreeSet::new(),
            master_broker_id: None,
        }
    }

    /// No master was ever elected: the first 1002 wins without a policy.
    pub fn is_first_election(&self) -> bool {
        self.master_epoch == 0
    }

    fn set_master(&mut self, master: Option<BrokerId>) {
        self.master_broker_id = master;
        self.master_epoch = self.master_epoch.wrapping_add(1);
    }

    fn set_sync_state_set(&mut self, set: BTreeSet<BrokerId>) {
        self.sync_state_set = set;
        self.sync_state_set_epoch = self.sync_state_set_epoch.wrapping_add(1);
    }
}

/// A set that exists: present in both maps.
#[derive(Debug, Clone, Copy)]
pub struct BrokerSet<'a> {
    pub replicas: &'a BrokerReplicaInfo,
    pub sync: &'a SyncStateInfo,
}

/// Both maps, ordered so that snapshots and comparisons are canonical.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerState {
    replica_info: BTreeMap<String, BrokerReplicaInfo>,
    sync_state: BTreeMap<String, SyncStateInfo>,
}

impl ControllerState {
    pub fn new() -> Self {
        Self::default()
    }

    /// The set named `broker_name` if it exists (is in both maps).
    pub fn broker_set(&self, broker_name: &str) -> Option<BrokerSet<'_>> {
        Some(BrokerSet {
            replicas: self.replica_info.get(broker_name)?,
            sync: self.sync_state.get(broker_name)?,
        })
    }

    /// The id table alone; 1012 and 1013 look only at it.
    pub fn replica_info(&self, broker_name: &str) -> Option<&BrokerReplicaInfo> {
        self.replica_info.get(broker_name)
    }

    pub fn sync_state(&self, broker_name: &str) -> Option<&SyncStateInfo> {
        self.sync_state.get(broker_name)
    }

    pub fn sync_states(&self) -> impl Iterator<Item = &SyncStateInfo> {
        self.sync_state.values()
    }

    pub fn apply_all<'a>(&mut self, events: impl IntoIterator<Item = &'a ControllerEvent>) {
        for event in events {
            self.apply(event);
        }
    }

    /// Applies one committed event. Events that name a set that no longer
    /// exists are ignored, as Java ignores them (for UpdateBrokerAddress
    /// Java would fail with a null pointer instead).
    pub fn apply(&mut self, event: &ControllerEvent) {
        match event {
            ControllerEvent::AlterSyncStateSet {
                broker_name,
                new_sync_state_set,
            } => self.alter_sync_state_set(broker_name, new_sync_state_set),
            ControllerEvent::ApplyBrokerId {
                cluster_name,
                broker_name,
                broker_address,
                new_broker_id,
                register_check_code,
            } => self.apply_broker_id(
                cluster_name,
                broker_name,
                broker_address,
                *new_broker_id,
                register_check_code,
            ),
            ControllerEvent::ElectMaster {
                broker_name,
                new_master,
            } => self.elect_master(broker_name, *new_master),
            ControllerEvent::CleanBrokerData {
                broker_name,
                broker_ids_to_clean,
            } => self.clean(broker_name, broker_ids_to_clean.as_ref()),
            ControllerEvent::UpdateBrokerAddress {
                broker_name,
                broker_address,
                broker_id,
                ..
            } => self.update_address(broker_name, broker_address, *broker_id),
        }
    }

    fn exists(&self, broker_name: &str) -> bool {
        self.replica_info.contains_key(broker_name) && self.sync_state.contains_key(broker_name)
    }

    fn alter_sync_state_set(&mut self, broker_name: &str, set: &BTreeSet<BrokerId>) {
        if !self.exists(broker_name) {
            return;
        }
        if let Some(sync) = self.sync_state.get_mut(broker_name) {
            sync.set_sync_state_set(set.clone());
        }
    }

    fn apply_broker_id(
        &mut self,
        cluster_name: &str,
        broker_name: &str,
        address: &str,
        id: BrokerId,
        check_code: &str,
    ) {
        if self.exists(broker_name) {
            if let Some(replicas) = self.replica_info.get_mut(broker_name) {
                if !replicas.contains(id) {
                    replicas.add(id, address, check_code);
                }
            }
            return;
        }
        // A new set, or one a partial clean left in one map only: Java
        // starts both records afresh, dropping what the stale one held.
        let mut replicas = BrokerReplicaInfo::new(cluster_name, broker_name);
        replicas.add(id, address, check_code);
        self.replica_info.insert(broker_name.to_string(), replicas);
        self.sync_state.insert(
            broker_name.to_string(),
            SyncStateInfo::new(cluster_name, broker_name),
        );
    }

    fn elect_master(&mut self, broker_name: &str, new_master: Option<BrokerId>) {
        if !self.exists(broker_name) {
            tracing::warn!(
                broker_name,
                "election result for an unknown broker set ignored"
            );
            return;
        }
        if let Some(sync) = self.sync_state.get_mut(broker_name) {
            sync.set_master(new_master);
            // Without a new master the set is kept: its members are the
            // only clean candidates once one of them comes back.
            if let Some(master) = new_master {
                sync.set_sync_state_set(BTreeSet::from([master]));
            }
        }
    }

    fn clean(&mut self, broker_name: &str, ids: Option<&BTreeSet<BrokerId>>) {
        let ids = match ids {
            Some(ids) if !ids.is_empty() => ids,
            _ => {
                self.replica_info.remove(broker_name);
                self.sync_state.remove(broker_name);
                return;
            }
        };
        if !self.exists(broker_name) {
            return;
        }
        // The master id and the epochs are left alone, as in Java.
        if let Some(replicas) = self.replica_info.get_mut(broker_name) {
            replicas.brokers.retain(|id, _| !ids.contains(id));
            if replicas.brokers.is_empty() {
                self.replica_info.remove(broker_name);
            }
        }
        if let Some(sync) = self.sync_state.get_mut(broker_name) {
            sync.sync_state_set.retain(|id| !ids.contains(id));
            if sync.sync_state_set.is_empty() {
                self.sync_state.remove(broker_name);
            }
        }
    }

    fn update_address(&mut self, broker_name: &str, address: &str, id: BrokerId) {
        if let Some(entry) = self
            .replica_info
            .get_mut(broker_name)
            .and_then(|r| r.brokers.get_mut(&id))
        {
            entry.address = address.to_string();
        }
    }

    /// Serialises both maps for a raft snapshot.
    pub fn to_snapshot(&self) -> Result<Vec<u8>, ControllerError> {
        serde_json::to_vec(self).map_err(|e| ControllerError::Snapshot {
            action: "written",
            detail: e.to_string(),
        })
    }

    pub fn from_snapshot(bytes: &[u8]) -> Result<Self, ControllerError> {
        serde_json::from_slice(bytes).map_err(|e| ControllerError::Snapshot {
            action: "read",
            detail: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn apply_id(name: &str, id: BrokerId, code: &str) -> ControllerEvent {
        ControllerEvent::ApplyBrokerId {
            cluster_name: "c".into(),
            broker_name: name.into(),
            broker_address: format!("h:{id}"),
            new_broker_id: id,
            register_check_code: code.into(),
        }
    }

    fn elect(name: &str, master: Option<BrokerId>) -> ControllerEvent {
        ControllerEvent::ElectMaster {
            broker_name: name.into(),
            new_master: master,
        }
    }

    fn clean(name: &str, ids: Option<&[BrokerId]>) -> ControllerEvent {
        ControllerEvent::CleanBrokerData {
            broker_name: name.into(),
            broker_ids_to_clean: ids.map(|i| i.iter().copied().collect()),
        }
    }

    #[test]
    fn apply_broker_id_creates_then_adds() {
        let mut s = ControllerState::new();
        s.apply(&apply_id("b", 1, "x"));
        let set = s.broker_set("b").unwrap();
        assert_eq!(set.replicas.next_assign_broker_id, 2);
        assert_eq!(set.sync.master_epoch, 0);
        assert!(set.sync.is_first_election() && set.sync.sync_state_set.is_empty());
        s.apply(&apply_id("b", 1, "other"));
        assert_eq!(
            s.replica_info("b").unwrap().next_assign_broker_id,
            2,
            "present ids are kept"
        );
        assert_eq!(
            s.replica_info("b").unwrap().brokers[&1].register_check_code,
            "x"
        );
        s.apply(&apply_id("b", 7, "y"));
        assert_eq!(s.replica_info("b").unwrap().next_assign_broker_id, 3);
    }

    #[test]
    fn elect_master_records_winner_or_absence() {
        let mut s = ControllerState::new();
        s.apply(&apply_id("b", 1, "x"));
        s.apply(&apply_id("b", 2, "y"));
        s.apply(&ControllerEvent::AlterSyncStateSet {
            broker_name: "b".into(),
            new_sync_state_set: [1, 2].into(),
        });
        s.apply(&elect("b", Some(2)));
        let sync = s.sync_state("b").unwrap();
        assert_eq!((sync.master_epoch, sync.sync_state_set_epoch), (1, 2));
        assert_eq!(sync.sync_state_set, [2].into());
        s.apply(&elect("b", None));
        let sync = s.sync_state("b").unwrap();
        assert_eq!(sync.master_broker_id, None);
        assert_eq!((sync.master_epoch, sync.sync_state_set_epoch), (2, 2));
        assert_eq!(sync.sync_state_set, [2].into(), "the set is kept");
        let before = s.clone();
        s.apply(&elect("nope", Some(1)));
        s.apply(&ControllerEvent::AlterSyncStateSet {
            broker_name: "nope".into(),
            new_sync_state_set: [1].into(),
        });
        assert_eq!(s, before, "unknown sets are ignored");
    }

    #[test]
    fn clean_quirks_match_java() {
        let mut s = ControllerState::new();
        for id in 1..=3 {
            s.apply(&apply_id("b", id, "x"));
        }
        s.apply(&elect("b", Some(1)));
        // Partial clean: ids go, the master id and the epochs stay.
        s.apply(&clean("b", Some(&[2])));
        let set = s.broker_set("b").unwrap();
        assert_eq!(set.replicas.ids(), [1, 3].into());
        assert_eq!(set.sync.master_broker_id, Some(1));
        assert_eq!(set.sync.master_epoch, 1);
        // Cleaning the only in-sync id drops the sync-state record: the set
        // no longer exists, though ids remain.
        s.apply(&clean("b", Some(&[1])));
        assert!(s.broker_set("b").is_none());
        assert_eq!(s.replica_info("b").unwrap().ids(), [3].into());
        assert_eq!(s.replica_info("b").unwrap().next_assign_broker_id, 4);
        // ...and the next ApplyBrokerId starts both records afresh.
        s.apply(&apply_id("b", 4, "z"));
        let set = s.broker_set("b").unwrap();
        assert_eq!(set.replicas.ids(), [4].into());
        assert_eq!(set.replicas.next_assign_broker_id, 2);
        assert_eq!(set.sync.master_epoch, 0);
        // An empty list drops everything, like no list.
        s.apply(&clean("b", Some(&[])));
        assert!(s.replica_info("b").is_none() && s.sync_state("b").is_none());
    }

    #[test]
    fn update_address_keeps_the_check_code_and_ignores_unknown_ids() {
        let mut s = ControllerState::new();
        s.apply(&apply_id("b", 1, "code"));
        let update = |id| ControllerEvent::UpdateBrokerAddress {
            cluster_name: None,
            broker_name: "b".into(),
            broker_address: "new:1".into(),
            broker_id: id,
        };
        s.apply(&update(1));
        s.apply(&update(9));
        let r = s.replica_info("b").unwrap();
        assert_eq!(r.brokers[&1].address, "new:1");
        assert_eq!(r.brokers[&1].register_check_code, "code");
        assert_eq!(r.ids(), [1].into());
    }

    #[test]
    fn snapshot_round_trips_and_garbage_is_an_error() {
        let mut s = ControllerState::new();
        s.apply(&apply_id("b", 1, "x"));
        s.apply(&elect("b", Some(1)));
        let back = ControllerState::from_snapshot(&s.to_snapshot().unwrap()).unwrap();
        assert_eq!(back, s);
        assert!(ControllerState::from_snapshot(b"{nope").is_err());
    }

    fn arb_event() -> impl Strategy<Value = ControllerEvent> {
        let name = prop_oneof![Just("a"), Just("b")];
        let id = 0i64..6;
        let ids = proptest::collection::btree_set(0i64..6, 0..4);
        prop_oneof![
            3 => (name.clone(), id.clone(), 0u8..3).prop_map(|(n, i, c)| apply_id(n, i, &format!("c{c}"))),
            2 => (name.clone(), proptest::option::of(id.clone())).prop_map(|(n, m)| elect(n, m)),
            2 => (name.clone(), ids.clone()).prop_map(|(n, s)| ControllerEvent::AlterSyncStateSet {
                broker_name: n.into(),
                new_sync_state_set: s,
            }),
            1 => (name.clone(), proptest::option::of(ids)).prop_map(|(n, s)| ControllerEvent::CleanBrokerData {
                broker_name: n.into(),
                broker_ids_to_clean: s,
            }),
            1 => (name, id).prop_map(|(n, i)| ControllerEvent::UpdateBrokerAddress {
                cluster_name: Some("c".into()),
                broker_name: n.into(),
                broker_address: format!("moved:{i}"),
                broker_id: i,
            }),
        ]
    }

    fn replay(events: &[ControllerEvent]) -> ControllerState {
        let mut s = ControllerState::new();
        s.apply_all(events);
        s
    }

    proptest! {
        #[test]
        fn replaying_a_log_gives_the_same_state(events in proptest::collection::vec(arb_event(), 0..60)) {
            prop_assert_eq!(replay(&events), replay(&events));
        }

        #[test]
        fn snapshot_then_continue_equals_a_straight_replay(
            events in proptest::collection::vec(arb_event(), 0..60),
            cut in 0usize..60,
        ) {
            let cut = cut.min(events.len());
            let snapshot = replay(&events[..cut]).to_snapshot().unwrap();
            let mut restored = ControllerState::from_snapshot(&snapshot).unwrap();
            restored.apply_all(&events[cut..]);
            prop_assert_eq!(restored, replay(&events));
        }

        /// While a set exists, its id counter and its epochs only go up.
        #[test]
        fn counters_never_go_back_while_a_set_exists(events in proptest::collection::vec(arb_event(), 0..80)) {
            let mut s = ControllerState::new();
            for event in &events {
                let name = event.broker_name().to_string();
                let before = s.broker_set(&name).map(|b| (b.replicas.clone(), b.sync.clone()));
                s.apply(event);
                let Some((replicas, sync)) = before else { continue };
                if let Some(after) = s.replica_info(&name) {
                    prop_assert!(after.next_assign_broker_id >= replicas.next_assign_broker_id);
                    prop_assert!(after.next_assign_broker_id > *after.brokers.keys().max().unwrap_or(&0)
                        || after.brokers.keys().any(|id| *id >= replicas.next_assign_broker_id));
                }
                if let Some(after) = s.sync_state(&name) {
                    prop_assert!(after.master_epoch >= sync.master_epoch);
                    prop_assert!(after.sync_state_set_epoch >= sync.sync_state_set_epoch);
                }
            }
        }
    }
}
