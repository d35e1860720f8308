//! Frame I/O on one client socket: reads requests, buffers responses and
//! flushes them. Knows nothing of what requests mean.

use std::time::Duration;

use bytes::{Buf, BufMut, BytesMut};
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::io::AsyncReadExt;
use tokio_util::codec::Framed;

use crate::net::stream::Stream;
use crate::remoting::{CodecError, FrameHead, HeadFirst, Inbound, RemotingCommand, ServerCodec};

/// Read buffer allocated when bytes arrive: a few pipelined requests.
const READ_BUFFER: usize = 8 * 1024;

/// Silence after which a connection gives its buffers back. Clients poll
/// every 30 s, so between polls they are idle; busy ones never get here.
const IDLE_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("nothing received for {0:?}")]
    Idle(Duration),
}

impl From<std::io::Error> for ReadError {
    fn from(err: std::io::Error) -> Self {
        ReadError::Codec(CodecError::Io(err))
    }
}

pub struct Connection {
    framed: Framed<Stream, ServerCodec>,
}

impl Connection {
    pub fn new(stream: Stream, max_frame: usize, head_first: HeadFirst) -> Self {
        Connection {
            framed: Framed::new(stream, ServerCodec::new(max_frame, head_first)),
        }
    }

    /// The next frame within `idle`; `Ok(None)` when the peer closed
    /// cleanly between frames, `Err(Idle)` when it sent nothing in time.
    ///
    /// A client silent for [`IDLE_GRACE`] between requests gives its
    /// buffers back and waits without them, so 10,000 idle clients cost no
    /// buffer memory; busy clients keep theirs (one timer per wait either way).
    pub async fn read_frame(&mut self, idle: Duration) -> Result<Option<Inbound>, ReadError> {
        let grace = IDLE_GRACE.min(idle);
        self.ensure_read_buffer();
        if let Ok(read) = tokio::time::timeout(grace, self.framed.next()).await {
            return Ok(read.transpose()?);
        }
        if self.framed.read_buffer().is_empty() {
            self.release_idle_buffers();
        }
        let rest = async {
            if let Stream::Plain(tcp) = self.framed.get_ref() {
                if self.framed.read_buffer().capacity() == 0 {
                    tcp.readable().await?;
                }
            }
            self.ensure_read_buffer();
            self.framed.next().await.transpose()
        };
        match tokio::time::timeout(idle.saturating_sub(grace), rest).await {
            Ok(read) => Ok(read?),
            Err(_) => Err(ReadError::Idle(idle)),
        }
    }

    /// Frees both buffers if nothing is pending in them (TLS keeps its own).
    fn release_idle_buffers(&mut self) {
        if self.framed.get_ref().is_tls() {
            return;
        }
        *self.framed.read_buffer_mut() = BytesMut::new();
        if self.framed.write_buffer().is_empty() {
            *self.framed.write_buffer_mut() = BytesMut::new();
        }
    }

    /// Reads go straight into a buffer of useful size, not one grown a byte
    /// at a time from the empty one an idle connection keeps. Only then: a
    /// buffer whose capacity shrank by frames split off it is left to the
    /// codec (reserving here would reallocate on every read).
    fn ensure_read_buffer(&mut self) {
        let read = self.framed.read_buffer_mut();
        if read.capacity() == 0 {
            // A new buffer, not `reserve` on the empty one: BytesMut sizes
            // the buffers it later reallocates by the capacity it was
            // created with, and one created empty would read a byte at a time.
            *read = BytesMut::with_capacity(READ_BUFFER);
        }
    }

    /// A frame that can be had without waiting (already buffered or readable),
    /// so pipelined requests are answered with one flush.
    pub fn try_read_frame(&mut self) -> Option<Result<Inbound, CodecError>> {
        self.ensure_read_buffer();
        self.framed.next().now_or_never().flatten()
    }

    /// The rest of `head`'s body, read within `idle`: the whole frame.
    pub async fn read_rest(
        &mut self,
        head: FrameHead,
        idle: Duration,
    ) -> Result<RemotingCommand, ReadError> {
        let FrameHead { mut cmd, body_len } = head;
        let mut body = BytesMut::with_capacity(body_len);
        body.extend_from_slice(&cmd.body);
        let buffered = self.framed.read_buffer_mut();
        let early = (body_len - body.len()).min(buffered.len());
        body.extend_from_slice(&buffered[..early]);
        buffered.advance(early);
        let stream = self.framed.get_mut();
        let low_water = stream.low_water();
        let rest = async {
            while body.len() < body_len {
                // Limited, so the next frame's bytes stay on the socket.
                let want = body_len - body.len();
                low_water.expect(want);
                let mut room = (&mut body).limit(want);
                if stream.read_buf(&mut room).await? == 0 {
                    return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
                }
            }
            Ok(())
        };
        match tokio::time::timeout(idle, rest).await {
            Ok(read) => read?,
            Err(_) => return Err(ReadError::Idle(idle)),
        }
        cmd.body = body.freeze();
        Ok(cmd)
    }

    /// Drops the rest of `head`'s body, within `idle`, without keeping it.
    pub async fn discard_rest(
        &mut self,
        head: &FrameHead,
        idle: Duration,
    ) -> Result<(), ReadError> {
        let buffered = self.framed.read_buffer_mut();
        let early = head.rest_len().min(buffered.len());
        buffered.advance(early);
        let rest = self.framed.get_mut().discard(head.rest_len() - early);
        match tokio::time::timeout(idle, rest).await {
            Ok(read) => Ok(read?),
            Err(_) => Err(ReadError::Idle(idle)),
        }
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
}
