//! namesrv: a wire-compatible replacement for the Apache RocketMQ NameServer.
//!
//! Layers, bottom up: `remoting` (frames and header codecs), `json_read` /
//! `json_write` (the fastjson dialect), `route` (the route table), `kvconfig`
//! (the persisted KV store), `cmd` (one handler per request code), `shared`
//! (state every connection sees), `tls` and `stream` (plaintext or TLS
//! sockets), `connection` and `server` (sockets).

pub mod admin;
pub mod bulk;
pub mod cmd;
pub mod config;
pub mod connection;
pub mod controller;
pub mod http;
pub mod json_read;
pub mod json_write;
pub mod kvconfig;
pub mod log_limit;
pub mod metrics;
pub mod notify;
pub mod properties;
pub mod remoting;
pub mod route;
pub mod server;
pub mod shared;
pub mod stream;
pub mod tls;
