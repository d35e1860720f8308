//! Start-up behaviour of the binary: config file, -p, bad values, -D overrides.

mod common;

use std::process::Command;

use common::*;

fn namesrv(args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn print_config_shows_effective_values_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("n.properties");
    std::fs::write(&conf, "# comment\nlistenPort = 9999\nsomeUnknownKey=1\n").unwrap();
    let out = namesrv(&[
        "-c",
        conf.to_str().unwrap(),
        "-p",
        "-D",
        "scanNotActiveBrokerInterval=700",
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().any(|l| l == "listenPort=9999"), "{stdout}");
    assert!(stdout
        .lines()
        .any(|l| l == "scanNotActiveBrokerInterval=700"));
    assert!(stdout.lines().any(|l| l == "enableAllTopicList=true"));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("someUnknownKey"),
        "unknown keys are warned about: {stderr}"
    );
}

#[test]
fn shipped_config_file_is_valid() {
    let conf = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/namesrv.properties");
    let out = namesrv(&["-c", conf, "-p"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.lines().any(|l| l == "listenPort=9876"));
    assert!(!String::from_utf8(out.stderr).unwrap().contains("unknown"));
}

#[test]
fn bad_value_and_missing_file_exit_with_code_one() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("n.properties");
    std::fs::write(&conf, "listenPort=abc\n").unwrap();
    let out = namesrv(&["-c", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("listenPort") && stderr.contains("abc"),
        "{stderr}"
    );

    let out = namesrv(&["-c", "/nonexistent/namesrv.properties"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("/nonexistent/namesrv.properties"));

    let out = namesrv(&["-p", "-D", "enableTopicList=maybe"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn tls_settings_are_printed_checked_and_required_when_enforcing() {
    let out = namesrv(&["-p", "-D", "tls.server.mode=enforcing"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.lines().any(|l| l == "tls.server.mode=enforcing"),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l == "tls.test.mode.enable=true"),
        "{stdout}"
    );

    let out = namesrv(&["-p", "-D", "tls.server.mode=enforced"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr).unwrap().contains("enforced"));

    // Enforcing TLS without a certificate cannot serve anyone: refuse to start.
    let dir = tempfile::tempdir().unwrap();
    let out = namesrv(&[
        "-D",
        "listenPort=0",
        "-D",
        "bindAddress=127.0.0.1",
        "-D",
        &format!("kvConfigPath={}", dir.path().join("kv.json").display()),
        "-D",
        &format!("tls.config.file={}", dir.path().join("none").display()),
        "-D",
        "tls.server.mode=enforcing",
        "-D",
        "tls.test.mode.enable=false",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("tls.server.certPath"), "{stderr}");
}

#[test]
fn corrupt_kv_file_is_a_clear_start_up_error() {
    let dir = tempfile::tempdir().unwrap();
    let kv = dir.path().join("kvConfig.json");
    std::fs::write(&kv, "{\"configTable\":{").unwrap();
    let out = namesrv(&[
        "-D",
        &format!("kvConfigPath={}", kv.display()),
        "-D",
        "listenPort=0",
        "-D",
        "bindAddress=127.0.0.1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("kvConfig.json"));
}

#[test]
fn help_lists_the_options() {
    let out = namesrv(&["-h"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    for flag in ["-c", "-p", "-D"] {
        assert!(stdout.contains(flag), "{stdout}");
    }
}
