//! Test harness: starts the server on a free loopback port, in this process
//! ([`InProcess`]) or as the real `namesrv` binary ([`Server`]), and talks
//! to it over TCP with the crate's own codec. Neither reads the log to find
//! its ports: `namesrv::start` returns them, the binary writes them to its
//! `--ready-file`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use namesrv::config::load::Sources;
use namesrv::remoting::codec::{encode_frame, RemotingCodec};
use namesrv::remoting::{RemotingCommand, SerializeType};
use namesrv::Services;
use tokio_util::codec::Decoder;

/// The real binary as a child process: for what needs signals, process
/// death, restarts, command-line flags or the log. Anything else uses
/// [`InProcess`].
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// The HTTP listener, when `httpListenPort` is set.
    pub http: Option<SocketAddr>,
    pub dir: tempfile::TempDir,
    pub log: mpsc::Receiver<String>,
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_namesrv"))
}

/// Writes the properties file of a test server in `dir`: loopback, port 0,
/// its files in `dir`, then `props`.
fn write_conf(dir: &Path, props: &[(&str, &str)]) -> PathBuf {
    let conf = dir.join("namesrv.properties");
    let mut text = format!(
        "listenPort=0\nhttpListenPort=0\nbindAddress=127.0.0.1\nkvConfigPath={}\nconfigStorePath={}\n",
        dir.join("kvConfig.json").display(),
        dir.join("namesrv-store.properties").display()
    );
    for (k, v) in props {
        text.push_str(&format!("{k}={v}\n"));
    }
    std::fs::write(&conf, text).unwrap();
    conf
}

/// The address of `role` in a `--ready-file` (`role=host:port` lines).
pub fn ready_address(text: &str, role: &str) -> Option<SocketAddr> {
    text.lines()
        .find_map(|line| line.strip_prefix(role)?.strip_prefix('='))
        .map(|addr| addr.parse().unwrap())
}

