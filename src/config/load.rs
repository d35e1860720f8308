//! The configuration at start-up: the properties file, `-D` overrides, the
//! `configStorePath` store and the controller's keys from the same file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::properties::{self, PropertiesError};
use crate::config::{Config, ConfigError};
use crate::controller::{ControllerConfig, ControllerError};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("-D expects KEY=VALUE, got `{0}`")]
    Define(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot read the config store {path} (configStorePath): {source}")]
    ReadStore {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config store {path} (configStorePath): {source}")]
    StoreSyntax {
        path: PathBuf,
        source: PropertiesError,
    },
    #[error("config store {path} (configStorePath): {source}")]
    StoreValue { path: PathBuf, source: ConfigError },
    #[error(transparent)]
    Controller(#[from] ControllerError),
}

/// Where the configuration comes from: the `-c` file and the `-D` overrides
/// of the command line.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub file: Option<&'a Path>,
    pub defines: &'a [String],
}

impl Sources<'_> {
    /// The NameServer's configuration, and the keys that name neither one
    /// of its properties nor the controller's (for a warning).
    pub fn namesrv(&self) -> Result<(Config, Vec<String>), LoadError> {
        let (mut config, mut unknown) = match self.file {
            Some(path) => Config::load_file(path)?,
            None => (Config::default(), Vec::new()),
        };
        let overrides = self.overrides()?;
        // -D first (it may name configStorePath), then the store, then -D again to win.
        unknown.extend(config.apply_overrides(&overrides)?);
        apply_config_store(&mut config)?;
        config.apply_overrides(&overrides)?;
        // The controller's keys belong in the same file (Java reads both from it).
        unknown.retain(|key| !ControllerConfig::KEYS.contains(&key.as_str()));
        Ok((config, unknown))
    }

    /// The controller's configuration from the same file and -D, as Java
    /// fills ControllerConfig from the NameServer's file; the other keys are
    /// the NameServer's (or unknown, which [`namesrv`](Self::namesrv) reports).
    pub fn controller(&self) -> Result<ControllerConfig, LoadError> {
        let mut props = BTreeMap::new();
        if let Some(path) = self.file {
            props.extend(read_properties(path)?);
        }
        props.extend(self.overrides()?);
        let (config, _others) = ControllerConfig::from_properties(&props)?;
        // Checked now so a missing peer list or self id stops start-up, naming the key.
        config.peers()?;
        Ok(config)
    }

    fn overrides(&self) -> Result<Vec<(String, String)>, LoadError> {
        self.defines
            .iter()
            .map(|define| {
                let (key, value) = define
                    .split_once('=')
                    .ok_or_else(|| LoadError::Define(define.clone()))?;
                Ok((key.trim().to_string(), value.trim().to_string()))
            })
            .collect()
    }
}

fn read_properties(path: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    properties::parse(&text).map_err(|source| ConfigError::Syntax {
        path: path.to_path_buf(),
        source,
    })
}

