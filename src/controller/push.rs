//! Sends NOTIFY_BROKER_ROLE_CHANGED (1008) to brokers: one-way, 3 s, no
//! retry (the brokers' 1004 poll covers a lost one), each send in its own
//! task so a dead broker cannot hold the writer.

use std::time::Duration;

use super::notify::RoleChange;
use crate::remoting::RemotingClient;

const PUSH_TIMEOUT: Duration = Duration::from_secs(3);

pub fn notify_role_change(change: &RoleChange, targets: Vec<String>) {
    for addr in targets {
        let request = change.to_request(0);
        let broker = change.broker_name.clone();
        let epoch = change.master_epoch;
        tokio::spawn(async move {
            let sent = async {
                let mut client = RemotingClient::connect(&addr, PUSH_TIMEOUT).await?;
                client.send_oneway(request).await
            };
            match sent.await {
                Ok(()) => tracing::info!(%addr, broker, epoch, "role change notified"),
                Err(e) => {
                    tracing::warn!(%addr, broker, epoch, error = %e, "role change not notified")
                }
            }
        });
    }
}
