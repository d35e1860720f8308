//! The TCP server: accepts connections (bounded by a semaphore), runs one
//! handler task per connection, and shuts down on a broadcast signal after
//! letting in-flight requests finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, Notify, Semaphore};

use crate::cmd::{self, Origin};
use crate::net::connection::{Connection, ReadError};
use crate::net::log_limit::LogLimit;
use crate::net::stream::Stream;
use crate::net::tls::{Refused, Tls};
use crate::remoting::{CodecError, Inbound, RemotingCommand};
use crate::route::ConnId;
use crate::state::shared::{self, Shared};

/// Most pipelined requests answered before a flush.
const MAX_BATCH: usize = 64;

struct Listener {
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Arc<Tls>,
    limit: Arc<Semaphore>,
    shutdown: broadcast::Sender<()>,
    /// Dropped by every handler when done; `recv` returning `None` means all are.
    done_tx: mpsc::Sender<()>,
}

struct Handler {
    conn: Connection,
    id: ConnId,
    closer: Arc<Notify>,
    shared: Arc<Shared>,
    shutdown: broadcast::Receiver<()>,
    _done: mpsc::Sender<()>,
}

/// Serves until `signal` completes, then drains connections (bounded by
/// `shutdownWaitTimeSeconds`) and returns.
pub async fn run(listener: TcpListener, shared: Arc<Shared>, tls: Arc<Tls>, signal: impl Future) {
    let (shutdown, _) = broadcast::channel(1);
    let (done_tx, mut done_rx) = mpsc::channel(1);
    let max_connections = shared.config().server.max_connections.max(1) as usize;
    let mut server = Listener {
        listener,
        shared: shared.clone(),
        tls,
        limit: Arc::new(Semaphore::new(max_connections)),
        shutdown,
        done_tx,
    };
    let scan = tokio::spawn(shared::run_scan_task(
        shared.clone(),
        server.shutdown.subscribe(),
    ));

    tokio::select! {
        res = server.accept_loop() => {
            if let Err(err) = res {
                tracing::error!(error = %err, "accept failed; shutting down");
            }
        }
        _ = signal => tracing::info!("shutdown requested; finishing in-flight requests"),
    }

    let Listener {
        shutdown, done_tx, ..
    } = server;
    drop(shutdown);
    drop(done_tx);
    let wait = Duration::from_secs(shared.config().server.shutdown_wait_time_seconds.max(1) as u64);
    if tokio::time::timeout(wait, done_rx.recv()).await.is_err() {
        tracing::warn!(
            ?wait,
            "connections still open after the shutdown wait; closing them"
        );
    }
    let _ = scan.await;
}

impl Listener {
    async fn accept_loop(&mut self) -> std::io::Result<()> {
        loop {
            let permit = self
                .limit
                .clone()
                .acquire_owned()
                .await
                .map_err(std::io::Error::other)?;
            let tcp = self.accept().await?;
            let shared = self.shared.clone();
            let tls = self.tls.clone();
            let shutdown = self.shutdown.subscribe();
            let done = self.done_tx.clone();
            tokio::spawn(async move {
                // Requests are small and answered at once; Nagle would only add latency.
                let _ = tcp.set_nodelay(true);
                let peer = tcp.peer_addr().ok();
                let Some(stream) = open(&tls, &shared, tcp).await else {
                    return;
                };
                let (id, closer) = shared.connections().register();
                let mut handler = Handler {
                    conn: Connection::new(stream, shared.max_frame(), cmd::HEAD_FIRST),
                    id,
                    closer,
                    shared,
                    shutdown,
                    _done: done,
                };
                tracing::debug!(id, ?peer, "connection opened");
                handler.shared.metrics.connection_opened();
                handler.run().await;
                handler.shared.metrics.connection_closed();
                handler.shared.connections().deregister(handler.id);
                handler.shared.connection_closed(handler.id);
                drop(permit);
            });
        }
    }

