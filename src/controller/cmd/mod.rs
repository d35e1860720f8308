//! The leader's request handlers, one module per request: each is a pure
//! function of the applied state, the leader's liveness view (which carries
//! the time) and the decoded request, returning an [`Outcome`]. Handlers
//! that can hit what Java would hit as a null pointer return a `Result`;
//! [`Outcome::from_result`] turns the error into Java's SYSTEM_ERROR reply.

pub mod alter_sync_state_set;
pub mod apply_broker_id;
pub mod broker_heartbeat;
pub mod clean_broker_data;
pub mod controller_config;
pub mod elect_master;
pub mod get_metadata;
pub mod get_next_broker_id;
pub mod get_replica_info;
pub mod get_sync_state_data;
pub mod inactive;
pub mod register_broker;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod scenarios;
