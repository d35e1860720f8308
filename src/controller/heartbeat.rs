//! The local heartbeat table (Java `DefaultBrokerHeartbeatManager`). It is
//! never replicated: each controller keeps its own, fed by the 904s brokers
//! send to every controller, and only the leader's is consulted. Every
//! method takes the time as a parameter, so the table never reads a clock.

use std::collections::{BTreeMap, BTreeSet};

use super::event::BrokerId;

pub use crate::remoting::ConnId;

/// Java's default when a heartbeat carries no timeout.
pub const DEFAULT_HEARTBEAT_TIMEOUT_MS: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BrokerIdentity {
    pub cluster_name: String,
    pub broker_name: String,
    pub broker_id: BrokerId,
}

impl BrokerIdentity {
    pub fn new(cluster_name: &str, broker_name: &str, broker_id: BrokerId) -> Self {
        BrokerIdentity {
            cluster_name: cluster_name.to_string(),
            broker_name: broker_name.to_string(),
            broker_id,
        }
    }
}

/// What one heartbeat reports; absent fields take Java's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub identity: BrokerIdentity,
    pub broker_addr: String,
    pub timeout_ms: Option<i64>,
    pub epoch: Option<i32>,
    pub max_offset: Option<i64>,
    pub confirm_offset: Option<i64>,
    pub election_priority: Option<i32>,
}

/// Java `BrokerLiveInfo`: what the election policy ranks brokers by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerLiveInfo {
    pub broker_id: BrokerId,
    /// The address of the first heartbeat; Java never updates it.
    pub broker_addr: String,
    pub last_update_ms: i64,
    pub timeout_ms: i64,
    /// The connection of the latest heartbeat; it closing removes the
    /// entry (Java binds the first one for good).
    pub conn: ConnId,
    pub epoch: i32,
    pub max_offset: i64,
    /// Java leaves this 0 until a heartbeat replaces the epoch or offset.
    pub confirm_offset: i64,
    pub election_priority: i32,
}

impl BrokerLiveInfo {
    pub fn is_alive(&self, now_ms: i64) -> bool {
        self.last_update_ms.saturating_add(self.timeout_ms) >= now_ms
    }
}

/// Answers "is this broker alive, and how does it rank" at one instant.
/// The request handlers see the leader's table only through this.
pub trait Liveness {
    fn live_info(
        &self,
        cluster_name: &str,
        broker_name: &str,
        id: BrokerId,
    ) -> Option<&BrokerLiveInfo>;

    fn is_alive(&self, cluster_name: &str, broker_name: &str, id: BrokerId) -> bool;
}

#[derive(Debug, Clone, Default)]
pub struct HeartbeatTable {
    entries: BTreeMap<BrokerIdentity, BrokerLiveInfo>,
    /// Every broker this node has had a heartbeat from, removed or not.
    seen: BTreeSet<BrokerIdentity>,
}

/// The table as seen at `now_ms`.
#[derive(Debug, Clone, Copy)]
pub struct LiveView<'a> {
    table: &'a HeartbeatTable,
    now_ms: i64,
    /// A new leader's table holds only the brokers that have reached this
    /// node so far; while this is set, a broker it has never heard from is
    /// possibly alive (see [`LiveView::warming_up`]).
    warming_up: bool,
}

impl LiveView<'_> {
    /// Until brokers have had one heartbeat interval to reach a new
    /// leader, a broker it never heard from counts as alive, so nobody is
    /// elected over a master that is alive but not in the table yet. It
    /// has no live info, so it is never elected on this alone.
    pub fn warming_up(self, warming_up: bool) -> Self {
        LiveView { warming_up, ..self }
    }
}

impl Liveness for LiveView<'_> {
    fn live_info(
        &self,
        cluster_name: &str,
        broker_name: &str,
        id: BrokerId,
    ) -> Option<&BrokerLiveInfo> {
        self.table.get(cluster_name, broker_name, id)
    }

    fn is_alive(&self, cluster_name: &str, broker_name: &str, id: BrokerId) -> bool {
        self.table
            .is_alive(cluster_name, broker_name, id, self.now_ms)
            || (self.warming_up
                && !self
                    .table
                    .seen
                    .contains(&BrokerIdentity::new(cluster_name, broker_name, id)))
    }
}

