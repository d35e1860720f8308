//! Our `namesrv`, started as a process on a free loopback port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use namesrv::remoting::RemotingCommand;

use crate::process::{manifest_dir, require, spawn_log_drain};
use crate::remoting::{raw_call, request};

/// Our server: `$NAMESRV_BIN`, else the release build of the main crate.
pub fn namesrv_bin() -> PathBuf {
    std::env::var_os("NAMESRV_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../target/release/namesrv"))
}

/// Our admin tool: `$NAMESRV_ADMIN_BIN`, else `namesrv-admin` beside the server binary.
pub fn admin_bin() -> PathBuf {
    std::env::var_os("NAMESRV_ADMIN_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| namesrv_bin().with_file_name("namesrv-admin"))
}

/// Runs `namesrv-admin` with `args`; it bounds its own waits (5 s per request).
pub fn namesrv_admin(args: &[&str]) -> crate::java::ToolOutput {
    let bin = admin_bin();
    require(&bin, "namesrv-admin (cargo build --release --bins)");
    let out = Command::new(&bin)
        .args(args)
        .env_remove("NAMESRV_ADDR")
        .stdin(Stdio::null())
        .output()
        .expect("cannot start namesrv-admin");
    crate::java::ToolOutput {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub struct Namesrv {
    pub child: Child,
    pub addr: SocketAddr,
    pub dir: PathBuf,
    /// The HTTP listener (metrics, API, page), when `httpListenPort` is set.
    pub http: Option<SocketAddr>,
}

impl Namesrv {
    /// Starts namesrv on a free loopback port with its files under `dir`.
    pub fn start(dir: &Path, extra: &[(&str, &str)]) -> Namesrv {
        Self::start_on(dir, 0, extra)
    }

    pub fn start_on(dir: &Path, port: u16, extra: &[(&str, &str)]) -> Namesrv {
        Self::start_logging(dir, port, extra, "info")
    }

    /// As [`start`](Self::start), with the HTTP listener on a free loopback
    /// port (in [`http`](Self::http)); returns once it accepts connections.
    pub fn start_with_http(dir: &Path, extra: &[(&str, &str)]) -> Namesrv {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
            .to_string();
        let mut props = vec![("httpListenPort", port.as_str())];
        props.extend_from_slice(extra);
        Self::start(dir, &props)
    }

    /// As [`start_on`](Self::start_on), with `log_filter` as `RUST_LOG`.
    pub fn start_logging(
        dir: &Path,
        port: u16,
        extra: &[(&str, &str)],
        log_filter: &str,
    ) -> Namesrv {
        let bin = namesrv_bin();
        require(&bin, "namesrv binary");
        std::fs::create_dir_all(dir).unwrap();
        let conf = dir.join("namesrv.properties");
        // The HTTP listener stays off unless `extra` gives it a port.
        let http_port = extra
            .iter()
            .rev()
            .find(|(k, _)| *k == "httpListenPort")
            .map_or(0, |(_, v)| v.parse::<u16>().expect("httpListenPort"));
        let mut text = format!(
            "listenPort={port}\nbindAddress=127.0.0.1\nkvConfigPath={}\nconfigStorePath={}\n",
            dir.join("kvConfig.json").display(),
            dir.join("namesrv-store.properties").display()
        );
        if http_port == 0 {
            text.push_str("httpListenPort=0\n");
        }
        for (k, v) in extra {
            text.push_str(&format!("{k}={v}\n"));
        }
        std::fs::write(&conf, text).unwrap();
        // The binary writes its bound addresses here once listening; a
        // restart in the same directory must not read the last run's file.
        let ready = dir.join("ready");
        let _ = std::fs::remove_file(&ready);
        let mut child = Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .arg("--ready-file")
            .arg(&ready)
            .env("RUST_LOG", log_filter)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        spawn_log_drain(
            "namesrv",
            child.stderr.take().unwrap(),
            dir.join("namesrv.log"),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                break text;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("namesrv exited before listening: {status}");
            }
            assert!(Instant::now() < deadline, "namesrv did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        let field = |role: &str| -> Option<SocketAddr> {
            text.lines()
                .find_map(|line| line.strip_prefix(role)?.strip_prefix('='))
                .map(|addr| addr.parse().unwrap())
        };
        let addr = field("namesrv").expect("namesrv address");
        let http = field("http");
        assert_eq!(http.is_some(), http_port != 0, "HTTP listener");
        match http {
            Some(http) => println!("namesrv started on {addr}, HTTP on {http}"),
            None => println!("namesrv started on {addr}"),
        }
        Namesrv {
            child,
            addr,
            dir: dir.to_path_buf(),
            http,
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
