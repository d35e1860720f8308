//! Response bodies decoded into the shapes mqadmin reads them as. Bodies are
//! read with the tolerant fastjson reader (the Java NameServer writes
//! unquoted number keys); fields a peer left out take Java's defaults.
//! Map entries keep JSON object order here; commands put them in Java's
//! iteration order when they print.

use serde_json::{Map, Value};

use super::error::AdminError;
use crate::json;

/// Parses `bytes` as the JSON object `what`, naming `addr` on failure.
pub fn parse_object(addr: &str, what: &'static str, bytes: &[u8]) -> Result<Value, AdminError> {
    let bad = |detail: String| AdminError::BadBody {
        addr: addr.to_string(),
        what,
        detail,
    };
    if bytes.is_empty() {
        return Err(bad("the body is empty".into()));
    }
    let value = json::read::parse(bytes).map_err(|e| bad(e.to_string()))?;
    if !value.is_object() {
        return Err(bad("not a JSON object".into()));
    }
    Ok(value)
}

fn obj(v: &Value) -> Option<&Map<String, Value>> {
    v.as_object()
}

pub fn str_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

pub fn int_field(v: &Value, key: &str) -> i64 {
    int_of(v.get(key))
}

fn int_of(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn opt_int_field(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Null => None,
        other => Some(int_of(Some(other))),
    }
}

fn bool_field(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn int_keyed<T>(v: Option<&Value>, each: impl Fn(&Value) -> T) -> Vec<(i64, T)> {
    v.and_then(obj)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.trim().parse::<i64>().ok()?, each(v))))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerData {
    pub cluster: Option<String>,
    pub broker_name: Option<String>,
    pub broker_addrs: Vec<(i64, String)>,
    pub zone_name: Option<String>,
    pub enable_acting_master: bool,
}

