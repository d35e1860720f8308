//! `RouteInfoManager`: the Java NameServer's route tables behind one
//! `parking_lot::RwLock`. Callers parse request bodies before calling in, so
//! the write lock is held only while tables are updated.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{RwLock, RwLockUpgradableReadGuard};
use serde_json::Value;

use super::model::{
    BrokerData, ClusterInfo, DataVersion, QueueData, TopicConfigWrapper, TopicQueues,
    TopicRouteData, MASTER_ID, PERM_READ, PERM_WRITE,
};
use super::registration::fingerprint::RegistrationFingerprint;
use super::registration::layout::TableLayout;
use super::registration::runs::{AppliedTopics, TopicRuns};
use super::{FastMap, FastSet};

pub use crate::remoting::ConnId;

/// Java `DEFAULT_BROKER_CHANNEL_EXPIRED_TIME`.
pub const DEFAULT_BROKER_TIMEOUT_MS: i64 = 120_000;

/// Topics of the acting-master protocol that are never rewritten (Java
/// `TopicValidator.SYNC_BROKER_MEMBER_GROUP_PREFIX`).
const SYNC_BROKER_MEMBER_GROUP_PREFIX: &str = "SYNC_BROKER_MEMBER_";

/// TopicSysFlag bits.
const FLAG_UNIT: i32 = 0x1;
const FLAG_UNIT_SUB: i32 = 0x2;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrokerAddrInfo {
    pub cluster_name: String,
    pub broker_addr: String,
}

impl BrokerAddrInfo {
    pub fn new(cluster_name: &str, broker_addr: &str) -> Self {
        BrokerAddrInfo {
            cluster_name: cluster_name.to_string(),
            broker_addr: broker_addr.to_string(),
        }
    }
}

#[derive(Debug)]
struct BrokerLiveInfo {
    /// Atomic so heartbeats refresh it under the read lock.
    last_update_ms: AtomicI64,
    heartbeat_timeout_ms: i64,
    data_version: DataVersion,
    conn: Option<ConnId>,
    ha_server_addr: String,
    /// The registration that last set this entry, with the table generation
    /// and options right after it: repeating it while neither has moved
    /// would change nothing (see [`RouteInfoManager::refresh_unchanged`]).
    unchanged: Option<(RegistrationFingerprint, u64, RouteOptions)>,
}

/// Settings of the NameServer configuration that change route behaviour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteOptions {
    pub support_acting_master: bool,
    pub delete_topic_with_broker_registration: bool,
    pub notify_min_broker_id_changed: bool,
}

#[derive(Debug, Clone, Default)]
pub struct BrokerRegistration {
    pub cluster_name: String,
    pub broker_addr: String,
    pub broker_name: String,
    pub broker_id: i64,
    pub ha_server_addr: String,
    pub zone_name: Option<String>,
    pub heartbeat_timeout_ms: Option<i64>,
    /// `None` for brokers older than 5.0, which do not send it.
    pub enable_acting_master: Option<bool>,
    pub wrapper: TopicConfigWrapper,
    pub filter_server_list: Vec<String>,
    pub conn: Option<ConnId>,
    /// Lets a later identical registration skip the full path.
    pub fingerprint: Option<RegistrationFingerprint>,
    /// The layout of the body's topic table, kept (with what this
    /// registration writes) to read the broker's next body against.
    pub layout: Option<TableLayout>,
    /// Set when the body was read against the layout of `from`.
    pub reused: Option<Reused>,
}

/// A body read against the layout of the broker's last full registration
/// ([`RouteInfoManager::last_layout`]): the topics of the runs it repeated
/// are not in [`BrokerRegistration::wrapper`]; they stand as `from` wrote
/// them, which holds while `from` is still the group's entry.
#[derive(Debug, Clone)]
pub struct Reused {
    pub from: Arc<AppliedTopics>,
    pub topics: usize,
}

impl BrokerRegistration {
    /// Topics the body names, counting those left out as repeated.
    fn topic_count(&self) -> usize {
        self.wrapper.topics.len() + self.reused.as_ref().map_or(0, |r| r.topics)
    }
}

/// Who is registering.
#[derive(Debug)]
pub(crate) struct RegistrationId<'a> {
    pub cluster_name: &'a str,
    pub broker_addr: &'a str,
    pub broker_name: &'a str,
    pub broker_id: i64,
    pub conn: ConnId,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegisterResult {
    pub master_addr: Option<String>,
    pub ha_server_addr: Option<String>,
    pub notice: Option<MinBrokerIdNotice>,
    /// Topics whose route answer this registration changed. A change that
    /// reaches every topic of the broker (its addresses, zone, filter
    /// servers) bumps [`RouteInfoManager::generation`] instead.
    pub changed_topics: Vec<String>,
}

/// A registration the Java NameServer refuses: a single-topic registration
/// from a brokerId that has not made its full registration yet.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("register broker failed: broker {broker_name}[{broker_id}] must register its full topic table first")]
pub struct RegisterRefused {
    pub broker_name: String,
    pub broker_id: i64,
}

/// Why [`RouteInfoManager::try_register`] applied nothing.
#[derive(Debug)]
pub(crate) enum Rejected {
    Refused(RegisterRefused),
    /// As [`RegisterError::Stale`], with the registration handed back to
    /// be decoded again.
    Stale(Box<BrokerRegistration>),
}

