//! `wipeWritePerm` and `addWritePerm`: change a broker's write permission
//! on every NameServer of `-n`, reporting each.

use clap::Args;
use serde_json::json;

use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

#[derive(Debug, Args)]
pub struct WritePerm {
    /// broker name
    #[arg(short = 'b', long = "brokerName")]
    broker_name: String,
}

#[derive(Debug, Clone, Copy)]
pub enum Change {
    Wipe,
    Add,
}

impl WritePerm {
    pub async fn run(&self, ctx: &mut Context, change: Change) -> Result<Printed, AdminError> {
        let (code, count_field, verb) = match change {
            Change::Wipe => (
                RequestCode::WIPE_WRITE_PERM_OF_BROKER,
                "wipeTopicCount",
                "wipe",
            ),
            Change::Add => (
                RequestCode::ADD_WRITE_PERM_OF_BROKER,
                "addTopicCount",
                "add",
            ),
        };
        let broker = self.broker_name.trim();
        let request = RemotingCommand::request(code.value(), 0).with_ext("brokerName", broker);
        let mut printed = Printed::default();
        let mut results = Vec::new();
        let mut failures = 0;
        for addr in ctx.namesrvs()?.to_vec() {
            match ctx.call_ok(&addr, request.clone()).await {
                Ok(resp) => {
                    let count: i64 = resp
                        .ext_fields
                        .get(count_field)
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(0);
                    printed.text.push_str(&format!(
                        "{verb} write perm of broker[{broker}] in name server[{addr}] OK, {count}\n"
                    ));
                    results.push(json!({"namesrv": addr, "ok": true, "topics": count}));
                }
                Err(e) => {
                    failures += 1;
                    printed.text.push_str(&format!(
                        "{verb} write perm of broker[{broker}] in name server[{addr}] Failed\n"
                    ));
                    results.push(json!({"namesrv": addr, "ok": false, "error": e.to_string()}));
                    printed.warn(e.to_string());
                }
            }
        }
        printed.json = json!({"brokerName": broker, "results": results});
        printed.failed = failures > 0;
        Ok(printed)
    }
}
