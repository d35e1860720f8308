//! The listener both ports run on, generic over what they serve: accepts
//! connections (bounded by a semaphore), opens each as the TLS mode says,
//! runs one task per connection that reads frames (large ones head first
//! when the service asks), answers pipelined requests in order with one
//! flush per batch, or on tasks of their own when the service says a
//! request may wait, and on shutdown drains what clients already sent.
//! It knows frames, never what a request means: that is the [`Service`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, Notify, OwnedSemaphorePermit, Semaphore};

use crate::metrics::Metrics;
use crate::net::connection::{Connection, ReadError};
use crate::net::log_limit::LogLimit;
use crate::net::registry::ConnRegistry;
use crate::net::stream::Stream;
use crate::net::tls::{Refused, Tls};
use crate::remoting::{
    CodecError, ConnId, FrameHead, HeadFirst, Inbound, RemotingCommand, ResponseCode,
};

/// Most pipelined requests answered before a flush.
const MAX_BATCH: usize = 64;

/// What a port serves. The listener calls it for every request and tells
/// it when a connection has closed.
pub trait Service: Send + Sync + 'static {
    /// This port's limits; read as connections open and batches start, so
    /// a configuration change applies to what comes next.
    fn limits(&self) -> Limits;

    /// Where connection and frame counts go (`None`: not counted).
    fn metrics(&self) -> Option<&Metrics> {
        None
    }

    /// The port's live connections, which the service may ask to close.
    fn connections(&self) -> &ConnRegistry;

    /// Which frames come head first, to [`serve_head`](Self::serve_head).
    fn head_first(&self) -> HeadFirst {
        HeadFirst::NEVER
    }

    /// Answers a request from its head when the rest of its body is not
    /// needed: `Some(answer)` (`Some(None)` for a one-way request), and the
    /// rest is dropped unread; `None` reads the whole frame for
    /// [`call`](Self::call).
    fn serve_head(&self, _conn: Conn, _head: &FrameHead) -> Option<Option<RemotingCommand>> {
        None
    }

    /// Whether `req` may be answered on a task of its own, its reply sent
    /// whenever it is ready (matched by its opaque), instead of in the
    /// order requests were read. For requests that can wait on something
    /// slow (a commit) while the same connection carries others.
    fn concurrent(&self, _req: &RemotingCommand) -> bool {
        false
    }

    /// The answer to `req`; `None` for a one-way request.
    fn call(
        &self,
        conn: Conn,
        req: RemotingCommand,
    ) -> impl Future<Output = Option<RemotingCommand>> + Send;

    /// Connection `conn` has closed (after its last answer was written).
    fn closed(&self, conn: Conn);
}

/// Which connection a request came in on.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    pub id: ConnId,
    pub peer: Option<SocketAddr>,
}

/// One port's bounds.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    /// A connection silent this long is closed; also bounds a stalled frame,
    /// a TLS handshake and a flush to a peer that does not read.
    pub idle: Duration,
    pub max_frame: usize,
    /// How long shutdown waits for connections to finish.
    pub drain_wait: Duration,
    /// Requests of one connection answered concurrently at once; past it
    /// the connection gets SYSTEM_BUSY, as Java's full processor pool answers.
    pub max_in_flight: usize,
}

struct Listener<S> {
    listener: TcpListener,
    service: Arc<S>,
    tls: Arc<Tls>,
    limit: Arc<Semaphore>,
    shutdown: broadcast::Sender<()>,
    /// Dropped by every handler when done; `recv` returning `None` means all are.
    done_tx: mpsc::Sender<()>,
}

struct Handler<S> {
    conn: Connection,
    id: ConnId,
    peer: Option<SocketAddr>,
    closer: Arc<Notify>,
    service: Arc<S>,
    shutdown: broadcast::Receiver<()>,
    /// Replies of requests answered concurrently; made on the first one,
    /// and boxed, as most connections never have one.
    replies: Option<Box<Replies>>,
    _done: mpsc::Sender<()>,
}

/// Where a connection's concurrently answered requests send their replies.
struct Replies {
    tx: mpsc::Sender<RemotingCommand>,
    rx: mpsc::Receiver<RemotingCommand>,
    in_flight: Arc<Semaphore>,
    max: usize,
}

