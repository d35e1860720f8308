//! Logs as operators get them: `--log-format json` for log shippers, and
//! warnings a peer can repeat at will held to a few lines a minute.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;

/// Starts the binary with `args` and a fresh config; its stderr lines arrive on the receiver.
fn spawn(
    args: &[&str],
) -> (
    std::process::Child,
    mpsc::Receiver<String>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("namesrv.properties");
    std::fs::write(
        &conf,
        format!(
            "listenPort=0\nhttpListenPort=0\nbindAddress=127.0.0.1\nkvConfigPath={}\nconfigStorePath={}\n",
            dir.path().join("kv.json").display(),
            dir.path().join("store.properties").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(binary())
        .arg("-c")
        .arg(&conf)
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx, dir)
}

#[test]
fn json_log_lines_are_objects_with_their_fields() {
    let (mut child, lines, _dir) = spawn(&["--log-format", "json"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let boot = loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no boot line");
        let value: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(value["level"].is_string(), "{line}");
        assert!(value["timestamp"].is_string(), "{line}");
        if value["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("The Name Server boot success"))
        {
            break value;
        }
    };
    let addr = boot["address"].as_str().expect("address field");
    assert!(addr.starts_with("127.0.0.1:"), "{boot}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_bad_log_format_is_refused_by_name() {
    let out = Command::new(binary())
        .args(["--log-format", "xml", "-p"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--log-format"), "{err}");
}

/// 50 connections each sending garbage: each is closed, but only the first
/// ten get a WARN line; the rest are counted for the next window.
#[test]
fn a_flood_of_bad_frames_is_rate_limited() {
    let server = Server::start(&[]);
    for _ in 0..50 {
        let mut c = server.client();
        // A frame whose header length exceeds its frame length.
        c.send_raw(&[0, 0, 0, 8, 0, 0, 0, 100, 1, 2, 3, 4]);
        assert!(c.is_closed_by_server());
    }
    // After the flood: two identical registrations and an unregistration.
    // The broker's arrival is logged once, with its fields, and the periodic
    // repeat adds no line before its removal is logged.
    let mut broker = server.client();
    for _ in 0..2 {
        let req = register_request("b1", 0, "127.0.0.1:10911", register_body(1, &["T1", "T2"]));
        assert_eq!(broker.call(req).code, 0);
    }
    let unregister = request(
        104,
        &[
            ("clusterName", "DefaultCluster"),
            ("brokerAddr", "127.0.0.1:10911"),
            ("brokerName", "b1"),
            ("brokerId", "0"),
        ],
    );
    assert_eq!(broker.call(unregister).code, 0);
    let (mut warned, mut arrivals) = (0, 0);
    loop {
        let line = server.wait_log("", Duration::from_secs(10));
        if line.contains("bad frame") {
            assert!(line.contains("WARN"), "{line}");
            warned += 1;
        }
        if line.contains("new broker registered") {
            assert!(
                line.contains("broker=b1") && line.contains("addr=127.0.0.1:10911"),
                "{line}"
            );
            arrivals += 1;
        }
        if line.contains("broker unregistered") {
            assert!(line.contains("broker=b1"), "{line}");
            break;
        }
    }
    assert_eq!(warned, 10, "bad-frame warnings logged");
    assert_eq!(
        arrivals, 1,
        "arrival lines for one broker registering twice"
    );
}
