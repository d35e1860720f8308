//! REGISTER_BROKER behind one call, [`RouteInfoManager::register`]: a
//! repeat of the broker's last registration is known without decoding its
//! body (`fingerprint.rs`) and only refreshes liveness; anything else is
//! decoded on the bulk pool, a master's JSON body against the layout of its
//! last one (`layout.rs`, `incremental.rs`), and applied, its topics
//! compared run by run with what the group's last full registration wrote
//! (`runs.rs`). docs/registration.md says why each step is safe.

pub(crate) mod fingerprint;
pub(crate) mod incremental;
pub mod layout;
pub(crate) mod runs;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use self::fingerprint::{RegisterBodyCrc, RegistrationFingerprint};
use super::cache::RouteCache;
use super::manager::{
    BrokerRegistration, RegisterRefused, RegisterResult, RegistrationId, Rejected, Reused,
    RouteInfoManager, RouteOptions,
};
use super::model::{topic_problem, MASTER_ID};
use super::register_body::{self, Decoded, Layout, RegisterBodyError, RegisterBrokerBody};
use super::ConnId;
use crate::metrics::Metrics;
use crate::state::bulk::{BulkPool, PoolStopped};

pub use self::fingerprint::MAPPING_VERSION_WINDOW;

/// The operators' filter for these lines (docs/operating.md) and the tests'
/// name the handler's module, where they were logged before this module
/// took the work over.
const LOG_TARGET: &str = "namesrv::cmd::register_broker";

/// The header of a REGISTER_BROKER request, read by its handler.
#[derive(Debug, Clone)]
pub struct RegisterHeader<'a> {
    pub cluster_name: &'a str,
    pub broker_addr: &'a str,
    pub broker_name: &'a str,
    pub broker_id: i64,
    pub ha_server_addr: &'a str,
    pub zone_name: Option<&'a str>,
    pub heartbeat_timeout_ms: Option<i64>,
    /// `None` for brokers older than 5.0, which do not send it.
    pub enable_acting_master: Option<bool>,
    pub compressed: bool,
    /// `bodyCrc32`: the sender's `UtilAll.crc32` of the body, 0 when it
    /// claims none.
    pub claimed_crc: i64,
}

/// A REGISTER_BROKER request as the route table takes it.
#[derive(Debug, Clone)]
pub struct RegisterRequest<'a> {
    pub header: RegisterHeader<'a>,
    /// Every header field as sent: a repeat is known by all of them.
    pub fields: &'a crate::remoting::command::ExtFields,
    /// The whole body, or under [`RouteInfoManager::refresh_from_head`]
    /// its first bytes.
    pub body: &'a Bytes,
    pub version: i32,
    pub conn: ConnId,
}

/// What a registration needs beyond the route table.
pub struct RegisterContext<'a> {
    pub opts: RouteOptions,
    /// How far a compressed body may inflate.
    pub inflate_limit: usize,
    /// Read when liveness is written, which for a changed registration is
    /// after it waited for the bulk pool and the lock.
    pub clock: fn() -> i64,
    /// Where bodies are decoded and applied: never on a runtime worker.
    pub bulk: &'a BulkPool,
    /// The answers a registration changes are dropped from it.
    pub cache: &'a Arc<RouteCache>,
    pub metrics: &'a Arc<Metrics>,
}

/// Why a registration was not applied.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// The body is not what its `bodyCrc32` says.
    #[error("crc32 not match")]
    CrcMismatch,
    #[error("the custom field <{0}> is empty")]
    EmptyField(&'static str),
    #[error("Failed to decode RegisterBrokerBody: {0}")]
    Body(#[from] RegisterBodyError),
    #[error(transparent)]
    Refused(#[from] RegisterRefused),
    #[error(transparent)]
    PoolStopped(#[from] PoolStopped),
}

/// The path a registration took, as `registrations_total` labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationPath {
    /// A repeat: only liveness was refreshed.
    Unchanged,
    /// Read against the broker's last body.
    ChangedRuns,
    Full,
}

impl RegistrationPath {
    pub fn label(self) -> &'static str {
        match self {
            RegistrationPath::Unchanged => "unchanged",
            RegistrationPath::ChangedRuns => "changed_runs",
            RegistrationPath::Full => "full",
        }
    }
}

/// How a body is read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reading {
    /// Against the layout of the broker's last body, when there is one.
    AgainstLast,
    /// In full: what was read against has been replaced meanwhile.
    Full,
}

/// A changed registration on its way to the bulk pool: what it needs of
/// the request, owned.
struct Changed {
    fields: crate::remoting::command::ExtFields,
    body: Bytes,
    version: i32,
    compressed: bool,
    claimed_crc: i64,
    crc: RegisterBodyCrc,
    opts: RouteOptions,
    inflate_limit: usize,
    clock: fn() -> i64,
    /// The header's part, filled in; the body's part (and the fingerprint
    /// the next repeat is known by) is decoded into it.
    registration: BrokerRegistration,
}

