//! The RocketMQ 5 controller. Its deterministic core (configuration, the
//! replicated state machine, the election policy, the local heartbeat table
//! and the leader's request handlers in [`cmd`]) has no sockets, no raft and
//! no clocks; around it, [`raft`] replicates events on openraft, and
//! [`node`] wires a node together: [`service`] and [`dispatch`] on the
//! controller port (served by the same listener as the NameServer port),
//! the single [`writer`], [`leadership`] (ready-leader), [`liveness`] (the
//! elections the leader starts) and [`push`] (1008 to brokers), all around
//! the shared [`handle::Controller`], which imports none of them.
//!
//! # Design: event sourcing, as Java's DLedger mode
//!
//! The raft log holds *outcomes* ([`event::ControllerEvent`]), never
//! requests. For each leader-only request the leader runs a handler in
//! [`cmd`] against its **applied** [`state::ControllerState`] and its own
//! [`heartbeat::HeartbeatTable`] (seen through a [`heartbeat::LiveView`]
//! that carries the time), which yields an [`outcome::Outcome`]: the reply
//! plus the events to commit. The leader commits the events as one batch,
//! then replies. Every node applies committed events with
//! [`state::ControllerState::apply`], which reads neither a clock nor the
//! heartbeat table, so replicas and replays after a restart agree (the
//! rocketmq-rust 1.0 controller evaluated liveness inside apply, and
//! diverged).
//!
//! Heartbeats (904) are local to each node and never replicated; brokers
//! send them to every controller, so a new leader has a warm table.
//!
//! Handlers mirror Java's `ReplicasInfoManager` check by check, including
//! the order of checks and the points where Java would hit a null field
//! (see [`request`]). Where the protocol notes and the Java 5.3.3 source
//! disagree, the source is followed and the item documents it.
//!
//! # What the network / raft layer calls
//!
//! - start-up: [`config::ControllerConfig::from_properties`], then
//!   [`config::ControllerConfig::peers`] (a missing key is an error naming it);
//! - per request: decode the header with the `request` types (and the body
//!   with [`body`]), answer 2007 if not ready-leader, run the `cmd` handler,
//!   commit `outcome.events`, then send [`outcome::Outcome::into_response`];
//!   after a successful election push `outcome.role_change` (1008) to
//!   [`notify::RoleChange::targets`];
//! - heartbeats and liveness: [`cmd::broker_heartbeat::handle`],
//!   [`heartbeat::HeartbeatTable::expire`] every `scanNotActiveBrokerInterval`,
//!   [`heartbeat::HeartbeatTable::remove_conn`] on a closed connection, then
//!   [`cmd::inactive::should_elect`] per inactive broker and
//!   [`cmd::inactive::need_reelect`] every `scanInactiveMasterInterval`;
//! - raft: `AppData = Vec<ControllerEvent>`, apply with
//!   [`state::ControllerState::apply_all`], snapshots with
//!   [`state::ControllerState::to_snapshot`] / `from_snapshot`.

pub mod body;
pub mod cmd;
pub mod config;
pub mod dispatch;
pub mod election;
pub mod error;
pub mod event;
pub mod handle;
pub mod heartbeat;
pub mod leadership;
pub mod liveness;
pub mod node;
pub mod notify;
pub mod outcome;
pub mod peers;
pub mod push;
pub mod raft;
pub mod request;
pub mod service;
pub mod state;
pub mod writer;

pub use config::ControllerConfig;
pub use error::ControllerError;
