//! The storage against openraft's own suite, and what the suite does not
//! cover: surviving a restart, and a torn tail.

use std::sync::Arc;

use openraft::storage::{RaftLogStorage, RaftLogStorageExt, RaftStateMachine};
use openraft::testing::{StoreBuilder, Suite};
use openraft::{
    CommittedLeaderId, Entry, EntryPayload, LogId, RaftLogReader, RaftSnapshotBuilder, Vote,
};
use parking_lot::RwLock;

use super::log_store::LogStore;
use super::state_machine::StateMachine;
use super::types::{StorageError, TypeConfig};
use crate::controller::event::ControllerEvent;
use crate::controller::state::ControllerState;

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for Builder {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError> {
        let dir = tempfile::tempdir().unwrap();
        let log = LogStore::open(dir.path()).unwrap();
        let sm =
            StateMachine::open(dir.path(), Arc::new(RwLock::new(ControllerState::new()))).unwrap();
        Ok((dir, log, sm))
    }
}

#[test]
fn openraft_storage_suite() {
    Suite::test_all(Builder).unwrap();
}

fn apply_id(index: u64, id: i64) -> Entry<TypeConfig> {
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(1, 0), index),
        payload: EntryPayload::Normal(vec![ControllerEvent::ApplyBrokerId {
            cluster_name: "c".into(),
            broker_name: "b".into(),
            broker_address: format!("h:{id}"),
            new_broker_id: id,
            register_check_code: format!("h:{id};1"),
        }]),
    }
}

/// Appends as openraft does, waiting for the flush callback.
async fn append(log: &mut LogStore, entries: Vec<Entry<TypeConfig>>) {
    log.blocking_append(entries).await.unwrap();
}

fn indexes(entries: &[Entry<TypeConfig>]) -> Vec<u64> {
    entries.iter().map(|e| e.log_id.index).collect()
}

#[tokio::test]
async fn log_vote_and_marks_survive_a_restart_and_a_torn_tail_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut log = LogStore::open(dir.path()).unwrap();
        append(&mut log, (1..=5).map(|i| apply_id(i, i as i64)).collect()).await;
        log.save_vote(&Vote::new(3, 1)).await.unwrap();
        log.save_committed(Some(LogId::new(CommittedLeaderId::new(1, 0), 4)))
            .await
            .unwrap();
        log.truncate(LogId::new(CommittedLeaderId::new(1, 0), 5))
            .await
            .unwrap();
        log.purge(LogId::new(CommittedLeaderId::new(1, 0), 1))
            .await
            .unwrap();
    }
    // A crash in the middle of the next append: half a record at the end.
    let path = dir.path().join("raft-log");
    let whole = std::fs::metadata(&path).unwrap().len();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0, 0, 0, 40, 1, 2, 3, 4, b'{']);
    std::fs::write(&path, &bytes).unwrap();

    let mut log = LogStore::open(dir.path()).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
    assert_eq!(log.read_vote().await.unwrap(), Some(Vote::new(3, 1)));
    assert_eq!(
        log.read_committed().await.unwrap().map(|l| l.index),
        Some(4)
    );
    let state = log.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id.map(|l| l.index), Some(1));
    assert_eq!(state.last_log_id.map(|l| l.index), Some(4));
    assert_eq!(
        indexes(&log.try_get_log_entries(0..).await.unwrap()),
        [2, 3, 4]
    );
    // Appends after the dropped tail land on a clean record boundary.
    append(&mut log, vec![apply_id(5, 9)]).await;
    let mut log = LogStore::open(dir.path()).unwrap();
    assert_eq!(
        indexes(&log.try_get_log_entries(0..).await.unwrap()),
        [2, 3, 4, 5]
    );

    // A flipped byte inside the last record fails its CRC.
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    let mut log = LogStore::open(dir.path()).unwrap();
    assert_eq!(
        indexes(&log.try_get_log_entries(0..).await.unwrap()),
        [2, 3, 4]
    );
}

/// A state machine under `dir` that applied ids 1 and 2, and its state.
async fn with_two_ids(dir: &std::path::Path) -> (Arc<RwLock<ControllerState>>, StateMachine) {
    let state = Arc::new(RwLock::new(ControllerState::new()));
    let mut sm = StateMachine::open(dir, state.clone()).unwrap();
    sm.apply(vec![apply_id(1, 1), apply_id(2, 2)])
        .await
        .unwrap();
    (state, sm)
}