impl From<Rejected> for RegisterError {
    fn from(rejected: Rejected) -> Self {
        match rejected {
            Rejected::Refused(refused) => RegisterError::Refused(refused),
            Rejected::Stale(_) => RegisterError::Stale,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegisterError {
    #[error(transparent)]
    Refused(#[from] RegisterRefused),
    /// The body was read against a layout the group's entry no longer
    /// holds (something else wrote its queue data since): nothing was
    /// changed; read the body in full and register again.
    #[error("the broker's topics changed since its body was read against their layout")]
    Stale,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnregisterRequest {
    pub cluster_name: String,
    pub broker_addr: String,
    pub broker_name: String,
    pub broker_id: i64,
}

/// NOTIFY_MIN_BROKER_ID_CHANGE to send to `targets` (one-way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinBrokerIdNotice {
    pub broker_name: String,
    pub min_broker_id: i64,
    pub min_broker_addr: String,
    pub offline_broker_addr: Option<String>,
    pub ha_broker_addr: Option<String>,
    pub targets: Vec<String>,
}

/// A broker whose liveness lapsed, removed by [`RouteInfoManager::scan_not_active`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredBroker {
    pub addr: BrokerAddrInfo,
    pub conn: Option<ConnId>,
    pub timeout_ms: i64,
}

#[derive(Debug, Default)]
struct Tables {
    /// topic → queue data per broker name, and the runs each group's last
    /// full registration wrote there.
    topic_queue: TopicQueueTable,
    broker_addr: BTreeMap<Arc<str>, BrokerData>,
    cluster_addr: BTreeMap<String, BTreeSet<Arc<str>>>,
    broker_live: HashMap<BrokerAddrInfo, BrokerLiveInfo>,
    filter_server: HashMap<BrokerAddrInfo, Vec<String>>,
    /// topic → brokerName → TopicQueueMappingInfo as the broker sent it.
    topic_queue_mapping: HashMap<String, BTreeMap<String, Value>>,
    /// brokerName → the topics its current registration round carried; kept
    /// only with `deleteTopicWithBrokerRegistration`.
    rounds: FastMap<Arc<str>, RegistrationRound>,
}

/// How long after a round's first registration a registration of the same
/// data version still belongs to it: a broker with
/// `enableSplitRegistration` sends its batches one after the other, each
/// once every NameServer answered the one before (or its timeout passed).
const ROUND_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);

/// One registration round of a broker group, for
/// `deleteTopicWithBrokerRegistration`. A 5.x broker with
/// `enableSplitRegistration=true` sends its topic table in batches of the
/// same data version, back to back; Java deletes the topics missing from
/// each batch, so every batch but the last takes routes away. Here a group
/// seen to split keeps every topic its previous round or this one carried,
/// and a topic dropped by the broker goes at the round after (one period
/// later); a group that sends whole tables loses what its registration does
/// not carry at once, as in Java.
#[derive(Debug)]
struct RegistrationRound {
    version: DataVersion,
    started: std::time::Instant,
    /// What this round's registrations carried so far.
    topics: FastSet<String>,
    /// What the whole previous round carried, once the group is seen to
    /// split (empty before).
    previous: FastSet<String>,
    /// A registration of a round's data version carried topics the round
    /// had not: the broker sends its table in batches.
    split: bool,
}

impl RegistrationRound {
    /// Records a registration of `version` carrying `topics`.
    fn record(
        round: Option<RegistrationRound>,
        version: &DataVersion,
        topics: FastSet<String>,
        now: std::time::Instant,
    ) -> RegistrationRound {
        match round {
            Some(mut r)
                if r.version == *version && now.duration_since(r.started) < ROUND_WINDOW =>
            {
                r.split |= !topics.is_superset(&r.topics);
                r.topics.extend(topics);
                r
            }
            previous => {
                let (split, previous) = match previous {
                    Some(r) if r.split => (true, r.topics),
                    _ => (false, FastSet::default()),
                };
                RegistrationRound {
                    version: *version,
                    started: now,
                    topics,
                    previous,
                    split,
                }
            }
        }
    }

    /// Whether the group's `topic` stays after the registrations so far.
    fn keeps(&self, topic: &str) -> bool {
        self.topics.contains(topic) || (self.split && self.previous.contains(topic))
    }
}

#[derive(Debug, Default)]
pub struct RouteInfoManager {
    tables: RwLock<Tables>,
    /// Bumped whenever the tables may have changed; tags cached route answers.
    generation: AtomicU64,
    /// Connections closed whose brokers are still to be removed (see
    /// [`RouteInfoManager::on_connection_closed`]).
    closed: parking_lot::Mutex<Vec<ConnId>>,
    /// Tests turn off [`Tables::applied`] to compare with and without it.
    #[cfg(test)]
    forget_applied: bool,
}

/// Sorted list of topics answered by the topic-list requests.
pub type TopicList = Vec<String>;

impl RouteInfoManager {
    pub fn new() -> Self {
        Self::default()
    }

    /// The write lock; taking it invalidates every cached route answer.
    fn write_tables(&self) -> parking_lot::RwLockWriteGuard<'_, Tables> {
        let guard = self.tables.write();
        self.generation.fetch_add(1, Ordering::Release);
        guard
    }

    /// Changes whenever a route answer may have changed. Read it before
    /// computing an answer to tag that answer.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A registration already decoded (benchmarks and tests; requests go
    /// through [`RouteInfoManager::register`]). A periodic re-registration
    /// that changes nothing leaves every cached route answer valid; one
    /// that changes some topics names them in the result, so only those
    /// are recomputed.
    pub fn register_broker(
        &self,
        reg: BrokerRegistration,
        opts: RouteOptions,
        now_ms: i64,
    ) -> Result<RegisterResult, RegisterError> {
        self.try_register(reg, opts, now_ms)
            .map_err(RegisterError::from)
    }

    /// [`RouteInfoManager::register_broker`], handing a stale
    /// registration back.
    pub(crate) fn try_register(
        &self,
        reg: BrokerRegistration,
        opts: RouteOptions,
        now_ms: i64,
    ) -> Result<RegisterResult, Rejected> {
        // Comparing a 10,000-topic table with ours is the bulk of the work.
        // It runs under an upgradable read (lookups go on; no other writer
        // can slip in before the upgrade), so the write lock only covers the
        // topics that actually change.
        let runs = TopicRuns::of(&reg.wrapper.topics);
        let t = self.tables.upgradable_read();
        if let Some(reused) = &reg.reused {
            // Only a master's own entry vouches for topics it did not send
            // again (see `last_layout`), and only while nothing replaced it.
            let holds = reg.broker_id == MASTER_ID
                && t.topic_queue
                    .runs_of(reg.broker_name.as_str())
                    .is_some_and(|a| Arc::ptr_eq(a, &reused.from));
            if !holds {
                return Err(Rejected::Stale(Box::new(reg)));
            }
        }
        let current = current_queue_perms(&t, &reg, &runs);
        let mut t = RwLockUpgradableReadGuard::upgrade(t);
        let live_key = BrokerAddrInfo::new(&reg.cluster_name, &reg.broker_addr);
        // Broker-wide parts of route answers, to tell afterwards whether
        // they changed (a few addresses: cheap to copy).
        let broker_before = t.broker_addr.get(reg.broker_name.as_str()).cloned();
        let filters_before = t.filter_server.get(&live_key).cloned();
        let name = reg.broker_name.clone();
        let fingerprint = reg.fingerprint.clone();
        let result =
            register_locked(&mut t, reg, &current, &runs, opts, now_ms).map_err(Rejected::Refused);
        #[cfg(test)]
        if self.forget_applied {
            t.topic_queue.forget_all_runs();
        }
        // A group new to the table is in no answer but those of the topics
        // it just registered, which the result names; a storm of brokers
        // after a restart then leaves every other cached answer valid.
        if broker_before.is_some()
            && (t.broker_addr.get(name.as_str()) != broker_before.as_ref()
                || t.filter_server.get(&live_key) != filters_before.as_ref())
        {
            // Still under the write lock, so no reader tags old data with it.
            self.generation.fetch_add(1, Ordering::Release);
        }
        if let (Ok(_), Some(fingerprint)) = (&result, fingerprint) {
            if let Some(live) = t.broker_live.get_mut(&live_key) {
                live.unchanged = Some((fingerprint, self.generation(), opts));
            }
        }
        result
    }

    /// The layout of the body of `broker_name`'s last full registration,
    /// when that was made by `broker_id`, a master, and still stands: the
    /// next body of that broker can be read against it. The registration
    /// carries it back as [`Reused::from`].
    pub(crate) fn last_layout(
        &self,
        broker_name: &str,
        broker_id: i64,
    ) -> Option<Arc<AppliedTopics>> {
        if broker_id != MASTER_ID {
            return None;
        }
        let t = self.tables.read();
        t.topic_queue
            .runs_of(broker_name)
            .filter(|a| a.writer == broker_id && !a.read_only && a.layout.is_some())
            .cloned()
    }

    /// REGISTER_BROKER repeating the registration that last set this
    /// broker's entry (`same` tells, from that one's fingerprint), over the
    /// same connection, with no change to the tables or options since: the
    /// full path would change nothing, so only liveness is refreshed (under
    /// the read lock) and the answer's master addresses are read. `None`
    /// when that does not hold; the caller then registers in full.
    pub(crate) fn refresh_unchanged(
        &self,
        id: &RegistrationId<'_>,
        same: impl FnOnce(&RegistrationFingerprint) -> bool,
        opts: RouteOptions,
        now_ms: i64,
    ) -> Option<RegisterResult> {
        let t = self.tables.read();
        let live = t
            .broker_live
            .get(&BrokerAddrInfo::new(id.cluster_name, id.broker_addr))?;
        let (fingerprint, generation, options) = live.unchanged.as_ref()?;
        let same = *generation == self.generation()
            && *options == opts
            && live.conn == Some(id.conn)
            && t.broker_addr
                .get(id.broker_name)
                .and_then(|b| b.broker_addrs.get(&id.broker_id))
                .is_some_and(|addr| addr == id.broker_addr)
            && same(fingerprint);
        if !same {
            return None;
        }
        live.last_update_ms.store(now_ms, Ordering::Relaxed);
        let (master_addr, ha_server_addr) =
            master_of(&t, id.cluster_name, id.broker_name, id.broker_id);
        Some(RegisterResult {
            master_addr,
            ha_server_addr,
            ..RegisterResult::default()
        })
    }
}

/// Where a topic of a registration stands in the table now.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Current {
    /// In a run the group's last full registration wrote (see
    /// [`Tables::applied`]): equal to what writing it again by that writer
    /// would write.
    Written,
    /// The broker's queue data matches but for its perm, this one.
    Perm(i32, Slot),
    /// Absent, or different in more than its perm.
    Other(Slot),
}

