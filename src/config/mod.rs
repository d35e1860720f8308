//! The effective configuration: the Java NameServer's `NamesrvConfig` and
//! `NettyServerConfig` properties, by their Java names, with Java defaults.

pub mod auth;
pub mod cidr;
pub(crate) mod fields;
pub mod load;
pub mod properties;

use std::path::{Path, PathBuf};

pub use auth::AuthConfig;
use fields::{as_written, config_struct, home_path, PropValue};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Syntax {
        path: PathBuf,
        source: properties::PropertiesError,
    },
    #[error("config property {key}={value:?} is not a valid {expected}")]
    BadValue {
        key: String,
        value: String,
        expected: &'static str,
    },
}

/// `tls.server.mode`: what the server does with TLS and plaintext connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plaintext only; a TLS handshake closes the connection.
    Disabled,
    /// Both: a connection whose first byte is a TLS handshake gets TLS.
    Permissive,
    /// TLS only; a plaintext request closes the connection.
    Enforcing,
}

impl PropValue for TlsMode {
    const EXPECTED: &'static str = "TLS mode (disabled, permissive or enforcing)";
    fn parse_prop(text: &str) -> Option<Self> {
        match text.trim() {
            "disabled" => Some(TlsMode::Disabled),
            "permissive" => Some(TlsMode::Permissive),
            "enforcing" => Some(TlsMode::Enforcing),
            _ => None,
        }
    }
    fn print_prop(&self) -> Option<String> {
        let name = match self {
            TlsMode::Disabled => "disabled",
            TlsMode::Permissive => "permissive",
            TlsMode::Enforcing => "enforcing",
        };
        Some(name.into())
    }
}

/// `tls.server.need.client.auth`: whether clients are asked for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Optional,
    Require,
}

impl PropValue for ClientAuth {
    const EXPECTED: &'static str = "client auth mode (none, optional or require)";
    fn parse_prop(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            // Java treats an empty value as none.
            "" | "none" => Some(ClientAuth::None),
            "optional" => Some(ClientAuth::Optional),
            "require" => Some(ClientAuth::Require),
            _ => None,
        }
    }
    fn print_prop(&self) -> Option<String> {
        let name = match self {
            ClientAuth::None => "none",
            ClientAuth::Optional => "optional",
            ClientAuth::Require => "require",
        };
        Some(name.into())
    }
}

config_struct! {
    /// Java `NamesrvConfig`.
    NamesrvConfig(ConfigError, as_written) {
        /// RocketMQ installation directory (informational here).
        rocketmq_home: String = "rocketmqHome" => std::env::var("ROCKETMQ_HOME").unwrap_or_default(),
        /// Where the KV table is persisted.
        kv_config_path: String = "kvConfigPath" => home_path("namesrv/kvConfig.json"),
        /// Where UPDATE_NAMESRV_CONFIG persists the configuration.
        config_store_path: String = "configStorePath" => home_path("namesrv/namesrv.properties"),
        /// Environment name of the (obsolete) cluster-test mode.
        product_env_name: String = "productEnvName" => "center".into(),
        /// Cluster-test mode (obsolete; see README).
        cluster_test: bool = "clusterTest" => false,
        /// Put ORDER_TOPIC_CONFIG entries into route answers.
        order_message_enable: bool = "orderMessageEnable" => false,
        /// Send ORDER_TOPIC_CONFIG entries back in the register answer.
        return_order_topic_config_to_broker: bool = "returnOrderTopicConfigToBroker" => true,
        /// Java thread pool size (accepted; tokio schedules our work).
        client_request_thread_pool_nums: i32 = "clientRequestThreadPoolNums" => 8,
        /// Java thread pool size (accepted; tokio schedules our work).
        default_thread_pool_nums: i32 = "defaultThreadPoolNums" => 16,
        /// Java queue capacity (accepted; unused).
        client_request_thread_pool_queue_capacity: i32 = "clientRequestThreadPoolQueueCapacity" => 50000,
        /// Java queue capacity (accepted; unused).
        default_thread_pool_queue_capacity: i32 = "defaultThreadPoolQueueCapacity" => 10000,
        /// Milliseconds between scans for brokers whose heartbeat lapsed.
        scan_not_active_broker_interval: i64 = "scanNotActiveBrokerInterval" => 5000,
        /// Java unregister queue capacity (accepted; we unregister synchronously).
        un_register_broker_queue_capacity: i32 = "unRegisterBrokerQueueCapacity" => 3000,
        /// Report a slave as acting master when its group lost the master.
        support_acting_master: bool = "supportActingMaster" => false,
        /// Serve GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
        enable_all_topic_list: bool = "enableAllTopicList" => true,
        /// Serve the per-cluster and unit topic lists.
        enable_topic_list: bool = "enableTopicList" => true,
        /// Send NOTIFY_MIN_BROKER_ID_CHANGE to brokers.
        notify_min_broker_id_changed: bool = "notifyMinBrokerIdChanged" => false,
        /// Starts the controller beside the NameServer, configured by the same file.
        enable_controller_in_namesrv: bool = "enableControllerInNamesrv" => false,
        /// Refuse route lookups for waitSecondsForService after start.
        need_wait_for_service: bool = "needWaitForService" => false,
        /// Warm-up window for needWaitForService.
        wait_seconds_for_service: i32 = "waitSecondsForService" => 45,
        /// Drop topics a broker no longer lists when it re-registers.
        delete_topic_with_broker_registration: bool = "deleteTopicWithBrokerRegistration" => false,
        /// Properties UPDATE_NAMESRV_CONFIG may not change (';'-separated).
        config_black_list: String = "configBlackList" => "configBlackList;configStorePath;kvConfigPath".into(),
    }
}

