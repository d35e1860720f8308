//! The JSON dialects RocketMQ peers speak: fastjson's tolerant input
//! ([`read`]) and its two output forms ([`write`]).

pub mod read;
pub mod write;
