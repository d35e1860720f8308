//! namesrv: a wire-compatible replacement for the Apache RocketMQ NameServer.
//!
//! Layers, bottom up: `remoting` (frames and header codecs), `json` (the
//! fastjson dialect), `config` (properties files and the effective
//! configuration), `route` (the route table), `state` (what every connection
//! shares: route table, KV store, notifier), `cmd` (one handler per request
//! code), `net` (listener, connections, plaintext or TLS sockets); beside
//! them `controller` (the RocketMQ 5 controller), `http` (metrics, API,
//! cluster page), `admin` (the namesrv-admin tool) and `auth` (request
//! signatures, users and ACLs).

pub mod admin;
pub mod auth;
pub(crate) mod cmd;
pub mod config;
pub(crate) mod controller;
pub mod disk;
pub(crate) mod http;
pub mod json;
pub(crate) mod metrics;
pub(crate) mod net;
pub mod remoting;
pub mod route;
mod start;
pub(crate) mod state;

pub use start::{start, Running, Services, StartError};
