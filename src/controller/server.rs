//! The controller's listener: brokers, admin tools and peer controllers on
//! one port. Connections are bounded by a semaphore; each is served by its
//! own task, one request at a time, and its close is reported so the
//! brokers that heartbeat on it are dropped at once.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, Notify, Semaphore};
use tokio_util::codec::Framed;

use super::dispatch::dispatch;
use super::heartbeat::ConnId;
use super::node::Controller;
use crate::log_limit::LogLimit;
use crate::remoting::codec::DEFAULT_MAX_FRAME;
use crate::remoting::{CodecError, RemotingCodec};

const MAX_CONNECTIONS: usize = 4096;
/// Java closes a channel idle for 120 s (and reports its brokers inactive).
const IDLE: Duration = Duration::from_secs(120);

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
            serve(&ctl, id, closer, tcp, shutdown).await;
            ctl.close_conn(id);
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
    let mut framed = Framed::new(tcp, RemotingCodec::new(DEFAULT_MAX_FRAME));
    loop {
        let read = tokio::select! {
            r = tokio::time::timeout(IDLE, framed.next()) => r,
            _ = closer.notified() => {
                tracing::info!(id, ?peer, "closing the connection of an expired broker");
                return;
            }
            _ = shutdown.recv() => return,
        };
        let frame = match read {
            Err(_) => {
                tracing::info!(id, ?peer, "controller connection idle; closing");
                return;
            }
            Ok(None) => return,
            Ok(Some(Ok(frame))) => frame,
            Ok(Some(Err(CodecError::Io(e)))) => {
                tracing::debug!(id, ?peer, error = %e, "controller connection lost");
                return;
            }
            Ok(Some(Err(e))) => {
                crate::warn_limited!(BAD_FRAME, id, ?peer, error = %e, "bad frame on the controller port; closing connection");
                return;
            }
        };
        if frame.is_response() {
            continue;
        }
        if let Some(resp) = dispatch(ctl, id, peer.map(|p| p.ip()), frame).await {
            if let Err(e) = framed.send(resp).await {
                tracing::debug!(id, ?peer, error = %e, "controller reply not sent");
                return;
            }
        }
    }
}
