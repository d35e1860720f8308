//! The namespaced KV store (ORDER_TOPIC_CONFIG and whatever operators put),
//! persisted to `kvConfigPath` in the Java `kvConfig.json` format:
//! `{"configTable":{"NAMESPACE":{"key":"value"}}}`.
//!
//! Every change is on disk (temp file, fsync, rename, fsync of the directory)
//! before it is acknowledged, so a crash never loses an answered PUT and never
//! leaves a torn file. Java overwrites in place; a file it wrote loads here
//! unchanged and vice versa.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use parking_lot::{Mutex, RwLock};
use serde_json::Value;

use crate::disk::write_atomically;
use crate::json;
use crate::json::write::JsonWriter;

/// The namespace whose entries become `orderTopicConf` in routes.
pub const NAMESPACE_ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

type Table = BTreeMap<String, BTreeMap<String, String>>;

#[derive(Debug, thiserror::Error)]
pub enum KvError {
    #[error("cannot read KV config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("KV config file {path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot write KV config file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug)]
pub struct KvConfigManager {
    path: PathBuf,
    table: RwLock<Table>,
    /// Serializes writers so files reach the disk in the order changes were made.
    persist: Mutex<()>,
}

impl KvConfigManager {
    /// Loads `path`; a missing file is an empty table, a corrupt one an error.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, KvError> {
        let path = path.into();
        let table = match fs::read(&path) {
            Ok(bytes) => parse_file(&bytes).map_err(|reason| KvError::Corrupt {
                path: path.clone(),
                reason,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Table::new(),
            Err(source) => return Err(KvError::Read { path, source }),
        };
        let entries: usize = table.values().map(BTreeMap::len).sum();
        tracing::info!(path = %path.display(), namespaces = table.len(), entries, "KV config loaded");
        Ok(KvConfigManager {
            path,
            table: RwLock::new(table),
            persist: Mutex::new(()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every namespace and its entries (a copy, for the HTTP API).
    pub fn all(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.table.read().clone()
    }

    pub fn get(&self, namespace: &str, key: &str) -> Option<String> {
        self.table.read().get(namespace)?.get(key).cloned()
    }

    /// The namespace's entries, `None` when there is no such namespace. A
    /// namespace whose last key was deleted stays, empty, as in Java.
    pub fn list(&self, namespace: &str) -> Option<BTreeMap<String, String>> {
        self.table.read().get(namespace).cloned()
    }

    /// Sets a value and persists it before returning (blocking I/O).
    pub fn put(&self, namespace: &str, key: &str, value: &str) -> Result<(), KvError> {
        self.change(|table| {
            table
                .entry(namespace.to_string())
                .or_default()
                .insert(key.to_string(), value.to_string());
            true
        })
    }

    /// Removes a value; persists only if something was removed (blocking I/O).
    pub fn delete(&self, namespace: &str, key: &str) -> Result<(), KvError> {
        self.change(|table| {
            let Some(ns) = table.get_mut(namespace) else {
                return false;
            };
            ns.remove(key).is_some()
        })
    }

    /// Applies a change to a copy, writes the copy, and only then makes it
    /// the table readers see: a change whose write fails is refused whole,
    /// never visible in memory without being on disk. Writers queue on
    /// `persist`, so the copy is never stale; readers never wait on the disk.
    fn change(&self, apply: impl FnOnce(&mut Table) -> bool) -> Result<(), KvError> {
        let _writer = self.persist.lock();
        let mut next = self.table.read().clone();
        if !apply(&mut next) {
            return Ok(());
        }
        write_atomically(&self.path, &encode(&next)).map_err(|source| KvError::Write {
            path: self.path.clone(),
            source,
        })?;
        *self.table.write() = next;
        Ok(())
    }
}

/// `{"table":{...}}`: the KVTable body of GET_KVLIST_BY_NAMESPACE and REGISTER_BROKER.
pub fn kv_table_json(entries: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = JsonWriter::standard(&mut out);
    w.begin_object();
    w.key("table");
    write_map(&mut w, entries);
    w.end_object();
    out
}

fn write_map(w: &mut JsonWriter, entries: &BTreeMap<String, String>) {
    w.begin_object();
    for (k, v) in entries {
        w.field_str(k, v);
    }
    w.end_object();
}

fn encode(table: &Table) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = JsonWriter::standard(&mut out);
    w.begin_object();
    w.key("configTable");
    w.begin_object();
    for (ns, entries) in table {
        w.key(ns);
        write_map(&mut w, entries);
    }
    w.end_object();
    w.end_object();
    out
}

fn parse_file(bytes: &[u8]) -> Result<Table, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty".into());
    }
    let value = json::read::parse(bytes).map_err(|e| e.to_string())?;
    let mut table = Table::new();
    let config = match value.get("configTable") {
        Some(Value::Object(config)) => config,
        Some(Value::Null) | None if value.is_object() => return Ok(table),
        _ => return Err("`configTable` is not an object".into()),
    };
    for (ns, entries) in config {
        let Value::Object(entries) = entries else {
            return Err(format!("namespace `{ns}` is not an object"));
        };
        let ns_table = table.entry(ns.clone()).or_default();
        for (k, v) in entries {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(format!("value of `{ns}`.`{k}` is not a string")),
            };
            ns_table.insert(k.clone(), text);
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_file_loads_and_ours_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kvConfig.json");
        fs::write(
            &path,
            br#"{"configTable":{"ORDER_TOPIC_CONFIG":{"TopicOrder":"broker-a:4;broker-b:4"},"ns2":{"k":"v"}}}"#,
        )
        .unwrap();
        let kv = KvConfigManager::load(&path).unwrap();
        assert_eq!(
            kv.get(NAMESPACE_ORDER_TOPIC_CONFIG, "TopicOrder")
                .as_deref(),
            Some("broker-a:4;broker-b:4")
        );
        kv.put("ns3", "x", "y \"quoted\"").unwrap();
        kv.delete("ns2", "k").unwrap();
        let again = KvConfigManager::load(&path).unwrap();
        assert_eq!(again.get("ns3", "x").as_deref(), Some("y \"quoted\""));
        // Its last key deleted, the namespace stays, empty, as Java keeps it.
        assert_eq!(again.list("ns2"), Some(BTreeMap::new()));
        assert_eq!(again.list("ns9"), None);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            r#"{"configTable":{"ORDER_TOPIC_CONFIG":{"TopicOrder":"broker-a:4;broker-b:4"},"ns2":{},"ns3":{"x":"y \"quoted\""}}}"#
        );
        assert!(!dir.path().join("kvConfig.json.tmp").exists());
    }

    #[test]
    fn missing_file_is_empty_and_corrupt_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let kv = KvConfigManager::load(dir.path().join("absent.json")).unwrap();
        assert_eq!(kv.list("any"), None);
        for bad in [
            &b""[..],
            b"{\"configTable\":",
            b"[1]",
            b"{\"configTable\":{\"ns\":3}}",
        ] {
            let path = dir.path().join("bad.json");
            fs::write(&path, bad).unwrap();
            let err = KvConfigManager::load(&path).unwrap_err().to_string();
            assert!(err.contains("bad.json"), "{err}");
        }
    }

    #[test]
    fn a_change_that_cannot_be_written_is_not_applied() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kvConfig.json");
        let kv = KvConfigManager::load(&path).unwrap();
        kv.put("ns", "kept", "1").unwrap();
        // The file's directory becomes a plain file: every later write fails.
        fs::remove_file(&path).unwrap();
        fs::remove_dir(dir.path()).unwrap();
        fs::write(dir.path(), b"not a directory").unwrap();
        assert!(kv.put("ns", "lost", "2").is_err());
        assert!(kv.delete("ns", "kept").is_err());
        assert_eq!(kv.get("ns", "lost"), None);
        assert_eq!(kv.get("ns", "kept").as_deref(), Some("1"));
        fs::remove_file(dir.path()).unwrap();
    }

    #[test]
    fn kv_table_body() {
        let entries = BTreeMap::from([("a".to_string(), "1".to_string())]);
        assert_eq!(kv_table_json(&entries), br#"{"table":{"a":"1"}}"#.to_vec());
    }
}
