//! Authentication and authorization settings (issue 25): the keys of Java's
//! `AuthConfig` that apply to a NameServer, plus two of ours. Like the TLS
//! keys they are read at start-up only, are not in GET_NAMESRV_CONFIG
//! (Java's NameServer has no such keys), and list secrets masked.

use serde::Deserialize;

use super::cidr::{self, Cidr};
use super::fields::{as_written, config_struct, home_path, PropValue};
use super::ConfigError;

/// What a listing shows instead of a secret.
pub const MASK: &str = "***";

/// `initAuthenticationUser`: `{"username":..,"password":..}`, the super
/// user made at first start.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct InitUser {
    pub username: String,
    pub password: String,
}

/// `innerClientAuthenticationCredentials`: `{"accessKey":..,"secretKey":..}`
/// (Java's `SessionCredentials`), what we sign our own requests with; Java
/// also makes it a super user at start.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InnerCredentials {
    pub access_key: String,
    pub secret_key: String,
}

// Debug output ends up in logs: the secrets stay out of it.
impl std::fmt::Debug for InitUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitUser")
            .field("username", &self.username)
            .field("password", &MASK)
            .finish()
    }
}

impl std::fmt::Debug for InnerCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InnerCredentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &MASK)
            .finish()
    }
}

impl PropValue for Option<InitUser> {
    const EXPECTED: &'static str = r#"JSON object {"username":"..","password":".."} (or empty)"#;
    fn parse_prop(text: &str) -> Option<Self> {
        parse_json(text, |u: &InitUser| [&u.username, &u.password])
    }
    fn print_prop(&self) -> Option<String> {
        Some(self.as_ref().map_or_else(String::new, |u| {
            serde_json::json!({ "username": u.username, "password": MASK }).to_string()
        }))
    }
}

impl PropValue for Option<InnerCredentials> {
    const EXPECTED: &'static str = r#"JSON object {"accessKey":"..","secretKey":".."} (or empty)"#;
    fn parse_prop(text: &str) -> Option<Self> {
        parse_json(text, |c: &InnerCredentials| [&c.access_key, &c.secret_key])
    }
    fn print_prop(&self) -> Option<String> {
        Some(self.as_ref().map_or_else(String::new, |c| {
            serde_json::json!({ "accessKey": c.access_key, "secretKey": MASK }).to_string()
        }))
    }
}

/// Empty: unset. Otherwise a JSON object whose strings are all given.
fn parse_json<T: for<'de> Deserialize<'de>>(
    text: &str,
    parts: impl Fn(&T) -> [&String; 2],
) -> Option<Option<T>> {
    let text = text.trim();
    if text.is_empty() {
        return Some(None);
    }
    let value: T = serde_json::from_str(text).ok()?;
    parts(&value)
        .iter()
        .all(|s| !s.trim().is_empty())
        .then_some(Some(value))
}

/// Comma-separated request codes (Java's `authenticationWhitelist`,
/// `authorizationWhitelist`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeList(pub Vec<i32>);

impl CodeList {
    pub fn contains(&self, code: i32) -> bool {
        self.0.contains(&code)
    }
}

impl PropValue for CodeList {
    const EXPECTED: &'static str = "comma-separated list of request codes";
    fn parse_prop(text: &str) -> Option<Self> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().ok())
            .collect::<Option<Vec<i32>>>()
            .map(CodeList)
    }
    fn print_prop(&self) -> Option<String> {
        let codes: Vec<String> = self.0.iter().map(i32::to_string).collect();
        Some(codes.join(","))
    }
}

/// Comma-separated addresses and CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CidrList(pub Vec<Cidr>);

impl CidrList {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }
}

impl PropValue for CidrList {
    const EXPECTED: &'static str =
        "comma-separated list of IP addresses or CIDR blocks (10.0.0.0/8, ::1)";
    fn parse_prop(text: &str) -> Option<Self> {
        cidr::parse_list(text).ok().map(CidrList)
    }
    fn print_prop(&self) -> Option<String> {
        let items: Vec<String> = self.0.iter().map(Cidr::to_string).collect();
        Some(items.join(","))
    }
}

