//! Users and ACLs (Java `auth.authentication.model.User`,
//! `auth.authorization.model.Acl/Policy/PolicyEntry/Resource`), and their
//! wire form, the bodies of the admin codes 3001-3010 (`UserInfo`,
//! `AclInfo`): enums by their Java names, read in any case as Java's
//! `getByName` does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::config::cidr::{Cidr, CidrError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("{what} {text:?} is not one of {expected}")]
    UnknownName {
        what: &'static str,
        text: String,
        expected: &'static str,
    },
    #[error("resource {0:?} is not `*`, `Type:name`, `Type:prefix*` or `Type:*` (Type: Cluster, Namespace, Topic, Group)")]
    BadResource(String),
    #[error("subject {0:?} is not `User:<name>`")]
    BadSubject(String),
    #[error(transparent)]
    BadSourceIp(#[from] CidrError),
    /// Java's remarks where it has one (`AuthenticationMetadataManagerImpl`,
    /// `AuthorizationMetadataManagerImpl`).
    #[error("{0}")]
    Missing(&'static str),
}

/// Enums with Java's `getByName`: names compared ignoring ASCII case.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// The name Java prints.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = ModelError;
            fn from_str(text: &str) -> Result<Self, ModelError> {
                $( if text.eq_ignore_ascii_case($text) { return Ok($name::$variant); } )+
                Err(ModelError::UnknownName {
                    what: $what,
                    text: text.to_string(),
                    expected: concat!($($text, " "),+),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named_enum!(UserType, "userType" { Super = "Super", Normal = "Normal" });
// Java spells these two in lower case.
named_enum!(UserStatus, "userStatus" { Enable = "enable", Disable = "disable" });
named_enum!(PolicyType, "policyType" { Custom = "Custom", Default = "Default" });
named_enum!(Decision, "decision" { Allow = "Allow", Deny = "Deny" });
named_enum!(
    /// `common.action.Action`. `All` in a policy grants every action; `Any`
    /// in a request is met by any action a policy grants.
    Action, "action" {
        All = "All", Any = "Any", Pub = "Pub", Sub = "Sub", Create = "Create",
        Update = "Update", Delete = "Delete", Get = "Get", List = "List",
    }
);
named_enum!(
    /// `common.resource.ResourceType` (its `Any` is the resource `*`).
    ResourceType, "resource type" {
        Any = "Any", Cluster = "Cluster", Namespace = "Namespace", Topic = "Topic", Group = "Group",
    }
);

/// `common.resource.ResourcePattern`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourcePattern {
    Any,
    Literal,
    Prefixed,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct User {
    pub username: String,
    pub password: String,
    pub user_type: UserType,
    pub user_status: UserStatus,
}

/// What a policy entry is about, or what a request touches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    pub resource_type: ResourceType,
    /// Empty for the `Any` pattern; the prefix for `Prefixed`.
    pub name: String,
    pub pattern: ResourcePattern,
}

impl Resource {
    pub fn literal(resource_type: ResourceType, name: impl Into<String>) -> Self {
        Resource {
            resource_type,
            name: name.into(),
            pattern: ResourcePattern::Literal,
        }
    }

    /// Whether this (a policy's) resource covers `wanted` (a request's).
    pub fn matches(&self, wanted: &Resource) -> bool {
        if self.resource_type == ResourceType::Any {
            return true;
        }
        if self.resource_type != wanted.resource_type {
            return false;
        }
        match self.pattern {
            ResourcePattern::Any => true,
            ResourcePattern::Literal => wanted.name == self.name,
            ResourcePattern::Prefixed => wanted.name.starts_with(&self.name),
        }
    }
}

impl FromStr for Resource {
    type Err = ModelError;

    /// `Resource.of`, stricter: a name is required and `*` may only end it.
    fn from_str(text: &str) -> Result<Self, ModelError> {
        let bad = || ModelError::BadResource(text.to_string());
        let text = text.trim();
        if text == "*" {
            return Ok(Resource {
                resource_type: ResourceType::Any,
                name: String::new(),
                pattern: ResourcePattern::Any,
            });
        }
        let (type_text, name) = text.split_once(':').ok_or_else(bad)?;
        let resource_type: ResourceType = type_text.parse().map_err(|_| bad())?;
        if resource_type == ResourceType::Any || name.is_empty() {
            return Err(bad());
        }
        let (name, pattern) = match name.strip_suffix('*') {
            Some("") => ("", ResourcePattern::Any),
            Some(prefix) => (prefix, ResourcePattern::Prefixed),
            None => (name, ResourcePattern::Literal),
        };
        if name.contains('*') {
            return Err(bad());
        }
        Ok(Resource {
            resource_type,
            name: name.to_string(),
            pattern,
        })
    }
}

impl fmt::Display for Resource {
    /// `Resource.getResourceKey`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.resource_type == ResourceType::Any {
            return f.write_str("*");
        }
        match self.pattern {
            ResourcePattern::Any => write!(f, "{}:*", self.resource_type),
            ResourcePattern::Literal => write!(f, "{}:{}", self.resource_type, self.name),
            ResourcePattern::Prefixed => write!(f, "{}:{}*", self.resource_type, self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntry {
    pub resource: Resource,
    pub actions: Vec<Action>,
    /// Empty: from anywhere.
    pub source_ips: Vec<Cidr>,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub policy_type: PolicyType,
    pub entries: Vec<PolicyEntry>,
}

/// One user's policies; at most one policy per type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    /// The user's name (Java's subject `User:<name>`).
    pub username: String,
    pub policies: Vec<Policy>,
}

impl Acl {
    pub fn subject(&self) -> String {
        subject_key(&self.username)
    }

    pub fn policy(&self, policy_type: PolicyType) -> Option<&Policy> {
        self.policies.iter().find(|p| p.policy_type == policy_type)
    }

    /// `Acl.updatePolicy`: a new policy type is added; in an existing one
    /// each entry replaces the entry for the same resource or is appended.
    pub fn merge(&mut self, policies: Vec<Policy>) {
        for policy in policies {
            match self
                .policies
                .iter_mut()
                .find(|p| p.policy_type == policy.policy_type)
            {
                None => self.policies.push(policy),
                Some(old) => {
                    for entry in policy.entries {
                        match old
                            .entries
                            .iter_mut()
                            .find(|e| e.resource == entry.resource)
                        {
                            Some(slot) => *slot = entry,
                            None => old.entries.push(entry),
                        }
                    }
                }
            }
        }
    }

    /// `Acl.deletePolicy`: drops the entry for `resource` from the policy
    /// of `policy_type`, and the policy once it has none.
    pub fn remove_entry(&mut self, policy_type: PolicyType, resource: &Resource) {
        if let Some(i) = self
            .policies
            .iter()
            .position(|p| p.policy_type == policy_type)
        {
            self.policies[i].entries.retain(|e| &e.resource != resource);
            if self.policies[i].entries.is_empty() {
                self.policies.remove(i);
            }
        }
    }
}

/// `User:<name>`.
pub fn subject_key(username: &str) -> String {
    format!("User:{username}")
}

/// The user named by a subject key (`Subject.of`; `User` is the only
/// subject type and, like Java, is read in any case).
pub fn parse_subject(subject: &str) -> Result<String, ModelError> {
    match subject.split_once(':') {
        Some((kind, name)) if kind.eq_ignore_ascii_case("User") && !name.trim().is_empty() => {
            Ok(name.to_string())
        }
        _ => Err(ModelError::BadSubject(subject.to_string())),
    }
}

/// The JSON of `remoting.protocol.body.UserInfo`. Fields are declared in
/// the order fastjson writes them (sorted by name); absent ones are left
/// out, as fastjson leaves out nulls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// The JSON of `AclInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AclInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<PolicyInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// The JSON of `AclInfo.PolicyInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<PolicyEntryInfo>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_type: Option<String>,
}

/// The JSON of `AclInfo.PolicyEntryInfo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyEntryInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ips: Option<Vec<String>>,
}

/// A blank string as absent, as Java's `StringUtils.isBlank` checks do.
fn present(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|s| !s.trim().is_empty())
}

fn parse_opt<T: FromStr<Err = ModelError>>(text: &Option<String>) -> Result<Option<T>, ModelError> {
    present(text).map(str::parse).transpose()
}

/// The parts of a `UserInfo` that create or update a user; absent ones
/// keep their old value (or take the default, for a new user).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub password: Option<String>,
    pub user_type: Option<UserType>,
    pub user_status: Option<UserStatus>,
}

