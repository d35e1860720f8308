//! Java `DefaultElectPolicy`: who becomes master of a set.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use super::event::BrokerId;
use super::heartbeat::{BrokerLiveInfo, Liveness};

/// One election's inputs.
#[derive(Debug, Clone, Copy)]
pub struct ElectInput<'a> {
    pub cluster_name: &'a str,
    pub broker_name: &'a str,
    pub sync_state_set: &'a BTreeSet<BrokerId>,
    /// Every registered id, only when unclean election is enabled.
    pub all_replicas: Option<&'a BTreeSet<BrokerId>>,
    pub old_master: Option<BrokerId>,
    /// The admin-designated target: it or nobody.
    pub prefer: Option<BrokerId>,
}

/// Tries the sync-state set first, then (unclean) every replica.
pub fn elect(live: &dyn Liveness, input: &ElectInput<'_>) -> Option<BrokerId> {
    try_elect(live, input, input.sync_state_set).or_else(|| {
        input
            .all_replicas
            .and_then(|all| try_elect(live, input, all))
    })
}

fn try_elect(
    live: &dyn Liveness,
    input: &ElectInput<'_>,
    candidates: &BTreeSet<BrokerId>,
) -> Option<BrokerId> {
    let alive_ids: BTreeSet<BrokerId> = candidates
        .iter()
        .copied()
        .filter(|id| live.is_alive(input.cluster_name, input.broker_name, *id))
        .collect();
    // A broker can be alive without live info: a new leader that has not
    // heard from it yet. It keeps its mastership, but is never elected.
    let alive: Vec<&BrokerLiveInfo> = alive_ids
        .iter()
        .filter_map(|id| live.live_info(input.cluster_name, input.broker_name, *id))
        .collect();
    if let Some(old) = input.old_master {
        if alive_ids.contains(&old) && input.prefer.is_none_or(|p| p == old) {
            return Some(old);
        }
    }
    if alive.is_empty() {
        return None;
    }
    let contains = |id: BrokerId| alive.iter().any(|info| info.broker_id == id);
    if let Some(prefer) = input.prefer {
        return contains(prefer).then_some(prefer);
    }
    alive
        .into_iter()
        .min_by(|a, b| rank(a, b))
        .map(|info| info.broker_id)
}

