//! Authentication and authorization (issue 25) over TCP: signed requests
//! as RocketMQ's clients sign them, the Auth 2.0 admin codes, refusals
//! that change nothing, the source whitelist, and users kept across a
//! restart.

mod common;

use common::*;
use namesrv::auth::signature::sign_request;
use namesrv::remoting::RemotingCommand;
use serde_json::json;

const ROOT: (&str, &str) = ("root", "root-secret-1");

fn signed(mut cmd: RemotingCommand, (ak, sk): (&str, &str)) -> RemotingCommand {
    let body = cmd.body.clone();
    sign_request(&mut cmd.ext_fields, &body, ak, sk);
    cmd
}

fn with_body(mut cmd: RemotingCommand, body: serde_json::Value) -> RemotingCommand {
    cmd.body = serde_json::to_vec(&body).unwrap().into();
    cmd
}

fn start(store: &std::path::Path, extra: &[(&str, &str)]) -> InProcess {
    let store = store.join("auth.json");
    let store = store.to_str().unwrap().to_string();
    let init = format!(r#"{{"username":"{}","password":"{}"}}"#, ROOT.0, ROOT.1);
    let mut props = vec![
        ("authenticationEnabled", "true"),
        ("authorizationEnabled", "true"),
        ("initAuthenticationUser", init.as_str()),
        ("authStorePath", store.as_str()),
    ];
    props.extend_from_slice(extra);
    InProcess::start(&props)
}

fn create_user(c: &mut Client, name: &str, secret: &str) {
    let req = with_body(
        request(3001, &[("username", name)]),
        json!({"username": name, "password": secret, "userType": "Normal"}),
    );
    let resp = c.call(signed(req, ROOT));
    assert_eq!((resp.code, resp.remark), (0, None));
}

fn put_acl(c: &mut Client, user: &str, entries: serde_json::Value) {
    let subject = format!("User:{user}");
    let req = with_body(
        request(3006, &[("subject", &subject)]),
        json!({"subject": subject, "policies": [{"policyType": "Custom", "entries": entries}]}),
    );
    let resp = c.call(signed(req, ROOT));
    assert_eq!((resp.code, resp.remark), (0, None));
}

fn register_a_and_b(c: &mut Client) {
    let req = register_request(
        "broker-a",
        0,
        "127.0.0.1:10911",
        register_body(1, &["A", "B"]),
    );
    let resp = c.call(signed(req, ROOT));
    assert_eq!((resp.code, resp.remark), (0, None));
}

fn refused(resp: &RemotingCommand) -> &str {
    assert_eq!(resp.code, 16, "{:?}", resp.remark);
    resp.remark.as_deref().unwrap_or_default()
}

#[test]
fn unsigned_unknown_and_forged_requests_are_refused_with_javas_remarks() {
    let store = tempfile::tempdir().unwrap();
    let server = start(store.path(), &[]);
    let mut c = server.client();
    assert_eq!(
        refused(&c.call(route_request("A"))),
        "username cannot be null."
    );
    let stranger = c.call(signed(route_request("A"), ("nobody", "x")));
    assert_eq!(refused(&stranger), "User:nobody is not found.");
    let wrong = c.call(signed(route_request("A"), (ROOT.0, "not-the-secret")));
    assert_eq!(refused(&wrong), "check signature failed.");

    // A captured signature does not carry over to other header values or
    // another body.
    register_a_and_b(&mut c);
    let good = signed(route_request("A"), ROOT);
    assert_eq!(c.call(good.clone()).code, 0);
    let mut other_topic = good.clone();
    other_topic.ext_fields.insert("topic".into(), "B".into());
    assert_eq!(refused(&c.call(other_topic)), "check signature failed.");
    let kv = signed(
        request(100, &[("namespace", "ns"), ("key", "k"), ("value", "v")]),
        ROOT,
    );
    let mut other_body = kv.clone();
    other_body
        .ext_fields
        .insert("value".into(), "forged".into());
    assert_eq!(refused(&c.call(other_body)), "check signature failed.");
    let mut reg = signed(
        register_request("broker-a", 0, "127.0.0.1:10911", register_body(2, &["A"])),
        ROOT,
    );
    reg.body = register_body(2, &["A", "EVIL"]).into();
    assert_eq!(refused(&c.call(reg)), "check signature failed.");
    let route = c.call(signed(route_request("EVIL"), ROOT));
    assert_eq!(route.code, 17, "the forged registration changed nothing");

    // A one-way request that is refused gets no answer, and the
    // connection carries on.
    let mut oneway = request(100, &[("namespace", "ns"), ("key", "k"), ("value", "v")]);
    oneway.flag |= 2;
    c.send(&oneway);
    assert_eq!(c.call(signed(route_request("A"), ROOT)).code, 0);
}

#[test]
fn a_normal_user_gets_the_routes_its_acl_allows_and_deny_beats_allow() {
    let store = tempfile::tempdir().unwrap();
    let server = start(store.path(), &[]);
    let mut c = server.client();
    register_a_and_b(&mut c);
    create_user(&mut c, "alice", "alice-secret");
    put_acl(
        &mut c,
        "alice",
        json!([{"resource": "Topic:A", "actions": ["Pub"], "decision": "Allow"}]),
    );
    let alice = ("alice", "alice-secret");
    assert_eq!(c.call(signed(route_request("A"), alice)).code, 0);
    let b = c.call(signed(route_request("B"), alice));
    assert!(
        refused(&b).starts_with("User:alice has no permission to access Topic:B from 127.0.0.1"),
        "{b:?}"
    );

    create_user(&mut c, "bob", "bob-secret");
    put_acl(
        &mut c,
        "bob",
        json!([
            {"resource": "Topic:*", "actions": ["Sub"], "decision": "Allow"},
            {"resource": "Topic:B", "actions": ["Pub", "Sub", "Get"], "decision": "Deny"},
        ]),
    );
    let bob = ("bob", "bob-secret");
    assert_eq!(c.call(signed(route_request("A"), bob)).code, 0);
    assert!(refused(&c.call(signed(route_request("B"), bob))).contains("the decision is deny"));

    // The NameServer's own tables are changed by super users only.
    let put = signed(
        request(100, &[("namespace", "ns"), ("key", "k"), ("value", "v")]),
        alice,
    );
    assert!(refused(&c.call(put)).contains("only super users may"));
    let get = c.call(signed(
        request(101, &[("namespace", "ns"), ("key", "k")]),
        ROOT,
    ));
    assert_eq!(get.code, 22, "alice's PUT_KV_CONFIG stored nothing");
    let list = c.call(signed(request(3005, &[]), alice));
    assert!(refused(&list).contains("only super users may"));
}

/// Every state-changing code, unsigned or signed by a normal user, is
/// refused and changes nothing a super user can see.
#[test]
fn refused_state_changes_change_nothing() {
    let store = tempfile::tempdir().unwrap();
    let server = start(store.path(), &[]);
    let mut c = server.client();
    register_a_and_b(&mut c);
    create_user(&mut c, "alice", "alice-secret");
    let view = |c: &mut Client| {
        let calls = [
            request(106, &[]),
            route_request("A"),
            request(219, &[("namespace", "ns")]),
            request(319, &[]),
            request(3005, &[]),
            request(3010, &[]),
        ];
        calls
            .into_iter()
            .map(|req| {
                let resp = c.call(signed(req, ROOT));
                (resp.code, resp.remark, resp.body.to_vec())
            })
            .collect::<Vec<_>>()
    };
    let before = view(&mut c);
    let attempts = [
        request(100, &[("namespace", "ns"), ("key", "k"), ("value", "v")]),
        request(102, &[("namespace", "ns"), ("key", "k")]),
        register_request("broker-x", 0, "127.0.0.1:20911", register_body(1, &["X"])),
        request(
            104,
            &[
                ("brokerName", "broker-a"),
                ("brokerAddr", "127.0.0.1:10911"),
                ("clusterName", "DefaultCluster"),
                ("brokerId", "0"),
            ],
        ),
        request(205, &[("brokerName", "broker-a")]),
        request(327, &[("brokerName", "broker-a")]),
        request(216, &[("topic", "A")]),
        request(217, &[("topic", "Y"), ("brokerName", "broker-a")]),
        with_body(request(318, &[]), json!("listenPort=1")),
        with_body(
            request(3001, &[("username", "mallory")]),
            json!({"username": "mallory", "password": "m", "userType": "Super"}),
        ),
        request(3003, &[("username", "root")]),
        request(3008, &[("subject", "User:alice")]),
    ];
    for attempt in attempts {
        let code = attempt.code;
        let unsigned = c.call(attempt.clone());
        assert_eq!(unsigned.code, 16, "unsigned {code}: {:?}", unsigned.remark);
        let by_alice = c.call(signed(attempt, ("alice", "alice-secret")));
        assert_eq!(by_alice.code, 16, "alice's {code}: {:?}", by_alice.remark);
    }
    assert_eq!(view(&mut c), before);
}

#[test]
fn brokers_from_whitelisted_sources_need_no_signature() {
    let store = tempfile::tempdir().unwrap();
    let server = start(
        store.path(),
        &[("authenticationSourceWhitelist", "10.0.0.0/8, 127.0.0.1/32")],
    );
    let mut c = server.client();
    let req = register_request(
        "broker-a",
        0,
        "127.0.0.1:10911",
        register_body(1, &["A", "B"]),
    );
    assert_eq!(c.call(req).code, 0);
    assert_eq!(c.call(route_request("A")).code, 0);

    let elsewhere = start(
        tempfile::tempdir().unwrap().path(),
        &[("authenticationSourceWhitelist", "10.0.0.0/8")],
    );
    let mut c = elsewhere.client();
    let req = register_request(
        "broker-a",
        0,
        "127.0.0.1:10911",
        register_body(1, &["A", "B"]),
    );
    assert_eq!(refused(&c.call(req)), "username cannot be null.");
}

#[test]
fn users_and_acls_survive_a_restart_and_admin_codes_answer_as_javas() {
    let store = tempfile::tempdir().unwrap();
    {
        let server = start(store.path(), &[]);
        let mut c = server.client();
        create_user(&mut c, "alice", "alice-secret");
        put_acl(
            &mut c,
            "alice",
            json!([{"resource": "Topic:A", "actions": ["Pub"], "decision": "Allow"}]),
        );
        let again = with_body(
            request(3001, &[("username", "alice")]),
            json!({"username": "alice", "password": "x"}),
        );
        assert_eq!(refused(&c.call(signed(again, ROOT))), "The user is existed");
        let blank = with_body(
            request(3001, &[("username", " ")]),
            json!({"password": "x"}),
        );
        let blank = c.call(signed(blank, ROOT));
        assert_eq!(
            (blank.code, blank.remark.as_deref()),
            (29, Some("The username is blank"))
        );
    }
    let server = start(store.path(), &[]);
    let mut c = server.client();
    let user = c.call(signed(request(3004, &[("username", "alice")]), ROOT));
    assert_eq!(user.code, 0);
    assert_eq!(json(&user.body)["userType"], "Normal");
    let users = c.call(signed(request(3005, &[]), ROOT));
    let names: Vec<String> = json(&users.body)
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"alice".to_string()) && names.contains(&"root".to_string()));
    let acl = c.call(signed(request(3009, &[("subject", "User:alice")]), ROOT));
    assert_eq!(acl.code, 0);
    assert_eq!(
        json(&acl.body)["policies"][0]["entries"][0]["resource"],
        "Topic:A"
    );
    // A resource that does not parse is refused, not read as "all of it".
    let bad = c.call(signed(
        request(3008, &[("subject", "User:alice"), ("resource", "Topic")]),
        ROOT,
    ));
    assert_ne!(bad.code, 0);
    let acl = c.call(signed(request(3009, &[("subject", "User:alice")]), ROOT));
    assert_eq!(acl.code, 0, "the ACL is still there");
    let deleted = c.call(signed(request(3003, &[("username", "alice")]), ROOT));
    assert_eq!(deleted.code, 0);
    let gone = c.call(signed(request(3004, &[("username", "alice")]), ROOT));
    assert_eq!((gone.code, gone.body.len()), (0, 0));
}