/// [`Current`] of each topic of the registration. Topics of runs the
/// group's last full registration wrote are not looked up.
fn current_queue_perms(t: &Tables, reg: &BrokerRegistration, runs: &TopicRuns) -> Vec<Current> {
    let written = t
        .topic_queue
        .runs_of(reg.broker_name.as_str())
        .filter(|w| w.writer == reg.broker_id);
    let known = written.map_or_else(Vec::new, |w| runs.known_in(w));
    reg.wrapper
        .topics
        .iter()
        .enumerate()
        .map(|(i, (topic, tc))| {
            if known.get(i) == Some(&true) && !written.is_some_and(|w| w.rewrote(topic)) {
                Current::Written
            } else {
                current_queue_perm(t.topic_queue.get(topic), &reg.broker_name, &tc)
            }
        })
        .collect()
}

/// [`Current`] of a topic whose queue list is `queues`.
fn current_queue_perm(
    queues: Option<&Vec<QueueData>>,
    broker_name: &str,
    tc: &TopicQueues,
) -> Current {
    let Some(queues) = queues else {
        return Current::Other(None);
    };
    let at = queue_index(queues, broker_name);
    match at.map(|i| &queues[i]) {
        Ok(q)
            if q.read_queue_nums == tc.read_queue_nums
                && q.write_queue_nums == tc.write_queue_nums
                && q.topic_sys_flag == tc.topic_sys_flag =>
        {
            Current::Perm(q.perm, Some(at))
        }
        _ => Current::Other(Some(at)),
    }
}

