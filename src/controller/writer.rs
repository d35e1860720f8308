//! The leader's single writer: every leader-only request and every
//! controller-triggered election goes through one queue, so each decision
//! is taken on the state left by the previous one. A job decides on the
//! applied state and the local heartbeat table, its events are committed
//! (openraft's `client_write` returns once they are applied here), and only
//! then is the reply sent. A write that outlives its timeout is answered
//! SYSTEM_ERROR, and the next job waits until it has settled.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc};

use super::event::ControllerEvent;
use super::handle::{not_leader, Controller, Decide, Job};
use super::outcome::Outcome;
use crate::remoting::ResponseCode;

/// Java's processor waits this long for a write's future.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
pub async fn run(
    ctl: Arc<Controller>,
    mut jobs: mpsc::Receiver<Job>,
    mut shutdown: broadcast::Receiver<()>,
) {
    loop {
        let job = tokio::select! {
            job = jobs.recv() => match job {
                Some(job) => job,
                None => return,
            },
            _ = shutdown.recv() => return,
        };
        let (outcome, pending) = execute(&ctl, job.decide).await;
        let _ = job.reply.send(outcome);
        // A write that timed out usually commits later. Deciding the next
        // job before it lands would take it on a state without it (two
        // elections from one epoch, or an old master's sync-state set over
        // a new master), so its fate is awaited first: applied, or failed
        // with the leadership (a new leader decides only once everything
        // before its term is applied).
        if let Some(pending) = pending {
            let waited = Instant::now();
            tokio::select! {
                _ = pending => {}
                _ = shutdown.recv() => return,
            }
            tracing::info!(waited = ?waited.elapsed(), "a timed-out controller write has settled");
        }
    }
}

/// The rest of a write whose reply has gone out as a timeout.
type Pending<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

async fn execute(ctl: &Controller, decide: Decide) -> (Outcome, Option<Pending<'_>>) {
    // Leadership may have gone while the job waited in the queue.
    if !ctl.is_ready_leader() {
        return (not_leader(), None);
    }
    let decided = Instant::now();
    let (outcome, read_event) = ctl.decide(decide);
    if outcome.is_write() {
        let mut write = Box::pin(ctl.raft.client_write(outcome.events.clone()));
        match tokio::time::timeout(WRITE_TIMEOUT, &mut write).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return (write_failed(e.to_string()), None),
            Err(_) => {
                let pending: Pending<'_> = Box::pin(async move {
                    let _ = write.await;
                });
                return (write_failed("no commit within 5 s".into()), Some(pending));
            }
        }
        for event in &outcome.events {
            if let ControllerEvent::ElectMaster { new_master, .. } = event {
                let node = &ctl.peers.me().id;
                ctl.metrics
                    .controller_election(node, new_master.is_some(), decided.elapsed());
            }
        }
        if let Some(change) = &outcome.role_change {
            if ctl.config.read().notify_broker_role_changed {
                let targets = ctl.role_change_targets(change);
                ctl.pushes.notify_role_change(change, targets);
            }
        }
    } else if read_event {
        // processReadEvent: a read is served only after this node has
        // shown it still leads (Java appends an empty entry for the same).
        match tokio::time::timeout(WRITE_TIMEOUT, ctl.raft.ensure_linearizable()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return (write_failed(e.to_string()), None),
            Err(_) => return (write_failed("no read confirmation within 5 s".into()), None),
        }
    }
    (outcome, None)
}

/// Java's reply when the append future fails or is cancelled.
fn write_failed(detail: String) -> Outcome {
    tracing::warn!(%detail, "controller write failed");
    Outcome::refused(ResponseCode::SYSTEM_ERROR, detail)
}
