//! Issue 24 item 2: a real Prometheus server (Debian's `prometheus`) on
//! loopback scrapes our `/metrics` (asking for OpenMetrics, as it does) and
//! its own query API then holds the `namesrv_*` series of a registration
//! and route lookups.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use namesrv_interop::*;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// GET `path` on `addr`; the body, or `None` if the server is not there yet.
fn get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    raw.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
}

/// The value of the first series `query` returns, if any.
fn query(prometheus: SocketAddr, query: &str) -> Option<f64> {
    let encoded: String = query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let body = get(prometheus, &format!("/api/v1/query?query={encoded}"))?;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    json["data"]["result"][0]["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
}

#[test]
fn a_real_prometheus_scrapes_our_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Namesrv::start_with_http(&dir.path().join("ours"), &[]);
    let http = ours.http.expect("HTTP listener");
    let port = free_broker_port();
    let prometheus_addr = SocketAddr::from(([127, 0, 0, 1], port));
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: namesrv\n    static_configs:\n      - targets: ['{http}']\n"
        ),
    )
    .unwrap();
    let _prometheus = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={prometheus_addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus not found (Debian package prometheus; .ci/run installs it)"),
    );
    // A registration (two topics: a first registration of one topic is
    // refused, as Java refuses it) and two lookups, for Prometheus to see.
    let mut register = request(
        103,
        &[
            ("brokerName", "prom-broker"),
            ("brokerAddr", "127.0.0.1:10911"),
            ("clusterName", "PromCluster"),
            ("haServerAddr", "127.0.0.1:10912"),
            ("brokerId", "0"),
        ],
    );
    register.body = br#"{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":1,"stateVersion":0,"timestamp":1700000000000},"topicConfigTable":{"PromTopic":{"attributes":{},"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"PromTopic","topicSysFlag":0,"writeQueueNums":4},"PromOther":{"attributes":{},"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"PromOther","topicSysFlag":0,"writeQueueNums":4}},"topicQueueMappingDetailMap":{},"topicQueueMappingInfoMap":{}}}"#.to_vec().into();
    let answer = raw_call(ours.addr, register);
    assert_eq!(answer.code, 0, "{:?}", answer.remark);
    for topic in ["PromTopic", "NoSuchTopic"] {
        raw_call(ours.addr, request(105, &[("topic", topic)]));
    }
    wait_for(
        Duration::from_secs(60),
        "Prometheus holds our series",
        || {
            let up = query(prometheus_addr, "up{job=\"namesrv\"}");
            let lookups = query(
                prometheus_addr,
                "sum(namesrv_requests_total{code=\"GET_ROUTEINFO_BY_TOPIC\"})",
            );
            // The registering connection has closed, so the broker is gone
            // again: its registration and its removal are what is left to see.
            let registered = query(prometheus_addr, "sum(namesrv_registrations_total)");
            let removed = query(
                prometheus_addr,
                "namesrv_broker_removals_total{reason=\"connection_close\"}",
            );
            up == Some(1.0)
                && lookups.is_some_and(|n| n >= 2.0)
                && registered == Some(1.0)
                && removed == Some(1.0)
        },
    );
}
