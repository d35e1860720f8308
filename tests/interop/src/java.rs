//! The Java peers: Apache RocketMQ's own NameServer, brokers and `mqadmin`,
//! the official releases from Maven Central as `scripts/java-peers.sh`
//! installs them, started from its launchers with small heaps on loopback and
//! killed by PID when dropped (also when a test panics).

use std::ffi::OsStr;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::process::{free_broker_port, spawn_log_drain};

/// The RocketMQ releases the Java peers come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaVersion {
    V4_9_7,
    V5_3_3,
    V5_5_0,
}

impl JavaVersion {
    pub fn name(self) -> &'static str {
        match self {
            JavaVersion::V4_9_7 => "4.9.7",
            JavaVersion::V5_3_3 => "5.3.3",
            JavaVersion::V5_5_0 => "5.5.0",
        }
    }

    /// `bin/` of this release's launchers.
    pub fn bin_dir(self) -> PathBuf {
        java_peers_dir()
            .join(format!("java-{}", self.name()))
            .join("bin")
    }

    fn is_5x(self) -> bool {
        self != JavaVersion::V4_9_7
    }
}

/// Small heaps and a quick JIT: the peers serve a handful of requests.
const BROKER_JVM: &str =
    "-Xms256m -Xmx256m -XX:MaxDirectMemorySize=256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";
const NAMESRV_JVM: &str = "-Xms128m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";
const TOOL_JVM: &str = "-Xms64m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto";

/// The folder holding `java-<version>/` for each release
/// (`scripts/java-peers.sh` prints it): `$ROCKETMQ_JAVA_PEERS`, else
/// `$NAMESRV_INTEROP_CACHE`, else `~/.cache/namesrv-interop`.
pub fn java_peers_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ROCKETMQ_JAVA_PEERS") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("NAMESRV_INTEROP_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").expect("HOME is not set");
    PathBuf::from(home).join(".cache/namesrv-interop")
}

pub(crate) fn launcher(version: JavaVersion, name: &str) -> PathBuf {
    let path = version.bin_dir().join(name);
    assert!(
        path.exists(),
        "Java launcher missing: {} (run scripts/java-peers.sh)",
        path.display()
    );
    path
}

/// A JVM started by a launcher (which `exec`s java, so the PID is the JVM's).
pub struct JavaProcess {
    child: Child,
    pub name: String,
    /// `user.home` of the JVM: its logs are under `logs/rocketmqlogs/`.
    pub home: PathBuf,
}

impl JavaProcess {
    fn spawn(
        version: JavaVersion,
        launcher_name: &str,
        name: &str,
        conf: &Path,
        home: &Path,
        jvm: &str,
    ) -> JavaProcess {
        let args = [OsStr::new("-c"), conf.as_os_str()];
        Self::spawn_args(version, launcher_name, name, &args, home, jvm)
    }