config_struct! {
    /// Java `NettyServerConfig`, plus namesrv's own keys at the end.
    ServerConfig(ConfigError, as_written) {
        /// Address to listen on.
        bind_address: String = "bindAddress" => "0.0.0.0".into(),
        /// Port to listen on (0 picks a free one).
        listen_port: i32 = "listenPort" => 9876,
        /// Java worker threads (accepted; unused).
        server_worker_threads: i32 = "serverWorkerThreads" => 8,
        /// Java callback threads (accepted; unused).
        server_callback_executor_threads: i32 = "serverCallbackExecutorThreads" => 0,
        /// Java selector threads (accepted; unused).
        server_selector_threads: i32 = "serverSelectorThreads" => 3,
        /// Java one-way semaphore (accepted; unused).
        server_oneway_semaphore_value: i32 = "serverOnewaySemaphoreValue" => 256,
        /// Java async semaphore (accepted; unused).
        server_async_semaphore_value: i32 = "serverAsyncSemaphoreValue" => 64,
        /// Seconds of silence after which a connection is closed.
        server_channel_max_idle_time_seconds: i32 = "serverChannelMaxIdleTimeSeconds" => 120,
        /// SO_SNDBUF (0 = system default; accepted).
        server_socket_snd_buf_size: i32 = "serverSocketSndBufSize" => 0,
        /// SO_RCVBUF (0 = system default; accepted).
        server_socket_rcv_buf_size: i32 = "serverSocketRcvBufSize" => 0,
        /// Netty write buffer high water mark (accepted).
        write_buffer_high_water_mark: i32 = "writeBufferHighWaterMark" => 0,
        /// Netty write buffer low water mark (accepted).
        write_buffer_low_water_mark: i32 = "writeBufferLowWaterMark" => 0,
        /// Listen backlog.
        server_socket_backlog: i32 = "serverSocketBacklog" => 1024,
        /// Netty worker event-loop group (accepted; unused).
        server_netty_worker_group_enable: bool = "serverNettyWorkerGroupEnable" => true,
        /// Netty pooled allocator (accepted; unused).
        server_pooled_byte_buf_allocator_enable: bool = "serverPooledByteBufAllocatorEnable" => true,
        /// Java graceful-shutdown switch (we always shut down gracefully).
        enable_shutdown_gracefully: bool = "enableShutdownGracefully" => false,
        /// Seconds to wait for connections to finish on shutdown.
        shutdown_wait_time_seconds: i32 = "shutdownWaitTimeSeconds" => 30,
        /// Netty epoll switch (accepted; unused).
        use_epoll_native_selector: bool = "useEpollNativeSelector" => false,
        /// namesrv: largest frame accepted in bytes, length prefix included.
        frame_max_length: i64 = "frameMaxLength" => 16 * 1024 * 1024,
        /// namesrv: connections served at once.
        max_connections: i64 = "maxConnections" => 65536,
        /// namesrv: port of the HTTP listener (metrics, API, cluster page), on
        /// bindAddress; 0 turns it off.
        http_listen_port: i32 = "httpListenPort" => 9877,
        /// namesrv: the NameServer list `GET /rocketmq/<subgroup>` answers on
        /// the HTTP port (`host:port;host:port`), for clients that find
        /// NameServers through `rocketmq.namesrv.domain`.
        address_server_list: String = "addressServerList" => String::new(),
        /// namesrv: a DNS name and port (`name:port`, e.g. a Kubernetes
        /// headless service) resolved at each such request instead.
        address_server_domain: String = "addressServerDomain" => String::new(),
    }
}

