//! Typed request headers of the controller port, decoded from `extFields`.
//!
//! Java's header decoder never fails: a field that is absent, or does not
//! parse, is logged and keeps its initial value (null for most controller
//! headers, even the `@CFNotNull` ones, whose check sits inside the same
//! catch-all). The handler then fails with a null pointer exception (a
//! SYSTEM_ERROR) only when, and where, it dereferences the field. So fields
//! Java keeps as nullable objects are [`Field`]s here, and the handlers
//! call [`Field::need`] at the point Java would dereference them, which
//! keeps Java's order of checks and gives the reply a clear text.

use super::error::ControllerError;
use super::event::BrokerId;
use super::heartbeat::{BrokerIdentity, Heartbeat};
use crate::remoting::command::ExtFields;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Raw<T> {
    Set(T),
    Absent,
    Malformed(String),
}

/// A header field as Java's decoder leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<T> {
    name: &'static str,
    raw: Raw<T>,
    expected: &'static str,
}

impl<T: Clone> Field<T> {
    /// The value, or the error Java's handler would hit dereferencing null.
    pub fn need(&self) -> Result<T, ControllerError> {
        match &self.raw {
            Raw::Set(v) => Ok(v.clone()),
            Raw::Absent => Err(ControllerError::MissingField(self.name)),
            Raw::Malformed(value) => Err(ControllerError::MalformedField {
                field: self.name,
                value: value.clone(),
                expected: self.expected,
            }),
        }
    }

    /// The value if it was present and parsed (Java's non-null).
    pub fn get(&self) -> Option<T> {
        match &self.raw {
            Raw::Set(v) => Some(v.clone()),
            _ => None,
        }
    }
}

fn parsed<T>(
    ext: &ExtFields,
    name: &'static str,
    expected: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Field<T> {
    let raw = match ext.get(name) {
        None => Raw::Absent,
        Some(text) => match parse(text) {
            Some(v) => Raw::Set(v),
            None => Raw::Malformed(text.clone()),
        },
    };
    Field {
        name,
        raw,
        expected,
    }
}

fn string(ext: &ExtFields, name: &'static str) -> Field<String> {
    parsed(ext, name, "string", |s| Some(s.to_string()))
}

/// `Long.parseLong`: an optional sign and digits, no blanks.
fn long(ext: &ExtFields, name: &'static str) -> Field<i64> {
    parsed(ext, name, "long integer", |s| s.parse().ok())
}

fn int(ext: &ExtFields, name: &'static str) -> Field<i32> {
    parsed(ext, name, "integer", |s| s.parse().ok())
}

/// `Boolean.parseBoolean`: "true" in any case, anything else false.
fn boolean(ext: &ExtFields, name: &'static str) -> Option<bool> {
    ext.get(name).map(|s| s.eq_ignore_ascii_case("true"))
}

/// 1001 CONTROLLER_ALTER_SYNC_STATE_SET (body: [`super::body::SyncStateSetBody`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterSyncStateSetRequest {
    pub broker_name: Field<String>,
    pub master_broker_id: Option<BrokerId>,
    pub master_epoch: Field<i32>,
}

impl AlterSyncStateSetRequest {
    pub fn decode(ext: &ExtFields) -> Self {
        AlterSyncStateSetRequest {
            broker_name: string(ext, "brokerName"),
            master_broker_id: long(ext, "masterBrokerId").get(),
            master_epoch: int(ext, "masterEpoch"),
        }
    }
}

/// 1002 CONTROLLER_ELECT_MASTER. Java initialises every field, so nothing
/// here can be null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectMasterRequest {
    pub cluster_name: String,
    pub broker_name: String,
    /// -1 when the controller itself triggers the election.
    pub broker_id: BrokerId,
    pub designate_elect: bool,
}

impl ElectMasterRequest {
    pub fn decode(ext: &ExtFields) -> Self {
        ElectMasterRequest {
            cluster_name: string(ext, "clusterName").get().unwrap_or_default(),
            broker_name: string(ext, "brokerName").get().unwrap_or_default(),
            broker_id: long(ext, "brokerId").get().unwrap_or(-1),
            designate_elect: boolean(ext, "designateElect").unwrap_or(false),
        }
    }

