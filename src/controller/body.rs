//! Request and response bodies of the controller port, in fastjson's
//! dialect: bean fields alphabetical, null fields left out (`Map<Long,_>`
//! keys quoted: see [`elect_master`]). Input goes through the tolerant fastjson reader.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::error::ControllerError;
use super::event::BrokerId;
use crate::json;
use crate::json::write::{Dialect, JsonWriter};

/// Java `SyncStateSet` as a request body (1001). A missing set stays
/// `None`: Java fails on it only after its first check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStateSetBody {
    pub sync_state_set: Option<BTreeSet<BrokerId>>,
    /// A Java `int`: 0 when absent.
    pub sync_state_set_epoch: i32,
}

impl SyncStateSetBody {
    /// `Ok(None)` for an absent body (or JSON `null`), which Java decodes to
    /// null; unparsable text is an error, as Java's decode throws.
    pub fn decode(bytes: &[u8]) -> Result<Option<SyncStateSetBody>, ControllerError> {
        const WHAT: &str = "SyncStateSet";
        if bytes.is_empty() {
            return Ok(None);
        }
        let value = parse(WHAT, bytes)?;
        let obj = match &value {
            Value::Null => return Ok(None),
            Value::Object(obj) => obj,
            _ => return Err(bad(WHAT, "not a JSON object")),
        };
        let sync_state_set = match obj.get("syncStateSet") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|v| int_of(v).ok_or_else(|| bad(WHAT, "a broker id is not a number")))
                    .collect::<Result<_, _>>()?,
            ),
            Some(_) => return Err(bad(WHAT, "syncStateSet is not an array")),
        };
        let sync_state_set_epoch = match obj.get("syncStateSetEpoch") {
            None | Some(Value::Null) => 0,
            Some(v) => int_of(v)
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| bad(WHAT, "syncStateSetEpoch is not an int"))?,
        };
        Ok(Some(SyncStateSetBody {
            sync_state_set,
            sync_state_set_epoch,
        }))
    }
}

/// The 1006 body: a JSON list of broker names. Entries that are not strings
/// are `None`: they name no set, but Java still counts them, so a list of
/// only such entries is not an empty list.
pub fn decode_broker_names(bytes: &[u8]) -> Result<Vec<Option<String>>, ControllerError> {
    const WHAT: &str = "list of broker names";
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    match parse(WHAT, bytes)? {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => Ok(items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect()),
        _ => Err(bad(WHAT, "not a JSON array")),
    }
}

fn parse(what: &'static str, bytes: &[u8]) -> Result<Value, ControllerError> {
    json::read::parse(bytes).map_err(|e| bad(what, &e.to_string()))
}

fn bad(what: &'static str, detail: &str) -> ControllerError {
    ControllerError::BadBody {
        what,
        detail: detail.to_string(),
    }
}

/// fastjson reads numeric strings into number fields too.
fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn write(build: impl FnOnce(&mut JsonWriter<'_>)) -> Vec<u8> {
    let mut out = Vec::new();
    build(&mut JsonWriter::new(&mut out, Dialect::Fastjson));
    out
}

fn write_ids(w: &mut JsonWriter<'_>, key: &str, ids: &BTreeSet<BrokerId>) {
    w.key(key);
    w.begin_array();
    for id in ids {
        w.i64(*id);
    }
    w.end_array();
}

/// `{"syncStateSet":[1,2],"syncStateSetEpoch":N}`.
pub fn sync_state_set(ids: &BTreeSet<BrokerId>, epoch: i32) -> Vec<u8> {
    write(|w| {
        w.begin_object();
        write_ids(w, "syncStateSet", ids);
        w.field_i64("syncStateSetEpoch", epoch.into());
        w.end_object();
    })
}

/// Java `BrokerMemberGroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberGroup {
    pub cluster: String,
    pub broker_name: String,
    pub broker_addrs: BTreeMap<BrokerId, String>,
}

/// Java `ElectMasterResponseBody`; the group is absent on a 2011.
///
/// Unlike Java's controller, the broker ids are quoted keys: 5.5.0's
/// `mqadmin electMaster` reads this body as a bare `BrokerMemberGroup`, so
/// fastjson2 skips the nested group, and its skipper refuses unquoted names
/// ("not support unquoted name"; the tool fails against Java 5.5.0's own
/// controller). fastjson 1 and 2 read quoted ids into `Map<Long, String>`.
pub fn elect_master(group: Option<&MemberGroup>, ids: &BTreeSet<BrokerId>) -> Vec<u8> {
    write(|w| {
        w.begin_object();
        if let Some(group) = group {
            w.key("brokerMemberGroup");
            w.begin_object();
            w.key("brokerAddrs");
            w.begin_object();
            for (id, addr) in &group.broker_addrs {
                w.key(&id.to_string());
                w.str(addr);
            }
            w.end_object();
            w.field_str("brokerName", &group.broker_name);
            w.field_str("cluster", &group.cluster);
            w.end_object();
        }
        write_ids(w, "syncStateSet", ids);
        w.end_object();
    })
}

/// Java `BrokerReplicasInfo.ReplicaIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaIdentity {
    pub broker_name: String,
    pub broker_id: BrokerId,
    pub broker_address: String,
    pub alive: bool,
}

