//! Elections the leader starts itself: a broker's connection closed or its
//! heartbeat expired (Java `onBrokerInactive`), and the periodic scan for
//! sets whose master is gone while a member lives (`scanInactiveMaster`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;

use super::cmd::{elect_master, inactive};
use super::handle::Controller;
use super::heartbeat::{BrokerIdentity, Liveness};
use super::outcome::Outcome;
use super::request::ElectMasterRequest;
use super::state::ControllerState;
use crate::remoting::ResponseCode;

/// Java runs the first expiry scan 2 s after start.
const FIRST_EXPIRY_SCAN: Duration = Duration::from_secs(2);

/// The longest a lapsed heartbeat goes unnoticed. Java looks every
/// `scanNotActiveBrokerInterval` (5 s), so a silent master is replaced 10 to
/// 15 s after its last heartbeat; checking at least this often replaces it
/// within its timeout plus half a second. A scan of the local table is cheap.
const MAX_EXPIRY_DELAY: Duration = Duration::from_millis(500);

/// `onBrokerInactive`: on the ready leader, if the broker was its set's
/// master, elect another (up to `electMasterMaxRetryCount` tries).
pub fn on_inactive(ctl: &Arc<Controller>, broker: BrokerIdentity) {
    if !ctl.is_ready_leader() {
        tracing::debug!(?broker, "broker inactive; not the leader, nothing to do");
        return;
    }
    let ctl = ctl.clone();
    tokio::spawn(async move {
        let tries = ctl.config.read().elect_master_max_retry_count.max(1);
        for attempt in 1..=tries {
            let id = broker.broker_id;
            let out = elect(&ctl, broker.broker_name.clone(), move |state, _, name| {
                inactive::should_elect(state, name, id)
            })
            .await;
            tracing::info!(?broker, attempt, code = out.code.value(), remark = ?out.remark, "election after broker inactive");
            if out.code == ResponseCode::SUCCESS || out.code == ResponseCode::CONTROLLER_NOT_LEADER
            {
                return;
            }
        }
    });
}

/// A controller-triggered election of `name`'s master, decided in the
/// writer only if `still_needed` holds on the state it finds there (the
/// master may have been replaced while the job waited in the queue).
async fn elect(
    ctl: &Controller,
    name: String,
    still_needed: impl FnOnce(&ControllerState, &dyn Liveness, &str) -> bool + Send + 'static,
) -> Outcome {
    ctl.submit(Box::new(move |state, live, config| {
        if !still_needed(state, live, &name) {
            return nothing_to_do();
        }
        elect_master::handle(
            state,
            live,
            &ElectMasterRequest::controller_trigger(&name),
            config.enable_elect_unclean_master,
        )
    }))
    .await
}

/// A try that found the master already replaced: done, as a success.
fn nothing_to_do() -> Outcome {
    Outcome::refused(ResponseCode::SUCCESS, "the master has already changed")
}

/// Every `scanNotActiveBrokerInterval`: drops brokers silent past their
/// timeout, closes their connections, and reports each inactive.
pub async fn expiry_scan(ctl: Arc<Controller>, mut shutdown: broadcast::Receiver<()>) {
    let mut wait = FIRST_EXPIRY_SCAN;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.recv() => return,
        }
        let now = ctl.now_ms();
        let expired = ctl.heartbeats.lock().expire(now);
        for (broker, info) in expired {
            tracing::info!(?broker, addr = %info.broker_addr, "broker heartbeat expired");
            ctl.kick_conn(info.conn);
            on_inactive(&ctl, broker);
        }
        wait = interval(ctl.config.read().scan_not_active_broker_interval).min(MAX_EXPIRY_DELAY);
    }
}

/// Every `scanInactiveMasterInterval`, on the ready leader: elects for each
/// set whose master is not alive while one of its brokers is. A new leader
/// waits one whole interval before its first scan: its heartbeat table
/// fills only as brokers find it (they probe every 3 s), and scanning a
/// half-empty table would depose masters that are alive.
pub async fn inactive_master_scan(ctl: Arc<Controller>, mut shutdown: broadcast::Receiver<()>) {
    loop {
        let wait = interval(ctl.config.read().scan_inactive_master_interval);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.recv() => return,
        }
        if ctl.ready_leader_for().is_none_or(|led| led < wait) {
            continue;
        }
        let names = {
            let state = ctl.state.read();
            let table = ctl.heartbeats.lock();
            inactive::need_reelect(&state, &ctl.live_view(&table))
        };
        for name in names {
            let out = elect(&ctl, name, |state, live, name| {
                inactive::need_reelect(state, live)
                    .iter()
                    .any(|n| n == name)
            })
            .await;
            tracing::info!(code = out.code.value(), remark = ?out.remark, "election after inactive-master scan");
        }
    }
}

fn interval(ms: i64) -> Duration {
    Duration::from_millis(ms.clamp(100, 3_600_000) as u64)
}
