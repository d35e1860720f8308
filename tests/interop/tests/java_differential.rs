//! The official Java peers against ours and Java's latest NameServer: a 4.9.7
//! broker, a 5.3.3 broker, a 5.5.0 master and a 5.5.0 slave of it register
//! with our namesrv, a Java 5.5.0 NameServer and a Java 5.3.3 one at once
//! (`namesrvAddr=ours;java;java`, as operators run several NameServers). Every
//! read request then gets the same answer from ours and Java 5.5.0 (the
//! differential harness; where 5.3.3 answers otherwise than 5.5.0 the test
//! prints it), Java 5.5.0's `mqadmin` prints the same against both for every
//! NameServer command, and a message sent with `mqadmin sendMessage` through
//! our namesrv is read back with `mqadmin consumeMessage`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use namesrv::remoting::RemotingCommand;
use namesrv_interop::*;

const CLUSTER: &str = "DiffCluster";
/// MQVersion numbers: 5.5.0 (current), 5.3.3, and 4.9.3, the last version
/// before clients read standard JSON (they get the fastjson form, unquoted
/// keys).
const V5_5_0: i32 = 513;
const V5_3_3: i32 = 479;
const V4_9_3: i32 = 400;

struct Fleet {
    dir: tempfile::TempDir,
    ours: Namesrv,
    java: JavaNamesrv,
    /// The second reference: printed where it answers otherwise than 5.5.0.
    java533: JavaNamesrv,
    // Dropped (killed) before the NameServers, in reverse order of start.
    b5_slave: JavaBroker,
    b5: JavaBroker,
    b53: JavaBroker,
    b4: JavaBroker,
}

impl Fleet {
    fn start() -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let ours = Namesrv::start(&dir.path().join("ours"), &[]);
        let java = JavaNamesrv::start(JavaVersion::V5_5_0, &dir.path().join("java-ns"), &[]);
        let java533 = JavaNamesrv::start(JavaVersion::V5_3_3, &dir.path().join("java533"), &[]);
        let all = format!("{};{};{}", ours.addr, java.addr, java533.addr);
        let broker = |version, name, id, role, sub: &str| {
            JavaBroker::start(
                &dir.path().join(sub),
                JavaBrokerConf {
                    version,
                    cluster: CLUSTER,
                    name,
                    id,
                    role,
                    namesrv: &all,
                    extra: &[],
                },
            )
        };
        let b4 = broker(JavaVersion::V4_9_7, "j4", 0, "ASYNC_MASTER", "b4");
        let b53 = broker(JavaVersion::V5_3_3, "j53", 0, "ASYNC_MASTER", "b53");
        let b5 = broker(JavaVersion::V5_5_0, "j5", 0, "ASYNC_MASTER", "b5");
        let b5_slave = broker(JavaVersion::V5_5_0, "j5", 1, "SLAVE", "b5s");
        let fleet = Fleet {
            dir,
            ours,
            java,
            java533,
            b5_slave,
            b5,
            b53,
            b4,
        };
        for ns in [fleet.ours.addr, fleet.java.addr, fleet.java533.addr] {
            let want = [&fleet.b4, &fleet.b53, &fleet.b5, &fleet.b5_slave];
            wait_for(Duration::from_secs(90), "all four brokers on all", || {
                want.iter().all(|b| {
                    cluster_info(ns)["brokerAddrTable"][&b.name]["brokerAddrs"][b.id.to_string()]
                        == b.addr.as_str()
                })
            });
        }
        fleet
    }

    fn diff(&self) -> Differential {
        Differential {
            ours: self.ours.addr,
            java: self.java.addr,
        }
    }

    fn tool_home(&self) -> PathBuf {
        self.dir.path().join("mqadmin")
    }

    fn mqadmin(&self, args: &[&str]) -> ToolOutput {
        let out = mqadmin(JavaVersion::V5_5_0, &self.tool_home(), args);
        println!("$ mqadmin {}\n{}{}", args.join(" "), out.stdout, out.stderr);
        out
    }

    /// Waits until both NameServers route `topic` the same way from every
    /// broker that has it (a broker re-registers with each on its own).
    fn wait_routes_agree(&self, topic: &str) {
        let diff = self.diff();
        wait_for(
            Duration::from_secs(60),
            &format!("route of {topic} alike"),
            || {
                let c = diff.compare(
                    topic,
                    &route_request(topic, V5_5_0),
                    namesrv::remoting::SerializeType::Json,
                );
                c.ours.code == 0 && c.differences.is_empty()
            },
        );
    }
}

