//! The decision for one user, one resource and the actions a request needs
//! (Java `UserAuthorizationHandler` then `AclAuthorizationHandler`).

use std::net::IpAddr;

use super::model::Resource;
use super::model::{
    Acl, Action, Decision, PolicyEntry, PolicyType, ResourcePattern, ResourceType, User, UserType,
};

/// How a request fares; the last two are refusals with Java's remarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// No entry of the user's ACL covers the request.
    NoMatch,
    /// The deciding entry says Deny.
    Denied,
}

impl Verdict {
    /// The end of Java's remark, after `... from <ip>, `.
    pub fn detail(self) -> &'static str {
        match self {
            Verdict::Allowed => "",
            Verdict::NoMatch => "no matched policies.",
            Verdict::Denied => "the decision is deny.",
        }
    }
}

/// Super users may do anything. Otherwise the entries of the user's Custom
/// policy that cover the resource, one of the actions and the source
/// address decide (those of the Default policy only if none does); of
/// those the most specific resource wins (literal, then the longest prefix,
/// then `Type:*`, then `*`), Deny before Allow among equals. No entry: no.
pub fn decide(
    user: &User,
    acl: Option<&Acl>,
    resource: &Resource,
    actions: &[Action],
    source_ip: IpAddr,
) -> Verdict {
    if user.user_type == UserType::Super {
        return Verdict::Allowed;
    }
    let Some(acl) = acl else {
        return Verdict::NoMatch;
    };
    let matching = |policy_type| {
        acl.policy(policy_type)
            .into_iter()
            .flat_map(|p| &p.entries)
            .filter(|e| {
                e.resource.matches(resource)
                    && grants(e, actions)
                    && from_allowed_source(e, source_ip)
            })
    };
    let best = |policy_type| matching(policy_type).min_by_key(|e| rank(e));
    // min_by_key keeps the first of equals, as Java's stable sort does.
    match best(PolicyType::Custom).or_else(|| best(PolicyType::Default)) {
        None => Verdict::NoMatch,
        Some(e) if e.decision == Decision::Deny => Verdict::Denied,
        Some(_) => Verdict::Allowed,
    }
}

/// `PolicyEntry.isMatchAction`.
fn grants(entry: &PolicyEntry, wanted: &[Action]) -> bool {
    if entry.actions.is_empty() {
        return false;
    }
    if wanted.contains(&Action::Any) {
        return true;
    }
    wanted
        .iter()
        .any(|a| entry.actions.contains(a) || entry.actions.contains(&Action::All))
}

/// `PolicyEntry.isMatchEnvironment`.
fn from_allowed_source(entry: &PolicyEntry, ip: IpAddr) -> bool {
    entry.source_ips.is_empty() || entry.source_ips.iter().any(|c| c.contains(ip))
}

