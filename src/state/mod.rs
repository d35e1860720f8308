//! The NameServer's own state: what every connection shares ([`shared`]),
//! the namespaced KV store ([`kv`]), the pool that applies large
//! registrations ([`bulk`]) and the notifier of minimum-brokerId changes
//! ([`notify`]).

pub mod bulk;
pub mod kv;
pub mod notify;
pub mod shared;
