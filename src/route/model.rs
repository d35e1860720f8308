//! Route data shapes and their JSON forms, as the Java classes of the same
//! names serialize with fastjson (bean fields in alphabetical order).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::json::write::{Dialect, JsonWriter};

pub const PERM_PRIORITY: i32 = 8;
pub const PERM_READ: i32 = 4;
pub const PERM_WRITE: i32 = 2;
pub const PERM_INHERIT: i32 = 1;

/// The master's brokerId (Java `MixAll.MASTER_ID`).
pub const MASTER_ID: i64 = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DataVersion {
    pub state_version: i64,
    pub timestamp: i64,
    pub counter: i64,
}

impl DataVersion {
    pub fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field_i64("counter", self.counter);
        w.field_i64("stateVersion", self.state_version);
        w.field_i64("timestamp", self.timestamp);
        w.end_object();
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.write_json(&mut JsonWriter::standard(&mut out));
        out
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TopicConfig {
    pub topic_name: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    pub perm: i32,
    pub topic_filter_type: String,
    pub topic_sys_flag: i32,
    pub order: bool,
    pub attributes: BTreeMap<String, String>,
}

impl Default for TopicConfig {
    /// Java's `new TopicConfig()` defaults.
    fn default() -> Self {
        TopicConfig {
            topic_name: String::new(),
            read_queue_nums: 16,
            write_queue_nums: 16,
            perm: PERM_READ | PERM_WRITE,
            topic_filter_type: "SINGLE_TAG".into(),
            topic_sys_flag: 0,
            order: false,
            attributes: BTreeMap::new(),
        }
    }
}

/// Java `TopicValidator`: at most 127 characters (255 for retry and DLQ
/// topics), only `[%|a-zA-Z0-9_-]`.
pub fn validate_topic_name(topic: &str) -> Result<(), String> {
    // The common case in one pass over the bytes; the checks below name
    // what is wrong otherwise.
    let legal = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'%' | b'|' | b'_' | b'-');
    if (1..=127).contains(&topic.len()) && topic.as_bytes().iter().all(legal) {
        return Ok(());
    }
    if topic.trim().is_empty() {
        return Err("topic name is blank".into());
    }
    if let Some(c) = topic
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '%' | '|' | '_' | '-')))
    {
        return Err(format!(
            "topic name {topic:?} contains illegal character {c:?}"
        ));
    }
    let max = if topic.starts_with("%RETRY%") || topic.starts_with("%DLQ%") {
        255
    } else {
        127
    };
    if topic.len() > max {
        return Err(format!(
            "topic name is {} characters long, more than {max}",
            topic.len()
        ));
    }
    Ok(())
}

impl TopicConfig {
    /// Why a broker's topic config cannot be routed, if it cannot.
    pub fn problem(&self) -> Option<String> {
        topic_problem(&self.topic_name, &self.queues())
    }

    /// What the route table keeps of this config.
    pub fn queues(&self) -> TopicQueues {
        TopicQueues {
            read_queue_nums: self.read_queue_nums,
            write_queue_nums: self.write_queue_nums,
            perm: self.perm,
            topic_sys_flag: self.topic_sys_flag,
        }
    }
}

/// Why a broker's topic `name` with `queues` cannot be routed, if it cannot.
pub fn topic_problem(name: &str, queues: &TopicQueues) -> Option<String> {
    if let Err(e) = validate_topic_name(name) {
        return Some(e);
    }
    if queues.read_queue_nums < 0 || queues.write_queue_nums < 0 {
        return Some(format!(
            "topic {name} has negative queue counts ({} read, {} write)",
            queues.read_queue_nums, queues.write_queue_nums
        ));
    }
    None
}

/// The part of a broker's topic config that routes carry (the rest, such
/// as attributes and the filter type, is read and dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicQueues {
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    pub perm: i32,
    pub topic_sys_flag: i32,
}

impl Default for TopicQueues {
    /// Java's `new TopicConfig()` defaults.
    fn default() -> Self {
        TopicQueues {
            read_queue_nums: 16,
            write_queue_nums: 16,
            perm: PERM_READ | PERM_WRITE,
            topic_sys_flag: 0,
        }
    }
}

