//! Frame I/O on one client socket: reads requests, buffers responses and
//! flushes them. Knows nothing of what requests mean.

use bytes::BytesMut;
use futures::{FutureExt, SinkExt, StreamExt};
use tokio_util::codec::Framed;

use crate::remoting::{CodecError, RemotingCodec, RemotingCommand};
use crate::stream::Stream;

/// Read buffer allocated when bytes arrive: a few pipelined requests.
const READ_BUFFER: usize = 8 * 1024;

/// Silence after which a connection gives its buffers back. Clients poll
/// every 30 s, so between polls they are idle; busy ones never get here.
const IDLE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

pub struct Connection {
    framed: Framed<Stream, RemotingCodec>,
}

impl Connection {
    pub fn new(stream: Stream, max_frame: usize) -> Self {
        Connection {
            framed: Framed::with_capacity(stream, RemotingCodec::new(max_frame), 0),
        }
    }

    /// The next frame; `Ok(None)` when the peer closed cleanly between frames.
    pub async fn read_frame(&mut self) -> Result<Option<RemotingCommand>, CodecError> {
        if self.framed.read_buffer().is_empty() {
            if let Stream::Plain(tcp) = self.framed.get_ref() {
                let busy = tokio::time::timeout(IDLE_GRACE, tcp.readable()).await;
                if let Ok(ready) = busy {
                    ready?;
                } else {
                    // Idle: hold no buffers while waiting, so 10,000 idle
                    // clients cost no buffer memory. (TLS keeps its own.)
                    *self.framed.read_buffer_mut() = BytesMut::new();
                    if self.framed.write_buffer().is_empty() {
                        *self.framed.write_buffer_mut() = BytesMut::new();
                    }
                    if let Stream::Plain(tcp) = self.framed.get_ref() {
                        tcp.readable().await?;
                    }
                }
            }
            self.ensure_read_buffer();
        }
        self.framed.next().await.transpose()
    }

    /// Reads go straight into a buffer of useful size, not one grown a byte
    /// at a time from the empty one an idle connection keeps.
    fn ensure_read_buffer(&mut self) {
        let read = self.framed.read_buffer_mut();
        if read.capacity() < READ_BUFFER {
            read.reserve(READ_BUFFER);
        }
    }

    /// A frame that can be had without waiting (already buffered or readable),
    /// so pipelined requests are answered with one flush.
    pub fn try_read_frame(&mut self) -> Option<Result<RemotingCommand, CodecError>> {
        self.ensure_read_buffer();
        self.framed.next().now_or_never().flatten()
    }

    /// Queues a frame; it is sent by the next [`flush`](Self::flush).
    pub async fn queue(&mut self, cmd: RemotingCommand) -> Result<(), CodecError> {
        self.framed.feed(cmd).await
    }

    pub async fn flush(&mut self) -> Result<(), CodecError> {
        self.framed.flush().await
    }

    /// Gives back the memory of a large frame once it has been served, so a
    /// broker connection does not keep a megabyte-sized register buffer
    /// between registrations.
    pub fn release_large_buffers(&mut self) {
        const KEEP: usize = 64 * 1024;
        let read = self.framed.read_buffer_mut();
        if read.capacity() > KEEP && read.len() < KEEP {
            let mut smaller = BytesMut::with_capacity(KEEP.max(read.len()));
            smaller.extend_from_slice(read);
            *read = smaller;
        }
        let write = self.framed.write_buffer_mut();
        if write.capacity() > KEEP && write.is_empty() {
            *write = BytesMut::new();
        }
    }

    pub fn peer(&self) -> Option<std::net::SocketAddr> {
        self.framed.get_ref().peer_addr().ok()
    }
}