/// Java's `comparePolicyEntries` as a sort key, lowest first. All entries
/// compared cover one resource, so their types are its type or `*`.
fn rank(entry: &PolicyEntry) -> (bool, u8, std::cmp::Reverse<usize>, bool) {
    let r = &entry.resource;
    let pattern = match r.pattern {
        ResourcePattern::Literal => 0,
        ResourcePattern::Prefixed => 1,
        ResourcePattern::Any => 2,
    };
    let prefix_len = match r.pattern {
        // Java compares String lengths: UTF-16 code units.
        ResourcePattern::Prefixed => r.name.encode_utf16().count(),
        _ => 0,
    };
    (
        r.resource_type == ResourceType::Any,
        pattern,
        std::cmp::Reverse(prefix_len),
        entry.decision != Decision::Deny,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::model::{Policy, UserStatus};

    fn user(user_type: UserType) -> User {
        User {
            username: "u".into(),
            password: "p".into(),
            user_type,
            user_status: UserStatus::Enable,
        }
    }

    fn entry(resource: &str, actions: &[Action], ips: &[&str], decision: Decision) -> PolicyEntry {
        PolicyEntry {
            resource: resource.parse().unwrap(),
            actions: actions.to_vec(),
            source_ips: ips.iter().map(|i| i.parse().unwrap()).collect(),
            decision,
        }
    }

    fn acl(custom: Vec<PolicyEntry>, default: Vec<PolicyEntry>) -> Acl {
        let mut policies = vec![Policy {
            policy_type: PolicyType::Custom,
            entries: custom,
        }];
        if !default.is_empty() {
            policies.push(Policy {
                policy_type: PolicyType::Default,
                entries: default,
            });
        }
        Acl {
            username: "u".into(),
            policies,
        }
    }

    fn topic(name: &str) -> Resource {
        Resource::literal(ResourceType::Topic, name)
    }

    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 2, 3));

    fn check(acl: &Acl, name: &str, actions: &[Action]) -> Verdict {
        decide(
            &user(UserType::Normal),
            Some(acl),
            &topic(name),
            actions,
            LOCAL,
        )
    }

    #[test]
    fn pub_on_one_topic_grants_that_topic_and_action_only() {
        let a = acl(
            vec![entry("Topic:A", &[Action::Pub], &[], Decision::Allow)],
            vec![],
        );
        assert_eq!(check(&a, "A", &[Action::Pub]), Verdict::Allowed);
        assert_eq!(check(&a, "B", &[Action::Pub]), Verdict::NoMatch);
        assert_eq!(check(&a, "A", &[Action::Sub]), Verdict::NoMatch);
        // A route lookup needs any of Pub, Sub, Get.
        assert_eq!(
            check(&a, "A", &[Action::Pub, Action::Sub, Action::Get]),
            Verdict::Allowed
        );
        assert_eq!(check(&a, "A", &[Action::Any]), Verdict::Allowed);
        assert_eq!(
            decide(
                &user(UserType::Normal),
                None,
                &topic("A"),
                &[Action::Pub],
                LOCAL
            ),
            Verdict::NoMatch
        );
    }

    #[test]
    fn all_grants_every_action_and_super_users_pass() {
        let a = acl(
            vec![entry("Topic:A", &[Action::All], &[], Decision::Allow)],
            vec![],
        );
        assert_eq!(check(&a, "A", &[Action::Delete]), Verdict::Allowed);
        assert_eq!(
            decide(
                &user(UserType::Super),
                None,
                &topic("Z"),
                &[Action::Delete],
                LOCAL
            ),
            Verdict::Allowed
        );
    }

    #[test]
    fn deny_beats_allow_at_the_same_specificity() {
        let a = acl(
            vec![
                entry("Topic:A", &[Action::Pub], &[], Decision::Allow),
                entry("Topic:A", &[Action::All], &[], Decision::Deny),
            ],
            vec![],
        );
        assert_eq!(check(&a, "A", &[Action::Pub]), Verdict::Denied);
        let a = acl(
            vec![
                entry("Topic:*", &[Action::Pub], &[], Decision::Deny),
                entry("*", &[Action::Pub], &[], Decision::Allow),
            ],
            vec![],
        );
        assert_eq!(check(&a, "A", &[Action::Pub]), Verdict::Denied);
    }

    #[test]
    fn the_most_specific_resource_decides() {
        let a = acl(
            vec![
                entry("*", &[Action::Pub], &[], Decision::Deny),
                entry("Topic:*", &[Action::Pub], &[], Decision::Deny),
                entry("Topic:or*", &[Action::Pub], &[], Decision::Allow),
                entry("Topic:order*", &[Action::Pub], &[], Decision::Deny),
                entry("Topic:order-ok", &[Action::Pub], &[], Decision::Allow),
            ],
            vec![],
        );
        assert_eq!(check(&a, "order-ok", &[Action::Pub]), Verdict::Allowed);
        assert_eq!(check(&a, "order-x", &[Action::Pub]), Verdict::Denied);
        assert_eq!(check(&a, "orbit", &[Action::Pub]), Verdict::Allowed);
        assert_eq!(check(&a, "other", &[Action::Pub]), Verdict::Denied);
    }

    #[test]
    fn default_policy_only_when_custom_has_no_match() {
        let a = acl(
            vec![entry("Topic:A", &[Action::Pub], &[], Decision::Allow)],
            vec![
                entry("Topic:A", &[Action::Pub], &[], Decision::Deny),
                entry("*", &[Action::Sub], &[], Decision::Allow),
            ],
        );
        assert_eq!(check(&a, "A", &[Action::Pub]), Verdict::Allowed);
        assert_eq!(check(&a, "B", &[Action::Sub]), Verdict::Allowed);
        assert_eq!(check(&a, "B", &[Action::Pub]), Verdict::NoMatch);
    }

    #[test]
    fn source_addresses_v4_and_v6() {
        let a = acl(
            vec![entry(
                "Topic:A",
                &[Action::Pub],
                &["10.0.0.0/8", "fd00::/8", "192.168.1.5"],
                Decision::Allow,
            )],
            vec![],
        );
        let at = |ip: &str| {
            decide(
                &user(UserType::Normal),
                Some(&a),
                &topic("A"),
                &[Action::Pub],
                ip.parse().unwrap(),
            )
        };
        assert_eq!(at("10.9.9.9"), Verdict::Allowed);
        assert_eq!(at("::ffff:10.9.9.9"), Verdict::Allowed);
        assert_eq!(at("fd00::42"), Verdict::Allowed);
        assert_eq!(at("192.168.1.5"), Verdict::Allowed);
        assert_eq!(at("192.168.1.6"), Verdict::NoMatch);
        assert_eq!(at("2001:db8::1"), Verdict::NoMatch);
    }

    #[test]
    fn a_deny_from_elsewhere_does_not_apply_here() {
        let a = acl(
            vec![
                entry(
                    "Topic:A",
                    &[Action::Pub],
                    &["192.168.0.0/16"],
                    Decision::Deny,
                ),
                entry("Topic:A", &[Action::Pub], &[], Decision::Allow),
            ],
            vec![],
        );
        assert_eq!(check(&a, "A", &[Action::Pub]), Verdict::Allowed);
    }
}