config_struct! {
    /// Java `TlsSystemConfig` (server side). Java reads these from JVM system
    /// properties and `tls.config.file`; here they may also be in the config
    /// file or given with -D. Paths are empty when unset.
    TlsConfig(ConfigError, as_written) {
        tls_mode: TlsMode = "tls.server.mode" => TlsMode::Permissive,
        /// Properties file whose tls.* keys (all but the mode) override these.
        tls_config_file: String = "tls.config.file" => "/etc/rocketmq/tls.properties".into(),
        /// Serve TLS with a freshly generated self-signed certificate.
        tls_test_mode_enable: bool = "tls.test.mode.enable" => true,
        tls_server_need_client_auth: ClientAuth = "tls.server.need.client.auth" => ClientAuth::None,
        /// PEM private key (PKCS#8, PKCS#1 or SEC1; not encrypted).
        tls_server_key_path: String = "tls.server.keyPath" => String::new(),
        /// Password of an encrypted key (not supported: the key must be plain).
        tls_server_key_password: String = "tls.server.keyPassword" => String::new(),
        /// PEM certificate chain, leaf first.
        tls_server_cert_path: String = "tls.server.certPath" => String::new(),
        /// Verify client certificates against `tls.server.trustCertPath`
        /// (false: any client certificate is accepted, as in Java).
        tls_server_auth_client: bool = "tls.server.authClient" => false,
        /// PEM CA certificates trusted for client certificates.
        tls_server_trust_cert_path: String = "tls.server.trustCertPath" => String::new(),
    }
}

impl ServerConfig {
    /// `frameMaxLength` as a size.
    pub fn max_frame(&self) -> usize {
        usize::try_from(self.frame_max_length).unwrap_or(usize::MAX)
    }
}

