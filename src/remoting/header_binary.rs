//! The binary ROCKETMQ header codec (serialize type 1), all big-endian:
//! code i16, language u8, version i16, opaque i32, flag i32,
//! remark (i32 length + UTF-8), extFields (i32 length, then repeated
//! i16 key length + key, i32 value length + value).
//!
//! Lenient where Java is: strings are decoded as Java's `new String(bytes,
//! UTF_8)` does (invalid bytes become U+FFFD), a zero length is an absent
//! string (so a field with an empty value counts as missing), and an
//! extFields length of zero or less means no fields.

use bytes::{Buf, BufMut};

use super::command::{ExtFields, RemotingCommand, SerializeType};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BinaryHeaderError {
    #[error("ROCKETMQ header truncated reading {0}")]
    Truncated(&'static str),
    #[error("ROCKETMQ header {what} length {len} exceeds the {left} bytes left")]
    LengthOutOfRange {
        what: &'static str,
        len: i64,
        left: usize,
    },
    #[error("ROCKETMQ header has {0} trailing bytes")]
    TrailingBytes(usize),
}

const FIXED_LEN: usize = 2 + 1 + 2 + 4 + 4;

pub fn decode(mut buf: &[u8]) -> Result<RemotingCommand, BinaryHeaderError> {
    if buf.len() < FIXED_LEN {
        return Err(BinaryHeaderError::Truncated("fixed fields"));
    }
    let code = i32::from(buf.get_i16());
    let language = buf.get_u8();
    let version = i32::from(buf.get_i16());
    let opaque = buf.get_i32();
    let flag = buf.get_i32();
    let remark = read_i32_str(&mut buf, "remark")?;
    if buf.remaining() < 4 {
        return Err(BinaryHeaderError::Truncated("extFields"));
    }
    let ext_len = match buf.get_i32() {
        n if n <= 0 => 0,
        n => check_len(buf, i64::from(n), "extFields")?,
    };
    let (mut ext, rest) = buf.split_at(ext_len);
    if !rest.is_empty() {
        return Err(BinaryHeaderError::TrailingBytes(rest.len()));
    }
    let mut ext_fields = ExtFields::new();
    while ext.has_remaining() {
        if ext.remaining() < 2 {
            return Err(BinaryHeaderError::Truncated("extFields key length"));
        }
        let key_len = ext.get_i16();
        let key = read_exact_str(&mut ext, i64::from(key_len), "extFields key")?;
        let value = read_i32_str(&mut ext, "extFields value")?;
        if let (false, Some(value)) = (key.is_empty(), value) {
            ext_fields.insert(key, value);
        }
    }
    Ok(RemotingCommand {
        code,
        language,
        version,
        opaque,
        flag,
        remark,
        ext_fields,
        serialize_type: SerializeType::RocketMq,
        body: bytes::Bytes::new(),
    })
}

fn read_len_i32(buf: &mut &[u8], what: &'static str) -> Result<usize, BinaryHeaderError> {
    if buf.remaining() < 4 {
        return Err(BinaryHeaderError::Truncated(what));
    }
    let len = buf.get_i32();
    check_len(buf, i64::from(len), what)
}

fn check_len(buf: &[u8], len: i64, what: &'static str) -> Result<usize, BinaryHeaderError> {
    match usize::try_from(len) {
        Ok(n) if n <= buf.len() => Ok(n),
        _ => Err(BinaryHeaderError::LengthOutOfRange {
            what,
            len,
            left: buf.len(),
        }),
    }
}

/// A zero length means the string is absent.
fn read_i32_str(buf: &mut &[u8], what: &'static str) -> Result<Option<String>, BinaryHeaderError> {
    let len = read_len_i32(buf, what)?;
    if len == 0 {
        return Ok(None);
    }
    read_exact_str(buf, len as i64, what).map(Some)
}

fn read_exact_str(
    buf: &mut &[u8],
    len: i64,
    what: &'static str,
) -> Result<String, BinaryHeaderError> {
    let len = check_len(buf, len, what)?;
    let (text, rest) = buf.split_at(len);
    *buf = rest;
    Ok(String::from_utf8_lossy(text).into_owned())
}

pub fn encode(cmd: &RemotingCommand, out: &mut Vec<u8>) {
    // Java writes code and version as shorts; values outside that range cannot come from us.
    out.put_i16(cmd.code as i16);
    out.put_u8(cmd.language);
    out.put_i16(cmd.version as i16);
    out.put_i32(cmd.opaque);
    out.put_i32(cmd.flag);
    match &cmd.remark {
        Some(remark) if !remark.is_empty() => {
            out.put_i32(remark.len() as i32);
            out.put_slice(remark.as_bytes());
        }
        _ => out.put_i32(0),
    }
    let len_at = out.len();
    out.put_i32(0);
    for (key, value) in &cmd.ext_fields {
        out.put_i16(key.len() as i16);
        out.put_slice(key.as_bytes());
        out.put_i32(value.len() as i32);
        out.put_slice(value.as_bytes());
    }
    let ext_len = (out.len() - len_at - 4) as i32;
    out[len_at..len_at + 4].copy_from_slice(&ext_len.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ext_len: i32, ext: &[u8]) -> Vec<u8> {
        let mut h = vec![0, 105, 0, 1, 223, 0, 0, 0, 9, 0, 0, 0, 0];
        h.extend_from_slice(&[0, 0, 0, 2, 0xff, b'r']); // remark: invalid UTF-8
        h.extend_from_slice(&ext_len.to_be_bytes());
        h.extend_from_slice(ext);
        h
    }

    #[test]
    fn decodes_as_leniently_as_java() {
        let mut ext = Vec::new();
        for (key, value) in [(&b"topic"[..], &b"T\xfe"[..]), (b"empty", b"")] {
            ext.put_i16(key.len() as i16);
            ext.put_slice(key);
            ext.put_i32(value.len() as i32);
            ext.put_slice(value);
        }
        let cmd = decode(&header(ext.len() as i32, &ext)).unwrap();
        assert_eq!(cmd.remark.as_deref(), Some("\u{fffd}r"));
        assert_eq!(
            cmd.ext_fields.get("topic").map(String::as_str),
            Some("T\u{fffd}")
        );
        assert!(
            !cmd.ext_fields.contains_key("empty"),
            "Java reads it as null"
        );

        let cmd = decode(&header(-7, b"")).unwrap();
        assert!(cmd.ext_fields.is_empty());
        assert_eq!(cmd.opaque, 9);
    }
}
