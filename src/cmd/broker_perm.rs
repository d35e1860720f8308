//! GET_BROKER_MEMBER_GROUP (901), WIPE_WRITE_PERM_OF_BROKER (205) and
//! ADD_WRITE_PERM_OF_BROKER (327): per-broker-group queries and perm changes.

use super::{CmdError, Header};
use crate::json::write::{Dialect, JsonWriter};
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::state::shared::Shared;

/// The remark Java's RemotingCommand.createResponseCommand(null) starts with.
const UNSET_REMARK: &str = "not set any response code";

/// A missing name is echoed as absent (Java's null) and matches no group.
pub struct GetBrokerMemberGroup {
    cluster_name: Option<String>,
    broker_name: Option<String>,
}

impl GetBrokerMemberGroup {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        Ok(GetBrokerMemberGroup {
            cluster_name: h.optional("clusterName").map(str::to_string),
            broker_name: h.optional("brokerName").map(str::to_string),
        })
    }

    /// `{"brokerMemberGroup":{"brokerAddrs":{..},"brokerName":..,"cluster":..}}`,
    /// empty addresses for an unknown group, as Java answers.
    pub fn apply(self, shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
        let addrs = self
            .broker_name
            .as_deref()
            .map(|name| shared.routes.broker_member_group(name))
            .unwrap_or_default();
        let mut out = Vec::new();
        let mut w = JsonWriter::new(&mut out, Dialect::Fastjson);
        w.begin_object();
        w.key("brokerMemberGroup");
        w.begin_object();
        w.key("brokerAddrs");
        w.begin_object();
        for (id, addr) in &addrs {
            w.int_key(*id);
            w.str(addr);
        }
        w.end_object();
        w.field_opt_str("brokerName", self.broker_name.as_deref());
        w.field_opt_str("cluster", self.cluster_name.as_deref());
        w.end_object();
        w.end_object();
        // Java builds this answer from createResponseCommand(null) and never
        // clears the remark that leaves behind; clients may log it.
        req.response(ResponseCode::SUCCESS, Some(UNSET_REMARK.to_string()))
            .with_body(out)
    }
}

#[derive(Clone, Copy)]
pub enum PermChange {
    Wipe,
    Add,
}

/// Without a broker name nothing matches: Java answers a count of 0.
pub struct ChangeWritePerm {
    broker_name: Option<String>,
    change: PermChange,
}

impl ChangeWritePerm {
    pub fn parse(req: &RemotingCommand, change: PermChange) -> Result<Self, CmdError> {
        Ok(ChangeWritePerm {
            broker_name: Header(&req.ext_fields)
                .optional("brokerName")
                .map(str::to_string),
            change,
        })
    }

    pub fn apply(self, shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
        let name = self.broker_name.as_deref();
        let (count, field) = match self.change {
            PermChange::Wipe => (
                name.map_or(0, |n| shared.routes.wipe_write_perm(n)),
                "wipeTopicCount",
            ),
            PermChange::Add => (
                name.map_or(0, |n| shared.routes.add_write_perm(n)),
                "addTopicCount",
            ),
        };
        tracing::info!(broker = ?self.broker_name, count, field, "write perm changed");
        req.response(ResponseCode::SUCCESS, None)
            .with_ext(field, count)
    }
}
