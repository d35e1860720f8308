//! The route table: what brokers hold which topics, and who is alive.
//! Nothing here knows about sockets or frames.

pub mod cache;
pub mod manager;
pub mod model;
pub mod register_body;
pub mod registration;

pub use manager::{
    BrokerRegistration, BrokerView, ConnId, MinBrokerIdNotice, RegisterError, RegisterResult,
    Reused, RouteInfoManager, RouteOptions, RouteStats, UnregisterRequest,
};
pub use model::{
    BrokerData, DataVersion, QueueData, TopicConfig, TopicConfigWrapper, TopicQueues,
    TopicRouteData, TopicTable,
};
pub use registration::fingerprint::RegistrationFingerprint;
pub use registration::{
    RegisterContext, RegisterHeader, RegisterRequest, RegistrationError, RegistrationPath,
};

/// The hasher of the maps and sets keyed by topic name.
pub(crate) type TopicHasher = foldhash::fast::RandomState;
pub(crate) type FastSet<T> = std::collections::HashSet<T, TopicHasher>;
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, TopicHasher>;
