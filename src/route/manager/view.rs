//! Read-only views of the route table for operators (metrics, the HTTP
//! API): counts and per-broker state, each read under one short read lock.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use super::{BrokerAddrInfo, RouteInfoManager};
use crate::route::model::DataVersion;

/// Sizes of the route table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteStats {
    /// Live brokers per cluster.
    pub live_per_cluster: Vec<(String, usize)>,
    pub broker_groups: usize,
    pub topics: usize,
    /// Queue data entries (topic × broker group).
    pub queue_entries: usize,
}

/// One broker address of a group, with its liveness if it is registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerView {
    pub cluster: String,
    pub broker_name: String,
    pub broker_id: i64,
    pub addr: String,
    pub zone_name: Option<String>,
    /// Milliseconds since the epoch of its last registration or heartbeat.
    pub last_update_ms: Option<i64>,
    pub heartbeat_timeout_ms: Option<i64>,
    pub data_version: Option<DataVersion>,
    pub ha_server_addr: Option<String>,
    /// Topics with queue data of this broker's group.
    pub topics: usize,
}

impl RouteInfoManager {
    pub fn stats(&self) -> RouteStats {
        let t = self.tables.read();
        let mut live: BTreeMap<&str, usize> =
            t.cluster_addr.keys().map(|c| (c.as_str(), 0)).collect();
        for addr in t.broker_live.keys() {
            *live.entry(addr.cluster_name.as_str()).or_default() += 1;
        }
        RouteStats {
            live_per_cluster: live.into_iter().map(|(c, n)| (c.to_string(), n)).collect(),
            broker_groups: t.broker_addr.len(),
            topics: t.topic_queue.len(),
            queue_entries: t.topic_queue.values().map(Vec::len).sum(),
        }
    }

    /// Every broker address of every group, by cluster, group and id.
    pub fn brokers(&self) -> Vec<BrokerView> {
        let t = self.tables.read();
        let mut topics_of: BTreeMap<&str, usize> = BTreeMap::new();
        for queues in t.topic_queue.values() {
            for q in queues {
                *topics_of.entry(&q.broker_name).or_default() += 1;
            }
        }
        let mut out = Vec::new();
        for (name, group) in &t.broker_addr {
            for (id, addr) in &group.broker_addrs {
                let live = t
                    .broker_live
                    .get(&BrokerAddrInfo::new(&group.cluster, addr));
                out.push(BrokerView {
                    cluster: group.cluster.clone(),
                    broker_name: name.to_string(),
                    broker_id: *id,
                    addr: addr.clone(),
                    zone_name: group.zone_name.clone(),
                    last_update_ms: live.map(|l| l.last_update_ms.load(Ordering::Relaxed)),
                    heartbeat_timeout_ms: live.map(|l| l.heartbeat_timeout_ms),
                    data_version: live.map(|l| l.data_version),
                    ha_server_addr: live.map(|l| l.ha_server_addr.clone()),
                    topics: topics_of.get(&**name).copied().unwrap_or(0),
                });
            }
        }
        out.sort_by(|a, b| {
            (&a.cluster, &a.broker_name, a.broker_id).cmp(&(
                &b.cluster,
                &b.broker_name,
                b.broker_id,
            ))
        });
        out
    }

    /// Whether `addr` of `cluster` is a live registered broker.
    pub fn is_registered(&self, cluster: &str, addr: &str) -> bool {
        self.tables
            .read()
            .broker_live
            .contains_key(&BrokerAddrInfo::new(cluster, addr))
    }
}
