//! The HTTP port's accept side: the remoting port's TLS mode applies here
//! too (same certificate, same plaintext/TLS decision by the first byte),
//! so an enforcing server never serves its metrics or API in the clear.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::metrics::Metrics;
use crate::net::stream::Stream;
use crate::net::tls::{Refused, Tls};

/// How long a client may take to send its first byte and finish a handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections whose handshake finished, waiting for the HTTP server.
const READY_BACKLOG: usize = 1024;

/// An [`axum::serve::Listener`] over TLS or plaintext per the TLS mode.
/// Handshakes run in their own tasks, so one slow client does not hold up
/// the others' accepts.
pub struct HttpListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(Stream, SocketAddr)>,
}

impl HttpListener {
    pub fn new(tcp: TcpListener, tls: Arc<Tls>, metrics: Arc<Metrics>) -> io::Result<HttpListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(READY_BACKLOG);
        tokio::spawn(accept_loop(tcp, tls, metrics, tx));
        Ok(HttpListener { local, ready })
    }
}

async fn accept_loop(
    tcp: TcpListener,
    tls: Arc<Tls>,
    metrics: Arc<Metrics>,
    ready: mpsc::Sender<(Stream, SocketAddr)>,
) {
    loop {
        let (socket, peer) = tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // EMFILE and friends pass; back off instead of spinning.
                    tracing::debug!(error = %err, "HTTP accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            // The server is gone: stop accepting.
            _ = ready.closed() => return,
        };
        let (tls, metrics, ready) = (tls.clone(), metrics.clone(), ready.clone());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(socket)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(Refused::Eof)) | Err(_) => return,
                Ok(Err(err)) => {
                    if matches!(err, Refused::Handshake(_)) {
                        metrics.tls_handshake("failed");
                    }
                    tracing::debug!(%peer, error = %err, "HTTP connection refused");
                    return;
                }
            };
            if stream.is_tls() {
                metrics.tls_handshake("ok");
            }
            let _ = ready.send((stream, peer)).await;
        });
    }
}

impl axum::serve::Listener for HttpListener {
    type Io = Stream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Stream, SocketAddr) {
        match self.ready.recv().await {
            Some(pair) => pair,
            // The accept loop only ends once this receiver is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