impl BrokerData {
    fn read(v: &Value) -> BrokerData {
        BrokerData {
            cluster: str_field(v, "cluster"),
            broker_name: str_field(v, "brokerName"),
            broker_addrs: int_keyed(v.get("brokerAddrs"), |a| {
                a.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| a.to_string())
            }),
            zone_name: str_field(v, "zoneName"),
            enable_acting_master: bool_field(v, "enableActingMaster"),
        }
    }

    /// The master's address (id 0), as mqadmin's deleteTopic looks it up.
    pub fn master_addr(&self) -> Option<&str> {
        self.broker_addrs
            .iter()
            .find(|(id, _)| *id == 0)
            .map(|(_, a)| a.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterInfo {
    pub broker_addr_table: Vec<(String, BrokerData)>,
    pub cluster_addr_table: Vec<(String, Vec<String>)>,
}

impl ClusterInfo {
    pub fn decode(addr: &str, bytes: &[u8]) -> Result<ClusterInfo, AdminError> {
        let v = parse_object(addr, "cluster info", bytes)?;
        let broker_addr_table = v
            .get("brokerAddrTable")
            .and_then(obj)
            .map(|m| {
                m.iter()
                    .map(|(k, b)| (k.clone(), BrokerData::read(b)))
                    .collect()
            })
            .unwrap_or_default();
        let cluster_addr_table = v
            .get("clusterAddrTable")
            .and_then(obj)
            .map(|m| {
                m.iter()
                    .map(|(k, names)| (k.clone(), string_list(Some(names))))
                    .collect()
            })
            .unwrap_or_default();
        Ok(ClusterInfo {
            broker_addr_table,
            cluster_addr_table,
        })
    }

    pub fn broker(&self, name: &str) -> Option<&BrokerData> {
        self.broker_addr_table
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
    }

    pub fn broker_names_of(&self, cluster: &str) -> Option<&[String]> {
        self.cluster_addr_table
            .iter()
            .find(|(c, _)| c == cluster)
            .map(|(_, names)| names.as_slice())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueData {
    pub broker_name: Option<String>,
    pub read_queue_nums: i64,
    pub write_queue_nums: i64,
    pub perm: i64,
    pub topic_sys_flag: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueMappingInfo {
    pub topic: Option<String>,
    pub scope: Option<String>,
    pub total_queues: i64,
    pub bname: Option<String>,
    pub epoch: i64,
    pub dirty: bool,
    pub curr_id_map: Option<Vec<(i64, i64)>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopicRouteData {
    pub order_topic_conf: Option<String>,
    pub queue_datas: Vec<QueueData>,
    pub broker_datas: Vec<BrokerData>,
    pub filter_server_table: Vec<(String, Vec<String>)>,
    pub topic_queue_mapping_by_broker: Option<Vec<(String, QueueMappingInfo)>>,
}

impl TopicRouteData {
    pub fn decode(addr: &str, bytes: &[u8]) -> Result<TopicRouteData, AdminError> {
        let v = parse_object(addr, "topic route", bytes)?;
        let list = |key: &str| {
            v.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let queue_datas = list("queueDatas")
            .iter()
            .map(|q| QueueData {
                broker_name: str_field(q, "brokerName"),
                read_queue_nums: int_field(q, "readQueueNums"),
                write_queue_nums: int_field(q, "writeQueueNums"),
                perm: int_field(q, "perm"),
                topic_sys_flag: int_field(q, "topicSysFlag"),
            })
            .collect();
        let broker_datas = list("brokerDatas").iter().map(BrokerData::read).collect();
        let filter_server_table = v
            .get("filterServerTable")
            .and_then(obj)
            .map(|m| {
                m.iter()
                    .map(|(k, l)| (k.clone(), string_list(Some(l))))
                    .collect()
            })
            .unwrap_or_default();
        let topic_queue_mapping_by_broker =
            v.get("topicQueueMappingByBroker").and_then(obj).map(|m| {
                m.iter()
                    .map(|(k, i)| {
                        let info = QueueMappingInfo {
                            topic: str_field(i, "topic"),
                            scope: str_field(i, "scope").or(Some("__global__".into())),
                            total_queues: int_field(i, "totalQueues"),
                            bname: str_field(i, "bname"),
                            epoch: int_field(i, "epoch"),
                            dirty: bool_field(i, "dirty"),
                            curr_id_map: i
                                .get("currIdMap")
                                .filter(|m| !m.is_null())
                                .map(|m| int_keyed(Some(m), |x| int_of(Some(x)))),
                        };
                        (k.clone(), info)
                    })
                    .collect()
            });
        Ok(TopicRouteData {
            order_topic_conf: str_field(&v, "orderTopicConf"),
            queue_datas,
            broker_datas,
            filter_server_table,
            topic_queue_mapping_by_broker,
        })
    }
}

/// A TopicList body's topics, in wire order.
pub fn topic_list(addr: &str, bytes: &[u8]) -> Result<Vec<String>, AdminError> {
    let v = parse_object(addr, "topic list", bytes)?;
    Ok(string_list(v.get("topicList")))
}

/// A KVTable body's entries, in wire order.
pub fn kv_table(addr: &str, bytes: &[u8]) -> Result<Vec<(String, String)>, AdminError> {
    let v = parse_object(addr, "KV table", bytes)?;
    Ok(v.get("table")
        .and_then(obj)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default())
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplicaIdentity {
    pub broker_name: Option<String>,
    pub broker_id: Option<i64>,
    pub broker_address: Option<String>,
    pub alive: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplicasInfo {
    pub master_broker_id: Option<i64>,
    pub master_address: Option<String>,
    pub master_epoch: Option<i64>,
    pub sync_state_set_epoch: Option<i64>,
    pub in_sync: Option<Vec<ReplicaIdentity>>,
    pub not_in_sync: Option<Vec<ReplicaIdentity>>,
}

/// A BrokerReplicasInfo body (CONTROLLER_GET_SYNC_STATE_DATA).
pub fn replicas_info(addr: &str, bytes: &[u8]) -> Result<Vec<(String, ReplicasInfo)>, AdminError> {
    let v = parse_object(addr, "sync state data", bytes)?;
    let replicas = |r: &Value, key: &str| {
        r.get(key).and_then(Value::as_array).map(|items| {
            items
                .iter()
                .map(|i| ReplicaIdentity {
                    broker_name: str_field(i, "brokerName"),
                    broker_id: opt_int_field(i, "brokerId"),
                    broker_address: str_field(i, "brokerAddress"),
                    alive: i.get("alive").and_then(Value::as_bool),
                })
                .collect()
        })
    };
    Ok(v.get("replicasInfoTable")
        .and_then(obj)
        .map(|m| {
            m.iter()
                .map(|(name, r)| {
                    let info = ReplicasInfo {
                        master_broker_id: opt_int_field(r, "masterBrokerId"),
                        master_address: str_field(r, "masterAddress"),
                        master_epoch: opt_int_field(r, "masterEpoch"),
                        sync_state_set_epoch: opt_int_field(r, "syncStateSetEpoch"),
                        in_sync: replicas(r, "inSyncReplicas"),
                        not_in_sync: replicas(r, "notInSyncReplicas"),
                    };
                    (name.clone(), info)
                })
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_info_reads_unquoted_broker_ids() {
        let body = br#"{"brokerAddrTable":{"b":{"brokerAddrs":{0:"127.0.0.1:10911",1:"127.0.0.1:10921"},"brokerName":"b","cluster":"C","enableActingMaster":false}},"clusterAddrTable":{"C":["b"]}}"#;
        let info = ClusterInfo::decode("ns", body).unwrap();
        let b = info.broker("b").unwrap();
        assert_eq!(b.master_addr(), Some("127.0.0.1:10911"));
        assert_eq!(b.broker_addrs.len(), 2);
        assert_eq!(info.broker_names_of("C").unwrap(), &["b".to_string()]);
    }

    #[test]
    fn garbage_and_empty_bodies_are_errors_naming_the_server() {
        let e = ClusterInfo::decode("10.0.0.1:9876", b"{not json").unwrap_err();
        assert!(e.to_string().contains("10.0.0.1:9876"), "{e}");
        assert!(TopicRouteData::decode("x", b"").is_err());
        assert!(topic_list("x", b"[1]").is_err());
    }

    #[test]
    fn a_route_keeps_java_defaults_for_missing_fields() {
        let r = TopicRouteData::decode("ns", br#"{"queueDatas":[{"brokerName":"b"}]}"#).unwrap();
        assert_eq!(r.queue_datas[0].perm, 0);
        assert!(r.broker_datas.is_empty());
        assert!(r.topic_queue_mapping_by_broker.is_none());
    }
}
