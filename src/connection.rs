//! Frame I/O on one client socket: reads requests, buffers responses and
//! flushes them. Knows nothing of what requests mean.

use bytes::BytesMut;
use futures::{FutureExt, SinkExt, StreamExt};
use tokio_util::codec::Framed;

use crate::remoting::{CodecError, RemotingCodec, RemotingCommand};
use crate::stream::Stream;

pub struct Connection {
    framed: Framed<Stream, RemotingCodec>,
}

impl Connection {
    pub fn new(stream: Stream, max_frame: usize) -> Self {
        Connection {
            framed: Framed::new(stream, RemotingCodec::new(max_frame)),
        }
    }

    /// The next frame; `Ok(None)` when the peer closed cleanly between frames.
    pub async fn read_frame(&mut self) -> Result<Option<RemotingCommand>, CodecError> {
        self.framed.next().await.transpose()
    }

    /// A frame that can be had without waiting (already buffered or readable),
    /// so pipelined requests are answered with one flush.
    pub fn try_read_frame(&mut self) -> Option<Result<RemotingCommand, CodecError>> {
        self.framed.next().now_or_never().flatten()
    }

    /// Queues a frame; it is sent by the next [`flush`](Self::flush).
    pub async fn queue(&mut self, cmd: RemotingCommand) -> Result<(), CodecError> {
        self.framed.feed(cmd).await
    }

    pub async fn flush(&mut self) -> Result<(), CodecError> {
        self.framed.flush().await
    }

    /// Gives back the memory of a large frame once it has been served, so an
    /// idle broker connection does not keep a megabyte-sized register buffer.
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
