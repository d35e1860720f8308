//! Slow, idle and vanishing clients cannot hold the server's resources.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn idle_connection_is_closed_and_its_broker_removed() {
    let server = Server::start(&[("serverChannelMaxIdleTimeSeconds", "1")]);
    let mut broker = server.client();
    broker.call(register_request(
        "broker-a",
        0,
        "127.0.0.1:10911",
        register_body(1, &["T1", "T2"]),
    ));
    let started = Instant::now();
    assert!(broker.is_closed_by_server());
    assert!(started.elapsed() < Duration::from_secs(5));
    let mut c = server.client();
    eventually(Duration::from_secs(5), "idle broker removed", || {
        c.call(route_request("T1")).code == 17
    });
}

#[test]
fn half_a_frame_then_silence_is_closed() {
    let server = Server::start(&[("serverChannelMaxIdleTimeSeconds", "1")]);
    let mut stalled = server.client();
    stalled.send_raw(&[0, 0, 0, 100, 0, 0]);
    let started = Instant::now();
    assert!(stalled.is_closed_by_server());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn client_that_never_reads_is_cut_off_without_hurting_others() {
    let server = Server::start(&[("serverChannelMaxIdleTimeSeconds", "1")]);
    // A pipelined flood whose answers (~30 MB) are never read.
    let mut flood = Vec::new();
    for i in 0..200_000 {
        let mut r = route_request("T1");
        r.opaque = i;
        flood.extend_from_slice(&namesrv::remoting::codec::encode_frame(&r));
    }
    let addr = server.addr;
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        // The write fails once the server gives up on us.
        let result = s.write_all(&flood);
        (s, result.is_err())
    });
    // Meanwhile the server keeps serving others.
    for _ in 0..50 {
        assert_eq!(server.client().call(request(106, &[])).code, 0);
    }
    let (mut s, write_failed) = writer.join().unwrap();
    // Either the write was refused, or reading now ends in a close: the
    // server stopped serving the non-reader.
    if !write_failed {
        use std::io::Read;
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut sink = vec![0u8; 1 << 20];
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match s.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => assert!(
                    Instant::now() < deadline,
                    "server never closed the non-reader"
                ),
            }
        }
    }
    assert!(server
        .wait_log("peer does not read its responses", Duration::from_secs(10))
        .contains("closing"));
    assert_eq!(server.client().call(request(106, &[])).code, 0);
}