/// For a slave, its live master's address and HA address (Java answers
/// them to every registration of a slave).
fn master_of(
    t: &Tables,
    cluster_name: &str,
    broker_name: &str,
    broker_id: i64,
) -> (Option<String>, Option<String>) {
    if broker_id == MASTER_ID {
        return (None, None);
    }
    let Some(master_addr) = t
        .broker_addr
        .get(broker_name)
        .and_then(|b| b.broker_addrs.get(&MASTER_ID))
    else {
        return (None, None);
    };
    match t
        .broker_live
        .get(&BrokerAddrInfo::new(cluster_name, master_addr))
    {
        Some(master) => (
            Some(master_addr.clone()),
            Some(master.ha_server_addr.clone()),
        ),
        None => (None, None),
    }
}

/// `current` is [`current_queue_perms`] of `reg` and its `runs`, taken
/// with no writer in between.
fn register_locked(
    t: &mut Tables,
    mut reg: BrokerRegistration,
    current: &[Current],
    runs: &TopicRuns,
    opts: RouteOptions,
    now_ms: i64,
) -> Result<RegisterResult, RegisterRefused> {
    let mut result = RegisterResult::default();
    let Some(joined) = join_group(t, &reg)? else {
        return Ok(result);
    };
    let live_key = BrokerAddrInfo::new(&reg.cluster_name, &reg.broker_addr);
    if let Some(read_only) = joined.writes_queues {
        // Java rewrites every topic of a new or changed registration.
        let rewrite = joined.register_first
            || t.broker_live
                .get(&live_key)
                .is_none_or(|live| live.data_version != reg.wrapper.data_version);
        let changed = &mut result.changed_topics;
        let write = QueueWrite {
            name: &joined.name,
            read_only,
            register_first: joined.register_first,
            rewrite,
        };
        write_queue_data(t, &mut reg, &write, current, runs, opts, changed);
        if rewrite {
            write_mappings(t, &reg, changed);
        }
    }
    write_liveness(t, &reg, live_key, now_ms);
    (result.master_addr, result.ha_server_addr) =
        master_of(t, &reg.cluster_name, &reg.broker_name, reg.broker_id);
    if joined.min_id_changed && opts.notify_min_broker_id_changed {
        let broker = &t.broker_addr[&joined.name];
        result.notice = min_id_notice(broker, None, Some(reg.ha_server_addr.clone()));
    }
    Ok(result)
}

/// What [`join_group`] found of a registering broker.
struct Joined {
    /// The group's name, as the tables share it.
    name: Arc<str>,
    /// Its first registration at this address.
    register_first: bool,
    /// Its id is now the group's smallest.
    min_id_changed: bool,
    /// `Some` when it writes the group's queue data (a master, or the
    /// smallest id of a 5.x group standing in for its master), with
    /// whether write permission is taken away.
    writes_queues: Option<bool>,
}

/// Enters the broker in its cluster and group (broker data, addresses).
/// `None` when a newer broker holds its id at another address (it is
/// ignored, as in Java); refused when its first registration carries one
/// topic.
fn join_group(t: &mut Tables, reg: &BrokerRegistration) -> Result<Option<Joined>, RegisterRefused> {
    let name: Arc<str> = match t.broker_addr.get_key_value(reg.broker_name.as_str()) {
        Some((existing, _)) => existing.clone(),
        None => Arc::from(reg.broker_name.as_str()),
    };
    let new_in_cluster = t
        .cluster_addr
        .entry(reg.cluster_name.clone())
        .or_default()
        .insert(name.clone());
    let mut register_first = false;
    let broker = t.broker_addr.entry(name.clone()).or_insert_with(|| {
        register_first = true;
        BrokerData {
            cluster: reg.cluster_name.clone(),
            broker_name: name.clone(),
            broker_addrs: BTreeMap::new(),
            zone_name: None,
            enable_acting_master: false,
        }
    });
    let old_version_broker = reg.enable_acting_master.is_none();
    broker.enable_acting_master = reg.enable_acting_master.unwrap_or(false);
    broker.zone_name = reg.zone_name.clone();

    let prev_min_id = broker
        .broker_addrs
        .keys()
        .next()
        .copied()
        .unwrap_or(MASTER_ID);
    let min_id_changed = reg.broker_id < prev_min_id;

    // One address holds one id: a slave promoted to master re-registers as id 0.
    broker
        .broker_addrs
        .retain(|id, addr| !(*addr == reg.broker_addr && *id != reg.broker_id));

    if let Some(old_addr) = broker.broker_addrs.get(&reg.broker_id) {
        if *old_addr != reg.broker_addr {
            let old_key = BrokerAddrInfo::new(&reg.cluster_name, old_addr);
            if let Some(old_live) = t.broker_live.get(&old_key) {
                let new_state = reg.wrapper.data_version.state_version;
                if old_live.data_version.state_version > new_state {
                    tracing::warn!(
                        cluster = %reg.cluster_name, broker = %reg.broker_name, id = reg.broker_id,
                        old_addr = %old_addr, new_addr = %reg.broker_addr,
                        "registering broker conflicts with a newer one; ignored"
                    );
                    t.broker_live
                        .remove(&BrokerAddrInfo::new(&reg.cluster_name, &reg.broker_addr));
                    return Ok(None);
                }
            }
        }
    }

    if !broker.broker_addrs.contains_key(&reg.broker_id) && reg.topic_count() == 1 {
        // Java leaves an empty group behind here; we undo what this call added.
        if broker.broker_addrs.is_empty() && register_first {
            t.broker_addr.remove(&name);
            if new_in_cluster {
                remove_from_cluster(&mut t.cluster_addr, &reg.cluster_name, &name);
            }
        }
        return Err(RegisterRefused {
            broker_name: reg.broker_name.clone(),
            broker_id: reg.broker_id,
        });
    }

    let old_addr = broker
        .broker_addrs
        .insert(reg.broker_id, reg.broker_addr.clone());
    register_first |= old_addr.is_none_or(|a| a.is_empty());

    let is_master = reg.broker_id == MASTER_ID;
    let min_id = broker.broker_addrs.keys().next().copied();
    let is_prime_slave = !old_version_broker && !is_master && min_id == Some(reg.broker_id);
    let read_only = is_prime_slave && broker.enable_acting_master;
    Ok(Some(Joined {
        name,
        register_first,
        min_id_changed,
        writes_queues: (is_master || is_prime_slave).then_some(read_only),
    }))
}

