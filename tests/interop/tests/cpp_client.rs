//! The C++ RocketMQ client (rocketmq-client-cpp 2.0, through the
//! rocketmq-client-python 0.5.0rc2 wheel that bundles it) routes through
//! namesrv: `tests/interop-python/cpp_client.py` registers two brokers it
//! plays, the C++ producer must spread SEND_OK sends over exactly the write
//! queues of the route namesrv gave it (fastjson form, numeric keys), and a
//! C++ push consumer must pull from exactly its read queues. When the script
//! exits its registration connections close, and namesrv drops both brokers
//! at once.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use namesrv_interop::*;

/// `$CPP_CLIENT_PYTHON`: a Python with rocketmq-client-python installed
/// (scripts/interop.sh makes one), else `python3`.
fn python() -> PathBuf {
    std::env::var_os("CPP_CLIENT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("python3"))
}

#[test]
fn cpp_producer_and_consumer_use_the_queues_of_the_route_from_namesrv() {
    let dir = tempfile::tempdir().unwrap();
    let namesrv = Namesrv::start(&dir.path().join("namesrv"), &[]);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../interop-python/cpp_client.py");
    // The C++ client writes its logs under $HOME/logs/rocketmq-cpp.
    let home = dir.path().join("cpp-home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new(python())
        .arg(&script)
        .env("NAMESRV_ADDR", namesrv.addr_string())
        .env("HOME", &home)
        .output()
        .expect("run python (scripts/interop.sh installs rocketmq-client-python)");
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        out.status.success(),
        "C++ client test failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        cpp_logs(&home)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("sends SEND_OK over the 6 queues"));
    assert!(stdout.contains("consumer pulled from the 5 read queues"));

    // The played brokers' connections closed with the script.
    let ns = namesrv.addr;
    wait_for(
        Duration::from_secs(5),
        "brokers removed when their connections closed",
        || raw_call(ns, request(105, &[("topic", "CppInteropTopic")])).code == 17,
    );
    let clusters = cluster_info(namesrv.addr);
    assert!(
        clusters["brokerAddrTable"]
            .as_object()
            .is_none_or(|t| t.is_empty()),
        "{clusters}"
    );
}

fn cpp_logs(home: &std::path::Path) -> String {
    let Ok(entries) = std::fs::read_dir(home.join("logs/rocketmq-cpp")) else {
        return "(no C++ client log)".into();
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect::<Vec<_>>()
        .join("\n")
}
