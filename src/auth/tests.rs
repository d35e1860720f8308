//! The handle as the dispatcher uses it.

use std::net::IpAddr;

use super::model::{AclInfo, Action, Resource, ResourceType, UserPatch, UserStatus};
use super::signature::sign_request;
use super::*;
use crate::remoting::command::ExtFields;

const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 2, 3));
const ROUTE: i32 = 105;

fn config(dir: &tempfile::TempDir, lines: &[(&str, &str)]) -> AuthConfig {
    let mut c = AuthConfig::default();
    c.set(
        "authStorePath",
        &dir.path().join("auth.json").display().to_string(),
    )
    .unwrap();
    for (k, v) in lines {
        c.set(k, v).unwrap();
    }
    c
}

fn on(dir: &tempfile::TempDir) -> Auth {
    let auth = Auth::open(&config(
        dir,
        &[
            ("authenticationEnabled", "true"),
            ("authorizationEnabled", "true"),
            (
                "initAuthenticationUser",
                r#"{"username":"root","password":"rootpw"}"#,
            ),
            ("authenticationWhitelist", "26"),
            ("authorizationWhitelist", "27"),
            ("authenticationSourceWhitelist", "192.168.0.0/16"),
        ],
    ))
    .unwrap();
    let normal = UserPatch {
        password: Some("12345678".into()),
        ..UserPatch::default()
    };
    auth.store().create_user("rocketmq2", normal).unwrap();
    let acl: AclInfo = serde_json::from_str(
        r#"{"policies":[{"entries":[{"resource":"Topic:TopicTest","actions":["Pub"],"decision":"Allow"}]}]}"#,
    )
    .unwrap();
    auth.store()
        .put_acl("User:rocketmq2", acl.policies().unwrap())
        .unwrap();
    auth
}

fn signed(ak: &str, sk: &str) -> ExtFields {
    let mut f = ExtFields::new();
    f.insert("topic".into(), "TopicTest".into());
    sign_request(&mut f, b"", ak, sk);
    f
}

fn refusal(r: Result<impl std::fmt::Debug, Refusal>) -> String {
    r.unwrap_err().remark
}

#[test]
fn authentication_refusals_carry_javas_remarks() {
    let dir = tempfile::tempdir().unwrap();
    let auth = on(&dir);
    let ok = signed("rocketmq2", "12345678");
    assert_eq!(ok["Signature"], "GeeGoP9mRvDhoVp4PD5omX0prgE=");
    let user = auth
        .authenticate(ROUTE, 500, &ok, b"", CLIENT)
        .unwrap()
        .unwrap();
    assert_eq!(user.username, "rocketmq2");

    let mut anonymous = ok.clone();
    anonymous.remove("AccessKey");
    assert_eq!(
        refusal(auth.authenticate(ROUTE, 500, &anonymous, b"", CLIENT)),
        "username cannot be null."
    );
    assert_eq!(
        refusal(auth.authenticate(ROUTE, 500, &signed("ghost", "x"), b"", CLIENT)),
        "User:ghost is not found."
    );
    assert_eq!(
        refusal(auth.authenticate(ROUTE, 500, &signed("rocketmq2", "wrong"), b"", CLIENT)),
        "check signature failed."
    );
    assert_eq!(
        refusal(auth.authenticate(ROUTE, 500, &ok, b"body added", CLIENT)),
        "check signature failed."
    );
    let disable = UserPatch {
        user_status: Some(UserStatus::Disable),
        ..UserPatch::default()
    };
    auth.store().update_user("rocketmq2", disable).unwrap();
    assert_eq!(
        refusal(auth.authenticate(ROUTE, 500, &ok, b"", CLIENT)),
        "User:rocketmq2 is disabled."
    );
    assert_eq!(Refusal::CODE.value(), 16);
}