/// How [`write_queue_data`] writes a group's queue data.
struct QueueWrite<'a> {
    name: &'a Arc<str>,
    read_only: bool,
    register_first: bool,
    /// Every topic is written (a new or changed registration), not only
    /// the missing ones.
    rewrite: bool,
}

/// Writes the topics whose queue data differs, drops those a
/// `deleteTopicWithBrokerRegistration` round no longer carries, and leaves
/// the group's runs as they now stand; names the topics it changed.
fn write_queue_data(
    t: &mut Tables,
    reg: &mut BrokerRegistration,
    write: &QueueWrite<'_>,
    current: &[Current],
    runs: &TopicRuns,
    opts: RouteOptions,
    changed: &mut Vec<String>,
) {
    let QueueWrite {
        name,
        read_only,
        register_first,
        rewrite,
    } = *write;
    let mappings = &reg.wrapper.topic_queue_mapping_info;
    let mut group = t.topic_queue.group_write(name);
    // Runs known as written hold for the writer that wrote them, with
    // the same write permission.
    let written_alike = group
        .last()
        .is_some_and(|w| w.writer == reg.broker_id && w.read_only == read_only);
    let mut deleted = false;
    if opts.delete_topic_with_broker_registration && mappings.is_empty() {
        let carried: FastSet<String> = reg
            .wrapper
            .topics
            .iter()
            .map(|(topic, _)| topic.to_string())
            .collect();
        let round = RegistrationRound::record(
            t.rounds.remove(name),
            &reg.wrapper.data_version,
            carried,
            std::time::Instant::now(),
        );
        let round = t.rounds.entry(name.clone()).insert_entry(round).into_mut();
        deleted = group.drop_topics(|topic| round.keeps(topic), changed);
    }
    for ((topic, tc), current) in reg.wrapper.topics.iter().zip(current) {
        let current = match current {
            Current::Written if written_alike => continue,
            Current::Written => current_queue_perm(group.queues(topic), name, &tc),
            other => *other,
        };
        let (current, slot) = match current {
            Current::Perm(perm, slot) => (Some(perm), slot),
            Current::Other(slot) => (None, slot),
            // Never: a `Written` topic was looked up just above.
            Current::Written => (None, None),
        };
        // Java rewrites every topic of a new or changed registration and
        // adds missing ones otherwise; a topic whose queue data already
        // equals what would be written is left alone either way.
        let present = matches!(slot, Some(Ok(_)));
        if !rewrite && present {
            continue;
        }
        let mut perm = tc.perm;
        if read_only {
            perm &= !PERM_WRITE;
        }
        if current != Some(perm) && group.upsert(topic, &tc, perm, slot) {
            changed.push(topic.to_string());
        }
    }
    let runs_after = if rewrite {
        // A registration much smaller than the last full one (a Java
        // broker sends just the topic `updateTopic` changed) leaves the
        // rest as that one wrote them: its layout is kept, less these.
        let kept = group
            .last()
            .filter(|last| {
                !register_first
                    && !deleted
                    && reg.reused.is_none()
                    && last.writer == reg.broker_id
                    && last.read_only == read_only
                    && last
                        .layout
                        .as_ref()
                        .is_some_and(|l| reg.topic_count() * 4 < l.topics())
            })
            .and_then(|last| last.with_rewritten(reg.wrapper.topics.iter().map(|(n, _)| n)));
        // Otherwise every topic of the table now holds what this
        // writer wrote.
        RunsAfter::Replaced(kept.unwrap_or_else(|| {
            AppliedTopics::new(reg.broker_id, read_only, runs, reg.layout.take())
        }))
    } else if deleted {
        RunsAfter::Forgotten
    } else {
        RunsAfter::Last
    };
    group.finish(runs_after);
}

/// Static-topic mappings as the broker sent them; names the topics whose
/// mapping changed.
fn write_mappings(t: &mut Tables, reg: &BrokerRegistration, changed: &mut Vec<String>) {
    for (topic, info) in &reg.wrapper.topic_queue_mapping_info {
        let bname = info
            .get("bname")
            .and_then(Value::as_str)
            .unwrap_or(&reg.broker_name)
            .to_string();
        let old = t
            .topic_queue_mapping
            .entry(topic.clone())
            .or_default()
            .insert(bname, info.clone());
        if old.as_ref() != Some(info) {
            changed.push(topic.clone());
        }
    }
}

