//! `namesrv -c conf/namesrv.properties`: the NameServer daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use namesrv::config::load::Sources;
use namesrv::disk::write_atomically;
use namesrv::Services;

/// A drop-in replacement for the Apache RocketMQ NameServer (mqnamesrv).
#[derive(Parser, Debug)]
#[command(name = "namesrv", version)]
struct Cli {
    /// Name server config properties file
    #[arg(short = 'c', long = "configFile", value_name = "FILE")]
    config_file: Option<PathBuf>,

    /// Print all config items and exit
    #[arg(short = 'p', long = "printConfigItem")]
    print_config_item: bool,

    /// Name server address list (accepted for mqnamesrv compatibility; unused)
    #[arg(short = 'n', long = "namesrvAddr", value_name = "ADDR")]
    namesrv_addr: Option<String>,

    /// Override one config property, e.g. -D listenPort=9877 (repeatable; wins over the file)
    #[arg(short = 'D', long = "define", value_name = "KEY=VALUE")]
    define: Vec<String>,

    /// Run only the controller (as Java's mqcontroller), configured by the -c file
    #[arg(long = "controller")]
    controller: bool,

    /// Once listening, write the bound addresses to FILE (`namesrv=HOST:PORT`,
    /// `http=...`, `controller=...` lines; replaced whole, never seen half
    /// written), for tests and supervisors that start it on port 0
    #[arg(long = "ready-file", value_name = "FILE")]
    ready_file: Option<PathBuf>,

    /// Log line format: `text` for people, `json` (one object a line) for log shippers
    #[arg(long = "log-format", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("namesrv: {message}");
            tracing::error!("{message}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(
        |_| // openraft narrates every vote and replication step at info.
        tracing_subscriber::EnvFilter::new("info,openraft=warn"),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        // Fields at the top level, as log shippers index them.
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn sources(cli: &Cli) -> Sources<'_> {
    Sources {
        file: cli.config_file.as_deref(),
        defines: &cli.define,
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let sources = sources(&cli);
    let services = if cli.controller {
        let config = sources.controller().map_err(|e| e.to_string())?;
        if cli.print_config_item {
            print!("{}", config.to_properties_text());
            return Ok(());
        }
        Services::Controller(config)
    } else {
        let (config, unknown) = sources.namesrv().map_err(|e| e.to_string())?;
        for key in unknown {
            tracing::warn!(key, "unknown config property ignored");
        }
        let controller_config = if config.namesrv.enable_controller_in_namesrv {
            Some(sources.controller().map_err(|e| e.to_string())?)
        } else {
            None
        };
        if cli.print_config_item {
            for (key, value) in config.entries().into_iter().chain(config.tls.entries()) {
                println!("{key}={value}");
            }
            if let Some(c) = &controller_config {
                print!("{}", c.to_properties_text());
            }
            return Ok(());
        }
        if let Some(path) = &cli.config_file {
            tracing::info!(file = %path.display(), "config loaded");
        }
        if config.namesrv.rocketmq_home.is_empty() {
            tracing::warn!("rocketmqHome is not set (ROCKETMQ_HOME); it is not needed by namesrv");
        }
        raise_fd_limit();
        Services::NameServer(Box::new(config), controller_config)
    };
    if let Some(path) = &cli.ready_file {
        // Its appearing must mean this run is listening, not a previous one.
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!("cannot remove {}: {e}", path.display()))
            }
            _ => {}
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(if cli.controller {
            "controller"
        } else {
            "namesrv"
        })
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let signal = shutdown_signal()?;
        let running = namesrv::start(services, signal)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(path) = &cli.ready_file {
            write_atomically(path, running.addresses_text().as_bytes())
                .map_err(|e| format!("cannot write the ready file {}: {e}", path.display()))?;
        }
        running.join().await;
        tracing::info!("shutdown complete");
        Ok(())
    })
}

/// Raises the open-file limit to its hard maximum: every client is a file
/// descriptor, and the usual soft limit (1024) would cap the server far
/// below `maxConnections`.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls only read or write the struct passed to them.
    let raised = unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return;
        }
        let before = limit.rlim_cur;
        limit.rlim_cur = limit.rlim_max;
        (before < limit.rlim_max && libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0)
            .then_some(before)
    };
    match raised {
        Some(before) => {
            tracing::info!(from = before, to = limit.rlim_max, "open-file limit raised")
        }
        None => tracing::info!(limit = limit.rlim_cur, "open-file limit"),
    }
}

/// Completes on the first SIGINT or SIGTERM.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                tracing::info!(signal, "signal received");
                let _ = tx.send(());
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(async move {
        let _ = rx.await;
    })
}