#[test]
fn whitelists_and_switches_skip_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let auth = on(&dir);
    let none = ExtFields::new();
    assert!(auth
        .authenticate(26, 500, &none, b"", CLIENT)
        .unwrap()
        .is_none());
    let trusted: IpAddr = "192.168.7.7".parse().unwrap();
    assert!(auth
        .authenticate(ROUTE, 500, &none, b"", trusted)
        .unwrap()
        .is_none());
    let mapped: IpAddr = "::ffff:192.168.7.7".parse().unwrap();
    assert!(auth
        .authenticate(ROUTE, 500, &none, b"", mapped)
        .unwrap()
        .is_none());
    assert!(auth.authenticate(ROUTE, 500, &none, b"", CLIENT).is_err());

    let off = Auth::open(&config(&dir, &[])).unwrap();
    assert!(off
        .authenticate(ROUTE, 500, &none, b"", CLIENT)
        .unwrap()
        .is_none());
    assert!(off
        .authorize(ROUTE, &signed("x", "y"), &[topic_pub("B")], CLIENT)
        .is_ok());
    // The same file: the users made before are there.
    assert!(off.store().get_user("rocketmq2").is_some());
}

fn topic_pub(name: &str) -> Access<'static> {
    Access {
        resource: Resource::literal(ResourceType::Topic, name),
        actions: &[Action::Pub],
    }
}

#[test]
fn authorization_refusals_carry_javas_remarks() {
    let dir = tempfile::tempdir().unwrap();
    let auth = on(&dir);
    let fields = signed("rocketmq2", "12345678");
    assert!(auth
        .authorize(ROUTE, &fields, &[topic_pub("TopicTest")], CLIENT)
        .is_ok());
    assert_eq!(
        refusal(auth.authorize(
            ROUTE,
            &fields,
            &[topic_pub("TopicTest"), topic_pub("B")],
            CLIENT
        )),
        "User:rocketmq2 has no permission to access Topic:B from 10.1.2.3, no matched policies."
    );
    let deny: AclInfo = serde_json::from_str(
        r#"{"policies":[{"entries":[{"resource":"Topic:B","actions":["All"],"decision":"Deny"}]}]}"#,
    )
    .unwrap();
    auth.store()
        .put_acl("User:rocketmq2", deny.policies().unwrap())
        .unwrap();
    assert_eq!(
        refusal(auth.authorize(ROUTE, &fields, &[topic_pub("B")], CLIENT)),
        "User:rocketmq2 has no permission to access Topic:B from 10.1.2.3, the decision is deny."
    );
    assert_eq!(
        refusal(auth.authorize(ROUTE, &signed("ghost", "x"), &[topic_pub("B")], CLIENT)),
        "User:ghost not found."
    );
    let mut anonymous = fields.clone();
    anonymous.remove("AccessKey");
    assert_eq!(
        refusal(auth.authorize(ROUTE, &anonymous, &[topic_pub("B")], CLIENT)),
        "Authorization failed. Please verify your access rights and try again."
    );
    // Super users pass; so do whitelisted codes and sources, and requests
    // with nothing to check.
    assert!(auth
        .authorize(ROUTE, &signed("root", "rootpw"), &[topic_pub("B")], CLIENT)
        .is_ok());
    assert!(auth
        .authorize(27, &fields, &[topic_pub("B")], CLIENT)
        .is_ok());
    assert!(auth
        .authorize(
            ROUTE,
            &fields,
            &[topic_pub("B")],
            "192.168.1.1".parse().unwrap()
        )
        .is_ok());
    assert!(auth
        .authorize(ROUTE, &ExtFields::new(), &[topic_pub("B")], CLIENT)
        .is_ok());
    assert!(auth.authorize(ROUTE, &fields, &[], CLIENT).is_ok());
}

#[test]
fn inner_credentials_become_a_super_user() {
    let dir = tempfile::tempdir().unwrap();
    let auth = Auth::open(&config(
        &dir,
        &[(
            "innerClientAuthenticationCredentials",
            r#"{"accessKey":"inner","secretKey":"sk"}"#,
        )],
    ))
    .unwrap();
    let inner = auth.store().get_user("inner").unwrap();
    assert_eq!(inner.user_type, super::model::UserType::Super);
    assert_eq!(auth.inner_credentials().unwrap().secret_key, "sk");
    assert!(!auth.config().authentication_enabled);
}

#[test]
fn a_corrupt_store_is_an_error_at_open() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("auth.json"), "[1,2").unwrap();
    let err = Auth::open(&config(&dir, &[])).unwrap_err();
    assert!(err.to_string().contains("auth.json"), "{err}");
}
