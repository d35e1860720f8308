//! Replication of the controller's events on openraft: the type config,
//! the on-disk log, the state machine with its snapshots, and the network
//! that carries raft RPCs as remoting requests on the controller port.

pub mod log_store;
pub mod network;
pub mod state_machine;
pub mod types;

pub use types::{raft_config, RaftError};

#[cfg(test)]
mod storage_tests;