impl RouteInfoManager {
    /// REGISTER_BROKER: a repeat of the broker's last registration only
    /// refreshes its liveness, here on the caller's thread; anything else
    /// is decoded and applied on the bulk pool, read in full again if what
    /// its body was read against was replaced meanwhile. The answers it
    /// changed are dropped from the route cache; `registrations_total` and
    /// the decode time are recorded.
    pub async fn register(
        self: &Arc<Self>,
        req: RegisterRequest<'_>,
        on: &RegisterContext<'_>,
    ) -> Result<RegisterResult, RegistrationError> {
        let body_len = req.body.len();
        if let Some(result) = self.refresh_from_head(&req, body_len, on.opts, on.clock) {
            on.metrics
                .registered(RegistrationPath::Unchanged.label(), body_len);
            return Ok(result);
        }
        // One CRC pass over the body serves both paths.
        let crc = RegisterBodyCrc::of(req.body);
        // A body that fails its check is left to the full path to refuse.
        if claimed_crc_matches(req.header.claimed_crc, crc) {
            let same = |fp: &RegistrationFingerprint| {
                fp.same_request(req.fields, req.version, body_len) && fp.same_body(crc)
            };
            if let Some(result) = self.refresh_if_same(&req, "crc", same, on.opts, on.clock) {
                on.metrics
                    .registered(RegistrationPath::Unchanged.label(), body_len);
                return Ok(result);
            }
        }
        let changed = Changed::of(&req, crc, on);
        let (routes, cache, metrics) = (self.clone(), on.cache.clone(), on.metrics.clone());
        // Applying waits for the route table's upgradable lock and compares
        // thousands of topics: on a runtime worker, a storm of
        // registrations would hold both workers and stall every lookup.
        on.bulk
            .run(move || routes.register_changed(changed, &cache, &metrics))
            .await?
    }

    /// REGISTER_BROKER from a frame's head (`body` its first bytes, of a
    /// body `body_len` long; or whole): the answer when it repeats the broker's last
    /// registration, known by the CRC its sender claims and those first
    /// bytes, so the rest need not be read. `None` sends the request on to
    /// [`RouteInfoManager::register`] once read whole.
    pub fn refresh_from_head(
        &self,
        req: &RegisterRequest<'_>,
        body_len: usize,
        opts: RouteOptions,
        clock: fn() -> i64,
    ) -> Option<RegisterResult> {
        let claimed = u32::try_from(req.header.claimed_crc).ok()?;
        if claimed == 0 {
            return None;
        }
        let same = |fp: &RegistrationFingerprint| {
            fp.same_request(req.fields, req.version, body_len)
                && fp.same_body_claimed(claimed, req.body)
        };
        self.refresh_if_same(req, "claimed crc", same, opts, clock)
    }

    fn refresh_if_same(
        &self,
        req: &RegisterRequest<'_>,
        known_by: &'static str,
        same: impl FnOnce(&RegistrationFingerprint) -> bool,
        opts: RouteOptions,
        clock: fn() -> i64,
    ) -> Option<RegisterResult> {
        let h = &req.header;
        let id = RegistrationId {
            cluster_name: h.cluster_name,
            broker_addr: h.broker_addr,
            broker_name: h.broker_name,
            broker_id: h.broker_id,
            conn: req.conn,
        };
        let result = self.refresh_unchanged(&id, same, opts, clock())?;
        tracing::debug!(target: LOG_TARGET, broker = %id.broker_name, addr = %id.broker_addr, known_by, "unchanged registration; liveness refreshed");
        Some(result)
    }

    /// The bulk pool's part of [`RouteInfoManager::register`].
    fn register_changed(
        &self,
        mut changed: Changed,
        cache: &RouteCache,
        metrics: &Metrics,
    ) -> Result<RegisterResult, RegistrationError> {
        let started = Instant::now();
        let decoded = self.decode(&mut changed, Reading::AgainstLast);
        metrics.registration_parsed(started.elapsed());
        let path = match &decoded {
            Ok(()) if changed.registration.reused.is_some() => RegistrationPath::ChangedRuns,
            _ => RegistrationPath::Full,
        };
        metrics.registered(path.label(), changed.body.len());
        decoded?;
        loop {
            let reused = changed.registration.reused.as_ref().map(|r| r.topics);
            let registration = std::mem::take(&mut changed.registration);
            let result = match self.try_register(registration, changed.opts, (changed.clock)()) {
                Ok(result) => result,
                Err(Rejected::Stale(registration)) => {
                    tracing::debug!(
                        target: LOG_TARGET,
                        "broker's topics changed while its body was read; reading it in full"
                    );
                    changed.registration = *registration;
                    self.decode(&mut changed, Reading::Full)?;
                    continue;
                }
                Err(Rejected::Refused(refused)) => return Err(refused.into()),
            };
            cache.invalidate(&result.changed_topics);
            let broker = changed.fields.get("brokerName").map_or("", String::as_str);
            let changed_topics = result.changed_topics.len();
            match reused {
                Some(reused_topics) => tracing::debug!(
                    target: LOG_TARGET, broker = %broker, changed_topics, reused_topics,
                    "registration read against the broker's last body and applied"
                ),
                None => tracing::debug!(
                    target: LOG_TARGET, broker = %broker, changed_topics,
                    "registration applied in full"
                ),
            }
            return Ok(result);
        }
    }

