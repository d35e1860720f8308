//! The HTTP listener (httpListenPort) of the real binary: the JSON API
//! against a registered broker, bad inputs, health and readiness, and
//! Prometheus metrics that count exactly what happened.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get_json(port: u16, path: &str) -> (u16, serde_json::Value) {
    let (status, body) = http_get(port, path);
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, json)
}

fn start(extra: &[(&str, &str)]) -> (InProcess, u16) {
    let port_text = free_port().to_string();
    let mut props = vec![("httpListenPort", port_text.as_str())];
    props.extend_from_slice(extra);
    let server = InProcess::start(&props);
    let port = server.http.expect("the HTTP listener").port();
    (server, port)
}

#[test]
fn the_api_shows_what_brokers_registered() {
    let (server, port) = start(&[]);
    let mut broker = server.client();
    let resp = broker.call(register_request(
        "b1",
        0,
        "127.0.0.1:10911",
        register_body(3, &["T1", "T2"]),
    ));
    assert_eq!(resp.code, 0);
    let kv = server.client().call(request(
        100,
        &[("namespace", "NS"), ("key", "k"), ("value", "v")],
    ));
    assert_eq!(kv.code, 0);

    let (status, clusters) = get_json(port, "/api/v1/clusters");
    assert_eq!(status, 200);
    let cluster = &clusters["clusters"][0];
    assert_eq!(cluster["name"], "DefaultCluster");
    let b = &cluster["brokerGroups"][0]["brokers"][0];
    assert_eq!(cluster["brokerGroups"][0]["brokerName"], "b1");
    assert_eq!(b["addr"], "127.0.0.1:10911");
    assert_eq!(b["role"], "MASTER");
    assert_eq!(b["alive"], true);
    assert_eq!(b["topics"], 2);
    assert_eq!(b["dataVersion"]["counter"], 3);
    assert!(b["lastHeartbeatAgeMs"].as_i64().unwrap() >= 0);

    let (_, topics) = get_json(port, "/api/v1/topics");
    assert_eq!(topics["topics"], serde_json::json!(["T1", "T2"]));
    let (_, page) = get_json(port, "/api/v1/topics?name=T&size=1&page=2");
    assert_eq!(page["total"], 2);
    assert_eq!(page["topics"], serde_json::json!(["T2"]));
    let (_, by_cluster) = get_json(port, "/api/v1/topics?cluster=NoSuchCluster");
    assert_eq!(by_cluster["total"], 0);

    let (status, route) = get_json(port, "/api/v1/topics/T1/route");
    assert_eq!(status, 200);
    assert_eq!(
        route["brokerDatas"][0]["brokerAddrs"]["0"],
        "127.0.0.1:10911"
    );
    assert_eq!(route["queueDatas"][0]["writeQueueNums"], 4);

    let (_, kv) = get_json(port, "/api/v1/kv");
    assert_eq!(kv["namespaces"]["NS"]["k"], "v");
    let (_, config) = get_json(port, "/api/v1/config");
    assert_eq!(config["config"]["httpListenPort"], port.to_string());
    assert!(config["config"]["tls.server.keyPath"].is_string());

    let (status, html) = http_get(port, "/");
    assert_eq!(status, 200);
    assert!(html.contains("<title>namesrv</title>"));
}

