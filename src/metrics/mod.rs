//! The server's Prometheus metrics. Hot paths record into counters and
//! histograms keyed by static labels (no allocation per request); gauges of
//! the route table and the process are read when `/metrics` is scraped.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::remoting::{RequestCode, ResponseCode};

pub mod history;
mod latency;
pub mod text;
pub use latency::LatencyHistogram;

/// The `path` labels of `registrations_total`, as the registration code
/// gives them (`RegistrationPath::label`).
pub const REGISTRATION_PATHS: [&str; 3] = ["unchanged", "changed_runs", "full"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub code: &'static str,
    pub response: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PathLabel {
    pub path: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabel {
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NodeLabel {
    /// This controller's id in `controllerDLegerPeers`.
    pub node: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NodeStateLabel {
    pub node: String,
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NodeResultLabel {
    pub node: String,
    pub result: &'static str,
}

/// The raft roles openraft reports, as `controller_raft_state` labels.
pub const RAFT_STATES: [&str; 4] = ["Leader", "Candidate", "Follower", "Learner"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClusterLabel {
    pub cluster: String,
}

/// What the route table holds, read at scrape time.
#[derive(Debug, Default, Clone)]
pub struct RouteGauges {
    pub brokers_per_cluster: Vec<(String, usize)>,
    pub broker_groups: usize,
    pub topics: usize,
    pub queue_entries: usize,
}

pub struct Metrics {
    /// Off when nothing can scrape (no HTTP listener): recording is skipped.
    enabled: bool,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    /// Handles into `requests`, by request code index × response code index
    /// (the last of each for codes we do not know).
    request_counters: Box<[OnceLock<Counter>]>,
    /// Handles into `request_seconds`, by request code index.
    request_histograms: Box<[OnceLock<LatencyHistogram>]>,
    request_seconds: Family<CodeLabel, LatencyHistogram>,
    connections_open: Gauge,
    connections_total: Counter,
    frames_refused: Counter,
    registrations: Family<PathLabel, Counter>,
    registration_body_bytes: Counter,
    broker_removals: Family<ReasonLabel, Counter>,
    route_cache: Family<ResultLabel, Counter>,
    /// Handles into `route_cache`: every route lookup counts one.
    route_cache_hits: Counter,
    route_cache_misses: Counter,
    tls_handshakes: Family<ResultLabel, Counter>,
    /// Audited (state-changing or refused) requests, by outcome.
    audited: Family<ResultLabel, Counter>,
    registration_parse_seconds: LatencyHistogram,
    kv_writes: Counter,
    kv_write_seconds: LatencyHistogram,
    brokers_alive: Family<ClusterLabel, Gauge>,
    broker_groups: Gauge,
    topics: Gauge,
    queue_entries: Gauge,
    resident_bytes: Gauge,
    uptime_seconds: Gauge,
    controller_raft_state: Family<NodeStateLabel, Gauge>,
    controller_raft_term: Family<NodeLabel, Gauge>,
    controller_ready_leader: Family<NodeLabel, Gauge>,
    controller_leader_changes: Family<NodeLabel, Counter>,
    controller_elections: Family<NodeResultLabel, Counter>,
    controller_election_seconds: LatencyHistogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(true)
    }
}

impl Metrics {
    /// `enabled` false makes every recording call a no-op (for a server
    /// without an HTTP listener, and to measure what recording costs).
    pub fn new(enabled: bool) -> Metrics {
        let mut registry = Registry::with_prefix("namesrv");
        let m = Metrics {
            requests: Family::default(),
            request_counters: (0..(RequestCode::ALL.len() + 1) * (ResponseCode::ALL.len() + 1))
                .map(|_| OnceLock::new())
                .collect(),
            request_histograms: (0..=RequestCode::ALL.len())
                .map(|_| OnceLock::new())
                .collect(),
            request_seconds: Family::default(),
            connections_open: Gauge::default(),
            connections_total: Counter::default(),
            frames_refused: Counter::default(),
            registrations: Family::default(),
            registration_body_bytes: Counter::default(),
            broker_removals: Family::default(),
            route_cache: Family::default(),
            route_cache_hits: Counter::default(),
            route_cache_misses: Counter::default(),
            tls_handshakes: Family::default(),
            audited: Family::default(),
            registration_parse_seconds: LatencyHistogram::default(),
            kv_writes: Counter::default(),
            kv_write_seconds: LatencyHistogram::default(),
            brokers_alive: Family::default(),
            broker_groups: Gauge::default(),
            topics: Gauge::default(),
            queue_entries: Gauge::default(),
            resident_bytes: Gauge::default(),
            uptime_seconds: Gauge::default(),
            controller_raft_state: Family::default(),
            controller_raft_term: Family::default(),
            controller_ready_leader: Family::default(),
            controller_leader_changes: Family::default(),
            controller_elections: Family::default(),
            controller_election_seconds: LatencyHistogram::default(),
            registry: Registry::default(),
            enabled,
        };
        registry.register(
            "requests",
            "Requests answered, by request code and response code",
            m.requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from a request's arrival to its answer, by request code",
            m.request_seconds.clone(),
        );
        registry.register(
            "connections_open",
            "Open remoting connections",
            m.connections_open.clone(),
        );
        registry.register(
            "connections",
            "Remoting connections accepted",
            m.connections_total.clone(),
        );
        registry.register(
            "frames_refused",
            "Connections closed for a frame that could not be decoded",
            m.frames_refused.clone(),
        );
        registry.register(
            "registrations",
            "REGISTER_BROKER requests, by path (unchanged: liveness refreshed only; changed_runs: read against the broker's last body, only what changed parsed; full: parsed and applied)",
            m.registrations.clone(),
        );
        registry.register(
            "registration_body_bytes",
            "Bytes of REGISTER_BROKER bodies received",
            m.registration_body_bytes.clone(),
        );
        registry.register(
            "broker_removals",
            "Brokers removed from the route table, by reason (timeout, connection_close, unregister)",
            m.broker_removals.clone(),
        );
        registry.register(
            "route_cache",
            "Route answers served from the cache (hit) or computed (miss)",
            m.route_cache.clone(),
        );
        registry.register(
            "tls_handshakes",
            "TLS handshakes on the remoting and HTTP ports, by result (ok, failed)",
            m.tls_handshakes.clone(),
        );
        registry.register(
            "audited_requests",
            "Requests that change state or were refused by authentication or authorization, by result (allowed, refused)",
            m.audited.clone(),
        );
        registry.register(
            "registration_parse_duration_seconds",
            "Time to decode a changed REGISTER_BROKER body (inflate and JSON)",
            m.registration_parse_seconds.clone(),
        );
        registry.register(
            "kv_writes",
            "KV config changes written to kvConfigPath",
            m.kv_writes.clone(),
        );
        registry.register(
            "kv_write_duration_seconds",
            "Time to write the KV file durably (temp file, fsync, rename, directory fsync)",
            m.kv_write_seconds.clone(),
        );
        registry.register(
            "brokers_alive",
            "Live brokers, by cluster",
            m.brokers_alive.clone(),
        );
        registry.register(
            "broker_groups",
            "Broker groups (broker names)",
            m.broker_groups.clone(),
        );
        registry.register("topics", "Topics in the route table", m.topics.clone());
        registry.register(
            "queue_entries",
            "Queue data entries (topic x broker group) in the route table",
            m.queue_entries.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the process",
            m.resident_bytes.clone(),
        );
        registry.register(
            "uptime_seconds",
            "Seconds since the server started",
            m.uptime_seconds.clone(),
        );
        registry.register(
            "controller_raft_state",
            "1 for this controller's current raft role, 0 for the others",
            m.controller_raft_state.clone(),
        );
        registry.register(
            "controller_raft_term",
            "This controller's current raft term",
            m.controller_raft_term.clone(),
        );
        registry.register(
            "controller_ready_leader",
            "1 while this controller leads and serves leader-only requests",
            m.controller_ready_leader.clone(),
        );
        registry.register(
            "controller_leader_changes",
            "Times the raft leader seen by this controller changed",
            m.controller_leader_changes.clone(),
        );
        registry.register(
            "controller_elections",
            "Master elections committed by this controller as leader, by result (elected, no_master)",
            m.controller_elections.clone(),
        );
        registry.register(
            "controller_election_duration_seconds",
            "Time from an election's decision to its commit",
            m.controller_election_seconds.clone(),
        );
        let route_cache_hits = m
            .route_cache
            .get_or_create(&ResultLabel { result: "hit" })
            .clone();
        let route_cache_misses = m
            .route_cache
            .get_or_create(&ResultLabel { result: "miss" })
            .clone();
        Metrics {
            registry,
            route_cache_hits,
            route_cache_misses,
            ..m
        }
    }

    /// Counts one answered request and its latency. Each series' handle is
    /// kept in a table indexed by code once first used, so the hot path is
    /// an index and atomic adds, not a label hash and a lock.
    pub fn record_request(
        &self,
        code: Option<RequestCode>,
        response: Option<ResponseCode>,
        took: Duration,
    ) {
        if !self.enabled {
            return;
        }
        let req = code.map_or(RequestCode::ALL.len(), RequestCode::index);
        let resp = response.map_or(ResponseCode::ALL.len(), ResponseCode::index);
        let counter = self.request_counters[req * (ResponseCode::ALL.len() + 1) + resp]
            .get_or_init(|| {
                let labels = RequestLabels {
                    code: code.map_or("UNKNOWN", RequestCode::name),
                    response: response.map_or("UNKNOWN", ResponseCode::name),
                };
                self.requests.get_or_create(&labels).clone()
            });
        counter.inc();
        let histogram = self.request_histograms[req].get_or_init(|| {
            let code = code.map_or("UNKNOWN", RequestCode::name);
            self.request_seconds
                .get_or_create(&CodeLabel { code })
                .clone()
        });
        histogram.observe(took);
    }

    /// Requests answered so far, by request code (every response code
    /// summed), for the codes seen at least once. Reads the handles the hot
    /// path already filled: atomic loads, no lock.
    pub fn request_totals(&self) -> Vec<(&'static str, u64)> {
        let per_code = ResponseCode::ALL.len() + 1;
        self.request_counters
            .chunks(per_code)
            .enumerate()
            .filter_map(|(req, row)| {
                let seen: Vec<u64> = row
                    .iter()
                    .filter_map(|c| c.get().map(Counter::get))
                    .collect();
                if seen.is_empty() {
                    return None;
                }
                let name = RequestCode::ALL.get(req).map_or("UNKNOWN", |c| c.name());
                Some((name, seen.iter().sum()))
            })
            .collect()
    }

    /// `registrations_total` by path, for the paths seen at least once.
    /// Each read takes the family's read lock for one lookup, as a
    /// registration's own count does.
    pub fn registration_totals(&self) -> Vec<(&'static str, u64)> {
        REGISTRATION_PATHS
            .iter()
            .filter_map(|&path| {
                let counter = self.registrations.get(&PathLabel { path })?;
                Some((path, counter.get()))
            })
            .collect()
    }

    pub fn route_cache_hit(&self) {
        if !self.enabled {
            return;
        }
        self.route_cache_hits.inc();
    }

    pub fn route_cache_miss(&self) {
        if !self.enabled {
            return;
        }
        self.route_cache_misses.inc();
    }

    /// One REGISTER_BROKER request and its body size, by path taken.
    pub fn registered(&self, path: &'static str, body_bytes: usize) {
        if !self.enabled {
            return;
        }
        self.registration_body_bytes.inc_by(body_bytes as u64);
        self.registrations.get_or_create(&PathLabel { path }).inc();
    }

    pub fn registration_parsed(&self, took: Duration) {
        if self.enabled {
            self.registration_parse_seconds.observe(took);
        }
    }

    pub fn kv_written(&self, took: Duration) {
        if self.enabled {
            self.kv_writes.inc();
            self.kv_write_seconds.observe(took);
        }
    }

    pub fn audited(&self, result: &'static str) {
        if self.enabled {
            self.audited.get_or_create(&ResultLabel { result }).inc();
        }
    }

    pub fn tls_handshake(&self, result: &'static str) {
        if self.enabled {
            self.tls_handshakes
                .get_or_create(&ResultLabel { result })
                .inc();
        }
    }

    pub fn connection_opened(&self) {
        if self.enabled {
            self.connections_total.inc();
            self.connections_open.inc();
        }
    }

    pub fn connection_closed(&self) {
        if self.enabled {
            self.connections_open.dec();
        }
    }

    pub fn frame_refused(&self) {
        if self.enabled {
            self.frames_refused.inc();
        }
    }

    /// The controller's raft role and term as openraft reports them.
    pub fn controller_raft(&self, node: &str, state: &'static str, term: u64, ready: bool) {
        if !self.enabled {
            return;
        }
        for s in RAFT_STATES {
            let labels = NodeStateLabel {
                node: node.to_string(),
                state: s,
            };
            self.controller_raft_state
                .get_or_create(&labels)
                .set(i64::from(s == state));
        }
        let node = NodeLabel {
            node: node.to_string(),
        };
        self.controller_raft_term
            .get_or_create(&node)
            .set(i64::try_from(term).unwrap_or(i64::MAX));
        self.controller_ready_leader
            .get_or_create(&node)
            .set(i64::from(ready));
    }

    pub fn controller_leader_changed(&self, node: &str) {
        if self.enabled {
            let node = NodeLabel {
                node: node.to_string(),
            };
            self.controller_leader_changes.get_or_create(&node).inc();
        }
    }

    /// A committed ElectMaster event: `elected` false records "no master".
    pub fn controller_election(&self, node: &str, elected: bool, took: Duration) {
        if self.enabled {
            let labels = NodeResultLabel {
                node: node.to_string(),
                result: if elected { "elected" } else { "no_master" },
            };
            self.controller_elections.get_or_create(&labels).inc();
            self.controller_election_seconds.observe(took);
        }
    }

    pub fn removed(&self, reason: &'static str, brokers: usize) {
        if self.enabled && brokers > 0 {
            self.broker_removals
                .get_or_create(&ReasonLabel { reason })
                .inc_by(brokers as u64);
        }
    }

    /// The text exposition, after the scrape-time gauges are read.
    pub fn render(&self, routes: RouteGauges, uptime: Duration) -> String {
        self.brokers_alive.clear();
        for (cluster, brokers) in routes.brokers_per_cluster {
            self.brokers_alive
                .get_or_create(&ClusterLabel { cluster })
                .set(brokers as i64);
        }
        self.broker_groups.set(routes.broker_groups as i64);
        self.topics.set(routes.topics as i64);
        self.queue_entries.set(routes.queue_entries as i64);
        self.resident_bytes
            .set(resident_bytes().unwrap_or(0) as i64);
        self.uptime_seconds.set(uptime.as_secs() as i64);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Resident set size from /proc/self/statm (pages × page size).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf reads a constant of the running system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * page.max(4096) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `m` rendered with one cluster of 3 brokers, 2 groups, 5 topics, 9
    /// queue entries, 7 s up.
    fn render_sample(m: &Metrics) -> String {
        m.render(
            RouteGauges {
                brokers_per_cluster: vec![("C1".into(), 3)],
                broker_groups: 2,
                topics: 5,
                queue_entries: 9,
            },
            Duration::from_secs(7),
        )
    }

    #[test]
    fn the_text_has_every_family_with_its_help_and_values() {
        let m = Metrics::new(true);
        m.record_request(
            Some(RequestCode::GET_ROUTEINFO_BY_TOPIC),
            Some(ResponseCode::SUCCESS),
            Duration::from_micros(30),
        );
        m.removed("timeout", 2);
        m.removed("unregister", 0);
        let text = render_sample(&m);
        assert!(
            text.contains(
                "namesrv_requests_total{code=\"GET_ROUTEINFO_BY_TOPIC\",response=\"SUCCESS\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "namesrv_request_duration_seconds_count{code=\"GET_ROUTEINFO_BY_TOPIC\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("namesrv_broker_removals_total{reason=\"timeout\"} 2"),
            "{text}"
        );
        assert!(!text.contains("reason=\"unregister\""), "{text}");
        assert!(
            text.contains("namesrv_brokers_alive{cluster=\"C1\"} 3"),
            "{text}"
        );
        assert!(text.contains("namesrv_queue_entries 9"), "{text}");
        assert!(text.contains("namesrv_uptime_seconds 7"), "{text}");
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
    }

    #[test]
    fn totals_for_the_history_sum_response_codes_and_list_only_what_was_seen() {
        let m = Metrics::new(true);
        let took = Duration::from_micros(5);
        assert!(m.request_totals().is_empty() && m.registration_totals().is_empty());
        let route = Some(RequestCode::GET_ROUTEINFO_BY_TOPIC);
        m.record_request(route, Some(ResponseCode::SUCCESS), took);
        m.record_request(route, Some(ResponseCode::SUCCESS), took);
        m.record_request(route, None, took);
        m.record_request(None, None, took);
        m.registered("unchanged", 0);
        m.registered("full", 10);
        m.registered("full", 10);
        let mut totals = m.request_totals();
        totals.sort_unstable();
        assert_eq!(totals, [("GET_ROUTEINFO_BY_TOPIC", 3), ("UNKNOWN", 1)]);
        assert_eq!(m.registration_totals(), [("unchanged", 1), ("full", 2)]);
    }

    /// Every `namesrv_*` metric the alert rules and the Grafana dashboard in
    /// `deploy/` name is one this registry exports (in the 0.0.4 names
    /// Prometheus stores), with every family recorded at least once.
    #[test]
    fn deploy_files_name_only_exported_metrics() {
        let m = Metrics::new(true);
        let took = Duration::from_millis(1);
        m.record_request(
            Some(RequestCode::REGISTER_BROKER),
            Some(ResponseCode::SUCCESS),
            took,
        );
        m.route_cache_hit();
        m.registered("full", 10);
        m.registration_parsed(took);
        m.kv_written(took);
        m.tls_handshake("ok");
        m.connection_opened();
        m.frame_refused();
        m.controller_raft("n0", "Leader", 1, true);
        m.controller_leader_changed("n0");
        m.controller_election("n0", true, took);
        m.removed("timeout", 1);
        let scrape = text::to_prometheus(&render_sample(&m));
        let families: Vec<(&str, &str)> = scrape
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split_once(' '))
            .collect();
        let exported = |name: &str| {
            families.iter().any(|(family, kind)| {
                name == *family
                    || (*kind == "histogram"
                        && ["_bucket", "_sum", "_count"]
                            .iter()
                            .any(|s| name.strip_suffix(s) == Some(family)))
            })
        };
        let files = [
            (
                "alert rules",
                include_str!("../../deploy/prometheus/namesrv-alerts.yml"),
            ),
            (
                "dashboard",
                include_str!("../../deploy/grafana/namesrv-dashboard.json"),
            ),
        ];
        for (what, file) in files {
            let mut named = 0;
            let mut rest = file;
            while let Some(at) = rest.find("namesrv_") {
                let tail = &rest[at..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                let name = &tail[..end];
                assert!(
                    exported(name),
                    "{what} name {name}, which is not exported:\n{scrape}"
                );
                named += 1;
                rest = &tail[end..];
            }
            assert!(named > 0, "{what} name no metric");
        }
        let dashboard: serde_json::Value = serde_json::from_str(files[1].1).unwrap();
        assert!(dashboard["panels"]
            .as_array()
            .is_some_and(|p| p.len() >= 10));
    }
}
