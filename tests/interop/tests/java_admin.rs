//! Issue 13: `namesrv-admin` prints what Java 5.5.0 `mqadmin` prints, for
//! the same state, against our namesrv and against the Java NameServer, and
//! its controller commands work against Java's controller (embedded in the
//! Java NameServer) with two controller-mode Java brokers. The only text
//! masked is in clusterList rows, the broker's own runtime statistics that
//! move between two reads: the `#Hour` cell (hours since the broker's
//! oldest message) and the timer's read/offset lag.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use namesrv_interop::*;

const CLUSTER: &str = "AdminCluster";
const CTL_CLUSTER: &str = "CtlCluster";

struct Fleet {
    dir: tempfile::TempDir,
    ours: Namesrv,
    java: JavaControllerNamesrv,
    cb: Vec<JavaBroker>,
    plain: JavaBroker,
}

impl Fleet {
    fn start() -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let ours = Namesrv::start(&dir.path().join("ours"), &[]);
        let java = JavaControllerNamesrv::start(&dir.path().join("java-ns"));
        let both = format!("{};{}", ours.addr, java.namesrv.addr);
        let plain = JavaBroker::start(
            &dir.path().join("plain"),
            JavaBrokerConf {
                version: JavaVersion::V5_5_0,
                cluster: CLUSTER,
                name: "ab",
                id: 0,
                role: "ASYNC_MASTER",
                namesrv: &both,
                extra: &[],
            },
        );
        let ctl = java.controller.to_string();
        let cb = (1..=2)
            .map(|i| {
                JavaBroker::start(
                    &dir.path().join(format!("cb{i}")),
                    JavaBrokerConf {
                        version: JavaVersion::V5_5_0,
                        cluster: CTL_CLUSTER,
                        name: "cb",
                        id: -1,
                        role: "SLAVE",
                        namesrv: &both,
                        extra: &[("enableControllerMode", "true"), ("controllerAddr", &ctl)],
                    },
                )
            })
            .collect();
        let fleet = Fleet {
            dir,
            ours,
            java,
            cb,
            plain,
        };
        for ns in [fleet.ours.addr, fleet.java.namesrv.addr] {
            wait_for(
                Duration::from_secs(120),
                "both groups registered, cb with a master and a slave",
                || {
                    let info = cluster_info(ns);
                    let cb = &info["brokerAddrTable"]["cb"]["brokerAddrs"];
                    info["brokerAddrTable"]["ab"]["brokerAddrs"]["0"] == fleet.plain.addr.as_str()
                        && cb
                            .as_object()
                            .is_some_and(|m| m.len() == 2 && m.contains_key("0"))
                },
            );
        }
        fleet
    }

    fn mqadmin(&self, args: &[&str]) -> ToolOutput {
        let started = Instant::now();
        let out = mqadmin(JavaVersion::V5_5_0, &self.dir.path().join("mqadmin"), args);
        println!(
            "$ mqadmin {} ({} ms)\n{}{}",
            args.join(" "),
            started.elapsed().as_millis(),
            out.stdout,
            out.stderr
        );
        out
    }

    fn ours(&self, args: &[&str]) -> ToolOutput {
        let started = Instant::now();
        let out = namesrv_admin(args);
        println!(
            "$ namesrv-admin {} ({} ms)\n{}{}",
            args.join(" "),
            started.elapsed().as_millis(),
            out.stdout,
            out.stderr
        );
        out
    }

    /// Both tools print the same for `args`; ours succeeded.
    fn same(&self, args: &[&str]) {
        let java = self.mqadmin(args);
        let ours = self.ours(args);
        assert!(
            ours.status.success(),
            "namesrv-admin {args:?}: {}",
            ours.stderr
        );
        assert!(
            java.stderr.trim().is_empty(),
            "mqadmin {args:?} failed: {}",
            java.stderr
        );
        assert_eq!(
            mask_hours(&ours.stdout),
            mask_hours(&java.stdout),
            "namesrv-admin and mqadmin differ for {args:?}"
        );
    }

    fn ctl(&self) -> String {
        self.java.controller.to_string()
    }

    fn sync_state(&self) -> serde_json::Value {
        let out = self.ours(&["getSyncStateSet", "-a", &self.ctl(), "-b", "cb", "--json"]);
        assert!(out.status.success(), "{}", out.stderr);
        serde_json::from_str(&out.stdout).unwrap()
    }
}

