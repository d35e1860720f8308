//! Slow, idle and vanishing clients cannot hold the server's resources.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn idle_connection_is_closed_and_its_broker_removed() {
    let server = InProcess::start(&[("serverChannelMaxIdleTimeSeconds", "1")]);
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
    let server = InProcess::start(&[("serverChannelMaxIdleTimeSeconds", "1")]);
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
    let pid = server.child.id();
    let rss_before = rss_kib(pid);
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        // The write fails once the server gives up on us.
        let result = s.write_all(&flood);
        (s, result.is_err())
    });
    // Meanwhile the server keeps serving others, and what it holds for the
    // non-reader stays bounded (its ~30 MB of answers are never all buffered).
    let mut rss_peak = rss_before;
    for _ in 0..50 {
        assert_eq!(server.client().call(request(106, &[])).code, 0);
        rss_peak = rss_peak.max(rss_kib(pid));
    }
    while !writer.is_finished() {
        rss_peak = rss_peak.max(rss_kib(pid));
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("non-reader: server RSS {rss_before} KiB, peak {rss_peak} KiB");
    assert!(
        rss_peak < rss_before + 8 * 1024,
        "server buffered for a non-reader: RSS {rss_before} KiB -> {rss_peak} KiB"
    );
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

/// Raises this test process's open-file limit (inherited by the server it
/// starts) so it can hold `needed` sockets; root may raise the hard limit too.
fn raise_own_fd_limit(needed: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain struct in/out calls.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_max < needed {
            let raised = libc::rlimit {
                rlim_cur: needed,
                rlim_max: needed,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
        assert!(
            limit.rlim_max >= needed,
            "this test needs an open-file limit of {needed} (ulimit -Hn is {})",
            limit.rlim_max
        );
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// 10,000 clients connect and stay idle (half of them after one lookup):
/// all are held and the server keeps answering; after
/// serverChannelMaxIdleTimeSeconds every one is closed and its memory given back.
#[test]
fn ten_thousand_idle_connections_are_held_then_closed() {
    const N: usize = 10_000;
    raise_own_fd_limit(N as u64 + 1000);
    let server = Server::start(&[("serverChannelMaxIdleTimeSeconds", "10")]);
    let pid = server.child.id();
    let mut broker = server.client();
    broker.call(register_request(
        "broker-a",
        0,
        "127.0.0.1:10911",
        register_body(1, &["T1", "T2"]),
    ));
    let baseline_fds = open_fds(pid);
    let rss_before = rss_kib(pid);

    let started = Instant::now();
    let mut idle: Vec<Client> = Vec::with_capacity(N);
    for i in 0..N {
        let mut c = server.client();
        if i % 2 == 0 {
            assert_eq!(c.call(route_request("T1")).code, 0);
        }
        idle.push(c);
    }
    eventually(
        Duration::from_secs(20),
        "server holds every connection",
        || open_fds(pid) >= baseline_fds + N,
    );
    // Idle connections give their buffers back after a short grace: under
    // 8 KiB each in all (about 5 KiB measured, memory the allocator keeps included).
    eventually(
        Duration::from_secs(8),
        "idle connections hold little memory",
        || rss_kib(pid).saturating_sub(rss_before) < N as u64 * 8,
    );
    let rss_held = rss_kib(pid);
    eprintln!(
        "{N} connections opened in {:?}; server RSS {rss_before} KiB -> {rss_held} KiB ({} bytes/connection)",
        started.elapsed(),
        (rss_held.saturating_sub(rss_before)) * 1024 / N as u64
    );
    // All still served: the oldest, the newest, and a new client.
    assert_eq!(idle[1].call(route_request("T1")).code, 0);
    assert_eq!(idle[N - 1].call(route_request("T1")).code, 0);
    assert_eq!(server.client().call(route_request("T1")).code, 0);

    // Idle time passes: every one of them is closed by the server.
    eventually(Duration::from_secs(40), "idle connections closed", || {
        open_fds(pid) < baseline_fds
    });
    for c in idle.iter_mut().step_by(97) {
        assert!(c.is_closed_by_server());
    }
}