    /// What the leader runs when a master is found inactive.
    pub fn controller_trigger(broker_name: &str) -> Self {
        ElectMasterRequest {
            cluster_name: String::new(),
            broker_name: broker_name.to_string(),
            broker_id: -1,
            designate_elect: false,
        }
    }

    pub fn is_controller_triggered(&self) -> bool {
        self.broker_id == -1
    }
}

/// 1003 CONTROLLER_REGISTER_BROKER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterBrokerRequest {
    pub cluster_name: Option<String>,
    pub broker_name: Field<String>,
    pub broker_id: Field<BrokerId>,
    pub broker_address: Field<String>,
}

impl RegisterBrokerRequest {
    pub fn decode(ext: &ExtFields) -> Self {
        RegisterBrokerRequest {
            cluster_name: string(ext, "clusterName").get(),
            broker_name: string(ext, "brokerName"),
            broker_id: long(ext, "brokerId"),
            broker_address: string(ext, "brokerAddress"),
        }
    }
}

/// 1004 CONTROLLER_GET_REPLICA_INFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetReplicaInfoRequest {
    pub broker_name: Field<String>,
}

impl GetReplicaInfoRequest {
    pub fn decode(ext: &ExtFields) -> Self {
        GetReplicaInfoRequest {
            broker_name: string(ext, "brokerName"),
        }
    }
}

/// 1011 CLEAN_BROKER_DATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanBrokerDataRequest {
    pub cluster_name: Option<String>,
    pub broker_name: Field<String>,
    /// `"1;3"`, parsed by the handler (a bad list is a 2009, not an error).
    pub broker_controller_ids_to_clean: Option<String>,
    pub is_clean_living_broker: bool,
}

impl CleanBrokerDataRequest {
    pub fn decode(ext: &ExtFields) -> Self {
        CleanBrokerDataRequest {
            cluster_name: string(ext, "clusterName").get(),
            broker_name: string(ext, "brokerName"),
            broker_controller_ids_to_clean: string(ext, "brokerControllerIdsToClean").get(),
            is_clean_living_broker: boolean(ext, "isCleanLivingBroker").unwrap_or(false),
        }
    }
}

/// 1012 CONTROLLER_GET_NEXT_BROKER_ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetNextBrokerIdRequest {
    pub cluster_name: Option<String>,
    pub broker_name: Field<String>,
}

impl GetNextBrokerIdRequest {
    pub fn decode(ext: &ExtFields) -> Self {
        GetNextBrokerIdRequest {
            cluster_name: string(ext, "clusterName").get(),
            broker_name: string(ext, "brokerName"),
        }
    }
}

/// 1013 CONTROLLER_APPLY_BROKER_ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyBrokerIdRequest {
    /// Java would store a set with a null cluster; we refuse instead.
    pub cluster_name: Field<String>,
    pub broker_name: Field<String>,
    pub applied_broker_id: Field<BrokerId>,
    /// `"<address>;<millis>"`.
    pub register_check_code: Field<String>,
}

impl ApplyBrokerIdRequest {
    pub fn decode(ext: &ExtFields) -> Self {
        ApplyBrokerIdRequest {
            cluster_name: string(ext, "clusterName"),
            broker_name: string(ext, "brokerName"),
            applied_broker_id: long(ext, "appliedBrokerId"),
            register_check_code: string(ext, "registerCheckCode"),
        }
    }
}

/// 904 BROKER_HEARTBEAT on the controller port (one-way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerHeartbeatRequest {
    pub cluster_name: Field<String>,
    pub broker_addr: Field<String>,
    pub broker_name: Field<String>,
    /// Absent or unparsable: 2005.
    pub broker_id: Option<BrokerId>,
    pub epoch: Option<i32>,
    pub max_offset: Option<i64>,
    pub confirm_offset: Option<i64>,
    pub heartbeat_timeout_mills: Option<i64>,
    pub election_priority: Option<i32>,
}

