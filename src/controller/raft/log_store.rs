//! The raft log on plain files under `controllerStorePath`:
//!
//! - `raft-log`: append-only records `len:u32 BE | crc32:u32 BE | json entry`,
//!   written and fsync'd before an append is acknowledged. A record cut off
//!   by a crash (the only one that can be: nothing after it was ever
//!   acknowledged) fails its length or CRC check, or reads as length 0
//!   (a zero-filled tail), and is dropped on load.
//! - `raft-vote.json`, `raft-committed.json`, `raft-purged.json`: small
//!   files replaced atomically (temp file, fsync, rename, dir fsync).
//!
//! Truncation and purging rewrite the whole log atomically: the log is
//! short (a snapshot every few hundred entries lets it be purged), so this
//! is cheaper in code than an index, and a crash leaves the old or the new
//! log whole. The purge mark is written before the rewrite, so a crash
//! between them only leaves entries that load ignores.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{
    AnyError, Entry, ErrorSubject, ErrorVerb, LogId, OptionalSend, RaftLogId, RaftLogReader,
    StorageIOError, Vote,
};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::types::{RaftError, StorageError, TypeConfig};
use crate::controller::peers::NodeId;
use crate::disk::write_atomically;

const LOG_FILE: &str = "raft-log";
const VOTE_FILE: &str = "raft-vote.json";
const COMMITTED_FILE: &str = "raft-committed.json";
const PURGED_FILE: &str = "raft-purged.json";

/// A record longer than this cannot be ours: it is a torn length field.
const MAX_RECORD: usize = 64 << 20;
const RECORD_HEADER: usize = 8;

/// Test hook: a file named by this variable, while it exists, holds the
/// milliseconds every append waits before writing (a slow disk, for the
/// integration tests of slow commits). Read at each append.
const APPEND_DELAY_HOOK: &str = "NAMESRV_TEST_APPEND_DELAY_FILE";

/// The last log id covered by a snapshot that is on disk, shared by the
/// state machine (which moves it) and the log (which purges no further).
pub type SnapshotMark = Arc<Mutex<Option<LogId<NodeId>>>>;

type RaftEntry = Entry<TypeConfig>;

/// What is in memory: every entry of the log (it is short), and the marks.
#[derive(Default)]
struct Mem {
    entries: BTreeMap<u64, RaftEntry>,
    last_purged: Option<LogId<NodeId>>,
    vote: Option<Vote<NodeId>>,
    committed: Option<LogId<NodeId>>,
}

struct Inner {
    dir: PathBuf,
    /// Appends and rewrites, serialised; held across the fsync, which
    /// readers never wait for (they only take `mem`).
    file: Mutex<File>,
    mem: Mutex<Mem>,
    /// See [`APPEND_DELAY_HOOK`].
    append_delay: Option<PathBuf>,
    /// Set once at start-up by [`LogStore::limit_purges_to`].
    purge_limit: std::sync::OnceLock<SnapshotMark>,
}

/// The log store; clones share it, and a clone is also the log reader.
#[derive(Clone)]
pub struct LogStore {
    inner: Arc<Inner>,
}

impl LogStore {
    /// Opens (or creates) the log under `dir`, dropping a torn tail.
    pub fn open(dir: &Path) -> Result<LogStore, RaftError> {
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let log_path = dir.join(LOG_FILE);
        let last_purged: Option<LogId<NodeId>> = read_json(&dir.join(PURGED_FILE))?;
        let vote = read_json(&dir.join(VOTE_FILE))?;
        let committed = read_json(&dir.join(COMMITTED_FILE))?;
        let (entries, good_len) = load_records(&log_path)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| io_err(&log_path, e))?;
        let len = file.metadata().map_err(|e| io_err(&log_path, e))?.len();
        if len > good_len {
            tracing::warn!(
                file = %log_path.display(),
                dropped_bytes = len - good_len,
                "raft log ends in a torn record (a crash mid-append); dropping it"
            );
            file.set_len(good_len).map_err(|e| io_err(&log_path, e))?;
            file.sync_all().map_err(|e| io_err(&log_path, e))?;
        }
        let purged_index = last_purged.map(|id: LogId<NodeId>| id.index);
        let entries = entries
            .into_iter()
            .filter(|e| purged_index.is_none_or(|p| e.log_id.index > p))
            .map(|e| (e.log_id.index, e))
            .collect();
        Ok(LogStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                file: Mutex::new(file),
                mem: Mutex::new(Mem {
                    entries,
                    last_purged,
                    vote,
                    committed,
                }),
                append_delay: std::env::var_os(APPEND_DELAY_HOOK).map(PathBuf::from),
                purge_limit: std::sync::OnceLock::new(),
            }),
        })
    }

    /// Purges stop at the snapshot `mark` says is on disk: a purge made
    /// durable past it would leave a store that cannot restart.
    pub fn limit_purges_to(&self, mark: SnapshotMark) {
        let _ = self.inner.purge_limit.set(mark);
    }

    fn path(&self, name: &str) -> PathBuf {
        self.inner.dir.join(name)
    }

    /// Replaces the log file with `entries` and reopens it for appends.
    fn rewrite(&self, entries: &[RaftEntry]) -> Result<(), std::io::Error> {
        let mut buf = Vec::new();
        for entry in entries {
            encode_record(entry, &mut buf)?;
        }
        let path = self.path(LOG_FILE);
        let mut file = self.inner.file.lock();
        write_atomically(&path, &buf)?;
        *file = OpenOptions::new().append(true).open(&path)?;
        Ok(())
    }
}

