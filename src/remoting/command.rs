//! One remoting frame, decoded: the common header fields, the string
//! `extFields` that carry every custom header, and the body.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::code::{LanguageCode, ResponseCode};

/// Flag bit 0: this command is a response.
pub const FLAG_RESPONSE: i32 = 1;
/// Flag bit 1: a one-way request, never answered.
pub const FLAG_ONEWAY: i32 = 1 << 1;

/// The header codec, carried in the high byte of the second frame word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SerializeType {
    #[default]
    Json,
    RocketMq,
}

impl SerializeType {
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(SerializeType::Json),
            1 => Some(SerializeType::RocketMq),
            _ => None,
        }
    }

    pub fn to_byte(self) -> u8 {
        match self {
            SerializeType::Json => 0,
            SerializeType::RocketMq => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SerializeType::Json => "JSON",
            SerializeType::RocketMq => "ROCKETMQ",
        }
    }
}

pub type ExtFields = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemotingCommand {
    pub code: i32,
    /// Raw language byte; unknown values are kept so they can be logged.
    pub language: u8,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
    pub ext_fields: ExtFields,
    pub serialize_type: SerializeType,
    pub body: Bytes,
}

/// The version we announce in what we send: MQVersion V5_3_3.
pub const SERVER_VERSION: i32 = 479;

impl RemotingCommand {
    pub fn is_response(&self) -> bool {
        self.flag & FLAG_RESPONSE != 0
    }

    pub fn is_oneway(&self) -> bool {
        self.flag & FLAG_ONEWAY != 0
    }

    pub fn language_code(&self) -> Option<LanguageCode> {
        LanguageCode::from_value(self.language)
    }

    /// A new request as we send it (used for NOTIFY_MIN_BROKER_ID_CHANGE and by tests/tools).
    pub fn request(code: i32, opaque: i32) -> Self {
        RemotingCommand {
            code,
            language: LanguageCode::JAVA.value(),
            version: SERVER_VERSION,
            opaque,
            ..Default::default()
        }
    }

    /// The answer to `self`: same opaque and codec, response flag set.
    pub fn response(&self, code: ResponseCode, remark: Option<String>) -> Self {
        RemotingCommand {
            code: code.value(),
            // Java servers answer as JAVA whatever the client is; some clients check.
            language: LanguageCode::JAVA.value(),
            version: SERVER_VERSION,
            opaque: self.opaque,
            flag: FLAG_RESPONSE,
            remark,
            ext_fields: ExtFields::new(),
            serialize_type: self.serialize_type,
            body: Bytes::new(),
        }
    }

    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    pub fn with_ext(mut self, key: &str, value: impl ToString) -> Self {
        self.ext_fields.insert(key.to_string(), value.to_string());
        self
    }

    pub fn mark_oneway(mut self) -> Self {
        self.flag |= FLAG_ONEWAY;
        self
    }
}