#[test]
fn bad_requests_get_json_errors() {
    let (_server, port) = start(&[]);
    for (path, want) in [
        ("/api/v1/topics/NoSuchTopic/route", 404),
        ("/no/such/path", 404),
        ("/api/v1/topics?page=0", 400),
        ("/api/v1/topics?size=abc", 400),
        ("/api/v1/topics?size=5000", 400),
        ("/api/v1/topics?colour=blue", 400),
    ] {
        let (status, body) = get_json(port, path);
        assert_eq!(status, want, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    // Not HTTP at all: the connection is closed, the server carries on.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"\x00\x00\x00\x10garbage-garbage\r\n\r\n")
        .unwrap();
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink);
    assert_eq!(get_json(port, "/healthz").0, 200);
}

#[test]
fn readiness_waits_for_service_and_health_does_not() {
    let (_server, port) = start(&[
        ("needWaitForService", "true"),
        ("waitSecondsForService", "3600"),
    ]);
    let (status, body) = get_json(port, "/readyz");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "needWaitForService");
    assert_eq!(get_json(port, "/healthz").0, 200);
    assert_eq!(get_json(port, "/livez").0, 200);
    let (_other, plain) = start(&[]);
    assert_eq!(get_json(plain, "/readyz").0, 200);
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

fn scrape(port: u16) -> prometheus_parse::Scrape {
    let (status, text) = http_get(port, "/metrics");
    assert_eq!(status, 200);
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn metrics_count_exactly_what_happened() {
    let (server, port) = start(&[]);
    let mut broker = server.client();
    let body = register_body(1, &["T1", "T2", "T3"]);
    let body_len = body.len();
    assert_eq!(
        broker
            .call(register_request("b1", 0, "127.0.0.1:10911", body))
            .code,
        0
    );
    let mut client = server.client();
    assert_eq!(client.call(route_request("T1")).code, 0);
    assert_eq!(client.call(route_request("T1")).code, 0);
    assert_eq!(client.call(request(9999, &[])).code, 3);
    let put = request(100, &[("namespace", "NS"), ("key", "k"), ("value", "v")]);
    assert_eq!(client.call(put).code, 0);

    let (_, text) = http_get(port, "/metrics");
    for (line, want) in [
        ("namesrv_registration_parse_duration_seconds_count", "1"),
        ("namesrv_kv_write_duration_seconds_count", "1"),
        ("namesrv_kv_writes_total", "1"),
        (
            "namesrv_request_duration_seconds_count{code=\"GET_ROUTEINFO_BY_TOPIC\"}",
            "2",
        ),
    ] {
        let found = text
            .lines()
            .find_map(|l| l.strip_prefix(line)?.strip_prefix(' '));
        assert_eq!(found, Some(want), "{line} in {text}");
    }
    let m = scrape(port);
    let get = |name: &str, labels: &[(&str, &str)]| sample(&m, name, labels);
    assert_eq!(
        get(
            "namesrv_requests_total",
            &[("code", "REGISTER_BROKER"), ("response", "SUCCESS")]
        ),
        Some(1.0)
    );
    assert_eq!(
        get(
            "namesrv_requests_total",
            &[("code", "GET_ROUTEINFO_BY_TOPIC"), ("response", "SUCCESS")]
        ),
        Some(2.0)
    );
    assert_eq!(
        get(
            "namesrv_requests_total",
            &[
                ("code", "UNKNOWN"),
                ("response", "REQUEST_CODE_NOT_SUPPORTED")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        get("namesrv_route_cache_total", &[("result", "miss")]),
        Some(1.0)
    );
    assert_eq!(
        get("namesrv_route_cache_total", &[("result", "hit")]),
        Some(1.0)
    );
    assert_eq!(
        get("namesrv_registrations_total", &[("path", "full")]),
        Some(1.0)
    );
    assert_eq!(
        get("namesrv_registration_body_bytes_total", &[]),
        Some(body_len as f64)
    );
    assert_eq!(
        get("namesrv_brokers_alive", &[("cluster", "DefaultCluster")]),
        Some(1.0)
    );
    assert_eq!(get("namesrv_topics", &[]), Some(3.0));
    assert_eq!(get("namesrv_queue_entries", &[]), Some(3.0));
    assert_eq!(get("namesrv_connections_open", &[]), Some(2.0));
    assert!(get("namesrv_process_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert_eq!(
        get(
            "namesrv_broker_removals_total",
            &[("reason", "connection_close")]
        ),
        None
    );

    // The broker's connection goes: it is removed, and counted as such.
    drop(broker);
    eventually(Duration::from_secs(10), "broker removed", || {
        let m = scrape(port);
        sample(
            &m,
            "namesrv_broker_removals_total",
            &[("reason", "connection_close")],
        ) == Some(1.0)
            && sample(
                &m,
                "namesrv_brokers_alive",
                &[("cluster", "DefaultCluster")],
            )
            .is_none()
    });
}

#[test]
fn a_page_past_any_list_is_refused_not_wrapped() {
    let (_server, port) = start(&[]);
    // (2^61 + 1 - 1) * 1000 overflows usize: refused, never page 1 again.
    let (status, body) = get_json(port, "/api/v1/topics?page=2305843009213693953&size=1000");
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].is_string(), "{body}");
}

/// Request codes Java added in 5.4/5.5 (timer engine, lite topics) are
/// broker requests: answered REQUEST_CODE_NOT_SUPPORTED with Java's remark,
/// as the Java 5.5.0 NameServer does, and counted under their own names.
#[test]
fn request_codes_of_5_5_are_refused_and_named() {
    let (server, port) = start(&[]);
    let mut client = server.client();
    let codes = [
        (5001, "SWITCH_TIMER_ENGINE"),
        (200070, "POP_LITE_MESSAGE"),
        (200071, "LITE_SUBSCRIPTION_CTL"),
        (200072, "ACK_LITE_MESSAGE"),
        (200073, "NOTIFY_UNSUBSCRIBE_LITE"),
        (200074, "GET_BROKER_LITE_INFO"),
        (200075, "GET_PARENT_TOPIC_INFO"),
        (200076, "GET_LITE_TOPIC_INFO"),
        (200077, "GET_LITE_CLIENT_INFO"),
        (200078, "GET_LITE_GROUP_INFO"),
        (200079, "TRIGGER_LITE_DISPATCH"),
    ];
    for (code, _) in codes {
        let resp = client.call(request(code, &[]));
        assert_eq!(resp.code, 3, "code {code}");
        assert_eq!(
            resp.remark.as_deref(),
            Some(format!(" request type {code} not supported").as_str())
        );
    }
    let m = scrape(port);
    for (code, name) in codes {
        assert_eq!(
            sample(
                &m,
                "namesrv_requests_total",
                &[("code", name), ("response", "REQUEST_CODE_NOT_SUPPORTED")]
            ),
            Some(1.0),
            "{code} counted as {name}"
        );
    }
    assert_eq!(
        sample(
            &m,
            "namesrv_requests_total",
            &[
                ("code", "UNKNOWN"),
                ("response", "REQUEST_CODE_NOT_SUPPORTED")
            ]
        ),
        None
    );
}

/// One GET with `accept`; the response's content type and body.
fn get_metrics(port: u16, accept: Option<&str>) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n{accept}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    (content_type, body.to_string())
}

/// curl and older scrapers ask for nothing and get the 0.0.4 text format;
/// Prometheus 2.5+ asks for OpenMetrics and gets it.
#[test]
fn metrics_answer_in_the_format_asked_for() {
    let (server, port) = start(&[]);
    let mut client = server.client();
    assert_eq!(client.call(route_request("NoSuchTopic")).code, 17);
    let (plain_type, plain) = get_metrics(port, None);
    assert_eq!(plain_type, "text/plain; version=0.0.4; charset=utf-8");
    assert!(
        plain.contains("# TYPE namesrv_requests_total counter\n"),
        "{plain}"
    );
    assert!(!plain.contains("# EOF"), "{plain}");
    let parsed = prometheus_parse::Scrape::parse(plain.lines().map(|l| Ok(l.to_string())))
        .unwrap_or_else(|e| panic!("{e}: {plain}"));
    let counted = parsed.samples.iter().find(|s| {
        s.metric == "namesrv_requests_total"
            && s.labels.get("code") == Some("GET_ROUTEINFO_BY_TOPIC")
    });
    assert!(
        matches!(
            counted.map(|s| &s.value),
            Some(prometheus_parse::Value::Counter(v)) if *v >= 1.0
        ),
        "{plain}"
    );
    let (om_type, om) = get_metrics(
        port,
        Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
    );
    assert!(
        om_type.starts_with("application/openmetrics-text"),
        "{om_type}"
    );
    assert!(om.contains("# TYPE namesrv_requests counter\n"), "{om}");
    assert!(om.trim_end().ends_with("# EOF"), "{om}");
}

/// `GET /rocketmq/<subgroup>` answers what Java's TopAddressing reads: the
/// configured list, or this NameServer as the client reached it.
#[test]
fn the_address_server_answers_the_name_server_list() {
    let (server, port) = start(&[]);
    let (status, text) = http_get(port, "/rocketmq/nsaddr");
    assert_eq!(status, 200);
    assert_eq!(text, format!("127.0.0.1:{}", server.addr.port()));
    drop(server);
    let (_server, port) = start(&[("addressServerList", "10.0.0.1:9876;10.0.0.2:9876")]);
    for path in ["/rocketmq/nsaddr", "/rocketmq/unit-b"] {
        let (status, text) = http_get(port, path);
        assert_eq!(
            (status, text.as_str()),
            (200, "10.0.0.1:9876;10.0.0.2:9876")
        );
    }
    let (_server, port) = start(&[("addressServerDomain", "localhost:9876")]);
    let (status, text) = http_get(port, "/rocketmq/nsaddr");
    assert_eq!(status, 200);
    assert!(
        text.split(';')
            .any(|a| a == "127.0.0.1:9876" || a == "[::1]:9876"),
        "{text}"
    );
}

#[test]
fn without_an_embedded_controller_the_controller_endpoint_says_so() {
    let (_server, port) = start(&[]);
    let (status, body) = get_json(port, "/api/v1/controller");
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({ "enabled": false }));
}

fn ext<'a>(resp: &'a namesrv::remoting::RemotingCommand, key: &str) -> Option<&'a str> {
    resp.ext_fields.get(key).map(String::as_str)
}