/// Re-applies what UPDATE_NAMESRV_CONFIG persisted to `configStorePath` (the
/// properties changed at run time), so they survive a restart. Java writes
/// the whole configuration there and never reads it back. Black-listed keys
/// (the paths themselves) are never taken from it.
fn apply_config_store(config: &mut Config) -> Result<(), LoadError> {
    let path = PathBuf::from(&config.namesrv.config_store_path);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(LoadError::ReadStore { path, source }),
    };
    let pairs: Vec<(String, String)> = match properties::parse(&text) {
        Ok(pairs) => pairs,
        Err(source) => return Err(LoadError::StoreSyntax { path, source }),
    };
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, _)| !config.is_black_listed(k))
        .collect();
    let changed: Vec<&str> = pairs
        .iter()
        .filter(|(k, v)| config.get(k).as_ref() != Some(v))
        .map(|(k, _)| k.as_str())
        .collect();
    if !changed.is_empty() {
        tracing::info!(file = %path.display(), keys = ?changed, "config store overrides the config file");
    }
    match config.apply_overrides(&pairs) {
        Ok(_) => Ok(()),
        Err(source) => Err(LoadError::StoreValue { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A properties file in a fresh directory, its store path pointing
    /// beside it.
    fn file_with(text: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.properties");
        let file = dir.path().join("n.properties");
        std::fs::write(
            &file,
            format!("configStorePath={}\n{text}", store.display()),
        )
        .unwrap();
        (dir, file, store)
    }

    fn defines(list: &[&str]) -> Vec<String> {
        list.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn defines_win_over_the_file_and_the_file_over_defaults() {
        let (_dir, file, _) = file_with("listenPort=1111\nscanNotActiveBrokerInterval=700\n");
        let defines = defines(&["listenPort = 2222"]);
        let sources = Sources {
            file: Some(&file),
            defines: &defines,
        };
        let (config, unknown) = sources.namesrv().unwrap();
        assert_eq!(config.server.listen_port, 2222);
        assert_eq!(config.namesrv.scan_not_active_broker_interval, 700);
        assert!(config.namesrv.enable_all_topic_list);
        assert!(unknown.is_empty(), "{unknown:?}");
    }

    #[test]
    fn the_store_wins_over_the_file_but_not_over_defines_nor_for_paths() {
        let (dir, file, store) = file_with("listenPort=1111\norderMessageEnable=false\n");
        let kv = dir.path().join("kv.json");
        std::fs::write(
            &store,
            format!(
                "listenPort=3333\norderMessageEnable=true\nkvConfigPath={}\n",
                kv.display()
            ),
        )
        .unwrap();
        let none = defines(&[]);
        let sources = Sources {
            file: Some(&file),
            defines: &none,
        };
        let (config, _) = sources.namesrv().unwrap();
        assert_eq!(config.server.listen_port, 3333);
        assert!(config.namesrv.order_message_enable);
        // Black-listed: never taken from the store.
        assert_ne!(config.namesrv.kv_config_path, kv.display().to_string());

        let defines = defines(&["listenPort=4444"]);
        let sources = Sources {
            file: Some(&file),
            defines: &defines,
        };
        assert_eq!(sources.namesrv().unwrap().0.server.listen_port, 4444);
    }

    #[test]
    fn a_define_may_name_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("elsewhere.properties");
        std::fs::write(&store, "listenPort=5555\n").unwrap();
        let defines = defines(&[&format!("configStorePath={}", store.display())]);
        let sources = Sources {
            file: None,
            defines: &defines,
        };
        assert_eq!(sources.namesrv().unwrap().0.server.listen_port, 5555);
    }

    #[test]
    fn controller_keys_are_not_unknown_and_are_read_with_their_defines() {
        let (_dir, file, _) = file_with(
            "enableControllerInNamesrv=true\ncontrollerDLegerPeers=n0-127.0.0.1:9878\nmystery=1\n",
        );
        let defines = defines(&["controllerDLegerSelfId=n0"]);
        let sources = Sources {
            file: Some(&file),
            defines: &defines,
        };
        let (config, unknown) = sources.namesrv().unwrap();
        assert!(config.namesrv.enable_controller_in_namesrv);
        assert_eq!(unknown, vec!["mystery".to_string()]);
        let controller = sources.controller().unwrap();
        assert_eq!(
            controller.controller_dleger_peers.as_deref(),
            Some("n0-127.0.0.1:9878")
        );
        assert_eq!(controller.peers().unwrap().me().port, 9878);
    }

    /// The errors of loading both configurations from `file` and `defines`.
    fn errors(file: Option<&Path>, defines: &[&str]) -> [Option<String>; 2] {
        let defines: Vec<String> = defines.iter().map(|d| d.to_string()).collect();
        let sources = Sources {
            file,
            defines: &defines,
        };
        [
            sources.namesrv().err().map(|e| e.to_string()),
            sources.controller().err().map(|e| e.to_string()),
        ]
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let missing = Path::new("/nonexistent/n.properties");
        for err in errors(Some(missing), &[]) {
            let err = err.unwrap();
            assert!(err.contains("/nonexistent/n.properties"), "{err}");
        }

        for err in errors(None, &["listenPort"]) {
            let err = err.unwrap();
            assert!(err.contains("-D") && err.contains("listenPort"), "{err}");
        }

        let (_dir, file, store) = file_with("");
        std::fs::write(&store, "enableTopicList=maybe\n").unwrap();
        let [namesrv, controller] = errors(Some(&file), &[]);
        let namesrv = namesrv.unwrap();
        assert!(
            namesrv.contains(&store.display().to_string()) && namesrv.contains("maybe"),
            "{namesrv}"
        );
        let controller = controller.unwrap();
        assert!(controller.contains("controllerDLegerPeers"), "{controller}");
    }
}