    /// Accepts with back-off on transient errors (e.g. too many open files).
    async fn accept(&mut self) -> std::io::Result<TcpStream> {
        let mut backoff = 1;
        loop {
            match self.listener.accept().await {
                Ok((stream, _)) => return Ok(stream),
                Err(err) => {
                    if backoff > 64 {
                        return Err(err);
                    }
                    tracing::warn!(error = %err, "accept error; retrying");
                }
            }
            tokio::time::sleep(Duration::from_millis(backoff * 10)).await;
            backoff *= 2;
        }
    }
}

/// The connection's stream once the TLS mode has accepted it; `None` (and
/// the socket closed) when refused, or when the peer stays silent or stalls
/// its handshake for the idle time.
async fn open(tls: &Tls, shared: &Shared, tcp: TcpStream) -> Option<Stream> {
    let peer = tcp.peer_addr().ok();
    match tokio::time::timeout(idle_time(shared), tls.accept(tcp)).await {
        Ok(Ok(stream)) => {
            if stream.is_tls() {
                shared.metrics.tls_handshake("ok");
            }
            Some(stream)
        }
        Ok(Err(Refused::Eof)) => None,
        Ok(Err(err)) => {
            if matches!(err, Refused::Handshake(_)) {
                shared.metrics.tls_handshake("failed");
            }
            crate::warn_limited!(REFUSED, ?peer, error = %err, "connection refused");
            None
        }
        Err(_) => {
            tracing::info!(
                ?peer,
                "no request or TLS handshake within the idle time; closing"
            );
            None
        }
    }
}

/// Peers can repeat these at will; a flood is logged a few lines a minute.
static BAD_FRAME: LogLimit = LogLimit::new(10, Duration::from_secs(60));
static REFUSED: LogLimit = LogLimit::new(10, Duration::from_secs(60));

fn idle_time(shared: &Shared) -> Duration {
    Duration::from_secs(
        shared
            .config()
            .server
            .server_channel_max_idle_time_seconds
            .max(1) as u64,
    )
}

impl Handler {
    async fn run(&mut self) {
        let peer = self.conn.peer();
        let idle = idle_time(&self.shared);
        let mut draining = false;
        loop {
            let read = tokio::select! {
                read = self.conn.read_frame(idle) => read,
                _ = self.shutdown.recv() => {
                    draining = true;
                    break;
                }
                _ = self.closer.notified() => {
                    tracing::info!(id = self.id, ?peer, "closing connection of expired broker");
                    break;
                }
            };
            let first = match read {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(ReadError::Idle(idle)) => {
                    tracing::info!(id = self.id, ?peer, ?idle, "connection idle; closing");
                    break;
                }
                // A peer that resets or drops its connection is routine, not
                // something an operator must act on.
                Err(ReadError::Codec(CodecError::Io(err))) => {
                    tracing::debug!(id = self.id, ?peer, error = %err, "connection lost");
                    break;
                }
                Err(ReadError::Codec(err)) => {
                    self.shared.metrics.frame_refused();
                    crate::warn_limited!(BAD_FRAME, id = self.id, ?peer, error = %err, "bad frame; closing connection");
                    break;
                }
            };
            if let Err(err) = self.serve_batch(first).await {
                match err {
                    BatchError::BadFrame(err) => {
                        self.shared.metrics.frame_refused();
                        crate::warn_limited!(BAD_FRAME, id = self.id, ?peer, error = %err, "bad frame; closing connection");
                    }
                    BatchError::Lost(err) => {
                        tracing::debug!(id = self.id, ?peer, error = %err, "connection lost")
                    }
                    BatchError::NotReading => tracing::info!(
                        id = self.id,
                        ?peer,
                        "peer does not read its responses; closing connection"
                    ),
                    BatchError::Stalled(idle) => tracing::info!(
                        id = self.id,
                        ?peer,
                        ?idle,
                        "peer stopped sending in the middle of a frame; closing connection"
                    ),
                }
                break;
            }
        }
        if draining {
            self.drain(peer).await;
        }
        tracing::debug!(id = self.id, ?peer, "connection closed");
    }

