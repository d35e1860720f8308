//! Sends NOTIFY_MIN_BROKER_ID_CHANGE (905) one-way to brokers when a broker
//! group's minimum brokerId changes (notifyMinBrokerIdChanged=true), as the
//! Java NameServer does through its remoting client.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::remoting::{RemotingClient, RemotingCommand, RequestCode};
use crate::route::MinBrokerIdNotice;

/// Java gives the one-way send 300 ms; connecting gets a little more here.
const SEND_TIMEOUT: Duration = Duration::from_secs(3);

pub fn notice_request(notice: &MinBrokerIdNotice, opaque: i32) -> RemotingCommand {
    let mut req =
        RemotingCommand::request(RequestCode::NOTIFY_MIN_BROKER_ID_CHANGE.value(), opaque)
            .mark_oneway()
            .with_ext("minBrokerId", notice.min_broker_id)
            .with_ext("brokerName", &notice.broker_name)
            .with_ext("minBrokerAddr", &notice.min_broker_addr);
    if let Some(addr) = &notice.offline_broker_addr {
        req = req.with_ext("offlineBrokerAddr", addr);
    }
    if let Some(addr) = &notice.ha_broker_addr {
        req = req.with_ext("haBrokerAddr", addr);
    }
    req
}

/// Drains notices until every sender is gone.
pub async fn run_notifier(mut notices: mpsc::UnboundedReceiver<MinBrokerIdNotice>) {
    let mut opaque = 0i32;
    while let Some(notice) = notices.recv().await {
        tracing::info!(
            broker = %notice.broker_name, min_id = notice.min_broker_id,
            targets = ?notice.targets, "min broker id changed; notifying"
        );
        for target in &notice.targets {
            opaque = opaque.wrapping_add(1);
            let request = notice_request(&notice, opaque);
            let target = target.clone();
            tokio::spawn(async move {
                let sent = match RemotingClient::connect(&target, SEND_TIMEOUT).await {
                    Ok(mut client) => client.send_oneway(request).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = sent {
                    tracing::warn!(%target, error = %e, "NOTIFY_MIN_BROKER_ID_CHANGE failed");
                }
            });
        }
    }
}
