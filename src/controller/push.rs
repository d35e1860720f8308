//! Sends NOTIFY_BROKER_ROLE_CHANGED (1008) to brokers: one-way, 3 s, no
//! retry (the brokers' 1004 poll covers a lost one), each send in its own
//! task so a dead broker cannot hold the writer. A send still pending
//! (a broker slow to accept) when a newer epoch of the same broker set is
//! pushed to the same broker is cancelled: arriving late, the old role
//! would only make the broker step back to it until its next poll.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::task::AbortHandle;

use super::notify::RoleChange;
use crate::remoting::RemotingClient;

const PUSH_TIMEOUT: Duration = Duration::from_secs(3);

/// The pending pushes, by broker set and broker address.
#[derive(Debug, Default)]
pub struct Pushes {
    pending: Mutex<HashMap<(String, String), Pending>>,
}

#[derive(Debug)]
struct Pending {
    master_epoch: i32,
    sync_state_set_epoch: i32,
    task: AbortHandle,
}

impl Pushes {
    /// Pushes `change` to every address of `targets`, cancelling what is
    /// still pending of an older epoch for the same broker set and address.
    pub fn notify_role_change(&self, change: &RoleChange, targets: Vec<String>) {
        self.start(change, targets, send);
    }

    /// [`notify_role_change`](Self::notify_role_change) with the send
    /// given (a test's never completes).
    fn start<F>(
        &self,
        change: &RoleChange,
        targets: Vec<String>,
        send: impl Fn(crate::remoting::RemotingCommand, String, &RoleChange) -> F,
    ) where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut pending = self.pending.lock();
        // Finished sends leave their entries; drop them as we go.
        pending.retain(|_, p| !p.task.is_finished());
        for addr in targets {
            let key = (
                format!("{}/{}", change.cluster_name, change.broker_name),
                addr.clone(),
            );
            let newer = (change.master_epoch, change.sync_state_set_epoch);
            if let Some(old) = pending.get(&key) {
                if (old.master_epoch, old.sync_state_set_epoch) >= newer {
                    // A push at least as new is on its way.
                    continue;
                }
                old.task.abort();
                tracing::info!(%addr, broker = %change.broker_name, old_epoch = old.master_epoch, epoch = change.master_epoch, "older role change push cancelled");
            }
            let task = tokio::spawn(send(change.to_request(0), addr, change)).abort_handle();
            pending.insert(
                key,
                Pending {
                    master_epoch: change.master_epoch,
                    sync_state_set_epoch: change.sync_state_set_epoch,
                    task,
                },
            );
        }
    }

    #[cfg(test)]
    fn pending_epochs(&self) -> Vec<(String, i32, bool)> {
        let pending = self.pending.lock();
        let mut all: Vec<_> = pending
            .iter()
            .map(|((_, addr), p)| (addr.clone(), p.master_epoch, p.task.is_finished()))
            .collect();
        all.sort();
        all
    }
}

fn send(
    request: crate::remoting::RemotingCommand,
    addr: String,
    change: &RoleChange,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let broker = change.broker_name.clone();
    let epoch = change.master_epoch;
    async move {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn change(epoch: i32) -> RoleChange {
        RoleChange {
            cluster_name: "c".into(),
            broker_name: "b".into(),
            master_broker_id: 1,
            master_address: Some("127.0.0.1:1".into()),
            master_epoch: epoch,
            sync_state_set_epoch: epoch,
            sync_state_set: BTreeSet::from([1]),
            broker_addrs: BTreeMap::new(),
        }
    }

    /// A broker slow to accept: the send never completes.
    fn stalled(
        _: crate::remoting::RemotingCommand,
        _: String,
        _: &RoleChange,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        std::future::pending()
    }

    const SLOW: &str = "127.0.0.1:10911";
    const OTHER: &str = "127.0.0.1:10921";

    #[tokio::test]
    async fn a_newer_epoch_cancels_a_pending_older_push_and_an_older_one_is_not_sent() {
        let pushes = Pushes::default();
        pushes.start(&change(1), vec![SLOW.into(), OTHER.into()], stalled);
        let first = pushes.pending.lock()[&("c/b".into(), SLOW.into())]
            .task
            .clone();
        pushes.start(&change(2), vec![SLOW.into()], stalled);
        tokio::task::yield_now().await;
        assert!(first.is_finished(), "the epoch-1 push was not cancelled");
        assert_eq!(
            pushes.pending_epochs(),
            vec![(SLOW.into(), 2, false), (OTHER.into(), 1, false)],
            "the push to another broker stays"
        );
        // An older epoch arriving late does not replace the newer push.
        pushes.start(&change(1), vec![SLOW.into()], stalled);
        assert_eq!(pushes.pending_epochs()[0], (SLOW.into(), 2, false));
    }
}
