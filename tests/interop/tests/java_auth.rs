//! Issue 25 with the peers RocketMQ users run, all from Maven Central's
//! 5.5.0 release: our NameServer with authentication and authorization on;
//! a 5.5.0 broker signing with `innerClientAuthenticationCredentials`
//! registers; 5.5.0 `mqadmin` with `conf/tools.yml` creates a user and its
//! ACL on ours (`createUser`/`createAcl -b <namesrv>`) and runs NameServer
//! commands; a producer and consumer with `AclClientRPCHook` as that user
//! get the routes their ACL allows and send and receive through them; the
//! same commands without credentials are refused; and a 4.9.7 broker, which
//! cannot sign, registers only from a whitelisted address.

use std::path::Path;
use std::time::Duration;

use namesrv::auth::signature::sign_request;
use namesrv_interop::*;

const CLUSTER: &str = "AuthCluster";
const BROKER: &str = "authb";
const TOPIC: &str = "AclTopic";
const OTHER: &str = "OtherTopic";
const GROUP: &str = "AclGroup";
const LOCAL_AUTHN: &str =
    "org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider";
const LOCAL_AUTHZ: &str =
    "org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider";
const ROOT: (&str, &str) = ("root", "root-secret-12");
const INNER: (&str, &str) = ("broker-inner", "inner-secret-12");
const APP: (&str, &str) = ("app", "app-secret-12");

fn signed_call(
    ns: &Namesrv,
    mut cmd: namesrv::remoting::RemotingCommand,
) -> namesrv::remoting::RemotingCommand {
    let body = cmd.body.clone();
    sign_request(&mut cmd.ext_fields, &body, ROOT.0, ROOT.1);
    ns.call(cmd)
}

fn tools_home(dir: &Path, credentials: Option<(&str, &str)>) -> std::path::PathBuf {
    let home = dir.to_path_buf();
    std::fs::create_dir_all(home.join("conf")).unwrap();
    if let Some((ak, sk)) = credentials {
        std::fs::write(
            home.join("conf/tools.yml"),
            format!("accessKey: {ak}\nsecretKey: {sk}\n"),
        )
        .unwrap();
    }
    home
}

/// 5.5.0 mqadmin with `home/conf/tools.yml` (when present) as its
/// credentials: `rocketmq.home.dir` points the tool at it.
fn mqadmin_in(home: &Path, args: &[&str]) -> ToolOutput {
    let home_dir = home.to_str().unwrap();
    mqadmin_with(
        JavaVersion::V5_5_0,
        home,
        &[("rocketmq.home.dir", home_dir)],
        args,
    )
}

fn ok(out: &ToolOutput, what: &str) -> String {
    assert!(
        out.status.success() && !out.stdout.contains("Exception"),
        "{what}: {}\n{}",
        out.stdout,
        out.stderr
    );
    out.stdout.clone()
}