/// Waits for `child` to write `ready` (its `--ready-file`); panics if it
/// exits first or takes too long.
pub fn wait_ready(child: &mut Child, ready: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(ready) {
            return text;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("namesrv exited before listening: {status}");
        }
        assert!(Instant::now() < deadline, "namesrv did not start listening");
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Server {
    /// Starts namesrv with `props` added to a fresh properties file.
    pub fn start(props: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, props)
    }

    pub fn start_in(dir: tempfile::TempDir, props: &[(&str, &str)]) -> Server {
        Self::start_logging(dir, props, "info")
    }

    /// As [`start_in`](Self::start_in), with `log_filter` as `RUST_LOG`.
    pub fn start_logging(
        dir: tempfile::TempDir,
        props: &[(&str, &str)],
        log_filter: &str,
    ) -> Server {
        Self::start_with_env(dir, props, log_filter, &[])
    }

    /// As [`start_logging`](Self::start_logging), with `env` added to the
    /// process environment (test hooks).
    pub fn start_with_env(
        dir: tempfile::TempDir,
        props: &[(&str, &str)],
        log_filter: &str,
        env: &[(&str, &str)],
    ) -> Server {
        let conf = write_conf(dir.path(), props);
        let ready = dir.path().join("ready");
        // A restart in the same directory must not read the last run's file.
        let _ = std::fs::remove_file(&ready);
        let mut child = Command::new(binary())
            .arg("-c")
            .arg(&conf)
            .arg("--ready-file")
            .arg(&ready)
            .env("RUST_LOG", log_filter)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, log) = mpsc::channel();
        // Drain stderr forever so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[namesrv] {line}");
                let _ = tx.send(line);
            }
        });
        let text = wait_ready(&mut child, &ready);
        Server {
            child,
            addr: ready_address(&text, "namesrv").expect("no namesrv address"),
            http: ready_address(&text, "http"),
            dir,
            log,
        }
    }

    pub fn client(&self) -> Client {
        Client::connect(self.addr)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Waits for a log line containing `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line containing {needle:?}"),
            }
        }
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        unsafe_kill(self.child.id(), "TERM");
        wait_exit(&mut self.child, Duration::from_secs(20))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server started with `namesrv::start` on a runtime of its own, in
/// this test process: for tests that need no signals, no process death and
/// no log lines.
pub struct InProcess {
    pub addr: SocketAddr,
    /// The HTTP listener, when `httpListenPort` is set.
    pub http: Option<SocketAddr>,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: mpsc::Receiver<()>,
}

impl InProcess {
    /// Starts a server with `props` added to a fresh properties file.
    pub fn start(props: &[(&str, &str)]) -> InProcess {
        Self::start_in(tempfile::tempdir().unwrap(), props)
    }

    /// Loads the properties file as the binary does (so a test's props mean
    /// what they mean there) and starts the server on a thread of its own.
    pub fn start_in(dir: tempfile::TempDir, props: &[(&str, &str)]) -> InProcess {
        let conf = write_conf(dir.path(), props);
        let sources = Sources {
            file: Some(&conf),
            defines: &[],
        };
        let (config, _unknown) = sources.namesrv().unwrap();
        let controller = config
            .namesrv
            .enable_controller_in_namesrv
            .then(|| sources.controller().unwrap());
        let services = Services::NameServer(Box::new(config), controller);
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready) = mpsc::channel();
        let (stopped_tx, stopped) = mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let shutdown = async move {
                    let _ = stop_rx.await;
                };
                match namesrv::start(services, shutdown).await {
                    Ok(running) => {
                        let _ = ready_tx.send(Ok((running.namesrv, running.http)));
                        running.join().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                    }
                }
            });
            let _ = stopped_tx.send(());
        });
        let (addr, http) = ready
            .recv_timeout(Duration::from_secs(20))
            .expect("namesrv did not start")
            .unwrap_or_else(|e| panic!("namesrv did not start: {e}"));
        InProcess {
            addr: addr.expect("no namesrv address"),
            http,
            dir,
            stop: Some(stop),
            stopped,
        }
    }

    pub fn client(&self) -> Client {
        Client::connect(self.addr)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Bounded: a client the test still holds may keep a connection open.
        let _ = self.stopped.recv_timeout(Duration::from_secs(10));
    }
}

/// Either kind of server, for helpers that build the properties of both.
pub trait Harness {
    fn start_in(dir: tempfile::TempDir, props: &[(&str, &str)]) -> Self;
}

impl Harness for Server {
    fn start_in(dir: tempfile::TempDir, props: &[(&str, &str)]) -> Server {
        Server::start_in(dir, props)
    }
}

impl Harness for InProcess {
    fn start_in(dir: tempfile::TempDir, props: &[(&str, &str)]) -> InProcess {
        InProcess::start_in(dir, props)
    }
}

pub fn unsafe_kill(pid: u32, signal: &str) {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
}

pub fn wait_exit(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "process did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `cond` until it holds (bounded); for state that changes asynchronously.
pub fn eventually(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub struct Client {
    pub stream: TcpStream,
    buf: BytesMut,
    codec: RemotingCodec,
    opaque: i32,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Self::from_stream(TcpStream::connect(addr).unwrap())
    }

    pub fn from_stream(stream: TcpStream) -> Client {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Client {
            stream,
            buf: BytesMut::new(),
            codec: RemotingCodec::new(64 << 20),
            opaque: 0,
        }
    }

    pub fn next_opaque(&mut self) -> i32 {
        self.opaque += 1;
        self.opaque
    }

    pub fn send(&mut self, cmd: &RemotingCommand) {
        self.stream.write_all(&encode_frame(cmd)).unwrap();
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Reads one frame; `None` when the server closed the connection.
    pub fn recv(&mut self) -> Option<RemotingCommand> {
        loop {
            if let Some(cmd) = self.codec.decode(&mut self.buf).unwrap() {
                return Some(cmd);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("read failed: {e}"),
            }
        }
    }

    /// Sends a request (numbering its opaque) and returns the answer to it.
    pub fn call(&mut self, mut cmd: RemotingCommand) -> RemotingCommand {
        cmd.opaque = self.next_opaque();
        self.send(&cmd);
        let resp = self.recv().expect("connection closed before the response");
        assert_eq!(resp.opaque, cmd.opaque);
        assert!(resp.is_response());
        resp
    }

    /// Reads one frame; `None` on close, timeout or any other error (for
    /// peers that may be stopped or restarting).
    pub fn try_recv(&mut self) -> Option<RemotingCommand> {
        loop {
            if let Some(cmd) = self.codec.decode(&mut self.buf).ok()? {
                return Some(cmd);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// As [`call`](Self::call), with `None` instead of a panic when the
    /// peer does not answer.
    pub fn try_call(&mut self, mut cmd: RemotingCommand) -> Option<RemotingCommand> {
        cmd.opaque = self.next_opaque();
        self.stream.write_all(&encode_frame(&cmd)).ok()?;
        self.try_recv().filter(|r| r.opaque == cmd.opaque)
    }

    /// True once the server has closed this connection.
    pub fn is_closed_by_server(&mut self) -> bool {
        self.recv().is_none()
    }
}

pub fn request(code: i32, fields: &[(&str, &str)]) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(code, 0);
    for (k, v) in fields {
        cmd.ext_fields.insert(k.to_string(), v.to_string());
    }
    cmd
}

pub fn with_codec(mut cmd: RemotingCommand, st: SerializeType) -> RemotingCommand {
    cmd.serialize_type = st;
    cmd
}

/// A RegisterBrokerBody as a Java 5.x broker writes it.
pub fn register_body(counter: i64, topics: &[&str]) -> Vec<u8> {
    let table: Vec<String> = topics
        .iter()
        .map(|t| {
            format!(
                r#""{t}":{{"attributes":{{}},"order":false,"perm":6,"readQueueNums":4,"topicFilterType":"SINGLE_TAG","topicName":"{t}","topicSysFlag":0,"writeQueueNums":4}}"#
            )
        })
        .collect();
    format!(
        r#"{{"filterServerList":[],"topicConfigSerializeWrapper":{{"dataVersion":{{"counter":{counter},"stateVersion":0,"timestamp":1700000000000}},"topicConfigTable":{{{}}},"topicQueueMappingDetailMap":{{}},"topicQueueMappingInfoMap":{{}}}}}}"#,
        table.join(",")
    )
    .into_bytes()
}

pub fn register_request(name: &str, id: i64, addr: &str, body: Vec<u8>) -> RemotingCommand {
    let id = id.to_string();
    let mut cmd = request(
        103,
        &[
            ("brokerName", name),
            ("brokerAddr", addr),
            ("clusterName", "DefaultCluster"),
            ("haServerAddr", "127.0.0.1:10912"),
            ("brokerId", &id),
            ("enableActingMaster", "false"),
            ("compressed", "false"),
        ],
    );
    cmd.body = body.into();
    cmd
}

pub fn route_request(topic: &str) -> RemotingCommand {
    request(105, &[("topic", topic)])
}

pub fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

pub fn file_exists(p: &Path) -> bool {
    p.exists()
}

/// One GET over HTTP/1.1: status and body.
pub fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

/// `n` free loopback ports and the `controllerDLegerPeers` naming them
/// `n0`, `n1`, ...
pub fn controller_peers(n: usize) -> (Vec<u16>, String) {
    let ports: Vec<u16> = (0..n)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
        .collect();
    let peers = ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("n{i}-127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(";");
    (ports, peers)
}