/// A one-node embedded controller, and a broker set registered on it the
/// way a broker in controller mode does (1012, 1013, 1003, 904, 1002): the
/// endpoint shows what GET_REPLICA_INFO (1004) answers for the same set.
#[test]
fn the_controller_endpoint_shows_the_leader_and_each_broker_set() {
    let ctl_port = free_port();
    let peers = format!("n0-127.0.0.1:{ctl_port}");
    let store = tempfile::tempdir().unwrap();
    let store_path = store.path().display().to_string();
    let (_server, port) = start(&[
        ("enableControllerInNamesrv", "true"),
        ("controllerDLegerGroup", "page-group"),
        ("controllerDLegerPeers", &peers),
        ("controllerDLegerSelfId", "n0"),
        ("controllerStorePath", &store_path),
    ]);
    let mut ctl = None;
    eventually(Duration::from_secs(20), "n0 the ready leader", || {
        let body = get_json(port, "/api/v1/controller").1;
        let ready = body["ready"] == true;
        ctl = Some(body);
        ready
    });
    let ctl = ctl.unwrap();
    assert_eq!(ctl["enabled"], true);
    assert_eq!(ctl["group"], "page-group");
    assert_eq!(ctl["nodeId"], "n0");
    assert_eq!(ctl["role"], "Leader");
    assert_eq!(ctl["leader"]["id"], "n0");
    assert_eq!(ctl["leader"]["addr"], format!("127.0.0.1:{ctl_port}"));
    assert!(ctl["term"].as_u64().unwrap() >= 1, "{ctl}");
    let members = ctl["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{ctl}");
    assert_eq!(members[0]["id"], "n0");
    assert_eq!(members[0]["addr"], format!("127.0.0.1:{ctl_port}"));
    assert_eq!(members[0]["voter"], true);
    assert_eq!(members[0]["leader"], true);
    assert_eq!(members[0]["self"], true);
    assert_eq!(ctl["brokerSets"], serde_json::json!([]));

    // The broker's address is a listener, so the 1008 push has somewhere to go.
    let broker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = broker.local_addr().unwrap().to_string();
    let mut c = Client::connect(format!("127.0.0.1:{ctl_port}").parse().unwrap());
    let set = [("clusterName", "page-c"), ("brokerName", "page-a")];
    let call = |c: &mut Client, code: i32, fields: &[(&str, &str)]| {
        let mut all = set.to_vec();
        all.extend_from_slice(fields);
        let resp = c.call(request(code, &all));
        assert_eq!(resp.code, 0, "{code}: {resp:?}");
        resp
    };
    let next = call(&mut c, 1012, &[]);
    assert_eq!(ext(&next, "nextBrokerId"), Some("1"));
    let check = format!("{addr};1700000000000");
    call(
        &mut c,
        1013,
        &[("appliedBrokerId", "1"), ("registerCheckCode", &check)],
    );
    call(&mut c, 1003, &[("brokerId", "1"), ("brokerAddress", &addr)]);
    let heartbeat = request(
        904,
        &[
            ("clusterName", "page-c"),
            ("brokerName", "page-a"),
            ("brokerAddr", &addr),
            ("brokerId", "1"),
            ("epoch", "1"),
            ("maxOffset", "0"),
            ("heartbeatTimeoutMills", "60000"),
        ],
    )
    .mark_oneway();
    c.send(&heartbeat);
    // One-way: a call on the same connection returns once it was read.
    assert_eq!(c.call(request(1005, &[])).code, 0);
    let elected = call(&mut c, 1002, &[("brokerId", "1")]);
    assert_eq!(ext(&elected, "masterBrokerId"), Some("1"));

    let info = c.call(request(1004, &[("brokerName", "page-a")]));
    assert_eq!(info.code, 0, "{info:?}");
    let info_body: serde_json::Value = serde_json::from_slice(&info.body).unwrap();
    let ctl = get_json(port, "/api/v1/controller").1;
    let sets = ctl["brokerSets"].as_array().unwrap();
    assert_eq!(sets.len(), 1, "{ctl}");
    let s = &sets[0];
    assert_eq!(s["cluster"], "page-c");
    assert_eq!(s["brokerName"], "page-a");
    for (api, remoting) in [
        ("masterBrokerId", "masterBrokerId"),
        ("masterAddress", "masterAddress"),
        ("masterEpoch", "masterEpoch"),
    ] {
        assert_eq!(
            s[api].to_string().trim_matches('"'),
            ext(&info, remoting).unwrap(),
            "{api}: {s} vs {info:?}"
        );
    }
    assert_eq!(s["masterAddress"], addr.as_str());
    assert_eq!(s["syncStateSet"], info_body["syncStateSet"], "{info_body}");
    assert_eq!(
        s["syncStateSetEpoch"], info_body["syncStateSetEpoch"],
        "{info_body}"
    );
    let replica = &s["replicas"][0];
    assert_eq!(replica["id"], 1);
    assert_eq!(replica["addr"], addr.as_str());
    assert_eq!(replica["master"], true);
    assert_eq!(replica["inSync"], true);
    assert_eq!(replica["alive"], true, "{s}");
    assert!(replica["lastHeartbeatAgeMs"].as_i64().unwrap() >= 0, "{s}");
}

