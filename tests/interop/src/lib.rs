//! Harness for the interop tests: starts our `namesrv` and a real
//! rocketmq-rust broker as processes on loopback, and talks to namesrv with a
//! minimal remoting client to observe its state independently of the peers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv::remoting::codec::encode_frame;
use namesrv::remoting::{RemotingCodec, RemotingCommand};
use tokio_util::codec::Decoder;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Our server: `$NAMESRV_BIN`, else the release build of the main crate.
pub fn namesrv_bin() -> PathBuf {
    std::env::var_os("NAMESRV_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../target/release/namesrv"))
}

/// The rocketmq-rust broker: `$ROCKETMQ_BROKER_BIN`, else the cached build.
pub fn broker_bin() -> PathBuf {
    std::env::var_os("ROCKETMQ_BROKER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var("HOME").unwrap_or_default();
            PathBuf::from(home)
                .join(".cache/namesrv-interop/rocketmq-broker-1.0.0/bin/rocketmq-broker-rust")
        })
}

fn require(path: &Path, what: &str) {
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

fn spawn_log_drain(
    name: &'static str,
    stream: impl Read + Send + 'static,
    path: PathBuf,
    tx: Option<std::sync::mpsc::Sender<String>>,
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
            if let Some(tx) = &tx {
                let _ = tx.send(line);
            }
        }
    });
}

pub struct Namesrv {
    pub child: Child,
    pub addr: SocketAddr,
    pub dir: PathBuf,
}

impl Namesrv {
    /// Starts namesrv on a free loopback port with its files under `dir`.
    pub fn start(dir: &Path, extra: &[(&str, &str)]) -> Namesrv {
        Self::start_on(dir, 0, extra)
    }

    pub fn start_on(dir: &Path, port: u16, extra: &[(&str, &str)]) -> Namesrv {
        let bin = namesrv_bin();
        require(&bin, "namesrv binary");
        std::fs::create_dir_all(dir).unwrap();
        let conf = dir.join("namesrv.properties");
        let mut text = format!(
            "listenPort={port}\nbindAddress=127.0.0.1\nkvConfigPath={}\nconfigStorePath={}\n",
            dir.join("kvConfig.json").display(),
            dir.join("namesrv-store.properties").display()
        );
        for (k, v) in extra {
            text.push_str(&format!("{k}={v}\n"));
        }
        std::fs::write(&conf, text).unwrap();
        let mut child = Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        spawn_log_drain(
            "namesrv",
            child.stderr.take().unwrap(),
            dir.join("namesrv.log"),
            Some(tx),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("namesrv did not start");
            if let Some(rest) = line.split("address=").nth(1) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        // Keep draining into the log file only.
        std::thread::spawn(move || while rx.recv().is_ok() {});
        println!("namesrv started on {addr}");
        Namesrv {
            child,
            addr,
            dir: dir.to_path_buf(),
        }
    }

    pub fn addr_string(&self) -> String {
        self.addr.to_string()
    }

    pub fn call(&self, cmd: RemotingCommand) -> RemotingCommand {
        raw_call(self.addr, cmd)
    }

    pub fn route_code(&self, topic: &str) -> i32 {
        self.call(request(105, &[("topic", topic)])).code
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("namesrv.log")).unwrap_or_default()
    }
}

impl Drop for Namesrv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Broker {
    pub child: Child,
    pub name: String,
    pub addr: String,
    pub dir: PathBuf,
}

impl Broker {
    /// Starts a rocketmq-rust broker (master, brokerId 0) registering with `namesrv`.
    pub fn start(namesrv: &str, cluster: &str, name: &str, dir: &Path) -> Broker {
        Self::start_with(namesrv, cluster, name, dir, &[])
    }

    /// As [`start`](Self::start), with extra broker properties.
    pub fn start_with(
        namesrv: &str,
        cluster: &str,
        name: &str,
        dir: &Path,
        extra: &[(&str, &str)],
    ) -> Broker {
        let bin = broker_bin();
        require(&bin, "rocketmq-broker-rust");
        let port = free_broker_port();
        let store = dir.join("store");
        let home = dir.join("home");
        std::fs::create_dir_all(home.join("conf")).unwrap();
        std::fs::create_dir_all(&store).unwrap();
        let conf = dir.join("broker.properties");
        let mut props = format!(
            "brokerClusterName={cluster}\nbrokerName={name}\nbrokerId=0\nlistenPort={port}\n\
             brokerIP1=127.0.0.1\nnamesrvAddr={namesrv}\nstorePathRootDir={store}\n\
             storePathCommitLog={store}/commitlog\nautoCreateTopicEnable=true\nhaListenPort={ha}\n",
            store = store.display(),
            ha = port + 1
        );
        for (k, v) in extra {
            props.push_str(&format!("{k}={v}\n"));
        }
        std::fs::write(&conf, props).unwrap();
        let mut child = Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .env("ROCKETMQ_HOME", &home)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        spawn_log_drain(
            "broker",
            child.stdout.take().unwrap(),
            dir.join("broker.out"),
            None,
        );
        spawn_log_drain(
            "broker",
            child.stderr.take().unwrap(),
            dir.join("broker.err"),
            None,
        );
        let addr = format!("127.0.0.1:{port}");
        println!("broker {name} starting on {addr} (pid {})", child.id());
        Broker {
            child,
            name: name.to_string(),
            addr,
            dir: dir.to_path_buf(),
        }
    }

    pub fn signal(&self, signal: &str) {
        Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.signal("CONT");
        self.kill();
    }
}

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

/// Cluster info as JSON (our fastjson form made standard for serde_json).
pub fn cluster_info(addr: SocketAddr) -> serde_json::Value {
    let resp = raw_call(addr, request(106, &[]));
    namesrv::json_read::parse(&resp.body).unwrap()
}

/// The rocketmq-rust client runtime, as its own examples build it.
pub struct ClientEnv {
    pub owner: rocketmq_runtime::RuntimeOwner,
    pub runtime: Arc<rocketmq_client_rust::ClientRuntime>,
    pub telemetry: rocketmq_observability::TelemetryRuntimeGuard,
}

impl ClientEnv {
    pub fn new(scope: &str) -> ClientEnv {
        let owner = rocketmq_runtime::RuntimeOwner::plan(rocketmq_runtime::RuntimeConfig {
            thread_name: format!("interop-{scope}"),
            ..Default::default()
        })
        .unwrap()
        .build()
        .unwrap();
        let telemetry = rocketmq_observability::install_global(
            &rocketmq_observability::TelemetryBootstrapConfig::default(),
        )
        .unwrap();
        let runtime = rocketmq_client_rust::ClientRuntime::try_new(
            owner.root_context().component("client"),
            rocketmq_client_rust::ClientRuntimeConfig::default(),
            telemetry.handle(),
        )
        .unwrap();
        ClientEnv {
            owner,
            runtime,
            telemetry,
        }
    }
}