fn io_err(path: &Path, source: std::io::Error) -> RaftError {
    RaftError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, RaftError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| RaftError::Corrupt {
                path: path.display().to_string(),
                detail: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path, e)),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    write_atomically(path, &bytes)
}

fn encode_record(entry: &RaftEntry, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let payload = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|l| (*l as usize) <= MAX_RECORD)
        .ok_or_else(|| std::io::Error::other("raft log entry too large"))?;
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(&crc32fast::hash(&payload).to_be_bytes());
    buf.extend_from_slice(&payload);
    Ok(())
}

/// Every whole record of the file and the length they span. Parsing stops
/// at the first record that is cut short or fails its CRC: the torn tail.
/// A record that passes its CRC but does not parse is corruption of
/// another kind (or a format change), and refuses to start.
fn load_records(path: &Path) -> Result<(Vec<RaftEntry>, u64), RaftError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_end(&mut bytes).map_err(|e| io_err(path, e))?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(io_err(path, e)),
    }
    let mut entries = Vec::new();
    let mut at = 0usize;
    while let Some(header) = bytes.get(at..at + RECORD_HEADER) {
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        let start = at + RECORD_HEADER;
        // We never write an empty record, and a zero header passes the CRC
        // check (the CRC-32 of nothing is 0): it is a zero-filled tail that
        // a crash left behind, torn like any other.
        let Some(payload) = bytes
            .get(start..start + len)
            .filter(|_| len > 0 && len <= MAX_RECORD)
        else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let entry: RaftEntry = serde_json::from_slice(payload).map_err(|e| RaftError::Corrupt {
            path: path.display().to_string(),
            detail: format!("record at byte {at}: {e}"),
        })?;
        entries.push(entry);
        at = start + len;
    }
    Ok((entries, at as u64))
}

/// The delay the test hook's file asks for, if it exists and parses.
fn read_delay(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn logs_err(verb: ErrorVerb, e: &std::io::Error) -> StorageError {
    StorageIOError::new(ErrorSubject::Logs, verb, AnyError::new(e)).into()
}

fn vote_err(e: &std::io::Error) -> StorageError {
    StorageIOError::write_vote(AnyError::new(e)).into()
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<RaftEntry>, StorageError> {
        let start = range.start_bound().cloned();
        let end = range.end_bound().cloned();
        let mem = self.inner.mem.lock();
        Ok(mem
            .entries
            .range((start, end))
            .map(|(_, e)| e.clone())
            .collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let mem = self.inner.mem.lock();
        let last = mem
            .entries
            .values()
            .next_back()
            .map(|e| *e.get_log_id())
            .or(mem.last_purged);
        Ok(LogState {
            last_purged_log_id: mem.last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        write_json(&self.path(VOTE_FILE), vote).map_err(|e| vote_err(&e))?;
        self.inner.mem.lock().vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        Ok(self.inner.mem.lock().vote)
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId<NodeId>>,
    ) -> Result<(), StorageError> {
        write_json(&self.path(COMMITTED_FILE), &committed)
            .map_err(|e| logs_err(ErrorVerb::Write, &e))?;
        self.inner.mem.lock().committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError> {
        Ok(self.inner.mem.lock().committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = RaftEntry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<RaftEntry> = entries.into_iter().collect();
        let mut buf = Vec::new();
        for entry in &entries {
            encode_record(entry, &mut buf).map_err(|e| logs_err(ErrorVerb::Write, &e))?;
        }
        let inner = self.inner.clone();
        // The fsync can take milliseconds: off the runtime's worker threads.
        let written = tokio::task::spawn_blocking(move || {
            if let Some(ms) = inner.append_delay.as_deref().and_then(read_delay) {
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            let mut file = inner.file.lock();
            file.write_all(&buf)?;
            file.sync_data()
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r);
        if let Err(e) = written {
            let err = logs_err(ErrorVerb::Write, &e);
            callback.log_io_completed(Err(e));
            return Err(err);
        }
        {
            let mut mem = self.inner.mem.lock();
            for entry in entries {
                mem.entries.insert(entry.log_id.index, entry);
            }
        }
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError> {
        let remaining: Vec<RaftEntry> = {
            let mut mem = self.inner.mem.lock();
            let _ = mem.entries.split_off(&log_id.index);
            mem.entries.values().cloned().collect()
        };
        self.rewrite(&remaining)
            .map_err(|e| logs_err(ErrorVerb::Delete, &e))
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError> {
        let log_id = match self.inner.purge_limit.get() {
            None => log_id,
            Some(mark) => {
                // Keeping entries openraft considers purged is harmless (it
                // never reads below its own mark); losing entries no
                // snapshot on disk covers is not.
                let durable = *mark.lock();
                match durable {
                    Some(durable) if durable.index < log_id.index => {
                        tracing::info!(asked = %log_id, %durable, "raft log purged only up to the stored snapshot");
                        durable
                    }
                    Some(_) => log_id,
                    None => return Ok(()),
                }
            }
        };
        let already = self.inner.mem.lock().last_purged;
        if already.is_some_and(|p| p.index >= log_id.index) {
            return Ok(());
        }
        write_json(&self.path(PURGED_FILE), &log_id)
            .map_err(|e| logs_err(ErrorVerb::Delete, &e))?;
        let remaining: Vec<RaftEntry> = {
            let mut mem = self.inner.mem.lock();
            mem.last_purged = Some(log_id);
            let kept = mem.entries.split_off(&log_id.index.saturating_add(1));
            mem.entries = kept;
            mem.entries.values().cloned().collect()
        };
        self.rewrite(&remaining)
            .map_err(|e| logs_err(ErrorVerb::Delete, &e))
    }
}
