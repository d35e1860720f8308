//! `ControllerConfig`: the Java controller's properties, by their Java names,
//! with Java's defaults. An embedded controller reads them from the
//! NameServer's `-c` file, a standalone one from its own.
//!
//! As in Java, a property key is its setter's name without `set`; printing
//! uses the field names, which differ only for `processReadEvent` (printed as
//! `isProcessReadEvent`, as Java prints it). String values are trimmed, as
//! Java's setter-based loader does; a value that does not parse is an error
//! naming the key (Java silently keeps the default).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::ControllerError;
use super::peers::Peers;
use crate::config::fields::{config_struct, home_path, trimmed, PropValue};
use crate::config::properties;

/// `metricsExporterType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsExporterType {
    Disable,
    OtlpGrpc,
    Prom,
    Log,
}

impl PropValue for MetricsExporterType {
    const EXPECTED: &'static str = "exporter type (DISABLE, OTLP_GRPC, PROM or LOG)";
    fn parse_prop(text: &str) -> Option<Self> {
        // Java has setters for both the constant name and its ordinal.
        match text.trim() {
            "DISABLE" | "0" => Some(Self::Disable),
            "OTLP_GRPC" | "1" => Some(Self::OtlpGrpc),
            "PROM" | "2" => Some(Self::Prom),
            "LOG" | "3" => Some(Self::Log),
            _ => None,
        }
    }
    fn print_prop(&self) -> Option<String> {
        let name = match self {
            Self::Disable => "DISABLE",
            Self::OtlpGrpc => "OTLP_GRPC",
            Self::Prom => "PROM",
            Self::Log => "LOG",
        };
        Some(name.to_string())
    }
}

config_struct! {
    /// Java `ControllerConfig` (plus `JraftConfig`'s keys, accepted so a
    /// file written for Java loads unchanged).
    ControllerConfig(ControllerError, trimmed) {
        /// RocketMQ installation directory (informational); null when unset.
        rocketmq_home: Option<String> = "rocketmqHome" => std::env::var("ROCKETMQ_HOME").ok(),
        /// Where UPDATE_CONTROLLER_CONFIG persists the configuration.
        config_store_path: String = "configStorePath" => home_path("controller/controller.properties"),
        /// `DLedger` or `jRaft`; ours replicates with openraft either way.
        controller_type: String = "controllerType" => "DLedger".into(),
        /// Milliseconds between heartbeat-expiry scans.
        scan_not_active_broker_interval: i64 = "scanNotActiveBrokerInterval" => 5000,
        /// Java request executor threads (accepted; tokio schedules our work).
        controller_thread_pool_nums: i32 = "controllerThreadPoolNums" => 16,
        /// Java request queue capacity (accepted).
        controller_request_thread_pool_queue_capacity: i32 = "controllerRequestThreadPoolQueueCapacity" => 50000,
        /// The raft group's name (1005's `group`).
        controller_dleger_group: Option<String> = "controllerDLegerGroup" => None,
        /// `id-host:port;...`, required.
        controller_dleger_peers: Option<String> = "controllerDLegerPeers" => None,
        /// This node's id among the peers, required.
        controller_dleger_self_id: Option<String> = "controllerDLegerSelfId" => None,
        /// DLedger data file size (accepted; our log is not DLedger's).
        mapped_file_size: i32 = "mappedFileSize" => 1024 * 1024 * 1024,
        /// Raft data directory; empty means `~/<controllerType>Controller`.
        controller_store_path: String = "controllerStorePath" => String::new(),
        /// Tries of a controller-triggered election, 3 s each.
        elect_master_max_retry_count: i32 = "electMasterMaxRetryCount" => 3,
        /// Allow a master from outside the sync-state set.
        enable_elect_unclean_master: bool = "enableElectUncleanMaster" => false,
        /// Make reads linearizable (Java appends an empty entry for each).
        process_read_event: bool = "processReadEvent" as "isProcessReadEvent" => false,
        /// Push NOTIFY_BROKER_ROLE_CHANGED after a successful election.
        notify_broker_role_changed: bool = "notifyBrokerRoleChanged" => true,
        /// Milliseconds between the leader's inactive-master scans.
        scan_inactive_master_interval: i64 = "scanInactiveMasterInterval" => 5000,
        metrics_exporter_type: MetricsExporterType = "metricsExporterType" => MetricsExporterType::Disable,
        metrics_grpc_exporter_target: String = "metricsGrpcExporterTarget" => String::new(),
        metrics_grpc_exporter_header: String = "metricsGrpcExporterHeader" => String::new(),
        metric_grpc_exporter_time_out_in_mills: i64 = "metricGrpcExporterTimeOutInMills" => 3000,
        metric_grpc_exporter_interval_in_mills: i64 = "metricGrpcExporterIntervalInMills" => 60_000,
        metric_logging_exporter_interval_in_mills: i64 = "metricLoggingExporterIntervalInMills" => 10_000,
        metrics_prom_exporter_port: i32 = "metricsPromExporterPort" => 5557,
        metrics_prom_exporter_host: String = "metricsPromExporterHost" => String::new(),
        metrics_label: String = "metricsLabel" => String::new(),
        metrics_in_delta: bool = "metricsInDelta" => false,
        /// Keys UPDATE_CONTROLLER_CONFIG may not set (';'-separated).
        config_black_list: String = "configBlackList" => "configBlackList;configStorePath".into(),
        // JraftConfig (accepted; only the DLedger-style mode is implemented).
        j_raft_election_timeout_ms: i32 = "jRaftElectionTimeoutMs" => 1000,
        j_raft_scan_wait_timeout_ms: i32 = "jRaftScanWaitTimeoutMs" => 1000,
        j_raft_snapshot_interval_secs: i32 = "jRaftSnapshotIntervalSecs" => 3600,
        j_raft_group_id: String = "jRaftGroupId" => "jRaft-Controller".into(),
        j_raft_server_id: String = "jRaftServerId" => "localhost:9880".into(),
        j_raft_init_conf: String = "jRaftInitConf" => "localhost:9880,localhost:9881,localhost:9882".into(),
        j_raft_controller_rpc_addr: String = "jRaftControllerRPCAddr" => "localhost:9770,localhost:9771,localhost:9772".into(),
    }
}