#[test]
fn without_the_keys_nothing_is_checked() {
    let server = InProcess::start(&[]);
    let mut c = server.client();
    let req = register_request(
        "broker-a",
        0,
        "127.0.0.1:10911",
        register_body(1, &["A", "B"]),
    );
    assert_eq!(c.call(req).code, 0);
    let put = c.call(request(
        100,
        &[("namespace", "ns"), ("key", "k"), ("value", "v")],
    ));
    assert_eq!(put.code, 0);
}

/// Sends a GET with `Authorization: Basic <user:password>` when given;
/// returns the status and the `WWW-Authenticate` header.
fn http_basic(port: u16, path: &str, user: Option<(&str, &str)>) -> (u16, Option<String>, String) {
    use base64::Engine;
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let auth = user.map_or(String::new(), |(u, p)| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        format!("Authorization: Basic {token}\r\n")
    });
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let challenge = raw
        .lines()
        .find_map(|l| l.strip_prefix("www-authenticate: "))
        .map(str::to_string);
    let body = raw
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, challenge, body)
}

#[test]
fn the_http_api_and_page_need_a_user_and_probes_stay_open() {
    let store = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let server = start(store.path(), &[("httpListenPort", port.as_str())]);
    let http = server.http.expect("the HTTP listener").port();
    for path in ["/", "/api/v1/clusters", "/api/v1/kv", "/api/v1/config"] {
        let (status, challenge, _) = http_basic(http, path, None);
        assert_eq!(status, 401, "{path}");
        assert!(challenge.unwrap_or_default().starts_with("Basic"), "{path}");
        assert_eq!(
            http_basic(http, path, Some((ROOT.0, "wrong"))).0,
            401,
            "{path}"
        );
        assert_eq!(http_basic(http, path, Some(ROOT)).0, 200, "{path}");
    }
    for path in [
        "/livez",
        "/healthz",
        "/readyz",
        "/metrics",
        "/rocketmq/nsaddr",
    ] {
        assert_eq!(http_basic(http, path, None).0, 200, "{path}");
    }
    // Secrets are shown as set, never as themselves.
    let (_, _, config) = http_basic(http, "/api/v1/config", Some(ROOT));
    assert!(config.contains("initAuthenticationUser"), "{config}");
    assert!(!config.contains(ROOT.1), "{config}");
    // The refusals are audited and counted.
    let mut c = server.client();
    assert_eq!(c.call(route_request("A")).code, 16);
    let (_, metrics) = http_get(http, "/metrics");
    assert!(
        metrics.contains("namesrv_audited_requests_total{result=\"refused\"}"),
        "{metrics}"
    );
}

