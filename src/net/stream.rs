//! A client socket as the connection sees it: plaintext TCP or TLS over TCP.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

pub enum Stream {
    Plain(TcpStream),
    // Boxed: the TLS state is large and most connections are plaintext.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// Reads and drops the next `n` bytes. Over plain TCP on Linux the
    /// kernel drops them without copying them out (`recv` with `MSG_TRUNC`).
    pub async fn discard(&mut self, mut n: usize) -> io::Result<()> {
        if let Stream::Plain(tcp) = self {
            n = discard_in_kernel(tcp, n).await?;
        }
        let mut scratch = vec![0u8; n.min(DISCARD_CHUNK)];
        while n > 0 {
            let want = n.min(scratch.len());
            match self.read(&mut scratch[..want]).await? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                got => n -= got,
            }
        }
        Ok(())
    }

    /// A guard by which a plain socket reports itself readable only once
    /// as many bytes are waiting as the reader still expects (or the peer
    /// closed): reading a known amount then takes one wake-up instead of
    /// one per arriving segment. TLS streams are left as they are (their
    /// records are larger than what they carry).
    pub fn low_water(&self) -> LowWater {
        match self {
            Stream::Plain(tcp) => LowWater::of(tcp),
            Stream::Tls(_) => LowWater::NONE,
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What a read into user space drops at a time, where the kernel cannot.
const DISCARD_CHUNK: usize = 64 * 1024;

/// Drops `n` bytes in the kernel; answers how many are left for the caller
/// to read instead (all of them where the kernel cannot drop them).
#[cfg(target_os = "linux")]
async fn discard_in_kernel(tcp: &TcpStream, mut n: usize) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let low_water = LowWater::of(tcp);
    while n > 0 {
        low_water.expect(n);
        tcp.readable().await?;
        let dropped = tcp.try_io(Interest::READABLE, || {
            // SAFETY: with MSG_TRUNC a TCP socket drops the bytes without
            // writing to the buffer, so no buffer is passed; the descriptor
            // is the live socket borrowed from `tcp`.
            let got = unsafe {
                libc::recv(
                    tcp.as_raw_fd(),
                    std::ptr::null_mut(),
                    n,
                    libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                )
            };
            if got < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(got as usize)
            }
        });
        match dropped {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(got) => n -= got.min(n),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
    Ok(0)
}

#[cfg(not(target_os = "linux"))]
async fn discard_in_kernel(_tcp: &TcpStream, n: usize) -> io::Result<usize> {
    Ok(n)
}

/// SO_RCVLOWAT of a socket, put back to 1 (the default) on drop.
pub struct LowWater {
    #[cfg(target_os = "linux")]
    fd: Option<std::os::fd::RawFd>,
}

impl LowWater {
    const NONE: LowWater = LowWater {
        #[cfg(target_os = "linux")]
        fd: None,
    };

    #[cfg(target_os = "linux")]
    fn of(tcp: &TcpStream) -> LowWater {
        use std::os::fd::AsRawFd;
        LowWater {
            fd: Some(tcp.as_raw_fd()),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn of(_tcp: &TcpStream) -> LowWater {
        LowWater::NONE
    }

    /// The next wake-up waits for `n` bytes: set before each wait to no
    /// more than the bytes still to come, or the wait could outlast the
    /// peer's sending. Linux caps the mark (at half the largest receive
    /// buffer) and grows the receive buffer to hold it.
    pub fn expect(&self, n: usize) {
        #[cfg(target_os = "linux")]
        if let Some(fd) = self.fd {
            let mark = i32::try_from(n).unwrap_or(i32::MAX).max(1);
            // A socket that refuses the option is only woken more often.
            let _ = set_low_water(fd, mark);
        }
        #[cfg(not(target_os = "linux"))]
        let _ = n;
    }
}

impl Drop for LowWater {
    fn drop(&mut self) {
        self.expect(1);
    }
}

#[cfg(target_os = "linux")]
fn set_low_water(fd: std::os::fd::RawFd, mark: i32) -> io::Result<()> {
    // SAFETY: `fd` is a live socket; the option value is a c_int read
    // from the given pointer and length.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVLOWAT,
            (&mark as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
