//! `getControllerConfig` and `updateControllerConfig`, sent to each
//! controller of `-a` in the order given.

use clap::Args;
use serde_json::json;

use crate::admin::cmd::namesrv_config::{get_properties, java_list, update_properties};
use crate::admin::context::{split_addrs, Context};
use crate::admin::error::AdminError;
use crate::admin::Printed;
use crate::remoting::RequestCode;

#[derive(Debug, Args)]
pub struct GetControllerConfig {
    /// Controller address list, eg: 192.168.0.1:9878;192.168.0.2:9878
    #[arg(short = 'a', long = "controllerAddress")]
    controller_address: String,
}

#[derive(Debug, Args)]
pub struct UpdateControllerConfig {
    /// Controller address list, eg: 192.168.0.1:9878;192.168.0.2:9878
    #[arg(short = 'a', long = "controllerAddress")]
    controller_address: String,
    /// config key
    #[arg(short = 'k', long = "key")]
    key: String,
    /// config value
    #[arg(short = 'v', long = "value")]
    value: String,
}

fn controllers(list: &str) -> Result<Vec<String>, AdminError> {
    let addrs = split_addrs(list);
    if addrs.is_empty() {
        return Err(AdminError::NoController);
    }
    Ok(addrs)
}

impl GetControllerConfig {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let servers = controllers(&self.controller_address)?;
        get_properties(ctx, &servers, RequestCode::GET_CONTROLLER_CONFIG).await
    }
}

impl UpdateControllerConfig {
    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        let servers = controllers(&self.controller_address)?;
        let (key, value) = (self.key.trim(), self.value.trim());
        update_properties(
            ctx,
            &servers,
            RequestCode::UPDATE_CONTROLLER_CONFIG,
            key,
            value,
        )
        .await?;
        Ok(Printed::new(
            format!(
                "update controller config success!{}\n{key} : {value}\n",
                java_list(&servers)
            ),
            json!({"servers": servers, "key": key, "value": value}),
        ))
    }
}