/// Keys refused by UPDATE_CONTROLLER_CONFIG whatever `configBlackList` says.
const ALWAYS_BLACK_LISTED: [&str; 3] = ["configBlackList", "configStorePath", "rocketmqHome"];

impl ControllerConfig {
    /// Defaults, then every known key of `props`. Returns the keys that name
    /// no controller property (in a NameServer file, the NameServer's own).
    pub fn from_properties(
        props: &BTreeMap<String, String>,
    ) -> Result<(ControllerConfig, Vec<String>), ControllerError> {
        let mut config = ControllerConfig::default();
        let mut unknown = Vec::new();
        for (key, value) in props {
            if !config.set(key, value)? {
                unknown.push(key.clone());
            }
        }
        Ok((config, unknown))
    }

    /// The peer list and this node in it; a start-up error names the key.
    pub fn peers(&self) -> Result<Peers, ControllerError> {
        Peers::parse(
            self.controller_dleger_peers.as_deref(),
            self.controller_dleger_self_id.as_deref(),
        )
    }

    /// The raft data directory, with Java's default for an empty value.
    pub fn effective_store_path(&self) -> PathBuf {
        if self.controller_store_path.is_empty() {
            PathBuf::from(home_path(&format!("{}Controller", self.controller_type)))
        } else {
            PathBuf::from(&self.controller_store_path)
        }
    }

    /// Whether UPDATE_CONTROLLER_CONFIG refuses `key`. The list itself is
    /// always refused, so it can only change with a restart.
    pub fn is_black_listed(&self, key: &str) -> bool {
        ALWAYS_BLACK_LISTED.contains(&key) || self.config_black_list.split(';').any(|k| k == key)
    }

    /// UPDATE_CONTROLLER_CONFIG: refuses the whole text if any key is black
    /// listed (Java answers NO_PERMISSION) and changes nothing unless every
    /// known key parses. Returns the keys that name no property, which Java
    /// drops too.
    pub fn update_from_text(&mut self, text: &str) -> Result<Vec<String>, ControllerError> {
        let pairs = properties::parse(text)?;
        if let Some((key, _)) = pairs.iter().find(|(k, _)| self.is_black_listed(k)) {
            return Err(ControllerError::BlackListed { key: key.clone() });
        }
        let mut updated = self.clone();
        let mut unknown = Vec::new();
        for (key, value) in &pairs {
            if !updated.set(key, value)? {
                unknown.push(key.clone());
            }
        }
        *self = updated;
        Ok(unknown)
    }

