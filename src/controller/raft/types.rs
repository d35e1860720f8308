//! The openraft type configuration and the timings the controller runs with.

use std::io::Cursor;
use std::sync::Arc;

use openraft::{BasicNode, Config, SnapshotPolicy};

use crate::controller::event::ControllerEvent;
use crate::controller::peers::NodeId;

openraft::declare_raft_types!(
    /// One log entry carries the events of one leader decision, committed
    /// as a batch (Java appends them as one DLedger entry).
    pub TypeConfig:
        D = Vec<ControllerEvent>,
        R = (),
        NodeId = NodeId,
        Node = BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
);

pub type Raft = openraft::Raft<TypeConfig>;
pub type StorageError = openraft::StorageError<NodeId>;

/// Errors of the raft layer that are not openraft's own.
#[derive(Debug, thiserror::Error)]
pub enum RaftError {
    #[error("raft storage under {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("raft storage file {path} is corrupt: {detail}")]
    Corrupt { path: String, detail: String },
    #[error("raft configuration: {0}")]
    Config(String),
    #[error("raft start-up: {0}")]
    Start(String),
}

/// Entries since the last snapshot after which a new one is built. Entries
/// are small (a few events); this bounds the replay after a restart.
pub const SNAPSHOT_EVERY: u64 = 500;

/// Raft timings: a follower that hears nothing for 400–700 ms stands for
/// election. openraft's followers refuse votes while the old leader's lease
/// (the maximum timeout) runs, so a killed leader is replaced in about
/// 0.7–1.4 s (DLedger takes about 7 s). Heartbeats every 100 ms leave four
/// missed beats before anyone stands, margin for a busy two-core machine.
/// The longest a follower waits for its leader before standing; a leader
/// without a quorum's acknowledgement for this long steps down.
pub const ELECTION_TIMEOUT_MAX_MS: u64 = 700;

pub fn raft_config(group: &str) -> Result<Arc<Config>, RaftError> {
    let config = Config {
        cluster_name: group.to_string(),
        heartbeat_interval: 100,
        election_timeout_min: 400,
        election_timeout_max: ELECTION_TIMEOUT_MAX_MS,
        install_snapshot_timeout: 3000,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(SNAPSHOT_EVERY),
        max_in_snapshot_log_to_keep: SNAPSHOT_EVERY,
        ..Default::default()
    };
    config
        .validate()
        .map(Arc::new)
        .map_err(|e| RaftError::Config(e.to_string()))
}
