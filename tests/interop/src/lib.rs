//! Harness for the interop tests: starts our `namesrv` and real peers (the
//! rocketmq-rust broker, the Java NameServer, brokers and mqadmin) as
//! processes on loopback, and talks to the NameServers with a minimal
//! remoting client to observe their state independently of the peers.

pub mod controller;
mod diff;
mod java;
mod namesrv;
mod process;
mod proxy;
mod remoting;
mod rust_peers;

pub use diff::{normalise, Body, Comparison, Difference, Differential, Observed};
pub use java::{
    acl_client, java_peers_dir, mqadmin, mqadmin_with, seed_topics, JavaBroker, JavaBrokerConf,
    JavaControllerNamesrv, JavaNamesrv, JavaProcess, JavaVersion, ToolOutput,
};
pub use namesrv::{admin_bin, namesrv_admin, namesrv_bin, Namesrv};
pub use process::{free_broker_port, wait_for};
pub use proxy::{grpc_client_lib, proxy_client, JavaProxy, GRPC_CLIENT_VERSION};
pub use remoting::{cluster_info, raw_call, request, try_call};
pub use rust_peers::{broker_bin, Broker, ClientEnv};
