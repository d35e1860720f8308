//! The raft state machine: committed events applied to the
//! [`ControllerState`] every request handler reads, and snapshots of it.
//!
//! Applying is not persisted entry by entry: after a restart openraft
//! replays the log from the last snapshot up to the saved committed index.
//! A snapshot (`raft-snapshot.json`, replaced atomically) holds the state,
//! with the last applied log id and the membership in its meta.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::RaftStateMachine;
use openraft::{
    AnyError, BasicNode, EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder, Snapshot,
    SnapshotMeta, StorageIOError, StoredMembership,
};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::log_store::SnapshotMark;
use super::types::{RaftError, StorageError, TypeConfig};
use crate::controller::peers::NodeId;
use crate::controller::state::ControllerState;
use crate::disk::write_atomically;

const SNAPSHOT_FILE: &str = "raft-snapshot.json";

type Meta = SnapshotMeta<NodeId, BasicNode>;

/// The snapshot file: the meta, and the state as
/// [`ControllerState::to_snapshot`] writes it.
#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    meta: Meta,
    state: serde_json::Value,
}

struct Applied {
    last_applied: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, BasicNode>,
    /// Bumped per snapshot so ids of snapshots at the same index differ.
    snapshot_seq: u64,
}

struct Inner {
    dir: PathBuf,
    state: Arc<RwLock<ControllerState>>,
    applied: Mutex<Applied>,
    current: Mutex<Option<(Meta, Vec<u8>)>>,
    /// The last log id of the snapshot on disk.
    durable: SnapshotMark,
    /// Serialises snapshot stores (a build and an install).
    storing: Mutex<()>,
}

/// The state machine; clones share it, and a clone builds snapshots.
#[derive(Clone)]
pub struct StateMachine {
    inner: Arc<Inner>,
}

impl StateMachine {
    /// Opens the state machine under `dir`, starting from its snapshot if
    /// there is one. `state` is what the request handlers read.
    pub fn open(dir: &Path, state: Arc<RwLock<ControllerState>>) -> Result<Self, RaftError> {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let path = dir.join(SNAPSHOT_FILE);
        let corrupt = |detail: String| RaftError::Corrupt {
            path: path.display().to_string(),
            detail,
        };
        let mut applied = Applied {
            last_applied: None,
            membership: StoredMembership::default(),
            snapshot_seq: 0,
        };
        let mut current = None;
        match std::fs::read(&path) {
            Ok(bytes) => {
                let file: SnapshotFile =
                    serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
                let data = serde_json::to_vec(&file.state).map_err(|e| corrupt(e.to_string()))?;
                let loaded =
                    ControllerState::from_snapshot(&data).map_err(|e| corrupt(e.to_string()))?;
                *state.write() = loaded;
                applied.last_applied = file.meta.last_log_id;
                applied.membership = file.meta.last_membership.clone();
                current = Some((file.meta, data));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path, e)),
        }
        Ok(StateMachine {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                state,
                durable: Arc::new(Mutex::new(
                    current
                        .as_ref()
                        .and_then(|(m, _): &(Meta, _)| m.last_log_id),
                )),
                storing: Mutex::new(()),
                applied: Mutex::new(applied),
                current: Mutex::new(current),
            }),
        })
    }

    /// The last log id of the snapshot on disk, kept current.
    pub fn durable_snapshot(&self) -> SnapshotMark {
        self.inner.durable.clone()
    }

    /// Persists a snapshot and makes it the current one, unless the one
    /// stored already covers more of the log: a build that read the state
    /// before a full snapshot was installed may finish after it, and the
    /// log behind the newer one may be purged already. Returns whether it
    /// was stored.
    pub(super) fn store_snapshot(&self, meta: &Meta, data: &[u8]) -> std::io::Result<bool> {
        let state: serde_json::Value =
            serde_json::from_slice(data).map_err(std::io::Error::other)?;
        let file = SnapshotFile {
            meta: meta.clone(),
            state,
        };
        let bytes = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        // Held across the write so two stores cannot cross; snapshots are
        // rare (one per few hundred entries) and nothing else takes it.
        let _store = self.inner.storing.lock();
        if self
            .inner
            .durable
            .lock()
            .is_some_and(|stored| meta.last_log_id < Some(stored))
        {
            tracing::info!(
                snapshot = %meta.snapshot_id,
                "an older snapshot than the stored one is not stored"
            );
            return Ok(false);
        }
        write_atomically(&self.inner.dir.join(SNAPSHOT_FILE), &bytes)?;
        *self.inner.current.lock() = Some((meta.clone(), data.to_vec()));
        *self.inner.durable.lock() = meta.last_log_id;
        Ok(true)
    }
}

fn snapshot_write_err(meta: &Meta, e: &std::io::Error) -> StorageError {
    StorageIOError::write_snapshot(Some(meta.signature()), AnyError::new(e)).into()
}

fn io_err(path: &Path, source: std::io::Error) -> RaftError {
    RaftError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        // State and applied mark read together, so the snapshot is of one
        // instant: apply holds the state's write lock while it moves both.
        let (data, meta) = {
            let state = self.inner.state.read();
            let mut applied = self.inner.applied.lock();
            let data = state
                .to_snapshot()
                .map_err(|e| StorageIOError::write_snapshot(None, AnyError::new(&e)))?;
            applied.snapshot_seq += 1;
            let id = match applied.last_applied {
                Some(l) => format!("{}-{}-{}", l.leader_id, l.index, applied.snapshot_seq),
                None => format!("none-{}", applied.snapshot_seq),
            };
            let meta = Meta {
                last_log_id: applied.last_applied,
                last_membership: applied.membership.clone(),
                snapshot_id: id,
            };
            (data, meta)
        };
        let stored = self
            .store_snapshot(&meta, &data)
            .map_err(|e| snapshot_write_err(&meta, &e))?;
        if !stored {
            // A newer snapshot was installed meanwhile: that one stands.
            if let Some(current) = self.get_current_snapshot().await? {
                return Ok(current);
            }
        }
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, BasicNode>), StorageError> {
        let applied = self.inner.applied.lock();
        Ok((applied.last_applied, applied.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<()>, StorageError>
    where
        I: IntoIterator<Item = openraft::Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut replies = Vec::new();
        let mut state = self.inner.state.write();
        let mut applied = self.inner.applied.lock();
        for entry in entries {
            match &entry.payload {
                EntryPayload::Blank => {}
                EntryPayload::Normal(events) => state.apply_all(events),
                EntryPayload::Membership(m) => {
                    applied.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                }
            }
            applied.last_applied = Some(entry.log_id);
            replies.push(());
        }
        Ok(replies)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &Meta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let loaded = ControllerState::from_snapshot(&data).map_err(|e| {
            StorageIOError::read_snapshot(Some(meta.signature()), AnyError::new(&e))
        })?;
        self.store_snapshot(meta, &data)
            .map_err(|e| snapshot_write_err(meta, &e))?;
        let mut state = self.inner.state.write();
        let mut applied = self.inner.applied.lock();
        *state = loaded;
        applied.last_applied = meta.last_log_id;
        applied.membership = meta.last_membership.clone();
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        Ok(self
            .inner
            .current
            .lock()
            .as_ref()
            .map(|(meta, data)| Snapshot {
                meta: meta.clone(),
                snapshot: Box::new(Cursor::new(data.clone())),
            }))
    }
}