/// clusterList's `#Hour` cell (third from the end of a row) and the timer
/// lag (`1-0` in `1-0(0.0w, ...)`) depend on the moment of the read.
fn mask_hours(text: &str) -> String {
    text.lines()
        .map(|line| {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let is_row =
                tokens.len() > 3 && tokens.last().is_some_and(|t| *t == "true" || *t == "false");
            if !is_row {
                return line.to_string();
            }
            let mut line = line.to_string();
            let hour = tokens[tokens.len() - 3];
            if let (Some(at), true) = (line.rfind(hour), hour.parse::<f64>().is_ok()) {
                line.replace_range(at..at + hour.len(), &"H".repeat(hour.len()));
            }
            let timer = tokens.iter().find(|t| t.contains('-') && t.contains("w,"));
            if let Some(lag) = timer.and_then(|t| t.split('(').next()) {
                if let Some(at) = line.find(&format!("{lag}(")) {
                    line.replace_range(at..at + lag.len(), &"T".repeat(lag.len()));
                }
            }
            line
        })
        .map(|l| l + "\n")
        .collect()
}

fn namesrv_commands(fleet: &Fleet, ns: &str, topic: &str) {
    for args in [
        vec!["clusterList"],
        vec!["clusterList", "-m"],
        vec!["clusterList", "-c", CLUSTER],
        vec!["topicRoute", "-t", topic],
        vec!["topicRoute", "-t", topic, "-l"],
        vec!["topicRoute", "-t", "TBW102"],
        vec!["topicRoute", "-t", "cb"],
        vec!["topicList"],
        vec!["topicList", "-c"],
        vec!["topicClusterList", "-t", topic],
        vec!["getNamesrvConfig"],
        vec!["updateKvConfig", "-s", "ADMIN_NS", "-k", "k1", "-v", "v1"],
        vec!["deleteKvConfig", "-s", "ADMIN_NS", "-k", "k1"],
        vec![
            "updateNamesrvConfig",
            "-k",
            "orderMessageEnable",
            "-v",
            "false",
        ],
    ] {
        let mut args = args.clone();
        args.extend(["-n", ns]);
        fleet.same(&args);
    }
    // The write-permission pair changes state: each tool runs wipe then add.
    let ours_wipe = fleet.ours(&["wipeWritePerm", "-b", "ab", "-n", ns]);
    let ours_add = fleet.ours(&["addWritePerm", "-b", "ab", "-n", ns]);
    let java_wipe = fleet.mqadmin(&["wipeWritePerm", "-b", "ab", "-n", ns]);
    let java_add = fleet.mqadmin(&["addWritePerm", "-b", "ab", "-n", ns]);
    assert_eq!(ours_wipe.stdout, java_wipe.stdout);
    assert_eq!(ours_add.stdout, java_add.stdout);
    assert!(ours_wipe.stdout.contains("OK, "), "{}", ours_wipe.stdout);
}

