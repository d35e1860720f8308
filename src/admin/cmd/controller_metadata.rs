//! `getControllerMetaData`, and the leader lookup every controller write
//! starts with (CONTROLLER_GET_METADATA_INFO, asked of any controller).

use clap::Args;
use serde_json::json;

use crate::admin::context::{split_addrs, Context};
use crate::admin::error::AdminError;
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct GetControllerMetaData {
    /// the address of controller
    #[arg(short = 'a', long = "controllerAddress")]
    controller_address: String,
}

/// What CONTROLLER_GET_METADATA_INFO answers.
#[derive(Debug, Clone, Default)]
pub struct ControllerMeta {
    pub addr: String,
    pub group: Option<String>,
    pub leader_id: Option<String>,
    pub leader_addr: Option<String>,
    pub is_leader: Option<String>,
    pub peers: Option<String>,
}

/// Asks the controllers of `list` (`;`-separated) in turn; the first that
/// answers says who leads.
pub async fn controller_meta(ctx: &mut Context, list: &str) -> Result<ControllerMeta, AdminError> {
    let addrs = split_addrs(list);
    let mut last = AdminError::NoController;
    for addr in addrs {
        let request =
            RemotingCommand::request(RequestCode::CONTROLLER_GET_METADATA_INFO.value(), 0);
        match ctx.call_ok(&addr, request).await {
            Ok(resp) => {
                let get = |k: &str| resp.ext_fields.get(k).cloned();
                return Ok(ControllerMeta {
                    group: get("group"),
                    leader_id: get("controllerLeaderId"),
                    leader_addr: get("controllerLeaderAddress"),
                    is_leader: get("isLeader"),
                    peers: get("peers"),
                    addr,
                });
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The leader's address, or an error naming the controller that knows none.
pub async fn controller_leader(ctx: &mut Context, list: &str) -> Result<String, AdminError> {
    let meta = controller_meta(ctx, list).await?;
    meta.leader_addr
        .filter(|a| !a.is_empty())
        .ok_or_else(|| AdminError::Invalid(format!("controller {} knows no leader", meta.addr)))
}

fn or_null(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("null")
}

impl GetControllerMetaData {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let meta = controller_meta(ctx, self.controller_address.trim()).await?;
        let mut text = format!(
            "\n#ControllerGroup\t{}\n#ControllerLeaderId\t{}\n#ControllerLeaderAddress\t{}",
            or_null(&meta.group),
            or_null(&meta.leader_id),
            or_null(&meta.leader_addr)
        );
        let peers: Vec<&str> = meta
            .peers
            .as_deref()
            .map(|p| p.split(';').filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        for p in &peers {
            text.push_str(&format!("\n#Peer:\t{p}"));
        }
        text.push('\n');
        Ok(Printed::new(
            text,
            json!({
                "controller": meta.addr,
                "group": meta.group,
                "controllerLeaderId": meta.leader_id,
                "controllerLeaderAddress": meta.leader_addr,
                "isLeader": meta.is_leader,
                "peers": peers,
            }),
        ))
    }
}
