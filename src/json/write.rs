//! A small streaming JSON writer for the two dialects RocketMQ peers read.
//!
//! `Standard` is RFC 8259 JSON. `Fastjson` is what fastjson writes by default:
//! identical, except that maps keyed by numbers (`brokerAddrs`, `currIdMap`)
//! have unquoted keys. Callers write bean fields in alphabetical order, as
//! fastjson does.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Standard,
    Fastjson,
}

/// Map fields whose Java type has numeric keys, written unquoted by fastjson.
const NUMERIC_KEY_FIELDS: &[&str] = &["brokerAddrs", "currIdMap"];

pub struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
    dialect: Dialect,
    needs_comma: bool,
}

impl<'a> JsonWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>, dialect: Dialect) -> Self {
        JsonWriter {
            out,
            dialect,
            needs_comma: false,
        }
    }

    pub fn standard(out: &'a mut Vec<u8>) -> Self {
        Self::new(out, Dialect::Standard)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn separate(&mut self) {
        if self.needs_comma {
            self.out.push(b',');
        }
        self.needs_comma = false;
    }

    pub fn begin_object(&mut self) {
        self.separate();
        self.out.push(b'{');
    }

    pub fn end_object(&mut self) {
        self.out.push(b'}');
        self.needs_comma = true;
    }

    pub fn begin_array(&mut self) {
        self.separate();
        self.out.push(b'[');
    }

    pub fn end_array(&mut self) {
        self.out.push(b']');
        self.needs_comma = true;
    }

    pub fn key(&mut self, key: &str) {
        self.separate();
        write_string(self.out, key);
        self.out.push(b':');
    }

    /// A key of a map whose Java key type is a number.
    pub fn int_key(&mut self, key: i64) {
        self.separate();
        let mut buf = itoa_buf(key);
        match self.dialect {
            Dialect::Fastjson => self.out.append(&mut buf),
            Dialect::Standard => {
                self.out.push(b'"');
                self.out.append(&mut buf);
                self.out.push(b'"');
            }
        }
        self.out.push(b':');
    }

    pub fn str(&mut self, value: &str) {
        self.separate();
        write_string(self.out, value);
        self.needs_comma = true;
    }

    pub fn i64(&mut self, value: i64) {
        self.separate();
        self.out.extend_from_slice(&itoa_buf(value));
        self.needs_comma = true;
    }

    pub fn bool(&mut self, value: bool) {
        self.separate();
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        self.needs_comma = true;
    }

    pub fn field_str(&mut self, key: &str, value: &str) {
        self.key(key);
        self.str(value);
    }

    pub fn field_opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.field_str(key, value);
        }
    }

    pub fn field_i64(&mut self, key: &str, value: i64) {
        self.key(key);
        self.i64(value);
    }

    pub fn field_bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.bool(value);
    }

    pub fn field_value(&mut self, key: &str, value: &Value) {
        self.key(key);
        self.value_in(value, NUMERIC_KEY_FIELDS.contains(&key));
    }

    /// Writes an arbitrary value (passed-through broker data), keys in map order.
    pub fn value(&mut self, value: &Value) {
        self.value_in(value, false);
    }

    fn value_in(&mut self, value: &Value, numeric_keys: bool) {
        match value {
            Value::Null => {
                self.separate();
                self.out.extend_from_slice(b"null");
                self.needs_comma = true;
            }
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) => {
                self.separate();
                self.out.extend_from_slice(n.to_string().as_bytes());
                self.needs_comma = true;
            }
            Value::String(s) => self.str(s),
            Value::Array(items) => {
                self.begin_array();
                for item in items {
                    self.value(item);
                }
                self.end_array();
            }
            Value::Object(map) => {
                self.begin_object();
                for (key, item) in map {
                    match key.parse::<i64>() {
                        Ok(n) if numeric_keys => self.int_key(n),
                        _ => self.key(key),
                    }
                    self.value_in(item, NUMERIC_KEY_FIELDS.contains(&key.as_str()));
                }
                self.end_object();
            }
        }
    }
}

fn itoa_buf(value: i64) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// Writes `s` as a JSON string literal.
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{:04x}", b).as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_keys_are_bare_only_in_fastjson() {
        for (dialect, expected) in [
            (Dialect::Fastjson, r#"{"brokerAddrs":{0:"a",1:"b"}}"#),
            (Dialect::Standard, r#"{"brokerAddrs":{"0":"a","1":"b"}}"#),
        ] {
            let mut out = Vec::new();
            let mut w = JsonWriter::new(&mut out, dialect);
            w.begin_object();
            w.key("brokerAddrs");
            w.begin_object();
            w.int_key(0);
            w.str("a");
            w.int_key(1);
            w.str("b");
            w.end_object();
            w.end_object();
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }

    #[test]
    fn passthrough_values_keep_numeric_map_keys_bare_in_fastjson() {
        let value: Value =
            serde_json::from_str(r#"{"bname":"b","currIdMap":{"0":3,"-1":2},"epoch":1}"#).unwrap();
        let mut out = Vec::new();
        JsonWriter::new(&mut out, Dialect::Fastjson).value(&value);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"bname":"b","currIdMap":{-1:2,0:3},"epoch":1}"#
        );
    }

    #[test]
    fn strings_are_escaped_like_serde_json() {
        for s in [
            "plain",
            "quote\"back\\slash",
            "ctl\u{1}\n\t\r\u{8}\u{c}",
            "üñí€😀",
        ] {
            let mut out = Vec::new();
            write_string(&mut out, s);
            let back: String = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn arrays_and_nested_commas() {
        let mut out = Vec::new();
        let mut w = JsonWriter::standard(&mut out);
        w.begin_object();
        w.key("a");
        w.begin_array();
        w.i64(1);
        w.begin_object();
        w.end_object();
        w.str("x");
        w.end_array();
        w.field_bool("b", false);
        w.end_object();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":[1,{},"x"],"b":false}"#
        );
    }
}
