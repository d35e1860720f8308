//! The Go client (github.com/apache/rocketmq-client-go/v2 v2.1.2, the program
//! in tests/interop-go) with a Java 5.5.0 broker registered with our
//! NameServer: its send to a topic nobody created fails fast, its admin API
//! creates a topic that our routes then carry, its producer gets SEND_OK from
//! the broker through our NameServer and its push consumer receives that
//! message.
//!
//! The broker runs with `autoCreateTopicEnable=false`: with auto-creation on,
//! the broker registers the default topic TBW102, and the Go producer (like
//! Java's) sends to an unknown topic through TBW102's route, so the broker
//! creates the topic and the send succeeds; the fast failure is the case
//! where no route exists, not even the default one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use namesrv_interop::*;

/// The Go program: `$GO_CLIENT_BIN` (scripts/interop.sh builds it), else
/// `go build` of tests/interop-go into `dir`.
fn go_client_bin(dir: &Path) -> PathBuf {
    if let Some(bin) = std::env::var_os("GO_CLIENT_BIN") {
        return PathBuf::from(bin);
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop-go");
    let bin = dir.join("interop-go");
    let out = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&bin)
        .arg(".")
        .current_dir(&src)
        .output()
        .expect("run `go build` (is Go on PATH?)");
    assert!(
        out.status.success(),
        "go build of {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

/// One run of the Go program: its exit status, its answer (stdout, one JSON
/// line) and its logs (stderr). The program bounds itself (`-deadline`).
struct GoRun {
    success: bool,
    answer: serde_json::Value,
    stdout: String,
    stderr: String,
}

fn go(bin: &Path, args: &[&str]) -> GoRun {
    go_as(bin, None, args)
}

/// As [`go`], signing with `credentials` (passed in the environment).
fn go_as(bin: &Path, credentials: Option<(&str, &str)>, args: &[&str]) -> GoRun {
    let mut cmd = Command::new(bin);
    if let Some((ak, sk)) = credentials {
        cmd.env("ROCKETMQ_ACCESS_KEY", ak)
            .env("ROCKETMQ_SECRET_KEY", sk);
    }
    let out = cmd
        .args(args)
        .args(["-deadline", "150s"])
        .env("ROCKETMQ_GO_LOG_LEVEL", "warn")
        .output()
        .expect("cannot start the Go client");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    println!("go {args:?} -> {}: {}", out.status, stdout.trim());
    let answer = serde_json::from_str(stdout.trim()).unwrap_or(serde_json::Value::Null);
    GoRun {
        success: out.status.success(),
        answer,
        stdout,
        stderr,
    }
}

impl GoRun {
    fn ok(self, what: &str) -> serde_json::Value {
        assert!(
            self.success && self.answer.is_object(),
            "Go client {what} failed\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self.answer
    }
}

#[test]
fn go_client_routes_through_namesrv_to_a_java_5_5_0_broker() {
    let dir = tempfile::tempdir().unwrap();
    let bin = go_client_bin(dir.path());
    let namesrv = Namesrv::start(&dir.path().join("namesrv"), &[]);
    let ns = namesrv.addr_string();
    let broker = JavaBroker::start(
        &dir.path().join("broker"),
        JavaBrokerConf {
            version: JavaVersion::V5_5_0,
            cluster: "GoCluster",
            name: "go-broker",
            id: 0,
            role: "ASYNC_MASTER",
            namesrv: &ns,
            extra: &[("autoCreateTopicEnable", "false")],
        },
    );
    wait_for(
        Duration::from_secs(60),
        "the broker routed by namesrv",
        || namesrv.route_code("go-broker") == 0,
    );
    // No default route: the broker registered no TBW102.
    assert_eq!(namesrv.route_code("TBW102"), 17, "TBW102 is routed");

    // A send to a topic nobody created: namesrv answers TOPIC_NOT_EXIST for
    // it and for TBW102, and the producer gives up without a broker to try.
    let unknown = "GoInteropNoSuchTopic";
    let bound_ms = 10_000;
    let sent = go(
        &bin,
        &[
            "send-unknown",
            "-namesrv",
            &ns,
            "-topic",
            unknown,
            "-bound",
            &format!("{bound_ms}ms"),
        ],
    )
    .ok("send-unknown");
    assert_eq!(sent["failed"], true, "{sent}");
    let fail_ms = sent["millis"].as_u64().unwrap();
    assert!(fail_ms < bound_ms, "failed after {fail_ms} ms: {sent}");
    let error = sent["error"].as_str().unwrap();
    assert!(
        error.contains("route info not found"),
        "not a missing route: {error}"
    );
    // The failure is namesrv's answer, not an unreachable server.
    assert_eq!(
        sent["namesrvAnswers"],
        serde_json::json!({ unknown: "TOPIC_NOT_EXIST", "TBW102": "TOPIC_NOT_EXIST" }),
        "{sent}"
    );
    println!("send to {unknown} failed in {fail_ms} ms: {error}");
    assert_eq!(namesrv.route_code(unknown), 17);

    // The admin API creates a topic on the broker (3 queues, not the Go
    // default of 8); the broker registers it and our routes carry it.
    let topic = "GoInteropTopic";
    let created = go(
        &bin,
        &[
            "create-topic",
            "-namesrv",
            &ns,
            "-broker",
            &broker.addr,
            "-topic",
            topic,
            "-queues",
            "3",
        ],
    )
    .ok("create-topic");
    assert_eq!(created["publishQueues"], 3, "{created}");
    assert_eq!(created["brokerNames"], serde_json::json!(["go-broker"]));
    let route = Observed::from_answer(&raw_call(namesrv.addr, request(105, &[("topic", topic)])));
    assert_eq!(route.code, 0, "{topic} not routed: {:?}", route.remark);
    let route = route.json();
    println!("route of {topic}: {route}");
    let brokers = route["brokerDatas"].as_array().unwrap();
    assert_eq!(brokers.len(), 1, "{route}");
    assert_eq!(brokers[0]["brokerName"], "go-broker");
    assert_eq!(brokers[0]["cluster"], "GoCluster");
    assert_eq!(brokers[0]["brokerAddrs"]["0"], broker.addr.as_str());
    let queues = route["queueDatas"].as_array().unwrap();
    assert_eq!(queues.len(), 1, "{route}");
    assert_eq!(queues[0]["brokerName"], "go-broker");
    assert_eq!(queues[0]["readQueueNums"], 3);
    assert_eq!(queues[0]["writeQueueNums"], 3);
    assert_eq!(queues[0]["perm"], 6);

    // The producer sends to it through namesrv: SEND_OK from the broker.
    let body = format!(
        "go-interop-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let produced = go(
        &bin,
        &["produce", "-namesrv", &ns, "-topic", topic, "-body", &body],
    )
    .ok("produce");
    assert_eq!(produced["status"], "SEND_OK", "{produced}");
    assert_eq!(produced["topic"], topic);
    assert_eq!(produced["brokerName"], "go-broker");
    assert!(produced["queueId"].as_u64().unwrap() < 3, "{produced}");

    // The push consumer, routed by namesrv too, receives that message.
    let consumed = go(
        &bin,
        &[
            "consume",
            "-namesrv",
            &ns,
            "-topic",
            topic,
            "-body",
            &body,
            "-group",
            "GoInteropConsumer",
            "-timeout",
            "90s",
        ],
    )
    .ok("consume");
    assert_eq!(consumed["body"], body.as_str(), "{consumed}");
    assert_eq!(consumed["msgId"], produced["msgId"]);
    assert_eq!(consumed["topic"], topic);
    assert_eq!(consumed["brokerName"], "go-broker");
    assert_eq!(consumed["queueId"], produced["queueId"]);
    assert_eq!(consumed["queueOffset"], produced["queueOffset"]);
    assert_eq!(consumed["storeHost"], broker.addr.as_str());
    println!(
        "Go client through namesrv: SEND_OK on queue {} offset {}, consumed after {} ms",
        produced["queueId"], produced["queueOffset"], consumed["millis"]
    );
}

/// Issue 24 item 3: the Go client given only the address server's URL (its
/// HTTP resolver, no NameServer address) finds our NameServer through
/// `/rocketmq/nsaddr` and gets its answers.
#[test]
fn go_client_finds_namesrv_through_the_address_server() {
    let dir = tempfile::tempdir().unwrap();
    let bin = go_client_bin(dir.path());
    let namesrv = Namesrv::start_with_http(&dir.path().join("ns"), &[]);
    let http = namesrv.http.expect("HTTP listener");
    let url = format!("http://{http}/rocketmq/nsaddr");
    let unknown = "GoResolverNoSuchTopic";
    let sent = go(
        &bin,
        &[
            "send-unknown",
            "-nsdomain",
            &url,
            "-topic",
            unknown,
            "-bound",
            "10000ms",
        ],
    )
    .ok("send-unknown through the HTTP resolver");
    assert_eq!(sent["failed"], true, "{sent}");
    // The answers came from our NameServer, found through the resolver.
    assert_eq!(
        sent["namesrvAnswers"],
        serde_json::json!({ unknown: "TOPIC_NOT_EXIST", "TBW102": "TOPIC_NOT_EXIST" }),
        "{sent}"
    );
}

/// Issue 25: the Go client with `Credentials` on a NameServer that checks
/// them: a user whose ACL allows the topic produces and consumes; with a
/// wrong secret it gets no route.
#[test]
fn go_client_with_credentials_produces_and_consumes_on_an_authenticating_namesrv() {
    use namesrv::auth::signature::sign_request;
    const ROOT: (&str, &str) = ("root", "go-root-secret");
    const APP: (&str, &str) = ("goapp", "go-app-secret");
    let dir = tempfile::tempdir().unwrap();
    let bin = go_client_bin(dir.path());
    let init = format!(r#"{{"username":"{}","password":"{}"}}"#, ROOT.0, ROOT.1);
    let inner = r#"{"accessKey":"go-inner","secretKey":"go-inner-secret"}"#;
    let store = dir.path().join("auth.json");
    let namesrv = Namesrv::start(
        &dir.path().join("namesrv"),
        &[
            ("authenticationEnabled", "true"),
            ("authorizationEnabled", "true"),
            ("initAuthenticationUser", &init),
            ("innerClientAuthenticationCredentials", inner),
            ("authStorePath", store.to_str().unwrap()),
        ],
    );
    let root_call = |mut cmd: namesrv::remoting::RemotingCommand| {
        let body = cmd.body.clone();
        sign_request(&mut cmd.ext_fields, &body, ROOT.0, ROOT.1);
        namesrv.call(cmd)
    };
    let ns = namesrv.addr_string();
    // Serves the topic for the rest of the test.
    let _broker = JavaBroker::start(
        &dir.path().join("broker"),
        JavaBrokerConf {
            version: JavaVersion::V5_5_0,
            cluster: "GoAuthCluster",
            name: "go-auth-broker",
            id: 0,
            role: "ASYNC_MASTER",
            namesrv: &ns,
            extra: &[
                ("autoCreateTopicEnable", "false"),
                ("innerClientAuthenticationCredentials", inner),
                // The broker keeps the inner user in a local store of its own.
                (
                    "authenticationMetadataProvider",
                    "org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider",
                ),
                (
                    "authorizationMetadataProvider",
                    "org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider",
                ),
            ],
        },
    );
    wait_for(Duration::from_secs(60), "the signing broker routed", || {
        root_call(request(105, &[("topic", "go-auth-broker")])).code == 0
    });
    let topic = "GoAuthTopic";
    // The Go admin API (v2.1.2) sends its route queries unsigned even with
    // `admin.WithCredentials`, so the topic is made with Java's mqadmin,
    // signing with tools.yml.
    let home = dir.path().join("mqadmin");
    std::fs::create_dir_all(home.join("conf")).unwrap();
    std::fs::write(
        home.join("conf/tools.yml"),
        format!("accessKey: {}\nsecretKey: {}\n", ROOT.0, ROOT.1),
    )
    .unwrap();
    let made = mqadmin_with(
        JavaVersion::V5_5_0,
        &home,
        &[("rocketmq.home.dir", home.to_str().unwrap())],
        &["updateTopic", "-n", &ns, "-c", "GoAuthCluster", "-t", topic],
    );
    assert!(made.status.success(), "{}\n{}", made.stdout, made.stderr);
    wait_for(Duration::from_secs(60), "the topic routed", || {
        root_call(request(105, &[("topic", topic)])).code == 0
    });
    let mut user = request(3001, &[("username", APP.0)]);
    user.body = format!(r#"{{"username":"{}","password":"{}"}}"#, APP.0, APP.1)
        .into_bytes()
        .into();
    assert_eq!(root_call(user).code, 0);
    let mut acl = request(3006, &[("subject", "User:goapp")]);
    acl.body = format!(
        r#"{{"subject":"User:goapp","policies":[{{"policyType":"Custom","entries":[{{"resource":"Topic:{topic}","actions":["Pub","Sub"],"decision":"Allow"}},{{"resource":"Group:*","actions":["Sub"],"decision":"Allow"}}]}}]}}"#
    )
    .into_bytes()
    .into();
    assert_eq!(root_call(acl).code, 0);

    let body = "signed by the Go client";
    let sent = go_as(
        &bin,
        Some(APP),
        &["produce", "-namesrv", &ns, "-topic", topic, "-body", body],
    )
    .ok("produce");
    assert_eq!(sent["status"], "SEND_OK", "{sent}");
    let got = go_as(
        &bin,
        Some(APP),
        &[
            "consume", "-namesrv", &ns, "-topic", topic, "-body", body, "-timeout", "90s",
        ],
    )
    .ok("consume");
    assert_eq!(got["body"], body, "{got}");

    let forged = go_as(
        &bin,
        Some((APP.0, "not-the-secret")),
        &["produce", "-namesrv", &ns, "-topic", topic, "-body", body],
    );
    assert!(
        !forged.success,
        "a wrong secret produced: {}",
        forged.stdout
    );
}
