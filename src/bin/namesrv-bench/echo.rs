//! `echo`: the ceiling server, answering every frame with a fixed body.

use std::net::SocketAddr;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_util::codec::Framed;

use namesrv::remoting::{RemotingCodec, ResponseCode};

pub(crate) async fn run_echo(listen: SocketAddr, body_size: usize) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let body = Bytes::from(vec![b'x'; body_size]);
    eprintln!("echo listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let mut conn = Framed::new(stream, RemotingCodec::new(64 << 20));
            while let Some(Ok(first)) = conn.next().await {
                let mut next = Some(first);
                // Answer everything already readable, then flush once, as the server does.
                while let Some(req) = next.take() {
                    let resp = req
                        .response(ResponseCode::SUCCESS, None)
                        .with_body(body.clone());
                    if conn.feed(resp).await.is_err() {
                        return;
                    }
                    next = futures::FutureExt::now_or_never(conn.next())
                        .flatten()
                        .and_then(Result::ok);
                }
                if conn.flush().await.is_err() {
                    return;
                }
            }
        });
    }
}
