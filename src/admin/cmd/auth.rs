//! The Auth 2.0 commands of mqadmin (`createUser` ... `listAcl`), sent with
//! `-b` to one server (a NameServer of ours, which keeps users and ACLs),
//! or with neither `-b` nor `-c` to every NameServer of `-n`.

use clap::Args;
use serde_json::{json, Value};

use crate::admin::context::Context;
use crate::admin::error::AdminError;
use crate::admin::Printed;
use crate::remoting::{RemotingCommand, RequestCode};

/// Where to send: `-b` one server, else every NameServer of `-n`.
#[derive(Debug, Args)]
pub struct Target {
    /// the server (NameServer) to send to
    #[arg(short = 'b', long = "brokerAddr")]
    broker_addr: Option<String>,
}

impl Target {
    fn addrs(&self, ctx: &Context) -> Result<Vec<String>, AdminError> {
        match &self.broker_addr {
            Some(addr) => Ok(vec![addr.trim().to_string()]),
            None => Ok(ctx.namesrvs()?.to_vec()),
        }
    }
}

#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    target: Target,
    /// the username
    #[arg(short = 'u', long = "username")]
    username: String,
    /// the password (create, update)
    #[arg(short = 'p', long = "password")]
    password: Option<String>,
    /// Super or Normal (create, update)
    #[arg(short = 't', long = "userType")]
    user_type: Option<String>,
    /// enable or disable (update)
    #[arg(short = 's', long = "userStatus")]
    user_status: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListUsers {
    #[command(flatten)]
    target: Target,
    /// only users whose name contains this
    #[arg(short = 'f', long = "filter")]
    filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct AclArgs {
    #[command(flatten)]
    target: Target,
    /// the subject, e.g. User:alice
    #[arg(short = 's', long = "subject")]
    subject: String,
    /// resources, comma separated, e.g. Topic:A,Group:G (create, update, delete)
    #[arg(short = 'r', long = "resources")]
    resources: Option<String>,
    /// actions, comma separated: Pub,Sub,Create,Update,Delete,Get,List,All (create, update)
    #[arg(short = 'a', long = "actions")]
    actions: Option<String>,
    /// source IPs or CIDRs, comma separated (create, update)
    #[arg(short = 'i', long = "sourceIp")]
    source_ip: Option<String>,
    /// Allow or Deny (create, update)
    #[arg(short = 'd', long = "decision")]
    decision: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListAcls {
    #[command(flatten)]
    target: Target,
    /// only subjects containing this
    #[arg(short = 's', long = "subject")]
    subject: Option<String>,
    /// only ACLs with a resource containing this
    #[arg(short = 'r', long = "resource")]
    resource: Option<String>,
}

fn list(v: &Option<String>) -> Vec<String> {
    v.as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Sends `request` to every target address; returns the last answer body
/// (reads go to one address).
async fn send(
    ctx: &mut Context,
    addrs: &[String],
    request: RemotingCommand,
) -> Result<Vec<u8>, AdminError> {
    let mut body = Vec::new();
    for addr in addrs {
        body = ctx.call_ok(addr, request.clone()).await?.body.to_vec();
    }
    Ok(body)
}

fn parsed(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

impl UserArgs {
    pub async fn run(&self, ctx: &mut Context, code: RequestCode) -> Result<Printed, AdminError> {
        let addrs = self.target.addrs(ctx)?;
        let mut request =
            RemotingCommand::request(code.value(), 0).with_ext("username", self.username.trim());
        if matches!(
            code,
            RequestCode::AUTH_CREATE_USER | RequestCode::AUTH_UPDATE_USER
        ) {
            let mut info = json!({"username": self.username.trim()});
            for (key, value) in [
                ("password", &self.password),
                ("userType", &self.user_type),
                ("userStatus", &self.user_status),
            ] {
                if let Some(v) = value {
                    info[key] = json!(v);
                }
            }
            request = request.with_body(info.to_string().into_bytes());
        }
        let body = send(ctx, &addrs, request).await?;
        let verb = match code {
            RequestCode::AUTH_CREATE_USER => "create user",
            RequestCode::AUTH_UPDATE_USER => "update user",
            RequestCode::AUTH_DELETE_USER => "delete user",
            _ => {
                let user = parsed(&body);
                let text = if user.is_null() {
                    format!("user {} not found\n", self.username.trim())
                } else {
                    format!("{user:#}\n")
                };
                return Ok(Printed::new(text, user));
            }
        };
        Ok(Printed::new(
            format!("{verb} to {} success.\n", addrs.join(",")),
            json!({"servers": addrs, "username": self.username.trim()}),
        ))
    }
}

impl ListUsers {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let addrs = self.target.addrs(ctx)?;
        let mut request = RemotingCommand::request(RequestCode::AUTH_LIST_USER.value(), 0);
        if let Some(f) = &self.filter {
            request = request.with_ext("filter", f.trim());
        }
        let users = parsed(&send(ctx, &addrs[..1.min(addrs.len())], request).await?);
        let users = if users.is_null() { json!([]) } else { users };
        let mut text = format!(
            "{:<32}{:<12}{:<12}\n",
            "#UserName", "#UserType", "#UserStatus"
        );
        for u in users.as_array().into_iter().flatten() {
            let field = |k: &str| u[k].as_str().unwrap_or_default().to_string();
            text.push_str(&format!(
                "{:<32}{:<12}{:<12}\n",
                field("username"),
                field("userType"),
                field("userStatus")
            ));
        }
        Ok(Printed::new(text, users))
    }
}

impl AclArgs {
    pub async fn run(&self, ctx: &mut Context, code: RequestCode) -> Result<Printed, AdminError> {
        let addrs = self.target.addrs(ctx)?;
        let mut request =
            RemotingCommand::request(code.value(), 0).with_ext("subject", self.subject.trim());
        match code {
            RequestCode::AUTH_CREATE_ACL | RequestCode::AUTH_UPDATE_ACL => {
                let entries: Vec<Value> = list(&self.resources)
                    .into_iter()
                    .map(|resource| {
                        json!({
                            "resource": resource,
                            "actions": list(&self.actions),
                            "sourceIps": list(&self.source_ip),
                            "decision": self.decision.as_deref().unwrap_or("Allow"),
                        })
                    })
                    .collect();
                let info = json!({
                    "subject": self.subject.trim(),
                    "policies": [{"policyType": "Custom", "entries": entries}],
                });
                request = request.with_body(info.to_string().into_bytes());
            }
            RequestCode::AUTH_DELETE_ACL => {
                if let Some(r) = &self.resources {
                    request = request.with_ext("resource", r.trim());
                }
            }
            _ => {
                let acl = parsed(&send(ctx, &addrs[..1.min(addrs.len())], request).await?);
                let text = if acl.is_null() {
                    format!("no ACL for {}\n", self.subject.trim())
                } else {
                    format!("{acl:#}\n")
                };
                return Ok(Printed::new(text, acl));
            }
        }
        send(ctx, &addrs, request).await?;
        let verb = match code {
            RequestCode::AUTH_CREATE_ACL => "create acl",
            RequestCode::AUTH_UPDATE_ACL => "update acl",
            _ => "delete acl",
        };
        Ok(Printed::new(
            format!("{verb} to {} success.\n", addrs.join(",")),
            json!({"servers": addrs, "subject": self.subject.trim()}),
        ))
    }
}

impl ListAcls {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let addrs = self.target.addrs(ctx)?;
        let mut request = RemotingCommand::request(RequestCode::AUTH_LIST_ACL.value(), 0);
        if let Some(s) = &self.subject {
            request = request.with_ext("subjectFilter", s.trim());
        }
        if let Some(r) = &self.resource {
            request = request.with_ext("resourceFilter", r.trim());
        }
        let acls = parsed(&send(ctx, &addrs[..1.min(addrs.len())], request).await?);
        let acls = if acls.is_null() { json!([]) } else { acls };
        Ok(Printed::new(format!("{acls:#}\n"), acls))
    }
}