    /// The body of GET_CONTROLLER_CONFIG and the `-p` listing.
    pub fn to_properties_text(&self) -> String {
        properties::to_string(self.entries())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_java() {
        let c = ControllerConfig::default();
        assert_eq!(c.controller_type, "DLedger");
        assert_eq!(c.scan_not_active_broker_interval, 5000);
        assert_eq!(c.scan_inactive_master_interval, 5000);
        assert_eq!(c.elect_master_max_retry_count, 3);
        assert_eq!(c.mapped_file_size, 1 << 30);
        assert_eq!(c.controller_thread_pool_nums, 16);
        assert_eq!(c.controller_request_thread_pool_queue_capacity, 50000);
        assert!(!c.enable_elect_unclean_master && !c.process_read_event);
        assert!(c.notify_broker_role_changed);
        assert_eq!(c.config_black_list, "configBlackList;configStorePath");
        assert!(c
            .config_store_path
            .ends_with("controller/controller.properties"));
        assert!(c
            .effective_store_path()
            .to_string_lossy()
            .ends_with("DLedgerController"));
        // Nulls are left out of the listing, as Java leaves them out.
        let keys: Vec<&str> = c.entries().iter().map(|(k, _)| *k).collect();
        assert!(!keys.contains(&"controllerDLegerPeers"));
        assert!(keys.contains(&"isProcessReadEvent"));
        assert!(!keys.contains(&"processReadEvent"));
    }

    #[test]
    fn loads_a_namesrv_file_and_reports_other_keys() {
        let (c, unknown) = ControllerConfig::from_properties(&props(&[
            ("listenPort", "9876"),
            ("enableControllerInNamesrv", "true"),
            ("controllerDLegerGroup", "group1"),
            (
                "controllerDLegerPeers",
                " n0-127.0.0.1:9878;n1-127.0.0.1:9868 ",
            ),
            ("controllerDLegerSelfId", "n1"),
            ("controllerStorePath", "/tmp/ctl"),
            ("processReadEvent", "TRUE"),
            ("enableElectUncleanMaster", "true"),
            ("metricsExporterType", "PROM"),
        ]))
        .unwrap();
        assert_eq!(unknown, ["enableControllerInNamesrv", "listenPort"]);
        assert!(c.process_read_event && c.enable_elect_unclean_master);
        assert_eq!(c.metrics_exporter_type, MetricsExporterType::Prom);
        assert_eq!(c.effective_store_path(), PathBuf::from("/tmp/ctl"));
        assert_eq!(c.get("processReadEvent").as_deref(), Some("true"));
        let peers = c.peers().unwrap();
        assert_eq!(peers.me().address(), "127.0.0.1:9868");
        let text = c.to_properties_text();
        assert!(text.contains("controllerDLegerGroup=group1\n"), "{text}");
        assert!(text.contains("isProcessReadEvent=true\n"), "{text}");
        let back: BTreeMap<String, String> =
            properties::parse(&text).unwrap().into_iter().collect();
        assert_eq!(back.len(), c.entries().len());
    }

    #[test]
    fn errors_name_the_key() {
        for (key, value) in [
            ("scanNotActiveBrokerInterval", "5s"),
            ("enableElectUncleanMaster", "yes"),
            ("mappedFileSize", "99999999999"),
            ("metricsExporterType", "GRAPHITE"),
        ] {
            let err = ControllerConfig::from_properties(&props(&[(key, value)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key) && err.contains(value), "{err}");
        }
        let missing = ControllerConfig::default().peers().unwrap_err().to_string();
        assert!(missing.contains("controllerDLegerPeers"), "{missing}");
        let (c, _) =
            ControllerConfig::from_properties(&props(&[("controllerDLegerPeers", "n0-h:1")]))
                .unwrap();
        let err = c.peers().unwrap_err().to_string();
        assert!(err.contains("controllerDLegerSelfId"), "{err}");
    }

    #[test]
    fn update_refuses_black_listed_keys_and_bad_values_atomically() {
        let mut c = ControllerConfig {
            config_black_list: "configBlackList;configStorePath;scanInactiveMasterInterval".into(),
            ..ControllerConfig::default()
        };
        for text in [
            "configStorePath=/x\n",
            "rocketmqHome=/x\n",
            "configBlackList=\n",
            "notifyBrokerRoleChanged=false\nscanInactiveMasterInterval=1\n",
        ] {
            let before = c.clone();
            let err = c.update_from_text(text).unwrap_err();
            assert!(matches!(err, ControllerError::BlackListed { .. }), "{text}");
            assert_eq!(c, before);
        }
        let before = c.clone();
        assert!(c
            .update_from_text("notifyBrokerRoleChanged=false\nelectMasterMaxRetryCount=x\n")
            .is_err());
        assert_eq!(c, before);
        let unknown = c
            .update_from_text("notifyBrokerRoleChanged=false\nmystery=1\n")
            .unwrap();
        assert!(!c.notify_broker_role_changed);
        assert_eq!(unknown, ["mystery"]);
        assert!(matches!(
            c.update_from_text("a=\\u12"),
            Err(ControllerError::Syntax(_))
        ));
    }
}