    /// On shutdown: answers the requests the client has already sent (they
    /// are in our socket buffer), so none in flight goes unanswered, then
    /// lets the connection close. Bounded, so a client that keeps sending
    /// cannot hold shutdown up.
    async fn drain(&mut self, peer: Option<std::net::SocketAddr>) {
        const MAX_DRAIN_BATCHES: usize = 16;
        for _ in 0..MAX_DRAIN_BATCHES {
            let first = match self.conn.try_read_frame() {
                Some(Ok(frame)) => frame,
                Some(Err(err)) => {
                    tracing::debug!(id = self.id, ?peer, error = %err, "bad frame while draining");
                    return;
                }
                None => return,
            };
            if let Err(err) = self.serve_batch(first).await {
                tracing::debug!(id = self.id, ?peer, error = ?err, "drain stopped");
                return;
            }
        }
    }

    /// Answers `first` and whatever else is already readable, then flushes
    /// once. A flush that cannot finish within the idle time (a peer that
    /// does not read) closes the connection, bounding what it can make us buffer.
    async fn serve_batch(&mut self, first: Inbound) -> Result<(), BatchError> {
        let idle = idle_time(&self.shared);
        let mut next = Some(first);
        let mut served = 0;
        while let Some(inbound) = next.take() {
            if let Some(response) = self.serve(inbound, idle).await? {
                // Queueing may flush a full buffer; bounded like the flush below.
                match tokio::time::timeout(idle, self.conn.queue(response)).await {
                    Ok(res) => res.map_err(BatchError::lost)?,
                    Err(_) => return Err(BatchError::NotReading),
                }
            }
            served += 1;
            if served < MAX_BATCH {
                next = match self.conn.try_read_frame() {
                    Some(Ok(inbound)) => Some(inbound),
                    Some(Err(err)) => return Err(BatchError::lost_or_bad(err)),
                    None => None,
                };
            }
        }
        match tokio::time::timeout(idle, self.conn.flush()).await {
            Ok(res) => res.map_err(BatchError::lost)?,
            Err(_) => return Err(BatchError::NotReading),
        }
        self.conn.release_large_buffers();
        Ok(())
    }

    /// One request's answer, if it gets one. A frame that came head first
    /// is served from its head when that is enough (its body's rest is then
    /// dropped unread), or else read whole first.
    async fn serve(
        &mut self,
        inbound: Inbound,
        idle: Duration,
    ) -> Result<Option<RemotingCommand>, BatchError> {
        let origin = Origin { conn: self.id };
        let frame = match inbound {
            Inbound::Whole(frame) => frame,
            Inbound::Head(head) => {
                let served = if head.cmd.is_response() {
                    Some(None)
                } else {
                    cmd::serve_head(&self.shared, origin, &head)
                };
                match served {
                    Some(response) => {
                        self.conn
                            .discard_rest(&head, idle)
                            .await
                            .map_err(BatchError::read)?;
                        return Ok(response);
                    }
                    None => self
                        .conn
                        .read_rest(head, idle)
                        .await
                        .map_err(BatchError::read)?,
                }
            }
        };
        if frame.is_response() {
            return Ok(None);
        }
        Ok(cmd::dispatch(&self.shared, origin, frame).await)
    }
}

/// Why a batch of requests ended its connection.
#[derive(Debug)]
enum BatchError {
    /// A frame that cannot be decoded: the stream is out of step.
    BadFrame(CodecError),
    /// The socket failed (reset, closed): routine when peers come and go.
    Lost(CodecError),
    /// The peer did not take its responses within the idle time.
    NotReading,
    /// The peer stopped sending in the middle of a frame's body.
    Stalled(Duration),
}

impl BatchError {
    fn lost(err: CodecError) -> Self {
        BatchError::Lost(err)
    }

    fn read(err: ReadError) -> Self {
        match err {
            ReadError::Codec(err) => BatchError::lost_or_bad(err),
            ReadError::Idle(idle) => BatchError::Stalled(idle),
        }
    }

    fn lost_or_bad(err: CodecError) -> Self {
        match err {
            CodecError::Io(_) => BatchError::Lost(err),
            other => BatchError::BadFrame(other),
        }
    }
}
