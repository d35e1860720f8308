//! Issue 14's HTTP listener (`httpListenPort`) with real brokers registered:
//! a Java 5.5.0 broker (Maven Central, `scripts/java-peers.sh`) and the rocketmq-rust broker.
//! Every endpoint is checked against what the remoting port answers for the
//! same state (cluster info, topic lists, routes, KV), bad inputs get JSON
//! errors, `/metrics` parses as Prometheus text, and a broker killed with
//! SIGKILL leaves the API and is counted as a connection-close removal.
//! The cluster page is loaded in headless Chromium (`tests/browser/page.mjs`)
//! beside an embedded controller with a Java broker in controller mode: its
//! controller section, charts and topic browser are checked against the
//! API, and screenshots are saved as `target/cluster-page*.png`.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use namesrv_interop::*;
use serde_json::{json, Value};

/// One GET over HTTP/1.1: status, content type and body.
fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, mut body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let header = |name: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    let mut content = String::new();
    if header("transfer-encoding").as_deref() == Some("chunked") {
        loop {
            let (size, rest) = body.split_once("\r\n").unwrap();
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            content.push_str(&rest[..size]);
            body = &rest[size + 2..];
        }
    } else {
        content.push_str(body);
    }
    (status, header("content-type").unwrap_or_default(), content)
}

/// A GET answered with JSON (by content type too): status and value.
fn get_json(addr: SocketAddr, path: &str) -> (u16, Value) {
    let (status, content_type, body) = get(addr, path);
    assert_eq!(content_type, "application/json", "{path}: {body}");
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, json)
}

fn get_ok(addr: SocketAddr, path: &str) -> Value {
    let (status, json) = get_json(addr, path);
    assert_eq!(status, 200, "{path}: {json}");
    json
}

