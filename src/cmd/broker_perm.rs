//! GET_BROKER_MEMBER_GROUP (901), WIPE_WRITE_PERM_OF_BROKER (205) and
//! ADD_WRITE_PERM_OF_BROKER (327): per-broker-group queries and perm changes.

use super::{CmdError, Header};
use crate::json_write::{Dialect, JsonWriter};
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::shared::Shared;

pub struct GetBrokerMemberGroup {
    cluster_name: String,
    broker_name: String,
}

impl GetBrokerMemberGroup {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let h = Header(&req.ext_fields);
        Ok(GetBrokerMemberGroup {
            cluster_name: h.required_string("clusterName")?,
            broker_name: h.required_string("brokerName")?,
        })
    }

    /// `{"brokerMemberGroup":{"brokerAddrs":{..},"brokerName":..,"cluster":..}}`,
    /// empty addresses for an unknown group, as Java answers.
    pub fn apply(self, shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
        let addrs = shared.routes.broker_member_group(&self.broker_name);
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
        w.field_str("brokerName", &self.broker_name);
        w.field_str("cluster", &self.cluster_name);
        w.end_object();
        w.end_object();
        req.response(ResponseCode::SUCCESS, None).with_body(out)
    }
}

#[derive(Clone, Copy)]
pub enum PermChange {
    Wipe,
    Add,
}

pub struct ChangeWritePerm {
    broker_name: String,
    change: PermChange,
}

impl ChangeWritePerm {
    pub fn parse(req: &RemotingCommand, change: PermChange) -> Result<Self, CmdError> {
        Ok(ChangeWritePerm {
            broker_name: Header(&req.ext_fields).required_string("brokerName")?,
            change,
        })
    }

    pub fn apply(self, shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
        let (count, field) = match self.change {
            PermChange::Wipe => (
                shared.routes.wipe_write_perm(&self.broker_name),
                "wipeTopicCount",
            ),
            PermChange::Add => (
                shared.routes.add_write_perm(&self.broker_name),
                "addTopicCount",
            ),
        };
        tracing::info!(broker = %self.broker_name, count, field, "write perm changed");
        req.response(ResponseCode::SUCCESS, None)
            .with_ext(field, count)
    }
}