    /// Decodes the body into `changed.registration`, before any lock is
    /// taken: checked against its `bodyCrc32`, a master's JSON body read
    /// against the layout of its last one when `reading` allows.
    fn decode(&self, changed: &mut Changed, reading: Reading) -> Result<(), RegistrationError> {
        if !claimed_crc_matches(changed.claimed_crc, changed.crc) {
            return Err(RegistrationError::CrcMismatch);
        }
        let reg = &mut changed.registration;
        for (field, value) in [
            ("brokerName", &reg.broker_name),
            ("brokerAddr", &reg.broker_addr),
            ("clusterName", &reg.cluster_name),
        ] {
            if value.trim().is_empty() {
                return Err(RegistrationError::EmptyField(field));
            }
        }
        // Layouts are kept for masters (whose topics routes carry), and
        // reading against one cannot tell which topics a body dropped.
        let keeps_layout =
            reg.broker_id == MASTER_ID && !changed.opts.delete_topic_with_broker_registration;
        let last = match reading {
            Reading::AgainstLast if keeps_layout => {
                self.last_layout(&reg.broker_name, reg.broker_id)
            }
            _ => None,
        };
        let layout = match (&last, keeps_layout) {
            (_, false) => Layout::Skip,
            (None, true) => Layout::Make,
            (Some(applied), true) => applied
                .layout
                .as_ref()
                .map_or(Layout::Make, Layout::ReadAgainst),
        };
        let Decoded {
            body:
                RegisterBrokerBody {
                    mut wrapper,
                    filter_server_list,
                },
            reused_topics,
            layout,
        } = register_body::decode_with(
            &changed.body,
            changed.compressed,
            changed.version,
            changed.inflate_limit,
            layout,
        )?;
        // One unroutable topic must not cost the broker its registration.
        wrapper.topics.retain(|topic, queues| match topic_problem(topic, queues) {
            Some(problem) => {
                tracing::warn!(target: LOG_TARGET, broker = %reg.broker_name, %problem, "topic skipped in registration");
                false
            }
            None => true,
        });
        reg.wrapper = wrapper;
        reg.filter_server_list = filter_server_list;
        reg.layout = layout;
        reg.reused = last
            .zip(reused_topics)
            .map(|(from, topics)| Reused { from, topics });
        if reg.fingerprint.is_none() {
            reg.fingerprint = Some(RegistrationFingerprint::new(
                &changed.fields,
                changed.version,
                &changed.body,
                changed.crc,
            ));
        }
        Ok(())
    }
}

impl Changed {
    fn of(req: &RegisterRequest<'_>, crc: RegisterBodyCrc, on: &RegisterContext<'_>) -> Self {
        let h = &req.header;
        Changed {
            fields: req.fields.clone(),
            body: req.body.clone(),
            version: req.version,
            compressed: h.compressed,
            claimed_crc: h.claimed_crc,
            crc,
            opts: on.opts,
            inflate_limit: on.inflate_limit,
            clock: on.clock,
            registration: BrokerRegistration {
                cluster_name: h.cluster_name.to_string(),
                broker_addr: h.broker_addr.to_string(),
                broker_name: h.broker_name.to_string(),
                broker_id: h.broker_id,
                ha_server_addr: h.ha_server_addr.to_string(),
                zone_name: h.zone_name.map(str::to_string),
                heartbeat_timeout_ms: h.heartbeat_timeout_ms,
                enable_acting_master: h.enable_acting_master,
                conn: Some(req.conn),
                ..BrokerRegistration::default()
            },
        }
    }
}

/// Whether the header's `bodyCrc32` (0: not checked, as in Java) equals
/// the body's java.util.zip.CRC32 masked to a non-negative int (Java
/// `UtilAll.crc32`).
fn claimed_crc_matches(claimed: i64, crc: RegisterBodyCrc) -> bool {
    claimed == 0 || claimed == i64::from(crc.whole & 0x7FFF_FFFF)
}