/// A remoting request's answer body, fastjson form included, as JSON.
fn remoting_json(ns: SocketAddr, code: i32, fields: &[(&str, &str)]) -> Value {
    let resp = raw_call(ns, request(code, fields));
    assert_eq!(resp.code, 0, "code {code} {fields:?}: {:?}", resp.remark);
    namesrv::json::read::parse(&resp.body).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The broker at `addr` in `/api/v1/clusters`, with its cluster and group.
fn find_broker(clusters: &Value, addr: &str) -> Option<(String, String, Value)> {
    for c in clusters["clusters"].as_array()? {
        for g in c["brokerGroups"].as_array()? {
            for b in g["brokers"].as_array()? {
                if b["addr"] == addr {
                    return Some((
                        c["name"].as_str()?.to_string(),
                        g["brokerName"].as_str()?.to_string(),
                        b.clone(),
                    ));
                }
            }
        }
    }
    None
}

fn scrape(http: SocketAddr) -> prometheus_parse::Scrape {
    let (status, content_type, text) = get(http, "/metrics");
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/openmetrics-text")
            || content_type.starts_with("text/plain"),
        "/metrics content type {content_type}"
    );
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

fn java_broker(dir: &Path, ns: &str, cluster: &str, name: &str) -> JavaBroker {
    JavaBroker::start(
        dir,
        JavaBrokerConf {
            version: JavaVersion::V5_5_0,
            cluster,
            name,
            id: 0,
            role: "ASYNC_MASTER",
            namesrv: ns,
            extra: &[],
        },
    )
}

const JAVA_CLUSTER: &str = "HttpJavaCluster";
const JAVA_NAME: &str = "http-java-a";
const RUST_CLUSTER: &str = "HttpRustCluster";
const RUST_NAME: &str = "http-rust-a";

#[test]
fn the_api_shows_a_java_and_a_rust_broker_and_follows_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let namesrv = Namesrv::start_with_http(&dir.path().join("namesrv"), &[]);
    let (ns, http) = (namesrv.addr, namesrv.http.unwrap());
    let java = java_broker(
        &dir.path().join("java"),
        &namesrv.addr_string(),
        JAVA_CLUSTER,
        JAVA_NAME,
    );
    let mut rust = Broker::start(
        &namesrv.addr_string(),
        RUST_CLUSTER,
        RUST_NAME,
        &dir.path().join("rust"),
    );
    let started = Instant::now();
    wait_for(
        Duration::from_secs(90),
        "both brokers in /api/v1/clusters",
        || {
            let c = get_ok(http, "/api/v1/clusters");
            find_broker(&c, &java.addr).is_some() && find_broker(&c, &rust.addr).is_some()
        },
    );
    println!("both brokers registered after {:?}", started.elapsed());

    // /api/v1/clusters: each broker as it registered, beside cluster info (106).
    let clusters = get_ok(http, "/api/v1/clusters");
    println!("{}", serde_json::to_string_pretty(&clusters).unwrap());
    let info = cluster_info(ns);
    let api_clusters: BTreeSet<String> = clusters["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let remoting_clusters: BTreeSet<String> = info["clusterAddrTable"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(api_clusters, remoting_clusters);
    assert_eq!(
        api_clusters,
        BTreeSet::from([JAVA_CLUSTER.to_string(), RUST_CLUSTER.to_string()])
    );
    for (cluster, name, addr) in [
        (JAVA_CLUSTER, JAVA_NAME, &java.addr),
        (RUST_CLUSTER, RUST_NAME, &rust.addr),
    ] {
        let (c, g, b) = find_broker(&clusters, addr).unwrap();
        assert_eq!((c.as_str(), g.as_str()), (cluster, name), "{b}");
        assert_eq!(info["brokerAddrTable"][name]["brokerAddrs"]["0"], *addr);
        assert_eq!(b["id"], 0, "{b}");
        assert_eq!(b["role"], "MASTER", "{b}");
        assert_eq!(b["alive"], true, "{b}");
        let age = b["lastHeartbeatAgeMs"].as_i64().unwrap();
        let timeout = b["heartbeatTimeoutMs"].as_i64().unwrap();
        assert!((0..timeout).contains(&age), "{b}");
        assert!(b["dataVersion"]["counter"].is_u64(), "{b}");
        // The rocketmq-rust broker registers its data version with timestamp 0.
        let stamp = b["dataVersion"]["timestamp"].as_i64().unwrap();
        assert!(stamp > 0 || (stamp == 0 && cluster == RUST_CLUSTER), "{b}");
        // One broker per cluster: its topics are exactly the cluster's.
        let topics = b["topics"].as_u64().unwrap();
        assert!(topics > 0, "{b}");
        let by_cluster = get_ok(http, &format!("/api/v1/topics?cluster={cluster}"));
        assert_eq!(by_cluster["total"], topics, "{b}");
    }

    // /api/v1/topics: the topic list of code 206, sorted, with paging.
    let all = get_ok(http, "/api/v1/topics?size=1000");
    let topics = strings(&all["topics"]);
    let total = topics.len();
    assert_eq!(all["total"], total);
    let mut remoting_topics = strings(&remoting_json(ns, 206, &[])["topicList"]);
    remoting_topics.sort();
    assert_eq!(topics, remoting_topics);
    for t in ["TBW102", JAVA_NAME, RUST_NAME, JAVA_CLUSTER, RUST_CLUSTER] {
        assert!(topics.contains(&t.to_string()), "{t} not in {topics:?}");
    }
    let default_page = get_ok(http, "/api/v1/topics");
    assert_eq!(
        (&default_page["page"], &default_page["size"]),
        (&json!(1), &json!(100))
    );
    assert_eq!(strings(&default_page["topics"]), topics[..total.min(100)]);
    for size in [1, 7] {
        let pages = total.div_ceil(size);
        let mut joined = Vec::new();
        for page in 1..=pages + 1 {
            let p = get_ok(http, &format!("/api/v1/topics?page={page}&size={size}"));
            assert_eq!(
                (&p["total"], &p["page"], &p["size"]),
                (&json!(total), &json!(page), &json!(size))
            );
            let got = strings(&p["topics"]);
            let want = if page <= pages {
                size.min(total - (page - 1) * size)
            } else {
                0
            };
            assert_eq!(got.len(), want, "page {page} of size {size}: {p}");
            joined.extend(got);
        }
        assert_eq!(joined, topics, "pages of {size}");
    }
    // ?name= is a substring filter; ?cluster= is code 224's list.
    let named = get_ok(http, "/api/v1/topics?name=http-java&size=1000");
    let want: Vec<String> = topics
        .iter()
        .filter(|t| t.contains("http-java"))
        .cloned()
        .collect();
    assert!(want.contains(&JAVA_NAME.to_string()));
    assert_eq!(strings(&named["topics"]), want);
    assert_eq!(named["total"], want.len());
    assert_eq!(
        strings(&get_ok(http, "/api/v1/topics?name=TBW102")["topics"]),
        ["TBW102"]
    );
    for (cluster, own, other) in [
        (JAVA_CLUSTER, JAVA_NAME, RUST_NAME),
        (RUST_CLUSTER, RUST_NAME, JAVA_NAME),
    ] {
        let api = strings(
            &get_ok(http, &format!("/api/v1/topics?cluster={cluster}&size=1000"))["topics"],
        );
        let remoting: BTreeSet<String> =
            strings(&remoting_json(ns, 224, &[("cluster", cluster)])["topicList"])
                .into_iter()
                .collect();
        assert_eq!(
            api.iter().cloned().collect::<BTreeSet<_>>(),
            remoting,
            "{cluster}"
        );
        assert!(api.contains(&"TBW102".to_string()) && api.contains(&own.to_string()));
        assert!(!api.contains(&other.to_string()), "{cluster}: {api:?}");
        let both = get_ok(
            http,
            &format!("/api/v1/topics?cluster={cluster}&name={own}"),
        );
        assert!(
            strings(&both["topics"]).contains(&own.to_string()),
            "{both}"
        );
        assert!(
            strings(&both["topics"]).iter().all(|t| t.contains(own)),
            "{both}"
        );
    }
    assert_eq!(
        get_ok(http, "/api/v1/topics?cluster=NoSuchCluster")["total"],
        0
    );
    assert_eq!(
        get_ok(http, "/api/v1/topics?name=no-such-topic")["total"],
        0
    );

    // /api/v1/topics/{topic}/route: what GET_ROUTEINFO_BY_TOPIC (105) answers.
    for topic in ["TBW102", JAVA_NAME, RUST_NAME, JAVA_CLUSTER, RUST_CLUSTER] {
        let api = get_ok(http, &format!("/api/v1/topics/{topic}/route"));
        let remoting = remoting_json(ns, 105, &[("topic", topic)]);
        assert_eq!(api, remoting, "route of {topic}");
    }
    let tbw = get_ok(http, "/api/v1/topics/TBW102/route");
    let route_addrs: BTreeSet<&str> = tbw["brokerDatas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["brokerAddrs"]["0"].as_str().unwrap())
        .collect();
    assert_eq!(
        route_addrs,
        BTreeSet::from([java.addr.as_str(), rust.addr.as_str()])
    );
    let (status, missing) = get_json(http, "/api/v1/topics/NoSuchTopic/route");
    assert_eq!(status, 404, "{missing}");
    assert!(
        missing["error"].as_str().unwrap().contains("NoSuchTopic"),
        "{missing}"
    );
    assert_eq!(namesrv.route_code("NoSuchTopic"), 17);
    // A topic name with `%` (retry topics have them), percent-encoded.
    assert_eq!(
        get_json(http, "/api/v1/topics/%25RETRY%25nobody/route").0,
        404
    );

    // /api/v1/kv: what PUT_KV_CONFIG (100) wrote; DELETE_KV_CONFIG (102) removes.
    assert_eq!(get_ok(http, "/api/v1/kv"), json!({ "namespaces": {} }));
    for (key, value) in [("k1", "v1"), ("k2", "two words")] {
        let put = request(
            100,
            &[("namespace", "HTTP_API"), ("key", key), ("value", value)],
        );
        assert_eq!(namesrv.call(put).code, 0);
    }
    assert_eq!(
        get_ok(http, "/api/v1/kv"),
        json!({ "namespaces": { "HTTP_API": { "k1": "v1", "k2": "two words" } } })
    );
    let delete = request(102, &[("namespace", "HTTP_API"), ("key", "k1")]);
    assert_eq!(namesrv.call(delete).code, 0);
    assert_eq!(
        get_ok(http, "/api/v1/kv"),
        json!({ "namespaces": { "HTTP_API": { "k2": "two words" } } })
    );

    // /api/v1/config: the effective configuration, strings only, no key material.
    let config = get_ok(http, "/api/v1/config");
    let config = config["config"].as_object().unwrap();
    // As configured (the harness asks for port 0), not the port bound.
    assert_eq!(config["listenPort"], "0");
    assert_eq!(config["httpListenPort"], http.port().to_string());
    assert_eq!(config["bindAddress"], "127.0.0.1");
    let kv_path = namesrv.dir.join("kvConfig.json");
    assert_eq!(config["kvConfigPath"], kv_path.display().to_string());
    assert!(config.values().all(Value::is_string), "{config:?}");
    assert!(config.contains_key("tls.server.keyPath"), "{config:?}");
    assert!(
        config
            .values()
            .all(|v| !v.as_str().unwrap().contains("PRIVATE KEY")),
        "{config:?}"
    );

    assert_eq!(get_ok(http, "/healthz"), json!({ "status": "up" }));
    assert_eq!(get_ok(http, "/readyz"), json!({ "status": "ready" }));

    // Bad query values: 400; unknown paths: 404; both with a JSON error.
    for (path, want) in [
        ("/api/v1/topics?page=0", 400),
        ("/api/v1/topics?page=-1", 400),
        ("/api/v1/topics?page=first", 400),
        ("/api/v1/topics?size=0", 400),
        ("/api/v1/topics?size=abc", 400),
        ("/api/v1/topics?size=", 400),
        ("/api/v1/topics?size=1001", 400),
        ("/api/v1/topics?colour=blue", 400),
        ("/no/such/path", 404),
        ("/api/v1", 404),
        ("/api/v2/clusters", 404),
        ("/api/v1/topics/TBW102", 404),
        ("/api/v1/kv/HTTP_API", 404),
    ] {
        let (status, body) = get_json(http, path);
        assert_eq!(status, want, "{path}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: {body}"
        );
    }

    // /metrics: parses; the route table's gauges match the API.
    let m = scrape(http);
    for cluster in [JAVA_CLUSTER, RUST_CLUSTER] {
        assert_eq!(
            sample(&m, "namesrv_brokers_alive", &[("cluster", cluster)]),
            Some(1.0)
        );
    }
    assert_eq!(sample(&m, "namesrv_broker_groups", &[]), Some(2.0));
    assert_eq!(sample(&m, "namesrv_topics", &[]), Some(total as f64));
    assert!(
        sample(
            &m,
            "namesrv_requests_total",
            &[("code", "REGISTER_BROKER"), ("response", "SUCCESS")]
        )
        .unwrap()
            >= 2.0
    );
    // Parsed in full, or against the broker's last body.
    let parsed = ["full", "changed_runs"]
        .iter()
        .filter_map(|path| sample(&m, "namesrv_registrations_total", &[("path", path)]))
        .sum::<f64>();
    assert!(parsed >= 2.0, "{parsed} registrations parsed");
    assert_eq!(
        sample(
            &m,
            "namesrv_broker_removals_total",
            &[("reason", "connection_close")]
        ),
        None,
        "no broker was removed yet"
    );

    // SIGKILL the rocketmq-rust broker: its connection closes, it goes.
    rust.kill();
    let killed = Instant::now();
    wait_for(
        Duration::from_secs(15),
        "the killed broker removed for its closed connection",
        || {
            let m = scrape(http);
            find_broker(&get_ok(http, "/api/v1/clusters"), &rust.addr).is_none()
                && sample(
                    &m,
                    "namesrv_broker_removals_total",
                    &[("reason", "connection_close")],
                ) == Some(1.0)
                && sample(&m, "namesrv_brokers_alive", &[("cluster", RUST_CLUSTER)])
                    .is_none_or(|v| v == 0.0)
        },
    );
    println!("killed broker removed after {:?}", killed.elapsed());
    let clusters = get_ok(http, "/api/v1/clusters");
    assert!(find_broker(&clusters, &java.addr).is_some(), "{clusters}");
    assert_eq!(
        clusters["clusters"].as_array().unwrap().len(),
        1,
        "{clusters}"
    );
    let m = scrape(http);
    assert_eq!(
        sample(&m, "namesrv_brokers_alive", &[("cluster", JAVA_CLUSTER)]),
        Some(1.0)
    );
    assert_eq!(sample(&m, "namesrv_broker_groups", &[]), Some(1.0));
    assert_eq!(
        get_json(http, &format!("/api/v1/topics/{RUST_NAME}/route")).0,
        404
    );
    assert_eq!(
        get_ok(http, &format!("/api/v1/topics?cluster={RUST_CLUSTER}"))["total"],
        0
    );
    let tbw = get_ok(http, "/api/v1/topics/TBW102/route");
    assert_eq!(tbw, remoting_json(ns, 105, &[("topic", "TBW102")]));
    assert_eq!(tbw["brokerDatas"].as_array().unwrap().len(), 1, "{tbw}");
}

/// `(page - 1) * size` must not wrap around: a page far past the end is
/// empty (or refused), never the first page again.
#[test]
fn a_page_number_past_the_end_never_wraps_to_the_first_page() {
    let dir = tempfile::tempdir().unwrap();
    let namesrv = Namesrv::start_with_http(&dir.path().join("namesrv"), &[]);
    let http = namesrv.http.unwrap();
    let _broker = Broker::start(
        &namesrv.addr_string(),
        RUST_CLUSTER,
        RUST_NAME,
        &dir.path().join("rust"),
    );
    wait_for(
        Duration::from_secs(60),
        "the broker's topics listed",
        || get_ok(http, "/api/v1/topics")["total"].as_u64() > Some(0),
    );
    // 2^61 + 1: (page - 1) * 1000 is 0 modulo 2^64.
    for (page, size) in [("2305843009213693953", 1000), ("18446744073709551615", 1)] {
        let path = format!("/api/v1/topics?page={page}&size={size}");
        let (status, body) = get_json(http, &path);
        match status {
            200 => assert_eq!(body["topics"], json!([]), "{path}: {body}"),
            400 => assert!(body["error"].is_string(), "{path}: {body}"),
            _ => panic!("{path}: {status} {body}"),
        }
    }
}

/// Where the screenshots go: the checkout's `target/`, or
/// `$NAMESRV_SCREENSHOT_DIR`.
fn screenshot_path() -> PathBuf {
    let dir = std::env::var_os("NAMESRV_SCREENSHOT_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap().join("cluster-page.png")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const PAGE_SET: &str = "page-java-a";

/// The page of a NameServer with its embedded controller (one node), and
/// a Java 5.5.0 broker in controller mode that the controller made master
/// of its set. The history is sampled every 500 ms (a hidden key for
/// tests), so the charts have points within seconds. With
/// `NAMESRV_UPDATE_DOCS=1` the screenshots are copied into `docs/img/`.
#[test]
fn the_cluster_page_in_headless_chromium_shows_a_java_broker_and_a_route() {
    let dir = tempfile::tempdir().unwrap();
    let ctl_port = free_port();
    let peers = format!("n0-127.0.0.1:{ctl_port}");
    let store = dir.path().join("controller-store").display().to_string();
    let namesrv = Namesrv::start_with_http(
        &dir.path().join("namesrv"),
        &[
            ("enableControllerInNamesrv", "true"),
            ("controllerDLegerGroup", "page-group"),
            ("controllerDLegerPeers", &peers),
            ("controllerDLegerSelfId", "n0"),
            ("controllerStorePath", &store),
            ("testHistoryIntervalMillis", "500"),
        ],
    );
    let http = namesrv.http.unwrap();
    wait_for(Duration::from_secs(20), "the controller ready", || {
        get_ok(http, "/api/v1/controller")["ready"] == true
    });
    let controller = format!("127.0.0.1:{ctl_port}");
    let java = JavaBroker::start(
        &dir.path().join("java"),
        JavaBrokerConf {
            version: JavaVersion::V5_5_0,
            cluster: "PageCluster",
            name: PAGE_SET,
            id: -1,
            role: "SLAVE",
            namesrv: &namesrv.addr_string(),
            extra: &[
                ("enableControllerMode", "true"),
                ("controllerAddr", &controller),
            ],
        },
    );
    let put = request(
        100,
        &[
            ("namespace", "ORDER_TOPIC_CONFIG"),
            ("key", "PageTopic"),
            ("value", "page-java-a:4"),
        ],
    );
    assert_eq!(namesrv.call(put).code, 0);
    wait_for(
        Duration::from_secs(90),
        "the Java broker registered as master",
        || {
            find_broker(&get_ok(http, "/api/v1/clusters"), &java.addr)
                .is_some_and(|(_, _, b)| b["role"] == "MASTER")
        },
    );
    // The controller's view of the set, beside what the route table says.
    let ctl = get_ok(http, "/api/v1/controller");
    println!("{}", serde_json::to_string_pretty(&ctl).unwrap());
    let set = ctl["brokerSets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["brokerName"] == PAGE_SET)
        .unwrap_or_else(|| panic!("no set {PAGE_SET}: {ctl}"))
        .clone();
    assert_eq!(set["cluster"], "PageCluster", "{set}");
    assert_eq!(set["masterAddress"], java.addr.as_str(), "{set}");
    assert_eq!(set["masterEpoch"], 1, "{set}");
    let master = set["masterBrokerId"].as_i64().unwrap();
    assert!(set["syncStateSet"]
        .as_array()
        .unwrap()
        .contains(&json!(master)));
    assert_eq!(ctl["leader"]["id"], "n0", "{ctl}");

    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../browser");
    let screenshot = screenshot_path();
    let _ = std::fs::remove_file(&screenshot);
    let node = std::env::var_os("NODE_BIN").unwrap_or_else(|| "node".into());
    let started = Instant::now();
    // page.mjs bounds itself (15 s a step, 60 s for the controller and
    // charts to agree, 90 s in all) and names the failed step.
    let out = Command::new(node)
        .arg(browser_dir.join("page.mjs"))
        .arg(format!("http://{http}/"))
        .arg("TBW102")
        .arg(&screenshot)
        .arg(&java.addr)
        .arg(PAGE_SET)
        .current_dir(&browser_dir)
        .output()
        .expect("run node (apt-get install nodejs; npm ci in tests/browser)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the cluster page failed in Chromium ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    println!("Chromium checked the page in {:?}", started.elapsed());
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["seen"]["routeTitle"], "Route of TBW102");
    assert!(
        report["seen"]["kv"].as_str().unwrap().contains("PageTopic"),
        "{report}"
    );
    assert!(
        report["seen"]["controller"]["sets"]
            .to_string()
            .contains(PAGE_SET),
        "{report}"
    );
    assert!(
        report["seen"]["history"]["points"].as_u64() >= Some(3),
        "{report}"
    );
    let mut shots = vec![screenshot.clone()];
    for s in report["sections"].as_array().unwrap() {
        shots.push(PathBuf::from(s.as_str().unwrap()));
    }
    for shot in &shots {
        let png = std::fs::read(shot).unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000,
            "{}: {} bytes",
            shot.display(),
            png.len()
        );
        println!("screenshot: {}", shot.display());
    }
    if std::env::var_os("NAMESRV_UPDATE_DOCS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/img");
        std::fs::create_dir_all(&docs).unwrap();
        for shot in &shots {
            let name = shot.file_name().unwrap();
            std::fs::copy(shot, docs.join(name)).unwrap();
            println!("copied to docs/img/{}", name.to_string_lossy());
        }
    }
}
