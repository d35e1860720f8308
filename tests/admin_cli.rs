//! `namesrv-admin` against the real namesrv binary: each command's output
//! with a broker registered (a fake broker answers the broker-side requests:
//! runtime stats, topic deletion, consumer groups), `--json`, and failures:
//! unreachable or wrong servers, timeouts, refusals, bad arguments.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use namesrv::remoting::{RemotingCodec, RemotingCommand, ResponseCode};
use tokio_util::codec::Framed;

use common::*;

fn admin_binary() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_namesrv-admin"))
}

fn admin(args: &[&str]) -> Output {
    Command::new(admin_binary())
        .args(args)
        .env_remove("NAMESRV_ADDR")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failure(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err}");
    err
}

/// Answers what a broker answers to the admin tool, on a thread of its own.
fn fake_broker() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut conn = Framed::new(stream, RemotingCodec::default());
                    while let Some(Ok(req)) = conn.next().await {
                        let resp = match req.code {
                            28 => req.response(ResponseCode::SUCCESS, None).with_body(
                                r#"{"table":{"brokerVersionDesc":"V5_3_3","putTps":"1234.5678 1.0 1.0","getTransferredTps":"0.125","sendThreadPoolQueueSize":"3","sendThreadPoolQueueHeadWaitTimeMills":"5","pullThreadPoolQueueSize":"4","pullThreadPoolQueueHeadWaitTimeMills":"6","pageCacheLockTimeMills":"7","commitLogDiskRatio":"0.18","brokerActive":"true","timerReadBehind":"11","timerOffsetBehind":"12","timerCongestNum":"123456","timerEnqueueTps":"1.25","timerDequeueTps":"2.35","msgPutTotalTodayMorning":"10","msgPutTotalYesterdayMorning":"4","msgGetTotalTodayMorning":"9","msgGetTotalYesterdayMorning":"1","msgPutTotalTodayNow":"30","msgGetTotalTodayNow":"19"}}"#,
                            ),
                            215 => req.response(ResponseCode::SUCCESS, None),
                            300 => req
                                .response(ResponseCode::SUCCESS, None)
                                .with_body(r#"{"groupList":["G1"]}"#),
                            _ => req.response(ResponseCode::REQUEST_CODE_NOT_SUPPORTED, None),
                        };
                        if conn.send(resp).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    });
    addr
}

struct Setup {
    _server: InProcess,
    // The broker's connection: closing it would remove the broker.
    _client: Client,
    ns: String,
    broker: String,
}

fn setup() -> Setup {
    let server = InProcess::start(&[]);
    let broker = fake_broker().to_string();
    let mut client = server.client();
    let resp = client.call(register_request(
        "b1",
        0,
        &broker,
        register_body(1, &["T1", "T2"]),
    ));
    assert_eq!(resp.code, 0);
    let ns = server.addr.to_string();
    Setup {
        _server: server,
        _client: client,
        ns,
        broker,
    }
}

