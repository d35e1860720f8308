//! The RocketMQ remoting wire format: frames, the two header codecs and the
//! code enums. Nothing here knows what a request means.

pub mod client;
pub mod code;
pub mod codec;
pub mod command;
pub mod head_first;
mod header_binary;
mod header_json;

pub use client::{ClientError, RemotingClient, Transport};
pub use code::{LanguageCode, RequestCode, ResponseCode};
pub use codec::{CodecError, RemotingCodec};
pub use command::{RemotingCommand, SerializeType};
pub use head_first::{FrameHead, HeadFirst, Inbound, ServerCodec};

/// Which client connection a request came in on, as its port's listener
/// numbers them; the route table and the controller's heartbeat table key
/// brokers by it so that a closed connection drops what it carried.
pub type ConnId = u64;