#[test]
fn namesrv_admin_prints_what_mqadmin_prints() {
    let fleet = Fleet::start();
    let ours_ns = fleet.ours.addr.to_string();
    let java_ns = fleet.java.namesrv.addr.to_string();
    let both = format!("{ours_ns};{java_ns}");
    let topic = "AdminTopic";
    let created = fleet.mqadmin(&["updateTopic", "-n", &both, "-c", CLUSTER, "-t", topic]);
    assert!(created.stdout.contains("success"), "{}", created.stdout);
    for ns in [&ours_ns, &java_ns] {
        wait_for(Duration::from_secs(60), "topic routed", || {
            raw_call(ns.parse().unwrap(), request(105, &[("topic", topic)])).code == 0
        });
    }

    for ns in [&ours_ns, &java_ns] {
        namesrv_commands(&fleet, ns, topic);
    }

    // Refusals: ours fails with one line naming the server and the code,
    // where mqadmin prints a stack trace with the same code.
    for ns in [&ours_ns, &java_ns] {
        let java = fleet.mqadmin(&["topicRoute", "-t", "NoSuchTopic", "-n", ns]);
        let ours = fleet.ours(&["topicRoute", "-t", "NoSuchTopic", "-n", ns]);
        assert!(java.stderr.contains("CODE: 17"), "{}", java.stderr);
        assert_eq!(ours.status.code(), Some(1));
        assert!(
            ours.stderr
                .contains(&format!("{ns} answered CODE: 17 (TOPIC_NOT_EXIST)")),
            "{}",
            ours.stderr
        );
    }

    // deleteTopic, once by each tool, on both NameServers at once.
    for tool in ["ours", "java"] {
        let doomed = format!("Doomed_{tool}");
        let made = fleet.mqadmin(&["updateTopic", "-n", &both, "-c", CLUSTER, "-t", &doomed]);
        assert!(made.stdout.contains("success"));
        let args = ["deleteTopic", "-t", &doomed, "-c", CLUSTER, "-n", &both];
        let out = if tool == "ours" {
            fleet.ours(&args)
        } else {
            fleet.mqadmin(&args)
        };
        assert_eq!(
            out.stdout,
            format!("delete topic [{doomed}] from cluster [{CLUSTER}] success.\ndelete topic [{doomed}] from NameServer success.\n")
        );
        for ns in [&ours_ns, &java_ns] {
            assert_eq!(
                raw_call(ns.parse().unwrap(), request(105, &[("topic", &doomed)])).code,
                17
            );
        }
    }
    fleet.same(&[
        "deleteTopic",
        "-t",
        "Nothing",
        "-c",
        "NoSuchCluster",
        "-n",
        &both,
    ]);

    // Start-to-answer time of each tool, for the benchmark notes.
    for (name, run) in [
        (
            "namesrv-admin",
            Box::new(|| fleet.ours(&["topicList", "-n", &ours_ns])) as Box<dyn Fn() -> ToolOutput>,
        ),
        (
            "mqadmin",
            Box::new(|| fleet.mqadmin(&["topicList", "-n", &ours_ns])),
        ),
    ] {
        let started = Instant::now();
        for _ in 0..3 {
            assert!(run().status.success());
        }
        println!(
            "start-to-answer {name} topicList: {} ms per run",
            started.elapsed().as_millis() / 3
        );
    }
}

