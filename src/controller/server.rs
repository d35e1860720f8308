//! The controller's listener: brokers, admin tools and peer controllers on
//! one port. Connections are bounded by a semaphore; each is read by its
//! own task, which records heartbeats and answers raft RPCs in order as it
//! reads them and answers everything else concurrently (a broker's 904s
//! share its connection with requests that wait for commits). Its close is
//! reported so the brokers whose heartbeats it still carries are dropped.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, Notify, Semaphore};
use tokio::time::Instant;
use tokio_util::codec::Framed;

use super::dispatch::dispatch;
use super::heartbeat::ConnId;
use super::node::Controller;
use super::raft::network;
use crate::net::log_limit::LogLimit;
use crate::remoting::codec::DEFAULT_MAX_FRAME;
use crate::remoting::{CodecError, RemotingCodec, RemotingCommand, RequestCode, ResponseCode};

const MAX_CONNECTIONS: usize = 4096;
/// Java closes a channel idle for 120 s (and reports its brokers inactive).
const IDLE: Duration = Duration::from_secs(120);
/// Requests of one connection answered at once; past this the connection
/// gets SYSTEM_BUSY, as Java's full processor pool answers.
const MAX_IN_FLIGHT: usize = 256;

static BAD_FRAME: LogLimit = LogLimit::new(10, Duration::from_secs(60));

pub async fn run(
    listener: TcpListener,
    ctl: Arc<Controller>,
    mut shutdown: broadcast::Receiver<()>,
) {
    let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = shutdown.recv() => return,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.recv() => return,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // Transient (out of descriptors, a reset before accept).
                tracing::warn!(error = %e, "controller accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let ctl = ctl.clone();
        let shutdown = shutdown.resubscribe();
        tokio::spawn(async move {
            let (id, closer) = ctl.open_conn();
            let peer = tcp.peer_addr().ok();
            serve(&ctl, id, closer, tcp, shutdown).await;
            let brokers = ctl.close_conn(id);
            tracing::debug!(id, ?peer, brokers, "controller connection closed");
            drop(permit);
        });
    }
}

async fn serve(
    ctl: &Arc<Controller>,
    id: ConnId,
    closer: Arc<Notify>,
    tcp: TcpStream,
    mut shutdown: broadcast::Receiver<()>,
) {
    // Small requests answered at once: Nagle would only add latency.
    let _ = tcp.set_nodelay(true);
    let peer = tcp.peer_addr().ok();
    let source = peer.map(|p| p.ip());
    let (mut sink, mut frames) = Framed::new(tcp, RemotingCodec::new(DEFAULT_MAX_FRAME)).split();
    // Replies of requests answered concurrently, written by this task only.
    let (replies, mut answered) = mpsc::channel::<RemotingCommand>(MAX_IN_FLIGHT);
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut idle_until = Instant::now() + IDLE;
    loop {
        let read = tokio::select! {
            r = frames.next() => r,
            Some(resp) = answered.recv() => {
                if let Err(e) = sink.send(resp).await {
                    tracing::debug!(id, ?peer, error = %e, "controller reply not sent");
                    return;
                }
                continue;
            }
            _ = tokio::time::sleep_until(idle_until) => {
                tracing::info!(id, ?peer, "controller connection idle; closing");
                return;
            }
            _ = closer.notified() => {
                tracing::info!(id, ?peer, "closing the connection of an expired broker");
                return;
            }
            _ = shutdown.recv() => return,
        };
        let frame = match read {
            None => return,
            Some(Ok(frame)) => frame,
            Some(Err(CodecError::Io(e))) => {
                tracing::debug!(id, ?peer, error = %e, "controller connection lost");
                return;
            }
            Some(Err(e)) => {
                crate::warn_limited!(BAD_FRAME, id, ?peer, error = %e, "bad frame on the controller port; closing connection");
                return;
            }
        };
        idle_until = Instant::now() + IDLE;
        if frame.is_response() {
            continue;
        }
        // A heartbeat is recorded the moment it is read, never behind a
        // slow request of the same broker (Java gives them their own
        // pool); raft RPCs keep their order. Both answer at once.
        if frame.code == RequestCode::BROKER_HEARTBEAT.value() || network::is_raft_code(frame.code)
        {
            if let Some(resp) = dispatch(ctl, id, source, frame).await {
                if let Err(e) = sink.send(resp).await {
                    tracing::debug!(id, ?peer, error = %e, "controller reply not sent");
                    return;
                }
            }
            continue;
        }
        // Anything else may wait for the writer: answered concurrently,
        // the reply matched by its opaque, as Java's brokers expect.
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            if !frame.is_oneway() {
                let busy = frame.response(
                    ResponseCode::SYSTEM_BUSY,
                    Some("too many requests in flight on this connection".into()),
                );
                if sink.send(busy).await.is_err() {
                    return;
                }
            }
            continue;
        };
        let (ctl, replies) = (ctl.clone(), replies.clone());
        tokio::spawn(async move {
            if let Some(resp) = dispatch(&ctl, id, source, frame).await {
                // The connection may be gone; the reply then goes nowhere.
                let _ = replies.send(resp).await;
            }
            drop(permit);
        });
    }
}