/// A registration's topics, in the broker's order: every name in one
/// buffer and the numbers beside their name's span, so a table of 10,000
/// topics is a few allocations to build and to drop.
#[derive(Debug, Clone, Default)]
pub struct TopicTable {
    names: String,
    topics: Vec<TopicSpan>,
}

#[derive(Debug, Clone, Copy)]
struct TopicSpan {
    start: usize,
    end: usize,
    /// [`name_hash`] of the name, taken once: duplicates are looked for
    /// and runs of topics cut by it.
    hash: u64,
    queues: TopicQueues,
}

/// Seeded once per process: name hashes never leave it.
static NAME_SEED: std::sync::LazyLock<foldhash::quality::RandomState> =
    std::sync::LazyLock::new(foldhash::quality::RandomState::default);

pub fn name_hash(name: &str) -> u64 {
    use std::hash::BuildHasher;
    NAME_SEED.hash_one(name)
}

impl TopicTable {
    pub fn with_capacity(topics: usize, name_bytes: usize) -> Self {
        TopicTable {
            names: String::with_capacity(name_bytes),
            topics: Vec::with_capacity(topics),
        }
    }

    pub fn push(&mut self, name: &str, queues: TopicQueues) {
        let start = self.names.len();
        self.names.push_str(name);
        self.topics.push(TopicSpan {
            start,
            end: self.names.len(),
            hash: name_hash(name),
            queues,
        });
    }

    pub fn len(&self) -> usize {
        self.topics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }

    fn name_of(&self, span: &TopicSpan) -> &str {
        // Spans are made on char boundaries; a bad one reads as no name.
        self.names.get(span.start..span.end).unwrap_or_default()
    }

    /// (name, its [`name_hash`], queues) in the broker's order.
    pub fn iter_hashed(&self) -> impl Iterator<Item = (&str, u64, TopicQueues)> {
        self.topics
            .iter()
            .map(|span| (self.name_of(span), span.hash, span.queues))
    }

    /// (name, queues) in the broker's order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, TopicQueues)> + ExactSizeIterator {
        self.topics
            .iter()
            .map(|span| (self.name_of(span), span.queues))
    }

    /// Keeps the topics for which `keep` is true. The names of the others
    /// stay in the buffer until the table is dropped.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &TopicQueues) -> bool) {
        let names = &self.names;
        self.topics.retain(|span| {
            let name = names.get(span.start..span.end).unwrap_or_default();
            keep(name, &span.queues)
        });
    }

    /// Keeps the last config of each topic name, as the Java broker's and
    /// NameServer's topic maps do when a body names a topic twice.
    pub fn keep_last_of_each_topic(&mut self) {
        // Distinct hashes mean distinct names: the common case needs no
        // string compared.
        let mut hashes =
            crate::route::FastSet::with_capacity_and_hasher(self.topics.len(), Default::default());
        if self.topics.iter().all(|span| hashes.insert(span.hash)) {
            return;
        }
        // One pass from the end marks every config a later one supersedes.
        let mut seen =
            crate::route::FastSet::with_capacity_and_hasher(self.topics.len(), Default::default());
        let superseded: Vec<bool> = self
            .iter()
            .rev()
            .map(|(name, _)| !seen.insert(name))
            .collect();
        if !superseded.contains(&true) {
            return;
        }
        let mut later_copy = superseded.into_iter().rev();
        self.topics.retain(|_| !later_copy.next().unwrap_or(false));
    }
}

impl PartialEq for TopicTable {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl FromIterator<TopicConfig> for TopicTable {
    fn from_iter<I: IntoIterator<Item = TopicConfig>>(configs: I) -> Self {
        let mut table = TopicTable::default();
        for tc in configs {
            table.push(&tc.topic_name, tc.queues());
        }
        table
    }
}

/// The topic table a broker registers, with its version.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopicConfigWrapper {
    pub data_version: DataVersion,
    /// In the broker's order; names are unique once
    /// [`TopicTable::keep_last_of_each_topic`] ran.
    pub topics: TopicTable,
    /// topic → TopicQueueMappingInfo, kept as the broker sent it.
    pub topic_queue_mapping_info: BTreeMap<String, Value>,
}

