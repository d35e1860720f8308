//! Child processes and ports: what every peer the tests start needs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn require(path: &Path, what: &str) {
    assert!(
        path.exists(),
        "{what} not found at {} (run scripts/peers.sh)",
        path.display()
    );
}

/// A loopback port that is free now, together with `port - 2` and `port + 1`
/// (the broker also listens on those: fast remoting and HA).
pub fn free_broker_port() -> u16 {
    for _ in 0..200 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !(1030..=65000).contains(&port) {
            continue;
        }
        let all_free = [port - 2, port, port + 1]
            .iter()
            .all(|p| TcpListener::bind(("127.0.0.1", *p)).is_ok());
        if all_free {
            return port;
        }
    }
    panic!("no free port triple found");
}

/// Polls `cond` until true, panicking with `what` after `timeout`.
pub fn wait_for(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn spawn_log_drain(
    name: &'static str,
    stream: impl Read + Send + 'static,
    path: PathBuf,
) {
    std::thread::spawn(move || {
        let mut file = std::fs::File::create(&path).ok();
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Some(f) = file.as_mut() {
                let _ = writeln!(f, "{line}");
            }
            if std::env::var_os("INTEROP_VERBOSE").is_some() {
                eprintln!("[{name}] {line}");
            }
        }
    });
}