#[test]
fn namesrv_commands_print_what_mqadmin_prints() {
    let s = setup();
    let ns = s.ns.as_str();

    let topics = stdout(&admin(&["topicList", "-n", ns]));
    let mut lines: Vec<&str> = topics.lines().collect();
    lines.sort();
    assert_eq!(lines, ["T1", "T2"]);

    let route = stdout(&admin(&["topicRoute", "-t", "T1", "-n", ns]));
    let expected = format!(
        "{{\n\t\"brokerDatas\":[\n\t\t{{\n\t\t\t\"brokerAddrs\":{{\n\t\t\t\t0:\"{b}\"\n\t\t\t}},\n\t\t\t\"brokerName\":\"b1\",\n\t\t\t\"cluster\":\"DefaultCluster\",\n\t\t\t\"enableActingMaster\":false\n\t\t}}\n\t],\n\t\"filterServerTable\":{{}},\n\t\"queueDatas\":[\n\t\t{{\n\t\t\t\"brokerName\":\"b1\",\n\t\t\t\"perm\":6,\n\t\t\t\"readQueueNums\":4,\n\t\t\t\"topicSysFlag\":0,\n\t\t\t\"writeQueueNums\":4\n\t\t}}\n\t]\n}}\n",
        b = s.broker
    );
    assert_eq!(route, expected);

    let list = stdout(&admin(&["topicRoute", "-t", "T1", "-l", "-n", ns]));
    assert!(
        list.lines().nth(1).unwrap().starts_with("DefaultCluster"),
        "{list}"
    );
    assert_eq!(list.lines().count(), 4, "{list}");

    assert_eq!(
        stdout(&admin(&["topicClusterList", "-t", "T1", "-n", ns])),
        "DefaultCluster\n"
    );

    let clusters = stdout(&admin(&["clusterList", "-n", ns]));
    let row = clusters.lines().nth(1).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[..6],
        [
            "DefaultCluster",
            "b1",
            "0",
            s.broker.as_str(),
            "V5_3_3",
            "1234.57(3,5ms)"
        ],
        "{row}"
    );
    assert!(
        row.contains("0.13(4,6ms|N,Nms)  11-12(12.3w, 1.3, 2.3)"),
        "{row}"
    );
    assert!(row.ends_with("0.00          0.1800          true"), "{row}");

    let more = stdout(&admin(&["clusterList", "-m", "-n", ns]));
    assert_eq!(
        more.lines().nth(1).unwrap(),
        "DefaultCluster    b1                                            6              8             20             10"
    );

    let with_groups = stdout(&admin(&["topicList", "-c", "-n", ns]));
    assert!(
        with_groups
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["DefaultCluster", "T1", "G1"]),
        "{with_groups}"
    );

    assert_eq!(
        stdout(&admin(&[
            "updateKvConfig",
            "-s",
            "NS",
            "-k",
            "a",
            "-v",
            "1",
            "-n",
            ns
        ])),
        "create or update kv config to namespace success.\n"
    );
    let kv = stdout(&admin(&["getKvConfig", "-s", "NS", "-n", ns]));
    assert_eq!(kv, format!("{:<50}=  1\n", "a"));
    assert_eq!(
        stdout(&admin(&["deleteKvConfig", "-s", "NS", "-k", "a", "-n", ns])),
        "delete kv config from namespace success.\n"
    );
    // The namespace stays, empty (as in Java); one never written is unknown.
    assert_eq!(stdout(&admin(&["getKvConfig", "-s", "NS", "-n", ns])), "");
    let gone = failure(&admin(&["getKvConfig", "-s", "NEVER", "-n", ns]));
    assert!(gone.contains("CODE: 22 (QUERY_NOT_FOUND)"), "{gone}");

    let config = stdout(&admin(&["getNamesrvConfig", "-n", ns]));
    assert_eq!(
        config.lines().next().unwrap(),
        format!("============{ns}============")
    );
    assert!(
        config
            .lines()
            .any(|l| l == format!("{:<50}=  0", "listenPort")),
        "{config}"
    );
    assert_eq!(
        stdout(&admin(&[
            "updateNamesrvConfig",
            "-k",
            "scanNotActiveBrokerInterval",
            "-v",
            "7000",
            "-n",
            ns
        ])),
        format!("update name server config success![{ns}]\nscanNotActiveBrokerInterval : 7000\n")
    );
    let refused = failure(&admin(&[
        "updateNamesrvConfig",
        "-k",
        "kvConfigPath",
        "-v",
        "/tmp/x",
        "-n",
        ns,
    ]));
    assert!(
        refused.contains(&format!("{ns} answered CODE: 16 (NO_PERMISSION)")),
        "{refused}"
    );

    assert_eq!(
        stdout(&admin(&["wipeWritePerm", "-b", "b1", "-n", ns])),
        format!("wipe write perm of broker[b1] in name server[{ns}] OK, 2\n")
    );
    assert_eq!(
        stdout(&admin(&["addWritePerm", "-b", "b1", "-n", ns])),
        format!("add write perm of broker[b1] in name server[{ns}] OK, 2\n")
    );

    assert_eq!(
        stdout(&admin(&["deleteTopic", "-t", "T2", "-c", "DefaultCluster", "-n", ns])),
        "delete topic [T2] from cluster [DefaultCluster] success.\ndelete topic [T2] from NameServer success.\n"
    );
    let after = stdout(&admin(&["topicList", "-n", ns]));
    assert!(!after.lines().any(|l| l == "T2"), "{after}");
}

