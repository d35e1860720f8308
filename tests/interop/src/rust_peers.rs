//! The rocketmq-rust peers: its broker (a process) and its client runtime.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use crate::process::{free_broker_port, require, spawn_log_drain};

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
        );
        spawn_log_drain(
            "broker",
            child.stderr.take().unwrap(),
            dir.join("broker.err"),
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