/// With a 100 ms interval (a hidden key for tests), points appear, the
/// registration shows as a rate, and the live broker and its heartbeat age
/// are there.
#[test]
fn the_history_shows_rates_brokers_and_heartbeat_ages() {
    let (server, port) = start(&[("testHistoryIntervalMillis", "100")]);
    let (status, body) = get_json(port, "/api/v1/history");
    assert_eq!(status, 200);
    assert_eq!(body["intervalSeconds"], 0.1);
    assert_eq!(body["capacity"], 360);
    let started_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // A point means the sampler has read the counters once: the
    // registration below falls after that reading, so some point has it.
    eventually(Duration::from_secs(20), "a first point", || {
        get_json(port, "/api/v1/history").1["points"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    });
    let mut broker = server.client();
    let resp = broker.call(register_request(
        "hist-b",
        0,
        "127.0.0.1:10911",
        register_body(1, &["H1", "H2"]),
    ));
    assert_eq!(resp.code, 0, "{resp:?}");
    let mut history = serde_json::Value::Null;
    eventually(
        Duration::from_secs(20),
        "a point with the registration and the broker",
        || {
            history = get_json(port, "/api/v1/history").1;
            let points = history["points"].as_array().unwrap();
            points
                .iter()
                .any(|p| p["requestsPerSecond"]["REGISTER_BROKER"].as_f64() > Some(0.0))
                && points.last().is_some_and(|p| p["brokersAlive"] == 1)
        },
    );
    let points = history["points"].as_array().unwrap();
    let with = points
        .iter()
        .find(|p| p["requestsPerSecond"]["REGISTER_BROKER"].as_f64() > Some(0.0))
        .unwrap();
    let registrations: f64 = with["registrationsPerSecond"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!(registrations > 0.0, "{with}");
    let last = points.last().unwrap();
    let max = last["heartbeatAgeMaxMs"].as_i64().unwrap();
    let median = last["heartbeatAgeMedianMs"].as_i64().unwrap();
    assert!((0..=max).contains(&median), "{last}");
    let times: Vec<i64> = points.iter().map(|p| p["t"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert!(times[0] >= started_ms - 5_000, "{times:?} vs {started_ms}");
    // No point counts a negative rate.
    for p in points {
        for series in ["requestsPerSecond", "registrationsPerSecond"] {
            for v in p[series].as_object().unwrap().values() {
                assert!(v.as_f64().unwrap() > 0.0, "{p}");
            }
        }
    }
}