config_struct! {
    /// Java `AuthConfig` (the keys a NameServer uses), and ours.
    AuthConfig(ConfigError, as_written) {
        /// Check request signatures.
        authentication_enabled: bool = "authenticationEnabled" => false,
        /// Check the users' ACLs.
        authorization_enabled: bool = "authorizationEnabled" => false,
        /// Request codes served without a signature.
        authentication_whitelist: CodeList = "authenticationWhitelist" => CodeList::default(),
        /// Request codes served without an ACL check.
        authorization_whitelist: CodeList = "authorizationWhitelist" => CodeList::default(),
        /// The super user made at first start if absent.
        init_authentication_user: Option<InitUser> = "initAuthenticationUser" => None,
        /// The credentials we sign our own requests with (a super user too).
        inner_client_authentication_credentials: Option<InnerCredentials> = "innerClientAuthenticationCredentials" => None,
        /// namesrv: sources whose requests need neither signature nor ACL
        /// (e.g. the brokers' network).
        authentication_source_whitelist: CidrList = "authenticationSourceWhitelist" => CidrList::default(),
        /// namesrv: the users and ACLs file.
        auth_store_path: String = "authStorePath" => home_path("namesrv/auth.json"),
    }
}

impl AuthConfig {
    pub fn is_auth_key(key: &str) -> bool {
        Self::KEYS.contains(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = AuthConfig::default();
        assert!(!c.authentication_enabled && !c.authorization_enabled);
        assert!(c.init_authentication_user.is_none());
        assert!(c.authentication_whitelist.0.is_empty());
        assert!(c.auth_store_path.ends_with("namesrv/auth.json"));
        let kv = super::super::NamesrvConfig::default().kv_config_path;
        assert_eq!(
            std::path::Path::new(&c.auth_store_path).parent(),
            std::path::Path::new(&kv).parent()
        );
    }

    #[test]
    fn parsing() {
        let mut c = AuthConfig::default();
        c.set("authenticationEnabled", "true").unwrap();
        c.set(
            "initAuthenticationUser",
            r#"{"username":"rocketmq","password":"12345678"}"#,
        )
        .unwrap();
        c.set(
            "innerClientAuthenticationCredentials",
            r#" {"accessKey":"inner","secretKey":"s3cret"} "#,
        )
        .unwrap();
        c.set("authenticationWhitelist", " 105, 106 ,,").unwrap();
        c.set("authenticationSourceWhitelist", "10.0.0.0/8, ::1")
            .unwrap();
        assert!(c.authentication_enabled);
        let init = c.init_authentication_user.clone().unwrap();
        assert_eq!(
            (init.username.as_str(), init.password.as_str()),
            ("rocketmq", "12345678")
        );
        assert_eq!(
            c.inner_client_authentication_credentials
                .as_ref()
                .unwrap()
                .secret_key,
            "s3cret"
        );
        assert!(c.authentication_whitelist.contains(106));
        assert!(c
            .authentication_source_whitelist
            .contains("10.2.3.4".parse().unwrap()));
        assert!(!c
            .authentication_source_whitelist
            .contains("11.2.3.4".parse().unwrap()));
        c.set("initAuthenticationUser", "").unwrap();
        assert!(c.init_authentication_user.is_none());
    }

    #[test]
    fn bad_values_are_config_errors() {
        let mut c = AuthConfig::default();
        for (key, value) in [
            ("initAuthenticationUser", "rocketmq:123"),
            ("initAuthenticationUser", r#"{"username":"rocketmq"}"#),
            (
                "initAuthenticationUser",
                r#"{"username":"","password":"x"}"#,
            ),
            (
                "innerClientAuthenticationCredentials",
                r#"{"accessKey":"a"}"#,
            ),
            ("authenticationWhitelist", "105,abc"),
            ("authenticationSourceWhitelist", "10.0.0.0/33"),
            ("authorizationEnabled", "yes"),
        ] {
            let err = c.set(key, value).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn secrets_are_masked_in_listings() {
        let mut c = AuthConfig::default();
        c.set(
            "initAuthenticationUser",
            r#"{"username":"root","password":"pw-123"}"#,
        )
        .unwrap();
        c.set(
            "innerClientAuthenticationCredentials",
            r#"{"accessKey":"inner","secretKey":"sk-456"}"#,
        )
        .unwrap();
        let listed = format!("{:?}", c.entries());
        assert!(
            !listed.contains("pw-123") && !listed.contains("sk-456"),
            "{listed}"
        );
        assert!(listed.contains("root") && listed.contains("inner") && listed.contains(MASK));
        assert!(!c.get("initAuthenticationUser").unwrap().contains("pw-123"));
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("pw-123") && !debug.contains("sk-456"),
            "{debug}"
        );
        assert_eq!(c.entries().len(), AuthConfig::KEYS.len());
    }
}