impl HeartbeatTable {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn view(&self, now_ms: i64) -> LiveView<'_> {
        LiveView {
            table: self,
            now_ms,
            warming_up: false,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records a heartbeat; returns true when the broker was not in the table.
    ///
    /// Every heartbeat refreshes the time, timeout and priority. Epoch and
    /// offsets move only forward (a higher epoch, or the same epoch with a
    /// higher offset), so a late heartbeat cannot make a broker look staler
    /// than it was.
    pub fn on_heartbeat(&mut self, hb: Heartbeat, conn: ConnId, now_ms: i64) -> bool {
        let timeout_ms = hb.timeout_ms.unwrap_or(DEFAULT_HEARTBEAT_TIMEOUT_MS);
        let priority = hb.election_priority.unwrap_or(i32::MAX);
        let epoch = hb.epoch.unwrap_or(-1);
        let max_offset = hb.max_offset.unwrap_or(-1);
        if let Some(prev) = self.entries.get_mut(&hb.identity) {
            prev.last_update_ms = now_ms;
            // The entry belongs to the connection that last carried a
            // heartbeat: a broker that moved off a stuck connection must
            // not be dropped when that one finally closes (Java keeps the
            // first channel, and would drop it).
            prev.conn = conn;
            prev.timeout_ms = timeout_ms;
            prev.election_priority = priority;
            if epoch > prev.epoch || (epoch == prev.epoch && max_offset > prev.max_offset) {
                prev.epoch = epoch;
                prev.max_offset = max_offset;
                prev.confirm_offset = hb.confirm_offset.unwrap_or(-1);
            }
            return false;
        }
        let info = BrokerLiveInfo {
            broker_id: hb.identity.broker_id,
            broker_addr: hb.broker_addr,
            last_update_ms: now_ms,
            timeout_ms,
            conn,
            epoch,
            max_offset,
            confirm_offset: 0,
            election_priority: priority,
        };
        self.seen.insert(hb.identity.clone());
        self.entries.insert(hb.identity, info);
        true
    }

    pub fn get(
        &self,
        cluster_name: &str,
        broker_name: &str,
        id: BrokerId,
    ) -> Option<&BrokerLiveInfo> {
        // BTreeMap lookups need an owned key; identities are small.
        self.entries
            .get(&BrokerIdentity::new(cluster_name, broker_name, id))
    }

    pub fn is_alive(
        &self,
        cluster_name: &str,
        broker_name: &str,
        id: BrokerId,
        now_ms: i64,
    ) -> bool {
        self.get(cluster_name, broker_name, id)
            .is_some_and(|info| info.is_alive(now_ms))
    }

    /// The expiry scan: removes every entry silent past its timeout and
    /// returns them; the caller closes their connections and reports each
    /// as inactive.
    pub fn expire(&mut self, now_ms: i64) -> Vec<(BrokerIdentity, BrokerLiveInfo)> {
        let expired: Vec<BrokerIdentity> = self
            .entries
            .iter()
            .filter(|(_, info)| !info.is_alive(now_ms))
            .map(|(id, _)| id.clone())
            .collect();
        expired
            .into_iter()
            .filter_map(|id| self.entries.remove_entry(&id))
            .collect()
    }

    /// A connection closed (or failed, or idled out): removes the brokers
    /// bound to it and returns them, to be reported inactive at once. Java
    /// stops at the first match; a connection carries one broker in
    /// practice, and removing all leaves nothing stale behind.
    pub fn remove_conn(&mut self, conn: ConnId) -> Vec<BrokerIdentity> {
        let bound: Vec<BrokerIdentity> = self
            .entries
            .iter()
            .filter(|(_, info)| info.conn == conn)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &bound {
            self.entries.remove(id);
        }
        bound
    }

    /// Live brokers per cluster and set (Java `getActiveBrokersNum`, a metric).
    pub fn active_counts(&self, now_ms: i64) -> BTreeMap<(String, String), usize> {
        let mut counts = BTreeMap::new();
        for (id, info) in &self.entries {
            if info.is_alive(now_ms) {
                *counts
                    .entry((id.cluster_name.clone(), id.broker_name.clone()))
                    .or_insert(0) += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn hb(name: &str, id: BrokerId) -> Heartbeat {
        Heartbeat {
            identity: BrokerIdentity::new("c", name, id),
            broker_addr: format!("h:{id}"),
            timeout_ms: None,
            epoch: None,
            max_offset: None,
            confirm_offset: None,
            election_priority: None,
        }
    }

    #[test]
    fn first_heartbeat_takes_java_defaults() {
        let mut t = HeartbeatTable::new();
        assert!(t.on_heartbeat(hb("b", 1), 7, 1000));
        let info = t.get("c", "b", 1).unwrap();
        assert_eq!(
            (info.epoch, info.max_offset, info.confirm_offset),
            (-1, -1, 0)
        );
        assert_eq!(info.timeout_ms, DEFAULT_HEARTBEAT_TIMEOUT_MS);
        assert_eq!(info.election_priority, i32::MAX);
        assert_eq!(info.conn, 7);
        assert!(!t.on_heartbeat(hb("b", 1), 8, 1001));
        assert_eq!(t.get("c", "b", 1).unwrap().conn, 8);
    }

    #[test]
    fn alive_until_last_update_plus_timeout_inclusive() {
        let mut t = HeartbeatTable::new();
        let mut h = hb("b", 1);
        h.timeout_ms = Some(3000);
        t.on_heartbeat(h, 1, 1000);
        assert!(t.is_alive("c", "b", 1, 4000));
        assert!(!t.is_alive("c", "b", 1, 4001));
        assert!(!t.is_alive("other", "b", 1, 1000));
        assert!(t.view(4000).is_alive("c", "b", 1));
        assert!(t.expire(4000).is_empty());
        let gone = t.expire(4001);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].0, BrokerIdentity::new("c", "b", 1));
        assert!(t.is_empty());
    }

    #[test]
    fn epoch_and_offsets_only_move_forward_but_priority_always_refreshes() {
        let mut t = HeartbeatTable::new();
        let mut h = hb("b", 1);
        h.epoch = Some(2);
        h.max_offset = Some(100);
        h.confirm_offset = Some(90);
        t.on_heartbeat(h.clone(), 1, 0);
        for (epoch, offset, expect) in [
            (1, 500, (2, 100)),
            (2, 50, (2, 100)),
            (2, 150, (2, 150)),
            (3, 10, (3, 10)),
        ] {
            h.epoch = Some(epoch);
            h.max_offset = Some(offset);
            h.election_priority = Some(epoch);
            t.on_heartbeat(h.clone(), 1, 0);
            let info = t.get("c", "b", 1).unwrap();
            assert_eq!((info.epoch, info.max_offset), expect);
            assert_eq!(info.election_priority, epoch);
        }
        assert_eq!(t.get("c", "b", 1).unwrap().confirm_offset, 90);
    }

    #[test]
    fn closing_a_connection_removes_its_brokers_only() {
        let mut t = HeartbeatTable::new();
        t.on_heartbeat(hb("b", 1), 1, 0);
        t.on_heartbeat(hb("b", 2), 2, 0);
        assert_eq!(t.remove_conn(1), vec![BrokerIdentity::new("c", "b", 1)]);
        assert!(t.remove_conn(1).is_empty());
        assert!(t.get("c", "b", 2).is_some());
        assert_eq!(t.active_counts(0).get(&("c".into(), "b".into())), Some(&1));
    }

    /// A broker whose connection is stuck opens another and heartbeats
    /// there; the old one closing later must not remove the fresh entry.
    #[test]
    fn an_old_connection_closing_keeps_a_broker_that_moved() {
        let mut t = HeartbeatTable::new();
        t.on_heartbeat(hb("b", 1), 1, 0);
        t.on_heartbeat(hb("b", 1), 2, 100);
        assert!(t.remove_conn(1).is_empty());
        assert!(t.is_alive("c", "b", 1, 100));
        assert_eq!(t.remove_conn(2), vec![BrokerIdentity::new("c", "b", 1)]);
    }

    #[test]
    fn warming_up_a_broker_never_heard_from_is_possibly_alive() {
        let mut t = HeartbeatTable::new();
        t.on_heartbeat(hb("b", 1), 1, 0);
        t.on_heartbeat(hb("b", 2), 2, 0);
        t.remove_conn(2);
        let warm = t.view(0).warming_up(true);
        assert!(warm.is_alive("c", "b", 1));
        assert!(warm.is_alive("c", "b", 3), "never heard from");
        assert!(warm.live_info("c", "b", 3).is_none());
        assert!(!warm.is_alive("c", "b", 2), "heard from, then gone");
        assert!(!t.view(0).is_alive("c", "b", 3));
    }

    #[test]
    fn huge_timeouts_do_not_overflow() {
        let mut t = HeartbeatTable::new();
        let mut h = hb("b", 1);
        h.timeout_ms = Some(i64::MAX);
        t.on_heartbeat(h, 1, 5);
        assert!(t.is_alive("c", "b", 1, i64::MAX));
    }
}
