//! One file per mqadmin command (pairs that differ only in their request
//! code share one); each parses its own options and runs itself.

pub mod auth;
pub mod clean_broker_metadata;
pub mod cluster_list;
pub mod controller_config;
pub mod controller_metadata;
pub mod delete_topic;
pub mod elect_master;
pub mod kv_config;
pub mod namesrv_config;
pub mod sync_state_set;
pub mod topic_cluster_list;
pub mod topic_list;
pub mod topic_route;
pub mod write_perm;

use std::time::Duration;

use clap::Subcommand;

use super::context::Context;
use super::error::AdminError;
use super::Printed;
use crate::remoting::RequestCode;

/// The commands, with mqadmin's names (matched case-insensitively, as
/// mqadmin does) and options.
#[derive(Debug, Subcommand)]
#[command(rename_all = "camelCase")]
pub enum Command {
    /// List cluster infos.
    ClusterList(cluster_list::ClusterList),
    /// Examine topic route info.
    TopicRoute(topic_route::TopicRoute),
    /// Fetch all topic list from name server.
    TopicList(topic_list::TopicList),
    /// Get cluster info for topic.
    TopicClusterList(topic_cluster_list::TopicClusterList),
    /// Create or update KV config.
    UpdateKvConfig(kv_config::UpdateKvConfig),
    /// Delete KV config.
    DeleteKvConfig(kv_config::DeleteKvConfig),
    /// List a KV namespace, or one key of it (not in mqadmin).
    GetKvConfig(kv_config::GetKvConfig),
    /// Get configs of name server.
    GetNamesrvConfig(namesrv_config::GetNamesrvConfig),
    /// Update configs of name server.
    UpdateNamesrvConfig(namesrv_config::UpdateNamesrvConfig),
    /// Wipe write perm of broker in all name server you defined in the -n param.
    WipeWritePerm(write_perm::WritePerm),
    /// Add write perm of broker in all name server you defined in the -n param.
    AddWritePerm(write_perm::WritePerm),
    /// Delete topic from broker and NameServer.
    DeleteTopic(delete_topic::DeleteTopic),
    /// Get controller cluster's metadata.
    GetControllerMetaData(controller_metadata::GetControllerMetaData),
    /// Fetch syncStateSet for target brokers.
    GetSyncStateSet(sync_state_set::GetSyncStateSet),
    /// Get controller config.
    GetControllerConfig(controller_config::GetControllerConfig),
    /// Update controller config.
    UpdateControllerConfig(controller_config::UpdateControllerConfig),
    /// Re-elect the specified broker as master.
    ElectMaster(elect_master::ElectMaster),
    /// Clean metadata of broker on controller.
    CleanBrokerMetadata(clean_broker_metadata::CleanBrokerMetadata),
    /// Create user.
    CreateUser(auth::UserArgs),
    /// Update user.
    UpdateUser(auth::UserArgs),
    /// Delete user.
    DeleteUser(auth::UserArgs),
    /// Get user.
    GetUser(auth::UserArgs),
    /// List users.
    ListUser(auth::ListUsers),
    /// Create acl.
    CreateAcl(auth::AclArgs),
    /// Update acl.
    UpdateAcl(auth::AclArgs),
    /// Delete acl.
    DeleteAcl(auth::AclArgs),
    /// Get acl.
    GetAcl(auth::AclArgs),
    /// List acls.
    ListAcl(auth::ListAcls),
}

impl Command {
    /// `-i`: run again every so often, until interrupted.
    pub fn interval(&self) -> Option<Duration> {
        let secs = match self {
            Command::ClusterList(c) => c.interval,
            Command::GetSyncStateSet(c) => c.interval,
            _ => None,
        }?;
        Some(Duration::from_secs(secs.max(1)))
    }

    pub async fn run(&self, ctx: &mut Context) -> Result<Printed, AdminError> {
        use Command::*;
        match self {
            ClusterList(c) => c.run(ctx).await,
            TopicRoute(c) => c.run(ctx).await,
            TopicList(c) => c.run(ctx).await,
            TopicClusterList(c) => c.run(ctx).await,
            UpdateKvConfig(c) => c.run(ctx).await,
            DeleteKvConfig(c) => c.run(ctx).await,
            GetKvConfig(c) => c.run(ctx).await,
            GetNamesrvConfig(c) => c.run(ctx).await,
            UpdateNamesrvConfig(c) => c.run(ctx).await,
            WipeWritePerm(c) => c.run(ctx, write_perm::Change::Wipe).await,
            AddWritePerm(c) => c.run(ctx, write_perm::Change::Add).await,
            DeleteTopic(c) => c.run(ctx).await,
            GetControllerMetaData(c) => c.run(ctx).await,
            GetSyncStateSet(c) => c.run(ctx).await,
            GetControllerConfig(c) => c.run(ctx).await,
            UpdateControllerConfig(c) => c.run(ctx).await,
            ElectMaster(c) => c.run(ctx).await,
            CleanBrokerMetadata(c) => c.run(ctx).await,
            CreateUser(c) => c.run(ctx, RequestCode::AUTH_CREATE_USER).await,
            UpdateUser(c) => c.run(ctx, RequestCode::AUTH_UPDATE_USER).await,
            DeleteUser(c) => c.run(ctx, RequestCode::AUTH_DELETE_USER).await,
            GetUser(c) => c.run(ctx, RequestCode::AUTH_GET_USER).await,
            ListUser(c) => c.run(ctx).await,
            CreateAcl(c) => c.run(ctx, RequestCode::AUTH_CREATE_ACL).await,
            UpdateAcl(c) => c.run(ctx, RequestCode::AUTH_UPDATE_ACL).await,
            DeleteAcl(c) => c.run(ctx, RequestCode::AUTH_DELETE_ACL).await,
            GetAcl(c) => c.run(ctx, RequestCode::AUTH_GET_ACL).await,
            ListAcl(c) => c.run(ctx).await,
        }
    }
}