/// The broker's liveness entry and filter servers.
fn write_liveness(t: &mut Tables, reg: &BrokerRegistration, live_key: BrokerAddrInfo, now_ms: i64) {
    let previous = t.broker_live.insert(
        live_key.clone(),
        BrokerLiveInfo {
            last_update_ms: AtomicI64::new(now_ms),
            heartbeat_timeout_ms: reg
                .heartbeat_timeout_ms
                .unwrap_or(DEFAULT_BROKER_TIMEOUT_MS),
            data_version: reg.wrapper.data_version,
            conn: reg.conn,
            ha_server_addr: reg.ha_server_addr.clone(),
            unchanged: None,
        },
    );
    if previous.is_none() {
        tracing::info!(
            cluster = %reg.cluster_name, broker = %reg.broker_name, id = reg.broker_id,
            addr = %reg.broker_addr, ha = %reg.ha_server_addr, "new broker registered"
        );
    }

    if reg.filter_server_list.is_empty() {
        t.filter_server.remove(&live_key);
    } else {
        t.filter_server
            .insert(live_key, reg.filter_server_list.clone());
    }
}

impl RouteInfoManager {
    /// Removes brokers as UNREGISTER_BROKER, a closed connection or expiry does.
    pub fn unregister_brokers(
        &self,
        requests: &[UnregisterRequest],
        opts: RouteOptions,
    ) -> Vec<MinBrokerIdNotice> {
        let mut guard = self.write_tables();
        unregister_locked(&mut guard, requests, opts)
    }

