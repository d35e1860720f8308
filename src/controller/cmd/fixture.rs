//! Test scaffolding: states built through events, and a heartbeat table.

use crate::controller::event::{BrokerId, ControllerEvent};
use crate::controller::heartbeat::{BrokerIdentity, Heartbeat, HeartbeatTable};
use crate::controller::outcome::Outcome;
use crate::controller::state::ControllerState;
use crate::remoting::ResponseCode;

pub const NOW: i64 = 1_000_000;

pub fn apply_id(name: &str, id: BrokerId) -> ControllerEvent {
    ControllerEvent::ApplyBrokerId {
        cluster_name: "c".into(),
        broker_name: name.into(),
        broker_address: addr(id),
        new_broker_id: id,
        register_check_code: check_code(id),
    }
}

pub fn addr(id: BrokerId) -> String {
    format!("10.0.0.{id}:10911")
}

pub fn check_code(id: BrokerId) -> String {
    format!("{};{}", addr(id), 1000 + id)
}

/// Set `b` with brokers `ids`, master `master` elected once (epochs 1/1),
/// then the sync-state set altered to `sss` (ssEpoch 2) if it differs.
pub fn state(ids: &[BrokerId], master: Option<BrokerId>, sss: &[BrokerId]) -> ControllerState {
    let mut s = ControllerState::new();
    for id in ids {
        s.apply(&apply_id("b", *id));
    }
    if let Some(m) = master {
        s.apply(&ControllerEvent::ElectMaster {
            broker_name: "b".into(),
            new_master: Some(m),
        });
        if sss != [m] {
            s.apply(&ControllerEvent::AlterSyncStateSet {
                broker_name: "b".into(),
                new_sync_state_set: sss.iter().copied().collect(),
            });
        }
    }
    s
}

/// Brokers of set `b` that heartbeat at `NOW` (alive) or long before (dead).
pub fn table(alive: &[BrokerId], dead: &[BrokerId]) -> HeartbeatTable {
    let mut t = HeartbeatTable::new();
    for (ids, at) in [(alive, NOW), (dead, NOW - 60_000)] {
        for id in ids {
            t.on_heartbeat(heartbeat(*id, 1, 100), *id as u64, at);
        }
    }
    t
}

pub fn heartbeat(id: BrokerId, epoch: i32, max_offset: i64) -> Heartbeat {
    Heartbeat {
        identity: BrokerIdentity::new("c", "b", id),
        broker_addr: addr(id),
        timeout_ms: Some(10_000),
        epoch: Some(epoch),
        max_offset: Some(max_offset),
        confirm_offset: None,
        election_priority: None,
    }
}

pub fn code(out: &Outcome) -> ResponseCode {
    out.code
}

pub fn hdr<'a>(out: &'a Outcome, key: &str) -> Option<&'a str> {
    out.header.get(key).map(String::as_str)
}

pub fn body(out: &Outcome) -> String {
    String::from_utf8(out.body.clone().unwrap_or_default()).unwrap_or_default()
}
