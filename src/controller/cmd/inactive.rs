//! When the leader runs an election on its own: a broker went inactive
//! (its connection closed, or its heartbeat expired), or the periodic scan
//! found a set whose master is gone while a member is still alive.

use crate::controller::event::BrokerId;
use crate::controller::heartbeat::Liveness;
use crate::controller::state::ControllerState;

/// `onBrokerInactive`: elect only if the inactive broker is its set's
/// current master (Java asks 1004 and compares; an unknown set never
/// matches). Run [`super::elect_master`] with
/// [`crate::controller::request::ElectMasterRequest::controller_trigger`]
/// up to `electMasterMaxRetryCount` times until it succeeds.
pub fn should_elect(state: &ControllerState, broker_name: &str, broker_id: BrokerId) -> bool {
    state
        .broker_set(broker_name)
        .is_some_and(|set| set.sync.master_broker_id == Some(broker_id))
}

/// `scanInactiveMaster`: sets with a master that is not alive and at least
/// one alive member, in name order. A set whose id table is gone is
/// skipped (Java would fail the whole scan on it).
pub fn need_reelect(state: &ControllerState, live: &dyn Liveness) -> Vec<String> {
    state
        .sync_states()
        .filter(|sync| {
            let Some(master) = sync.master_broker_id else {
                return false;
            };
            let alive = |id: BrokerId| live.is_alive(&sync.cluster_name, &sync.broker_name, id);
            !alive(master)
                && state
                    .replica_info(&sync.broker_name)
                    .is_some_and(|r| r.brokers.keys().any(|id| alive(*id)))
        })
        .map(|sync| sync.broker_name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::cmd::fixture::*;

    #[test]
    fn only_the_master_going_away_triggers() {
        let s = state(&[1, 2], Some(1), &[1, 2]);
        assert!(should_elect(&s, "b", 1));
        assert!(!should_elect(&s, "b", 2));
        assert!(!should_elect(&s, "x", 1));
    }

    #[test]
    fn scan_finds_sets_with_a_dead_master_and_a_live_member() {
        let s = state(&[1, 2], Some(1), &[1, 2]);
        assert!(need_reelect(&s, &table(&[1, 2], &[]).view(NOW)).is_empty());
        assert_eq!(need_reelect(&s, &table(&[2], &[1]).view(NOW)), ["b"]);
        assert!(need_reelect(&s, &table(&[], &[1, 2]).view(NOW)).is_empty());
        let no_master = state(&[1, 2], None, &[]);
        assert!(need_reelect(&no_master, &table(&[2], &[]).view(NOW)).is_empty());
    }
}