/// One broker group's queues for one topic. The broker name is shared
/// (interned) across every topic of that broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueData {
    pub broker_name: Arc<str>,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    pub perm: i32,
    pub topic_sys_flag: i32,
}

impl QueueData {
    pub fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.field_str("brokerName", &self.broker_name);
        w.field_i64("perm", self.perm.into());
        w.field_i64("readQueueNums", self.read_queue_nums.into());
        w.field_i64("topicSysFlag", self.topic_sys_flag.into());
        w.field_i64("writeQueueNums", self.write_queue_nums.into());
        w.end_object();
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerData {
    pub cluster: String,
    pub broker_name: Arc<str>,
    pub broker_addrs: BTreeMap<i64, String>,
    pub zone_name: Option<String>,
    pub enable_acting_master: bool,
}

impl BrokerData {
    pub fn write_json(&self, w: &mut JsonWriter) {
        w.begin_object();
        w.key("brokerAddrs");
        w.begin_object();
        for (id, addr) in &self.broker_addrs {
            w.int_key(*id);
            w.str(addr);
        }
        w.end_object();
        w.field_str("brokerName", &self.broker_name);
        w.field_str("cluster", &self.cluster);
        w.field_bool("enableActingMaster", self.enable_acting_master);
        w.field_opt_str("zoneName", self.zone_name.as_deref());
        w.end_object();
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TopicRouteData {
    pub order_topic_conf: Option<String>,
    pub queue_datas: Vec<QueueData>,
    pub broker_datas: Vec<BrokerData>,
    pub filter_server_table: BTreeMap<String, Vec<String>>,
    pub topic_queue_mapping_by_broker: Option<BTreeMap<String, Value>>,
}

impl TopicRouteData {
    pub fn to_json(&self, dialect: Dialect) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        let mut w = JsonWriter::new(&mut out, dialect);
        w.begin_object();
        w.key("brokerDatas");
        w.begin_array();
        for broker in &self.broker_datas {
            broker.write_json(&mut w);
        }
        w.end_array();
        w.key("filterServerTable");
        w.begin_object();
        for (addr, servers) in &self.filter_server_table {
            w.key(addr);
            w.begin_array();
            for server in servers {
                w.str(server);
            }
            w.end_array();
        }
        w.end_object();
        w.field_opt_str("orderTopicConf", self.order_topic_conf.as_deref());
        w.key("queueDatas");
        w.begin_array();
        for queue in &self.queue_datas {
            queue.write_json(&mut w);
        }
        w.end_array();
        if let Some(mappings) = &self.topic_queue_mapping_by_broker {
            w.key("topicQueueMappingByBroker");
            w.begin_object();
            for (broker, info) in mappings {
                w.key(broker);
                w.value(info);
            }
            w.end_object();
        }
        w.end_object();
        out
    }
}

impl TopicRouteData {
    /// Keeps the brokers of `zone` (and groups without a master, so clients
    /// can still read from their slaves), as Java's ZoneRouteRPCHook does.
    pub fn retain_zone(&mut self, zone: &str) {
        let (kept, removed): (Vec<BrokerData>, Vec<BrokerData>) =
            std::mem::take(&mut self.broker_datas)
                .into_iter()
                .partition(|b| {
                    !b.broker_addrs.contains_key(&MASTER_ID)
                        || b.zone_name
                            .as_deref()
                            .is_some_and(|z| z.eq_ignore_ascii_case(zone))
                });
        self.broker_datas = kept;
        self.queue_datas
            .retain(|q| !removed.iter().any(|b| b.broker_name == q.broker_name));
        for broker in &removed {
            for addr in broker.broker_addrs.values() {
                self.filter_server_table.remove(addr);
            }
        }
    }
}

/// GET_BROKER_CLUSTER_INFO's body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterInfo {
    pub broker_addr_table: BTreeMap<Arc<str>, BrokerData>,
    pub cluster_addr_table: BTreeMap<String, Vec<Arc<str>>>,
}

impl ClusterInfo {
    pub fn to_json(&self, dialect: Dialect) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        let mut w = JsonWriter::new(&mut out, dialect);
        w.begin_object();
        w.key("brokerAddrTable");
        w.begin_object();
        for (name, broker) in &self.broker_addr_table {
            w.key(name);
            broker.write_json(&mut w);
        }
        w.end_object();
        w.key("clusterAddrTable");
        w.begin_object();
        for (cluster, names) in &self.cluster_addr_table {
            w.key(cluster);
            w.begin_array();
            for name in names {
                w.str(name);
            }
            w.end_array();
        }
        w.end_object();
        w.end_object();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_route() -> TopicRouteData {
        let name: Arc<str> = Arc::from("broker-a");
        TopicRouteData {
            broker_datas: vec![BrokerData {
                cluster: "DefaultCluster".into(),
                broker_name: name.clone(),
                broker_addrs: BTreeMap::from([
                    (0, "127.0.0.1:10911".to_string()),
                    (1, "127.0.0.1:10921".to_string()),
                ]),
                zone_name: None,
                enable_acting_master: false,
            }],
            queue_datas: vec![QueueData {
                broker_name: name,
                read_queue_nums: 4,
                write_queue_nums: 4,
                perm: 6,
                topic_sys_flag: 0,
            }],
            ..Default::default()
        }
    }

