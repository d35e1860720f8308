//! Sockets: the listener and its connections ([`server`], [`connection`],
//! [`registry`]),
//! plaintext or TLS streams ([`stream`], [`tls`]), and rate-limited
//! warnings for what peers can repeat at will ([`log_limit`]).

pub mod connection;
pub mod log_limit;
pub mod registry;
pub mod server;
pub mod stream;
pub mod tls;