/// Java `BrokerReplicasInfo.ReplicasInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicasInfo {
    pub master_broker_id: Option<BrokerId>,
    pub master_address: Option<String>,
    pub master_epoch: i32,
    pub sync_state_set_epoch: i32,
    pub in_sync_replicas: Vec<ReplicaIdentity>,
    pub not_in_sync_replicas: Vec<ReplicaIdentity>,
}

fn write_replicas(w: &mut JsonWriter<'_>, key: &str, replicas: &[ReplicaIdentity]) {
    w.key(key);
    w.begin_array();
    for r in replicas {
        w.begin_object();
        w.field_bool("alive", r.alive);
        w.field_str("brokerAddress", &r.broker_address);
        w.field_i64("brokerId", r.broker_id);
        w.field_str("brokerName", &r.broker_name);
        w.end_object();
    }
    w.end_array();
}

/// `{"replicasInfoTable":{name:{...}}}` (1006), names in sorted order.
pub fn broker_replicas_info(table: &BTreeMap<String, ReplicasInfo>) -> Vec<u8> {
    write(|w| {
        w.begin_object();
        w.key("replicasInfoTable");
        w.begin_object();
        for (name, info) in table {
            w.key(name);
            w.begin_object();
            write_replicas(w, "inSyncReplicas", &info.in_sync_replicas);
            w.field_opt_str("masterAddress", info.master_address.as_deref());
            if let Some(id) = info.master_broker_id {
                w.field_i64("masterBrokerId", id);
            }
            w.field_i64("masterEpoch", info.master_epoch.into());
            write_replicas(w, "notInSyncReplicas", &info.not_in_sync_replicas);
            w.field_i64("syncStateSetEpoch", info.sync_state_set_epoch.into());
            w.end_object();
        }
        w.end_object();
        w.end_object();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn sync_state_set_round_trips() {
        let ids: BTreeSet<BrokerId> = [2, 1].into();
        let bytes = sync_state_set(&ids, 3);
        assert_eq!(
            text(bytes.clone()),
            r#"{"syncStateSet":[1,2],"syncStateSetEpoch":3}"#
        );
        let back = SyncStateSetBody::decode(&bytes).unwrap().unwrap();
        assert_eq!(back.sync_state_set, Some(ids));
        assert_eq!(back.sync_state_set_epoch, 3);
    }

    #[test]
    fn sync_state_set_input_as_fastjson_reads_it() {
        let b = SyncStateSetBody::decode(br#"{'syncStateSet':["1",2,2],}"#)
            .unwrap()
            .unwrap();
        assert_eq!(b.sync_state_set, Some([1, 2].into()));
        assert_eq!(b.sync_state_set_epoch, 0);
        let b = SyncStateSetBody::decode(br#"{"syncStateSetEpoch":4}"#)
            .unwrap()
            .unwrap();
        assert_eq!(b.sync_state_set, None);
        assert_eq!(SyncStateSetBody::decode(b"").unwrap(), None);
        assert_eq!(SyncStateSetBody::decode(b"null").unwrap(), None);
        for bad in [
            &b"{"[..],
            b"[1]",
            br#"{"syncStateSet":1}"#,
            br#"{"syncStateSet":[true]}"#,
            br#"{"syncStateSetEpoch":99999999999}"#,
        ] {
            assert!(SyncStateSetBody::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn broker_names_keep_non_strings_as_none() {
        assert_eq!(
            decode_broker_names(br#"["a",1,null,"b"]"#).unwrap(),
            [Some("a".to_string()), None, None, Some("b".to_string())]
        );
        assert!(decode_broker_names(b"").unwrap().is_empty());
        assert!(decode_broker_names(br#"{"a":1}"#).is_err());
        assert!(decode_broker_names(b"[").is_err());
    }

    #[test]
    fn elect_master_body_has_quoted_ids_and_sorted_fields() {
        let group = MemberGroup {
            cluster: "c".into(),
            broker_name: "b".into(),
            broker_addrs: [(2, "h:2".to_string()), (1, "h:1".to_string())].into(),
        };
        assert_eq!(
            text(elect_master(Some(&group), &[2].into())),
            r#"{"brokerMemberGroup":{"brokerAddrs":{"1":"h:1","2":"h:2"},"brokerName":"b","cluster":"c"},"syncStateSet":[2]}"#
        );
        assert_eq!(
            text(elect_master(None, &[1, 2].into())),
            r#"{"syncStateSet":[1,2]}"#
        );
    }

    #[test]
    fn replicas_info_leaves_out_nulls() {
        let r = |id| ReplicaIdentity {
            broker_name: "b".into(),
            broker_id: id,
            broker_address: format!("h:{id}"),
            alive: id == 1,
        };
        let table = BTreeMap::from([(
            "b".to_string(),
            ReplicasInfo {
                master_broker_id: None,
                master_address: None,
                master_epoch: 2,
                sync_state_set_epoch: 3,
                in_sync_replicas: vec![r(1)],
                not_in_sync_replicas: vec![r(2)],
            },
        )]);
        assert_eq!(
            text(broker_replicas_info(&table)),
            r#"{"replicasInfoTable":{"b":{"inSyncReplicas":[{"alive":true,"brokerAddress":"h:1","brokerId":1,"brokerName":"b"}],"masterEpoch":2,"notInSyncReplicas":[{"alive":false,"brokerAddress":"h:2","brokerId":2,"brokerName":"b"}],"syncStateSetEpoch":3}}}"#
        );
    }
}
