//! `namesrv-admin`: the NameServer and controller commands of Java's
//! mqadmin, with its command names, options and output, plus `--json`.
//! It talks through `remoting::client`; nothing here knows the route table.

pub mod body;
pub mod cmd;
pub mod context;
pub mod error;
pub mod java_format;
pub mod java_order;

use std::time::Duration;

use clap::Parser;

pub use context::{Context, Credentials};
pub use error::AdminError;

#[derive(Debug, Parser)]
#[command(
    name = "namesrv-admin",
    version,
    about = "RocketMQ NameServer and controller administration (mqadmin's commands, no JVM)"
)]
pub struct Cli {
    /// Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'
    /// (default: $NAMESRV_ADDR)
    #[arg(short = 'n', long = "namesrvAddr", global = true)]
    pub namesrv_addr: Option<String>,
    /// Print one JSON document instead of mqadmin's text
    #[arg(long, global = true)]
    pub json: bool,
    /// Milliseconds allowed for connecting and for each request
    #[arg(long = "timeoutMillis", global = true, default_value_t = 5000)]
    pub timeout_millis: u64,
    /// Sign requests with the accessKey and secretKey of this file (mqadmin's
    /// tools.yml format). Default: $NAMESRV_ADMIN_CREDENTIALS, else
    /// $ROCKETMQ_HOME/conf/tools.yml when present; $NAMESRV_ACCESS_KEY and
    /// $NAMESRV_SECRET_KEY win over any file. Never on the command line.
    #[arg(long = "credentials", global = true, value_name = "FILE")]
    pub credentials: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: cmd::Command,
}

/// What a command prints: mqadmin's text, its JSON form, and warnings for
/// stderr. `failed` marks a partial failure that already printed its report
/// (e.g. one NameServer of several refused).
#[derive(Debug, Default)]
pub struct Printed {
    pub text: String,
    pub json: serde_json::Value,
    pub warnings: Vec<String>,
    pub failed: bool,
}

impl Printed {
    pub fn new(text: impl Into<String>, json: serde_json::Value) -> Self {
        Printed {
            text: text.into(),
            json,
            ..Printed::default()
        }
    }

    pub fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }
}

impl Cli {
    pub fn context(&self) -> Context {
        let list = self
            .namesrv_addr
            .clone()
            .or_else(|| std::env::var("NAMESRV_ADDR").ok())
            .unwrap_or_default();
        Context::new(
            context::split_addrs(&list),
            Duration::from_millis(self.timeout_millis.max(1)),
        )
    }

    /// The credentials to sign with (see `--credentials`); an error when a
    /// file named explicitly cannot be read or lacks either key.
    pub fn credentials(&self) -> Result<Option<Credentials>, AdminError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let (Some(access_key), Some(secret_key)) =
            (env("NAMESRV_ACCESS_KEY"), env("NAMESRV_SECRET_KEY"))
        {
            return Ok(Some(Credentials {
                access_key,
                secret_key,
            }));
        }
        let explicit = self
            .credentials
            .clone()
            .or_else(|| env("NAMESRV_ADMIN_CREDENTIALS").map(Into::into));
        let path = match explicit {
            Some(path) => path,
            None => {
                let Some(home) = env("ROCKETMQ_HOME") else {
                    return Ok(None);
                };
                let tools = std::path::Path::new(&home).join("conf/tools.yml");
                if !tools.exists() {
                    return Ok(None);
                }
                tools
            }
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| AdminError::Credentials(format!("cannot read {}: {e}", path.display())))?;
        Credentials::from_tools_yml(&text).map(Some).ok_or_else(|| {
            AdminError::Credentials(format!("{} has no accessKey and secretKey", path.display()))
        })
    }
}

/// mqadmin's spellings that clap cannot take as they are: `-bn` (a short
/// option of two letters) and command names in any case.
pub fn normalise_args(args: Vec<String>) -> Vec<String> {
    let names = [
        "clusterList",
        "topicRoute",
        "topicList",
        "topicClusterList",
        "updateKvConfig",
        "deleteKvConfig",
        "getKvConfig",
        "getNamesrvConfig",
        "updateNamesrvConfig",
        "wipeWritePerm",
        "addWritePerm",
        "deleteTopic",
        "getControllerMetaData",
        "getSyncStateSet",
        "getControllerConfig",
        "updateControllerConfig",
        "electMaster",
        "cleanBrokerMetadata",
    ];
    let mut command_seen = false;
    args.into_iter()
        .enumerate()
        .map(|(i, arg)| {
            if i > 0 && !command_seen && !arg.starts_with('-') {
                command_seen = true;
                if let Some(name) = names.iter().find(|n| n.eq_ignore_ascii_case(&arg)) {
                    return name.to_string();
                }
            }
            if arg == "-bn" {
                return "--brokerName".into();
            }
            if let Some(value) = arg.strip_prefix("-bn=") {
                return format!("--brokerName={value}");
            }
            arg
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(normalise_args(args.iter().map(|s| s.to_string()).collect()))
    }

    #[test]
    fn mqadmin_spellings_parse() {
        let cli = parse(&["a", "CLUSTERLIST", "-n", "127.0.0.1:9876", "-m"]).unwrap();
        assert!(matches!(cli.command, cmd::Command::ClusterList(_)));
        assert_eq!(cli.namesrv_addr.as_deref(), Some("127.0.0.1:9876"));
        let cli = parse(&[
            "a",
            "electMaster",
            "-a",
            "c:1",
            "-b",
            "2",
            "-bn",
            "b1",
            "-c",
            "C",
        ])
        .unwrap();
        assert!(matches!(cli.command, cmd::Command::ElectMaster(_)));
        assert!(parse(&["a", "topicRoute", "--topic=T", "-nX:1"]).is_ok());
    }

    #[test]
    fn missing_required_options_and_unknown_commands_are_errors() {
        assert!(parse(&["a", "topicRoute"]).is_err());
        assert!(parse(&["a", "updateKvConfig", "-s", "ns", "-k", "k"]).is_err());
        assert!(parse(&["a", "noSuchCommand"]).is_err());
        assert!(parse(&[
            "a",
            "electMaster",
            "-a",
            "c:1",
            "-b",
            "x",
            "-bn",
            "b",
            "-c",
            "C"
        ])
        .is_err());
    }
}
