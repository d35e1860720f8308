//! `namesrv-admin`: mqadmin's NameServer and controller commands without a
//! JVM. Output goes to stdout (`--json`: one JSON document); failures print
//! one line on stderr naming the server and exit with status 1.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use namesrv::admin::{normalise_args, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse_from(normalise_args(std::env::args().collect()));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("namesrv-admin: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let credentials = match cli.credentials() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("namesrv-admin: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let mut ctx = cli.context().with_credentials(credentials);
        loop {
            let status = match cli.command.run(&mut ctx).await {
                Ok(printed) => {
                    let mut out = std::io::stdout().lock();
                    let written = if cli.json {
                        let doc = serde_json::to_string_pretty(&printed.json).unwrap_or_default();
                        writeln!(out, "{doc}")
                    } else {
                        out.write_all(printed.text.as_bytes())
                    };
                    let _ = out.flush();
                    for w in &printed.warnings {
                        eprintln!("namesrv-admin: {w}");
                    }
                    if written.is_err() || printed.failed {
                        ExitCode::FAILURE
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => {
                    eprintln!("namesrv-admin: {e}");
                    ExitCode::FAILURE
                }
            };
            match cli.command.interval() {
                Some(every) => tokio::time::sleep(every).await,
                None => return status,
            }
        }
    })
}