#[test]
fn json_output_is_one_document_per_command() {
    let s = setup();
    let ns = s.ns.as_str();
    for args in [
        vec!["topicRoute", "-t", "T1"],
        vec!["clusterList"],
        vec!["topicList"],
        vec!["getNamesrvConfig"],
    ] {
        let mut args = args.clone();
        args.extend(["-n", ns, "--json"]);
        let out = stdout(&admin(&args));
        let doc: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"));
        assert!(doc.is_object(), "{args:?}: {out}");
    }
    let route: serde_json::Value = serde_json::from_str(&stdout(&admin(&[
        "topicRoute",
        "-t",
        "T1",
        "-n",
        ns,
        "--json",
    ])))
    .unwrap();
    assert_eq!(
        route["brokerDatas"][0]["brokerAddrs"]["0"],
        s.broker.as_str()
    );
    let clusters: serde_json::Value =
        serde_json::from_str(&stdout(&admin(&["clusterList", "-n", ns, "--json"]))).unwrap();
    assert_eq!(
        clusters["brokers"][0]["runtime"]["brokerVersionDesc"],
        "V5_3_3"
    );
}

#[test]
fn the_next_namesrv_is_tried_when_one_cannot_be_reached() {
    let s = setup();
    let dead = closed_port();
    let list = format!("{dead};{}", s.ns);
    assert!(
        stdout(&admin(&["topicClusterList", "-t", "T1", "-n", &list])).contains("DefaultCluster")
    );
    // Commands for every NameServer report the one they could not reach.
    let out = admin(&["wipeWritePerm", "-b", "b1", "-n", &list]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("name server[{dead}] Failed")),
        "{text}"
    );
    assert!(
        text.contains(&format!("name server[{}] OK, 2", s.ns)),
        "{text}"
    );
}

fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    addr
}

#[test]
fn failures_are_one_line_naming_the_server() {
    let s = setup();
    let unknown = failure(&admin(&["topicRoute", "-t", "NOPE", "-n", &s.ns]));
    assert!(
        unknown.contains(&format!("{} answered CODE: 17 (TOPIC_NOT_EXIST)", s.ns)),
        "{unknown}"
    );

    let dead = closed_port();
    let refused = failure(&admin(&["topicList", "-n", &dead]));
    assert!(
        refused.contains(&format!("connect to {dead} failed")),
        "{refused}"
    );

    let none = failure(&admin(&["topicList"]));
    assert!(none.contains("NAMESRV_ADDR"), "{none}");
    let from_env = Command::new(admin_binary())
        .args(["topicClusterList", "-t", "T1"])
        .env("NAMESRV_ADDR", &s.ns)
        .output()
        .unwrap();
    assert_eq!(stdout(&from_env), "DefaultCluster\n");

    // Something that is not a NameServer: it answers with garbage and closes.
    let garbage = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let garbage_addr = garbage.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut conn in garbage.incoming().flatten() {
            let mut buf = [0u8; 256];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        }
    });
    let wrong = failure(&admin(&["topicList", "-n", &garbage_addr]));
    assert!(wrong.contains(&garbage_addr), "{wrong}");

    // A peer that accepts and never answers: bounded by --timeoutMillis.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap().to_string();
    let started = Instant::now();
    let slow = failure(&admin(&[
        "topicList",
        "-n",
        &silent_addr,
        "--timeoutMillis",
        "300",
    ]));
    println!("timed out after {:?}", started.elapsed());
    assert!(
        slow.contains("timed out") && slow.contains(&silent_addr),
        "{slow}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    drop(silent);
}