/// Issue 25 item 6: the embedded controller's port follows the same rules:
/// unsigned requests are refused, reads pass for any user, the operator's
/// commands need a super user.
#[test]
fn the_embedded_controller_port_checks_requests_too() {
    let store = tempfile::tempdir().unwrap();
    let (ports, peers) = common::controller_peers(1);
    let ctl_store = store.path().join("controller");
    let server = start(
        store.path(),
        &[
            ("enableControllerInNamesrv", "true"),
            ("controllerDLegerGroup", "group1"),
            ("controllerDLegerPeers", peers.as_str()),
            ("controllerDLegerSelfId", "n0"),
            ("controllerStorePath", ctl_store.to_str().unwrap()),
        ],
    );
    let mut c = server.client();
    create_user(&mut c, "alice", "alice-secret");
    let mut ctl = Client::connect(([127, 0, 0, 1], ports[0]).into());
    assert_eq!(
        refused(&ctl.call(request(1005, &[]))),
        "username cannot be null."
    );
    let metadata = ctl.call(signed(request(1005, &[]), ("alice", "alice-secret")));
    assert_eq!(metadata.code, 0, "{:?}", metadata.remark);
    let clean = request(
        1011,
        &[
            ("clusterName", "c"),
            ("brokerName", "b"),
            ("brokerControllerIdsToClean", "1"),
        ],
    );
    let by_alice = ctl.call(signed(clean.clone(), ("alice", "alice-secret")));
    assert!(refused(&by_alice).contains("only super users may"));
    let elect = request(
        1002,
        &[("clusterName", "c"), ("brokerName", "b"), ("brokerId", "1")],
    );
    assert_eq!(ctl.call(elect).code, 16);
    // A super user gets past the check to the controller's own answer.
    let by_root = ctl.call(signed(clean, ROOT));
    assert_ne!(by_root.code, 16, "{:?}", by_root.remark);
}
