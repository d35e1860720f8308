//! Harness for the interop tests: starts our `namesrv` and real peers (the
//! rocketmq-rust broker) as
//! processes on loopback, and talks to the NameServers with a minimal
//! remoting client to observe their state independently of the peers.

mod namesrv;
mod process;
mod remoting;
mod rust_peers;

pub use namesrv::{namesrv_bin, Namesrv};
pub use process::{free_broker_port, wait_for};
pub use remoting::{cluster_info, raw_call, request};
pub use rust_peers::{broker_bin, Broker, ClientEnv};
