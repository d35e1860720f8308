//! The JSON header codec (serialize type 0).
//!
//! Java writes the header with fastjson; fields may be missing (ali-ons sends
//! no `remark` or `serializeTypeCurrentRPC`) and take their defaults then.

use serde_json::Value;

use super::command::{RemotingCommand, SerializeType};
use super::LanguageCode;
use crate::json;
use crate::json::write::JsonWriter;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JsonHeaderError {
    #[error("JSON header is not valid JSON: {0}")]
    Syntax(#[from] json::read::JsonReadError),
    #[error("JSON header is not an object")]
    NotAnObject,
    #[error("JSON header field `{0}` has the wrong type")]
    WrongType(&'static str),
}

pub fn decode(bytes: &[u8]) -> Result<RemotingCommand, JsonHeaderError> {
    let value = json::read::parse(bytes).or_else(|err| {
        // fastjson falls back to `new String(bytes, UTF_8)` on invalid UTF-8,
        // so Java reads such a header with U+FFFD in place of the bad bytes.
        // Only such a header is converted; valid ones are read once.
        match std::str::from_utf8(bytes) {
            Ok(_) => Err(err),
            Err(_) => json::read::parse(String::from_utf8_lossy(bytes).as_bytes()),
        }
    })?;
    let Value::Object(map) = value else {
        return Err(JsonHeaderError::NotAnObject);
    };
    // fastjson leaves a missing int at 0, so Java answers a header without
    // `code` as request 0: REQUEST_CODE_NOT_SUPPORTED. So do we.
    let code = match map.get("code") {
        None | Some(Value::Null) => 0,
        Some(v) => int_field(v, "code")?,
    };
    let language = match map.get("language") {
        None | Some(Value::Null) => LanguageCode::JAVA.value(),
        Some(Value::String(name)) => LanguageCode::from_name(name)
            .unwrap_or(LanguageCode::OTHER)
            .value(),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or(JsonHeaderError::WrongType("language"))?,
        Some(_) => return Err(JsonHeaderError::WrongType("language")),
    };
    let optional_int = |name: &'static str| match map.get(name) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => int_field(v, name),
    };
    let version = optional_int("version")?;
    let opaque = optional_int("opaque")?;
    let flag = optional_int("flag")?;
    let remark = match map.get("remark") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(JsonHeaderError::WrongType("remark")),
    };
    let mut ext_fields = super::command::ExtFields::new();
    match map.get("extFields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(fields)) => {
            for (key, value) in fields {
                // fastjson coerces scalars into a Map<String,String>; do the same.
                let text = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => continue,
                    _ => return Err(JsonHeaderError::WrongType("extFields")),
                };
                ext_fields.insert(key.clone(), text);
            }
        }
        Some(_) => return Err(JsonHeaderError::WrongType("extFields")),
    }
    Ok(RemotingCommand {
        code,
        language,
        version,
        opaque,
        flag,
        remark,
        ext_fields,
        serialize_type: SerializeType::Json,
        body: bytes::Bytes::new(),
    })
}

/// Java accepts any JSON number that fits an int; fastjson also accepts numeric strings.
fn int_field(value: &Value, name: &'static str) -> Result<i32, JsonHeaderError> {
    let wide = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    wide.and_then(|n| i32::try_from(n).ok())
        .ok_or(JsonHeaderError::WrongType(name))
}

/// Writes the header the way fastjson does: fields in alphabetical order, nulls omitted.
pub fn encode(cmd: &RemotingCommand, out: &mut Vec<u8>) {
    let mut w = JsonWriter::standard(out);
    w.begin_object();
    w.field_i64("code", cmd.code.into());
    if !cmd.ext_fields.is_empty() {
        w.key("extFields");
        w.begin_object();
        for (key, value) in &cmd.ext_fields {
            w.field_str(key, value);
        }
        w.end_object();
    }
    w.field_i64("flag", cmd.flag.into());
    let language = LanguageCode::from_value(cmd.language).unwrap_or(LanguageCode::OTHER);
    w.field_str("language", language.name());
    w.field_i64("opaque", cmd.opaque.into());
    if let Some(remark) = &cmd.remark {
        w.field_str("remark", remark);
    }
    w.field_str("serializeTypeCurrentRPC", SerializeType::Json.name());
    w.field_i64("version", cmd.version.into());
    w.end_object();
}
