//! namesrv-bench: a load generator speaking the RocketMQ remoting protocol,
//! plus a bare echo server that answers every frame with a fixed body (the
//! ceiling of the machine for the same frames).
//!
//! Modes: `route` (GET_ROUTEINFO_BY_TOPIC), `register` (REGISTER_BROKER
//! churn), `mixed` (route load idle, then under churn), `setup` (register
//! brokers and hold them), `echo` (the ceiling server).

mod echo;
mod load;
mod mixed;
mod register;
mod route;
mod setup;

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

use echo::run_echo;
use mixed::run_mixed;
use register::{run_register, RegisterArgs};
use route::{run_route, RouteArgs};
use setup::{run_setup, SetupArgs};

#[derive(Parser)]
#[command(
    name = "namesrv-bench",
    about = "Load generator for RocketMQ NameServers"
)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Route lookups: C connections, P requests in flight each, over T topics.
    Route(RouteArgs),
    /// Brokers re-registering their whole topic table.
    Register(RegisterArgs),
    /// Route load idle, then the same load while brokers re-register.
    Mixed {
        #[command(flatten)]
        route: RouteArgs,
        #[command(flatten)]
        register: RegisterArgs,
    },
    /// Register B brokers × K topics and keep them alive until killed.
    Setup(SetupArgs),
    /// Answer every request with a fixed body (the ceiling server).
    Echo {
        #[arg(long, default_value = "127.0.0.1:19999")]
        listen: SocketAddr,
        /// Body size in bytes (match a real route answer).
        #[arg(long, default_value_t = 300)]
        body_size: usize,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("namesrv-bench: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result: std::io::Result<()> = runtime.block_on(async {
        match cli.mode {
            Mode::Route(args) => {
                run_route(&args, "route").await;
            }
            Mode::Register(args) => {
                run_register(&args).await;
            }
            Mode::Mixed { route, register } => run_mixed(&route, &register).await,
            Mode::Setup(args) => run_setup(&args).await?,
            Mode::Echo { listen, body_size } => run_echo(listen, body_size).await?,
        }
        Ok(())
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("namesrv-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