/// Best first: newest epoch, then most data, then the lowest priority value.
/// Java's TreeSet keeps one of two exact ties and narrows the offset
/// difference to an int (which can misorder offsets 2^31 apart); the id as a
/// last key makes this a total order and the offsets compare exactly.
fn rank(a: &BrokerLiveInfo, b: &BrokerLiveInfo) -> Ordering {
    b.epoch
        .cmp(&a.epoch)
        .then(b.max_offset.cmp(&a.max_offset))
        .then(a.election_priority.cmp(&b.election_priority))
        .then(a.broker_id.cmp(&b.broker_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::heartbeat::{BrokerIdentity, Heartbeat, HeartbeatTable};

    const NOW: i64 = 1_000_000;

    /// (id, epoch, offset, priority, alive)
    fn table(brokers: &[(BrokerId, i32, i64, i32, bool)]) -> HeartbeatTable {
        let mut t = HeartbeatTable::new();
        for &(id, epoch, offset, priority, alive) in brokers {
            let hb = Heartbeat {
                identity: BrokerIdentity::new("c", "b", id),
                broker_addr: format!("h:{id}"),
                timeout_ms: Some(10_000),
                epoch: Some(epoch),
                max_offset: Some(offset),
                confirm_offset: None,
                election_priority: Some(priority),
            };
            t.on_heartbeat(hb, id as u64, if alive { NOW } else { NOW - 20_000 });
        }
        t
    }

    fn run(
        t: &HeartbeatTable,
        sss: &[BrokerId],
        all: Option<&[BrokerId]>,
        old: Option<BrokerId>,
        prefer: Option<BrokerId>,
    ) -> Option<BrokerId> {
        let sss: BTreeSet<BrokerId> = sss.iter().copied().collect();
        let all: Option<BTreeSet<BrokerId>> = all.map(|a| a.iter().copied().collect());
        let input = ElectInput {
            cluster_name: "c",
            broker_name: "b",
            sync_state_set: &sss,
            all_replicas: all.as_ref(),
            old_master: old,
            prefer,
        };
        elect(&t.view(NOW), &input)
    }

    #[test]
    fn orders_by_epoch_then_offset_then_priority_then_id() {
        let t = table(&[(1, 1, 900, 0, true), (2, 2, 100, 9, true)]);
        assert_eq!(run(&t, &[1, 2], None, None, None), Some(2), "epoch first");
        let t = table(&[(1, 2, 100, 0, true), (2, 2, 200, 9, true)]);
        assert_eq!(run(&t, &[1, 2], None, None, None), Some(2), "then offset");
        let t = table(&[(1, 2, 100, 5, true), (2, 2, 100, 3, true)]);
        assert_eq!(run(&t, &[1, 2], None, None, None), Some(2), "then priority");
        let t = table(&[(3, 2, 100, 3, true), (2, 2, 100, 3, true)]);
        assert_eq!(run(&t, &[2, 3], None, None, None), Some(2), "then id");
        // Offsets 2^32 apart would compare equal after Java's int cast.
        let t = table(&[(1, 2, 1, 0, true), (2, 2, 1 + (1 << 32), 9, true)]);
        assert_eq!(run(&t, &[1, 2], None, None, None), Some(2));
    }

    /// apache/rocketmq #10578 (fixed in 5.5.1): Java's comparator returned
    /// `(int) (o2.maxOffset - o1.maxOffset)`, so a lead of 2^31 or more
    /// wrapped negative and the broker with less data won.
    #[test]
    fn offsets_compare_without_overflow() {
        for lead in [1i64 << 31, (1 << 31) + 1, 3 << 30, i64::MAX / 2] {
            let t = table(&[(1, 2, 0, 0, true), (2, 2, lead, 0, true)]);
            assert_eq!(run(&t, &[1, 2], None, None, None), Some(2), "lead {lead}");
            let t = table(&[(1, 2, lead, 0, true), (2, 2, 0, 0, true)]);
            assert_eq!(run(&t, &[1, 2], None, None, None), Some(1), "lead {lead}");
        }
    }

    #[test]
    fn dead_brokers_are_never_chosen() {
        let t = table(&[(1, 9, 900, 0, false), (2, 1, 1, 9, true)]);
        assert_eq!(run(&t, &[1, 2], None, None, None), Some(2));
        assert_eq!(run(&t, &[1], None, None, None), None);
        assert_eq!(run(&t, &[4], None, None, None), None, "never heard of");
    }

    #[test]
    fn a_live_old_master_stays_unless_another_is_preferred() {
        let t = table(&[(1, 1, 1, 9, true), (2, 5, 500, 0, true)]);
        assert_eq!(run(&t, &[1, 2], None, Some(1), None), Some(1));
        assert_eq!(run(&t, &[1, 2], None, Some(1), Some(1)), Some(1));
        assert_eq!(run(&t, &[1, 2], None, Some(1), Some(2)), Some(2));
        let t = table(&[(1, 1, 1, 9, false), (2, 5, 500, 0, true)]);
        assert_eq!(run(&t, &[1, 2], None, Some(1), None), Some(2));
    }

    #[test]
    fn a_preferred_broker_is_chosen_or_nobody() {
        let t = table(&[(1, 1, 1, 0, true), (2, 1, 1, 0, true), (3, 1, 1, 0, false)]);
        assert_eq!(run(&t, &[1, 2, 3], None, None, Some(2)), Some(2));
        assert_eq!(run(&t, &[1, 2, 3], None, None, Some(3)), None, "dead");
        assert_eq!(run(&t, &[1, 2], None, None, Some(7)), None, "not a member");
    }

    #[test]
    fn unclean_election_falls_back_to_every_replica() {
        let t = table(&[(1, 1, 1, 0, false), (2, 1, 1, 0, true)]);
        assert_eq!(run(&t, &[1], None, Some(1), None), None, "clean only");
        assert_eq!(run(&t, &[1], Some(&[1, 2]), Some(1), None), Some(2));
        // The sync-state set still wins when it has a live member.
        let t = table(&[(1, 1, 1, 0, true), (2, 9, 9, 0, true)]);
        assert_eq!(run(&t, &[1], Some(&[1, 2]), None, None), Some(1));
    }
}
