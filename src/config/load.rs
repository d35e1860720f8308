//! The configuration at start-up: the properties file, `-D` overrides, the
//! `configStorePath` store and the controller's keys from the same file.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::controller::ControllerConfig;

pub fn load_config(config_file: Option<&Path>, defines: &[String]) -> Result<Config, String> {
    let (mut config, mut unknown) = match config_file {
        Some(path) => Config::load_file(path).map_err(|e| e.to_string())?,
        None => (Config::default(), Vec::new()),
    };
    let mut overrides = Vec::new();
    for define in defines {
        let (key, value) = define
            .split_once('=')
            .ok_or_else(|| format!("-D expects KEY=VALUE, got `{define}`"))?;
        overrides.push((key.trim().to_string(), value.trim().to_string()));
    }
    // -D first (it may name configStorePath), then the store, then -D again to win.
    unknown.extend(
        config
            .apply_overrides(&overrides)
            .map_err(|e| e.to_string())?,
    );
    apply_config_store(&mut config)?;
    config
        .apply_overrides(&overrides)
        .map_err(|e| e.to_string())?;
    // The controller's keys belong in the same file (Java reads both from it).
    for key in unknown {
        if !ControllerConfig::KEYS.contains(&key.as_str()) {
            tracing::warn!(key, "unknown config property ignored");
        }
    }
    Ok(config)
}

/// The controller's configuration from the -c file and -D, as Java fills
/// ControllerConfig from the NameServer's file; the other keys are the
/// NameServer's (or unknown, which the NameServer's loader reports).
pub fn load_controller_config(
    config_file: Option<&Path>,
    defines: &[String],
) -> Result<ControllerConfig, String> {
    let mut props = std::collections::BTreeMap::new();
    if let Some(path) = config_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let pairs = crate::config::properties::parse(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        props.extend(pairs);
    }
    for define in defines {
        if let Some((key, value)) = define.split_once('=') {
            props.insert(key.trim().to_string(), value.trim().to_string());
        }
    }
    let (config, _others) = ControllerConfig::from_properties(&props).map_err(|e| e.to_string())?;
    // Checked now so a missing peer list or self id stops start-up, naming the key.
    config.peers().map_err(|e| e.to_string())?;
    Ok(config)
}

/// Re-applies what UPDATE_NAMESRV_CONFIG persisted to `configStorePath` (the
/// properties changed at run time), so they survive a restart. Java writes
/// the whole configuration there and never reads it back. Black-listed keys
/// (the paths themselves) are never taken from it.
fn apply_config_store(config: &mut Config) -> Result<(), String> {
    let path = PathBuf::from(&config.namesrv.config_store_path);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let pairs: Vec<(String, String)> = crate::config::properties::parse(&text)
        .map_err(|e| format!("{}: {e}", path.display()))?
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
    config
        .apply_overrides(&pairs)
        .map(drop)
        .map_err(|e| format!("{}: {e}", path.display()))
}
