//! Decoding REGISTER_BROKER bodies: the JSON `RegisterBrokerBody`, its
//! compressed binary form, and the bare topic wrapper of pre-3.0.11 brokers.
//! Runs outside any lock: a 10,000-topic body takes milliseconds to parse.

pub(crate) mod fast;

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::model::{DataVersion, TopicConfig, TopicConfigWrapper, TopicTable};
use crate::json;
pub use crate::route::registration::layout::TableLayout;
use crate::route::registration::{incremental, layout};

/// MQVersion ordinals that change the body layout.
pub const V3_0_11: i32 = 37;
pub const V5_0_0: i32 = 413;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegisterBrokerBody {
    pub wrapper: TopicConfigWrapper,
    pub filter_server_list: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RegisterBodyError {
    #[error("register body is not valid JSON: {0}")]
    Json(#[from] json::read::JsonReadError),
    #[error("register body field `{field}` is malformed: {reason}")]
    Shape { field: String, reason: String },
    #[error("compressed register body does not inflate: {0}")]
    Inflate(String),
    #[error("compressed register body inflates past {limit} bytes")]
    TooLarge { limit: usize },
    #[error("compressed register body is truncated reading {0}")]
    Truncated(&'static str),
    #[error("compressed register body has a negative length for {0}")]
    NegativeLength(&'static str),
    #[error("topic config text `{0}` is malformed")]
    TopicText(String),
}

fn shape(field: &str, reason: impl ToString) -> RegisterBodyError {
    RegisterBodyError::Shape {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

/// Decodes a body as the Java NameServer does for a broker of `version`.
/// Each topic appears once in the result (the last config of a name wins).
pub fn decode(
    body: &[u8],
    compressed: bool,
    version: i32,
    inflate_limit: usize,
) -> Result<RegisterBrokerBody, RegisterBodyError> {
    decode_with(body, compressed, version, inflate_limit, Layout::Skip).map(|d| d.body)
}

/// What [`decode_with`] does with a JSON body's [`TableLayout`].
#[derive(Debug, Clone, Copy)]
pub enum Layout<'a> {
    /// Nothing: no layout is made.
    Skip,
    /// Makes one, for the next body of the same broker.
    Make,
    /// Reads the body against this one, the layout of the broker's last
    /// body, and makes the new one.
    ReadAgainst(&'a TableLayout),
}

/// A body decoded, with its layout when asked for and standard JSON.
#[derive(Debug)]
pub struct Decoded {
    /// Every topic of the body, but those of the runs it repeats when read
    /// against a layout.
    pub body: RegisterBrokerBody,
    /// Read against a layout: how many topics are left out as repeated.
    pub reused_topics: Option<usize>,
    pub layout: Option<TableLayout>,
}

/// [`decode`], with the body's layout as `layout` asks.
pub fn decode_with(
    body: &[u8],
    compressed: bool,
    version: i32,
    inflate_limit: usize,
    layout: Layout<'_>,
) -> Result<Decoded, RegisterBodyError> {
    let plain_json = !body.is_empty() && !compressed && !is_zlib_stream(body) && version >= V3_0_11;
    if plain_json {
        if let Layout::ReadAgainst(known) = layout {
            if let Some(read) = incremental::read_against(body, known) {
                return Ok(Decoded {
                    body: read.body,
                    reused_topics: Some(read.reused_topics),
                    layout: Some(read.layout),
                });
            }
        }
        if !matches!(layout, Layout::Skip) {
            if let Some((mut body_read, spans)) = fast::parse_spans(body) {
                let made = spans.table_key.and_then(|_| {
                    let names = body_read.wrapper.topics.iter().map(|(name, _)| name);
                    layout::of_table(body, &spans.entry_keys, names)
                });
                // A layout is made only of a table naming each topic once.
                if made.is_none() {
                    body_read.wrapper.topics.keep_last_of_each_topic();
                }
                return Ok(Decoded {
                    body: body_read,
                    reused_topics: None,
                    layout: made,
                });
            }
        }
    }
    let mut decoded = decode_form(body, compressed, version, inflate_limit)?;
    decoded.wrapper.topics.keep_last_of_each_topic();
    Ok(Decoded {
        body: decoded,
        reused_topics: None,
        layout: None,
    })
}

fn decode_form(
    body: &[u8],
    compressed: bool,
    version: i32,
    inflate_limit: usize,
) -> Result<RegisterBrokerBody, RegisterBodyError> {
    if body.is_empty() {
        // Java zeroes the data version of a body-less registration.
        return Ok(RegisterBrokerBody::default());
    }
    // A 5.x broker with compressedRegister=true sends zlib but says
    // compressed=false (Java's NameServer then fails it); a JSON body never
    // starts with a zlib header, so the body itself is believed.
    if compressed || is_zlib_stream(body) {
        return decode_compressed(body, version, inflate_limit);
    }
    // Fast path: a body in standard JSON (what brokers send unless a mapping
    // carries numeric keys) is read straight into the lean topic table,
    // without the intermediate value tree; anything else takes the tolerant
    // path.
    if version >= V3_0_11 {
        if let Some(fast) = fast::parse(body) {
            return Ok(fast);
        }
    }
    decode_tolerant(body, version)
}

/// A JSON body in whatever dialect fastjson reads, through [`json::read`](crate::json::read).
fn decode_tolerant(body: &[u8], version: i32) -> Result<RegisterBrokerBody, RegisterBodyError> {
    let value = json::read::parse(body)?;
    let Value::Object(map) = value else {
        return Err(shape("(body)", "not an object"));
    };
    if version < V3_0_11 {
        return Ok(RegisterBrokerBody {
            wrapper: wrapper_from_json(&map)?,
            filter_server_list: Vec::new(),
        });
    }
    let wrapper = match map.get("topicConfigSerializeWrapper") {
        None | Some(Value::Null) => TopicConfigWrapper::default(),
        Some(Value::Object(w)) => wrapper_from_json(w)?,
        Some(_) => return Err(shape("topicConfigSerializeWrapper", "not an object")),
    };
    let filter_server_list = match map.get("filterServerList") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => string_list(v, "filterServerList")?,
    };
    Ok(RegisterBrokerBody {
        wrapper,
        filter_server_list,
    })
}

fn string_list(value: &Value, field: &str) -> Result<Vec<String>, RegisterBodyError> {
    let Value::Array(items) = value else {
        return Err(shape(field, "not an array"));
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            _ => Err(shape(field, "holds a non-string")),
        })
        .collect()
}

pub fn data_version_from_json(value: &Value) -> Result<DataVersion, RegisterBodyError> {
    match value {
        Value::Null => Ok(DataVersion::default()),
        v => DataVersion::deserialize(v).map_err(|e| shape("dataVersion", e)),
    }
}

fn wrapper_from_json(map: &Map<String, Value>) -> Result<TopicConfigWrapper, RegisterBodyError> {
    let data_version = match map.get("dataVersion") {
        None => DataVersion::default(),
        Some(v) => data_version_from_json(v)?,
    };
    let mut topics = TopicTable::default();
    match map.get("topicConfigTable") {
        None | Some(Value::Null) => {}
        Some(Value::Object(table)) => {
            topics = TopicTable::with_capacity(table.len(), table.len() * 16);
            for (name, config) in table {
                let config: TopicConfig = Deserialize::deserialize(config)
                    .map_err(|e| shape(&format!("topicConfigTable.{name}"), e))?;
                let name = match config.topic_name.as_str() {
                    "" => name,
                    named => named,
                };
                topics.push(name, config.queues());
            }
        }
        Some(_) => return Err(shape("topicConfigTable", "not an object")),
    }
    let topic_queue_mapping_info = match map.get("topicQueueMappingInfoMap") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        Some(_) => return Err(shape("topicQueueMappingInfoMap", "not an object")),
    };
    Ok(TopicConfigWrapper {
        data_version,
        topics,
        topic_queue_mapping_info,
    })
}

/// A zlib header (RFC 1950): deflate with a window of at most 32 KiB, and a
/// check value making the first two bytes a multiple of 31.
fn is_zlib_stream(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// zlib (Java's Deflater) or raw deflate (rocketmq-rust) — a zlib stream's
/// first byte is 0x78 (deflate, 32 KiB window), which raw deflate never starts with
/// for the block types and lengths a compressor emits.
fn inflate(body: &[u8], limit: usize) -> Result<Vec<u8>, RegisterBodyError> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    let cap = limit as u64 + 1;
    let result = if body.first() == Some(&0x78) {
        flate2::read::ZlibDecoder::new(body)
            .take(cap)
            .read_to_end(&mut out)
    } else {
        flate2::read::DeflateDecoder::new(body)
            .take(cap)
            .read_to_end(&mut out)
    };
    result.map_err(|e| RegisterBodyError::Inflate(e.to_string()))?;
    if out.len() > limit {
        return Err(RegisterBodyError::TooLarge { limit });
    }
    Ok(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn int(&mut self, what: &'static str) -> Result<i32, RegisterBodyError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<4>()
            .ok_or(RegisterBodyError::Truncated(what))?;
        self.0 = rest;
        Ok(i32::from_be_bytes(*head))
    }

    fn chunk(&mut self, what: &'static str) -> Result<&'a [u8], RegisterBodyError> {
        let len = self.int(what)?;
        let len = usize::try_from(len).map_err(|_| RegisterBodyError::NegativeLength(what))?;
        if len > self.0.len() {
            return Err(RegisterBodyError::Truncated(what));
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(head)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn decode_compressed(
    body: &[u8],
    version: i32,
    limit: usize,
) -> Result<RegisterBrokerBody, RegisterBodyError> {
    let raw = inflate(body, limit)?;
    let mut r = Reader(&raw);
    let data_version = data_version_from_json(&json::read::parse(r.chunk("dataVersion")?)?)?;
    let count = r.int("topic count")?;
    if count < 0 {
        return Err(RegisterBodyError::NegativeLength("topic count"));
    }
    // Each topic takes at least its 4-byte length: a lying count cannot
    // reserve more than the body holds.
    let capacity = usize::try_from(count).unwrap_or(0).min(r.0.len() / 4);
    let mut topics = TopicTable::with_capacity(capacity, capacity * 16);
    for _ in 0..count {
        let config = topic_config_from_text(r.chunk("topic config")?)?;
        topics.push(&config.topic_name, config.queues());
    }
    let filter_json = json::read::parse(r.chunk("filterServerList")?)?;
    let filter_server_list = match filter_json {
        Value::Null => Vec::new(),
        v => string_list(&v, "filterServerList")?,
    };
    let mut topic_queue_mapping_info = BTreeMap::new();
    // Java reads the mapping section only from 5.x brokers; tolerate its absence.
    if version >= V5_0_0 && !r.is_empty() {
        let count = r.int("mapping count")?;
        if count < 0 {
            return Err(RegisterBodyError::NegativeLength("mapping count"));
        }
        for _ in 0..count {
            let info = json::read::parse(r.chunk("topic queue mapping")?)?;
            let topic = info
                .get("topic")
                .and_then(Value::as_str)
                .ok_or_else(|| shape("topicQueueMappingInfo", "has no topic"))?
                .to_string();
            topic_queue_mapping_info.insert(topic, info);
        }
    }
    Ok(RegisterBrokerBody {
        wrapper: TopicConfigWrapper {
            data_version,
            topics,
            topic_queue_mapping_info,
        },
        filter_server_list,
    })
}

/// Writes the compressed body form a Java broker sends with
/// `compressedRegister=true` (zlib over length-prefixed sections), for tools
/// and tests that play a broker. Topic configs go in their text form.
pub fn encode_compressed(data_version: &DataVersion, topics: &[TopicConfig]) -> Vec<u8> {
    use std::io::Write;
    fn int(raw: &mut Vec<u8>, n: usize) {
        raw.extend_from_slice(&(n as i32).to_be_bytes());
    }
    fn chunk(raw: &mut Vec<u8>, bytes: &[u8]) {
        int(raw, bytes.len());
        raw.extend_from_slice(bytes);
    }
    let mut raw = Vec::with_capacity(64 + topics.len() * 48);
    chunk(&mut raw, &data_version.to_json());
    int(&mut raw, topics.len());
    for tc in topics {
        let mut attributes = Vec::new();
        let mut w = crate::json::write::JsonWriter::standard(&mut attributes);
        w.begin_object();
        for (k, v) in &tc.attributes {
            w.field_str(k, v);
        }
        w.end_object();
        let line = format!(
            "{} {} {} {} {} {}",
            tc.topic_name,
            tc.read_queue_nums,
            tc.write_queue_nums,
            tc.perm,
            tc.topic_filter_type,
            String::from_utf8_lossy(&attributes)
        );
        chunk(&mut raw, line.as_bytes());
    }
    chunk(&mut raw, b"[]");
    // No static-topic mappings.
    int(&mut raw, 0);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(&raw);
    z.finish().unwrap_or_default()
}

/// `name read write perm filterType [attributesJson]`, space separated (Java
/// `TopicConfig.encode`). topicSysFlag and order are not carried.
pub fn topic_config_from_text(text: &[u8]) -> Result<TopicConfig, RegisterBodyError> {
    let bad = || RegisterBodyError::TopicText(String::from_utf8_lossy(text).into_owned());
    let text = std::str::from_utf8(text).map_err(|_| bad())?;
    let parts: Vec<&str> = text.split(' ').collect();
    if parts.len() < 5 || parts[0].is_empty() {
        return Err(bad());
    }
    let int = |s: &str| s.parse::<i32>().map_err(|_| bad());
    let mut config = TopicConfig {
        topic_name: parts[0].to_string(),
        read_queue_nums: int(parts[1])?,
        write_queue_nums: int(parts[2])?,
        perm: int(parts[3])?,
        topic_filter_type: parts[4].to_string(),
        ..TopicConfig::default()
    };
    if let Some(attrs) = parts.get(5).filter(|s| !s.is_empty()) {
        let value = json::read::parse_str(attrs).map_err(|_| bad())?;
        config.attributes = Deserialize::deserialize(&value).map_err(|_| bad())?;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, ZlibEncoder};
    use flate2::Compression;
    use std::io::Write;

    const JAVA_BODY: &str = r#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":2,"stateVersion":0,"timestamp":1700000000000},"topicConfigTable":{"TopicTest":{"attributes":{},"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":4}},"topicQueueMappingDetailMap":{},"topicQueueMappingInfoMap":{}, "someFutureField":[1,2]}}"#;

    #[test]
    fn java_json_body_decodes() {
        let body = decode(JAVA_BODY.as_bytes(), false, 479, 1 << 20).unwrap();
        let w = &body.wrapper;
        assert_eq!(w.data_version.counter, 2);
        assert_eq!(w.data_version.timestamp, 1700000000000);
        assert_eq!(w.topics.len(), 1);
        let (name, q) = w.topics.iter().next().unwrap();
        assert_eq!((name, q.read_queue_nums, q.perm), ("TopicTest", 4, 6));
    }

    /// What `RegisterBrokerBody.encode(false)` of the official 5.5.0 jars
    /// (fastjson2) writes for a PRIORITY topic (an attribute new in 5.4/5.5)
    /// and a static topic: the mapping's `currIdMap` keys stay unquoted.
    const JAVA_5_5_0_BODY: &str = r#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":3,"stateVersion":0,"timestamp":1700000000000},"mappingDataVersion":{"counter":3,"stateVersion":0,"timestamp":1700000000000},"topicConfigTable":{"PrioTopic":{"attributes":{"message.type":"PRIORITY"},"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"PrioTopic","topicSysFlag":0,"writeQueueNums":4},"StaticTopic":{"attributes":{},"order":false,"perm":6,"readQueueNums":2,"topicFilterType":"SINGLE_TAG","topicName":"StaticTopic","topicSysFlag":0,"writeQueueNums":2}},"topicQueueMappingDetailMap":{},"topicQueueMappingInfoMap":{"StaticTopic":{"bname":"b5","currIdMap":{0:0,1:1},"dirty":false,"epoch":1,"scope":"__global__","topic":"StaticTopic","totalQueues":2}}}}"#;

    #[test]
    fn java_5_5_0_body_decodes() {
        let body = decode(JAVA_5_5_0_BODY.as_bytes(), false, 513, 1 << 20).unwrap();
        let w = &body.wrapper;
        assert_eq!(w.data_version.counter, 3);
        let topics: Vec<(&str, i32)> = w.topics.iter().map(|(n, q)| (n, q.perm)).collect();
        assert_eq!(topics, [("PrioTopic", 6), ("StaticTopic", 6)]);
        let info = &w.topic_queue_mapping_info["StaticTopic"];
        assert_eq!(info["bname"], "b5");
        assert_eq!(info["currIdMap"]["1"], 1);
    }

    #[test]
    fn four_x_body_without_mapping_fields_decodes() {
        let body = r#"{"filterServerList":["127.0.0.1:30000"],"topicConfigSerializeWrapper":{"dataVersion":{"counter":1,"timestamp":5},"topicConfigTable":{"T":{"topicName":"T","readQueueNums":8,"writeQueueNums":8,"perm":6}}}}"#;
        let body = decode(body.as_bytes(), false, 401, 1 << 20).unwrap();
        assert_eq!(body.filter_server_list, vec!["127.0.0.1:30000".to_string()]);
        let (name, q) = body.wrapper.topics.iter().next().unwrap();
        assert_eq!((name, q.write_queue_nums, q.topic_sys_flag), ("T", 8, 0));
    }

    fn compressed_payload(with_mapping: bool) -> Vec<u8> {
        let mut raw = Vec::new();
        let chunk = |raw: &mut Vec<u8>, bytes: &[u8]| {
            raw.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
            raw.extend_from_slice(bytes);
        };
        chunk(
            &mut raw,
            br#"{"counter":7,"stateVersion":1,"timestamp":99}"#,
        );
        raw.extend_from_slice(&2i32.to_be_bytes());
        chunk(&mut raw, b"TopicA 4 4 6 SINGLE_TAG {}");
        chunk(
            &mut raw,
            br#"TopicB 8 2 4 MULTI_TAG {"+delete.policy":"COMPACTION"}"#,
        );
        chunk(&mut raw, b"[]");
        if with_mapping {
            raw.extend_from_slice(&1i32.to_be_bytes());
            chunk(&mut raw, br#"{"bname":"broker-a","currIdMap":{0:0},"epoch":1,"topic":"TopicA","totalQueues":4}"#);
        }
        raw
    }

    #[test]
    fn zlib_and_raw_deflate_bodies_decode() {
        let raw = compressed_payload(true);
        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::best());
        zlib.write_all(&raw).unwrap();
        let mut deflate = DeflateEncoder::new(Vec::new(), Compression::default());
        deflate.write_all(&raw).unwrap();
        for compressed in [zlib.finish().unwrap(), deflate.finish().unwrap()] {
            let body = decode(&compressed, true, 479, 1 << 20).unwrap();
            let w = &body.wrapper;
            assert_eq!(w.data_version.counter, 7);
            let topics: Vec<_> = w.topics.iter().collect();
            assert_eq!(topics.len(), 2);
            assert_eq!(topics[1].0, "TopicB");
            assert_eq!(topics[1].1.write_queue_nums, 2);
            assert_eq!(w.topic_queue_mapping_info["TopicA"]["bname"], "broker-a");
        }
    }

    #[test]
    fn zlib_body_is_inflated_when_the_header_says_uncompressed() {
        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
        zlib.write_all(&compressed_payload(true)).unwrap();
        let zlib = zlib.finish().unwrap();
        assert!(is_zlib_stream(&zlib));
        let body = decode(&zlib, false, 479, 1 << 20).unwrap();
        assert_eq!(body.wrapper.topics.len(), 2);
        for json in [&b"{}"[..], b" {}", b"\n{}", b"x", b""] {
            assert!(!is_zlib_stream(json), "{json:?}");
        }
    }

    #[test]
    fn encoded_compressed_body_decodes_to_the_same_topics() {
        let dv = DataVersion {
            state_version: 1,
            timestamp: 2,
            counter: 3,
        };
        let mut t = TopicConfig {
            topic_name: "A".into(),
            read_queue_nums: 2,
            write_queue_nums: 3,
            perm: 6,
            ..TopicConfig::default()
        };
        t.attributes.insert("+k".into(), "v".into());
        let body = decode(&encode_compressed(&dv, &[t.clone()]), true, 479, 1 << 20).unwrap();
        assert_eq!(body.wrapper.data_version, dv);
        assert_eq!(body.wrapper.topics, [t.clone()].into_iter().collect());
        let text = br#"A 2 3 6 SINGLE_TAG {"+k":"v"}"#;
        assert_eq!(topic_config_from_text(text).unwrap(), t);
    }

    #[test]
    fn a_topic_named_twice_keeps_its_last_config() {
        let topic = |name: &str, queues: i32| TopicConfig {
            topic_name: name.into(),
            read_queue_nums: queues,
            write_queue_nums: queues,
            perm: 6,
            ..TopicConfig::default()
        };
        let dv = DataVersion::default();
        let sent = [topic("A", 1), topic("B", 2), topic("A", 3)];
        let body = decode(&encode_compressed(&dv, &sent), true, 479, 1 << 20).unwrap();
        assert_eq!(
            body.wrapper.topics,
            [topic("B", 2), topic("A", 3)].into_iter().collect()
        );

        let json = r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"A":{"readQueueNums":1},"A":{"readQueueNums":5}}}}"#;
        let body = decode(json.as_bytes(), false, 479, 1 << 20).unwrap();
        let topics: Vec<_> = body.wrapper.topics.iter().collect();
        assert_eq!(topics.len(), 1);
        assert_eq!(topics[0].1.read_queue_nums, 5);
    }

    #[test]
    fn four_x_compressed_body_has_no_mapping_section() {
        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::best());
        zlib.write_all(&compressed_payload(false)).unwrap();
        let body = decode(&zlib.finish().unwrap(), true, 401, 1 << 20).unwrap();
        assert!(body.wrapper.topic_queue_mapping_info.is_empty());
    }

    #[test]
    fn garbage_and_bombs_are_errors() {
        assert!(matches!(
            decode(b"\x78\x9cnot deflate", true, 479, 1 << 20),
            Err(RegisterBodyError::Inflate(_))
        ));
        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::best());
        zlib.write_all(&vec![0u8; 4 << 20]).unwrap();
        assert_eq!(
            decode(&zlib.finish().unwrap(), true, 479, 1 << 20),
            Err(RegisterBodyError::TooLarge { limit: 1 << 20 })
        );
        let mut truncated = ZlibEncoder::new(Vec::new(), Compression::best());
        truncated
            .write_all(&compressed_payload(true)[..30])
            .unwrap();
        assert!(decode(&truncated.finish().unwrap(), true, 479, 1 << 20).is_err());
        assert!(decode(b"[1,2]", false, 479, 1 << 20).is_err());
        assert!(decode(
            br#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":"x"}}}}"#,
            false,
            479,
            1 << 20
        )
        .is_err());
    }
}
