//! Ready-leader tracking (§3.4): a node serves leader-only requests only
//! once it leads and `ensure_linearizable` has succeeded in its term, i.e.
//! its first entry has committed and been applied, so its state is the
//! whole committed state. Any other role clears it at once, and so does a
//! leader's losing its quorum for longer than the election timeout.

use std::sync::Arc;
use std::time::Duration;

use openraft::ServerState;
use tokio::sync::broadcast;

use super::handle::Controller;
use super::raft::types::ELECTION_TIMEOUT_MAX_MS;

const CONFIRM_TIMEOUT: Duration = Duration::from_secs(2);
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// How often a leader's last quorum acknowledgement is looked at.
const QUORUM_CHECK: Duration = Duration::from_millis(100);

pub async fn watch(ctl: Arc<Controller>, mut shutdown: broadcast::Receiver<()>) {
    let mut metrics = ctl.raft.metrics();
    let mut ready_term = None;
    let mut leader = None;
    let node = ctl.peers.me().id.clone();
    loop {
        let (leads, term, state, current_leader, since_quorum_ack) = {
            let m = metrics.borrow_and_update();
            (
                m.state == ServerState::Leader,
                m.current_term,
                m.state,
                m.current_leader,
                m.millis_since_quorum_ack,
            )
        };
        // openraft 0.9 has no check-quorum: a leader cut off from the other
        // controllers stays leader. Past the election timeout without a
        // quorum's acknowledgement another node may lead and commit, so
        // this one stops serving and stops naming itself (DLedger's leader
        // steps down the same way); it serves again once a quorum answers.
        let isolated = leads && since_quorum_ack.is_some_and(|ms| ms > ELECTION_TIMEOUT_MAX_MS);
        if isolated != ctl.is_isolated() {
            ctl.set_isolated(isolated);
            if isolated {
                tracing::warn!(
                    term,
                    since_quorum_ack,
                    "controller leader has no quorum; stepping down"
                );
            }
        }
        if isolated && ready_term.take().is_some() {
            ctl.set_ready(false);
        }
        if current_leader != leader {
            if current_leader.is_some() {
                ctl.metrics.controller_leader_changed(&node);
            }
            leader = current_leader;
        }
        ctl.metrics.controller_raft(
            &node,
            state_name(state),
            term,
            ready_term == Some(term) && leads,
        );
        if !leads {
            if ready_term.take().is_some() {
                tracing::info!(term, "controller is no longer the leader");
            }
            ctl.set_ready(false);
        } else if ready_term != Some(term) {
            ctl.set_ready(false);
            let confirmed = tokio::select! {
                r = tokio::time::timeout(CONFIRM_TIMEOUT, ctl.raft.ensure_linearizable()) => {
                    matches!(r, Ok(Ok(_)))
                }
                _ = shutdown.recv() => return,
            };
            if confirmed {
                ready_term = Some(term);
                ctl.set_ready(true);
                ctl.metrics
                    .controller_raft(&node, state_name(state), term, true);
                tracing::info!(term, "controller is the ready leader");
            } else {
                // Still electing, or lost it meanwhile: look again shortly.
                tokio::select! {
                    _ = tokio::time::sleep(RETRY_PAUSE) => {}
                    _ = shutdown.recv() => return,
                }
            }
            continue;
        }
        // Metrics change on every raft event, but a leader that hears
        // nothing may report nothing: look at its quorum age regularly.
        tokio::select! {
            changed = metrics.changed() => if changed.is_err() { return },
            _ = tokio::time::sleep(QUORUM_CHECK) => {}
            _ = shutdown.recv() => return,
        }
    }
}

/// The raft role as metrics and the HTTP API name it.
pub(crate) fn state_name(state: ServerState) -> &'static str {
    match state {
        ServerState::Leader => "Leader",
        ServerState::Candidate => "Candidate",
        ServerState::Follower => "Follower",
        ServerState::Learner => "Learner",
        ServerState::Shutdown => "Shutdown",
    }
}