#[tokio::test]
async fn snapshot_restores_state_and_applied_mark() {
    let dir = tempfile::tempdir().unwrap();
    let (state, mut sm) = with_two_ids(dir.path()).await;
    let snap = sm.build_snapshot().await.unwrap();
    assert_eq!(snap.meta.last_log_id.map(|l| l.index), Some(2));

    let reopened = Arc::new(RwLock::new(ControllerState::new()));
    let mut sm2 = StateMachine::open(dir.path(), reopened.clone()).unwrap();
    assert_eq!(*reopened.read(), *state.read());
    let (applied, _) = sm2.applied_state().await.unwrap();
    assert_eq!(applied.map(|l| l.index), Some(2));
    let current = sm2.get_current_snapshot().await.unwrap().unwrap();
    assert_eq!(current.meta, snap.meta);
    assert_eq!(
        reopened
            .read()
            .replica_info("b")
            .map(|r| r.next_assign_broker_id),
        Some(3)
    );
}

/// A crash can leave the log's tail zero-filled (the file grew, the data
/// never reached the disk). A zero header passes the CRC check (the CRC-32
/// of nothing is 0), so it must be read as the torn record it is, not as
/// an entry that fails to parse and stops the node from starting.
#[tokio::test]
async fn a_zero_filled_tail_is_a_torn_record() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut log = LogStore::open(dir.path()).unwrap();
        append(&mut log, (1..=3).map(|i| apply_id(i, i as i64)).collect()).await;
    }
    let path = dir.path().join("raft-log");
    let whole = std::fs::metadata(&path).unwrap().len();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0u8; 4096]);
    std::fs::write(&path, &bytes).unwrap();

    let mut log = LogStore::open(dir.path()).expect("a zero-filled tail must not stop start-up");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
    assert_eq!(
        indexes(&log.try_get_log_entries(0..).await.unwrap()),
        [1, 2, 3]
    );
}

fn meta(
    index: u64,
    id: &str,
) -> openraft::SnapshotMeta<crate::controller::peers::NodeId, openraft::BasicNode> {
    openraft::SnapshotMeta {
        last_log_id: Some(LogId::new(CommittedLeaderId::new(1, 0), index)),
        last_membership: openraft::StoredMembership::default(),
        snapshot_id: id.into(),
    }
}

/// A snapshot build that read the state before a full snapshot was
/// installed finishes after it: storing it must not replace the newer
/// installed snapshot on disk (the log behind it may already be purged).
#[tokio::test]
async fn an_older_snapshot_never_replaces_a_newer_one() {
    let dir = tempfile::tempdir().unwrap();
    let (state, mut sm) = with_two_ids(dir.path()).await;
    let old_data = state.read().to_snapshot().unwrap();
    let mut installed = ControllerState::new();
    for (i, id) in (1..=5).zip(1..=5) {
        installed.apply(&match apply_id(i, id).payload {
            EntryPayload::Normal(mut events) => events.remove(0),
            _ => unreachable!(),
        });
    }
    let new_data = installed.to_snapshot().unwrap();
    sm.install_snapshot(
        &meta(5, "installed"),
        Box::new(std::io::Cursor::new(new_data)),
    )
    .await
    .unwrap();
    // The late build stores what it read before the install.
    let _ = sm.store_snapshot(&meta(2, "late-build"), &old_data);

    let reopened = Arc::new(RwLock::new(ControllerState::new()));
    let mut sm2 = StateMachine::open(dir.path(), reopened.clone()).unwrap();
    let (applied, _) = sm2.applied_state().await.unwrap();
    assert_eq!(
        applied.map(|l| l.index),
        Some(5),
        "the newer snapshot was overwritten"
    );
    assert_eq!(*reopened.read(), installed);
    let current = sm2.get_current_snapshot().await.unwrap().unwrap();
    assert_eq!(current.meta.snapshot_id, "installed");
    assert_eq!(*sm.durable_snapshot().lock(), meta(5, "").last_log_id);
}

/// openraft may ask to purge past the snapshot that is on disk (after an
/// install, before its rename; or a build not yet stored). Purging there
/// and crashing leaves neither snapshot nor log for those entries: the
/// node cannot restart. The log keeps what no durable snapshot covers.
#[tokio::test]
async fn the_log_is_never_purged_past_the_durable_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let state = Arc::new(RwLock::new(ControllerState::new()));
    let mut sm = StateMachine::open(dir.path(), state.clone()).unwrap();
    let mut log = LogStore::open(dir.path()).unwrap();
    log.limit_purges_to(sm.durable_snapshot());
    let entries: Vec<_> = (1..=8).map(|i| apply_id(i, i as i64)).collect();
    append(&mut log, entries.clone()).await;
    sm.apply(entries[..4].to_vec()).await.unwrap();
    sm.build_snapshot().await.unwrap();
    // No snapshot covers 5..=8 yet.
    log.purge(LogId::new(CommittedLeaderId::new(1, 0), 7))
        .await
        .unwrap();
    drop(log);
    let mut log = LogStore::open(dir.path()).unwrap();
    let kept = indexes(&log.try_get_log_entries(0..).await.unwrap());
    assert_eq!(kept, [5, 6, 7, 8], "entries no snapshot covers were purged");
    let state = log.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id.map(|l| l.index), Some(4));
}