impl Replies {
    fn new(max: usize) -> Self {
        let max = max.max(1);
        let (tx, rx) = mpsc::channel(max);
        Replies {
            tx,
            rx,
            in_flight: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    fn outstanding(&self) -> usize {
        self.max - self.in_flight.available_permits()
    }
}

/// The next concurrent reply, or never when there can be none.
async fn next_reply(replies: &mut Option<Box<Replies>>) -> Option<RemotingCommand> {
    match replies {
        Some(r) => r.rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Serves `service` on `listener` until `signal` completes, then drains
/// connections (bounded by the service's drain wait) and returns.
pub async fn run<S: Service>(
    listener: TcpListener,
    service: Arc<S>,
    tls: Arc<Tls>,
    signal: impl Future,
) {
    let (shutdown, _) = broadcast::channel(1);
    let (done_tx, mut done_rx) = mpsc::channel(1);
    let limits = service.limits();
    let mut server = Listener {
        listener,
        service,
        tls,
        limit: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        shutdown,
        done_tx,
    };

    tokio::select! {
        res = server.accept_loop() => {
            if let Err(err) = res {
                tracing::error!(error = %err, "accept failed; shutting down");
            }
        }
        _ = signal => tracing::info!("shutdown requested; finishing in-flight requests"),
    }

    let Listener {
        shutdown,
        done_tx,
        service,
        ..
    } = server;
    drop(shutdown);
    drop(done_tx);
    let wait = service.limits().drain_wait;
    if tokio::time::timeout(wait, done_rx.recv()).await.is_err() {
        tracing::warn!(
            ?wait,
            "connections still open after the shutdown wait; closing them"
        );
    }
}

impl<S: Service> Listener<S> {
    async fn accept_loop(&mut self) -> std::io::Result<()> {
        loop {
            let permit = self
                .limit
                .clone()
                .acquire_owned()
                .await
                .map_err(std::io::Error::other)?;
            let tcp = self.accept().await?;
            let service = self.service.clone();
            let tls = self.tls.clone();
            let shutdown = self.shutdown.subscribe();
            let done = self.done_tx.clone();
            tokio::spawn(async move {
                // Requests are small and answered at once; Nagle would only add latency.
                let _ = tcp.set_nodelay(true);
                let peer = tcp.peer_addr().ok();
                let limits = service.limits();
                let Some(stream) = open(&tls, service.metrics(), limits.idle, tcp).await else {
                    return;
                };
                let (id, closer) = service.connections().register();
                let mut handler = Handler {
                    conn: Connection::new(stream, limits.max_frame, service.head_first()),
                    id,
                    peer,
                    closer,
                    service,
                    shutdown,
                    replies: None,
                    _done: done,
                };
                tracing::debug!(id, ?peer, "connection opened");
                if let Some(m) = handler.service.metrics() {
                    m.connection_opened();
                }
                handler.run().await;
                if let Some(m) = handler.service.metrics() {
                    m.connection_closed();
                }
                handler.service.connections().deregister(handler.id);
                handler.service.closed(handler.conn_info());
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
async fn open(
    tls: &Tls,
    metrics: Option<&Metrics>,
    idle: Duration,
    tcp: TcpStream,
) -> Option<Stream> {
    let peer = tcp.peer_addr().ok();
    match tokio::time::timeout(idle, tls.accept(tcp)).await {
        Ok(Ok(stream)) => {
            if let (true, Some(m)) = (stream.is_tls(), metrics) {
                m.tls_handshake("ok");
            }
            Some(stream)
        }
        Ok(Err(Refused::Eof)) => None,
        Ok(Err(err)) => {
            if let (Refused::Handshake(_), Some(m)) = (&err, metrics) {
                m.tls_handshake("failed");
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

impl<S: Service> Handler<S> {
    fn conn_info(&self) -> Conn {
        Conn {
            id: self.id,
            peer: self.peer,
        }
    }

    fn bad_frame(&self, err: &CodecError) {
        if let Some(m) = self.service.metrics() {
            m.frame_refused();
        }
        crate::warn_limited!(BAD_FRAME, id = self.id, peer = ?self.peer, error = %err, "bad frame; closing connection");
    }

    async fn run(&mut self) {
        let peer = self.peer;
        let mut draining = false;
        loop {
            let idle = self.service.limits().idle;
            let read = tokio::select! {
                read = self.conn.read_frame(idle) => read,
                Some(reply) = next_reply(&mut self.replies) => {
                    if let Err(err) = self.write_reply(reply, idle).await {
                        err.log(self);
                        break;
                    }
                    continue;
                }
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
                    self.bad_frame(&err);
                    break;
                }
            };
            if let Err(err) = self.serve_batch(first).await {
                err.log(self);
                break;
            }
        }
        if draining {
            self.drain().await;
        }
        tracing::debug!(id = self.id, ?peer, "connection closed");
    }

    /// On shutdown: answers the requests the client has already sent (they
    /// are in our socket buffer) and those still being answered, so none in
    /// flight goes unanswered, then lets the connection close. Bounded, so
    /// a client that keeps sending cannot hold shutdown up.
    async fn drain(&mut self) {
        const MAX_DRAIN_BATCHES: usize = 16;
        let peer = self.peer;
        for _ in 0..MAX_DRAIN_BATCHES {
            let first = match self.conn.try_read_frame() {
                Some(Ok(frame)) => frame,
                Some(Err(err)) => {
                    tracing::debug!(id = self.id, ?peer, error = %err, "bad frame while draining");
                    return;
                }
                None => break,
            };
            if let Err(err) = self.serve_batch(first).await {
                tracing::debug!(id = self.id, ?peer, error = ?err, "drain stopped");
                return;
            }
        }
        let idle = self.service.limits().idle;
        while self.replies.as_ref().is_some_and(|r| r.outstanding() > 0) {
            let next = tokio::time::timeout(idle, next_reply(&mut self.replies)).await;
            let Ok(Some(reply)) = next else { return };
            if let Err(err) = self.write_reply(reply, idle).await {
                tracing::debug!(id = self.id, ?peer, error = ?err, "drain stopped");
                return;
            }
        }
    }

    /// Writes one concurrently answered reply at once.
    async fn write_reply(
        &mut self,
        reply: RemotingCommand,
        idle: Duration,
    ) -> Result<(), BatchError> {
        self.queue(reply, idle).await?;
        self.flush(idle).await
    }

    /// Queueing may flush a full buffer; bounded like a flush.
    async fn queue(&mut self, response: RemotingCommand, idle: Duration) -> Result<(), BatchError> {
        match tokio::time::timeout(idle, self.conn.queue(response)).await {
            Ok(res) => res.map_err(BatchError::lost),
            Err(_) => Err(BatchError::NotReading),
        }
    }

    async fn flush(&mut self, idle: Duration) -> Result<(), BatchError> {
        match tokio::time::timeout(idle, self.conn.flush()).await {
            Ok(res) => res.map_err(BatchError::lost),
            Err(_) => Err(BatchError::NotReading),
        }
    }

    /// Answers `first` and whatever else is already readable, then flushes
    /// once. A flush that cannot finish within the idle time (a peer that
    /// does not read) closes the connection, bounding what it can make us buffer.
    async fn serve_batch(&mut self, first: Inbound) -> Result<(), BatchError> {
        let idle = self.service.limits().idle;
        let mut next = Some(first);
        let mut served = 0;
        while let Some(inbound) = next.take() {
            if let Some(response) = self.serve(inbound, idle).await? {
                self.queue(response, idle).await?;
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
        self.flush(idle).await?;
        self.conn.release_large_buffers();
        Ok(())
    }

    /// One request's answer, if it gets one now. A frame that came head
    /// first is served from its head when that is enough (its body's rest
    /// is then dropped unread), or else read whole first. A request the
    /// service answers concurrently gets its reply later, through
    /// [`Replies`].
    async fn serve(
        &mut self,
        inbound: Inbound,
        idle: Duration,
    ) -> Result<Option<RemotingCommand>, BatchError> {
        let conn = self.conn_info();
        let frame = match inbound {
            Inbound::Whole(frame) => frame,
            Inbound::Head(head) => {
                let served = if head.cmd.is_response() {
                    Some(None)
                } else {
                    self.service.serve_head(conn, &head)
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
        if self.service.concurrent(&frame) {
            return Ok(self.spawn(conn, frame));
        }
        Ok(self.service.call(conn, frame).await)
    }

    /// Answers `req` on a task of its own; what goes out now is only a
    /// SYSTEM_BUSY when the connection has too many in flight.
    fn spawn(&mut self, conn: Conn, req: RemotingCommand) -> Option<RemotingCommand> {
        let max = self.service.limits().max_in_flight;
        let replies = self
            .replies
            .get_or_insert_with(|| Box::new(Replies::new(max)));
        let Ok(permit) = replies.in_flight.clone().try_acquire_owned() else {
            return (!req.is_oneway()).then(|| {
                req.response(
                    ResponseCode::SYSTEM_BUSY,
                    Some("too many requests in flight on this connection".into()),
                )
            });
        };
        let (service, tx) = (self.service.clone(), replies.tx.clone());
        tokio::spawn(answer_later(service, conn, req, tx, permit));
        None
    }
}

async fn answer_later<S: Service>(
    service: Arc<S>,
    conn: Conn,
    req: RemotingCommand,
    replies: mpsc::Sender<RemotingCommand>,
    permit: OwnedSemaphorePermit,
) {
    if let Some(reply) = service.call(conn, req).await {
        // The connection may be gone; the reply then goes nowhere.
        let _ = replies.send(reply).await;
    }
    drop(permit);
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

    fn log<S: Service>(self, handler: &Handler<S>) {
        let (id, peer) = (handler.id, handler.peer);
        match self {
            BatchError::BadFrame(err) => handler.bad_frame(&err),
            BatchError::Lost(err) => {
                tracing::debug!(id, ?peer, error = %err, "connection lost")
            }
            BatchError::NotReading => tracing::info!(
                id,
                ?peer,
                "peer does not read its responses; closing connection"
            ),
            BatchError::Stalled(idle) => tracing::info!(
                id,
                ?peer,
                ?idle,
                "peer stopped sending in the middle of a frame; closing connection"
            ),
        }
    }
}
