//! The route table: what brokers hold which topics, and who is alive.
//! Nothing here knows about sockets or frames.

pub mod cache;
pub mod fingerprint;
pub mod manager;
pub mod model;
pub mod register_body;

pub use fingerprint::RegistrationFingerprint;
pub use manager::{
    BrokerRegistration, BrokerView, ConnId, MinBrokerIdNotice, RegisterResult, RegistrationId,
    RouteInfoManager, RouteOptions, RouteStats, UnregisterRequest,
};
pub use model::{
    BrokerData, DataVersion, QueueData, TopicConfig, TopicConfigWrapper, TopicRouteData,
};