impl BrokerHeartbeatRequest {
    pub fn decode(ext: &ExtFields) -> Self {
        BrokerHeartbeatRequest {
            cluster_name: string(ext, "clusterName"),
            broker_addr: string(ext, "brokerAddr"),
            broker_name: string(ext, "brokerName"),
            broker_id: long(ext, "brokerId").get(),
            epoch: int(ext, "epoch").get(),
            max_offset: long(ext, "maxOffset").get(),
            confirm_offset: long(ext, "confirmOffset").get(),
            heartbeat_timeout_mills: long(ext, "heartbeatTimeoutMills").get(),
            election_priority: int(ext, "electionPriority").get(),
        }
    }

    /// The table entry this heartbeat makes, given its broker id. Java
    /// would record a heartbeat without cluster, name or address under a
    /// null key that no lookup matches; refusing it loses nothing.
    pub fn to_heartbeat(&self, broker_id: BrokerId) -> Result<Heartbeat, ControllerError> {
        Ok(Heartbeat {
            identity: BrokerIdentity {
                cluster_name: self.cluster_name.need()?,
                broker_name: self.broker_name.need()?,
                broker_id,
            },
            broker_addr: self.broker_addr.need()?,
            timeout_ms: self.heartbeat_timeout_mills,
            epoch: self.epoch,
            max_offset: self.max_offset,
            confirm_offset: self.confirm_offset,
            election_priority: self.election_priority,
        })
    }
}

#[cfg(test)]
pub(crate) fn ext(pairs: &[(&str, &str)]) -> ExtFields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_malformed_fields_name_themselves_when_needed() {
        let r = AlterSyncStateSetRequest::decode(&ext(&[
            ("brokerName", "b"),
            ("masterBrokerId", "x"),
            ("masterEpoch", " 3"),
        ]));
        assert_eq!(r.broker_name.need().unwrap(), "b");
        // Java leaves an unparsable Long null.
        assert_eq!(r.master_broker_id, None);
        let err = r.master_epoch.need().unwrap_err().to_string();
        assert!(err.contains("masterEpoch") && err.contains(" 3"), "{err}");
        let r = GetReplicaInfoRequest::decode(&ext(&[]));
        assert_eq!(
            r.broker_name.need().unwrap_err().to_string(),
            "the custom field <brokerName> is null"
        );
    }

    #[test]
    fn elect_master_defaults_as_java_initialises_it() {
        let r = ElectMasterRequest::decode(&ext(&[("brokerId", "oops")]));
        assert_eq!(r, ElectMasterRequest::controller_trigger(""));
        assert!(r.is_controller_triggered());
        let r = ElectMasterRequest::decode(&ext(&[
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("brokerId", "2"),
            ("designateElect", "TRUE"),
        ]));
        assert_eq!(r.broker_id, 2);
        assert!(r.designate_elect && !r.is_controller_triggered());
        assert!(!ElectMasterRequest::decode(&ext(&[("designateElect", "yes")])).designate_elect);
    }

    #[test]
    fn heartbeat_fields_default_and_ints_are_ranged() {
        let r = BrokerHeartbeatRequest::decode(&ext(&[
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("brokerAddr", "h:1"),
            ("brokerId", "1"),
            ("epoch", "99999999999"),
            ("maxOffset", "+7"),
        ]));
        assert_eq!(r.epoch, None);
        assert_eq!(r.max_offset, Some(7));
        let hb = r.to_heartbeat(1).unwrap();
        assert_eq!(hb.identity, BrokerIdentity::new("c", "b", 1));
        let r = BrokerHeartbeatRequest::decode(&ext(&[("brokerId", "1")]));
        assert!(r.to_heartbeat(1).is_err());
    }

    #[test]
    fn clean_and_register_keep_optional_fields_optional() {
        let r = CleanBrokerDataRequest::decode(&ext(&[
            ("brokerName", "b"),
            ("isCleanLivingBroker", "true"),
        ]));
        assert!(r.is_clean_living_broker);
        assert_eq!(r.cluster_name, None);
        assert_eq!(r.broker_controller_ids_to_clean, None);
        let r = RegisterBrokerRequest::decode(&ext(&[("brokerId", "2")]));
        assert_eq!(r.broker_id.need().unwrap(), 2);
        assert!(r.broker_address.need().is_err());
    }
}
