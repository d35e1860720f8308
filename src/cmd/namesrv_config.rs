//! UPDATE_NAMESRV_CONFIG (318) and GET_NAMESRV_CONFIG (319): the live
//! configuration as properties text, changes persisted to `configStorePath`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;

use super::CmdError;
use crate::config::properties;
use crate::config::TlsConfig;
use crate::remoting::{RemotingCommand, ResponseCode};
use crate::state::shared::Shared;

pub fn get(shared: &Shared, req: &RemotingCommand) -> RemotingCommand {
    let text = properties::to_string(shared.config().entries());
    req.response(ResponseCode::SUCCESS, None).with_body(text)
}

pub struct UpdateNamesrvConfig {
    pairs: Vec<(String, String)>,
}

impl UpdateNamesrvConfig {
    pub fn parse(req: &RemotingCommand) -> Result<Self, CmdError> {
        let text = std::str::from_utf8(&req.body)
            .map_err(|_| CmdError::Body("config body is not UTF-8".into()))?;
        let pairs = properties::parse(text)
            .map_err(|_| CmdError::Body("string2Properties error".into()))?;
        Ok(UpdateNamesrvConfig { pairs })
    }

    /// Validates every value first (on a copy), so a bad one changes
    /// nothing; then persists the change and only then applies it to the
    /// live configuration, both under one lock: an update that cannot be
    /// written is refused whole, and concurrent updates neither lose each
    /// other's keys nor reach disk and memory in different orders.
    pub async fn apply(
        self,
        shared: &Arc<Shared>,
        req: &RemotingCommand,
    ) -> Result<RemotingCommand, CmdError> {
        if self.pairs.is_empty() {
            return Ok(req.response(ResponseCode::SUCCESS, None));
        }
        let mut next = shared.config().clone();
        if self.pairs.iter().any(|(k, _)| next.is_black_listed(k)) {
            return Ok(req.response(
                ResponseCode::NO_PERMISSION,
                Some("Can not update config in black list.".into()),
            ));
        }
        if let Some((key, _)) = self.pairs.iter().find(|(k, _)| TlsConfig::is_tls_key(k)) {
            return Ok(req.response(
                ResponseCode::NO_PERMISSION,
                Some(format!(
                    "{key} is read at start-up only; change it in the config file and restart."
                )),
            ));
        }
        let unknown = next
            .apply_overrides(&self.pairs)
            .map_err(|e| CmdError::Body(e.to_string()))?;
        for key in unknown {
            tracing::warn!(key, "UPDATE_NAMESRV_CONFIG: unknown property ignored");
        }
        // configStorePath is black-listed, so the copy's path is the live one.
        let path = next.namesrv.config_store_path.clone();
        let (live, pairs) = (shared.clone(), self.pairs);
        super::blocking(move || {
            let _guard = STORE_LOCK.lock();
            persist_updates(Path::new(&path), &pairs)
                .map_err(|e| format!("config not updated: {e}"))?;
            // Validated above against a copy of this same configuration.
            live.update_config(|config| config.apply_overrides(&pairs))
                .map_err(|e| e.to_string())?;
            tracing::info!(changes = ?pairs, "namesrv config updated");
            Ok::<_, String>(())
        })
        .await?;
        Ok(req.response(ResponseCode::SUCCESS, None))
    }
}

/// Serializes updates: the store's read-merge-write cycle and the live swap.
static STORE_LOCK: Mutex<()> = Mutex::new(());

/// Merges `pairs` into the properties file at `path`, which holds every
/// property changed at run time (and only those, so that start-up can
/// re-apply them without overriding the rest of the config file).
fn persist_updates(path: &Path, pairs: &[(String, String)]) -> std::io::Result<()> {
    let mut stored: BTreeMap<String, String> = match std::fs::read_to_string(path) {
        Ok(text) => properties::parse(&text)
            .unwrap_or_default()
            .into_iter()
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e),
    };
    stored.extend(pairs.iter().cloned());
    crate::disk::write_atomically(path, properties::to_string(stored).as_bytes())
}
