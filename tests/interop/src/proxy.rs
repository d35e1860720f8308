//! The RocketMQ 5 gRPC path: Java's `rocketmq-proxy` (5.5.0, from the
//! launcher `scripts/java-peers.sh` installs) in cluster mode, and the gRPC
//! client (rocketmq-client-java, Maven Central) running
//! `tests/interop-java/ProxyClient.java` against it. The proxy is killed by
//! PID when dropped, like every Java peer; the client is killed if it outlives
//! its deadline.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::java::{free_port, java_peers_dir, run_bounded, JavaProcess, JavaVersion, ToolOutput};
use crate::process::manifest_dir;

/// The rocketmq-client-java release `scripts/java-peers.sh` installs.
pub const GRPC_CLIENT_VERSION: &str = "5.2.0";

/// Small heap, quick JIT: the proxy relays a handful of requests.
const PROXY_JVM: &str = "-Xms256m -Xmx256m -XX:MaxDirectMemorySize=128m -XX:+UseSerialGC \
     -XX:TieredStopAtLevel=1";
const CLIENT_JVM: &str = "-Xms64m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";

/// A Java proxy (`mqproxy -pm cluster`): a gRPC front of the brokers it finds
/// through `namesrvAddr`.
pub struct JavaProxy {
    pub process: JavaProcess,
    /// Where gRPC clients connect (`grpcServerPort`).
    pub grpc: SocketAddr,
    /// Its remoting listener (`remotingListenPort`), for 4.x-protocol clients.
    pub remoting: SocketAddr,
}

impl JavaProxy {
    /// Starts a 5.5.0 proxy in cluster mode in front of `cluster`, whose
    /// brokers it looks up in `namesrv` (`;`-separated addresses), with its
    /// files under `dir`; returns once both its listeners accept connections.
    pub fn start_cluster(dir: &Path, namesrv: &str, cluster: &str) -> JavaProxy {
        std::fs::create_dir_all(dir).unwrap();
        let grpc_port = free_port();
        let remoting_port = free_port();
        let conf = serde_json::json!({
            "rocketMQClusterName": cluster,
            "namesrvAddr": namesrv,
            "proxyMode": "cluster",
            "grpcServerPort": grpc_port,
            "remotingListenPort": remoting_port,
        });
        let file = dir.join("proxy.json");
        std::fs::write(&file, conf.to_string()).unwrap();
        let args = [
            OsStr::new("-pc"),
            file.as_os_str(),
            OsStr::new("-pm"),
            OsStr::new("cluster"),
        ];
        // Its self-signed TLS certificates (tlsTestModeEnable) go there too.
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let jvm = format!("{PROXY_JVM} -Djava.io.tmpdir={}", tmp.display());
        let mut process = JavaProcess::spawn_args(
            JavaVersion::V5_5_0,
            "mqproxy",
            "java-proxy",
            &args,
            &dir.join("home"),
            &jvm,
        );
        let grpc: SocketAddr = format!("127.0.0.1:{grpc_port}").parse().unwrap();
        let remoting: SocketAddr = format!("127.0.0.1:{remoting_port}").parse().unwrap();
        process.wait_listening(remoting, Duration::from_secs(120));
        process.wait_listening(grpc, Duration::from_secs(120));
        println!("java proxy 5.5.0 (cluster mode): gRPC on {grpc}, remoting on {remoting}");
        JavaProxy {
            process,
            grpc,
            remoting,
        }
    }

    /// The proxy's own log so far (`proxy.log` under its `user.home`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.process.home.join("logs/rocketmqlogs/proxy.log"))
            .unwrap_or_default()
    }
}

/// `lib/` of the gRPC client `scripts/java-peers.sh` installs.
pub fn grpc_client_lib() -> PathBuf {
    let lib = java_peers_dir()
        .join(format!("java-grpc-client-{GRPC_CLIENT_VERSION}"))
        .join("lib");
    assert!(
        lib.is_dir(),
        "gRPC client missing: {} (run scripts/java-peers.sh)",
        lib.display()
    );
    lib
}

/// Runs `tests/interop-java/ProxyClient.java` against the gRPC endpoint
/// `endpoint`: it sends `body` to `topic` and receives it in `group`, giving
/// up after `seconds`. Its client logs go under `dir`; the test fails if the
/// JVM has not exited 30 s past that deadline (it is killed then).
pub fn proxy_client(
    dir: &Path,
    endpoint: SocketAddr,
    topic: &str,
    group: &str,
    body: &str,
    seconds: u64,
) -> ToolOutput {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let source = manifest_dir().join("../interop-java/ProxyClient.java");
    let classpath = grpc_client_lib().join("*");
    let mut cmd = Command::new("java");
    cmd.args(CLIENT_JVM.split_whitespace())
        .arg(format!("-Drocketmq.log.root={}", logs.display()))
        .arg(format!("-Duser.home={}", dir.display()))
        .arg("-cp")
        .arg(classpath)
        .arg(source)
        .arg(endpoint.to_string())
        .args([topic, group, body, &seconds.to_string()]);
    run_bounded(cmd, Duration::from_secs(seconds + 30), "ProxyClient")
}