    /// BROKER_HEARTBEAT: refreshes liveness. Returns whether the broker is known.
    pub fn heartbeat(&self, cluster_name: &str, broker_addr: &str, now_ms: i64) -> bool {
        let t = self.tables.read();
        match t
            .broker_live
            .get(&BrokerAddrInfo::new(cluster_name, broker_addr))
        {
            Some(live) => {
                live.last_update_ms.store(now_ms, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// QUERY_DATA_VERSION: whether `version` differs from what we hold, and
    /// what we hold. Also refreshes liveness.
    pub fn query_data_version(
        &self,
        cluster_name: &str,
        broker_addr: &str,
        version: Option<&DataVersion>,
        now_ms: i64,
    ) -> (bool, Option<DataVersion>) {
        let t = self.tables.read();
        match t
            .broker_live
            .get(&BrokerAddrInfo::new(cluster_name, broker_addr))
        {
            Some(live) => {
                live.last_update_ms.store(now_ms, Ordering::Relaxed);
                let changed = version.is_none_or(|v| live.data_version != *v);
                (changed, Some(live.data_version))
            }
            None => (true, None),
        }
    }

    /// GET_ROUTEINFO_BY_TOPIC. `None` when no broker serves the topic.
    pub fn pickup_route(&self, topic: &str, opts: RouteOptions) -> Option<TopicRouteData> {
        let mut route = {
            let t = self.tables.read();
            let queues = t.topic_queue.get(topic)?;
            let mut route = TopicRouteData {
                queue_datas: queues.clone(),
                ..Default::default()
            };
            for queue in queues {
                let Some(broker) = t.broker_addr.get(&queue.broker_name) else {
                    continue;
                };
                if !t.filter_server.is_empty() {
                    for addr in broker.broker_addrs.values() {
                        let key = BrokerAddrInfo::new(&broker.cluster, addr);
                        if let Some(servers) = t.filter_server.get(&key) {
                            route
                                .filter_server_table
                                .insert(addr.clone(), servers.clone());
                        }
                    }
                }
                route.broker_datas.push(broker.clone());
            }
            if route.broker_datas.is_empty() {
                return None;
            }
            route.topic_queue_mapping_by_broker = t.topic_queue_mapping.get(topic).cloned();
            route
        };
        if opts.support_acting_master && !topic.starts_with(SYNC_BROKER_MEMBER_GROUP_PREFIX) {
            apply_acting_master(&mut route);
        }
        Some(route)
    }

    /// GET_BROKER_CLUSTER_INFO.
    pub fn cluster_info(&self) -> ClusterInfo {
        let t = self.tables.read();
        ClusterInfo {
            broker_addr_table: t.broker_addr.clone(),
            cluster_addr_table: t
                .cluster_addr
                .iter()
                .map(|(cluster, names)| (cluster.clone(), names.iter().cloned().collect()))
                .collect(),
        }
    }

    /// Expires brokers whose last heartbeat is older than their timeout.
    pub fn scan_not_active(
        &self,
        now_ms: i64,
        opts: RouteOptions,
    ) -> (Vec<ExpiredBroker>, Vec<MinBrokerIdNotice>) {
        // A read pass first: the common case (nothing expired) never takes the write lock.
        let any_expired = self
            .tables
            .read()
            .broker_live
            .values()
            .any(|live| is_expired(live, now_ms));
        if !any_expired {
            return (Vec::new(), Vec::new());
        }
        let mut guard = self.write_tables();
        let expired: Vec<ExpiredBroker> = guard
            .broker_live
            .iter()
            .filter(|(_, live)| is_expired(live, now_ms))
            .map(|(addr, live)| ExpiredBroker {
                addr: addr.clone(),
                conn: live.conn,
                timeout_ms: live.heartbeat_timeout_ms,
            })
            .collect();
        let addrs: Vec<BrokerAddrInfo> = expired.iter().map(|e| e.addr.clone()).collect();
        let notices = remove_by_addr_locked(&mut guard, &addrs, opts);
        (expired, notices)
    }

    /// A connection closed: every broker registered over it is removed at
    /// once. Connections that close together (a thousand brokers cut off)
    /// are removed together: whoever gets the write lock first removes the
    /// brokers of every connection closed so far in one pass over the
    /// topics, and the later callers find theirs done (and an empty answer).
    pub fn on_connection_closed(
        &self,
        conn: ConnId,
        opts: RouteOptions,
    ) -> (Vec<BrokerAddrInfo>, Vec<MinBrokerIdNotice>) {
        let registered_over = |t: &Tables, conns: &[ConnId]| -> Vec<BrokerAddrInfo> {
            t.broker_live
                .iter()
                .filter(|(_, live)| live.conn.is_some_and(|c| conns.binary_search(&c).is_ok()))
                .map(|(addr, _)| addr.clone())
                .collect()
        };
        if registered_over(&self.tables.read(), &[conn]).is_empty() {
            return (Vec::new(), Vec::new());
        }
        self.closed.lock().push(conn);
        let mut guard = self.write_tables();
        let mut conns = std::mem::take(&mut *self.closed.lock());
        if conns.is_empty() {
            return (Vec::new(), Vec::new());
        }
        conns.sort_unstable();
        let addrs = registered_over(&guard, &conns);
        let notices = remove_by_addr_locked(&mut guard, &addrs, opts);
        (addrs, notices)
    }

    /// GET_BROKER_MEMBER_GROUP: the ids and addresses of one broker group.
    pub fn broker_member_group(&self, broker_name: &str) -> BTreeMap<i64, String> {
        self.tables
            .read()
            .broker_addr
            .get(broker_name)
            .map(|b| b.broker_addrs.clone())
            .unwrap_or_default()
    }

    /// WIPE_WRITE_PERM_OF_BROKER: returns the number of topics changed.
    pub fn wipe_write_perm(&self, broker_name: &str) -> usize {
        self.update_perm(broker_name, |perm| perm & !PERM_WRITE)
    }

    /// ADD_WRITE_PERM_OF_BROKER: sets read+write, as Java does.
    pub fn add_write_perm(&self, broker_name: &str) -> usize {
        self.update_perm(broker_name, |_| PERM_READ | PERM_WRITE)
    }

    fn update_perm(&self, broker_name: &str, change: impl Fn(i32) -> i32) -> usize {
        self.write_tables()
            .topic_queue
            .set_perm(broker_name, change)
    }

    pub fn all_topics(&self) -> TopicList {
        sorted(self.tables.read().topic_queue.keys().cloned())
    }

    /// DELETE_TOPIC_IN_NAMESRV, for every broker or for one cluster's brokers.
    pub fn delete_topic(&self, topic: &str, cluster_name: Option<&str>) {
        let mut guard = self.write_tables();
        let t = &mut *guard;
        match cluster_name {
            None => t.topic_queue.delete_topic(topic, None),
            Some(cluster) => {
                if let Some(names) = t.cluster_addr.get(cluster) {
                    t.topic_queue.delete_topic(topic, Some(names));
                }
            }
        }
    }

    /// REGISTER_TOPIC_IN_NAMESRV: adds queue data for known brokers. Returns
    /// false (and changes nothing) when a queue names an unknown broker.
    pub fn register_topic(&self, topic: &str, queues: Vec<QueueData>) -> bool {
        if queues.is_empty() {
            return true;
        }
        let mut t = self.write_tables();
        let mut interned = Vec::with_capacity(queues.len());
        for mut q in queues {
            match t.broker_addr.get_key_value(&q.broker_name) {
                Some((name, _)) => q.broker_name = name.clone(),
                None => return false,
            }
            interned.push(q);
        }
        t.topic_queue.insert(topic, interned);
        true
    }

    /// GET_TOPICS_BY_CLUSTER.
    pub fn topics_by_cluster(&self, cluster: &str) -> TopicList {
        let t = self.tables.read();
        let Some(names) = t.cluster_addr.get(cluster) else {
            return Vec::new();
        };
        sorted(
            t.topic_queue
                .iter()
                .filter(|(_, qs)| qs.iter().any(|q| names.contains(&q.broker_name)))
                .map(|(topic, _)| topic.clone()),
        )
    }

    /// GET_SYSTEM_TOPIC_LIST_FROM_NS: cluster names and broker names, plus one broker address.
    pub fn system_topics(&self) -> (TopicList, Option<String>) {
        let t = self.tables.read();
        let mut list = Vec::new();
        for (cluster, names) in &t.cluster_addr {
            list.push(cluster.clone());
            list.extend(names.iter().map(|n| n.to_string()));
        }
        let addr = t
            .broker_addr
            .values()
            .find_map(|b| b.broker_addrs.values().next().cloned());
        (list, addr)
    }

    /// Topics whose (first) queue data's topicSysFlag satisfies `pred`.
    pub fn topics_by_sys_flag(&self, pred: impl Fn(i32) -> bool) -> TopicList {
        let t = self.tables.read();
        sorted(
            t.topic_queue
                .iter()
                .filter(|(_, qs)| qs.first().is_some_and(|q| pred(q.topic_sys_flag)))
                .map(|(topic, _)| topic.clone()),
        )
    }

    pub fn unit_topics(&self) -> TopicList {
        self.topics_by_sys_flag(|f| f & FLAG_UNIT == FLAG_UNIT)
    }

    pub fn has_unit_sub_topics(&self) -> TopicList {
        self.topics_by_sys_flag(|f| f & FLAG_UNIT_SUB == FLAG_UNIT_SUB)
    }

    pub fn has_unit_sub_ununit_topics(&self) -> TopicList {
        self.topics_by_sys_flag(|f| {
            f & FLAG_UNIT != FLAG_UNIT && f & FLAG_UNIT_SUB == FLAG_UNIT_SUB
        })
    }

    /// Number of live broker entries (for logs and tests).
    pub fn live_broker_count(&self) -> usize {
        self.tables.read().broker_live.len()
    }
}

fn sorted(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = items.collect();
    v.sort_unstable();
    v
}

fn is_expired(live: &BrokerLiveInfo, now_ms: i64) -> bool {
    live.last_update_ms.load(Ordering::Relaxed) + live.heartbeat_timeout_ms < now_ms
}

fn remove_from_cluster(
    cluster_addr: &mut BTreeMap<String, BTreeSet<Arc<str>>>,
    cluster: &str,
    name: &str,
) {
    if let Some(names) = cluster_addr.get_mut(cluster) {
        names.remove(name);
        if names.is_empty() {
            cluster_addr.remove(cluster);
            tracing::info!(cluster, "cluster has no broker left; removed");
        }
    }
}

/// Removes the live entries at `addrs` and unregisters the broker ids found there.
fn remove_by_addr_locked(
    t: &mut Tables,
    addrs: &[BrokerAddrInfo],
    opts: RouteOptions,
) -> Vec<MinBrokerIdNotice> {
    let mut requests = Vec::new();
    for addr in addrs {
        t.broker_live.remove(addr);
        t.filter_server.remove(addr);
        let found = t.broker_addr.values().find_map(|b| {
            if b.cluster != addr.cluster_name {
                return None;
            }
            b.broker_addrs
                .iter()
                .find(|(_, a)| **a == addr.broker_addr)
                .map(|(id, _)| (b.broker_name.to_string(), *id))
        });
        if let Some((broker_name, broker_id)) = found {
            requests.push(UnregisterRequest {
                cluster_name: addr.cluster_name.clone(),
                broker_addr: addr.broker_addr.clone(),
                broker_name,
                broker_id,
            });
        }
    }
    unregister_locked(t, &requests, opts)
}

fn unregister_locked(
    t: &mut Tables,
    requests: &[UnregisterRequest],
    opts: RouteOptions,
) -> Vec<MinBrokerIdNotice> {
    let mut removed: BTreeSet<Arc<str>> = BTreeSet::new();
    let mut reduced: BTreeSet<Arc<str>> = BTreeSet::new();
    let mut notify: BTreeMap<Arc<str>, String> = BTreeMap::new();
    for req in requests {
        let key = BrokerAddrInfo::new(&req.cluster_name, &req.broker_addr);
        let was_live = t.broker_live.remove(&key).is_some();
        t.filter_server.remove(&key);
        tracing::info!(
            cluster = %req.cluster_name, broker = %req.broker_name, id = req.broker_id,
            addr = %req.broker_addr, was_live, "broker unregistered"
        );
        let Some((name, broker)) = t.broker_addr.get_key_value(req.broker_name.as_str()) else {
            continue;
        };
        let name = name.clone();
        let mut broker = broker.clone();
        let min_id_changed = broker.broker_addrs.keys().next() == Some(&req.broker_id);
        broker
            .broker_addrs
            .retain(|_, addr| *addr != req.broker_addr);
        if broker.broker_addrs.is_empty() {
            t.broker_addr.remove(&name);
            t.rounds.remove(&name);
            remove_from_cluster(&mut t.cluster_addr, &req.cluster_name, &name);
            tracing::info!(broker = %name, "broker group has no address left; removed");
            reduced.remove(&name);
            removed.insert(name);
        } else {
            if min_id_changed {
                notify.insert(name.clone(), req.broker_addr.clone());
            }
            t.broker_addr.insert(name.clone(), broker);
            reduced.insert(name);
        }
    }

    let broker_addr = &t.broker_addr;
    t.topic_queue.remove_brokers(&removed, &reduced, |name| {
        broker_addr.get(name).is_some_and(|broker| {
            broker.enable_acting_master
                && broker
                    .broker_addrs
                    .keys()
                    .next()
                    .is_none_or(|id| *id > MASTER_ID)
        })
    });
    for name in &removed {
        for mappings in t.topic_queue_mapping.values_mut() {
            mappings.remove(&**name);
        }
    }
    t.topic_queue_mapping.retain(|_, m| !m.is_empty());

    if !opts.notify_min_broker_id_changed {
        return Vec::new();
    }
    notify
        .into_iter()
        .filter_map(|(name, offline)| {
            let broker = t.broker_addr.get(&name)?;
            if !broker.enable_acting_master {
                return None;
            }
            min_id_notice(broker, Some(offline), None)
        })
        .collect()
}

/// Who to tell that a group's minimum brokerId changed (Java `chooseBrokerAddrsToNotify`).
fn min_id_notice(
    broker: &BrokerData,
    offline_broker_addr: Option<String>,
    ha_broker_addr: Option<String>,
) -> Option<MinBrokerIdNotice> {
    let (&min_id, min_addr) = broker.broker_addrs.iter().next()?;
    let targets = if offline_broker_addr.is_some() || broker.broker_addrs.len() == 1 {
        broker.broker_addrs.values().cloned().collect()
    } else {
        broker
            .broker_addrs
            .iter()
            .filter(|(id, _)| **id != min_id)
            .map(|(_, a)| a.clone())
            .collect()
    };
    Some(MinBrokerIdNotice {
        broker_name: broker.broker_name.to_string(),
        min_broker_id: min_id,
        min_broker_addr: min_addr.clone(),
        offline_broker_addr,
        ha_broker_addr,
        targets,
    })
}

/// A group without a master whose queues are read-only reports its smallest
/// brokerId as the master, so clients can read from the acting master.
fn apply_acting_master(route: &mut TopicRouteData) {
    let needs = route
        .broker_datas
        .iter()
        .any(|b| !b.broker_addrs.is_empty() && !b.broker_addrs.contains_key(&MASTER_ID));
    if !needs {
        return;
    }
    for broker in &mut route.broker_datas {
        if broker.broker_addrs.is_empty()
            || broker.broker_addrs.contains_key(&MASTER_ID)
            || !broker.enable_acting_master
        {
            continue;
        }
        let read_only = route
            .queue_datas
            .iter()
            .find(|q| q.broker_name == broker.broker_name)
            .is_some_and(|q| q.perm & PERM_WRITE == 0);
        if read_only {
            if let Some((_, addr)) = broker.broker_addrs.pop_first() {
                broker.broker_addrs.insert(MASTER_ID, addr);
            }
        }
    }
}

mod topic_queues;
mod view;
use topic_queues::{queue_index, RunsAfter, Slot, TopicQueueTable};
pub use view::{BrokerView, RouteStats};

#[cfg(test)]
mod tests;