impl TlsConfig {
    /// Whether `key` is one of ours (they are read at start-up only).
    pub fn is_tls_key(key: &str) -> bool {
        Self::KEYS.contains(&key)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub namesrv: NamesrvConfig,
    pub server: ServerConfig,
    pub tls: TlsConfig,
    /// Authentication and authorization (not listed by GET_NAMESRV_CONFIG;
    /// `AuthConfig::entries` masks its secrets).
    pub auth: AuthConfig,
    /// Whether `httpListenPort` was given (file, -D or the store): a port
    /// asked for must be bound, the default may be given up on a shared host.
    pub http_port_explicit: bool,
    /// How often the cluster page's history is sampled, when the hidden
    /// key `testHistoryIntervalMillis` sets it (tests); else every ten seconds.
    pub history_interval_ms: Option<u64>,
}

/// Not a property: a test's way to sample the history faster. It is left
/// out of every listing (`-p`, GET_NAMESRV_CONFIG, `/api/v1/config`).
const HISTORY_INTERVAL_KEY: &str = "testHistoryIntervalMillis";

impl Config {
    /// Sets a property by its Java name; `Ok(false)` for an unknown key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        Ok(self.namesrv.set(key, value)?
            || self.server.set(key, value)?
            || self.tls.set(key, value)?
            || self.auth.set(key, value)?)
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.namesrv
            .get(key)
            .or_else(|| self.server.get(key))
            .or_else(|| self.tls.get(key))
            .or_else(|| self.auth.get(key))
    }

    /// The properties GET_NAMESRV_CONFIG reports, as Java does: NamesrvConfig
    /// then NettyServerConfig, in declaration order (the TLS settings are
    /// JVM-wide in Java and not part of it).
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        let mut all = self.namesrv.entries();
        all.extend(self.server.entries());
        all
    }

    /// Defaults, then the properties file. Returns the unknown keys found.
    pub fn load_file(path: &Path) -> Result<(Config, Vec<String>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let pairs = properties::parse(&text).map_err(|source| ConfigError::Syntax {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Config::default();
        let unknown = config.apply_overrides(&pairs)?;
        Ok((config, unknown))
    }

    /// Applies pairs in order; returns the keys that name no property.
    pub fn apply_overrides(
        &mut self,
        pairs: &[(String, String)],
    ) -> Result<Vec<String>, ConfigError> {
        let mut unknown = Vec::new();
        for (key, value) in pairs {
            if key == "httpListenPort" {
                self.http_port_explicit = true;
            }
            if key == HISTORY_INTERVAL_KEY {
                let ms = value
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| ConfigError::BadValue {
                        key: key.clone(),
                        value: value.clone(),
                        expected: "number of milliseconds",
                    })?;
                self.history_interval_ms = Some(ms);
                continue;
            }
            if !self.set(key, value)? {
                unknown.push(key.clone());
            }
        }
        Ok(unknown)
    }

    /// Whether UPDATE_NAMESRV_CONFIG may not change `key`: Java always
    /// refuses these four, whatever `configBlackList` says, and the list
    /// itself is among them, so it cannot be emptied remotely. Neither can
    /// the auth keys be changed remotely: one request could otherwise turn
    /// authentication off.
    pub fn is_black_listed(&self, key: &str) -> bool {
        if AuthConfig::is_auth_key(key) {
            return true;
        }
        const ALWAYS: [&str; 4] = [
            "configBlackList",
            "configStorePath",
            "kvConfigPath",
            "rocketmqHome",
        ];
        ALWAYS.contains(&key)
            || self
                .namesrv
                .config_black_list
                .split(';')
                .any(|k| k.trim() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_java() {
        let c = Config::default();
        assert_eq!(c.server.listen_port, 9876);
        assert_eq!(c.namesrv.scan_not_active_broker_interval, 5000);
        assert!(c.namesrv.enable_all_topic_list);
        assert!(c.namesrv.kv_config_path.ends_with("namesrv/kvConfig.json"));
        assert_eq!(
            c.get("serverChannelMaxIdleTimeSeconds").as_deref(),
            Some("120")
        );
        assert_eq!(
            c.get("configBlackList").as_deref(),
            Some("configBlackList;configStorePath;kvConfigPath")
        );
    }

    #[test]
    fn set_get_and_errors() {
        let mut c = Config::default();
        assert!(c.set("listenPort", " 9877 ").unwrap());
        assert!(c.set("orderMessageEnable", "TRUE").unwrap());
        assert!(c.set("kvConfigPath", "/x/kv.json").unwrap());
        assert!(!c.set("nope", "1").unwrap());
        assert_eq!(c.get("listenPort").as_deref(), Some("9877"));
        assert!(c.namesrv.order_message_enable);
        let err = c.set("enableTopicList", "maybe").unwrap_err().to_string();
        assert!(
            err.contains("enableTopicList") && err.contains("maybe"),
            "{err}"
        );
        assert!(c.set("listenPort", "abc").is_err());
        assert_eq!(
            c.entries().len(),
            NamesrvConfig::KEYS.len() + ServerConfig::KEYS.len()
        );
    }

    #[test]
    fn load_file_reports_unknown_keys_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.properties");
        std::fs::write(
            &path,
            "# c\nlistenPort=1234\nmystery=1\nscanNotActiveBrokerInterval = 10\\\n00\n",
        )
        .unwrap();
        let (c, unknown) = Config::load_file(&path).unwrap();
        assert_eq!(c.server.listen_port, 1234);
        assert_eq!(c.namesrv.scan_not_active_broker_interval, 1000);
        assert_eq!(unknown, vec!["mystery".to_string()]);
        let err = Config::load_file(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing"));
    }

    #[test]
    fn the_history_interval_key_is_read_but_never_listed() {
        let mut c = Config::default();
        assert_eq!(c.history_interval_ms, None);
        let pairs = [("testHistoryIntervalMillis".to_string(), "250".to_string())];
        assert!(c.apply_overrides(&pairs).unwrap().is_empty());
        assert_eq!(c.history_interval_ms, Some(250));
        assert!(c.entries().iter().all(|(k, _)| !k.contains("History")));
        assert_eq!(c.get("testHistoryIntervalMillis"), None);
        let bad = [("testHistoryIntervalMillis".to_string(), "soon".to_string())];
        assert!(c.apply_overrides(&bad).is_err());
    }

    #[test]
    fn black_list() {
        let c = Config::default();
        assert!(c.is_black_listed("kvConfigPath"));
        assert!(c.is_black_listed("authenticationEnabled"));
        assert!(c.is_black_listed("authStorePath"));
        assert!(!c.is_black_listed("listenPort"));
    }

    #[test]
    fn auth_keys_are_set_but_not_listed() {
        let mut c = Config::default();
        assert!(c.set("authorizationEnabled", "true").unwrap());
        assert!(c
            .set(
                "initAuthenticationUser",
                r#"{"username":"u","password":"secret-pw"}"#
            )
            .unwrap());
        assert!(c.auth.authorization_enabled);
        assert!(!c
            .get("initAuthenticationUser")
            .unwrap()
            .contains("secret-pw"));
        assert!(!c.entries().iter().any(|(k, _)| AuthConfig::is_auth_key(k)));
        let err = c
            .set("authenticationWhitelist", "x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("authenticationWhitelist"), "{err}");
    }
}