#[test]
fn controller_commands_work_against_javas_controller() {
    let fleet = Fleet::start();
    let ctl = fleet.ctl();
    let java_ns = fleet.java.namesrv.addr.to_string();
    let ours_ns = fleet.ours.addr.to_string();
    fleet.same(&["getControllerMetaData", "-a", &ctl]);
    fleet.same(&["getControllerConfig", "-a", &ctl]);
    fleet.same(&[
        "updateControllerConfig",
        "-a",
        &ctl,
        "-k",
        "scanNotActiveBrokerInterval",
        "-v",
        "5000",
    ]);
    wait_for(Duration::from_secs(90), "both cb brokers in sync", || {
        fleet.sync_state()["brokers"][0]["inSyncReplicas"]
            .as_array()
            .is_some_and(|r| r.len() == 2)
    });
    fleet.same(&["getSyncStateSet", "-a", &ctl, "-b", "cb"]);
    for ns in [&ours_ns, &java_ns] {
        fleet.same(&["getSyncStateSet", "-a", &ctl, "-c", CTL_CLUSTER, "-n", ns]);
    }

    // Hand mastership to the slave with our tool; both NameServers follow.
    let state = fleet.sync_state();
    let group = &state["brokers"][0];
    let master = group["masterBrokerId"].as_i64().unwrap();
    let epoch = group["masterEpoch"].as_i64().unwrap();
    let slave = group["inSyncReplicas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["brokerId"].as_i64() != Some(master))
        .unwrap();
    let slave_id = slave["brokerId"].as_i64().unwrap().to_string();
    let slave_addr = slave["brokerAddress"].as_str().unwrap().to_string();
    let elect_slave = [
        "electMaster",
        "-a",
        &ctl,
        "-b",
        &slave_id,
        "-bn",
        "cb",
        "-c",
        CTL_CLUSTER,
    ];
    let elected = fleet.ours(&elect_slave);
    assert!(elected.status.success(), "{}", elected.stderr);
    assert!(
        elected.stdout.starts_with(&format!(
            "\n#ClusterName\t{CTL_CLUSTER}\n#BrokerName\tcb\n#BrokerMasterAddr\t{slave_addr}\n#MasterEpoch\t{}\n#SyncStateSetEpoch\t",
            epoch + 1
        )),
        "{}",
        elected.stdout
    );
    let started = Instant::now();
    for ns in [fleet.ours.addr, fleet.java.namesrv.addr] {
        wait_for(
            Duration::from_secs(90),
            "the new master routed as id 0",
            || cluster_info(ns)["brokerAddrTable"]["cb"]["brokerAddrs"]["0"] == slave_addr.as_str(),
        );
    }
    println!("new master in both routes after {:?}", started.elapsed());
    fleet.same(&["getSyncStateSet", "-a", &ctl, "-b", "cb"]);

    // Electing the master that is still alive: both report 2011.
    let java = fleet.mqadmin(&elect_slave);
    let ours = fleet.ours(&elect_slave);
    assert!(java.stderr.contains("CODE: 2011"), "{}", java.stderr);
    assert_eq!(ours.status.code(), Some(1));
    assert!(
        ours.stderr.contains(&format!(
            "{ctl} answered CODE: 2011 (CONTROLLER_MASTER_STILL_EXIST)"
        )),
        "{}",
        ours.stderr
    );

    // Cleaning an unknown group: both refused with 2009.
    let args = [
        "cleanBrokerMetadata",
        "-a",
        &ctl,
        "-bn",
        "NoGroup",
        "-c",
        CTL_CLUSTER,
    ];
    let java = fleet.mqadmin(&args);
    let ours = fleet.ours(&args);
    assert!(java.stderr.contains("CODE: 2009"), "{}", java.stderr);
    assert!(
        ours.stderr
            .contains("CODE: 2009 (CONTROLLER_INVALID_CLEAN_BROKER_METADATA)"),
        "{}",
        ours.stderr
    );

    // The old master dies; once the controller sees it gone, ours cleans it.
    let old = fleet.cb.iter().position(|b| b.addr != slave_addr).unwrap();
    let mut fleet = fleet;
    fleet.cb[old].process.kill9();
    let master_id = master.to_string();
    let clean = [
        "cleanBrokerMetadata",
        "-a",
        &ctl,
        "-bn",
        "cb",
        "-c",
        CTL_CLUSTER,
        "-b",
        &master_id,
    ];
    let started = Instant::now();
    wait_for(Duration::from_secs(90), "the dead broker cleaned", || {
        let out = namesrv_admin(&clean);
        out.status.success() && out.stdout == "clear broker cb metadata from controller success! \n"
    });
    println!("dead broker cleaned after {:?}", started.elapsed());
    let after = fleet.mqadmin(&["getSyncStateSet", "-a", &ctl, "-b", "cb"]);
    assert!(
        !after.stdout.contains(&format!("brokerId={master_id},")),
        "{}",
        after.stdout
    );
    fleet.same(&["getSyncStateSet", "-a", &ctl, "-b", "cb"]);
    let _: PathBuf = fleet.dir.path().to_path_buf();
}