    /// Byte-for-byte the samples the Java NameServer writes (spec §3).
    #[test]
    fn route_matches_java_bytes_in_both_dialects() {
        let route = sample_route();
        assert_eq!(
            String::from_utf8(route.to_json(Dialect::Fastjson)).unwrap(),
            r#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#
        );
        assert_eq!(
            String::from_utf8(route.to_json(Dialect::Standard)).unwrap(),
            r#"{"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911","1":"127.0.0.1:10921"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#
        );
    }

    #[test]
    fn standard_route_is_valid_json() {
        let mut route = sample_route();
        route.order_topic_conf = Some("broker-a:4".into());
        route
            .filter_server_table
            .insert("127.0.0.1:10911".into(), vec!["127.0.0.1:30000".into()]);
        let v: Value = serde_json::from_slice(&route.to_json(Dialect::Standard)).unwrap();
        assert_eq!(v["orderTopicConf"], "broker-a:4");
        assert_eq!(v["brokerDatas"][0]["brokerAddrs"]["1"], "127.0.0.1:10921");
        assert_eq!(
            v["filterServerTable"]["127.0.0.1:10911"][0],
            "127.0.0.1:30000"
        );
    }

    #[test]
    fn zone_filter_keeps_the_zone_and_masterless_groups() {
        let mut route = sample_route();
        let mut other = route.broker_datas[0].clone();
        other.broker_name = Arc::from("broker-b");
        other.zone_name = Some("zone-b".into());
        let mut masterless = other.clone();
        masterless.broker_name = Arc::from("broker-c");
        masterless.broker_addrs = BTreeMap::from([(1, "c:1".to_string())]);
        route.broker_datas[0].zone_name = Some("ZONE-A".into());
        route.broker_datas.push(other);
        route.broker_datas.push(masterless);
        for name in ["broker-b", "broker-c"] {
            let mut q = route.queue_datas[0].clone();
            q.broker_name = Arc::from(name);
            route.queue_datas.push(q);
        }
        route.retain_zone("zone-a");
        let names: Vec<&str> = route.broker_datas.iter().map(|b| &*b.broker_name).collect();
        assert_eq!(names, ["broker-a", "broker-c"]);
        let queues: Vec<&str> = route.queue_datas.iter().map(|q| &*q.broker_name).collect();
        assert_eq!(queues, ["broker-a", "broker-c"]);
    }

    #[test]
    fn topic_names_are_validated_like_java() {
        assert!(validate_topic_name("TopicTest_1-%|x").is_ok());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("has space").is_err());
        assert!(validate_topic_name("ünï").is_err());
        assert!(validate_topic_name(&"a".repeat(127)).is_ok());
        assert!(validate_topic_name(&"a".repeat(128)).is_err());
        assert!(validate_topic_name(&format!("%RETRY%{}", "a".repeat(200))).is_ok());
    }

    #[test]
    fn data_version_json() {
        let dv = DataVersion {
            state_version: 0,
            timestamp: 1700000000000,
            counter: 3,
        };
        assert_eq!(
            String::from_utf8(dv.to_json()).unwrap(),
            r#"{"counter":3,"stateVersion":0,"timestamp":1700000000000}"#
        );
    }
}