#[test]
fn bad_arguments_are_refused_before_anything_is_sent() {
    for args in [
        vec!["topicRoute"],
        vec!["updateKvConfig", "-s", "ns", "-k", "k"],
        vec!["noSuchCommand"],
        vec![
            "electMaster",
            "-a",
            "127.0.0.1:1",
            "-b",
            "x",
            "-bn",
            "b",
            "-c",
            "C",
        ],
        vec!["clusterList", "-i", "soon"],
    ] {
        let out = admin(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    let out = admin(&["cleanBrokerMetadata", "-a", "127.0.0.1:1", "-bn", "b"]);
    let err = failure(&out);
    assert!(err.contains("clusterName option can not be empty"), "{err}");
    let help = admin(&["topicRoute", "--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--topic"));
}

#[test]
fn command_names_match_mqadmin_in_any_case() {
    let s = setup();
    assert_eq!(
        stdout(&admin(&["TOPICCLUSTERLIST", "-t", "T1", "-n", &s.ns])),
        "DefaultCluster\n"
    );
}

/// Keeps the unused-import lint quiet where RemotingCommand is only a type.
#[allow(dead_code)]
fn _types(_: RemotingCommand) {}

/// Issue 25: the user and ACL commands, signed with credentials from the
/// environment or a tools.yml file (never argv); unsigned, they are refused.
#[test]
fn user_and_acl_commands_sign_with_credentials_from_env_or_file() {
    let store = tempfile::tempdir().unwrap();
    let store_path = store.path().join("auth.json");
    let server = InProcess::start(&[
        ("authenticationEnabled", "true"),
        ("authorizationEnabled", "true"),
        (
            "initAuthenticationUser",
            r#"{"username":"root","password":"root-pw"}"#,
        ),
        ("authStorePath", store_path.to_str().unwrap()),
    ]);
    let ns = server.addr.to_string();
    let signed = |args: &[&str]| {
        Command::new(admin_binary())
            .args(args)
            .env_remove("NAMESRV_ADDR")
            .env_remove("ROCKETMQ_HOME")
            .env("NAMESRV_ACCESS_KEY", "root")
            .env("NAMESRV_SECRET_KEY", "root-pw")
            .output()
            .unwrap()
    };
    let out = signed(&[
        "createUser",
        "-n",
        &ns,
        "-u",
        "alice",
        "-p",
        "alice-pw",
        "-t",
        "Normal",
    ]);
    assert!(stdout(&out).contains("create user to"), "{out:?}");
    let out = signed(&[
        "createAcl",
        "-n",
        &ns,
        "-s",
        "User:alice",
        "-r",
        "Topic:A,Group:G",
        "-a",
        "Pub,Sub",
        "-d",
        "Allow",
    ]);
    stdout(&out);
    let users = stdout(&signed(&["listUser", "-n", &ns]));
    assert!(users.contains("alice") && users.contains("root"), "{users}");
    let acl = stdout(&signed(&[
        "getAcl",
        "-b",
        &ns,
        "-s",
        "User:alice",
        "--json",
    ]));
    let acl: serde_json::Value = serde_json::from_str(&acl).unwrap();
    assert_eq!(acl["policies"][0]["entries"].as_array().unwrap().len(), 2);

    // From a tools.yml file, as mqadmin reads it.
    let yml = store.path().join("tools.yml");
    std::fs::write(&yml, "accessKey: alice\nsecretKey: alice-pw\n").unwrap();
    let out = admin(&[
        "topicRoute",
        "-n",
        &ns,
        "-t",
        "A",
        "--credentials",
        yml.to_str().unwrap(),
    ]);
    let err = failure(&out);
    assert!(
        err.contains("17") || err.contains("No topic route"),
        "{err}"
    );
    let out = admin(&[
        "listUser",
        "-n",
        &ns,
        "--credentials",
        yml.to_str().unwrap(),
    ]);
    assert!(failure(&out).contains("only super users may"));
    // Unsigned: refused, nothing created.
    let out = admin(&["createUser", "-n", &ns, "-u", "mallory", "-p", "x"]);
    assert!(failure(&out).contains("username cannot be null."));
    assert!(!stdout(&signed(&["listUser", "-n", &ns])).contains("mallory"));
    // A named file that does not hold both keys is an error, not "unsigned".
    std::fs::write(&yml, "accessKey: alice\n").unwrap();
    let out = admin(&[
        "listUser",
        "-n",
        &ns,
        "--credentials",
        yml.to_str().unwrap(),
    ]);
    assert!(failure(&out).contains("no accessKey and secretKey"));
}