impl UserInfo {
    pub fn from_user(user: &User) -> Self {
        UserInfo {
            password: Some(user.password.clone()),
            user_status: Some(user.user_status.name().into()),
            user_type: Some(user.user_type.name().into()),
            username: Some(user.username.clone()),
        }
    }

    /// The patch it asks for; unknown enum names are errors (Java would
    /// quietly drop them, turning a typo of `Super` into `Normal`).
    pub fn patch(&self) -> Result<UserPatch, ModelError> {
        Ok(UserPatch {
            password: present(&self.password).map(str::to_string),
            user_type: parse_opt(&self.user_type)?,
            user_status: parse_opt(&self.user_status)?,
        })
    }
}

impl AclInfo {
    pub fn from_acl(acl: &Acl) -> Self {
        let policies = acl.policies.iter().map(|p| PolicyInfo {
            entries: Some(p.entries.iter().map(PolicyEntryInfo::from_entry).collect()),
            policy_type: Some(p.policy_type.name().into()),
        });
        AclInfo {
            policies: Some(policies.collect()),
            subject: Some(acl.subject()),
        }
    }

    /// Its policies, validated as Java's `AuthorizationMetadataManagerImpl`
    /// does (with its remarks); a policy without a type is `Custom`.
    pub fn policies(&self) -> Result<Vec<Policy>, ModelError> {
        let infos = self.policies.as_deref().unwrap_or_default();
        if infos.is_empty() {
            return Err(ModelError::Missing("The policies is empty."));
        }
        infos
            .iter()
            .map(|info| {
                let entries = info.entries.as_deref().unwrap_or_default();
                if entries.is_empty() {
                    return Err(ModelError::Missing("The policy entries is empty."));
                }
                Ok(Policy {
                    policy_type: parse_opt(&info.policy_type)?.unwrap_or(PolicyType::Custom),
                    entries: entries
                        .iter()
                        .map(PolicyEntryInfo::to_entry)
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect()
    }
}

impl PolicyEntryInfo {
    fn from_entry(entry: &PolicyEntry) -> Self {
        PolicyEntryInfo {
            actions: Some(entry.actions.iter().map(|a| a.name().to_string()).collect()),
            decision: Some(entry.decision.name().into()),
            resource: Some(entry.resource.to_string()),
            source_ips: (!entry.source_ips.is_empty())
                .then(|| entry.source_ips.iter().map(Cidr::to_string).collect()),
        }
    }

    fn to_entry(&self) -> Result<PolicyEntry, ModelError> {
        let resource = present(&self.resource)
            .ok_or(ModelError::Missing("The resource is null."))?
            .parse()?;
        let actions: Vec<Action> = self
            .actions
            .iter()
            .flatten()
            .map(|a| a.parse())
            .collect::<Result<_, _>>()?;
        if actions.is_empty() {
            return Err(ModelError::Missing("The actions is empty."));
        }
        if actions.contains(&Action::Any) {
            return Err(ModelError::Missing("The actions can not be Any."));
        }
        let source_ips = self
            .source_ips
            .iter()
            .flatten()
            .map(|ip| ip.trim().parse::<Cidr>())
            .collect::<Result<_, _>>()?;
        let decision = parse_opt(&self.decision)?
            .ok_or(ModelError::Missing("The decision is null or illegal."))?;
        Ok(PolicyEntry {
            resource,
            actions,
            source_ips,
            decision,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_parse_and_print_back() {
        for (text, kind, name, pattern) in [
            (
                "Topic:abc",
                ResourceType::Topic,
                "abc",
                ResourcePattern::Literal,
            ),
            (
                "Topic:abc*",
                ResourceType::Topic,
                "abc",
                ResourcePattern::Prefixed,
            ),
            ("Topic:*", ResourceType::Topic, "", ResourcePattern::Any),
            (
                "Group:g",
                ResourceType::Group,
                "g",
                ResourcePattern::Literal,
            ),
            (
                "Cluster:c",
                ResourceType::Cluster,
                "c",
                ResourcePattern::Literal,
            ),
            ("*", ResourceType::Any, "", ResourcePattern::Any),
        ] {
            let r: Resource = text.parse().unwrap();
            assert_eq!(
                (r.resource_type, r.name.as_str(), r.pattern),
                (kind, name, pattern)
            );
            assert_eq!(r.to_string(), text);
        }
        // Java reads the type in any case and prints its own spelling.
        assert_eq!(
            "topic:a".parse::<Resource>().unwrap().to_string(),
            "Topic:a"
        );
        for bad in [
            "",
            "Topic",
            "Topic:",
            "Queue:a",
            "Any:a",
            "Topic:a*b",
            "Topic:**",
            "Unknown:x",
        ] {
            assert!(
                matches!(bad.parse::<Resource>(), Err(ModelError::BadResource(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn resource_matching() {
        let topic = |n: &str| Resource::literal(ResourceType::Topic, n);
        let r = |s: &str| s.parse::<Resource>().unwrap();
        assert!(r("Topic:A").matches(&topic("A")));
        assert!(!r("Topic:A").matches(&topic("AB")));
        assert!(r("Topic:A*").matches(&topic("AB")));
        assert!(r("Topic:*").matches(&topic("x")));
        assert!(!r("Group:*").matches(&topic("x")));
        assert!(r("*").matches(&topic("x")));
    }

    #[test]
    fn user_info_json_is_javas() {
        let user = User {
            username: "u".into(),
            password: "p".into(),
            user_type: UserType::Super,
            user_status: UserStatus::Enable,
        };
        let json = serde_json::to_string(&UserInfo::from_user(&user)).unwrap();
        assert_eq!(
            json,
            r#"{"password":"p","userStatus":"enable","userType":"Super","username":"u"}"#
        );
        let read: UserInfo =
            serde_json::from_str(r#"{"username":"u","userType":"SUPER","userStatus":"Disable"}"#)
                .unwrap();
        let patch = read.patch().unwrap();
        assert_eq!(patch.user_type, Some(UserType::Super));
        assert_eq!(patch.user_status, Some(UserStatus::Disable));
        assert_eq!(patch.password, None);
        let typo: UserInfo = serde_json::from_str(r#"{"userType":"Supr"}"#).unwrap();
        assert!(typo.patch().unwrap_err().to_string().contains("Supr"));
    }

    #[test]
    fn acl_info_json_round_trips_in_javas_shape() {
        let text = r#"{"policies":[{"entries":[{"actions":["Pub","Sub"],"decision":"Allow","resource":"Topic:abc*","sourceIps":["10.0.0.0/8"]},{"actions":["All"],"decision":"Deny","resource":"Group:g"}],"policyType":"Custom"}],"subject":"User:alice"}"#;
        let info: AclInfo = serde_json::from_str(text).unwrap();
        let acl = Acl {
            username: parse_subject(info.subject.as_deref().unwrap()).unwrap(),
            policies: info.policies().unwrap(),
        };
        assert_eq!(
            acl.policies[0].entries[0].actions,
            [Action::Pub, Action::Sub]
        );
        assert_eq!(acl.policies[0].entries[1].decision, Decision::Deny);
        assert_eq!(
            serde_json::to_string(&AclInfo::from_acl(&acl)).unwrap(),
            text
        );
    }

    #[test]
    fn acl_info_validation_uses_javas_remarks() {
        let check = |text: &str| {
            serde_json::from_str::<AclInfo>(text)
                .unwrap()
                .policies()
                .unwrap_err()
                .to_string()
        };
        assert_eq!(check(r#"{"policies":[]}"#), "The policies is empty.");
        assert_eq!(
            check(r#"{"policies":[{"entries":[]}]}"#),
            "The policy entries is empty."
        );
        assert_eq!(
            check(r#"{"policies":[{"entries":[{"resource":"Topic:a","decision":"Allow"}]}]}"#),
            "The actions is empty."
        );
        assert_eq!(
            check(
                r#"{"policies":[{"entries":[{"resource":"Topic:a","actions":["Any"],"decision":"Allow"}]}]}"#
            ),
            "The actions can not be Any."
        );
        assert_eq!(
            check(r#"{"policies":[{"entries":[{"resource":"Topic:a","actions":["Pub"]}]}]}"#),
            "The decision is null or illegal."
        );
        assert!(check(r#"{"policies":[{"entries":[{"resource":"Topic:a","actions":["Pub"],"decision":"Allow","sourceIps":["1.2.3.*"]}]}]}"#).contains("1.2.3.*"));
        assert!(check(r#"{"policies":[{"entries":[{"resource":"Topic:a","actions":["Pubb"],"decision":"Allow"}]}]}"#).contains("Pubb"));
        // No type: Custom.
        let ok: AclInfo = serde_json::from_str(
            r#"{"policies":[{"entries":[{"resource":"Topic:a","actions":["pub"],"decision":"allow"}]}]}"#,
        )
        .unwrap();
        assert_eq!(ok.policies().unwrap()[0].policy_type, PolicyType::Custom);
    }

    #[test]
    fn merge_and_remove_follow_java() {
        let entry = |res: &str, decision| PolicyEntry {
            resource: res.parse().unwrap(),
            actions: vec![Action::Pub],
            source_ips: vec![],
            decision,
        };
        let mut acl = Acl {
            username: "u".into(),
            policies: vec![Policy {
                policy_type: PolicyType::Custom,
                entries: vec![entry("Topic:a", Decision::Allow)],
            }],
        };
        acl.merge(vec![
            Policy {
                policy_type: PolicyType::Custom,
                entries: vec![
                    entry("Topic:a", Decision::Deny),
                    entry("Topic:b", Decision::Allow),
                ],
            },
            Policy {
                policy_type: PolicyType::Default,
                entries: vec![entry("*", Decision::Allow)],
            },
        ]);
        let custom = acl.policy(PolicyType::Custom).unwrap();
        assert_eq!(custom.entries.len(), 2);
        assert_eq!(custom.entries[0].decision, Decision::Deny);
        assert!(acl.policy(PolicyType::Default).is_some());
        acl.remove_entry(PolicyType::Default, &"*".parse().unwrap());
        assert!(acl.policy(PolicyType::Default).is_none());
        acl.remove_entry(PolicyType::Custom, &"Topic:a".parse().unwrap());
        assert_eq!(acl.policy(PolicyType::Custom).unwrap().entries.len(), 1);
    }

    #[test]
    fn subjects() {
        assert_eq!(parse_subject("User:alice").unwrap(), "alice");
        assert_eq!(parse_subject("user:alice").unwrap(), "alice");
        assert!(parse_subject("alice").is_err());
        assert!(parse_subject("Role:x").is_err());
        assert!(parse_subject("User:").is_err());
    }
}
