//! What a request must be allowed before it is served on the NameServer
//! and controller ports (issue 25): its
//! signature checked, then what it touches authorized. Java's broker maps
//! request codes to resources with annotations on the request headers;
//! the NameServer's headers carry those for the cluster codes (register,
//! unregister, heartbeat, data version: `Cluster:<clusterName>`), and for
//! the rest we choose:
//! - a route lookup touches `Topic:<topic>` (Pub, Sub or Get), where Java's
//!   annotation names the broker's own cluster, which a NameServer lacks;
//!   a producer's or consumer's topic ACL then finds its route;
//! - the NameServer's own tables (KV, configuration, topic lists, cluster
//!   view) may be read by any user who authenticates, and changed (with
//!   permissions and topics set by hand, users and ACLs) by super users.

use std::net::IpAddr;

use super::model::{Action, Resource, ResourceType};
use super::{Access, Auth, Refusal};
use crate::remoting::{RemotingCommand, RequestCode};

const UPDATE: &[Action] = &[Action::Update];
const GET: &[Action] = &[Action::Get];
const ROUTE: &[Action] = &[Action::Pub, Action::Sub, Action::Get];

/// What a request needs beyond a valid signature.
enum Needs {
    /// Any authenticated user.
    User,
    /// A super user; the remark names what is touched.
    Super(&'static str),
    /// The given actions on a resource named by a header field.
    On(ResourceType, &'static str, &'static [Action]),
}

fn needs(code: RequestCode) -> Needs {
    use RequestCode::*;
    match code {
        GET_ROUTEINFO_BY_TOPIC => Needs::On(ResourceType::Topic, "topic", ROUTE),
        REGISTER_BROKER | UNREGISTER_BROKER | BROKER_HEARTBEAT => {
            Needs::On(ResourceType::Cluster, "clusterName", UPDATE)
        }
        QUERY_DATA_VERSION | GET_BROKER_MEMBER_GROUP => {
            Needs::On(ResourceType::Cluster, "clusterName", GET)
        }
        PUT_KV_CONFIG | DELETE_KV_CONFIG => Needs::Super("the KV table"),
        UPDATE_NAMESRV_CONFIG => Needs::Super("the configuration"),
        WIPE_WRITE_PERM_OF_BROKER | ADD_WRITE_PERM_OF_BROKER => {
            Needs::Super("brokers' write permission")
        }
        DELETE_TOPIC_IN_NAMESRV | REGISTER_TOPIC_IN_NAMESRV => Needs::Super("topics"),
        // The controller port's: brokers' own requests are about their
        // cluster; electing, cleaning and reconfiguring are an operator's.
        CONTROLLER_ALTER_SYNC_STATE_SET
        | CONTROLLER_REGISTER_BROKER
        | CONTROLLER_GET_NEXT_BROKER_ID
        | CONTROLLER_APPLY_BROKER_ID => Needs::On(ResourceType::Cluster, "clusterName", UPDATE),
        CONTROLLER_ELECT_MASTER => Needs::Super("the controller's elections"),
        CLEAN_BROKER_DATA | UPDATE_CONTROLLER_CONFIG => Needs::Super("the controller"),
        AUTH_CREATE_USER | AUTH_UPDATE_USER | AUTH_DELETE_USER | AUTH_GET_USER | AUTH_LIST_USER
        | AUTH_CREATE_ACL | AUTH_UPDATE_ACL | AUTH_DELETE_ACL | AUTH_GET_ACL | AUTH_LIST_ACL => {
            Needs::Super("users and ACLs")
        }
        _ => Needs::User,
    }
}

/// Whether `code` changes state: such requests are audited.
pub(crate) fn changes_state(code: RequestCode) -> bool {
    use RequestCode::*;
    matches!(
        code,
        REGISTER_BROKER
            | UNREGISTER_BROKER
            | PUT_KV_CONFIG
            | DELETE_KV_CONFIG
            | UPDATE_NAMESRV_CONFIG
            | WIPE_WRITE_PERM_OF_BROKER
            | ADD_WRITE_PERM_OF_BROKER
            | DELETE_TOPIC_IN_NAMESRV
            | REGISTER_TOPIC_IN_NAMESRV
            | AUTH_CREATE_USER
            | AUTH_UPDATE_USER
            | AUTH_DELETE_USER
            | AUTH_CREATE_ACL
            | AUTH_UPDATE_ACL
            | AUTH_DELETE_ACL
            | CONTROLLER_ELECT_MASTER
            | CLEAN_BROKER_DATA
            | UPDATE_CONTROLLER_CONFIG
    )
}

/// Checks `req` (of `code`, when known) from `source`: `Err` holds the
/// refusal to answer with.
pub(crate) fn check(
    auth: &Auth,
    code: Option<RequestCode>,
    req: &RemotingCommand,
    source: IpAddr,
) -> Result<(), Refusal> {
    auth.authenticate(req.code, req.version, &req.ext_fields, &req.body, source)?;
    let Some(code) = code else {
        return Ok(());
    };
    match needs(code) {
        Needs::User => Ok(()),
        Needs::Super(what) => auth.require_super(req.code, &req.ext_fields, what, source),
        Needs::On(kind, field, actions) => {
            let name = req.ext_fields.get(field).map_or("", String::as_str);
            // Java's builder: a retry topic is its consumer group's.
            let resource = match name.strip_prefix("%RETRY%") {
                Some(group) if kind == ResourceType::Topic => {
                    Resource::literal(ResourceType::Group, group)
                }
                _ => Resource::literal(kind, name),
            };
            auth.authorize(
                req.code,
                &req.ext_fields,
                &[Access { resource, actions }],
                source,
            )
        }
    }
}

/// The request's user as audit lines name it.
fn user_of(req: &RemotingCommand) -> &str {
    req.ext_fields
        .get(super::signature::ACCESS_KEY)
        .map_or("-", String::as_str)
}

/// The audit line of a refused request, on either port.
pub(crate) fn log_refused(port: &'static str, req: &RemotingCommand, source: IpAddr, remark: &str) {
    let (user, code) = (user_of(req), req.code);
    tracing::warn!(target: "namesrv::audit", port, user, %source, code, remark, "request refused");
}

/// The audit line of a served request that changes state. A broker's
/// periodic registration is logged at debug level: at info, a fleet would
/// drown the rest.
pub(crate) fn log_served(req: &RemotingCommand, source: IpAddr, answer: i32) {
    let (user, code) = (user_of(req), req.code);
    let routine = matches!(
        RequestCode::from_value(code),
        Some(RequestCode::REGISTER_BROKER | RequestCode::UNREGISTER_BROKER)
    );
    if routine {
        tracing::debug!(target: "namesrv::audit", user, %source, code, answer, "request served");
    } else {
        tracing::info!(target: "namesrv::audit", user, %source, code, answer, "request served");
    }
}
