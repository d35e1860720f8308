//! A minimal blocking remoting client: one request, one answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::BytesMut;
use namesrv::remoting::codec::encode_frame;
use namesrv::remoting::{RemotingCodec, RemotingCommand};
use tokio_util::codec::Decoder;

pub fn request(code: i32, fields: &[(&str, &str)]) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(code, 1);
    for (k, v) in fields {
        cmd.ext_fields.insert(k.to_string(), v.to_string());
    }
    cmd
}

/// One request on a fresh connection; the answer.
pub fn raw_call(addr: SocketAddr, cmd: RemotingCommand) -> RemotingCommand {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(&encode_frame(&cmd)).unwrap();
    let mut codec = RemotingCodec::new(64 << 20);
    let mut buf = BytesMut::new();
    loop {
        if let Some(resp) = codec.decode(&mut buf).unwrap() {
            return resp;
        }
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "namesrv closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One request on a fresh connection, bounded by `timeout`; `None` if the
/// peer cannot be reached, closes, or does not answer in time.
pub fn try_call(
    addr: SocketAddr,
    cmd: RemotingCommand,
    timeout: Duration,
) -> Option<RemotingCommand> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    stream.write_all(&encode_frame(&cmd)).ok()?;
    let mut codec = RemotingCodec::new(64 << 20);
    let mut buf = BytesMut::new();
    loop {
        if let Some(resp) = codec.decode(&mut buf).ok()? {
            return Some(resp);
        }
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Cluster info as JSON (our fastjson form made standard for serde_json).
pub fn cluster_info(addr: SocketAddr) -> serde_json::Value {
    let resp = raw_call(addr, request(106, &[]));
    namesrv::json::read::parse(&resp.body).unwrap()
}