    /// Starts `launcher_name` with `args` (its distribution script's).
    pub(crate) fn spawn_args(
        version: JavaVersion,
        launcher_name: &str,
        name: &str,
        args: &[&OsStr],
        home: &Path,
        jvm: &str,
    ) -> JavaProcess {
        std::fs::create_dir_all(home).unwrap();
        let mut child = Command::new(launcher(version, launcher_name))
            .args(args)
            .env("RMQ_HOME", home)
            .env("JAVA_OPT_EXT", jvm)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {launcher_name} (is `java` on PATH?): {e}"));
        let out_name: &'static str = Box::leak(name.to_string().into_boxed_str());
        spawn_log_drain(
            out_name,
            child.stdout.take().unwrap(),
            home.join("stdout.log"),
        );
        spawn_log_drain(
            out_name,
            child.stderr.take().unwrap(),
            home.join("stderr.log"),
        );
        println!("{name}: java {launcher_name} pid {}", child.id());
        JavaProcess {
            child,
            name: name.to_string(),
            home: home.to_path_buf(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL by PID, then reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The JVM's stdout so far (launch errors land there).
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.home.join("stdout.log")).unwrap_or_default()
    }

    /// Waits until `addr` accepts connections, failing early if the JVM exits.
    pub(crate) fn wait_listening(&mut self, addr: SocketAddr, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(status) = self.exited() {
                panic!(
                    "{} exited ({status}) before listening on {addr}:\n{}",
                    self.name,
                    self.stdout()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen on {addr} within {timeout:?}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for JavaProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn write_properties(path: &Path, props: &[(String, String)]) {
    let text: String = props.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(path, text).unwrap();
}

fn owned(props: &[(&str, &str)]) -> Vec<(String, String)> {
    props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A loopback port free now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The Java NameServer (`mqnamesrv`).
pub struct JavaNamesrv {
    pub process: JavaProcess,
    pub addr: SocketAddr,
}

impl JavaNamesrv {
    /// Starts it on a free loopback port with its files under `dir`, `extra`
    /// added to its properties file; returns once it accepts connections.
    pub fn start(version: JavaVersion, dir: &Path, extra: &[(&str, &str)]) -> JavaNamesrv {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let mut props = owned(&[
            ("listenPort", &port.to_string()),
            ("bindAddress", "127.0.0.1"),
            (
                "kvConfigPath",
                &dir.join("kvConfig.json").display().to_string(),
            ),
            (
                "configStorePath",
                &dir.join("namesrv.properties.store").display().to_string(),
            ),
        ]);
        props.extend(owned(extra));
        let conf = dir.join("namesrv.properties");
        write_properties(&conf, &props);
        let mut process = JavaProcess::spawn(
            version,
            "mqnamesrv",
            "java-namesrv",
            &conf,
            &dir.join("home"),
            NAMESRV_JVM,
        );
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        process.wait_listening(addr, Duration::from_secs(60));
        println!("java namesrv {} on {addr}", version.name());
        JavaNamesrv { process, addr }
    }
}

/// A Java 5.5.0 NameServer with its embedded controller
/// (`enableControllerInNamesrv=true`), a group of one.
pub struct JavaControllerNamesrv {
    pub namesrv: JavaNamesrv,
    /// The controller's port (this node's address in `controllerDLegerPeers`).
    pub controller: SocketAddr,
}

impl JavaControllerNamesrv {
    pub fn start(dir: &Path) -> JavaControllerNamesrv {
        let port = free_port();
        let peers = format!("n0-127.0.0.1:{port}");
        let store = dir.join("controller").display().to_string();
        let mut namesrv = JavaNamesrv::start(
            JavaVersion::V5_5_0,
            dir,
            &[
                ("enableControllerInNamesrv", "true"),
                ("controllerDLegerGroup", "group1"),
                ("controllerDLegerPeers", &peers),
                ("controllerDLegerSelfId", "n0"),
                ("controllerStorePath", &store),
            ],
        );
        let controller: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        namesrv
            .process
            .wait_listening(controller, Duration::from_secs(60));
        println!("java controller on {controller}");
        JavaControllerNamesrv {
            namesrv,
            controller,
        }
    }
}

/// A Java broker (`mqbroker`) with its store under its own directory.
pub struct JavaBroker {
    pub process: JavaProcess,
    pub version: JavaVersion,
    pub cluster: String,
    pub name: String,
    pub id: i64,
    /// `127.0.0.1:listenPort`, as it registers.
    pub addr: String,
}

/// What a test says about a broker; the rest of its file is fixed.
pub struct JavaBrokerConf<'a> {
    pub version: JavaVersion,
    pub cluster: &'a str,
    pub name: &'a str,
    pub id: i64,
    /// `ASYNC_MASTER`, `SYNC_MASTER` or `SLAVE`.
    pub role: &'a str,
    /// NameServer addresses, `;`-separated as in `namesrvAddr`.
    pub namesrv: &'a str,
    pub extra: &'a [(&'a str, &'a str)],
}

impl JavaBroker {
    /// Starts the broker and returns once it listens (it registers later: a
    /// 4.9.7 broker about 10 s after start, a 5.x one at start).
    pub fn start(dir: &Path, conf: JavaBrokerConf<'_>) -> JavaBroker {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_broker_port();
        let store = dir.join("store");
        let mut props = owned(&[
            ("brokerClusterName", conf.cluster),
            ("brokerName", conf.name),
            ("brokerId", &conf.id.to_string()),
            ("brokerRole", conf.role),
            ("brokerIP1", "127.0.0.1"),
            ("brokerIP2", "127.0.0.1"),
            ("listenPort", &port.to_string()),
            ("haListenPort", &(port + 1).to_string()),
            ("namesrvAddr", conf.namesrv),
            ("storePathRootDir", &store.display().to_string()),
            (
                "storePathCommitLog",
                &store.join("commitlog").display().to_string(),
            ),
            ("mappedFileSizeCommitLog", "67108864"),
            ("mappedFileSizeConsumeQueue", "600000"),
            ("autoCreateTopicEnable", "true"),
            ("flushDiskType", "ASYNC_FLUSH"),
        ]);
        if conf.version.is_5x() {
            // 4.9.7 has no bindAddress: it listens on every interface.
            props.extend(owned(&[("bindAddress", "127.0.0.1")]));
        }
        props.extend(owned(conf.extra));
        let file = dir.join("broker.properties");
        write_properties(&file, &props);
        let mut process = JavaProcess::spawn(
            conf.version,
            "mqbroker",
            &format!("java-broker-{}-{}", conf.name, conf.id),
            &file,
            &dir.join("home"),
            BROKER_JVM,
        );
        let addr = format!("127.0.0.1:{port}");
        process.wait_listening(addr.parse().unwrap(), Duration::from_secs(90));
        JavaBroker {
            process,
            version: conf.version,
            cluster: conf.cluster.to_string(),
            name: conf.name.to_string(),
            id: conf.id,
            addr,
        }
    }
}

/// Gives a broker `n` topics before it starts, in its topic store as a
/// 5.x broker writes it (`storePathRootDir/config/topics.json`).
pub fn seed_topics(broker_dir: &std::path::Path, n: usize) {
    let table: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#""Seeded{i}":{{"attributes":{{}},"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"Seeded{i}","topicSysFlag":0,"writeQueueNums":4}}"#
            )
        })
        .collect();
    let config = broker_dir.join("store").join("config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("topics.json"),
        format!(
            r#"{{"dataVersion":{{"counter":1,"stateVersion":0,"timestamp":1700000000000}},"topicConfigTable":{{{}}}}}"#,
            table.join(",")
        ),
    )
    .unwrap();
}

/// What one `mqadmin` run printed.
#[derive(Debug)]
pub struct ToolOutput {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs Java's `mqadmin` with `args`, its logs under `home`; fails the test
/// if it has not finished within two minutes.
pub fn mqadmin(version: JavaVersion, home: &Path, args: &[&str]) -> ToolOutput {
    mqadmin_with(version, home, &[], args)
}

/// As [`mqadmin`], with `properties` as JVM system properties (`-Dk=v`)
/// and no `NAMESRV_ADDR` from the environment.
pub fn mqadmin_with(
    version: JavaVersion,
    home: &Path,
    properties: &[(&str, &str)],
    args: &[&str],
) -> ToolOutput {
    std::fs::create_dir_all(home).unwrap();
    let mut jvm = TOOL_JVM.to_string();
    for (k, v) in properties {
        jvm.push_str(&format!(" -D{k}={v}"));
    }
    let mut cmd = Command::new(launcher(version, "mqadmin"));
    cmd.args(args)
        .env("RMQ_HOME", home)
        .env("JAVA_OPT_EXT", jvm)
        .env_remove("NAMESRV_ADDR");
    run_bounded(cmd, Duration::from_secs(120), &format!("mqadmin {args:?}"))
}

/// Runs `cmd` to its end and returns what it printed; kills it and fails
/// the test if it has not exited within `limit`.
pub(crate) fn run_bounded(mut cmd: Command, limit: Duration, what: &str) -> ToolOutput {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what} (is a JDK 17 on PATH?): {e}"));
    let collect = |mut stream: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stream.read_to_string(&mut text);
            text
        })
    };
    let stdout = collect(Box::new(child.stdout.take().unwrap()));
    let stderr = collect(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} (pid {}) did not finish within {limit:?}",
                child.id()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    ToolOutput {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Runs `tests/interop-java/AclClient.java` on the 5.5.0 release's own
/// client jars: a producer and a lite-pull consumer signing with
/// `AclClientRPCHook(ak, sk)` send `count` messages to `topic` through the
/// NameServer `namesrv` and pull them back in `group` within `seconds`.
#[allow(clippy::too_many_arguments)]
pub fn acl_client(
    dir: &Path,
    namesrv: &str,
    (ak, sk): (&str, &str),
    topic: &str,
    group: &str,
    count: usize,
    seconds: u64,
) -> ToolOutput {
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let source = crate::process::manifest_dir().join("../interop-java/AclClient.java");
    let lib = JavaVersion::V5_5_0
        .bin_dir()
        .parent()
        .unwrap()
        .join("lib/*");
    let mut cmd = Command::new("java");
    cmd.args(TOOL_JVM.split_whitespace())
        .arg(format!("-Drocketmq.client.logRoot={}", logs.display()))
        .arg(format!("-Duser.home={}", dir.display()))
        .arg("-cp")
        .arg(lib)
        .arg(source)
        .args([namesrv, ak, sk, topic, group])
        .arg(count.to_string())
        .arg(seconds.to_string());
    run_bounded(cmd, Duration::from_secs(seconds + 60), "AclClient")
}