#[test]
fn java_peers_with_credentials_work_and_without_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("auth.json");
    let init = format!(r#"{{"username":"{}","password":"{}"}}"#, ROOT.0, ROOT.1);
    let inner = format!(r#"{{"accessKey":"{}","secretKey":"{}"}}"#, INNER.0, INNER.1);
    let ours = Namesrv::start(
        &dir.path().join("ours"),
        &[
            ("authenticationEnabled", "true"),
            ("authorizationEnabled", "true"),
            ("initAuthenticationUser", &init),
            ("innerClientAuthenticationCredentials", &inner),
            ("authStorePath", store.to_str().unwrap()),
        ],
    );
    let ns = ours.addr_string();

    // The broker signs its registrations with its inner credentials.
    let broker = JavaBroker::start(
        &dir.path().join("broker"),
        JavaBrokerConf {
            version: JavaVersion::V5_5_0,
            cluster: CLUSTER,
            name: BROKER,
            id: 0,
            role: "ASYNC_MASTER",
            namesrv: &ns,
            extra: &[
                ("autoCreateTopicEnable", "false"),
                ("innerClientAuthenticationCredentials", &inner),
                // The broker makes the inner user in a local store of its
                // own at start, and refuses to start without one.
                ("authenticationMetadataProvider", LOCAL_AUTHN),
                ("authorizationMetadataProvider", LOCAL_AUTHZ),
            ],
        },
    );
    wait_for(
        Duration::from_secs(90),
        "the signing 5.5.0 broker registered with ours",
        || {
            let info = signed_call(&ours, request(106, &[]));
            info.code == 0
                && namesrv::json::read::parse(&info.body).unwrap()["brokerAddrTable"][BROKER]
                    ["brokerAddrs"]["0"]
                    == broker.addr.as_str()
        },
    );

    // mqadmin as root (tools.yml): topics on the broker, a user and its ACL
    // on ours, and NameServer commands.
    let root_home = tools_home(&dir.path().join("admin-root"), Some(ROOT));
    for topic in [TOPIC, OTHER] {
        ok(
            &mqadmin_in(
                &root_home,
                &["updateTopic", "-n", &ns, "-c", CLUSTER, "-t", topic],
            ),
            "updateTopic",
        );
    }
    ok(
        &mqadmin_in(
            &root_home,
            &[
                "createUser",
                "-b",
                &ns,
                "-u",
                APP.0,
                "-p",
                APP.1,
                "-t",
                "Normal",
            ],
        ),
        "createUser",
    );
    let resources = format!("Topic:{TOPIC},Group:{GROUP}");
    ok(
        &mqadmin_in(
            &root_home,
            &[
                "createAcl",
                "-b",
                &ns,
                "-s",
                "User:app",
                "-r",
                &resources,
                "-a",
                "Pub,Sub,Get",
                "-d",
                "Allow",
            ],
        ),
        "createAcl",
    );
    let users = ok(
        &mqadmin_in(&root_home, &["listUser", "-b", &ns]),
        "listUser",
    );
    assert!(users.contains(APP.0) && users.contains(ROOT.0), "{users}");
    let acl = ok(
        &mqadmin_in(&root_home, &["getAcl", "-b", &ns, "-s", "User:app"]),
        "getAcl",
    );
    assert!(acl.contains(&format!("Topic:{TOPIC}")), "{acl}");
    let route = ok(
        &mqadmin_in(&root_home, &["topicRoute", "-n", &ns, "-t", TOPIC]),
        "topicRoute",
    );
    assert!(route.contains(BROKER), "{route}");
    ok(
        &mqadmin_in(
            &root_home,
            &[
                "updateKvConfig",
                "-n",
                &ns,
                "-s",
                "ns",
                "-k",
                "k",
                "-v",
                "v",
            ],
        ),
        "updateKvConfig",
    );

    // Without credentials the same tool is refused, and changes nothing.
    let anonymous = tools_home(&dir.path().join("admin-anon"), None);
    let refused = mqadmin_in(
        &anonymous,
        &[
            "updateKvConfig",
            "-n",
            &ns,
            "-s",
            "ns",
            "-k",
            "k",
            "-v",
            "forged",
        ],
    );
    let said = format!("{}{}", refused.stdout, refused.stderr);
    assert!(said.contains("username cannot be null"), "{said}");
    let kv = signed_call(&ours, request(101, &[("namespace", "ns"), ("key", "k")]));
    assert_eq!(kv.ext_fields.get("value").map(String::as_str), Some("v"));

    // The application's producer and consumer, signing as `app`.
    let out = acl_client(&dir.path().join("app"), &ns, APP, TOPIC, GROUP, 5, 60);
    assert!(
        out.status.success() && out.stdout.contains("RECEIVED 5"),
        "AclClient: {}\n{}",
        out.stdout,
        out.stderr
    );
    // Its ACL names no other topic: no route for it.
    let denied = acl_client(&dir.path().join("app-other"), &ns, APP, OTHER, GROUP, 1, 20);
    assert!(!denied.status.success(), "{}", denied.stdout);
    let said = format!("{}{}", denied.stdout, denied.stderr);
    assert!(
        said.contains("No route info") || said.contains("no permission"),
        "{said}"
    );
}

#[test]
fn a_broker_that_cannot_sign_registers_from_a_whitelisted_address_only() {
    let dir = tempfile::tempdir().unwrap();
    let init = format!(r#"{{"username":"{}","password":"{}"}}"#, ROOT.0, ROOT.1);
    let start = |name: &str, whitelist: &str| {
        Namesrv::start(
            &dir.path().join(name),
            &[
                ("authenticationEnabled", "true"),
                ("authorizationEnabled", "true"),
                ("initAuthenticationUser", &init),
                ("authenticationSourceWhitelist", whitelist),
                (
                    "authStorePath",
                    dir.path().join(format!("{name}.json")).to_str().unwrap(),
                ),
            ],
        )
    };
    let allowed = start("allowed", "127.0.0.0/8");
    let other = start("other", "10.0.0.0/8");
    let both = format!("{};{}", allowed.addr_string(), other.addr_string());
    let broker = JavaBroker::start(
        &dir.path().join("broker"),
        JavaBrokerConf {
            version: JavaVersion::V4_9_7,
            cluster: CLUSTER,
            name: BROKER,
            id: 0,
            role: "ASYNC_MASTER",
            namesrv: &both,
            extra: &[],
        },
    );
    wait_for(
        Duration::from_secs(90),
        "the 4.9.7 broker registered from the whitelisted address",
        || {
            cluster_info(allowed.addr)["brokerAddrTable"][BROKER]["brokerAddrs"]["0"]
                == broker.addr.as_str()
        },
    );
    // The broker registers with both in the same round.
    wait_for(
        Duration::from_secs(30),
        "the other NameServer's refusal in its audit log",
        || other.log().contains("username cannot be null."),
    );
    let info = signed_call(&other, request(106, &[]));
    assert_eq!(info.code, 0);
    let table = namesrv::json::read::parse(&info.body).unwrap();
    assert!(
        table["brokerAddrTable"][BROKER].is_null(),
        "registered without a signature from outside the whitelist: {table}"
    );
}