fn route_request(topic: &str, version: i32) -> RemotingCommand {
    let mut req = request(105, &[("topic", topic)]);
    req.version = version;
    req
}

#[test]
fn java_brokers_on_ours_and_java_nameservers() {
    let fleet = Fleet::start();
    let diff = fleet.diff();
    println!(
        "brokers registered on all: j4 (4.9.7) {}, j53 (5.3.3) {}, j5 (5.5.0) {}, j5 slave {}",
        fleet.b4.addr, fleet.b53.addr, fleet.b5.addr, fleet.b5_slave.addr
    );

    // A topic made by the admin tool, on every master of the cluster.
    let made = fleet.mqadmin(&[
        "updateTopic",
        "-n",
        &fleet.ours.addr_string(),
        "-c",
        CLUSTER,
        "-t",
        "DiffTopic",
    ]);
    assert!(made.status.success(), "updateTopic failed");
    fleet.wait_routes_agree("DiffTopic");

    read_requests_answer_alike(&diff);
    topics_with_5_5_attributes_route_alike(&fleet);
    read_requests_of_5_3_3_and_5_5_0(&fleet);
    admin_commands_print_alike(&fleet);
    send_and_consume_through_ours(&fleet);
}

/// Item 2: every read request, for a current and an old client, both codecs.
fn read_requests_answer_alike(diff: &Differential) {
    let topics = [
        "TBW102",
        "SELF_TEST_TOPIC",
        CLUSTER,
        "j4",
        "j53",
        "j5",
        "DiffTopic",
        "NoSuchTopic",
    ];
    for topic in topics {
        for version in [V5_5_0, V5_3_3, V4_9_3] {
            let answer = diff.assert_same(
                &format!("105 {topic} v{version}"),
                &route_request(topic, version),
            );
            if topic != "NoSuchTopic" {
                assert_eq!(answer.code, 0, "{topic} not routed");
            }
        }
    }
    let with = |code, fields: &[(&str, &str)]| request(code, fields);
    diff.assert_same("106 cluster info", &with(106, &[]));
    diff.assert_same("206 all topics", &with(206, &[]));
    diff.assert_same(
        "224 topics of the cluster",
        &with(224, &[("cluster", CLUSTER)]),
    );
    diff.assert_same("224 unknown cluster", &with(224, &[("cluster", "Nope")]));
    diff.assert_same("304 system topics", &with(304, &[]));
    diff.assert_same("311 unit topics", &with(311, &[]));
    diff.assert_same("312 has-unit-sub topics", &with(312, &[]));
    diff.assert_same("313 has-unit-sub-ununit topics", &with(313, &[]));
    for name in ["j4", "j53", "j5", "nope"] {
        diff.assert_same(
            &format!("901 member group {name}"),
            &with(901, &[("clusterName", CLUSTER), ("brokerName", name)]),
        );
    }
    let cluster = namesrv_cluster_addrs(diff.java);
    for (name, id, addr) in &cluster {
        let fields = [
            ("brokerAddr", addr.as_str()),
            ("brokerName", name.as_str()),
            ("clusterName", CLUSTER),
            ("brokerId", &id.to_string()),
        ];
        let stale = with(322, &fields).with_body(r#"{"counter":0,"timestamp":0}"#);
        let answer = diff.assert_same(&format!("322 {name}/{id} stale version"), &stale);
        assert_eq!(answer.ext_fields["changed"], "true");
        // The version the NameServer holds, sent back: unchanged on both.
        let current = serde_json::to_vec(answer.json()).unwrap();
        let answer = diff.assert_same(
            &format!("322 {name}/{id} current version"),
            &with(322, &fields).with_body(current),
        );
        assert_eq!(answer.ext_fields["changed"], "false");
    }

    // Requests that leave out their header fields: Java reads each missing
    // field as null and answers accordingly.
    for code in [105, 224, 901, 101, 219] {
        diff.assert_same(&format!("{code} without header fields"), &with(code, &[]));
    }
    // Both refuse with SYSTEM_ERROR; Java's remark is the text of the
    // NullPointerException its lookup throws, ours names the field (README).
    diff.assert_differs_only_in("322 without header fields", &with(322, &[]), &["remark"]);
}

/// Topic types new in 5.4/5.5 (`message.type` PRIORITY and LITE), made on
/// the 5.5.0 master: its registration carries them as topic attributes;
/// both NameServers route them and list them alike.
fn topics_with_5_5_attributes_route_alike(fleet: &Fleet) {
    for (topic, kind) in [("PrioTopic", "PRIORITY"), ("LiteTopic", "LITE")] {
        let made = fleet.mqadmin(&[
            "updateTopic",
            "-n",
            &fleet.ours.addr_string(),
            "-b",
            &fleet.b5.addr,
            "-t",
            topic,
            "-a",
            &format!("+message.type={kind}"),
        ]);
        assert!(made.status.success(), "updateTopic {topic} failed");
        fleet.wait_routes_agree(topic);
        for version in [V5_5_0, V4_9_3] {
            let answer = fleet.diff().assert_same(
                &format!("105 {topic} v{version}"),
                &route_request(topic, version),
            );
            assert_eq!(answer.code, 0);
        }
    }
    let list = fleet
        .diff()
        .assert_same("206 with 5.5 topic types", &request(206, &[]));
    let topics = list.json()["topicList"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for topic in ["PrioTopic", "LiteTopic"] {
        assert!(topics.iter().any(|t| t == topic), "{topic} not listed");
    }
}

/// The second reference: the read requests above, sent to Java 5.3.3 and
/// Java 5.5.0. Ours follows 5.5.0; what 5.3.3 answers otherwise is printed
/// (the compatibility notes list it), not asserted.
fn read_requests_of_5_3_3_and_5_5_0(fleet: &Fleet) {
    let old = Differential {
        ours: fleet.java533.addr,
        java: fleet.java.addr,
    };
    let mut requests: Vec<(String, RemotingCommand)> = Vec::new();
    for topic in ["TBW102", "DiffTopic", "j5", "NoSuchTopic"] {
        for version in [V5_5_0, V4_9_3] {
            requests.push((
                format!("105 {topic} v{version}"),
                route_request(topic, version),
            ));
        }
    }
    for (name, code) in [
        ("cluster info", 106),
        ("all topics", 206),
        ("system topics", 304),
    ] {
        requests.push((format!("{code} {name}"), request(code, &[])));
    }
    let mut differing = 0;
    for (what, req) in &requests {
        let c = old.compare(what, req, namesrv::remoting::SerializeType::Json);
        if !c.differences.is_empty() {
            differing += 1;
            println!("5.3.3 (left) answers otherwise than 5.5.0 (right): {c}");
        }
    }
    println!(
        "5.3.3 against 5.5.0: {differing} of {} read requests answered otherwise",
        requests.len()
    );
}

/// (brokerName, id, address) of every broker the Java NameServer knows.
fn namesrv_cluster_addrs(ns: SocketAddr) -> Vec<(String, i64, String)> {
    let info = cluster_info(ns);
    let mut out = Vec::new();
    for (name, data) in info["brokerAddrTable"].as_object().unwrap() {
        for (id, addr) in data["brokerAddrs"].as_object().unwrap() {
            out.push((
                name.clone(),
                id.parse().unwrap(),
                addr.as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

/// What an admin command printed, with each server's own address replaced so
/// that the two runs compare, its lines sorted: mqadmin prints sets (topic
/// lists) in the order of the Java HashSet it decoded, which says nothing.
fn printed(out: &ToolOutput, addr: &str) -> String {
    let text = out.stdout.replace(addr, "<namesrv>");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines.join("\n")
}

/// Item 3: the NameServer commands of mqadmin print the same against both.
fn admin_commands_print_alike(fleet: &Fleet) {
    let ours = fleet.ours.addr_string();
    let java = fleet.java.addr.to_string();
    // Runs `args` against each server, keeps the first `columns` columns.
    let same_in_columns = |args: &[&str], columns: usize| {
        let run = |addr: &str| {
            let mut full: Vec<&str> = args.to_vec();
            full.extend(["-n", addr]);
            let out = fleet.mqadmin(&full);
            let text: Vec<String> = printed(&out, addr)
                .lines()
                .map(|l| {
                    let words: Vec<&str> = l.split_whitespace().take(columns).collect();
                    words.join(" ")
                })
                .collect();
            (out.status.code(), text.join("\n"))
        };
        let (a, b) = (run(&ours), run(&java));
        assert_eq!(a, b, "mqadmin {args:?} prints differently (ours, java)");
        a.1
    };
    let same = |args: &[&str]| same_in_columns(args, usize::MAX);
    let text = same(&["topicRoute", "-t", "DiffTopic"]);
    assert!(text.contains("\"brokerName\":\"j5\""), "{text}");
    let text = same(&["topicList"]);
    assert!(text.lines().any(|l| l == "DiffTopic"), "{text}");
    same(&["topicList", "-c"]);
    let text = same(&["topicClusterList", "-t", "DiffTopic"]);
    assert_eq!(text, CLUSTER);
    // Past #Addr, clusterList prints each broker's own runtime statistics
    // (read from the broker, not the NameServer, a moment apart).
    let listed = same_in_columns(&["clusterList"], 4);
    assert_eq!(listed.lines().count(), 5, "{listed}");

    let text = same(&[
        "updateKvConfig",
        "-s",
        "DIFF_NS",
        "-k",
        "color",
        "-v",
        "blue",
    ]);
    assert!(text.contains("kv config to namespace success"), "{text}");
    fleet.diff().assert_same(
        "219 after updateKvConfig",
        &request(219, &[("namespace", "DIFF_NS")]),
    );
    let text = same(&["deleteKvConfig", "-s", "DIFF_NS", "-k", "color"]);
    assert!(
        text.contains("delete kv config from namespace success"),
        "{text}"
    );
    fleet.diff().assert_same(
        "101 after deleteKvConfig",
        &request(101, &[("namespace", "DIFF_NS"), ("key", "color")]),
    );

    let text = same(&["updateNamesrvConfig", "-k", "clusterTest", "-v", "false"]);
    assert!(text.contains("update name server config success"), "{text}");
    let config = |addr: &str| {
        let out = fleet.mqadmin(&["getNamesrvConfig", "-n", addr]);
        assert!(out.status.success());
        namesrv_config_lines(&printed(&out, addr))
    };
    // Deliberate: ours also prints its own keys (docs/operating.md).
    let (ours_config, java_config) = (config(&ours), config(&java));
    let only_ours: Vec<&String> = ours_config
        .iter()
        .filter(|l| !java_config.contains(l))
        .collect();
    let only_java: Vec<&String> = java_config
        .iter()
        .filter(|l| !ours_config.contains(l))
        .collect();
    let keys: Vec<&str> = only_ours
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        keys,
        [
            "addressServerDomain",
            "addressServerList",
            "frameMaxLength",
            "httpListenPort",
            "maxConnections"
        ],
        "{only_ours:?}"
    );
    assert!(only_java.is_empty(), "getNamesrvConfig lacks {only_java:?}");

    for (cmd, perm) in [("wipeWritePerm", 4), ("addWritePerm", 6)] {
        let text = same(&[cmd, "-b", "j5"]);
        assert!(text.contains("in name server[<namesrv>] OK"), "{text}");
        fleet.wait_routes_agree("DiffTopic");
        let route = fleet.diff().assert_same(
            &format!("105 after {cmd}"),
            &route_request("DiffTopic", V5_5_0),
        );
        let j5 = route.json()["queueDatas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["brokerName"] == "j5")
            .cloned()
            .unwrap();
        assert_eq!(j5["perm"], perm, "{cmd}: {j5}");
    }

    // Made on the brokers through ours, deleted through each in turn.
    for addr in [&ours, &java] {
        fleet.mqadmin(&["updateTopic", "-n", addr, "-c", CLUSTER, "-t", "GoneTopic"]);
    }
    fleet.wait_routes_agree("GoneTopic");
    let text = same(&["deleteTopic", "-c", CLUSTER, "-t", "GoneTopic"]);
    assert!(text.contains("from NameServer success"), "{text}");
    fleet
        .diff()
        .assert_same("105 after deleteTopic", &route_request("GoneTopic", V5_5_0));
}

/// getNamesrvConfig lines, minus what each server was given in its own file.
fn namesrv_config_lines(text: &str) -> Vec<String> {
    let own = [
        "listenPort",
        "kvConfigPath",
        "configStorePath",
        "rocketmqHome",
    ];
    text.lines()
        .filter(|l| !own.iter().any(|k| l.contains(&format!("{k} "))))
        .map(str::to_string)
        .collect()
}

/// Item 3: a message sent through ours reaches the Java broker and is read back.
fn send_and_consume_through_ours(fleet: &Fleet) {
    let ours = fleet.ours.addr_string();
    let sent = fleet.mqadmin(&[
        "sendMessage",
        "-n",
        &ours,
        "-t",
        "DiffTopic",
        "-p",
        "hello-through-ours",
    ]);
    assert!(sent.stdout.contains("SEND_OK"), "no SEND_OK: {sent:?}");
    let broker = sent
        .stdout
        .lines()
        .find(|l| l.contains("SEND_OK"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let read = fleet.mqadmin(&[
        "consumeMessage",
        "-n",
        &ours,
        "-t",
        "DiffTopic",
        "-b",
        &broker,
    ]);
    assert!(
        read.stdout.contains("BODY: hello-through-ours"),
        "message not read back from {broker}: {read:?}"
    );
}
